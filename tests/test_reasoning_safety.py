"""Reasoning safety: patients are never merged (neither through a shared identifier nor a reused IRI), an empty or
all-unknown patient gets missing-data output and no advice from any rule, documented-absent, unknown and present
give three different outputs, and a patient over the reasoning budget gets "cannot evaluate", never partial advice
(reasoner/engine/safeguards.py)."""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pytest
from rdflib import Literal, URIRef

import reasoner
from reasoner.engine import safeguards
from reasoner.engine.engines import ENGINES, Evaluation
from reasoner.errors import CannotEvaluateError
from reasoner.input.patient import Patient
from reasoner.knowledge.guideline import Guideline
from reasoner.knowledge.vocabulary import Vocabulary
from reasoner.namespaces import GR, OWL, RDF, RDFS
from reasoner.pipeline import JURISDICTIONS
from reasoner.rdf import limits as input_limits
from reasoner.store.batch import batch
from reasoner.store.cohort import open_store
from reasoner.synth.cohort import synthetic_patient

ROOT = Path(__file__).resolve().parent.parent
SEED = (ROOT / "examples" / "seed-case.ttl").read_text()
GL = reasoner.load_guideline()
FIELDS = sorted(f for f in GL.graph.subjects(RDFS.subClassOf, GR.RedFlag) if isinstance(f, URIRef))
MRN = URIRef("https://example.org/ns/medical-record-number")
ASSESSED = date(2026, 3, 22)
BORN = date(1980, 6, 15)  # a known age: an unknown one is missing data too (it withholds reassurance)


def _ids(result: reasoner.Recommendations) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    data = result.to_json()
    return (
        tuple(r["identifier"] for r in data["recommendations"]),
        tuple(sorted(s["identifier"] for s in data["suppressed"])),
        tuple(sorted(m["finding"] for m in data["missing"])),
    )


def _synthetic(seed: int) -> Patient:
    return synthetic_patient(GL, random.Random(seed), iri=f"https://example.org/safety/{seed}")


def _results(patients: Sequence[object], **options: object) -> list[reasoner.Recommendations]:
    out = []
    for outcome in reasoner.recommend_many(patients, guideline=GL, **options):  # type: ignore[arg-type]
        assert isinstance(outcome, reasoner.Recommendations), outcome
        out.append(outcome)
    return out


# -- never merged ----------------------------------------------------------------------------------------------


def test_patients_reusing_record_iris_are_evaluated_apart() -> None:
    """Two files that reuse the seed case's record IRIs (one with a history of cancer) used to be evaluated in one
    graph, each reading the other's findings: evaluated together, each gets exactly the advice it gets alone."""
    other = SEED.replace("<https://example.org/patient/seed-v02> a", "<https://example.org/patient/other> a").replace(
        "ex:cancer a gr:FindingRecord, vocab:HistoryOfCancer ; gr:status gr:Absent .",
        "ex:cancer a gr:FindingRecord, vocab:HistoryOfCancer ; gr:status gr:Present ; "
        'gr:recordedOn "2026-03-01"^^xsd:date .',
    )
    assert other != SEED
    alone = [_ids(r) for r in _results([SEED])] + [_ids(r) for r in _results([other])]
    assert alone[0] != alone[1], "the test needs two patients with different advice"
    assert [_ids(r) for r in _results([SEED, other])] == alone
    assert [_ids(r) for r in _results([SEED, other, SEED])] == [alone[0], alone[1], alone[0]]
    assert safeguards.isolated_groups([reasoner.load(SEED), reasoner.load(other), _synthetic(1)]) == [[0, 2], [1]]


@pytest.mark.parametrize("engine", ["compiled", pytest.param("owlrl", marks=pytest.mark.slow)])
def test_patients_sharing_an_identifier_are_never_merged(engine: str) -> None:
    """Two patients with the same medical record number (and the same label) evaluated together: no owl:sameAs
    links them or their records in the closure, and each gets the advice it gets alone."""
    patients = [_synthetic(seed) for seed in (11, 12)]
    for patient in patients:
        patient.graph.add((patient.iri, MRN, Literal("MRN-0001")))
        patient.graph.add((patient.iri, RDFS.label, Literal("J. Doe")))
    together = safeguards.evaluate_guarded(
        ENGINES[engine], GL, patients, as_of=ASSESSED, min_rank=1, jurisdiction=JURISDICTIONS["both"]
    )
    nodes = [set(p.graph.subjects()) for p in patients]  # each patient and its records
    assert nodes[0] and nodes[1] and not nodes[0] & nodes[1]
    for evaluation in together:
        assert isinstance(evaluation, Evaluation)
        for a in nodes[0]:
            for b in nodes[1]:
                assert (a, OWL.sameAs, b) not in evaluation.facts and (b, OWL.sameAs, a) not in evaluation.facts
    # one evaluation date after both synthetic assessments (all of 2026): evaluated together, and no fact after it
    options = {"as_of": date(2027, 12, 31), "engine": engine, "include_drafts": True, "jurisdiction": "both"}
    assert [_ids(r) for r in _results(patients, **options)] == [
        _ids(r) for p in patients for r in _results([p], **options)
    ]


