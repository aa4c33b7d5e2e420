"""The compiled engine against the reference: owlrl's full OWL 2 RL closure over guideline + patient.

For every patient of the test corpus (the seed case, the vignettes) and synthetic patients (every module's test
cases under other dates, some with a red-flag question left unknown: reasoner.synth), the feature triples, the
inferred triples about the patient's own nodes, and the applicable and suppressed recommendations must be identical.
The reference closure is the suite's costliest step, so the default run takes the fewest of 300 synthetic patients
that between them make every recommendation apply, and every suppression reason occur, that the 300 do (the
compiled engine's answers choose them; the reference must then agree); the slow run compares all 300.

The reference closes all patients in one graph with the guideline (one owlrl run instead of one per patient:
about 90 s instead of 25 min). That is the same closure per patient, because the patients share no node but the
guideline's: each patient's slice is compared separately, and consequences about guideline nodes as a whole.

Three kinds of owlrl triples are not compared, because the compiled engine deliberately does not materialise them
and no rule reads them: statements about literals (owlrl types every literal with its datatype), reflexive
owl:sameAs (rule eq-ref), and owl:disjointWith between XSD datatypes that owlrl adds when it meets a new literal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest
from rdflib import Graph, Literal
from rdflib.term import Node

from reasoner import Patient, load, load_guideline
from reasoner import namespaces as ns
from reasoner.engine import safeguards
from reasoner.engine.engines import CompiledEngine, OwlrlEngine
from reasoner.rdf.index import Triple, TripleIndex
from reasoner.synth.cohort import synthetic_patients
from tests.conftest import ROOT, SEED

SYNTHETIC = 300
MIN_RANK = 1  # drafts included, so every recommendation is exercised
BOTH = ns.GR.International  # every jurisdiction's statements
_LINKS = (ns.GR.hasFinding, ns.GR.hasExposure, ns.GR.hasMeasurement)


def _corpus() -> list[Patient]:
    files = [SEED, *sorted((ROOT / "ontology" / "lbp" / "cases" / "vignettes").glob("*.ttl"))]
    return [load(f) for f in files]


def _outcomes(patient: Patient) -> set[tuple[str, ...]]:
    """What the compiled engine's answer for `patient` exercises: each recommendation applied, and each
    suppression with its reason."""
    _, _, applied, blocked = _compiled(patient)
    return {("applied", r) for r in applied} | {
        ("blocked", r, why) for r, reasons in blocked.items() for why in reasons
    }


def _covering(patients: list[Patient]) -> list[Patient]:
    """The fewest of `patients` (greedily) that exercise every outcome the whole list exercises."""
    outcomes = {str(p.iri): _outcomes(p) for p in patients}
    left, chosen = set().union(*outcomes.values()), []
    while left:
        best = max(patients, key=lambda p: len(outcomes[str(p.iri)] & left))
        chosen.append(best)
        left -= outcomes[str(best.iri)]
    return sorted(chosen, key=lambda p: str(p.iri))


CORPUS = _corpus()
ALL_SYNTHETIC = list(synthetic_patients(load_guideline(), SYNTHETIC, seed=20261123))


def _ignored(t: Triple) -> bool:
    s, p, o = t
    if isinstance(s, Literal) or (p == ns.OWL.sameAs and s == o):
        return True
    return p == ns.OWL.disjointWith and str(s).startswith(str(ns.XSD)) and str(o).startswith(str(ns.XSD))


@dataclass
class _Reference:
    derived: dict[str, Graph]
    owned: dict[str, set[Node]]
    inferred: set[Triple]
    found: dict[str, tuple[dict[str, list[str]], dict[str, list[str]]]]


def _reference(patients: list[Patient]) -> _Reference:
    gl = load_guideline()
    big = Graph()
    big += gl.graph
    derived, owned = {}, {}
    for patient in patients:
        _, extra = OwlrlEngine.features(gl, patient, as_of=_as_of(patient))
        big += patient.graph
        big += extra
        key = str(patient.iri)
        derived[key] = extra
        both = patient.graph + extra
        owned[key] = {patient.iri} | {o for link in _LINKS for o in both.objects(patient.iri, link)}
    before = set(big)
    OwlrlEngine.close(big)
    found = {str(p.iri): OwlrlEngine.rules(big, p.iri, min_rank=MIN_RANK, jurisdiction=BOTH) for p in patients}
    closure = set(gl.closure())
    inferred = {t for t in big if t not in before and t not in closure and not _ignored(t)}
    return _Reference(derived, owned, inferred, found)


@pytest.fixture(scope="module")
def reference() -> _Reference:
    return _reference(PATIENTS)


def _as_of(patient: Patient) -> object:
    assert patient.assessed_on is not None, f"{patient.source}: differential patients need gr:assessedOn"
    return patient.assessed_on


def _compiled(patient: Patient) -> tuple[Graph, set[Triple], dict[str, list[str]], dict[str, list[str]]]:
    gl = load_guideline()
    assert patient.assessed_on is not None
    (found,) = CompiledEngine().evaluate_many(
        gl, [patient], as_of=patient.assessed_on, min_rank=MIN_RANK, jurisdiction=BOTH
    )
    abox = found.facts.sources[0]
    assert isinstance(abox, TripleIndex)
    inferred = {t for t in abox.triples if t not in patient.graph and t not in found.derived}
    return found.derived, inferred, found.applied, found.blocked


PATIENTS = CORPUS + _covering(ALL_SYNTHETIC)


@pytest.mark.parametrize(
    "patient", PATIENTS, ids=lambda p: str(p.iri).rsplit("/", 2)[-2] + "/" + str(p.iri).rsplit("/", 1)[-1]
)
def test_compiled_engine_equals_owlrl(patient: Patient, reference: _Reference) -> None:
    _agree(patient, reference)


@pytest.mark.slow
def test_compiled_engine_equals_owlrl_on_every_synthetic_patient() -> None:
    reference = _reference(ALL_SYNTHETIC)
    for patient in ALL_SYNTHETIC:
        _agree(patient, reference)


def _agree(patient: Patient, reference: _Reference) -> None:
    key = str(patient.iri)
    derived, inferred, applied, blocked = _compiled(patient)
    assert set(derived) == set(reference.derived[key]), f"{key}: feature rules derived different triples"
    owned = reference.owned[key]
    want = {t for t in reference.inferred if t[0] in owned}
    got = {t for t in inferred if t[0] in owned}
    assert got - want == set(), f"{key}: the compiled engine inferred triples owlrl does not"
    assert want - got == set(), f"{key}: owlrl inferred triples the compiled engine missed"
    assert (applied, blocked) == reference.found[key], key


def test_consequences_about_guideline_nodes_agree(reference: _Reference) -> None:
    owned = set().union(*reference.owned.values())
    want = {t for t in reference.inferred if t[0] not in owned}
    got: set[Triple] = set()
    for patient in PATIENTS:
        got |= {t for t in _compiled(patient)[1] if t[0] not in owned}
    assert got == want


def test_the_corpus_exercises_every_recommendation(reference: _Reference) -> None:
    fired = {rec for applied, _ in reference.found.values() for rec in applied}
    every = set(load_guideline().recommendations)
    assert every - fired == set(), "no differential patient makes these recommendations apply"


def test_full_pipeline_is_the_same_with_either_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    import reasoner

    # owlrl closes the whole guideline with the patient: about 30 s alone, past the 60 s reasoning budget on a
    # loaded machine. The budget is not what this test is about (tests/test_reasoning_safety.py tests it).
    monkeypatch.setattr(safeguards, "MAX_SECONDS", math.inf)

    fast = reasoner.recommend(SEED).to_json()
    slow = reasoner.recommend(SEED, engine="owlrl").to_json()
    assert fast.pop("engine") == "compiled" and slow.pop("engine") == "owlrl"
    assert fast == slow


def test_a_batch_gives_each_patient_the_answer_it_gets_alone() -> None:
    import reasoner

    synthetic = ALL_SYNTHETIC[:150]  # three chunks of 64; each at its own assessment date, in a batch and alone
    together = [r.to_json() for r in reasoner.recommend_many(synthetic, chunk_size=64)]  # type: ignore[union-attr]
    alone = [reasoner.recommend(p).to_json() for p in synthetic]
    assert together == alone


def test_an_invalid_patient_does_not_stop_a_batch() -> None:
    import reasoner

    bad = (
        "@prefix gr: <https://w3id.org/guideline-reasoner/core#> .\n"
        "<https://example.org/p/bad> a gr:Patient ; gr:sex gr:Nope ."
    )
    outcomes = list(reasoner.recommend_many([SEED, bad, SEED]))
    assert isinstance(outcomes[1], reasoner.InvalidPatientError)
    assert [o.patient for o in (outcomes[0], outcomes[2])] == ["https://example.org/patient/seed-v02"] * 2  # type: ignore[union-attr]
