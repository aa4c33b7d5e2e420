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
MODULE = "<https://w3id.org/guideline-reasoner/lbp>"
ONE_CASE = ROOT / "tests" / "cases" / "lbp" / "acute-nonspecific-all-negatives.yaml"


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
    loads = found(report, "guideline-loads", MODULE)  # the reasoner itself refuses it, and the report says so
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
    ("malformed-code", "vocab:LowBackPain", "lbp/concepts.ttl", ('"279039007"',)),
    ("uninferable-class", "lbp:LBP-ASSESS-05", "lbp/recommendations.ttl", ("lbp:NeverAPatient",)),
    ("unused-red-flag", "lbp:UnusedRedFlag", "lbp/concepts.ttl", ("lbp:UnusedRedFlag",)),
    ("deprecated-term-used", "lbp:LBP-IMG-06", "lbp/recommendations.ttl", ("lbp:LBP-MED-07-ACP2007",)),
    ("missing-version", "<https://w3id.org/guideline-reasoner/core>", "core.ttl", ("owl:versionIRI",)),
    ("shape", "lbp:LBP-IMG-04", "lbp/recommendations.ttl", ("gr:withinHours",)),
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
    append(copy, "lbp/concepts.ttl", 'vocab:LowBackPain gr:coding [ gr:system <urn:x> ; gr:code "279039007" ] .')
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
    report = check_guideline(copy, reasoning=False)
    for check, entity, file, tokens in PLANTED:
        finding = found(report, check, entity)
        assert finding.severity == (checks()[check].severity if check in checks() else "ERROR")
        assert finding.message and finding.fix
        points_at(finding, copy, file, *tokens)
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


def test_owl_nothing_in_the_guideline(copy: Path, one_case: Path) -> None:
    append(copy, "lbp/concepts.ttl", "vocab:SkeletalMuscleRelaxant rdfs:subClassOf owl:Nothing .")
    report = check_guideline(copy, cases=one_case)
    finding = found(report, "inconsistent-guideline", "vocab:cyclobenzaprine")
    assert finding.value == "owl:Nothing" and "owl:Nothing" in finding.message
    points_at(finding, copy, "lbp/concepts.ttl", "vocab:cyclobenzaprine")


@pytest.mark.slow
def test_disjoint_classes_shared_by_a_test_case_patient(copy: Path, tmp_path: Path) -> None:
    cases = tmp_path / "cases" / "lbp"
    cases.mkdir(parents=True)
    shutil.copy(ROOT / "tests" / "cases" / "lbp" / "cancer-history-no-reassurance.yaml", cases)
    append(copy, "lbp/classes.ttl", "lbp:LowBackPainPatient owl:disjointWith lbp:RedFlagNotExcludedPatient .")
    report = check_guideline(copy, cases=cases.parent)
    assert found(report, "unsupported-construct", MODULE).severity == "ERROR"  # the compiled engine refuses it
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