# -- missing data, never advice --------------------------------------------------------------------------------


def _bare(iri: str) -> Patient:
    b = reasoner.PatientBuilder(iri, assessed_on=ASSESSED)
    return b.build()


def _all_unknown(iri: str) -> Patient:
    """Every finding class of the guideline's vocabulary recorded with status unknown."""
    b = reasoner.PatientBuilder(iri, assessed_on=ASSESSED)
    for finding in sorted(Vocabulary.of(GL).findings - {GR.Finding}, key=str):
        b.unknown(str(finding))
    return b.build()


@pytest.mark.parametrize("jurisdiction", sorted(JURISDICTIONS))
def test_every_rule_on_an_empty_or_all_unknown_patient_gives_no_advice(jurisdiction: str) -> None:
    """A patient with nothing known is in no module's scope: no advice, nothing asked of them, and it says so."""
    patients = [_bare("https://example.org/safety/empty"), _all_unknown("https://example.org/safety/unknown")]
    assert len(patients[1].graph) > 3 * len(Vocabulary.of(GL).findings)
    for result in _results(patients, include_drafts=True, jurisdiction=jurisdiction):  # every rule, drafts included
        assert result.recommendations == [] and result.suppressed == [] and result.missing == []
        assert result.guidelines == [] and result.headline == "No guideline loaded applies to this patient"


@pytest.mark.parametrize("jurisdiction", sorted(JURISDICTIONS))
def test_every_red_flag_unknown_in_scope_is_missing_and_blocks_reassurance(jurisdiction: str) -> None:
    """Unknown is not absent: a patient in scope (back pain) with every red flag unknown is asked about each, and
    gets no reassurance that depends on them."""
    b = reasoner.PatientBuilder("https://example.org/safety/back-pain-unknown", assessed_on=ASSESSED)
    b.finding("LowBackPain", onset=date(2026, 3, 12))
    for field in FIELDS:
        b.unknown(str(field))
    (result,) = _results([b.build()], include_drafts=True, jurisdiction=jurisdiction)
    applied = {r.id for r in result.recommendations}
    fields = {f for g in result.guidelines for f in GL.module(g.iri).fields}
    # a field recommendations ask for (gr:asksFor) is asked only when one of them applies
    asked = {f for f in fields if f not in GL.asked_by or GL.asked_by[f] & applied}
    assert sorted(m.finding for m in result.missing) == sorted(asked) and asked
    assert fields - asked, "no field is asked only for a recommendation that does not apply here: the test tests less"
    reassurance = {"LBP-IMG-01"}  # "no routine imaging", given only when the red flags are documented negative
    assert not reassurance & {r.identifier for r in result.recommendations}


@pytest.mark.parametrize("complaint", ["LowBackPain", "Sciatica"])
def test_absent_unknown_and_present_red_flags_give_three_different_outputs(complaint: str) -> None:
    """For each red-flag field, on a patient with every other red flag documented absent and a known age."""
    patients = []
    for field in FIELDS:
        name = field.split("#")[-1]
        for state in ("present", "absent", "unknown"):
            b = reasoner.PatientBuilder(
                f"https://example.org/safety/{complaint}/{name}/{state}", assessed_on=ASSESSED, birth_date=BORN
            )
            b.finding(complaint, onset=date(2026, 3, 12), **({"laterality": "left"} if complaint == "Sciatica" else {}))
            b.absent(*[str(f) for f in FIELDS if f != field])
            if state == "present":
                b.finding(str(field), recorded_on=ASSESSED)
            elif state == "absent":
                b.absent(str(field))
            patients.append(b.build())
    results = [_ids(r) for r in _results(patients)]
    for index, field in enumerate(FIELDS):
        present, absent, unknown = results[3 * index : 3 * index + 3]
        if str(field) in GL.asked_by:  # asked only for recommendations (an MRI order) that do not apply here:
            assert unknown == absent == present, field  # (tests/test_safety_properties.py covers it with an MRI)
            continue
        assert len({present, absent, unknown}) == 3, field
        assert str(field) in unknown[2] and str(field) not in absent[2] and str(field) not in present[2]


