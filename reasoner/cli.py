"""The `reasoner` command line: a thin shell over the library. Library errors become messages and exit codes here.

Exit codes: 0 done, 1 invalid input (the patient file cannot be read or breaks the patient shapes),
2 usage error (including a malformed query), 3 the guideline itself is broken, 4 the cohort store cannot be opened,
reached or written. `reasoner test` and
`reasoner coverage`: 1 means a case failed or
a recommendation lacks cases, 2 a case file cannot be used.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime
from pathlib import Path
from typing import NoReturn

import click

from reasoner._paths import data_dir
from reasoner._runtime import settle_heap
from reasoner.authoring.cases import default_cases_dir, run_cases
from reasoner.authoring.coverage import coverage
from reasoner.authoring.diff import diff_guidelines
from reasoner.authoring.qc import check_guideline, read_profile
from reasoner.authoring.turtle_format import format_files
from reasoner.engine.engines import ENGINES
from reasoner.engine.plausibility import check_evaluation_date
from reasoner.engine.validate import check
from reasoner.errors import (
    CaseError,
    GuidelineError,
    InputError,
    InvalidPatientError,
    QueryError,
    ReasonerError,
    StoreError,
)
from reasoner.input.load import load
from reasoner.knowledge.guideline import load_guideline
from reasoner.output.report import AUDIENCES
from reasoner.pipeline import JURISDICTIONS, recommend
from reasoner.rdf.rdfio import serialize
from reasoner.serve import Server, Settings, serve
from reasoner.store.backup import backup, restore
from reasoner.store.batch import Progress, batch
from reasoner.store.research import run_query
from reasoner.synth.cohort import write_cohort

SEED_CASE = "seed-case.ttl"
# rdflib logs a traceback for every ill-typed literal ("2026-13-45"^^xsd:date); the shapes report it as a violation.
logging.getLogger("rdflib.term").setLevel(logging.ERROR)


def _fail(exc: ReasonerError) -> NoReturn:
    click.echo(f"error: {exc}", err=True)
    if isinstance(exc, StoreError):
        sys.exit(4)
    sys.exit(2 if isinstance(exc, CaseError | QueryError) else 1 if isinstance(exc, InputError) else 3)


def _as_of(_ctx: click.Context, _param: click.Parameter, value: datetime | None) -> datetime | None:
    """--as-of outside the dates the reasoner accepts is a usage error (exit 2), like any malformed option."""
    if value is not None:
        try:
            check_evaluation_date(value.date())
        except ReasonerError as exc:
            raise click.BadParameter(str(exc)) from exc
    return value


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
    callback=_as_of,
    help="Evaluation date (default: the patient's gr:assessedOn, else today).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "html", "json", "ttl", "jsonld"]),
    default="md",
    show_default=True,
    help="Output format (html: one self-contained page with a picture of each recommendation's provenance).",
)
@click.option(
    "--audience",
    type=click.Choice(AUDIENCES),
    default="clinician",
    show_default=True,
    help="Who the md or html report is for: the patient version is in plain language, without clinician-only items.",
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
    file: Path | None,
    as_of: datetime | None,
    fmt: str,
    audience: str,
    engine: str,
    include_drafts: bool,
    jurisdiction: str,
) -> None:
    """Evaluate one patient file (Turtle, JSON-LD or a FHIR R4 Bundle) and print the recommendations.

    Without FILE, evaluates the embedded seed case (right sciatica with a progressive motor deficit).

    \b
    Examples:
      reasoner recommend
      reasoner recommend examples/seed-case.ttl --format json
      reasoner recommend patient.ttl --as-of 2026-04-01 --format ttl
      reasoner recommend patient.ttl --jurisdiction UK
      reasoner recommend examples/seed-case.fhir.json --format html > report.html
      reasoner recommend patient.fhir.json --audience patient
    """
    if audience != "clinician" and fmt not in ("md", "html"):
        raise click.UsageError(f"--audience {audience} applies to the md and html reports, not --format {fmt}")
    when = as_of.date() if as_of is not None else None
    try:
        result = recommend(
            _patient_path(file), as_of=when, engine=engine, include_drafts=include_drafts, jurisdiction=jurisdiction
        )
    except ReasonerError as exc:
        _fail(exc)
    if fmt == "json":
        click.echo(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
    elif fmt in ("ttl", "jsonld"):
        click.echo(serialize(result.to_graph(), "turtle" if fmt == "ttl" else "json-ld"), nl=False)
    elif fmt == "html":
        click.echo(result.to_html(audience=audience), nl=False)
    else:
        click.echo(result.to_markdown(audience=audience))


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
    if results:
        gl = results[0].result.guideline
        click.echo(f"guideline {gl.iri} version {gl.version} <{gl.version_iri}>")
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


_GUIDELINE_DIR = click.Path(exists=True, file_okay=False, path_type=Path)


@main.command("check")
@click.argument("path", required=False, type=_GUIDELINE_DIR)
@click.option("--cases", type=_CASES, help="Test cases whose patients are checked for consistency [tests/cases].")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--profile", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Severity overrides.")
@click.option("--no-reasoning", is_flag=True, help="Only the queries and shapes (fast): no load, no consistency.")
def check_command(path: Path | None, cases: Path | None, fmt: str, profile: Path | None, no_reasoning: bool) -> None:
    """Quality control of the guideline files under PATH (default: the bundled ontology/): the QC queries
    (queries/qc/*.rq), the guideline shapes (shapes/guideline.ttl), and OWL 2 RL consistency of the guideline and
    of every test-case patient. Each finding names its severity, file, line and entity. A profile file holds
    `ERROR|WARN|INFO check-name` lines. Exit codes: 0 no ERROR, 1 an ERROR finding, 3 the profile is unusable.

    \b
    Examples:
      reasoner check
      reasoner check ontology --format json
      reasoner check --profile qc-profile.txt --no-reasoning
    """
    try:
        overrides = read_profile(profile) if profile is not None else None
        report = check_guideline(path, cases=cases, profile=overrides, reasoning=not no_reasoning)
    except ReasonerError as exc:
        _fail(exc)
    click.echo(json.dumps(report.to_json(), indent=2) if fmt == "json" else report.to_table())
    sys.exit(1 if report.errors else 0)


@main.command("fmt")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--check", "check_only", is_flag=True, help="Change nothing; exit 1 if a file is not formatted.")
def fmt_command(paths: tuple[Path, ...], check_only: bool) -> None:
    """Write the Turtle files under PATHS (default: the bundled ontology/ and shapes/) in the one canonical layout:
    fixed prefixes, one block per subject in the order subjects are declared, predicates in a fixed order, sorted
    objects. Comments are kept; one that has to move is reported with its line. A file is refused, unchanged, if
    its layout cannot be changed without changing its triples. Exit codes: 0 formatted (or, with --check, nothing
    to do), 1 with --check: a file would change, 3 a file cannot be read or formatted.

    \b
    Examples:
      reasoner fmt
      reasoner fmt --check
      reasoner fmt ontology/lbp/recommendations.ttl
    """
    try:
        results = format_files(paths or (data_dir("ontology"), data_dir("shapes")), check=check_only)
    except ReasonerError as exc:
        _fail(exc)
    for result in results:
        for note in result.notes:
            click.echo(f"note: {note}", err=True)
        if result.changed:
            click.echo(f"{'would reformat' if check_only else 'reformatted'} {result.path}")
    changed = sum(r.changed for r in results)
    click.echo(f"{len(results)} files, {changed} {'to reformat' if check_only else 'reformatted'}")
    sys.exit(1 if check_only and changed else 0)


@main.command("diff")
@click.argument("old")
@click.argument("new", required=False)
@click.option("--impact", "store", help="A cohort store: list the stored patients whose recommendations change.")
@click.option("--path", "under", default="ontology", show_default=True, help="Guideline folder in a git revision.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def diff_command(old: str, new: str | None, store: str | None, under: str, fmt: str) -> None:
    """Compare two versions of the guideline: version IRIs, recommendations added and removed, each changed
    recommendation field by field (eligibility, exclusions, action, target, urgency, grade, sources, review status,
    jurisdiction, ...), and other terms changed. OLD and NEW are guideline directories or git revisions of the
    repository in the current directory (NEW defaults to the bundled ontology/, the working tree in a checkout).
    Exit codes: 0 no difference, 1 differences, 3 a version cannot be read.

    \b
    Examples:
      reasoner diff HEAD~1
      reasoner diff v2026-11-23 HEAD --format json
      reasoner diff old-ontology/ ontology/ --impact cohort.db
    """
    try:
        result = diff_guidelines(old, new or data_dir("ontology"), impact=store, path=under)
    except ReasonerError as exc:
        _fail(exc)
    click.echo(json.dumps(result.to_json(), indent=2) if fmt == "json" else result.to_table())
    sys.exit(0 if result.empty else 1)


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
@click.option("--store", "store", required=True, metavar="DIR|URL", help="Store directory, or a SPARQL server's URL.")
@click.option("--processes", type=click.IntRange(min=1), default=1, show_default=True, help="Worker processes.")
@click.option(
    "--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), callback=_as_of, help="One evaluation date for all."
)
@click.option("--jurisdiction", type=click.Choice(sorted(JURISDICTIONS)), default="US", show_default=True)
@click.option("--dask", "dask", metavar="ADDRESS", help="Reason on this Dask scheduler's cluster, not --processes.")
def batch_command(
    inputs: tuple[Path, ...], store: str, processes: int, as_of: datetime | None, jurisdiction: str, dask: str | None
) -> None:
    """Evaluate every patient in INPUTS (files, directories, or an N-Quads/TriG file with one graph per patient) and
    store each patient's facts and recommendations, with provenance, in its own named graphs (all-or-nothing per
    chunk of patients, so none is ever half-written; a rerun replaces exactly those graphs). Invalid patients are
    listed with the reason, never stored. The store is a directory or the URL of a SPARQL 1.1 server (queries to
    URL/query, updates to URL/update).

    \b
    Examples:
      reasoner batch cohort/ --store cohort.db --processes 2
      reasoner batch patients.nq --store cohort.db --as-of 2026-11-23
      reasoner batch cohort/ --store http://127.0.0.1:7878 --dask tcp://127.0.0.1:8786
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
                dask=dask,
            )
        except ReasonerError as exc:
            _fail(exc)
    click.echo(json.dumps(summary.to_json(), indent=2))
    sys.exit(1 if summary.invalid else 0)


@main.command("query")
@click.argument("query_text", metavar="QUERY")
@click.option("--store", "store", required=True, metavar="DIR|URL", help="Store directory, or a SPARQL server's URL.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "tsv", "json", "xml"]), default="table")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="Bind ?NAME; <...> for an IRI.")
def query_command(query_text: str, store: str, fmt: str, params: tuple[str, ...]) -> None:
    """Run a SPARQL query over a cohort store: a research query by name, a .rq file, or the query text.
    Parameters are bound as RDF terms, never pasted into the text.

    \b
    Examples:
      reasoner query red-flag-prevalence --store cohort.db
      reasoner query provenance-chain --store cohort.db --param patient=<https://example.org/p/1>
      reasoner query 'SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }' --store cohort.db --format csv
      reasoner query urgent-advice --store http://127.0.0.1:7878
    """
    try:
        click.echo(run_query(query_text, store, fmt=fmt, params=params), nl=False)
    except ReasonerError as exc:
        _fail(exc)


@main.command("backup")
@click.argument("store", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(store: Path, file: Path) -> None:
    """Write every quad of the cohort store STORE to FILE (N-Quads, ending with a line that counts and checksums
    them), replacing FILE whole or not at all. Refused while a batch is writing to the store.

    \b
    Examples:
      reasoner backup cohort.db cohort-2026-11-24.nq
    """
    try:
        count = backup(store, file)
    except ReasonerError as exc:
        _fail(exc)
    click.echo(f"{count} quads of {store} backed up to {file}")


@main.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("store", type=click.Path(file_okay=False, path_type=Path))
def restore_command(file: Path, store: Path) -> None:
    """Load the backup FILE into a new cohort store STORE (a directory that does not exist or is empty). A
    truncated or altered backup is refused before anything is written.

    \b
    Examples:
      reasoner restore cohort-2026-11-24.nq cohort-restored.db
    """
    try:
        count = restore(file, store)
    except ReasonerError as exc:
        _fail(exc)
    click.echo(f"{count} quads restored from {file} into {store}")


@main.command("serve")
@click.option("--store", "store", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--cds-hooks", "cds_hooks", is_flag=True, help="Also serve the CDS Hooks services at /cds-services.")
@click.option(
    "--jurisdiction",
    type=click.Choice(sorted(JURISDICTIONS)),
    default="US",
    show_default=True,
    help="Sources the CDS Hooks services apply.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="0: any free port.")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True, help="Seconds per query.")
@click.option("--max-rows", type=click.IntRange(min=1), default=10_000, show_default=True, help="Rows per answer.")
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True, help="Query processes.")
def serve_command(
    store: Path | None,
    cds_hooks: bool,
    jurisdiction: str,
    host: str,
    port: int,
    timeout: float,
    max_rows: int,
    workers: int,
) -> None:
    """Serve the cohort store read-only: a SPARQL 1.1 endpoint at /sparql (GET and POST; JSON, XML, CSV, TSV,
    Turtle) and a query page at /. Updates, SERVICE and FROM are refused; each query runs in a worker process
    under the time limit and row cap (a cut answer is flagged). One more worker is kept for short queries.
    With --cds-hooks, also the CDS Hooks 2.0 services (discovery at /cds-services, patient-view and
    order-select), which evaluate the prefetched FHIR Bundle; --store may then be left out.

    \b
    Examples:
      reasoner serve --store cohort.db                      # http://127.0.0.1:8000/
      reasoner serve --store cohort.db --port 7000 --timeout 10 --max-rows 5000 --workers 4
      curl -H 'Accept: text/csv' 'http://127.0.0.1:8000/sparql' --data-urlencode 'query=ASK { ?s ?p ?o }'
      reasoner serve --cds-hooks --port 8080                # http://127.0.0.1:8080/cds-services
    """

    def ready(server: Server) -> None:
        parts = [f"SPARQL endpoint over {store}: {server.url}sparql"] if store else []
        parts += [f"CDS Hooks: {server.url}cds-services"] if cds_hooks else []
        click.echo(f"serving at {server.url} ({'; '.join(parts)}); Ctrl-C stops", err=True)

    try:
        settings = Settings(timeout=timeout, max_rows=max_rows, workers=workers)
        hooks = None
        if cds_hooks:
            from reasoner.serve.cds_hooks import CdsHooks  # FHIR models take a while to import: only when asked

            hooks = CdsHooks(jurisdiction=jurisdiction)
            settle_heap()  # a long-running process that reasons per request: the guideline is loaded now
        serve(store, host=host, port=port, settings=settings, cds_hooks=hooks, on_ready=ready)
    except ReasonerError as exc:
        _fail(exc)


if __name__ == "__main__":
    main()
