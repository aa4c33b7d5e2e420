"""Vignette V02 (the seed case): MUST and MUST NOT lists asserted on the JSON output, plus the report."""

from __future__ import annotations

from typing import Any

import pytest
from rdflib import Namespace, URIRef

import reasoner
from reasoner.namespaces import GR, PROV, RDF, VOCAB
from tests.conftest import SEED

LBP = Namespace("https://w3id.org/guideline-reasoner/lbp#")

MUST = [
    "LBP-IMG-04", "LBP-REF-01", "LBP-ASSESS-03", "LBP-ASSESS-04", "LBP-MED-05", "LBP-MED-04",
    "LBP-MED-01", "LBP-MED-02", "LBP-MED-08", "LBP-MED-11", "LBP-NONPHARM-04", "LBP-FU-01", "LBP-FU-02",
]  # fmt: skip


def _by_id(seed_json: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["identifier"]: r for r in seed_json["recommendations"]}


@pytest.mark.parametrize("identifier", MUST)
def test_v02_must(seed_json: dict[str, Any], identifier: str) -> None:
    assert identifier in _by_id(seed_json)


def test_v02_urgent_mri_without_contrast_and_urgent_consult(seed_json: dict[str, Any]) -> None:
    recs = _by_id(seed_json)
    mri, consult = recs["LBP-IMG-04"], recs["LBP-REF-01"]
    assert (mri["kind"], mri["urgency"], mri["within_hours"]) == ("order", "urgent", 48)
    assert mri["target"]["iri"] == str(LBP.MRILumbarSpineWithoutContrast)
    assert "http://loinc.org|30679-5" in mri["target"]["codes"]
    assert (consult["kind"], consult["urgency"]) == ("refer", "urgent")
    assert "within_hours" in mri["project_defined"]
    # The two most urgent lines lead, and the headline names both.
    assert [r["identifier"] for r in seed_json["recommendations"][:2]] == ["LBP-IMG-04", "LBP-REF-01"]
    assert seed_json["headline"].startswith(
        "URGENT: MRI lumbar spine without IV contrast and spine surgery consultation"
    )


def test_v02_because_and_via_point_at_the_worsening_weakness(seed_json: dict[str, Any]) -> None:
    mri = _by_id(seed_json)["LBP-IMG-04"]
    facts = [f["iri"] for f in mri["because"]]
    assert facts[0] == "https://example.org/patient/seed-v02/weakness-day21"
    # ... and MR safety, which the record does not document (unknown, never a reason to delay the MRI)
    assert [f["label"] for f in mri["because"][1:]] == ["MRI contraindication: not documented (unknown)"]
    # Progression was inferred from serial MRC grades (4 then 3.7) by the feature rule, then classified by OWL.
    assert str(LBP.WorseningOnSerialExam) in mri["via"]
    assert str(LBP.ProgressiveMotorDeficitPatient) in mri["via"]


def test_v02_sources_keep_their_own_grades(seed_json: dict[str, Any]) -> None:
    mri = _by_id(seed_json)["LBP-IMG-04"]
    assert (mri["strength"], mri["quality"]) == ("strong recommendation", "moderate-quality evidence")
    acp = mri["sources"][0]
    assert acp["iri"] == str(LBP["SRC-ACP2007"]) and acp["doi"] == "10.7326/0003-4819-147-7-200710020-00006"
    assert {s["rating"] for s in mri["sources"]} >= {"Usually Appropriate"}
    for rec in seed_json["recommendations"]:
        assert rec["sources"], rec["identifier"]
        assert all(s["citation"] for s in rec["sources"])


def test_v02_must_not(seed_json: dict[str, Any]) -> None:
    recs = seed_json["recommendations"]
    ids = {r["identifier"] for r in recs}
    assert not ids & {"LBP-IMG-01", "LBP-IMG-02", "LBP-IMG-10"}, "no 'no imaging' advice"
    for r in recs:
        target = r["target"]["iri"]
        assert not (r["kind"] == "start" and target == str(VOCAB.SystemicCorticosteroid)), "no repeat steroid course"
        assert not (r["kind"] in ("start", "continue") and target == str(VOCAB.ketorolac)), "no more ketorolac"
        assert not (
            r["kind"] == "continue" and target == str(VOCAB.PhysicalTherapy) and r["identifier"] != "LBP-NONPHARM-04"
        )
    steroid = next(r for r in recs if r["identifier"] == "LBP-MED-05")
    assert steroid["kind"] == "avoid"
    assert "https://example.org/patient/seed-v02/methylprednisolone" in {f["iri"] for f in steroid["because"]}


def test_v02_reassurance_is_suppressed_with_reasons(seed_json: dict[str, Any]) -> None:
    suppressed = {s["identifier"]: s for s in seed_json["suppressed"]}
    assert {"LBP-IMG-01", "LBP-IMG-02"} <= set(suppressed)
    assert str(LBP.ProgressiveMotorDeficitPatient) in suppressed["LBP-IMG-01"]["by"]
    assert str(LBP.RedFlagNotExcludedPatient) in suppressed["LBP-IMG-01"]["by"]
    assert str(LBP.PriorManagementPatient) in suppressed["LBP-IMG-02"]["by"]


