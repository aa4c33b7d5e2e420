"""Synthetic cohorts drawn from the modules' test cases: every case drawn, each presentation kept (the same
recommendations as its case), dates moved together, always valid, reproducible, written atomically."""

from __future__ import annotations

import random
import shutil
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef

import reasoner
from reasoner.authoring.cases import Case
from reasoner.errors import GuidelineError
from reasoner.knowledge.guideline import Guideline
from reasoner.namespaces import GR
from reasoner.synth.cohort import cases_of, synthesize, synthetic_patient, synthetic_patients, write_cohort
from reasoner.synth.variant import Synthetic

COUNT = 300
SEED = 20261123


@pytest.fixture(scope="module")
def guideline() -> Guideline:
    return reasoner.load_guideline()


@pytest.fixture(scope="module")
def cohort(guideline: Guideline) -> list[Synthetic]:
    # more patients than cases, so that some are drawn after the first deck (only those may drop a red flag)
    return list(synthesize(guideline, max(COUNT, len(cases_of(guideline)) + COUNT // 3), seed=SEED))


Outcome = tuple[set[str], set[str], set[str]]


def _outcome(result: reasoner.Recommendations) -> Outcome:
    """What was recommended, what was suppressed and what conflicted."""
    return (
        {r.id for r in result.recommendations},
        {s.identifier for s in result.suppressed},
        {c.first.identifier + " vs " + c.second.identifier for c in result.conflicts},
    )


def _run(guideline: Guideline, case: Case, patient: reasoner.Patient, as_of: date | None) -> reasoner.Recommendations:
    """The patient under its case's settings, at `as_of` (None: its own gr:assessedOn)."""
    return reasoner.recommend(
        patient, as_of=as_of, guideline=guideline, jurisdiction=case.jurisdiction, include_drafts=case.include_drafts
    )


@pytest.fixture(scope="module")
def first_deck(guideline: Guideline, cohort: list[Synthetic]) -> list[tuple[Synthetic, reasoner.Recommendations]]:
    """The first deck, each patient reasoned over at its own assessment date under its case's settings."""
    return [(s, _run(guideline, s.case, s.patient, None)) for s in cohort[: len(cases_of(guideline))]]


def test_the_first_deck_draws_each_case_once_as_written_and_fires_every_recommendation(
    guideline: Guideline, first_deck: list[tuple[Synthetic, reasoner.Recommendations]]
) -> None:
    assert sorted(s.case.id for s, _ in first_deck) == sorted(c.id for c in cases_of(guideline))
    assert all(s.dropped is None for s, _ in first_deck)
    for s, result in first_deck:
        assert result.as_of == s.as_of.isoformat()
    fired = {r.id for _, result in first_deck for r in result.recommendations}
    assert fired == set(guideline.recommendations), "every recommendation of every loaded module fires"


@pytest.mark.slow
def test_a_patient_as_written_gets_what_its_case_gets(
    guideline: Guideline, first_deck: list[tuple[Synthetic, reasoner.Recommendations]]
) -> None:
    for s, result in first_deck:
        original = _run(guideline, s.case, s.case.patient, s.case.as_of)
        assert _outcome(result) == _outcome(original), f"{s.patient.iri} from {s.case.id}, moved {s.shift}"


def test_every_patient_is_valid(guideline: Guideline, cohort: list[Synthetic]) -> None:
    for s in cohort:
        assert reasoner.check(s.patient, guideline) == [], s.case.id
    for seed in range(20):  # single patients, as the property tests draw them
        patient = synthetic_patient(guideline, random.Random(seed), iri=f"https://example.org/single/{seed}")
        assert reasoner.check(patient, guideline) == []


def test_dates_move_together_and_the_age_is_kept(cohort: list[Synthetic]) -> None:
    shifts = Counter(s.shift.days for s in cohort)
    assert len(shifts) > len(cohort) // 2, "shifts vary"
    for s in cohort:
        original, patient = s.case.patient, s.patient
        assert patient.assessed_on == s.case.as_of + s.shift
        born, was_born = (
            patient.graph.value(patient.iri, GR.birthDate),
            original.graph.value(original.iri, GR.birthDate),
        )
        if isinstance(born, Literal):
            assert isinstance(was_born, Literal)
            assert _age(born.toPython(), s.as_of) == _age(was_born.toPython(), s.case.as_of)
        if s.dropped is not None:  # the dropped record's dates went with it
            continue
        others = _dates(original.graph, original.iri)
        assert _dates(patient.graph, patient.iri) == Counter({d + s.shift: n for d, n in others.items()}), s.case.id


def test_fresh_iris_and_dropped_red_flags(guideline: Guideline, cohort: list[Synthetic]) -> None:
    red_flags = guideline.members(str(GR.RedFlag))
    for index, s in enumerate(cohort):
        iri = f"https://example.org/synth/{SEED}/{index}"
        assert s.patient.iri == URIRef(iri)
        nodes = {n for t in s.patient.graph for n in (t[0], t[2]) if isinstance(n, URIRef)}
        assert {n for n in nodes if "example.org" in n} <= {URIRef(iri)} | {n for n in nodes if n.startswith(iri + "/")}
        findings = len(list(s.patient.graph.objects(s.patient.iri, GR.hasFinding)))
        before = len(list(s.case.patient.graph.objects(s.case.patient.iri, GR.hasFinding)))
        assert findings == before - (s.dropped is not None)
        if s.dropped is not None:
            assert str(s.dropped) in red_flags
    dropped = sum(s.dropped is not None for s in cohort)
    assert 0 < dropped < len(cohort) // 4, "a few patients leave a red-flag question unknown"


def test_the_same_seed_gives_the_same_patients_and_another_seed_others(guideline: Guideline) -> None:
    one = [set(p.graph) for p in synthetic_patients(guideline, 30, seed=5)]
    assert one == [set(p.graph) for p in synthetic_patients(guideline, 30, seed=5)]
    assert one != [set(p.graph) for p in synthetic_patients(guideline, 30, seed=6)]
    longer = [set(p.graph) for p in synthetic_patients(guideline, 35, seed=5)]
    assert longer[:30] == one, "a patient does not change when the cohort grows"


def test_write_cohort_writes_one_turtle_file_per_patient(tmp_path: Path, guideline: Guideline) -> None:
    paths = write_cohort(guideline, 5, tmp_path / "out", seed=3)
    assert [p.name for p in paths] == [f"synth-3-{i:06d}.ttl" for i in range(5)]
    assert sorted(tmp_path.joinpath("out").iterdir()) == paths, "no temporary file is left behind"
    for path, patient in zip(paths, synthetic_patients(guideline, 5, seed=3), strict=True):
        assert _values(Graph().parse(path)) == _values(patient.graph)
    again = write_cohort(guideline, 5, tmp_path / "again", seed=3)
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in paths]


def test_modules_without_cases_cannot_be_drawn_from(tmp_path: Path) -> None:
    bundled = Path(reasoner.__file__).resolve().parent.parent / "ontology"
    module = tmp_path / "lbp"  # the module without its cases/
    shutil.copytree(bundled / "lbp", module, ignore=shutil.ignore_patterns("cases"))
    with pytest.raises(GuidelineError, match="no test cases to draw synthetic patients from"):
        cases_of(reasoner.load_guideline(bundled / "vocabulary", module))


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _dates(graph: Graph, patient: URIRef) -> Counter[date]:
    """Every date of the patient but the birth and assessment dates."""
    skip = {(patient, GR.birthDate), (patient, GR.assessedOn)}
    return Counter(
        o.toPython()
        for s, p, o in graph
        if isinstance(o, Literal) and type(o.toPython()) is date and (s, p) not in skip
    )


def _values(graph: Graph) -> set[tuple[object, ...]]:
    """Triples compared by value (Turtle writes the decimal 13 as 13.0)."""
    return {(s, p, o.toPython() if isinstance(o, Literal) else o) for s, p, o in graph}
