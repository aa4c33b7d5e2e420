"""The `reasoner` command line: a thin shell over the library. Library errors become messages and exit codes here.

Exit codes: 0 done, 1 invalid input (the patient file cannot be read or breaks the patient shapes),
2 usage error (including a malformed query), 3 the guideline itself is broken. `reasoner test` and
`reasoner coverage`: 1 means a case failed or
a recommendation lacks cases, 2 a case file cannot be used.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import NoReturn

import click

from reasoner._paths import data_dir
from reasoner.batch import Progress, batch
from reasoner.cases import default_cases_dir, run_cases
from reasoner.coverage import coverage
from reasoner.engine import ENGINES
from reasoner.errors import (
    CaseError,
    GuidelineError,
    InputError,
    InvalidPatientError,
    QueryError,
    ReasonerError,
)
from reasoner.guideline import load_guideline
from reasoner.patient import load
from reasoner.pipeline import JURISDICTIONS, recommend
from reasoner.research import run_query
from reasoner.synth import write_cohort
from reasoner.validate import check

SEED_CASE = "seed-case.ttl"


def _fail(exc: ReasonerError) -> NoReturn:
    click.echo(f"error: {exc}", err=True)
    sys.exit(2 if isinstance(exc, CaseError | QueryError) else 1 if isinstance(exc, InputError) else 3)


def _patient_path(file: Path | None) -> Path:
    return file if file is not None else data_dir("examples") / SEED_CASE


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="guideline-reasoner")
def main() -> None:
    """Guideline reasoner: cited, explained recommendations from clinical guidelines encoded as a knowledge graph.

    \b
    Examples:
      reasoner recommend                         # the embedded seed case
      reasoner recommend patient.ttl --format json
      reasoner validate patient.jsonld
      reasoner test                              # the guideline test cases (tests/cases)
      reasoner coverage --format json
    """


@main.command("recommend")
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Evaluation date (default: the patient's gr:assessedOn, else today).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "json", "ttl", "jsonld"]),
    default="md",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--engine",
    type=click.Choice(sorted(ENGINES)),
    default="compiled",
    show_default=True,
    help="OWL 2 RL engine: compiled (fast) or owlrl (reference).",
)
@click.option("--include-drafts", is_flag=True, help="Also apply recommendations not yet approved (marked as such).")
@click.option(
    "--jurisdiction",
    type=click.Choice(sorted(JURISDICTIONS)),
    default="US",
    show_default=True,
    help="Where sources conflict, apply US (ACP, ACR, FDA, CDC), UK (NICE) or both.",
)
def recommend_command(
    file: Path | None, as_of: datetime | None, fmt: str, engine: str, include_drafts: bool, jurisdiction: str
) -> None:
    """Evaluate one patient file (Turtle or JSON-LD) and print the recommendations.

    Without FILE, evaluates the embedded seed case (right sciatica with a progressive motor deficit).

    \b
    Examples:
      reasoner recommend
      reasoner recommend examples/seed-case.ttl --format json
      reasoner recommend patient.ttl --as-of 2026-04-01 --format ttl
      reasoner recommend patient.ttl --jurisdiction UK
    """
    when = as_of.date() if as_of is not None else None
    try:
        result = recommend(
            _patient_path(file), as_of=when, engine=engine, include_drafts=include_drafts, jurisdiction=jurisdiction
        )
    except ReasonerError as exc:
        _fail(exc)
    if fmt == "json":
        click.echo(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
    elif fmt == "ttl":
        click.echo(result.to_graph().serialize(format="turtle"))
    elif fmt == "jsonld":
        click.echo(result.to_graph().serialize(format="json-ld", indent=2))
    else:
        click.echo(result.to_markdown())


@main.command("validate")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def validate_command(file: Path) -> None:
    """Check a patient file against the patient shapes and the guideline vocabulary; list every problem.

    \b
    Examples:
      reasoner validate examples/seed-case.ttl
    """
    try:
        patient = load(file)
        violations = check(patient, load_guideline())
    except (InputError, GuidelineError) as exc:
        _fail(exc)
    if violations:
        _fail(InvalidPatientError(str(file), violations))
    click.echo(f"{file}: valid ({len(patient.graph)} triples, patient {patient.iri})")


_CASES = click.Path(exists=True, path_type=Path)


@main.command("test")
@click.argument("path", required=False, type=_CASES)
def test_command(path: Path | None) -> None:
    """Run the guideline test cases: one line per case (PASS, WARN or FAIL), then what each failure expected,
    what happened, and why the recommendations involved fired or were blocked.

    PATH is a case file or a directory searched recursively for *.yaml cases (default: tests/cases of the
    checkout). A should_not expectation that is not met is a warning (WARN) and does not fail the case. Exit codes:
    0 every case passes, 1 a case fails, 2 a case file cannot be used (the file and field are named).

    \b
    Examples:
      reasoner test
      reasoner test tests/cases/lbp
      reasoner test tests/cases/lbp/vignette-v01.yaml
    """
    try:
        results = run_cases(path if path is not None else default_cases_dir())
    except ReasonerError as exc:
        _fail(exc)
    for res in results:
        click.echo(res.explain())
    counts = {s: sum(r.status == s for r in results) for s in ("PASS", "WARN", "FAIL")}
    click.echo(f"{len(results)} cases: {counts['PASS']} passed, {counts['WARN']} warned, {counts['FAIL']} failed")
    sys.exit(1 if counts["FAIL"] else 0)


@main.command("coverage")
@click.argument("path", required=False, type=_CASES)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Output format."
)
def coverage_command(path: Path | None, fmt: str) -> None:
    """Show, for every recommendation, the cases where it must fire (and does) and the cases asserting it absent
    (and it is): a must_not by identifier, or by kind/target matching it.

    PATH is as for `reasoner test`. Exit codes: 0 every approved recommendation has both, 1 one lacks a firing or an
    absent case (listed as missing), 2 a case file cannot be used.

    \b
    Examples:
      reasoner coverage
      reasoner coverage tests/cases --format json
    """
    try:
        report = coverage(path if path is not None else default_cases_dir())
    except ReasonerError as exc:
        _fail(exc)
    click.echo(json.dumps(report.to_json(), indent=2) if fmt == "json" else report.to_text())
    sys.exit(1 if report.missing else 0)


@main.command("synth")
@click.argument("count", type=click.IntRange(min=1))
@click.option("--seed", type=int, default=0, show_default=True, help="The same seed gives the same patients.")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Directory.")
def synth_command(count: int, seed: int, out: Path) -> None:
    """Write COUNT synthetic patients (Turtle, one file each) spanning every pathway of the guideline.

    \b
    Examples:
      reasoner synth 1000 --seed 7 --out cohort/
    """
    try:
        paths = write_cohort(load_guideline(), count, out, seed=seed)
    except ReasonerError as exc:
        _fail(exc)
    click.echo(f"{len(paths)} patients written to {out}")


@main.command("batch")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--store", "store", type=click.Path(file_okay=False, path_type=Path), required=True, help="Store dir.")
@click.option("--processes", type=click.IntRange(min=1), default=1, show_default=True, help="Worker processes.")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), help="One evaluation date for all.")
@click.option("--jurisdiction", type=click.Choice(sorted(JURISDICTIONS)), default="US", show_default=True)
def batch_command(
    inputs: tuple[Path, ...], store: Path, processes: int, as_of: datetime | None, jurisdiction: str
) -> None:
    """Evaluate every patient in INPUTS (files, directories, or an N-Quads/TriG file with one graph per patient) and
    store each patient's facts and recommendations, with provenance, in its own named graphs (one atomic write per
    patient; a rerun replaces exactly those graphs). Invalid patients are listed with the reason, never stored.

    \b
    Examples:
      reasoner batch cohort/ --store cohort.db --processes 2
      reasoner batch patients.nq --store cohort.db --as-of 2026-11-23
    """
    with click.progressbar(length=0, label="patients", file=sys.stderr) as bar:

        def progress(step: Progress) -> None:
            bar.length = step.total
            bar.update(1)

        try:
            summary = batch(
                inputs,
                store,
                processes=processes,
                as_of=as_of.date() if as_of else None,
                jurisdiction=jurisdiction,
                progress=progress,
            )
        except ReasonerError as exc:
            _fail(exc)
    click.echo(json.dumps(summary.to_json(), indent=2))
    sys.exit(1 if summary.invalid else 0)


@main.command("query")
@click.argument("query_text", metavar="QUERY")
@click.option("--store", "store", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True)
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "tsv", "json", "xml"]), default="table")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="Bind ?NAME; <...> for an IRI.")
def query_command(query_text: str, store: Path, fmt: str, params: tuple[str, ...]) -> None:
    """Run a SPARQL query over a cohort store: a research query by name, a .rq file, or the query text.
    Parameters are bound as RDF terms, never pasted into the text.

    \b
    Examples:
      reasoner query red-flag-prevalence --store cohort.db
      reasoner query provenance-chain --store cohort.db --param patient=<https://example.org/p/1>
      reasoner query 'SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }' --store cohort.db --format csv
    """
    try:
        click.echo(run_query(query_text, store, fmt=fmt, params=params), nl=False)
    except ReasonerError as exc:
        _fail(exc)


if __name__ == "__main__":
    main()
