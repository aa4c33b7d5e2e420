"""Records shaped as real ones are (Synthea R4 output and EHR exports: urn:uuid fullUrls, SNOMED/RxNorm product codes,
stopped prescriptions without an end, partial dates, foreign subjects), written here with the codes such records
carry: chronic low back pain is recognised, each current analgesic of a combination product is recognised, active
cancer is a documented red flag, a patient without back pain gets no back pain advice, nothing raises."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from rdflib import Namespace

import reasoner
from reasoner.cli import main
from reasoner.input.fhir import read_bundle
from reasoner.namespaces import GR, RDF, RDFS, SKOS, VOCAB

SCT = "http://snomed.info/sct"
RX = "http://www.nlm.nih.gov/research/umls/rxnorm"
PID = "0a56854c-d96f-e6b8-40fb-d55b3e438d27"
SUBJECT = {"reference": f"urn:uuid:{PID}"}


def _entry(resource: dict[str, Any]) -> dict[str, Any]:
    return {"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource, "request": {"method": "POST"}}


def _condition(id_: str, code: str, display: str, onset: str, **more: Any) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": id_,
        "clinicalStatus": {"coding": [{"code": "active"}]},
        "verificationStatus": {"coding": [{"code": "confirmed"}]},
        "code": {"coding": [{"system": SCT, "code": code, "display": display}], "text": display},
        "subject": SUBJECT,
        "onsetDateTime": onset,
        **more,
    }


def _prescription(id_: str, code: str, display: str, status: str, authored: str) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": id_,
        "status": status,
        "intent": "order",
        "medicationCodeableConcept": {"coding": [{"system": RX, "code": code, "display": display}]},
        "subject": SUBJECT,
        "authoredOn": authored,
    }


def _record(*resources: dict[str, Any], birth: str | None = "1946-05-02", **patient: Any) -> dict[str, Any]:
    person = {"resourceType": "Patient", "id": PID, "gender": "female", **patient}
    if birth is not None:
        person["birthDate"] = birth
    encounter = {"resourceType": "Encounter", "id": "e1", "status": "finished", "class": {"code": "AMB"}}
    entries = [_entry(person), _entry(encounter), *(_entry(r) for r in resources)]
    return {"resourceType": "Bundle", "type": "transaction", "timestamp": "2024-03-01T10:00:00Z", "entry": entries}


LBP = _condition("c-lbp", "278860009", "Chronic low back pain (finding)", "2014-02-05T19:41:48-05:00")
CANCER = _condition("c-ca", "254837009", "Malignant neoplasm of breast (disorder)", "2020-06-01T10:00:00-05:00")
NORCO = _prescription(
    "m-norco", "857005", "Acetaminophen 325 MG / HYDROcodone Bitartrate 7.5 MG Oral Tablet", "active", "2024-02-20"
)
OLD = _prescription(
    "m-old", "856987", "Acetaminophen 300 MG / Hydrocodone Bitartrate 5 MG Oral Tablet", "stopped", "2019-01-01"
)


def _drugs(patient: reasoner.Patient) -> set[Any]:
    return {patient.graph.value(e, GR.drug) for e in patient.graph.objects(patient.iri, GR.hasExposure)}


def test_chronic_back_pain_each_ingredient_and_active_cancer_are_recognised() -> None:
    patient = read_bundle(json.dumps(_record(LBP, CANCER, NORCO, OLD)), source="synthea-like")
    findings = {t for f in patient.graph.objects(patient.iri, GR.hasFinding) for t in patient.graph.objects(f, None)}
    assert VOCAB.LowBackPain in findings and VOCAB.HistoryOfCancer in findings
    assert _drugs(patient) == {VOCAB.acetaminophen, VOCAB.hydrocodone}  # the current combination product, each part
    stopped = [u.reason for u in patient.unmapped if u.resource == "MedicationRequest/m-old"]
    assert stopped and "past exposure" in stopped[0] and "unknown end" in stopped[0]
    assert any(u.resource == "Encounter/e1" and "not read" in u.reason for u in patient.unmapped)


def test_the_record_gets_back_pain_advice_and_cancer_is_not_reported_missing() -> None:
    result = reasoner.recommend(read_bundle(json.dumps(_record(LBP, CANCER, NORCO, OLD)), source="t"))
    assert result.recommendations, "a chronic low back pain patient gets advice"
    assert all(m.finding != str(VOCAB.HistoryOfCancer) for m in result.missing)


def test_a_patient_without_back_pain_gets_no_back_pain_advice() -> None:
    asthma = _condition("c-asthma", "195967001", "Asthma", "2001-01-01")
    with_pain = reasoner.recommend(read_bundle(json.dumps(_record(LBP)), source="t"))
    without = reasoner.recommend(read_bundle(json.dumps(_record(asthma)), source="t"))
    pain_items = {r.identifier for r in with_pain.recommendations}
    assert pain_items and not pain_items & {r.identifier for r in without.recommendations}


@pytest.mark.parametrize("birth", ["1946", "1946-02", None, "2090-01-01", "2024-03-02", "1899-12-31"])
def test_an_imprecise_missing_or_future_birth_date_is_never_taken_as_a_date(birth: str | None) -> None:
    patient = read_bundle(json.dumps(_record(LBP, birth=birth)), source="t")
    assert patient.graph.value(patient.iri, GR.birthDate) is None
    assert any(u.resource == "Patient" and "age" in u.reason for u in patient.unmapped)


@pytest.mark.parametrize("url", ["Patient/p1", 'urn:uuid:a"b', "x]{y", "", "http://[bad"])
def test_a_fullurl_of_any_shape_never_raises(url: str) -> None:
    record = _record(LBP)
    record["entry"][0]["fullUrl"] = url
    record["entry"][2]["fullUrl"] = url
    patient = read_bundle(json.dumps(record), source="t")
    assert patient.graph.value(patient.iri, GR.birthDate) is not None


def test_a_status_extension_does_not_override_the_resource() -> None:
    lbp = {**LBP, "verificationStatus": {"coding": [{"code": "refuted"}]}}
    lbp["extension"] = [
        {"url": str(GR.status), "valueCodeableConcept": {"coding": [{"system": str(GR)[:-1], "code": "Present"}]}}
    ]
    patient = read_bundle(json.dumps(_record(lbp)), source="t")
    records = list(patient.graph.objects(patient.iri, GR.hasFinding))
    assert [patient.graph.value(r, GR.status) for r in records] == [GR.Absent]


def test_a_partial_onset_and_another_patients_resource_do_not_refuse_the_record() -> None:
    partial = {**LBP, "onsetDateTime": "2014-03"}
    foreign = {**CANCER, "id": "c-other", "subject": {"reference": "urn:uuid:someone-else"}}
    patient = read_bundle(json.dumps(_record(partial, foreign)), source="t")
    assert any("2014-03" in u.reason for u in patient.unmapped)
    assert any(u.resource == "Condition/c-other" and "not this Bundle's Patient" in u.reason for u in patient.unmapped)


def test_a_large_record_is_read_and_batch_goes_past_a_refused_file(tmp_path: Path) -> None:
    padded = tmp_path / "large.json"
    filler = [_condition(f"c{i}", "195967001", "Asthma", "2001-01-01") for i in range(12_000)]
    padded.write_text(json.dumps(_record(LBP, *filler), indent=2))
    assert padded.stat().st_size > 5 * 1024 * 1024
    assert reasoner.load(padded).graph.value(reasoner.load(padded).iri, GR.sex) == GR.Female
    dead = tmp_path / "deceased.json"
    dead.write_text(json.dumps(_record(LBP, deceasedBoolean=True)))
    out = CliRunner().invoke(main, ["recommend", str(dead)])
    assert out.exit_code == 1 and "deceased" in out.output and "Traceback" not in out.output


def test_the_fhir_size_limit_is_set_from_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from reasoner.rdf import limits

    monkeypatch.setattr(limits, "MAX_FHIR_BYTES", limits.MAX_FHIR_BYTES)  # restored after the test
    path = tmp_path / "record.json"
    filler = [_condition(f"c{i}", "195967001", "Asthma", "2001-01-01") for i in range(4_000)]
    path.write_text(json.dumps(_record(LBP, *filler)))
    out = CliRunner().invoke(main, ["validate", "--max-input-mb", "1", str(path)])
    assert out.exit_code == 1 and "MAX_FHIR_BYTES" in out.output and "Traceback" not in out.output
    assert limits.MAX_FHIR_BYTES == 1024 * 1024


def test_a_medication_contained_in_the_request_is_read() -> None:
    # The FHIR R4 examples (MedicationRequest/medrx0331) name the product in a contained Medication.
    warfarin = {"resourceType": "Medication", "id": "med0350", "code": {"coding": [{"system": RX, "code": "114194"}]}}
    request = {**_prescription("m-w", "0", "", "active", "2024-02-01"), "contained": [warfarin]}
    del request["medicationCodeableConcept"]
    request["medicationReference"] = {"reference": "#med0350"}
    patient = read_bundle(json.dumps(_record(request)), source="t")
    assert _drugs(patient) == {VOCAB.warfarin}


def test_a_present_finding_dated_only_to_the_month_is_dated_known_by_the_month_end() -> None:
    # The IPS example Bundle-01: breast cancer in remission with onsetDateTime "2015-01" and no other date was
    # read without a date, and the patient shapes then refused the whole record.
    cancer = {**CANCER, "onsetDateTime": "2015-01", "clinicalStatus": {"coding": [{"code": "remission"}]}}
    patient = read_bundle(json.dumps(_record(cancer)), source="t")
    (record,) = patient.graph.objects(patient.iri, GR.hasFinding)
    assert patient.graph.value(record, GR.onset) is None  # no day is invented for a duration
    assert str(patient.graph.value(record, GR.recordedOn)) == "2015-01-31"
    assert reasoner.recommend(patient).as_of == "2024-03-01"


def test_a_year_only_date_in_the_assessment_year_is_known_by_the_assessment_date() -> None:
    patient = read_bundle(json.dumps(_record({**CANCER, "onsetDateTime": "2024"})), source="t")
    (record,) = patient.graph.objects(patient.iri, GR.hasFinding)
    assert str(patient.graph.value(record, GR.recordedOn)) == "2024-03-01"
    assert any("dated to the year only" in u.reason for u in patient.unmapped)


def test_malignant_neoplastic_disease_is_a_history_of_cancer() -> None:
    # The FHIR R4 examples' Condition/f202 codes its cancer with the general SNOMED concept.
    general = _condition("c-f202", "363346000", "Malignant neoplastic disease", "2012-12-01")
    patient = read_bundle(json.dumps(_record(general)), source="t")
    (record,) = patient.graph.objects(patient.iri, GR.hasFinding)
    assert (record, None, VOCAB.HistoryOfCancer) in patient.graph


LBP_NS = Namespace("https://w3id.org/guideline-reasoner/lbp#")
BIRTH_FIELD = str(GR.BirthDateField)
BANDS = {
    str(c) for p in (GR.olderThanYears, GR.notOlderThanYears) for c in reasoner.load_guideline().graph.subjects(p, None)
}


def _bands(result: reasoner.Recommendations) -> set[str]:
    """The age bands the patient was put in."""
    return {str(c) for c in result.derived.objects(None, RDF.type)} & BANDS


@pytest.mark.parametrize(
    ("birth", "first", "last"), [("1946", "1946-01-01", "1946-12-31"), ("1956-02", "1956-02-01", "1956-02-29")]
)
def test_a_partial_birth_date_is_kept_as_the_interval_it_allows(birth: str, first: str, last: str) -> None:
    patient = read_bundle(json.dumps(_record(LBP, birth=birth)), source="t")
    g = patient.graph
    assert (str(g.value(patient.iri, GR.bornNotBefore)), str(g.value(patient.iri, GR.bornNotAfter))) == (first, last)


def test_a_birth_year_that_decides_every_age_band_gives_the_advice_of_an_exact_date() -> None:
    year = reasoner.recommend(read_bundle(json.dumps(_record(LBP, birth="1946")), source="t"), as_of=date(2026, 12, 6))
    exact = reasoner.recommend(read_bundle(json.dumps(_record(LBP)), source="t"), as_of=date(2026, 12, 6))
    assert {r.identifier for r in year.recommendations} == {r.identifier for r in exact.recommendations}
    assert _bands(year) == _bands(exact) and str(LBP_NS.AgeOver75Patient) in _bands(year)  # 79 or 80: over 75
    assert BIRTH_FIELD not in {m.finding for m in year.missing}


def test_a_birth_month_straddling_an_age_threshold_leaves_that_band_unknown_and_reported() -> None:
    # born in June 1956, evaluated 2027-06-15: 70 or 71, so "over 70" is neither held nor refuted
    result = reasoner.recommend(
        read_bundle(json.dumps(_record(LBP, birth="1956-06")), source="t"), as_of=date(2027, 6, 15)
    )
    bands = _bands(result)
    assert str(LBP_NS.AgeOver65Patient) in bands and str(LBP_NS.AgeOver70Patient) not in bands
    assert str(LBP_NS.AgeAtMost50Patient) not in bands
    missing = [m for m in result.missing if m.finding == BIRTH_FIELD]
    assert missing and missing[0].label == "date of birth (age not known precisely enough)"


@pytest.mark.parametrize("birth", [None, "2090-01-01", "1899-12-31"])
def test_a_missing_or_impossible_birth_date_is_reported_missing_and_never_young(birth: str | None) -> None:
    result = reasoner.recommend(read_bundle(json.dumps(_record(LBP, birth=birth)), source="t"))
    assert BIRTH_FIELD in {m.finding for m in result.missing}
    assert not _bands(result)  # in particular not "50 or under"


def test_an_exact_birth_date_decides_every_band_and_is_not_reported_missing() -> None:
    result = reasoner.recommend(read_bundle(json.dumps(_record(LBP)), source="t"), as_of=date(2024, 3, 1))  # 77
    assert _bands(result) >= {str(LBP_NS.AgeOver75Patient)}
    assert BIRTH_FIELD not in {m.finding for m in result.missing}


# -- codes from published value sets (ontology/vocabulary/valuesets-records.ttl) ---------------------------------------

ICD = "http://hl7.org/fhir/sid/icd-10-cm"


def _coded(id_: str, system: str, code: str, display: str) -> dict[str, Any]:
    return {**_condition(id_, code, display, "2024-02-10"), "code": {"coding": [{"system": system, "code": code}]}}


def _types(patient: reasoner.Patient) -> set[Any]:
    return {t for f in patient.graph.objects(patient.iri, GR.hasFinding) for t in patient.graph.objects(f, RDF.type)}


@pytest.mark.parametrize(
    ("system", "code", "concept"),
    [
        (ICD, "M54.31", VOCAB.Sciatica),  # VSAC chronic pain conditions: sciatica, right side
        (ICD, "M54.41", VOCAB.LowBackPainWithSciatica),  # lumbago with sciatica: both findings at once
        (ICD, "M54.5", VOCAB.LowBackPain),  # the pre-2022 ICD-10-CM low back pain code
        (ICD, "M54.17", VOCAB.RadicularLegPain),  # lumbosacral radiculopathy
        (SCT, "303081002", VOCAB.NeurogenicClaudication),
        (SCT, "161894002", VOCAB.LowBackPain),  # the CMS166 Low Back Pain member
    ],
)
def test_a_back_pain_code_from_a_published_value_set_gives_back_pain_advice(
    system: str, code: str, concept: Any
) -> None:
    patient = read_bundle(json.dumps(_record(_coded("c-back", system, code, "as the EHR sends it"))), source="t")
    assert concept in _types(patient) and not [u for u in patient.unmapped if u.resource == "Condition/c-back"]
    assert reasoner.recommend(patient).recommendations, "a back pain or sciatica patient gets advice"


def test_lumbago_with_sciatica_is_both_low_back_pain_and_sciatica() -> None:
    # One ICD-10-CM code may not sit on two unrelated concepts (QC duplicate-code): it sits on their intersection.
    assert {VOCAB.LowBackPain, VOCAB.Sciatica} <= set(
        reasoner.load_guideline().graph.objects(VOCAB.LowBackPainWithSciatica, RDFS.subClassOf)
    )


@pytest.mark.parametrize(
    ("code", "display", "drug"),
    [  # products from the VSAC immunosuppressive drugs value set; ingredients as US Core lists them
        ("1664461", "24 HR tacrolimus 1 MG Extended Release Oral Tablet", VOCAB.tacrolimus),
        ("835894", "cyclosporine, modified 25 MG Oral Capsule", VOCAB.ciclosporin),
        ("200060", "mycophenolate mofetil 500 MG Oral Tablet", VOCAB.mycophenolate),
        ("327361", "adalimumab", VOCAB.adalimumab),
        ("1256", "Azathioprine", VOCAB.azathioprine),
    ],
)
def test_a_systemic_immunosuppressant_product_or_ingredient_makes_the_back_pain_patient_immunosuppressed(
    code: str, display: str, drug: Any
) -> None:
    alone = {
        r.identifier for r in reasoner.recommend(read_bundle(json.dumps(_record(LBP)), source="t")).recommendations
    }
    request = _prescription("m-is", code, display, "active", "2024-02-20")
    taking = read_bundle(json.dumps(_record(LBP, request)), source="t")
    assert _drugs(taking) == {drug}
    added = {r.identifier for r in reasoner.recommend(taking).recommendations} - alone
    assert {"LBP-IMG-07-SOON", "LBP-IMG-07-LABS"} <= added  # immunosuppression: image soon, check inflammatory markers


def test_no_eye_or_skin_product_codes_a_systemic_immunosuppressant_or_steroid() -> None:
    # Ciclosporin, tacrolimus and prednisolone also come as eye drops or ointment, which suppress nothing systemically.
    g = reasoner.load_guideline().graph
    local = re.compile(r"ophthalmic|topical|ointment|cream|otic|drops|eye|inhal|nasal|rectal", re.IGNORECASE)
    classes = {*g.transitive_subjects(RDFS.subClassOf, VOCAB.Immunosuppressant)}
    classes |= {*g.transitive_subjects(RDFS.subClassOf, VOCAB.SystemicCorticosteroid)}
    checked = 0
    for drug in {d for c in classes for d in g.subjects(RDF.type, c)}:
        for coding in g.objects(drug, GR.coding):
            note = str(g.value(coding, SKOS.note) or "")
            assert not local.search(note), f"{drug}: {note}"
            checked += bool(note)
    assert checked > 40  # the products coded from the VSAC value set are among those checked
