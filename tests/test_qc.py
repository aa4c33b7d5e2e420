"""`reasoner check`: the shipped guideline passes; each planted defect fails with a finding naming the check, the
entity, the file and a line that shows the problem."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from reasoner.authoring.qc import Finding, QualityReport, check_guideline, checks, read_profile
from reasoner.cli import main
from reasoner.errors import GuidelineError
from tests.guideline_edits import edit

ROOT = Path(__file__).resolve().parent.parent
ONE_CASE = ROOT / "ontology" / "lbp" / "cases" / "acute-nonspecific-all-negatives.yaml"


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A copy of the shipped guideline to break."""
    shutil.copytree(ROOT / "ontology", tmp_path / "ontology")
    return tmp_path / "ontology"


@pytest.fixture
def one_case(tmp_path: Path) -> Path:
    cases = tmp_path / "cases" / "lbp"
    cases.mkdir(parents=True)
    shutil.copy(ONE_CASE, cases)
    return cases.parent


def append(root: Path, file: str, turtle: str) -> None:
    path = root / file
    path.write_text(path.read_text() + "\n" + turtle + "\n")


def found(report: QualityReport, check: str, entity: str) -> Finding:
    matches = [f for f in report.findings if f.check == check and f.entity == entity]
    assert matches, f"no {check} finding on {entity}: {[(f.check, f.entity) for f in report.findings]}"
    return matches[0]


def points_at(finding: Finding, root: Path, file: str, *tokens: str) -> None:
    """The finding names `file`, and its line holds one of `tokens` (the entity, its property or its value)."""
    assert finding.file is not None and finding.file.endswith(file), finding
    assert finding.line is not None, finding
    line = (root.parent / finding.file).read_text().split("\n")[finding.line - 1]
    assert any(t in line for t in tokens), f"line {finding.line} of {file} is {line!r}; expected one of {tokens}"


def test_the_shipped_guideline_passes_every_check() -> None:
    out = CliRunner().invoke(main, ["check", "--format", "json"])
    data = json.loads(out.output)
    assert out.exit_code == 0, [f for f in data["findings"] if f["severity"] == "ERROR"]
    assert data["summary"]["ERROR"] == 0
    assert data["cases"] > 100  # every test-case patient was reasoned over for consistency
    assert set(data["checks"]) >= set(checks())
    assert data["guideline"]["version_iri"].endswith(data["guideline"]["version"])


def test_a_recommendation_with_its_source_removed(copy: Path, one_case: Path) -> None:
    edit(copy, "lbp/recommendations.ttl", "lbp:LBP-ASSESS-04-ev1", r"gr:source\s+lbp:SRC-NASS2014\s*;", "")
    report = check_guideline(copy, cases=one_case)
    finding = found(report, "recommendation-without-source", "lbp:LBP-ASSESS-04")
    assert finding.severity == "ERROR" and finding.value == "lbp:LBP-ASSESS-04-ev1"
    points_at(finding, copy, "lbp/recommendations.ttl", "lbp:LBP-ASSESS-04-ev1")
    assert "LBP-ASSESS-04" in CliRunner().invoke(main, ["check", str(copy), "--cases", str(one_case)]).output
    loads = found(report, "guideline-loads", f"<{report.guideline['iri']}>")  # the reasoner itself refuses it too
    assert "LBP-ASSESS-04-ev1" in loads.message


def test_a_misspelt_class(copy: Path) -> None:
    edit(
        copy,
        "lbp/recommendations.ttl",
        "lbp:LBP-IMG-04",
        r"gr:eligibility\s+lbp:ProgressiveMotorDeficitPatient",
        "gr:eligibility lbp:ProgresiveMotorDeficitPatient",
    )
    report = check_guideline(copy, reasoning=False)
    dangling = found(report, "dangling-iri", "lbp:LBP-IMG-04")
    assert dangling.value == "lbp:ProgresiveMotorDeficitPatient" and dangling.property == "gr:eligibility"
    points_at(dangling, copy, "lbp/recommendations.ttl", "lbp:ProgresiveMotorDeficitPatient")
    never = found(report, "uninferable-class", "lbp:LBP-IMG-04")
    points_at(never, copy, "lbp/recommendations.ttl", "lbp:ProgresiveMotorDeficitPatient")
    out = CliRunner().invoke(main, ["check", str(copy), "--no-reasoning"])
    assert out.exit_code == 1 and "lbp:LBP-IMG-04" in out.output and "recommendations.ttl:" in out.output


