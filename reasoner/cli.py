"""The `reasoner` command line: a thin shell over the library. Library errors become messages and exit codes here.

Exit codes: 0 done, 1 invalid input (the patient file cannot be read or breaks the patient shapes),
2 usage error, 3 the guideline itself is broken.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import NoReturn

import click

from reasoner._paths import data_dir
from reasoner.engine import ENGINES
from reasoner.errors import GuidelineError, InputError, InvalidPatientError, ReasonerError
from reasoner.guideline import load_guideline
from reasoner.patient import load
from reasoner.pipeline import JURISDICTIONS, recommend
from reasoner.validate import check

SEED_CASE = "seed-case.ttl"


def _fail(exc: ReasonerError) -> NoReturn:
    click.echo(f"error: {exc}", err=True)
    sys.exit(1 if isinstance(exc, InputError) else 3)


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


if __name__ == "__main__":
    main()
