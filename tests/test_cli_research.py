"""The research commands end to end: synth -> batch -> query, through the CLI."""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from reasoner.cli import main, query_command
from reasoner.serve import Settings


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


def test_query_limits_default_to_the_endpoints() -> None:
    defaults = {p.name: p.default for p in query_command.params}
    assert defaults["timeout"] == Settings().timeout and defaults["memory_mb"] << 20 == Settings().memory


def test_a_query_past_its_time_limit_stops_with_a_clear_error(cohort: tuple[Path, Path]) -> None:
    _, db = cohort
    runner = CliRunner()
    started = time.monotonic()
    quick = runner.invoke(main, ["query", "ASK { GRAPH ?g { ?s ?p ?o } }", "--store", str(db), "--timeout", "1"])
    start_up = time.monotonic() - started  # the query process's interpreter start-up, the same for both
    assert quick.exit_code == 0 and quick.stdout == "True\n", quick.output
    cartesian = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?x { ?a ?b ?c } GRAPH ?y { ?d ?e ?f } GRAPH ?z { ?g ?h ?i } }"
    started = time.monotonic()
    out = runner.invoke(main, ["query", cartesian, "--store", str(db), "--timeout", "1"])
    elapsed = time.monotonic() - started
    assert out.exit_code == 2, out.output
    assert out.output.startswith("error: the query ran for 1 s, its time limit, and was stopped; raise the limit with ")
    assert "--timeout SECONDS (now 1)" in out.output and "Traceback" not in out.output
    assert 1.0 <= elapsed < start_up + 4.0, (elapsed, start_up)


def test_a_query_over_its_memory_limit_stops_with_a_clear_error(cohort: tuple[Path, Path]) -> None:
    _, db = cohort
    runner = CliRunner()
    limits = ["--store", str(db), "--max-memory-mb", "1536", "--timeout", "25"]
    ordinary = runner.invoke(main, ["query", "ASK { GRAPH ?g { ?s ?p ?o } }", *limits])
    assert ordinary.exit_code == 0 and ordinary.stdout == "True\n", ordinary.output  # the limit leaves room
    every_pair_sorted = "SELECT * WHERE { GRAPH ?x { ?a ?b ?c } GRAPH ?y { ?d ?e ?f } } ORDER BY ?f ?c"
    out = runner.invoke(main, ["query", every_pair_sorted, *limits, "--format", "csv"])
    assert out.exit_code == 2, out.output
    assert out.output.startswith("error: the query needed more than its memory limit of 1536 MiB and was stopped")
    assert "--max-memory-mb MB (now 1536)" in out.output and "Traceback" not in out.output