# One planted defect per check: (check, entity the finding names, file, tokens the reported line must show).
PLANTED: list[tuple[str, str, str, tuple[str, ...]]] = [
    ("missing-label", "lbp:PresentSeverePain", "lbp/classes.ttl", ("lbp:PresentSeverePain",)),
    ("duplicate-label", "lbp:PresentRadicularPain", "lbp/classes.ttl", ("BACK pain documented present",)),
    ("duplicate-label", "lbp:PresentBackPain", "lbp/classes.ttl", ("back pain documented present",)),
    ("multiple-labels", "gr:Guideline", "core.ttl", ("rdfs:label",)),
    ("missing-definition", "lbp:LBP-ASSESS-05", "lbp/recommendations.ttl", ("lbp:LBP-ASSESS-05",)),
    ("undeclared-entity", "gr:condition", "core.ttl", ("gr:condition",)),
    ("recommendation-without-grade", "lbp:LBP-ASSESS-05", "lbp/recommendations.ttl", ("lbp:LBP-ASSESS-05-ev1",)),
    ("recommendation-without-primary-evidence", "lbp:LBP-IMG-01", "lbp/recommendations.ttl", ("lbp:LBP-IMG-01",)),
    ("recommendation-without-action", "lbp:LBP-ASSESS-02", "lbp/recommendations.ttl", ("lbp:LBP-ASSESS-02",)),
    ("recommendation-without-target", "lbp:LBP-ASSESS-03", "lbp/recommendations.ttl", ("lbp:LBP-ASSESS-03",)),
    ("recommendation-without-eligibility", "lbp:LBP-ASSESS-04", "lbp/recommendations.ttl", ("lbp:LBP-ASSESS-04",)),
    ("recommendation-without-review-status", "lbp:LBP-ASSESS-01", "lbp/recommendations.ttl", ("lbp:LBP-ASSESS-01",)),
    ("duplicate-identifier", "lbp:LBP-IMG-02", "lbp/recommendations.ttl", ('"LBP-IMG-01"',)),
    ("source-without-citation", "lbp:SRC-GOLDBERG2015", "lbp/module.ttl", ("lbp:SRC-GOLDBERG2015",)),
    ("superseded-cycle", "lbp:LBP-ASSESS-01", "lbp/recommendations.ttl", ("lbp:LBP-REF-02",)),
    ("malformed-code", "vocab:Sciatica", "lbp/concepts.ttl", ('"23056006"',)),
    ("malformed-code", "vocab:LowBackPain", "lbp/concepts.ttl", ('"12345"',)),
    ("malformed-code", "vocab:ibuprofen", "lbp/concepts.ttl", ('"5058050602"',)),
    ("uninferable-class", "lbp:LBP-ASSESS-05", "lbp/recommendations.ttl", ("lbp:NeverAPatient",)),
    ("unused-red-flag", "lbp:UnusedRedFlag", "lbp/concepts.ttl", ("lbp:UnusedRedFlag",)),
    ("deprecated-term-used", "lbp:LBP-IMG-06", "lbp/recommendations.ttl", ("lbp:LBP-MED-07-ACP2007",)),
    ("missing-version", "<https://w3id.org/guideline-reasoner/core>", "core.ttl", ("owl:versionIRI",)),
    ("shape", "lbp:LBP-IMG-04", "lbp/recommendations.ttl", ("gr:withinHours",)),
    ("ill-typed-literal", "lbp:LBP-IMG-04", "lbp/recommendations.ttl", ("gr:withinHours",)),
    ("recommendation-without-patient-text", "lbp:LBP-ASSESS-02", "lbp/recommendations.ttl", ("lbp:LBP-ASSESS-02",)),
    ("red-flag-without-patient-label", "lbp:UnusedRedFlag", "lbp/concepts.ttl", ("lbp:UnusedRedFlag",)),
    ("guideline-header", "<https://w3id.org/guideline-reasoner/ckd>", "ckd/module.ttl", ("ckd>",)),
    ("duplicate-code", "lbp:LowBackPainAgain", "lbp/concepts.ttl", ('"279039007"',)),
    ("duplicate-code", "vocab:LowBackPain", "vocabulary/concepts.ttl", ('"279039007"',)),
    ("target-without-classification", "lbp:MRILumbarSpine", "lbp/concepts.ttl", ("lbp:MRILumbarSpine",)),
    (
        "target-without-classification",
        "lbp:SpineSurgeryConsultation",
        "lbp/concepts.ttl",
        ("lbp:SpineSurgeryConsultation",),
    ),
    (
        "feature-rule-undeclared-term",
        "ontology/lbp/features/30-lbp-episode-duration.rq",
        "30-lbp-episode-duration.rq",
        ("lbp:ChronicEpisdoe",),
    ),
]


