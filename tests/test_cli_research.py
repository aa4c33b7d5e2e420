"""The research commands end to end: synth -> batch -> query, through the CLI."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from reasoner.cli import main


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("cohort")
    runner = CliRunner()
    made = runner.invoke(main, ["synth", "12", "--seed", "5", "--out", str(root / "patients")])
    assert made.exit_code == 0, made.output
    (root / "patients" / "broken.ttl").write_text("<https://example.org/p/x> a <nope", encoding="utf-8")
    done = runner.invoke(main, ["batch", str(root / "patients"), "--store", str(root / "db")])
    assert done.exit_code == 1  # one input could not be used
    summary = json.loads(done.stdout[done.stdout.index("{") :])
    assert summary["done"] == 12 and [i["source"].endswith("broken.ttl") for i in summary["invalid"]] == [True]
    return root / "patients", root / "db"


def test_query_by_name_as_csv_counts_every_stored_patient(cohort: tuple[Path, Path]) -> None:
    _, db = cohort
    out = CliRunner().invoke(main, ["query", "red-flag-prevalence", "--store", str(db), "--format", "csv"])
    assert out.exit_code == 0, out.output
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    # every stored patient in the scope of the module whose red flags these are, each field documented or unknown
    (count,) = {int(r["patients"]) for r in rows}
    assert rows and 0 < count <= 12


def test_query_text_as_table(cohort: tuple[Path, Path]) -> None:
    _, db = cohort
    text = (
        "SELECT (COUNT(DISTINCT ?p) AS ?n) "
        "WHERE { GRAPH ?g { ?p a <https://w3id.org/guideline-reasoner/core#Patient> } }"
    )
    out = CliRunner().invoke(main, ["query", text, "--store", str(db)])
    assert out.exit_code == 0, out.output
    assert out.stdout.splitlines()[2].strip() == "12" and "(1 rows)" in out.stdout


def test_a_required_parameter_is_asked_for(cohort: tuple[Path, Path]) -> None:
    _, db = cohort
    out = CliRunner().invoke(main, ["query", "provenance-chain", "--store", str(db)])
    assert out.exit_code == 2 and "needs --param for: patient" in out.output
