"""The command line: formats, exit codes, and every command documented with examples."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from rdflib import Graph

from reasoner.cli import main
from reasoner.namespaces import GR
from tests.conftest import SEED


def test_recommend_default_is_the_seed_case_as_markdown() -> None:
    out = CliRunner().invoke(main, ["recommend"])
    assert out.exit_code == 0, out.output
    assert out.output.startswith("# URGENT: MRI lumbar spine without IV contrast")


def test_recommend_json_and_turtle() -> None:
    runner = CliRunner()
    as_json = runner.invoke(main, ["recommend", str(SEED), "--format", "json"])
    assert as_json.exit_code == 0
    data = json.loads(as_json.output)
    assert data["as_of"] == "2026-03-22" and data["recommendations"][0]["identifier"] == "LBP-IMG-04"
    as_ttl = runner.invoke(main, ["recommend", str(SEED), "--format", "ttl", "--as-of", "2026-03-22"])
    assert as_ttl.exit_code == 0
    graph = Graph().parse(data=as_ttl.output, format="turtle")
    assert len(set(graph.subjects(GR.recommendation, None))) == len(data["recommendations"])
    assert len(set(graph.subjects(GR.withheldRecommendation, None))) == len(data["suppressed"]) > 0


def test_invalid_patient_exits_1_and_names_the_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text(SEED.read_text().replace('gr:start "2026-03-05"^^xsd:date ;', ""))
    for command in (["validate", str(bad)], ["recommend", str(bad)]):
        out = CliRunner().invoke(main, command)
        assert out.exit_code == 1
        assert str(bad) in out.output and "methylprednisolone" in out.output and "start date" in out.output


def test_unreadable_patient_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "broken.ttl"
    bad.write_text("@prefix gr: <https://w3id.org/guideline-reasoner/core#> .\n<urn:p> a gr:Patient ; gr:birthDate .")
    out = CliRunner().invoke(main, ["recommend", str(bad)])
    assert out.exit_code == 1 and "broken.ttl" in out.output and "syntax" in out.output


def test_usage_error_exits_2() -> None:
    assert CliRunner().invoke(main, ["recommend", "--format", "pdf"]).exit_code == 2
    assert CliRunner().invoke(main, ["recommend", "no-such-file.ttl"]).exit_code == 2


def test_validate_valid_file() -> None:
    out = CliRunner().invoke(main, ["validate", str(SEED)])
    assert out.exit_code == 0 and "valid" in out.output


def test_every_command_is_documented_with_examples() -> None:
    runner = CliRunner()
    assert "Examples:" in runner.invoke(main, ["--help"]).output
    for name in main.commands:  # type: ignore[attr-defined]
        out = runner.invoke(main, [name, "--help"])
        assert out.exit_code == 0
        assert "Examples:" in out.output, f"`reasoner {name} --help` needs examples"
    readme = (SEED.parent.parent / "README.md").read_text()
    for name in main.commands:  # type: ignore[attr-defined]
        assert f"reasoner {name}" in readme, f"README must document `reasoner {name}`"