def test_one_planted_defect_per_check(copy: Path) -> None:
    recs = "lbp/recommendations.ttl"
    edit(copy, "lbp/classes.ttl", "lbp:PresentSeverePain", r'rdfs:label\s+"[^"]*"@en\s*;', "")
    edit(
        copy,
        "lbp/classes.ttl",
        "lbp:PresentRadicularPain",
        r'rdfs:label\s+"[^"]*"@en',
        'rdfs:label "BACK pain documented present"@en',
    )
    append(copy, "core.ttl", 'gr:Guideline rdfs:label "guideline"@en .')
    edit(copy, recs, "lbp:LBP-ASSESS-05", r'skos:definition\s+"[^"]*"@en\s*;', "")
    edit(copy, "core.ttl", "gr:condition", r"a\s+owl:DatatypeProperty\s*;", "")
    edit(copy, recs, "lbp:LBP-ASSESS-05-ev1", r"\s*;\s*gr:strength\s+gr:NiceConsider", "")
    edit(copy, recs, "lbp:LBP-IMG-01-ev2", r"gr:order\s+2", "gr:order 1")
    edit(copy, recs, "lbp:LBP-ASSESS-02", r"gr:action\s+gr:Assess\s*;", "")
    edit(copy, recs, "lbp:LBP-ASSESS-03", r"gr:target\s+lbp:CaudaEquinaAssessment\s*;", "")
    edit(copy, recs, "lbp:LBP-ASSESS-04", r"gr:eligibility\s+lbp:NeuroExamNeededPatient\s*;", "")
    edit(copy, recs, "lbp:LBP-ASSESS-01", r"\s*;\s*gr:reviewStatus\s+gr:Approved", "")
    edit(copy, recs, "lbp:LBP-IMG-02", r'dcterms:identifier\s+"LBP-IMG-02"', 'dcterms:identifier "LBP-IMG-01"')
    edit(copy, "lbp/module.ttl", "lbp:SRC-GOLDBERG2015", r'dcterms:bibliographicCitation\s+"[^"]*"\s*;', "")
    append(copy, recs, "lbp:LBP-REF-02 gr:supersededBy lbp:LBP-ASSESS-01 .")
    append(
        copy,
        "lbp/concepts.ttl",
        'vocab:Sciatica gr:coding [ gr:system <http://snomed.info/sct> ; gr:code "23056006" ] .',
    )
    append(copy, "lbp/concepts.ttl", 'vocab:LowBackPain gr:coding [ gr:system <urn:x> ; gr:code "12345" ] .')
    ndc = "<http://hl7.org/fhir/sid/ndc>"  # ten digits without hyphens: which segment is which is ambiguous
    append(copy, "lbp/concepts.ttl", f'vocab:ibuprofen gr:coding [ gr:system {ndc} ; gr:code "5058050602" ] .')
    append(
        copy,
        "lbp/classes.ttl",
        'lbp:NeverAPatient a owl:Class ; rdfs:label "never a patient"@en ; skos:definition "Nobody."@en .',
    )
    append(copy, recs, "lbp:LBP-ASSESS-05 gr:exclusion lbp:NeverAPatient .")
    append(
        copy,
        "lbp/concepts.ttl",
        'lbp:UnusedRedFlag a owl:Class ; rdfs:subClassOf gr:RedFlag ; rdfs:label "unused red flag"@en ; '
        'skos:definition "A red flag nothing uses."@en .',
    )
    append(copy, recs, "lbp:LBP-IMG-06 gr:supersededBy lbp:LBP-MED-07-ACP2007 .")
    edit(
        copy,
        "core.ttl",
        "<https://w3id.org/guideline-reasoner/core>",
        r'owl:versionInfo\s+"[^"]*"',
        'owl:versionInfo "2026-12-01"',
    )
    edit(copy, recs, "lbp:LBP-IMG-04", r"gr:withinHours\s+48", 'gr:withinHours "48"')
    edit(copy, recs, "lbp:LBP-ASSESS-02", r'gr:patientExplanation\s+"[^"]*"@en\s*;', "")
    edit(copy, "ckd/module.ttl", "<https://w3id.org/guideline-reasoner/ckd>", r"\s*;\s*gr:scope\s+ckd:CKDPatient", "")
    append(
        copy,
        "lbp/concepts.ttl",
        'lbp:LowBackPainAgain a owl:Class ; rdfs:subClassOf gr:Finding ; rdfs:label "low back pain again"@en ; '
        'skos:definition "A second concept with low back pain\'s code."@en ;\n'
        '    gr:coding [ gr:system <http://snomed.info/sct> ; gr:code "279039007" ] .',
    )
    edit(copy, "lbp/concepts.ttl", "lbp:MRILumbarSpine", r"\s*;\s*gr:modality\s+vocab:MagneticResonanceImaging", "")
    edit(copy, "lbp/concepts.ttl", "lbp:SpineSurgeryConsultation", r"\s*;\s*gr:specialty\s+vocab:SpineSurgery", "")
    rule = copy / "lbp" / "features" / "30-lbp-episode-duration.rq"
    rule.write_text(rule.read_text().replace("(lbp:ChronicEpisode 85", "(lbp:ChronicEpisdoe 85"))
    report = check_guideline(copy, reasoning=False)
    for check, entity, file, tokens in PLANTED:
        finding = found(report, check, entity)
        assert finding.severity == (checks()[check].severity if check in checks() else "ERROR")
        assert finding.message and finding.fix
        points_at(finding, copy, file, *tokens)
    unclassified = {f.entity: f.property for f in report.findings if f.check == "target-without-classification"}
    assert unclassified == {"lbp:MRILumbarSpine": "gr:modality", "lbp:SpineSurgeryConsultation": "gr:specialty"}
    planted = {p[0] for p in PLANTED} | {"dangling-iri", "recommendation-without-source", "guideline-loads"}
    assert planted >= {f.check for f in report.findings}, "a finding nobody planted"
    assert {c for c in checks()} <= planted | {"inconsistent-guideline"}, "a check without a planted defect"


