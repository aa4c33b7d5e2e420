"""`--audience patient`: the same reasoning as the clinician report, in plain language authored in the ontology,
without identifiers, grades, conditions, pitfalls or recommendations marked for clinicians only."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from rdflib import Literal, URIRef

import reasoner
from reasoner.cli import main
from reasoner.namespaces import GR
from reasoner.output.report import markdown
from tests.conftest import SEED


def test_patient_report_has_the_same_recommendations_in_plain_language(seed_result: reasoner.Recommendations) -> None:
    gl = reasoner.load_guideline()
    report = seed_result.to_markdown(audience="patient")
    for rec in seed_result.recommendations:
        node = URIRef(rec.id)
        if (node, GR.clinicianOnly, Literal(True)) in gl.graph:
            assert rec.patient_label is None and rec.label not in report
            continue
        assert rec.patient_label == str(gl.graph.value(node, GR.patientLabel))  # authored in the ontology
        assert rec.patient_explanation == str(gl.graph.value(node, GR.patientExplanation))
        assert rec.patient_label in report and rec.patient_explanation in report
        assert rec.label not in report  # the clinical wording stays in the clinician report
    assert not re.search(r"LBP-[A-Z]+-\d", report)
    for clinician_only in ("Grade", "Condition:", "Because:", "Project-defined", seed_result.patient):
        assert clinician_only not in report
    assert all(p not in report for r in seed_result.recommendations for p in r.pitfalls)
    assert all(s.label not in report for s in seed_result.suppressed)
    assert report.startswith("# Within the next day or two: have an MRI scan of your lower back; see a spine surgeon")


def test_missing_red_flags_become_questions_in_plain_language(seed_result: reasoner.Recommendations) -> None:
    report = seed_result.to_markdown(audience="patient")
    assert seed_result.missing
    for m in seed_result.missing:
        assert m.patient_label and m.patient_label in report and m.label not in report


def test_the_audience_does_not_change_the_reasoning() -> None:
    runner = CliRunner()
    clinician = runner.invoke(main, ["recommend", str(SEED)])
    patient = runner.invoke(main, ["recommend", str(SEED), "--audience", "patient"])
    assert clinician.exit_code == 0 and patient.exit_code == 0
    result = reasoner.recommend(SEED)
    assert clinician.output.rstrip("\n") == markdown(result).rstrip("\n")
    assert patient.output.rstrip("\n") == markdown(result, audience="patient").rstrip("\n")
    html = runner.invoke(main, ["recommend", str(SEED), "--format", "html", "--audience", "patient"])
    assert html.exit_code == 0 and "have an MRI scan of your lower back" in html.output


def test_unknown_audience_is_refused() -> None:
    result = reasoner.recommend(SEED)
    with pytest.raises(reasoner.ReasonerError, match="unknown audience 'family'"):
        result.to_markdown(audience="family")
    with pytest.raises(reasoner.ReasonerError, match="unknown audience 'family'"):
        result.to_html(audience="family")
    out = CliRunner().invoke(main, ["recommend", "--format", "json", "--audience", "patient"])
    assert out.exit_code == 2 and "applies to the md and html reports" in out.output