def test_v02_missing_cauda_equina_fields(seed_json: dict[str, Any]) -> None:
    missing = {m["finding"]: m for m in seed_json["missing"]}
    fields = ("BladderDysfunction", "BowelDysfunction", "SaddleAnaesthesia", "SexualDysfunction", "MRContraindication")
    assert set(missing) == {str(VOCAB[c]) for c in fields}
    assert str(LBP["LBP-IMG-04"]) in missing[str(VOCAB.MRContraindication)]["needed_for"]
    assert str(LBP["LBP-ASSESS-03"]) in missing[str(VOCAB.SaddleAnaesthesia)]["needed_for"]
    assert str(LBP["LBP-IMG-01"]) in missing[str(VOCAB.BladderDysfunction)]["needed_for"]


def test_unknown_is_not_absent_when_documented_negative() -> None:
    text = (
        SEED.read_text()
        .replace(
            "ex:bilateral a gr:FindingRecord",
            "ex:saddle a gr:FindingRecord, vocab:SaddleAnaesthesia ; gr:status gr:Absent .\n"
            "ex:bladder a gr:FindingRecord, vocab:BladderDysfunction ; gr:status gr:Absent .\n"
            "ex:bowel a gr:FindingRecord, vocab:BowelDysfunction ; gr:status gr:Absent .\n"
            "ex:sexual a gr:FindingRecord, vocab:SexualDysfunction ; gr:status gr:Absent .\n"
            "ex:bilateral a gr:FindingRecord",
        )
        .replace("ex:gi-bleed ;", "ex:gi-bleed, ex:saddle, ex:bladder, ex:bowel, ex:sexual ;")
    )
    result = reasoner.recommend(text).to_json()
    assert [m["finding"] for m in result["missing"]] == [str(VOCAB.MRContraindication)], "only MR safety is left"
    ids = {r["identifier"] for r in result["recommendations"]}
    assert {"LBP-IMG-04", "LBP-REF-01"} <= ids
    assert not ids & {"LBP-IMG-06", "LBP-REF-02"}, (
        "documented-negative CES features do not trigger the emergency pathway"
    )


def test_cauda_equina_feature_escalates_to_emergency_and_supersedes_urgent() -> None:
    text = (
        SEED.read_text()
        .replace(
            "ex:bilateral a gr:FindingRecord",
            "ex:retention a gr:FindingRecord, vocab:UrinaryRetention ; gr:status gr:Present ;\n"
            '    gr:onset "2026-03-21"^^xsd:date .\n'
            "ex:bilateral a gr:FindingRecord",
        )
        .replace("ex:gi-bleed ;", "ex:gi-bleed, ex:retention ;")
    )
    result = reasoner.recommend(text).to_json()
    recs = {r["identifier"]: r for r in result["recommendations"]}
    assert recs["LBP-IMG-06"]["urgency"] == recs["LBP-REF-02"]["urgency"] == "emergency"
    assert "LBP-IMG-04" not in recs and "LBP-FU-01" not in recs
    suppressed = {s["identifier"]: s["by"] for s in result["suppressed"]}
    assert suppressed["LBP-IMG-04"] == [str(LBP["LBP-IMG-06"])]
    assert result["headline"].startswith("EMERGENCY:")


def test_evaluation_date_changes_advice() -> None:
    # Two days after the first injection the ketorolac course is still 1 day; a month later the episode is
    # subacute rather than acute, and by day 100 chronic: NSAID and non-drug first-line advice no longer apply.
    from datetime import date

    late = reasoner.recommend(SEED, as_of=date(2026, 6, 10)).to_json()
    ids = {r["identifier"] for r in late["recommendations"]}
    assert "LBP-MED-01" not in ids and "LBP-NONPHARM-02" not in ids
    assert "LBP-IMG-04" in ids


def test_report_reads_as_a_complete_answer(seed_result: reasoner.Recommendations) -> None:
    md = seed_result.to_markdown()
    for heading in ("## Why", "## What has been tried", "## Action plan", "## Stop or avoid",
                    "## Treatment while waiting (bridge)", "## Pitfalls and missing data",
                    "## Follow-up and safety net", "## References"):  # fmt: skip
        assert heading in md
    assert md.startswith("# URGENT: MRI lumbar spine without IV contrast")
    assert "within 24-48 h" in md
    assert "Not documented (unknown, not absent)" in md and "saddle anaesthesia" in md
    assert "transient relief" in md and "5 days" in md
    assert "https://doi.org/10.7326/0003-4819-147-7-200710020-00006" in md
    version = reasoner.load_guideline().module("https://w3id.org/guideline-reasoner/lbp").version
    assert f"version {version}" in md and "healthcare professionals" in md


def test_provenance_graph_links_facts_statement_source_and_version(seed_result: reasoner.Recommendations) -> None:
    g = seed_result.to_graph()
    node = next(g.subjects(GR.recommendation, LBP["LBP-IMG-04"]))
    assert (node, RDF.type, GR.PatientRecommendation) in g
    assert (node, PROV.wasDerivedFrom, URIRef("https://example.org/patient/seed-v02/weakness-day21")) in g
    assert (node, PROV.wasDerivedFrom, LBP["LBP-IMG-04-ev1"]) in g
    assert (LBP["LBP-IMG-04-ev1"], GR.source, LBP["SRC-ACP2007"]) in g
    version = reasoner.load_guideline().module("https://w3id.org/guideline-reasoner/lbp").version_iri
    assert (node, GR.guidelineVersion, URIRef(version)) in g
    run = g.value(node, PROV.wasGeneratedBy)
    assert (run, RDF.type, PROV.Activity) in g
    # Deterministic: the same inputs give the same graph.
    assert seed_result.to_graph().isomorphic(g)
