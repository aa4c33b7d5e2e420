"""`reasoner diff`: recommendations added, removed and changed field by field, between directories and git
revisions (a repository made here, and this repository's own history), and the impact on a cohort store."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from reasoner.authoring.diff import GuidelineDiff, diff_guidelines
from reasoner.authoring.turtle_scan import scan
from reasoner.cli import main
from reasoner.store.batch import batch
from tests.guideline_edits import edit

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "examples" / "seed-case.ttl"
SEED_IRI = "https://example.org/patient/seed-v02"
NEW_REC = """
lbp:LBP-TEST-01 a gr:Recommendation ; gr:partOf <https://w3id.org/guideline-reasoner/lbp> ;
    dcterms:identifier "LBP-TEST-01" ; rdfs:label "A recommendation added for the test"@en ;
    gr:action gr:Educate ; gr:target lbp:SafetyNetAdvice ; gr:eligibility lbp:LowBackPainPatient ;
    gr:evidence lbp:LBP-TEST-01-ev1 ; gr:reviewStatus gr:Approved .
lbp:LBP-TEST-01-ev1 a gr:EvidenceStatement ; gr:order 1 ; gr:source lbp:SRC-PROJECT ;
    gr:statement "Test." ; gr:strength gr:ProjectDefined .
"""


def remove(root: Path, file: str, *subjects: str) -> None:
    path = root / file
    text = path.read_text()
    for st in scan(text).statements:
        if st.subject in subjects:
            text = text.replace(st.text, "", 1)
    path.write_text(text)


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True)
    return done.stdout


def changes(result: GuidelineDiff, identifier: str) -> dict[str, tuple[object, object]]:
    (rec,) = [r for r in result.changed if r.identifier == identifier]
    return {c.field: (c.old, c.new) for c in rec.changes}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository whose two commits hold the shipped guideline, then a changed one."""
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "ontology", repo / "ontology")
    git(tmp_path, "init", "-q", str(repo))
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.org", "add", "ontology")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "release")
    onto = repo / "ontology"
    edit(onto, "lbp/recommendations.ttl", "lbp:LBP-IMG-04", r"gr:urgency\s+gr:Urgent", "gr:urgency gr:Emergency")
    edit(onto, "lbp/recommendations.ttl", "lbp:LBP-IMG-04", r"gr:withinHours\s+48", "gr:withinHours 24")
    edit(
        onto,
        "lbp/recommendations.ttl",
        "lbp:LBP-IMG-04-ev1",
        r"gr:quality\s+gr:ModerateQuality",
        "gr:quality gr:HighQuality",
    )
    edit(onto, "lbp/recommendations.ttl", "lbp:LBP-IMG-01", r"gr:exclusion\s+", "gr:exclusion lbp:SeverePainPatient, ")
    remove(onto, "lbp/recommendations.ttl", "lbp:LBP-ASSESS-05", "lbp:LBP-ASSESS-05-ev1")
    (onto / "lbp" / "recommendations.ttl").write_text((onto / "lbp" / "recommendations.ttl").read_text() + NEW_REC)
    for file, subject in (("lbp/module.ttl", "<https://w3id.org/guideline-reasoner/lbp>"),):
        edit(onto, file, subject, r"lbp/2026-12-06>", "lbp/2026-12-07>")
        edit(onto, file, subject, r'owl:versionInfo\s+"2026-12-06"', 'owl:versionInfo "2026-12-07"')
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qam", "next")
    return repo


def test_diff_between_two_git_revisions(repo: Path) -> None:
    result = diff_guidelines("HEAD~1", "HEAD", repo=repo)
    assert result.old["version_iri"].endswith("lbp/2026-12-06") and result.new["version_iri"].endswith("lbp/2026-12-07")
    assert [r.identifier for r in result.added] == ["LBP-TEST-01"]
    assert [r.identifier for r in result.removed] == ["LBP-ASSESS-05"]
    img04 = changes(result, "LBP-IMG-04")
    assert img04["urgency"] == ("urgent", "emergency") and img04["within hours"] == ("48", "24")
    assert img04["grade"][0] != img04["grade"][1] and "high-quality" in str(img04["grade"][1])
    assert "sources" in img04  # the grade of the first evidence statement is part of it
    img01 = changes(result, "LBP-IMG-01")
    assert set(img01) == {"exclusion"} and "lbp:SeverePainPatient" in img01["exclusion"][1]  # type: ignore[operator]
    assert not result.notes  # the version was bumped with the content
    assert {r.identifier for r in result.changed} == {"LBP-IMG-04", "LBP-IMG-01"}


