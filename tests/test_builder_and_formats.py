"""The Python builder and JSON-LD input give the same advice as the Turtle seed case."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

import reasoner
from reasoner.rdf.rdfio import CONTEXT_IRI

D = date


def _seed_builder() -> reasoner.PatientBuilder:
    b = reasoner.PatientBuilder("https://example.org/patient/built", birth_date=D(1980, 6, 15), sex="female",
                                assessed_on=D(2026, 3, 22))  # fmt: skip
    b.finding("Sciatica", laterality="right", onset=D(2026, 3, 2))
    b.finding("MotorWeakness", laterality="right", mrc_grade=4, onset=D(2026, 3, 18), recorded_on=D(2026, 3, 18))
    b.finding("MotorWeakness", laterality="right", mrc_grade=3.7, onset=D(2026, 3, 18), recorded_on=D(2026, 3, 22))
    b.absent("BilateralLegSymptoms", "HistoryOfCancer", "UnexplainedWeightLoss", "Fever", "IntravenousDrugUse",
             "Immunosuppression", "LongTermSteroidUse", "SignificantTrauma", "GIBleedOrUlcerHistory")  # fmt: skip
    b.medication("methylprednisolone", start=D(2026, 3, 5), days=6, route="oral", response="transient")
    b.medication("ketorolac", start=D(2026, 3, 3), days=1, route="intramuscular", dose_mg=60)
    b.medication("cyclobenzaprine", start=D(2026, 3, 3), ongoing=True, route="oral", dose_mg=10)
    b.therapy("PhysicalTherapy", start=D(2026, 3, 8), ongoing=True, response="partial")
    return b


def _ids(result: dict[str, Any]) -> tuple[list[str], list[str], list[str]]:
    return (
        [r["identifier"] for r in result["recommendations"]],
        sorted(s["identifier"] for s in result["suppressed"]),
        sorted(m["finding"] for m in result["missing"]),
    )


def test_builder_gives_the_seed_advice(seed_json: dict[str, Any]) -> None:
    built = reasoner.recommend(_seed_builder().build()).to_json()
    assert _ids(built) == _ids(seed_json)


def test_builder_rejects_unknown_values() -> None:
    with pytest.raises(ValueError, match="laterality"):
        _seed_builder().finding("Sciatica", laterality="up", onset=D(2026, 3, 2))


def test_json_ld_with_the_project_context(seed_json: dict[str, Any]) -> None:
    graph = _seed_builder().build().graph
    expanded = json.loads(graph.serialize(format="json-ld"))
    doc = {"@context": CONTEXT_IRI, "@graph": expanded}
    patient = reasoner.load(json.dumps(doc), format="json-ld")
    assert len(patient.graph) == len(graph)
    assert _ids(reasoner.recommend(patient).to_json()) == _ids(seed_json)


def test_json_ld_compact_document_with_the_project_context() -> None:
    doc = {
        "@context": CONTEXT_IRI,
        "@id": "https://example.org/patient/j",
        "@type": "Patient",
        "assessedOn": "2026-03-22",
        "hasFinding": [
            {
                "@id": "https://example.org/patient/j/f1",
                "@type": ["FindingRecord", "vocab:Sciatica"],
                "status": "gr:Present",
                "onset": "2026-03-10",
                "laterality": "gr:Left",
            }
        ],
    }
    patient = reasoner.load(json.dumps(doc))
    assert reasoner.check(patient, reasoner.load_guideline()) == []


def test_long_one_line_string_is_data_not_a_path() -> None:
    # Regression: a one-line string longer than a file name made load() fail with "File name too long".
    padding = " ".join(f'<urn:p> <urn:x> "{i}" .' for i in range(400))
    text = "<urn:p> a <https://w3id.org/guideline-reasoner/core#Patient> . " + padding
    assert "\n" not in text and len(text) > 4096
    assert reasoner.load(text, format="turtle").iri.toPython() == "urn:p"


def test_blank_node_records_are_given_stable_iris_and_evaluated() -> None:
    text = """@prefix gr: <https://w3id.org/guideline-reasoner/core#> .
@prefix lbp: <https://w3id.org/guideline-reasoner/lbp#> .
@prefix vocab: <https://w3id.org/guideline-reasoner/vocab#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<https://example.org/patient/blank> a gr:Patient ; gr:assessedOn "2026-03-22"^^xsd:date ;
    gr:hasFinding [ a gr:FindingRecord, vocab:Sciatica ; gr:status gr:Present ; gr:onset "2026-03-10"^^xsd:date ] ,
                  [ a gr:FindingRecord, vocab:SaddleAnaesthesia ; gr:status gr:Present ;
                    gr:recordedOn "2026-03-22"^^xsd:date ] .
"""
    assert reasoner.check(reasoner.load(text), reasoner.load_guideline()) == []  # used to raise TypeError
    first, second = reasoner.recommend(text), reasoner.recommend(text)
    assert first.headline.startswith("EMERGENCY")
    because = {f.iri for r in first.recommendations for f in r.because}
    given = {i for i in because if not i.startswith("https://w3id.org/guideline-reasoner/derived/")}
    assert len(given) == 2 and all(i.startswith("https://w3id.org/guideline-reasoner/store/genid/") for i in given)
    assert first.to_json() == second.to_json()  # the same facts give the same IRIs


def test_builder_and_json_ld_enter_the_clinical_breadth_terms() -> None:
    """The generic builder methods take every term added for clinical breadth (findings with a status, drugs,
    measurements in their declared unit); the result validates, is read back from JSON-LD with the project context
    unchanged, and each fact changes the advice as the module says."""
    b = reasoner.PatientBuilder("https://example.org/patient/breadth", birth_date=date(1970, 1, 1), sex="male",
                                assessed_on=date(2026, 3, 22))  # fmt: skip
    b.finding("NeurogenicClaudication", onset=date(2025, 9, 1))
    b.finding("MRUnsafeImplant", recorded_on=date(2026, 3, 22))
    b.finding("RequestsOpioid", recorded_on=date(2026, 3, 22))
    b.finding("PriorLumbarMRI", recorded_on=date(2026, 1, 10))
    b.finding("ImagingConfirmedSpinalStenosis", recorded_on=date(2026, 1, 10))
    b.absent("Pregnancy", "HepaticImpairment")
    b.medication("tacrolimus", start=date(2025, 1, 1), ongoing=True, route="oral")
    b.measurement("PainScoreNRS", 8, recorded_on=date(2026, 3, 22))
    b.measurement("CRP", 4, recorded_on=date(2026, 3, 20))
    patient = b.build()
    gl = reasoner.load_guideline()
    assert reasoner.check(patient, gl) == []
    doc = {"@context": CONTEXT_IRI, "@graph": json.loads(patient.graph.serialize(format="json-ld"))}
    assert len(reasoner.load(json.dumps(doc), format="json-ld").graph) == len(patient.graph)
    applied = reasoner.recommend(patient, guideline=gl).by_identifier()
    assert "LBP-MED-03" in applied  # tacrolimus: NSAIDs contraindicated
    assert "LBP-MED-14" in applied  # an opioid request: PDMP and overdose-risk check
    assert not {"LBP-IMG-04", "LBP-IMG-05"} & set(applied)  # no MRI with an MR-unsafe implant