def test_parse_errors_name_file_and_line(copy: Path) -> None:
    path = copy / "vocabulary" / "concepts.ttl"
    lines = path.read_text().split("\n")
    broken = next(i for i, line in enumerate(lines) if line.startswith("vocab:Sciatica "))
    lines[broken] = lines[broken].replace("vocab:Sciatica ", 'vocab:Sciatica "unclosed ', 1)
    path.write_text("\n".join(lines))
    report = check_guideline(copy)
    (finding,) = report.findings
    assert finding.check == "parse-error" and finding.file == "ontology/vocabulary/concepts.ttl"
    assert finding.line == broken + 1 and "string" in finding.message


def test_a_syntax_error_in_a_query_is_a_finding_not_a_traceback(copy: Path, one_case: Path) -> None:
    """Regression: a SPARQL syntax error in a module's feature rule ended `reasoner check` in a traceback."""
    rule = copy / "lbp" / "features" / "30-lbp-episode-duration.rq"
    lines = rule.read_text().split("\n")
    where = lines.index("WHERE {")
    lines[where] = "WHERE { )"
    rule.write_text("\n".join(lines))
    (copy / "lbp" / "research").mkdir(exist_ok=True)
    (copy / "lbp" / "research" / "by-age.rq").write_text("# Research.\nSELECT ?p WHERE { ?p ?q }\n")
    out = CliRunner().invoke(main, ["check", str(copy), "--cases", str(one_case), "--format", "json"])
    assert out.exit_code == 1 and isinstance(out.exception, SystemExit), out.output
    findings = [f for f in json.loads(out.output)["findings"] if f["check"] == "query-syntax"]
    assert [(f["file"], f["line"]) for f in findings] == [
        ("ontology/lbp/features/30-lbp-episode-duration.rq", where + 1),
        ("ontology/lbp/research/by-age.rq", 2),
    ]
    assert all(f["severity"] == "ERROR" and f["message"] and f["fix"] for f in findings)


