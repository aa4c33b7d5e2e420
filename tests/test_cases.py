"""The guideline test cases of every bundled module (ontology/<module>/cases, docs/authoring-tests.md), collected by
pytest: every case passes with all modules loaded, every public vignette file has its case, and the cases cover
every approved recommendation, with all modules loaded and with each module alone.

Cases named known-gap-* record where the engine disagrees with the clinical catalogue; they fail until the guideline
is fixed, by design (no skip, no xfail)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reasoner import load_guideline
from reasoner.authoring.cases import Case, case_dirs, load_cases, run_case
from reasoner.authoring.coverage import coverage
from reasoner.knowledge.guideline import Guideline
from reasoner.knowledge.modules import bundled

ROOT = Path(__file__).resolve().parent.parent
VIGNETTES = ROOT / "ontology" / "lbp" / "cases" / "vignettes"
CASES = load_cases() + load_cases(ROOT / "tests" / "cases")  # the modules' own, and those needing several
MODULES = [m.path for m in bundled()[1] if (m.path / "cases").is_dir()]


@pytest.fixture(scope="module")
def guideline() -> Guideline:
    return load_guideline()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case: Case, guideline: Guideline) -> None:
    outcome = run_case(case, guideline=guideline)
    if outcome.failures:  # the runner's own explanation, without pytest's repr of the result objects
        pytest.fail(outcome.explain(), pytrace=False)


def test_every_approved_recommendation_fires_in_a_case_and_is_asserted_absent_in_another(guideline: Guideline) -> None:
    report = coverage(CASES, guideline)
    assert report.missing == (), report.to_text()


def test_every_public_vignette_file_has_its_case() -> None:
    by_file = {c.path.stem: c for c in CASES}
    for vignette in sorted(VIGNETTES.glob("*.ttl")):
        case = by_file.get(f"vignette-{vignette.stem}")
        assert case is not None, f"ontology/lbp/cases/vignette-{vignette.stem}.yaml is missing"
        assert Path(case.patient.source).resolve() == vignette.resolve(), f"{case.id} must use {vignette.name}"


@pytest.mark.parametrize("module", MODULES, ids=[m.name for m in MODULES])
def test_each_module_alone_passes_its_cases_and_covers_its_recommendations(module: Path) -> None:
    alone = load_guideline(module)
    assert [m.directory for m in alone.guidelines] == [module]
    results = [run_case(c, guideline=alone) for c in load_cases(case_dirs(alone), guideline=alone)]
    failed = [r.explain() for r in results if r.failures]
    assert not failed, "\n".join(failed)
    report = coverage(results, alone)
    assert report.missing == (), report.to_text()