# -- the reasoning budget --------------------------------------------------------------------------------------


def test_a_patient_over_the_time_budget_cannot_be_evaluated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(safeguards, "MAX_SECONDS", 0.0)
    outcomes = list(reasoner.recommend_many([SEED, _synthetic(3)], guideline=GL))
    assert all(isinstance(o, CannotEvaluateError) for o in outcomes), outcomes
    assert "cannot evaluate: reasoning took" in str(outcomes[0]) and "no advice" in str(outcomes[0])
    with pytest.raises(CannotEvaluateError):
        reasoner.recommend(SEED, guideline=GL)


def test_a_patient_over_the_size_budget_cannot_be_evaluated(monkeypatch: pytest.MonkeyPatch) -> None:
    built = reasoner.load(SEED)  # a Patient object skips the loader's limits; the budget still holds it
    monkeypatch.setattr(input_limits, "MAX_TRIPLES", len(built.graph) - 1)
    outcome = next(reasoner.recommend_many([built], guideline=GL))
    assert isinstance(outcome, CannotEvaluateError) and "MAX_TRIPLES" in str(outcome)
    monkeypatch.setattr(input_limits, "MAX_TRIPLES", 20_000)
    monkeypatch.setattr(safeguards, "MAX_DERIVED", 0)
    outcome = next(reasoner.recommend_many([built], guideline=GL))
    assert isinstance(outcome, CannotEvaluateError) and "MAX_DERIVED" in str(outcome)


class _SlowFor:
    """The compiled engine, made slow whenever one given patient is among those evaluated."""

    name = "compiled"

    def __init__(self, slow: URIRef, seconds: float) -> None:
        self.slow, self.seconds, self.calls = slow, seconds, 0

    def evaluate_many(
        self, gl: Guideline, patients: Sequence[Patient], *, as_of: date, min_rank: int, jurisdiction: URIRef
    ) -> list[Evaluation]:
        self.calls += 1
        if any(p.iri == self.slow for p in patients):
            time.sleep(self.seconds)
        return ENGINES["compiled"].evaluate_many(
            gl, patients, as_of=as_of, min_rank=min_rank, jurisdiction=jurisdiction
        )


def test_only_the_patient_at_fault_is_refused_when_a_chunk_is_over_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    patients = [_synthetic(seed) for seed in (21, 22, 23)]
    monkeypatch.setattr(safeguards, "MAX_SECONDS", 0.4)
    engine = _SlowFor(patients[1].iri, 1.5)
    found = safeguards.evaluate_guarded(
        engine, GL, patients, as_of=ASSESSED, min_rank=3, jurisdiction=JURISDICTIONS["US"]
    )
    assert engine.calls == 1 + len(patients)  # the chunk, then one patient at a time
    assert "reasoning took" in str(found[1])
    assert [isinstance(f, CannotEvaluateError) for f in found] == [False, True, False]
    plain = ENGINES["compiled"].evaluate_many(
        GL, patients, as_of=ASSESSED, min_rank=3, jurisdiction=JURISDICTIONS["US"]
    )
    for got, expected in zip(found, plain, strict=True):
        if isinstance(got, Evaluation):
            assert (got.applied, got.blocked) == (expected.applied, expected.blocked)


def test_a_patient_that_cannot_be_evaluated_is_reported_and_never_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "seed.ttl").write_text(SEED)
    monkeypatch.setattr(safeguards, "MAX_DERIVED", 0)
    summary = batch([tmp_path / "in"], tmp_path / "store")
    assert summary.done == 0 and len(summary.invalid) == 1 and "cannot evaluate" in summary.invalid[0].reason
    with open_store(tmp_path / "store", read_only=True) as store:
        assert not [g for g in store.graphs() if "/facts?" in g or "/derived?" in g]


def test_the_guideline_declares_nothing_that_derives_owl_same_as() -> None:
    """owl:sameAs comes from functional or inverse-functional properties, keys and sameAs itself; the guideline has
    none (the compiled engine refuses them) and patient data may not declare them (test_hostile_input)."""
    for kind in (OWL.FunctionalProperty, OWL.InverseFunctionalProperty):
        assert not list(GL.graph.subjects(RDF.type, kind))
    assert not list(GL.graph.triples((None, OWL.hasKey, None)))
    assert not list(GL.graph.triples((None, OWL.sameAs, None)))
