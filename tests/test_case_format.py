"""The test-case format itself (reasoner.authoring.cases, reasoner.authoring.coverage, `reasoner test`,
`reasoner coverage`), on small case files written to a temporary directory."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner
from rdflib import Namespace

from reasoner import load_guideline
from reasoner.authoring.cases import CaseResult, load_case, load_cases, run_case
from reasoner.authoring.coverage import coverage
from reasoner.cli import main
from reasoner.errors import CaseError, InputError
from reasoner.namespaces import GR, VOCAB

LBP = Namespace("https://w3id.org/guideline-reasoner/lbp#")

NEGATIVES = {
    "bladder": "BladderDysfunction",
    "bowel": "BowelDysfunction",
    "saddle": "SaddleAnaesthesia",
    "sexual": "SexualDysfunction",
    "bilateral": "BilateralLegSymptoms",
    "cancer": "HistoryOfCancer",
    "weight-loss": "UnexplainedWeightLoss",
    "fever": "Fever",
    "ivdu": "IntravenousDrugUse",
    "immuno": "Immunosuppression",
    "steroids": "LongTermSteroidUse",
    "trauma": "SignificantTrauma",
}


def patient(*, skip: tuple[str, ...] = (), extra: str = "", onset: str = "2026-05-01") -> str:
    """Acute low back pain (no leg pain) with every red flag documented negative except those in `skip`."""
    kept = [k for k in NEGATIVES if k not in skip]
    lines = [
        "@prefix ex: <https://example.org/p/> .",
        '<https://example.org/p> a gr:Patient ; gr:birthDate "1990-01-01"^^xsd:date ;',
        "    gr:hasFinding ex:pain, ex:leg, " + ", ".join(f"ex:{k}" for k in kept) + " .",
        f'ex:pain a gr:FindingRecord, vocab:LowBackPain ; gr:status gr:Present ; gr:onset "{onset}"^^xsd:date .',
        "ex:leg a gr:FindingRecord, vocab:RadicularLegPain ; gr:status gr:Absent .",
    ]
    lines += [f"ex:{k} a gr:FindingRecord, vocab:{NEGATIVES[k]} ; gr:status gr:Absent ." for k in kept]
    return "\n".join(lines) + "\n" + extra


def write(directory: Path, name: str, body: str, *, turtle: str | None = None) -> Path:
    """A case file `name`.yaml: `body` (YAML fields) plus, unless given in the body, the inline `turtle` patient."""
    path = directory / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = textwrap.dedent(body).strip() + "\n"
    if "patient" not in text:
        text += "patient: |\n" + textwrap.indent(turtle if turtle is not None else patient(), "  ")
    path.write_text(text)
    return path


def run(directory: Path, name: str, body: str, **kw: str) -> CaseResult:
    return run_case(load_case(write(directory / "lbp", name, body, **kw)))


HEAD = "name: acute back pain\nas_of: 2026-05-04\n"


# -- loading ---------------------------------------------------------------------------------------------------


def test_a_case_loads_with_defaults_and_inline_prefixes(tmp_path: Path) -> None:
    case = load_case(write(tmp_path / "lbp", "minimal", HEAD + "must: [LBP-IMG-01]"))
    assert (case.name, case.as_of.isoformat(), case.jurisdiction, case.include_drafts) == (
        "acute back pain",
        "2026-05-04",
        "US",
        False,
    )
    assert case.id == "lbp/minimal" and case.description is None
    assert case.expectations.must[0].identifier == "LBP-IMG-01"
    assert (case.patient.iri, GR.hasFinding, None) in case.patient.graph


def test_patient_file_is_relative_to_the_case(tmp_path: Path) -> None:
    (tmp_path / "patients").mkdir()
    turtle = "@prefix gr: <https://w3id.org/guideline-reasoner/core#> .\n"
    turtle += "@prefix vocab: <https://w3id.org/guideline-reasoner/vocab#> .\n"
    turtle += "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n" + patient()
    (tmp_path / "patients" / "p.ttl").write_text(turtle)
    case = load_case(write(tmp_path / "lbp", "from-file", HEAD + "patient_file: ../patients/p.ttl\nmust: [LBP-IMG-02]"))
    assert Path(case.patient.source).resolve() == (tmp_path / "patients" / "p.ttl").resolve()
    assert run_case(case).status == "PASS"


def test_load_cases_is_recursive_sorted_and_lists_every_broken_file(tmp_path: Path) -> None:
    write(tmp_path / "b", "second", HEAD + "must: [LBP-IMG-01]")
    write(tmp_path / "a", "first", HEAD + "must: [LBP-IMG-01]")
    assert [c.id for c in load_cases(tmp_path)] == ["a/first", "b/second"]
    write(tmp_path / "a", "broken-1", HEAD + "must: [LBP-NOPE-01]")
    write(tmp_path / "b", "broken-2", HEAD + "colour: blue\nmust: [LBP-IMG-01]")
    with pytest.raises(CaseError) as info:
        load_cases(tmp_path)
    assert "2 broken case files" in str(info.value)
    assert "broken-1.yaml: must (item 1)" in str(info.value) and "broken-2.yaml: colour" in str(info.value)


@pytest.mark.parametrize(
    ("body", "field", "hint"),
    [
        (HEAD + "colour: blue\nmust: [LBP-IMG-01]", "colour", "unknown field; expected one of name,"),
        (
            "name: x\nas_of: 2026-02-30\nmust: [LBP-IMG-01]",
            "as_of",
            "2026-02-30 is not a calendar date; expected YYYY-MM-DD",
        ),
        ("name: x\nas_of: yesterday\nmust: [LBP-IMG-01]", "as_of", "'yesterday' is not a date; expected YYYY-MM-DD"),
        ("name: x\nas_of: 2026-05-04 10:00:00\nmust: [LBP-IMG-01]", "as_of", "is not a date; expected YYYY-MM-DD"),
        ("name: x\nmust: [LBP-IMG-01]", "as_of", "missing; expected the evaluation date as YYYY-MM-DD"),
        ("as_of: 2026-05-04\nmust: [LBP-IMG-01]", "name", "expected a line of text"),
        (HEAD + "must: [LBP-IMG-4]", "must (item 1)", "unknown recommendation identifier 'LBP-IMG-4' (did you mean"),
        (HEAD + "must_not: [LBP-IMG-01, LBP-XYZ]", "must_not (item 2)", "unknown recommendation identifier"),
        (HEAD + "suppressed: [LBP-NOPE]", "suppressed (item 1)", "unknown recommendation identifier"),
        (HEAD + "must: [{kind: order, target: lpb:MRILumbarSpine}]", "must (item 1) target", "unknown prefix"),
        (
            HEAD + "must: [{kind: order, target: lbp:MRIOfTheMoon}]",
            "must (item 1) target",
            "not a term of the guideline",
        ),
        (HEAD + "must: [{kind: prescribe}]", "must (item 1)", "kind 'prescribe'; expected one of order, refer"),
        (HEAD + "must: [{kind: order, urgency: urgent}]", "must (item 1)", "unknown key 'urgency'"),
        (HEAD + "must: LBP-IMG-01", "must", "expected a list"),
        (HEAD + "jurisdiction: EU\nmust: [LBP-IMG-01]", "jurisdiction", "'EU'; expected one of US, UK, both"),
        (HEAD + "include_drafts: maybe\nmust: [LBP-IMG-01]", "include_drafts", "expected true or false"),
        (HEAD + "patient_file: missing.ttl\nmust: [LBP-IMG-01]", "patient_file", "does not exist"),
        (HEAD + "missing: [{field: vocab:Fever, for: [LBP-IMG-01]}]", "missing (item 1)", "expected a field (CURIE)"),
        (HEAD + "missing: [{field: vocab:Fever, needed_for: [LBP-IMG-1]}]", "missing (item 1) needed_for", "unknown"),
        (HEAD + "must: []", None, "no expectations"),
        (HEAD + "must: [LBP-IMG-01\n", None, "not valid YAML"),
    ],
)
def test_bad_input_names_the_file_the_field_and_what_was_expected(
    tmp_path: Path, body: str, field: str | None, hint: str
) -> None:
    path = write(tmp_path, "bad", body)
    with pytest.raises(CaseError) as info:
        load_case(path)
    assert isinstance(info.value, InputError)
    assert str(info.value).startswith(f"{path}: {field}: " if field else f"{path}: ")
    assert hint in str(info.value)
    assert info.value.field == field


def test_both_patient_and_patient_file_is_an_error(tmp_path: Path) -> None:
    path = write(
        tmp_path, "both", HEAD + "patient_file: p.ttl\nmust: [LBP-IMG-01]\npatient: |\n  <urn:p> a gr:Patient .\n"
    )
    with pytest.raises(
        CaseError, match=re.escape("patient: expected exactly one of patient (inline Turtle) or patient_file")
    ):
        load_case(path)


def test_unreadable_turtle_reports_the_line_within_the_patient_block(tmp_path: Path) -> None:
    turtle = "@prefix ex: <https://example.org/p/> .\n<https://example.org/p> a gr:Patient ;\n    gr:birthDate .\n"
    with pytest.raises(CaseError) as info:
        load_case(write(tmp_path, "broken", HEAD + "must: [LBP-IMG-01]", turtle=turtle))
    assert info.value.field == "patient" and "unreadable Turtle" in str(info.value)
    assert "at line 3 " in str(info.value)


def test_patient_breaking_the_shapes_is_reported_at_load(tmp_path: Path) -> None:
    turtle = patient().replace(' ; gr:onset "2026-05-01"^^xsd:date', "")
    with pytest.raises(CaseError) as info:
        load_case(write(tmp_path, "shapes", HEAD + "must: [LBP-IMG-01]", turtle=turtle))
    assert info.value.field == "patient" and "breaks the patient shapes" in str(info.value)
    assert "needs gr:onset or gr:recordedOn" in str(info.value)


# -- running ---------------------------------------------------------------------------------------------------


def test_passing_case(tmp_path: Path) -> None:
    body = HEAD + "must: [LBP-IMG-01, LBP-IMG-02, LBP-MED-01]\nmust_not: [LBP-IMG-04, {kind: order}]"
    result = run(tmp_path, "pass", body)
    assert (result.status, result.passed, result.failures, result.warnings) == ("PASS", True, (), ())
    assert result.explain() == "PASS lbp/pass: acute back pain (as of 2026-05-04)"


def test_failing_must_says_what_applied_and_why_it_did_not(tmp_path: Path) -> None:
    result = run(tmp_path, "must", HEAD + "must: [LBP-IMG-04]")
    assert result.status == "FAIL" and not result.passed
    (unmet,) = result.failures
    assert (unmet.field, unmet.expectation) == ("must", "LBP-IMG-04")
    assert unmet.expected == "a recommendation matching LBP-IMG-04 applies"
    assert unmet.actual.startswith("applied: ") and "LBP-IMG-01" in unmet.actual
    assert unmet.details == (
        "LBP-IMG-04 did not apply: the patient is not in lbp:ProgressiveMotorDeficitPatient "
        "(patient with a progressive or severe motor deficit)",
    )
    text = result.explain()
    assert text.startswith("FAIL ") and "must: LBP-IMG-04" in text and "expected: " in text and "actual:" in text


def test_failing_must_names_what_blocked_an_eligible_recommendation(tmp_path: Path) -> None:
    result = run(tmp_path, "blocked", HEAD + "must: [LBP-IMG-01]", turtle=patient(skip=("fever",)))
    (unmet,) = result.failures
    (detail,) = unmet.details
    assert detail.startswith("LBP-IMG-01 was eligible but blocked by patient with a red flag present or unknown")
    assert "fever: not documented (unknown)" in detail


def test_failing_must_not_explains_what_fired(tmp_path: Path) -> None:
    result = run(tmp_path, "must-not", HEAD + "must_not: [LBP-IMG-01]")
    (unmet,) = result.failures
    assert (unmet.field, unmet.actual) == ("must_not", "applied: LBP-IMG-01")
    (detail,) = unmet.details
    assert detail.startswith("LBP-IMG-01 [avoid lbp:LumbarSpineImaging] No routine imaging")
    assert "because: low back pain (present, since 2026-05-01)" in detail and "via: lbp:LowBackPainPatient" in detail


def test_should_not_is_a_warning_and_does_not_fail_the_case(tmp_path: Path) -> None:
    result = run(tmp_path, "warn", HEAD + "must: [LBP-IMG-01]\nshould_not: [LBP-NONPHARM-02, LBP-IMG-04]")
    assert (result.status, result.passed, result.failures) == ("WARN", True, ())
    (warning,) = result.warnings
    assert (warning.field, warning.expectation, warning.actual) == (
        "should_not",
        "LBP-NONPHARM-02",
        "applied: LBP-NONPHARM-02",
    )
    assert "(warning) should_not: LBP-NONPHARM-02" in result.explain()


def test_suppressed_expectation(tmp_path: Path) -> None:
    ok = run(tmp_path, "sup-ok", HEAD + "suppressed: [LBP-IMG-01, LBP-IMG-02]", turtle=patient(skip=("fever",)))
    assert ok.status == "PASS"
    bad = run(tmp_path, "sup-bad", HEAD + "suppressed: [LBP-IMG-01, LBP-REF-02]")
    first, second = bad.failures
    assert (first.field, first.expectation, first.actual) == ("suppressed", "LBP-IMG-01", "it applied")
    assert (second.expectation, second.actual) == ("LBP-REF-02", "it was neither applied nor suppressed")


def test_missing_needed_for_lists_what_the_field_must_be_needed_for(tmp_path: Path) -> None:
    body = HEAD + "missing: [{field: vocab:Fever, needed_for: [LBP-IMG-01, LBP-IMG-02]}]"
    assert run(tmp_path, "needed-ok", body, turtle=patient(skip=("fever",))).status == "PASS"
    body = HEAD + "missing: [{field: vocab:Fever, needed_for: [LBP-IMG-01, LBP-MED-01]}]"
    (unmet,) = run(tmp_path, "needed-bad", body, turtle=patient(skip=("fever",))).failures
    assert (unmet.field, unmet.expectation) == ("missing", "vocab:Fever")
    assert unmet.expected == "vocab:Fever reported missing, needed for LBP-IMG-01, LBP-MED-01"
    assert unmet.actual.startswith("needed for ") and "LBP-IMG-01" in unmet.actual


def test_kind_and_target_match_concrete_targets_and_classes_of_targets(tmp_path: Path) -> None:
    body = HEAD + textwrap.dedent(
        """
        must:
          - {kind: avoid, target: gr:ImagingProcedure}
          - {kind: avoid, target: lbp:LumbarSpineImaging}
          - {kind: start, target: vocab:NSAID}
          - {target: vocab:OralNSAID}
          - {kind: educate}
        must_not:
          - {kind: order}
          - {kind: order, target: gr:ImagingProcedure}
          - {kind: start, target: vocab:Opioid}
          - {kind: stop, target: vocab:NSAID}
        """
    )
    assert run(tmp_path, "classes", body).status == "PASS"
    result = run(tmp_path, "classes-fail", HEAD + "must_not: [{kind: start, target: vocab:NSAID}, {target: gr:Target}]")
    assert [u.expectation for u in result.failures] == ["{kind: start, target: vocab:NSAID}", "{target: gr:Target}"]
    assert result.failures[0].actual == "applied: LBP-MED-01"


def test_target_members_follow_the_guideline_closure() -> None:
    gl = load_guideline()
    nsaids = gl.members(str(VOCAB.NSAID))
    assert {
        str(VOCAB.NSAID),
        str(VOCAB.OralNSAID),
        str(VOCAB.ketorolac),
        str(VOCAB.ibuprofen),
        str(VOCAB.aspirin),
    } <= nsaids
    assert str(VOCAB.tramadol) not in nsaids
    imaging = gl.members(str(GR.ImagingProcedure))
    assert {str(LBP.MRILumbarSpineWithoutContrast), str(LBP.LumbarSpineImaging)} <= imaging
    assert gl.members(str(VOCAB.ketorolac)) == frozenset({str(VOCAB.ketorolac)})


def test_via_matches_the_classes_of_the_explanation(tmp_path: Path) -> None:
    body = (
        HEAD + "must: [{id: LBP-MED-01, via: lbp:AcuteEpisode}]\nmust_not: [{id: LBP-MED-01, via: lbp:ChronicEpisode}]"
    )
    assert run(tmp_path, "via", body).status == "PASS"
    result = run(tmp_path, "via-fail", HEAD + "must: [{id: LBP-MED-01, via: lbp:SubacuteEpisode}]")
    (unmet,) = result.failures
    (detail,) = unmet.details
    assert detail.startswith("applied, but not via lbp:SubacuteEpisode: LBP-MED-01 [start vocab:OralNSAID]")


def test_the_case_date_and_jurisdiction_are_used(tmp_path: Path) -> None:
    acute = run(tmp_path, "day-27", "name: d\nas_of: 2026-05-28\nmust: [LBP-IMG-02]")
    subacute = run(tmp_path, "day-28", "name: d\nas_of: 2026-05-29\nmust_not: [LBP-IMG-02]")
    assert (acute.status, subacute.status) == ("PASS", "PASS")
    assert (acute.result.as_of, subacute.result.as_of) == ("2026-05-28", "2026-05-29")
    uk = run(tmp_path, "uk", HEAD + "jurisdiction: UK\ninclude_drafts: true\nmust: [LBP-IMG-01]")
    assert (uk.result.jurisdiction, uk.case.include_drafts) == ("UK", True)


# -- coverage --------------------------------------------------------------------------------------------------


def test_coverage_counts_firing_and_absent_cases(tmp_path: Path) -> None:
    write(tmp_path / "m", "fires", HEAD + "must: [LBP-IMG-01, LBP-IMG-04]")
    write(tmp_path / "m", "absent", HEAD + "must_not: [{kind: order, target: gr:ImagingProcedure}]")
    write(tmp_path / "m", "via-only", HEAD + "must_not: [{id: LBP-MED-01, via: lbp:ChronicEpisode}]")
    write(tmp_path / "m", "fired-anyway", HEAD + "must_not: [LBP-IMG-01]")
    report = coverage(tmp_path)
    rows = {r.identifier: r for r in report.rows}
    assert report.cases == 4
    assert (rows["LBP-IMG-01"].firing, rows["LBP-IMG-01"].absent) == (("m/fires",), ())
    assert rows["LBP-IMG-04"].firing == () and rows["LBP-IMG-04"].absent == ("m/absent",)
    assert rows["LBP-IMG-06"].absent == ("m/absent",)
    assert rows["LBP-MED-01"].absent == ()
    assert rows["LBP-IMG-01"].review_status == "approved"
    assert "LBP-IMG-01" in report.missing and "LBP-IMG-04" in report.missing and "LBP-REF-02" in report.missing
    data = report.to_json()
    assert data["missing"] == list(report.missing) and data["cases"] == 4
    assert {"identifier": "LBP-IMG-01", "review_status": "approved", "firing": ["m/fires"], "absent": []} in data[
        "recommendations"
    ]
    assert report.to_text().splitlines()[-1].startswith(f"missing ({len(report.missing)}): ")


def test_coverage_accepts_results_already_run(tmp_path: Path) -> None:
    result = run(tmp_path, "one", HEAD + "must: [LBP-IMG-01]\nmust_not: [LBP-IMG-04]")
    report = coverage([result])
    rows = {r.identifier: r for r in report.rows}
    assert rows["LBP-IMG-01"].firing == (result.case.id,) and rows["LBP-IMG-04"].absent == (result.case.id,)


# -- command line ----------------------------------------------------------------------------------------------


def test_reasoner_test_passes(tmp_path: Path) -> None:
    write(tmp_path / "lbp", "ok", HEAD + "must: [LBP-IMG-01]")
    write(tmp_path / "lbp", "warned", HEAD + "should_not: [LBP-IMG-01]")
    out = CliRunner().invoke(main, ["test", str(tmp_path)])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert lines[0] == "PASS lbp/ok: acute back pain (as of 2026-05-04)"
    assert lines[1] == "WARN lbp/warned: acute back pain (as of 2026-05-04)"
    assert lines[-3] == "2 cases: 1 passed, 1 warned, 0 failed"
    assert [line.split(" version ")[0] for line in lines[-2:]] == [  # what was tested: every module loaded
        "guideline https://w3id.org/guideline-reasoner/lbp",
        "guideline https://w3id.org/guideline-reasoner/ckd",
    ]


def test_reasoner_test_fails_with_expected_actual_and_explanation(tmp_path: Path) -> None:
    write(tmp_path / "lbp", "ok", HEAD + "must: [LBP-IMG-01]")
    write(tmp_path / "lbp", "wrong", HEAD + "must: [LBP-IMG-04]\nmust_not: [LBP-IMG-02]")
    out = CliRunner().invoke(main, ["test", str(tmp_path)])
    assert out.exit_code == 1
    assert "FAIL lbp/wrong: acute back pain" in out.output
    assert "expected: a recommendation matching LBP-IMG-04 applies" in out.output
    assert "LBP-IMG-02 [avoid lbp:LumbarSpineImaging]" in out.output and "because: " in out.output
    assert out.output.splitlines()[-3] == "2 cases: 1 passed, 0 warned, 1 failed"
    single = CliRunner().invoke(main, ["test", str(tmp_path / "lbp" / "ok.yaml")])
    assert single.exit_code == 0 and "1 cases: 1 passed" in single.output


def test_reasoner_test_usage_errors_exit_2(tmp_path: Path) -> None:
    bad = write(tmp_path, "bad", HEAD + "must: [LBP-IMG-99]")
    out = CliRunner().invoke(main, ["test", str(bad)])
    assert out.exit_code == 2
    assert f"{bad}: must (item 1): unknown recommendation identifier 'LBP-IMG-99'" in out.output
    assert CliRunner().invoke(main, ["test", str(tmp_path / "nowhere")]).exit_code == 2
    (tmp_path / "empty").mkdir()
    empty = CliRunner().invoke(main, ["coverage", str(tmp_path / "empty")])
    assert empty.exit_code == 2 and "holds no test cases" in empty.output


def test_reasoner_test_defaults_to_every_loaded_modules_cases() -> None:
    out = CliRunner().invoke(main, ["test"])
    statuses = [line.split(" ", 1)[0] for line in out.output.splitlines() if line[:4] in ("PASS", "WARN", "FAIL")]
    ontology = Path(__file__).resolve().parent.parent / "ontology"
    assert len(statuses) == len(list(ontology.glob("*/cases/**/*.yaml")))
    assert out.exit_code == (1 if "FAIL" in statuses else 0)


def test_reasoner_coverage_text_and_json(tmp_path: Path) -> None:
    write(tmp_path / "lbp", "one", HEAD + "must: [LBP-IMG-01]\nmust_not: [LBP-IMG-04]")
    text = CliRunner().invoke(main, ["coverage", str(tmp_path)])
    assert text.exit_code == 1
    header, *rows = text.output.splitlines()
    assert header.split() == ["recommendation", "status", "firing", "cases", "absent", "cases"]
    img01 = next(r for r in rows if r.startswith("LBP-IMG-01 "))
    assert img01.split()[:4] == ["LBP-IMG-01", "approved", "1:", "one"] and img01.rstrip().endswith("0")
    assert rows[-1].startswith("missing (")
    as_json = CliRunner().invoke(main, ["coverage", str(tmp_path), "--format", "json"])
    assert as_json.exit_code == 1
    data = json.loads(as_json.output)
    assert data["cases"] == 1 and "LBP-IMG-01" in data["missing"]
    assert CliRunner().invoke(main, ["coverage", str(tmp_path), "--format", "xml"]).exit_code == 2


def test_the_documented_example_is_a_passing_case(tmp_path: Path) -> None:
    doc = (Path(__file__).parent.parent / "docs" / "authoring-tests.md").read_text()
    example = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "lbp" / "example.yaml"
    path.parent.mkdir()
    path.write_text(example)
    result = run_case(load_case(path))
    assert result.status == "PASS", result.explain()
    assert [e.text for e in result.case.expectations.must_not] == ["LBP-MED-01", "{kind: start, target: vocab:NSAID}"]
