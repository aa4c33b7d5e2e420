"""The `reasoner` command line: a thin shell over the library. Library errors become messages and exit codes here.

Exit codes: 0 done, 1 invalid input (the patient file cannot be read or breaks the patient shapes),
2 usage error (including a malformed query, or one stopped at its time or memory limit), 3 the guideline itself is
broken, 4 the cohort store cannot be opened, reached or written. `reasoner test` and `reasoner coverage`: 1 means a
case failed or a recommendation lacks cases, 2 a case file cannot be used.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import NoReturn

import click

from reasoner._paths import data_dir
from reasoner.authoring.cases import run_cases
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
    QueryLimitError,
    ReasonerError,
    StoreError,
)
from reasoner.input.load import load
from reasoner.knowledge.guideline import Guideline, load_guideline
from reasoner.knowledge.modules import ENVIRONMENT, select
from reasoner.output.fhir_plan import fhir_plan
from reasoner.output.report import AUDIENCES
from reasoner.pipeline import JURISDICTIONS, recommend
from reasoner.rdf import limits
from reasoner.rdf.rdfio import serialize
from reasoner.store.backup import backup, restore
from reasoner.store.batch import Progress, batch
from reasoner.store.limited import run_limited
from reasoner.synth.cohort import write_cohort

SEED_CASE = "seed-case.ttl"
# rdflib logs a traceback for every ill-typed literal ("2026-13-45"^^xsd:date); the shapes report it as a violation.
logging.getLogger("rdflib.term").setLevel(logging.ERROR)


def _fail(exc: ReasonerError) -> NoReturn:
    click.echo(f"error: {exc}", err=True)
    if isinstance(exc, StoreError):
        sys.exit(4)
    sys.exit(2 if isinstance(exc, CaseError | QueryError) else 1 if isinstance(exc, InputError) else 3)


def _guideline(paths: tuple[Path, ...]) -> Guideline:
    try:
        return load_guideline(*paths)
    except ReasonerError as exc:
        _fail(exc)


_GUIDELINES = click.option(
    "--guideline",
    "guidelines",
    multiple=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help=f"A guideline module directory (repeatable; its owl:imports come along). Default: ${ENVIRONMENT} "
    "(directories separated by the path separator), else every bundled module.",
)


def _set_fhir_limit(_ctx: click.Context, _param: click.Parameter, value: int | None) -> None:
    if value is not None:
        limits.MAX_FHIR_BYTES = value * 1024 * 1024


_MAX_INPUT_MB = click.option(
    "--max-input-mb",
    type=click.IntRange(min=1),
    callback=_set_fhir_limit,
    expose_value=False,
    is_eager=True,
    help=f"Largest FHIR Bundle read, in MiB of compact JSON (default {limits.MAX_FHIR_BYTES // 2**20}).",
)


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
    type=click.Choice(["md", "html", "json", "ttl", "jsonld", "fhir"]),
    default="md",
    show_default=True,
    help="Output format (html: one self-contained page with a picture of each recommendation's provenance; fhir: "
    "the plan as a FHIR R4 Bundle with a RequestGroup, the requests it proposes and their Provenance).",
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
    help="Where sources conflict, apply the US sources, the UK sources, or both side by side.",
)
@_GUIDELINES
@_MAX_INPUT_MB
def recommend_command(
    file: Path | None,
    as_of: datetime | None,
    fmt: str,
    audience: str,
    engine: str,
    include_drafts: bool,
    jurisdiction: str,
    guidelines: tuple[Path, ...],
) -> None:
    """Evaluate one patient file (Turtle, JSON-LD or a FHIR R4 Bundle) and print the recommendations.

    Without FILE, evaluates the embedded example patient (examples/seed-case.ttl).

    \b
    Examples:
      reasoner recommend
      reasoner recommend examples/seed-case.ttl --format json
      reasoner recommend patient.ttl --as-of 2026-04-01 --format ttl
      reasoner recommend patient.ttl --jurisdiction UK
      reasoner recommend examples/seed-case.fhir.json --format html > report.html
      reasoner recommend examples/seed-case.fhir.json --format fhir > plan.fhir.json
      reasoner recommend patient.fhir.json --audience patient
      reasoner recommend patient.ttl --guideline my-module/ --guideline another-module/
    """
    if audience != "clinician" and fmt not in ("md", "html"):
        raise click.UsageError(f"--audience {audience} applies to the md and html reports, not --format {fmt}")
    when = as_of.date() if as_of is not None else None
    gl = _guideline(guidelines)
    try:
        result = recommend(
            _patient_path(file),
            as_of=when,
            guideline=gl,
            engine=engine,
            include_drafts=include_drafts,
            jurisdiction=jurisdiction,
        )
    except ReasonerError as exc:
        _fail(exc)
    if fmt == "json":
        click.echo(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
    elif fmt == "fhir":
        click.echo(json.dumps(fhir_plan(result, gl), indent=2, ensure_ascii=False))
    elif fmt in ("ttl", "jsonld"):
        click.echo(serialize(result.to_graph(), "turtle" if fmt == "ttl" else "json-ld"), nl=False)
    elif fmt == "html":
        click.echo(result.to_html(audience=audience), nl=False)
    else:
        click.echo(result.to_markdown(audience=audience))


@main.command("validate")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_GUIDELINES
@_MAX_INPUT_MB
def validate_command(file: Path, guidelines: tuple[Path, ...]) -> None:
    """Check a patient file against the patient shapes and the guideline vocabulary; list every problem.

    \b
    Examples:
      reasoner validate examples/seed-case.ttl
    """
    try:
        patient = load(file)
        violations = check(patient, _guideline(guidelines))
    except (InputError, GuidelineError) as exc:
        _fail(exc)
    if violations:
        _fail(InvalidPatientError(str(file), violations))
    click.echo(f"{file}: valid ({len(patient.graph)} triples, patient {patient.iri})")


_CASES = click.Path(exists=True, path_type=Path)


@main.command("test")
@click.argument("paths", nargs=-1, type=_CASES)
@_GUIDELINES
def test_command(paths: tuple[Path, ...], guidelines: tuple[Path, ...]) -> None:
    """Run the guideline test cases: one line per case (PASS, WARN or FAIL), then what each failure expected,
    what happened, and why the recommendations involved fired or were blocked.

    Each PATH is a case file or a directory searched recursively for *.yaml cases (default: the cases/ of every
    module loaded). A should_not expectation that is not met is a warning (WARN) and does not fail the case. Exit codes:
    0 every case passes, 1 a case fails, 2 a case file cannot be used (the file and field are named).

    \b
    Examples:
      reasoner test
      reasoner test my-module/cases
      reasoner test my-module/cases/vignette-*.yaml
      reasoner test --guideline my-module/
    """
    gl = _guideline(guidelines)
    try:
        results = run_cases(paths or None, guideline=gl)
    except ReasonerError as exc:
        _fail(exc)
    for res in results:
        click.echo(res.explain())
    counts = {s: sum(r.status == s for r in results) for s in ("PASS", "WARN", "FAIL")}
    click.echo(f"{len(results)} cases: {counts['PASS']} passed, {counts['WARN']} warned, {counts['FAIL']} failed")
    for module in gl.guidelines:
        click.echo(f"guideline {module.iri} version {module.version} <{module.version_iri}>")
    sys.exit(1 if counts["FAIL"] else 0)


@main.command("coverage")
@click.argument("paths", nargs=-1, type=_CASES)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Output format."
)
@_GUIDELINES
def coverage_command(paths: tuple[Path, ...], fmt: str, guidelines: tuple[Path, ...]) -> None:
    """Show, for every recommendation, the cases where it must fire (and does) and the cases asserting it absent
    (and it is): a must_not by identifier, or by kind/target matching it.

    PATHS are as for `reasoner test`; a case in a module's cases/ covers only that module's recommendations.
    Exit codes: 0 every approved recommendation has both, 1 one lacks a firing or an absent case (listed as
    missing), 2 a case file cannot be used.

    \b
    Examples:
      reasoner coverage
      reasoner coverage my-module/cases --format json
      reasoner coverage --guideline my-module/
    """
    gl = _guideline(guidelines)
    try:
        report = coverage(paths or None, guideline=gl)
    except ReasonerError as exc:
        _fail(exc)
    click.echo(json.dumps(report.to_json(), indent=2) if fmt == "json" else report.to_text())
    sys.exit(1 if report.missing else 0)


_GUIDELINE_DIR = click.Path(exists=True, file_okay=False, path_type=Path)


@main.command("check")
@click.argument("path", required=False, type=_GUIDELINE_DIR)
@_GUIDELINES
@click.option("--cases", type=_CASES, help="Test cases whose patients are checked [the modules' cases/].")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--profile", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Severity overrides.")
@click.option("--no-reasoning", is_flag=True, help="Only the queries and shapes (fast): no load, no consistency.")
def check_command(
    path: Path | None,
    guidelines: tuple[Path, ...],
    cases: Path | None,
    fmt: str,
    profile: Path | None,
    no_reasoning: bool,
) -> None:
    """Quality control of a module set: PATH (a guideline tree or a module directory) and the --guideline
    directories, with what they import (default: as for recommend). Every query file must read as SPARQL; the
    feature rules may name only declared terms; then the QC queries (queries/qc/*.rq), the guideline shapes
    (shapes/guideline.ttl), and OWL 2 RL consistency of the guideline and of every test-case patient. Each finding
    names its severity, file, line and entity. A profile file holds `ERROR|WARN|INFO check-name` lines.
    Exit codes: 0 no ERROR, 1 an ERROR finding, 3 the profile is unusable.

    \b
    Examples:
      reasoner check
      reasoner check ontology --format json
      reasoner check --guideline ontology/ckd --no-reasoning
      reasoner check --profile qc-profile.txt --no-reasoning
    """
    given = (path, *guidelines) if path is not None else guidelines
    try:
        overrides = read_profile(profile) if profile is not None else None
        report = check_guideline(*given, cases=cases, profile=overrides, reasoning=not no_reasoning)
    except ReasonerError as exc:
        _fail(exc)
    click.echo(json.dumps(report.to_json(), indent=2) if fmt == "json" else report.to_table())
    sys.exit(1 if report.errors else 0)


@main.command("fmt")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--check", "check_only", is_flag=True, help="Change nothing; print the diff, exit 1 if a file would change."
)
def fmt_command(paths: tuple[Path, ...], check_only: bool) -> None:
    """Write the Turtle files under PATHS (default: the core's and the bundled modules', and shapes/) in the one
    canonical layout:
    fixed prefixes, one block per subject in the order subjects are declared, predicates in a fixed order, sorted
    objects. Comments are kept; one that has to move is reported with its line. A file is refused, unchanged, if
    its layout cannot be changed without changing its triples. Exit codes: 0 formatted (or, with --check, nothing
    to do), 1 with --check: a file would change (its unified diff is printed), 3 a file cannot be read or formatted.

    \b
    Examples:
      reasoner fmt
      reasoner fmt --check
      reasoner fmt my-module/recommendations.ttl
    """
    try:
        results = format_files(paths or (*select().files, data_dir("shapes")), check=check_only)
    except ReasonerError as exc:
        _fail(exc)
    for result in results:
        for note in result.notes:
            click.echo(f"note: {note}", err=True)
        if result.changed:
            click.echo(f"{'would reformat' if check_only else 'reformatted'} {result.path}")
            if check_only:
                click.echo(result.diff(), nl=False)
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
@_GUIDELINES
def synth_command(count: int, seed: int, out: Path, guidelines: tuple[Path, ...]) -> None:
    """Write COUNT synthetic patients (Turtle, one file each) drawn from the loaded modules' test cases, with fresh
    IRIs and every date moved together; COUNT at least the number of cases draws every case, so every pathway.

    \b
    Examples:
      reasoner synth 1000 --seed 7 --out cohort/
    """
    try:
        paths = write_cohort(_guideline(guidelines), count, out, seed=seed)
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
@_GUIDELINES
@_MAX_INPUT_MB
def batch_command(
    inputs: tuple[Path, ...],
    store: str,
    processes: int,
    as_of: datetime | None,
    jurisdiction: str,
    dask: str | None,
    guidelines: tuple[Path, ...],
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
                guidelines=guidelines,
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
@click.option(
    "--timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True, help="Seconds the query may run."
)
@click.option(
    "--max-memory-mb",
    "memory_mb",
    type=click.IntRange(min=256),
    default=2048,
    show_default=True,
    help="MiB of address space the query process may use.",
)
def query_command(
    query_text: str, store: str, fmt: str, params: tuple[str, ...], timeout: float, memory_mb: int
) -> None:
    """Run a SPARQL query over a cohort store: a research query by name, a .rq file, or the query text.
    Parameters are bound as RDF terms, never pasted into the text. The query runs in a process of its own, as the
    endpoint runs one, stopped (exit code 2) when it runs past --timeout or needs more than --max-memory-mb.

    \b
    Examples:
      reasoner query red-flag-prevalence --store cohort.db
      reasoner query provenance-chain --store cohort.db --param patient=<https://example.org/p/1>
      reasoner query 'SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }' --store cohort.db --format csv
      reasoner query urgent-advice --store http://127.0.0.1:7878
    """
    try:
        text = run_limited(query_text, store, fmt=fmt, params=params, timeout=timeout, memory=memory_mb << 20)
    except QueryLimitError as exc:
        option = (
            f"--timeout SECONDS (now {timeout:g})"
            if exc.limit == "timeout"
            else f"--max-memory-mb MB (now {memory_mb})"
        )
        _fail(QueryError(f"{exc}; raise the limit with {option}, or narrow the query"))
    except ReasonerError as exc:
        _fail(exc)
    click.echo(text, nl=False)


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
@click.option("--hook-workers", type=click.IntRange(min=1), default=1, show_default=True, help="CDS Hooks processes.")
@click.option("--no-union-default-graph", "no_union", is_flag=True, help="The default graph is the store's (empty).")
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="HTTPS: PEM chain.")
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="HTTPS: PEM key.")
@click.option("--allow-origin", "origins", multiple=True, metavar="ORIGIN", help="Allow (and CORS) this origin.")
@click.option("--allow-host", "hosts", multiple=True, metavar="NAME", help="Answer this Host (behind a proxy).")
@click.option("--cds-jwks", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="EHR's JWK Set.")
@click.option("--cds-issuer", "issuers", multiple=True, metavar="ISS", help="Trusted JWT issuer (iss).")
@click.option("--insecure-no-auth", "no_auth", is_flag=True, help="CDS Hooks without JWT (default on loopback).")
@_GUIDELINES
def serve_command(
    store: Path | None,
    cds_hooks: bool,
    jurisdiction: str,
    host: str,
    port: int,
    timeout: float,
    max_rows: int,
    workers: int,
    hook_workers: int,
    no_union: bool,
    tls_cert: Path | None,
    tls_key: Path | None,
    origins: tuple[str, ...],
    hosts: tuple[str, ...],
    cds_jwks: Path | None,
    issuers: tuple[str, ...],
    no_auth: bool,
    guidelines: tuple[Path, ...],
) -> None:
    """Serve the cohort store read-only: a SPARQL 1.1 endpoint at /sparql (GET, HEAD, POST; JSON, XML, CSV, TSV,
    Turtle, N-Triples, RDF/XML) whose default graph is the union of the store's named graphs, and a query page at
    /. Updates, SERVICE and FROM are refused; each query runs in a worker process under the time limit; an answer
    over the row cap is refused, never cut. A batch cannot write the store while it is served. Cross-origin
    requests are refused unless --allow-origin names the origin. With --cds-hooks, also the CDS Hooks 2.0
    services (discovery at /cds-services, patient-view and order-select), in their own worker processes; calls
    must carry the EHR's JWT, checked against --cds-jwks (and --cds-issuer), except with --insecure-no-auth, the
    default on a loopback address. --store may then be left out.

    \b
    Examples:
      reasoner serve --store cohort.db                      # http://127.0.0.1:8000/
      reasoner serve --store cohort.db --port 7000 --timeout 10 --max-rows 5000 --workers 4
      curl -H 'Accept: text/csv' 'http://127.0.0.1:8000/sparql' --data-urlencode 'query=ASK { ?s ?p ?o }'
      reasoner query urgent-advice --store http://127.0.0.1:8000/sparql
      reasoner serve --cds-hooks --host 0.0.0.0 --port 8443 --tls-cert cert.pem --tls-key key.pem \\
                     --cds-jwks ehr-keys.json --cds-issuer https://ehr.example.org
    """
    from reasoner.serve import Access, Authorisation, HookOptions, Server, Settings, Tls, access_log, make_app
    from reasoner.serve._asgi import is_loopback

    if (tls_cert is None) != (tls_key is None):
        raise click.UsageError("give both --tls-cert and --tls-key, or neither")
    if guidelines:  # the CDS Hooks worker processes load the modules named in the environment
        _guideline(guidelines)  # refused here, at once, if broken
        os.environ[ENVIRONMENT] = os.pathsep.join(str(g.resolve()) for g in guidelines)
    if issuers and cds_jwks is None:
        raise click.UsageError(
            "--cds-issuer needs --cds-jwks FILE: the EHR's public keys (from its jku URL), saved locally; the "
            "service fetches nothing"
        )
    if cds_hooks and cds_jwks is None and not no_auth and not is_loopback(host):
        raise click.UsageError(
            f"CDS Hooks on {host} (not loopback) need authorisation: give --cds-jwks FILE (CDS Hooks 2.0 JWTs), or "
            "--insecure-no-auth to serve them to anyone who can connect"
        )

    def ready(server: Server) -> None:
        parts = [f"SPARQL endpoint over {store}: {server.url}sparql"] if store else []
        parts += [f"CDS Hooks: {server.url}cds-services"] if cds_hooks else []
        click.echo(f"serving at {server.url} ({'; '.join(parts)}); Ctrl-C stops", err=True)

    try:
        settings = Settings(
            timeout=timeout,
            max_rows=max_rows,
            workers=workers,
            hook_workers=hook_workers,
            union_default_graph=not no_union,
        )
        hooks = None
        if cds_hooks:
            auth = Authorisation(cds_jwks, issuers) if cds_jwks is not None and not no_auth else None
            hooks = HookOptions(jurisdiction=jurisdiction, authorisation=auth)
        app = make_app(store, settings=settings, hooks=hooks, access=Access(origins, hosts))
        tls = Tls(tls_cert, tls_key) if tls_cert is not None and tls_key is not None else None
        try:
            server = Server(app, host=host, port=port, tls=tls)
        except BaseException:
            app.close()
            raise
        access_log()
        server.run(on_ready=ready)
    except ReasonerError as exc:
        _fail(exc)


if __name__ == "__main__":
    main()