def test_diff_of_a_revision_against_a_working_directory(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    onto = repo / "ontology"
    edit(
        onto, "lbp/recommendations.ttl", "lbp:LBP-IMG-01", r"gr:reviewStatus\s+gr:Approved", "gr:reviewStatus gr:Draft"
    )
    edit(onto, "lbp/classes.ttl", "lbp:SeverePainPatient", r"lbp:PresentSeverePain", "lbp:PresentMotorWeakness")
    monkeypatch.chdir(repo)  # revisions are read from the repository of the current directory
    out = CliRunner().invoke(main, ["diff", "HEAD", "ontology", "--format", "json"])
    assert out.exit_code == 1, out.output
    data = json.loads(out.output)
    (img01,) = [r for r in data["recommendations"]["changed"] if r["identifier"] == "LBP-IMG-01"]
    fields = {c["field"]: c for c in img01["changes"]}
    assert fields["review status"]["old"] == "approved" and fields["review status"]["new"] == "draft"
    assert "lbp:SeverePainPatient" in fields["eligibility definition"]["new"]  # its exclusion class was redefined
    assert "lbp:SeverePainPatient" in data["terms"]["changed"]
    assert any("version IRI did not" in n for n in data["notes"])


def test_identical_versions_have_no_difference(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "ontology", tmp_path / "a")
    out = CliRunner().invoke(main, ["diff", str(tmp_path / "a"), str(ROOT / "ontology")])
    assert out.exit_code == 0 and "recommendations changed: 0" in out.output


def test_unknown_revision_is_refused(repo: Path) -> None:
    out = CliRunner().invoke(main, ["diff", "no-such-revision", str(repo / "ontology")])
    assert out.exit_code == 3 and "no-such-revision" in out.output


def test_diff_on_this_repository_history() -> None:
    """The commit that added LBP-IMG-10-AFTER-TRIAL (5918dd3) and changed what three others depend on."""
    probe = subprocess.run(["git", "-C", str(ROOT), "cat-file", "-e", "5918dd3^{commit}"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("this checkout has no history (a shallow clone): check out with fetch-depth 0")
    result = diff_guidelines("5918dd3~1", "5918dd3", repo=ROOT)
    assert [r.identifier for r in result.added] == ["LBP-IMG-10-AFTER-TRIAL"]
    before, after = changes(result, "LBP-IMG-10")["superseded by"]
    assert set(after) - set(before) == {"lbp:LBP-IMG-10-AFTER-TRIAL"}  # type: ignore[arg-type]
    med12 = changes(result, "LBP-MED-12")
    assert med12["eligibility"] == (["lbp:ChronicLowBackPainPatient"], ["lbp:ChronicAfterNonDrugCarePatient"])
    assert "lbp:NonDrugCareTriedPatient" in result.terms["added"]


def test_impact_on_a_cohort_store(tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    shutil.copytree(ROOT / "ontology", old)
    shutil.copytree(ROOT / "ontology", new)
    patients = [
        SEED,
        ROOT / "ontology" / "lbp" / "cases" / "vignettes" / "v01.ttl",
        ROOT / "ontology" / "lbp" / "cases" / "vignettes" / "v05.ttl",
    ]
    store = tmp_path / "cohort.db"
    summary = batch(patients, store, guidelines=(old,))
    assert summary.done == 3
    edit(new, "lbp/recommendations.ttl", "lbp:LBP-IMG-04", r"gr:reviewStatus\s+gr:Approved", "gr:reviewStatus gr:Draft")
    result = diff_guidelines(old, new, impact=store)
    assert result.patients == 3
    affected = {p.patient: p for p in result.impact or []}
    seed = affected[SEED_IRI]
    assert "LBP-IMG-04" in seed.removed and seed.baseline == "stored"  # the store holds exactly OLD's results
    assert all("LBP-IMG-04" in p.removed for p in affected.values()) and len(affected) < 3
    # From a version the store does not hold, OLD is evaluated again: the same changes, the other way round.
    again = diff_guidelines(new, old, impact=store)
    assert {p.patient: (p.removed, p.added) for p in again.impact or []} == {
        k: (v.added, v.removed) for k, v in affected.items()
    }
    assert all(p.baseline == "evaluated" for p in again.impact or [])
    table = CliRunner().invoke(main, ["diff", str(old), str(new), "--impact", str(store)]).output
    assert f"patients whose recommendations change: {len(affected)} of 3 stored" in table
    assert SEED_IRI in table and "-LBP-IMG-04" in table
