"""Synthetic cohorts: reproducible from the seed, always valid, spanning every pathway, written atomically."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest
from rdflib import Graph, Literal, Namespace

import reasoner
from reasoner.errors import GuidelineError
from reasoner.knowledge.guideline import Guideline
from reasoner.namespaces import RDF
from reasoner.synth.cohort import BLOCK, WEIGHTS, scenario_of, synthetic_patient, synthetic_patients, write_cohort
from reasoner.synth.scenarios import Concepts

LBP = Namespace("https://w3id.org/guideline-reasoner/lbp#")

COUNT = 3 * BLOCK


@pytest.fixture(scope="module")
def guideline() -> Guideline:
    return reasoner.load_guideline()


@pytest.fixture(scope="module")
def cohort(guideline: Guideline) -> list[tuple[str, reasoner.Patient, reasoner.Recommendations]]:
    patients = list(synthetic_patients(guideline, COUNT, seed=99))
    results = list(reasoner.recommend_many(patients, guideline=guideline))
    return [(scenario_of(99, i), p, r) for i, (p, r) in enumerate(zip(patients, results, strict=True))]  # type: ignore[misc]


def test_the_same_seed_gives_the_same_patients_and_another_seed_others(guideline: Guideline) -> None:
    one = [set(p.graph) for p in synthetic_patients(guideline, BLOCK, seed=5)]
    two = [set(p.graph) for p in synthetic_patients(guideline, BLOCK, seed=5)]
    three = [set(p.graph) for p in synthetic_patients(guideline, BLOCK, seed=6)]
    assert one == two
    assert one != three
    longer = [set(p.graph) for p in synthetic_patients(guideline, BLOCK + 3, seed=5)]
    assert longer[:BLOCK] == one, "a patient does not change when the cohort grows"


def test_every_block_deals_each_scenario_as_often_as_its_weight() -> None:
    for seed in (0, 1, 2):
        for block in range(3):
            dealt = Counter(scenario_of(seed, block * BLOCK + i) for i in range(BLOCK))
            assert dealt == Counter(WEIGHTS)


def test_every_patient_is_valid(guideline: Guideline, cohort: list[tuple[str, reasoner.Patient, object]]) -> None:
    for _, patient, result in cohort:
        assert reasoner.check(patient, guideline) == []
        assert isinstance(result, reasoner.Recommendations)
    for seed in range(20):  # single patients drawn with their own scenario choice
        patient = synthetic_patient(guideline, random.Random(seed), iri=f"https://example.org/single/{seed}")
        assert reasoner.check(patient, guideline) == []


def test_each_scenario_takes_its_pathway(
    cohort: list[tuple[str, reasoner.Patient, reasoner.Recommendations]],
) -> None:
    for scenario, patient, result in cohort:
        urgencies = {r.urgency for r in result.recommendations}
        blockers = {b for s in result.suppressed for b in s.by}
        via = {c for r in result.recommendations for c in r.via}
        where = f"{scenario}: {patient.iri}"
        if scenario == "cauda-equina":
            assert "emergency" in urgencies, where
        elif scenario == "progressive-deficit":
            assert "urgent" in urgencies, where
        elif scenario == "nsaid-contraindication":
            assert str(LBP.NSAIDContraindicatedPatient) in via, where
        elif scenario == "exposure-limits":
            limits = (LBP.KetorolacLimitReached, LBP.CyclobenzaprineBeyondTwoWeeks)
            assert any((None, RDF.type, limit) in result.derived for limit in limits), where
        elif scenario in ("cancer", "infection", "fracture-risk"):
            assert str(LBP.RedFlagPresentPatient) in blockers | via, where
        elif scenario == "no-red-flags":
            assert result.missing == [], where
        elif scenario == "unknown-findings":
            assert result.missing, where


def test_the_cohort_exercises_most_of_the_guideline(
    guideline: Guideline, cohort: list[tuple[str, reasoner.Patient, reasoner.Recommendations]]
) -> None:
    fired = {r.id for _, _, result in cohort for r in result.recommendations}
    us = {i for i, spec in guideline.recommendations.items() if spec.review_status == "approved"}
    assert len(fired) >= 0.8 * len(us), sorted(us - fired)


def test_a_scenario_needing_a_concept_the_guideline_lacks_fails_clearly(guideline: Guideline) -> None:
    concepts = Concepts(guideline, "cancer")
    with pytest.raises(GuidelineError, match="scenario 'cancer' needs the finding class lbp:NoSuchFinding"):
        concepts.finding("NoSuchFinding")
    with pytest.raises(GuidelineError, match="drug class lbp:NoSuchClass"):
        concepts.members("NoSuchClass")
    with pytest.raises(ValueError, match="unknown scenario"):
        synthetic_patient(guideline, random.Random(0), iri="https://example.org/x", scenario="nope")


def test_write_cohort_writes_one_turtle_file_per_patient(tmp_path: Path, guideline: Guideline) -> None:
    paths = write_cohort(guideline, 5, tmp_path / "out", seed=3)
    assert [p.name for p in paths] == [f"synthetic-3-{i:06d}.ttl" for i in range(5)]
    assert sorted(tmp_path.joinpath("out").iterdir()) == paths, "no temporary file is left behind"
    for path, patient in zip(paths, synthetic_patients(guideline, 5, seed=3), strict=True):
        assert _values(Graph().parse(path)) == _values(patient.graph)
    again = write_cohort(guideline, 5, tmp_path / "again", seed=3)
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in paths]


def _values(graph: Graph) -> set[tuple[object, ...]]:
    """Triples compared by value (Turtle writes the decimal 13 as 13.0)."""
    return {(s, p, o.toPython() if isinstance(o, Literal) else o) for s, p, o in graph}
