"""Impossible or contradictory facts are refused, never reasoned over (reasoner/engine/plausibility.py): a finding
present and absent on the same date, an onset or exposure start after the assessment or evaluation date or before
birth, an evaluation date outside 1900-2200, and the same patient in two inputs of one batch."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

import reasoner
from reasoner.cli import main
from reasoner.errors import InvalidPatientError, ReasonerError
from reasoner.store.batch import batch
from reasoner.store.cohort import Rows, open_store, query

ROOT = Path(__file__).resolve().parent.parent
SEED_PATH = ROOT / "examples" / "seed-case.ttl"
SEED = SEED_PATH.read_text()
EX = "https://example.org/patient/seed-v02/"


def _refused(text: str, **options: object) -> InvalidPatientError:
    with pytest.raises(InvalidPatientError) as caught:
        reasoner.recommend(text, **options)  # type: ignore[arg-type]
    return caught.value


def test_a_finding_present_and_absent_on_the_same_date_is_refused_naming_both_records() -> None:
    text = (
        SEED
        + 'ex:fever-now a gr:FindingRecord, vocab:Fever ; gr:status gr:Present ; gr:onset "2026-03-20"^^xsd:date .\n'
    )
    text = text.replace("ex:gi-bleed ;", "ex:gi-bleed, ex:fever-now ;")
    error = _refused(text)
    message = str(error)
    assert EX + "fever-now" in message and EX + "fever" + " " in message.replace(EX + "fever-now", "")
    assert "present" in message and "absent" in message and "2026-03-22" in message


def test_present_and_absent_on_different_dates_or_sides_are_accepted() -> None:
    earlier = SEED.replace(
        "ex:fever a gr:FindingRecord, vocab:Fever ; gr:status gr:Absent .",
        'ex:fever a gr:FindingRecord, vocab:Fever ; gr:status gr:Absent ; gr:recordedOn "2026-03-02"^^xsd:date .\n'
        'ex:fever-now a gr:FindingRecord, vocab:Fever ; gr:status gr:Present ; gr:recordedOn "2026-03-22"^^xsd:date .',
    ).replace("ex:gi-bleed ;", "ex:gi-bleed, ex:fever-now ;")
    other_side = SEED.replace("ex:gi-bleed ;", "ex:gi-bleed, ex:left ;") + (
        "ex:left a gr:FindingRecord, vocab:Sciatica ; gr:status gr:Absent ; gr:laterality gr:Left .\n"
    )
    assert reasoner.recommend(earlier).recommendations
    assert reasoner.recommend(other_side).recommendations


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('gr:onset "2026-03-02"', 'gr:onset "2026-03-23"', "after the assessment date 2026-03-22"),
        ('gr:onset "2026-03-02"', 'gr:onset "1980-06-14"', "before the birth date 1980-06-15"),
        ('gr:start "2026-03-05"', 'gr:start "2026-04-01"', "after the assessment date 2026-03-22"),
        ('gr:start "2026-03-05"', 'gr:start "1979-01-01"', "before the birth date 1980-06-15"),
        ('gr:birthDate "1980-06-15"', 'gr:birthDate "2026-03-23"', "after the assessment date"),
        ('gr:assessedOn "2026-03-22"', 'gr:assessedOn "0001-01-01"', "outside 1900-01-01 to 2200-12-31"),
    ],
    ids=["onset after assessment", "onset before birth", "start after assessment", "start before birth",
         "born after assessment", "assessed in year 1"],
)  # fmt: skip
def test_a_date_that_cannot_be_is_refused(old: str, new: str, expected: str) -> None:
    assert old in SEED
    assert expected in str(_refused(SEED.replace(old, new)))


def test_an_onset_after_the_evaluation_date_is_refused() -> None:
    """The seed's weakness began on 2026-03-18: evaluated as of 03-10 it would count a weakness not yet there."""
    error = _refused(SEED, as_of=date(2026, 3, 10))
    assert EX + "weakness-day17" in str(error) and "after the evaluation date 2026-03-10" in str(error)
    assert reasoner.recommend(SEED, as_of=date(2026, 3, 18)).recommendations  # on the day itself it is fine


@pytest.mark.parametrize("day", [date(1, 1, 1), date(1899, 12, 31), date(2201, 1, 1)])
def test_an_as_of_outside_1900_to_2200_is_a_usage_error(day: date, tmp_path: Path) -> None:
    with pytest.raises(ReasonerError, match="outside 1900-01-01 to 2200-12-31"):
        reasoner.recommend(SEED, as_of=day)
    with pytest.raises(ReasonerError, match="outside"):
        batch([SEED_PATH], tmp_path / "store", as_of=day)
    runner = CliRunner()
    for command in (
        ["recommend", "--as-of", day.isoformat()],
        ["batch", str(SEED_PATH), "--store", str(tmp_path / "s"), "--as-of", day.isoformat()],
    ):
        result = runner.invoke(main, command)
        assert result.exit_code == 2, result.output
        assert "outside 1900-01-01 to 2200-12-31" in result.output  # fmt: skip


def test_the_same_patient_in_two_inputs_of_a_batch_keeps_the_first_and_names_the_second(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "a.ttl").write_text(SEED)
    (inputs / "b.ttl").write_text(SEED.replace("gr:value 95.0", "gr:value 20.0"))  # the same IRI, other facts
    summary = batch([inputs], tmp_path / "store")
    assert summary.done == 1
    (refused,) = summary.invalid
    assert refused.source == str(inputs / "b.ttl")
    assert str(inputs / "a.ttl") in refused.reason and "https://example.org/patient/seed-v02" in refused.reason
    assert "already read from" in refused.reason
    with open_store(tmp_path / "store", read_only=True) as stored:
        values = query(stored, "SELECT ?v WHERE { GRAPH ?g { ?m gr:value ?v } }")
    assert isinstance(values, Rows)
    assert {Decimal(str(v)) for v in values.column("v")} == {Decimal(95)}  # the first input's facts, not the second's
    assert json.loads(json.dumps(summary.to_json()))["invalid"][0]["source"] == str(inputs / "b.ttl")


def test_a_second_input_refused_for_its_own_reason_keeps_that_reason(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "a.ttl").write_text(SEED)
    (inputs / "b.ttl").write_text(SEED.replace("gr:sex gr:Female", "gr:sex gr:Nope"))
    summary = batch([inputs], tmp_path / "store")
    (refused,) = summary.invalid
    assert "sex must be one of" in refused.reason and "already read" not in refused.reason