def test_a_wrongly_typed_value_is_a_finding_not_a_traceback(copy: Path, one_case: Path) -> None:
    """Regression: gr:withinHours "72 hours" ended `reasoner check` in a traceback naming no file."""
    edit(copy, "lbp/recommendations.ttl", "lbp:LBP-IMG-04", r"gr:withinHours\s+48", 'gr:withinHours "72 hours"')
    ckd = "<https://w3id.org/guideline-reasoner/ckd>"
    edit(copy, "ckd/module.ttl", ckd, r'dcterms:modified\s+"[^"]*"', 'dcterms:modified "2026-13-45"')
    out = CliRunner().invoke(main, ["check", str(copy), "--cases", str(one_case)])
    assert out.exit_code == 1 and isinstance(out.exception, SystemExit), out.output
    report = check_guideline(copy, cases=one_case)
    hours = found(report, "ill-typed-literal", "lbp:LBP-IMG-04")
    assert hours.value == "72 hours" and "a xsd:string where the range is xsd:integer" in hours.message
    points_at(hours, copy, "lbp/recommendations.ttl", '"72 hours"')
    day = found(report, "ill-typed-literal", ckd)
    assert "not a valid" in day.message and "date" in day.message
    points_at(day, copy, "ckd/module.ttl", "2026-13-45")
    assert "72 hours" in found(report, "guideline-loads", f"<{report.guideline['iri']}>").message


def test_recommend_refuses_a_wrongly_typed_value_naming_it(copy: Path) -> None:
    """Regression: `reasoner recommend` ended in a ValueError traceback on gr:withinHours "72 hours"."""
    edit(copy, "lbp/recommendations.ttl", "lbp:LBP-IMG-04", r"gr:withinHours\s+48", 'gr:withinHours "72 hours"')
    done = CliRunner().invoke(main, ["recommend", "--guideline", str(copy / "lbp")])
    assert done.exit_code == 3 and not isinstance(done.exception, ValueError), done.output
    assert "LBP-IMG-04" in done.output and "'72 hours'" in done.output and "whole number" in done.output


EXTRA = """@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix gr: <https://w3id.org/guideline-reasoner/core#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix vocab: <https://w3id.org/guideline-reasoner/vocab#> .
@prefix x: <https://example.org/renal-extra#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .

<https://example.org/renal-extra> a owl:Ontology ;
    owl:imports <https://w3id.org/guideline-reasoner/vocab> ;
    owl:versionIRI <https://example.org/renal-extra/2026-01-01> ;
    owl:versionInfo "2026-01-01" ;
    dcterms:modified "2026-01-01"^^xsd:date .

x:KidneyFiltration a owl:Class ;
    rdfs:subClassOf gr:MeasurementKind ;
    rdfs:label "kidney filtration rate"@en ;
    skos:definition "A second module's own name for the estimated glomerular filtration rate."@en ;
    gr:coding [ gr:code "33914-3" ; gr:system <http://loinc.org> ] ;
    gr:unit "mL/min/{1.73_m2}" .
"""


def test_two_concepts_with_one_code_in_a_module_set(tmp_path: Path) -> None:
    extra = tmp_path / "renal-extra"
    extra.mkdir()
    (extra / "concepts.ttl").write_text(EXTRA)
    modules = [ROOT / "ontology" / "vocabulary", ROOT / "ontology" / "lbp", extra]
    args = ["check", "--no-reasoning", "--format", "json", *(a for m in modules for a in ("--guideline", str(m)))]
    out = CliRunner().invoke(main, args)
    assert out.exit_code == 1
    data = json.loads(out.output)
    assert "renal-extra/concepts.ttl" in data["files"] and "ontology/lbp/recommendations.ttl" in data["files"]
    duplicates = {f["entity"]: f for f in data["findings"] if f["check"] == "duplicate-code"}
    assert set(duplicates) == {"vocab:EGFR", "x:KidneyFiltration"}
    ours, theirs = duplicates["x:KidneyFiltration"], duplicates["vocab:EGFR"]
    assert ours["severity"] == "ERROR" and ours["value"] == "33914-3"
    assert (ours["file"], ours["line"]) == ("renal-extra/concepts.ttl", 20)
    assert theirs["file"] == "ontology/vocabulary/concepts.ttl"
    assert f"vocab:EGFR at {theirs['file']}:{theirs['line']}" in ours["message"]
    assert "x:KidneyFiltration at renal-extra/concepts.ttl:20" in theirs["message"]
    (extra / "concepts.ttl").write_text(
        EXTRA.replace("rdfs:subClassOf gr:MeasurementKind ;", "owl:equivalentClass vocab:EGFR ;")
    )
    report = check_guideline(*modules, reasoning=False)
    assert not report.errors, report.to_table()


def test_owl_nothing_in_the_guideline(copy: Path, one_case: Path) -> None:
    append(copy, "lbp/concepts.ttl", "vocab:SkeletalMuscleRelaxant rdfs:subClassOf owl:Nothing .")
    report = check_guideline(copy, cases=one_case)
    finding = found(report, "inconsistent-guideline", "vocab:cyclobenzaprine")
    assert finding.value == "owl:Nothing" and "owl:Nothing" in finding.message
    points_at(finding, copy, "vocabulary/concepts.ttl", "vocab:cyclobenzaprine")


@pytest.mark.slow
def test_disjoint_classes_shared_by_a_test_case_patient(copy: Path, tmp_path: Path) -> None:
    cases = tmp_path / "cases" / "lbp"
    cases.mkdir(parents=True)
    shutil.copy(ROOT / "ontology" / "lbp" / "cases" / "cancer-history-no-reassurance.yaml", cases)
    append(copy, "lbp/classes.ttl", "lbp:LowBackPainPatient owl:disjointWith lbp:RedFlagNotExcludedPatient .")
    report = check_guideline(copy, cases=cases.parent)
    assert (
        found(report, "unsupported-construct", f"<{report.guideline['iri']}>").severity == "ERROR"
    )  # the compiled engine refuses it
    clash = [f for f in report.findings if f.check == "inconsistent-case"]
    assert clash and clash[0].file is not None and clash[0].file.endswith("cancer-history-no-reassurance.yaml")
    assert "disjoint" in clash[0].message


def test_a_broken_case_file_is_reported(one_case: Path) -> None:
    (one_case / "lbp" / "broken.yaml").write_text("name: [unclosed\n")
    report = check_guideline(cases=one_case)
    assert [f.check for f in report.errors] == ["case-unusable"] and "broken.yaml" in report.errors[0].message


def test_a_profile_overrides_severities(tmp_path: Path, copy: Path) -> None:
    edit(copy, "lbp/recommendations.ttl", "lbp:LBP-ASSESS-05", r'skos:definition\s+"[^"]*"@en\s*;', "")
    profile = tmp_path / "profile.txt"
    profile.write_text("# authors' profile\nERROR missing-definition\n")
    report = check_guideline(copy, profile=read_profile(profile), reasoning=False)
    assert found(report, "missing-definition", "lbp:LBP-ASSESS-05").severity == "ERROR"
    profile.write_text("ERROR no-such-check\n")
    with pytest.raises(GuidelineError, match="no-such-check"):
        check_guideline(copy, profile=read_profile(profile), reasoning=False)
    profile.write_text("FATAL missing-definition\n")
    with pytest.raises(GuidelineError, match=r"profile.txt:1"):
        read_profile(profile)


def test_every_check_documents_itself() -> None:
    for check in checks().values():
        assert check.severity in ("ERROR", "WARN", "INFO")
        assert len(check.problem) > 20 and len(check.why) > 20 and len(check.fix) > 20, check.name
        assert "?entity ?property ?value" in check.text, check.name
