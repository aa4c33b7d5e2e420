"""FHIR R4 input: the seed case as a Bundle gives the seed advice, codes map through the ontology, finding status
semantics, unmapped codes listed, provenance down to the FHIR resource, and clear errors for malformed Bundles."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from rdflib import Literal, URIRef

import reasoner
from reasoner.authoring.cases import load_case
from reasoner.cli import main
from reasoner.input.fhir import read_bundle
from reasoner.namespaces import GR, PROV, RDF, VOCAB
from tests.conftest import ROOT

FHIR_SEED = ROOT / "examples" / "seed-case.fhir.json"
SCT = "http://snomed.info/sct"
PAT = {"reference": "Patient/p1"}


@pytest.fixture(scope="module")
def fhir_result() -> reasoner.Recommendations:
    return reasoner.recommend(FHIR_SEED)  # detected as FHIR from the content, not the file name


def _bundle(*resources: dict[str, Any], timestamp: str = "2026-03-22T09:00:00Z") -> str:
    patient = {"resourceType": "Patient", "id": "p1", "birthDate": "1970-01-01", "gender": "male"}
    entries = [
        {"fullUrl": f"https://ehr.example/fhir/{r['resourceType']}/{r['id']}", "resource": r}
        for r in (patient, *resources)
    ]
    return json.dumps({"resourceType": "Bundle", "type": "collection", "timestamp": timestamp, "entry": entries})


def _condition(id_: str, system: str, code: str, **more: Any) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": id_,
        "subject": PAT,
        "code": {"coding": [{"system": system, "code": code}]},
        "recordedDate": "2026-03-20",
        **more,
    }


def _status_of(patient: reasoner.Patient, resource: str) -> URIRef | None:
    record = URIRef(f"https://ehr.example/fhir/Patient/p1/record/{resource.replace('/', '-')}")
    value = patient.graph.value(record, GR.status)
    return value if isinstance(value, URIRef) else None


def _status(code: str, system: str = "http://terminology.hl7.org/CodeSystem/condition-ver-status") -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def test_the_seed_bundle_gives_the_same_advice_as_the_turtle_seed(
    fhir_result: reasoner.Recommendations, seed_result: reasoner.Recommendations
) -> None:
    def advice(r: reasoner.Recommendations) -> Any:
        return (
            r.headline,
            r.as_of,
            # fact labels differ: the Turtle seed labels its exposures by hand
            [(x.identifier, x.urgency, x.within_hours, len(x.because), sorted(x.via)) for x in r.recommendations],
            [(s.identifier, s.by) for s in r.suppressed],
            [(m.finding, m.needed_for) for m in r.missing],
            [(t.agent, t.response, t.current) for t in r.prior_treatments],
        )

    assert advice(fhir_result) == advice(seed_result)
    assert fhir_result.unmapped == []  # every resource of the seed Bundle is read


def test_recommend_command_reads_a_bundle() -> None:
    out = CliRunner().invoke(main, ["recommend", str(FHIR_SEED), "--format", "json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["recommendations"][0]["identifier"] == "LBP-IMG-04" and data["unmapped"] == []


def test_each_fact_keeps_its_fhir_resource_and_the_provenance_shows_it(fhir_result: reasoner.Recommendations) -> None:
    mri = fhir_result.by_identifier()["LBP-IMG-04"]
    # the weakness, read from its Condition; then MR safety, undocumented: an implied unknown no resource gave
    assert [f.source for f in mri.because] == ["https://example.org/fhir/Condition/weakness-day21", None]
    assert mri.to_json()["because"][0]["source"] == "https://example.org/fhir/Condition/weakness-day21"
    graph = fhir_result.to_graph()
    record = URIRef(mri.because[0].iri)
    assert (record, PROV.wasDerivedFrom, URIRef("https://example.org/fhir/Condition/weakness-day21")) in graph
    assert "[from Condition/weakness-day21]" in fhir_result.to_markdown()
    patient = reasoner.load(FHIR_SEED)
    records = {
        o for p in (GR.hasFinding, GR.hasExposure, GR.hasMeasurement) for o in patient.graph.objects(patient.iri, p)
    }
    assert len(records) == 18 and all(patient.graph.value(r, PROV.wasDerivedFrom) is not None for r in records)


def test_status_semantics_absent_unknown_present_and_history_items() -> None:
    resolved = _status("resolved", "http://terminology.hl7.org/CodeSystem/condition-clinical")
    lbp = "https://w3id.org/guideline-reasoner/vocab"  # the shared vocabulary's own code system
    text = _bundle(
        _condition("refuted", lbp, "Fever", verificationStatus=_status("refuted")),
        _condition("provisional", lbp, "BowelDysfunction", verificationStatus=_status("provisional")),
        _condition("confirmed", SCT, "23056005", onsetDateTime="2026-03-01"),
        _condition("resolved-fever", lbp, "Immunosuppression", clinicalStatus=resolved),
        _condition("resolved-cancer", lbp, "HistoryOfCancer", clinicalStatus=resolved),
        _condition("error", lbp, "SaddleAnaesthesia", verificationStatus=_status("entered-in-error")),
        {
            "resourceType": "Observation",
            "id": "no",
            "status": "final",
            "subject": PAT,
            "valueBoolean": False,
            "code": {"coding": [{"system": lbp, "code": "IntravenousDrugUse"}]},
        },
        {
            "resourceType": "Observation",
            "id": "absent-code",
            "status": "final",
            "subject": PAT,
            "code": {"coding": [{"system": lbp, "code": "UnexplainedWeightLoss"}]},
            "valueCodeableConcept": {"coding": [{"system": SCT, "code": "2667000"}]},
        },
        {
            "resourceType": "Observation",
            "id": "not-asked",
            "status": "final",
            "subject": PAT,
            "code": {"coding": [{"system": lbp, "code": "SexualDysfunction"}]},
            "dataAbsentReason": {
                "coding": [{"system": "http://terminology.hl7.org/CodeSystem/data-absent-reason", "code": "not-asked"}]
            },
        },
    )
    patient = reasoner.load(text)
    expected = {
        "Condition/refuted": GR.Absent,
        "Condition/provisional": GR.Unknown,
        "Condition/confirmed": GR.Present,
        "Condition/resolved-fever": GR.Absent,
        "Condition/resolved-cancer": GR.Present,  # gr:historical: a resolved cancer is still a history of cancer
        "Condition/error": None,
        "Observation/no": GR.Absent,
        "Observation/absent-code": GR.Absent,
        "Observation/not-asked": GR.Unknown,
    }
    assert {name: _status_of(patient, name) for name in expected} == expected
    assert [u.resource for u in patient.unmapped] == ["Condition/error"]
    result = reasoner.recommend(patient)
    missing = {m.finding for m in result.missing}
    assert str(VOCAB.SaddleAnaesthesia) in missing and str(VOCAB.BowelDysfunction) in missing  # unknown stays unknown
    assert str(VOCAB.IntravenousDrugUse) not in missing and str(VOCAB.Fever) not in missing


def test_medications_procedures_allergies_and_measurements() -> None:
    rx = "http://www.nlm.nih.gov/research/umls/rxnorm"
    text = _bundle(
        _condition("sciatica", SCT, "23056005", onsetDateTime="2026-03-01"),
        {
            "resourceType": "MedicationStatement",
            "id": "naproxen",
            "status": "active",
            "subject": PAT,
            "medicationReference": {"reference": "Medication/naproxen"},
            "effectivePeriod": {"start": "2026-03-10"},
            "dosage": [
                {
                    "route": {"coding": [{"system": SCT, "code": "26643006"}]},
                    "doseAndRate": [{"doseQuantity": {"value": 500, "unit": "mg", "code": "mg"}}],
                }
            ],
        },
        {"resourceType": "Medication", "id": "naproxen", "code": {"coding": [{"system": rx, "code": "7258"}]}},
        {
            "resourceType": "MedicationRequest",
            "id": "ibu",
            "status": "completed",
            "intent": "order",
            "subject": PAT,
            "medicationCodeableConcept": {"coding": [{"system": rx, "code": "5640"}]},
            "dosageInstruction": [
                {
                    "timing": {"repeat": {"boundsPeriod": {"start": "2026-03-02", "end": "2026-03-05"}}},
                    "doseAndRate": [{"doseQuantity": {"value": 0.4, "unit": "g", "code": "g"}}],
                }
            ],
        },
        {
            "resourceType": "Procedure",
            "id": "pt",
            "status": "completed",
            "subject": PAT,
            "code": {"coding": [{"system": SCT, "code": "91251008"}]},
            "performedPeriod": {"start": "2026-03-03", "end": "2026-03-17"},
            "outcome": {"coding": [{"system": "https://w3id.org/guideline-reasoner/core", "code": "NoBenefit"}]},
        },
        {
            "resourceType": "AllergyIntolerance",
            "id": "aspirin",
            "patient": PAT,
            "code": {"coding": [{"system": rx, "code": "1191"}]},
            "recordedDate": "2020-01-01",
        },
        {
            "resourceType": "Observation",
            "id": "egfr",
            "status": "final",
            "subject": PAT,
            "code": {"coding": [{"system": "http://loinc.org", "code": "33914-3"}]},
            "effectiveDateTime": "2026-03-20",
            "valueQuantity": {"value": 25, "unit": "mL/min/{1.73_m2}", "code": "mL/min/{1.73_m2}"},
        },
    )
    patient = reasoner.load(text)
    g = patient.graph
    base = "https://ehr.example/fhir/Patient/p1/record/"
    naproxen, ibu, pt = (
        URIRef(base + "MedicationStatement-naproxen"),
        URIRef(base + "MedicationRequest-ibu"),
        URIRef(base + "Procedure-pt"),
    )
    assert g.value(naproxen, GR.drug) == VOCAB.naproxen and g.value(naproxen, GR.ongoing) == Literal(True)
    assert g.value(naproxen, GR.route) == GR.Oral and float(g.value(naproxen, GR.doseMg)) == 500.0  # type: ignore[arg-type]
    assert g.value(ibu, GR.drug) == VOCAB.ibuprofen and str(g.value(ibu, GR.end)) == "2026-03-05"
    assert g.value(ibu, GR.doseMg) is None  # grams are not milligrams: listed, never converted silently
    assert g.value(pt, GR.therapy) == VOCAB.PhysicalTherapy and g.value(pt, GR.response) == GR.NoBenefit
    assert (URIRef(base + "AllergyIntolerance-aspirin"), RDF.type, VOCAB.NSAIDHypersensitivity) in g
    assert float(g.value(URIRef(base + "Observation-egfr"), GR.value)) == 25.0  # type: ignore[arg-type]
    assert [(u.resource, u.reason) for u in patient.unmapped] == [
        ("MedicationRequest/ibu", "dose unit 'g' is not read (mg only)")
    ]
    result = reasoner.recommend(patient)
    assert "LBP-MED-03" in result.by_identifier()  # NSAID hypersensitivity and low eGFR: avoid NSAIDs


def test_unmapped_codes_are_listed_in_json_and_report_never_dropped() -> None:
    text = _bundle(
        _condition("sciatica", SCT, "23056005", onsetDateTime="2026-03-01"),
        _condition("fever", SCT, "386661006"),  # the ontology holds this code only as unverified
        {
            **_condition("unknown", SCT, "999999999"),
            "code": {"coding": [{"system": SCT, "code": "999999999", "display": "Made-up finding"}]},
        },
        {"resourceType": "Encounter", "id": "e1", "status": "finished", "class": {"code": "AMB"}, "subject": PAT},
    )
    result = reasoner.recommend(text)
    listed = {u["resource"]: u for u in result.to_json()["unmapped"]}
    assert set(listed) == {"Condition/fever", "Condition/unknown", "Encounter/e1"}
    assert "unverified code of fever" in listed["Condition/fever"]["reason"]
    assert (
        listed["Condition/unknown"]["code"] == "999999999"
        and listed["Condition/unknown"]["display"] == "Made-up finding"
    )
    assert "Encounter is not read" in listed["Encounter/e1"]["reason"]
    report = result.to_markdown()
    assert "## Input not used" in report and "by type: Condition 2, Encounter 1 (the JSON output lists" in report
    assert "999999999" not in report  # one line per type, not per resource: the JSON keeps each code
    assert str(VOCAB.Fever) in {m.finding for m in result.missing}  # an unmapped fever is unknown, not absent


def test_a_mapping_added_in_turtle_is_used_without_code_changes(tmp_path: Path) -> None:
    text = _bundle(_condition("spasm", SCT, "123456789"))
    assert read_bundle(text, source="t").unmapped
    tree = tmp_path / "ontology"
    shutil.copytree(ROOT / "ontology", tree)
    (tree / "lbp" / "valuesets-test.ttl").write_text(
        """@prefix gr: <https://w3id.org/guideline-reasoner/core#> .
        @prefix vocab: <https://w3id.org/guideline-reasoner/vocab#> .
        vocab:SeverePain gr:coding [ gr:system <http://snomed.info/sct> ; gr:code "123456789" ] ."""
    )
    extended = reasoner.load_guideline(tree / "lbp", cache_root=tmp_path / "cache")
    patient = read_bundle(text, source="t", guideline=extended)
    assert patient.unmapped == ()
    assert (
        URIRef("https://ehr.example/fhir/Patient/p1/record/Condition-spasm"),
        RDF.type,
        VOCAB.SeverePain,
    ) in patient.graph


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda b: b.__setitem__("resourceType", "Patient"), "expected a FHIR Bundle, found resourceType 'Patient'"),
        (lambda b: b["entry"].append(copy.deepcopy(b["entry"][0])), "expected exactly one Patient resource, found 2"),
        (lambda b: b["entry"][0]["resource"].__setitem__("birthDate", "soon"), "the Patient cannot be read"),
        (lambda b: b["entry"][0]["resource"].__setitem__("deceasedBoolean", True), "recorded as deceased"),
    ],
)
def test_only_the_patient_itself_refuses_a_bundle(tmp_path: Path, change: Any, expected: str) -> None:
    bundle = json.loads(FHIR_SEED.read_text())
    change(bundle)
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(bundle))
    with pytest.raises(reasoner.PatientParseError) as err:
        reasoner.load(path)
    assert str(path) in str(err.value) and expected in str(err.value)
    out = CliRunner().invoke(main, ["recommend", str(path)])
    assert out.exit_code == 1 and expected in out.output and "Traceback" not in out.output


@pytest.mark.parametrize(
    ("change", "resource", "expected"),
    [
        (
            lambda b: b["entry"][1]["resource"].__setitem__("onsetDateTime", "March 2nd"),
            "Condition/sciatica",
            "onsetDateTime",
        ),
        (lambda b: b["entry"][2]["resource"].pop("status"), "Observation/slr", "status"),
        (
            lambda b: b["entry"][1]["resource"].__setitem__("subject", {"reference": "Patient/other"}),
            "Condition/sciatica",
            "about Patient/other, not this Bundle's Patient",
        ),
        (
            lambda b: b["entry"][1]["resource"].__setitem__("subject", {"identifier": {"value": "MRN1"}}),
            "Condition/sciatica",
            "subject given only by identifier",
        ),
        (
            lambda b: b["entry"][1]["resource"].__setitem__("resourceType", "Conditon"),
            "Conditon/sciatica",
            "unknown resourceType 'Conditon'",
        ),
    ],
)
def test_one_imperfect_resource_is_listed_and_the_rest_is_used(change: Any, resource: str, expected: str) -> None:
    bundle = json.loads(FHIR_SEED.read_text())
    change(bundle)
    patient = read_bundle(json.dumps(bundle), source="t")
    reasons = [u.reason for u in patient.unmapped if u.resource == resource]
    assert any(expected in r for r in reasons), reasons
    kept = URIRef("https://example.org/fhir/Patient/seed-v02/record/Observation-fever")
    assert (kept, RDF.type, VOCAB.Fever) in patient.graph or any(
        u.resource == "Observation/fever" for u in patient.unmapped
    )
    assert len(set(patient.graph.objects(None, GR.hasFinding))) >= 5  # the rest of the record is used


def test_invalid_json_is_a_parse_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "truncated.json"
    path.write_text(FHIR_SEED.read_text()[:500])
    with pytest.raises(reasoner.PatientParseError, match=r"truncated\.json: cannot read patient data: invalid JSON"):
        reasoner.load(path)


EXTRA_EGFR = """@prefix dcterms: <http://purl.org/dc/terms/> .
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
    owl:equivalentClass vocab:EGFR ;
    rdfs:label "kidney filtration rate"@en ;
    skos:definition "A second module's own name for the estimated glomerular filtration rate."@en ;
    gr:coding [ gr:code "33914-3" ; gr:system <http://loinc.org> ] ;
    gr:unit "mL/min/{1.73_m2}" .
"""


def test_a_code_two_modules_share_types_the_record_with_both_concepts(tmp_path: Path) -> None:
    """Regression: a FHIR eGFR Observation was typed with the first concept carrying the code only, so the second
    module's rules on its own concept never saw it."""
    extra = tmp_path / "renal-extra"
    extra.mkdir()
    (extra / "concepts.ttl").write_text(EXTRA_EGFR)
    gl = reasoner.load_guideline(ROOT / "ontology" / "vocabulary", ROOT / "ontology" / "lbp", extra)
    observation = {
        "resourceType": "Observation",
        "id": "egfr",
        "status": "final",
        "subject": PAT,
        "code": {"coding": [{"system": "http://loinc.org", "code": "33914-3"}]},
        "effectiveDateTime": "2026-03-20",
        "valueQuantity": {"value": 25, "unit": "mL/min/{1.73_m2}", "code": "mL/min/{1.73_m2}"},
    }
    patient = read_bundle(_bundle(observation), source="bundle.json", guideline=gl)
    record = URIRef("https://ehr.example/fhir/Patient/p1/record/Observation-egfr")
    kinds = set(patient.graph.objects(record, RDF.type))
    assert {VOCAB.EGFR, URIRef("https://example.org/renal-extra#KidneyFiltration")} <= kinds


def test_the_clinical_breadth_terms_are_read_from_a_bundle() -> None:
    """The terms added for clinical breadth: tacrolimus by its RxNorm product code, a pain score and CRP by LOINC,
    and findings (neurogenic claudication, an MR-unsafe implant, pregnancy documented absent, an opioid request, a
    prior MRI showing a disc herniation) by the vocabulary's own code system, which every term has, standard code or
    not (tests/test_fhir_records.py reads the standard codes from published value sets)."""
    rx, own = "http://www.nlm.nih.gov/research/umls/rxnorm", "https://w3id.org/guideline-reasoner/vocab"

    def observation(id_: str, code: str, value: float, unit: str) -> dict[str, Any]:
        quantity = {"value": value, "unit": unit, "code": unit, "system": "http://unitsofmeasure.org"}
        return {
            "resourceType": "Observation",
            "id": id_,
            "status": "final",
            "subject": PAT,
            "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
            "effectiveDateTime": "2026-03-20",
            "valueQuantity": quantity,
        }

    text = _bundle(
        _condition("claudication", own, "NeurogenicClaudication", onsetDateTime="2025-09-01"),
        _condition("implant", own, "MRUnsafeImplant"),
        _condition("pregnancy", own, "Pregnancy", verificationStatus=_status("refuted")),
        _condition("asks", own, "RequestsOpioid"),
        _condition("mri", own, "PriorLumbarMRI", onsetDateTime="2026-01-10"),
        _condition("hernia", own, "ImagingConfirmedDiscHerniation", onsetDateTime="2026-01-10"),
        {
            "resourceType": "MedicationStatement",
            "id": "tac",
            "status": "active",
            "subject": PAT,
            "medicationCodeableConcept": {"coding": [{"system": rx, "code": "198377"}]},
            "effectivePeriod": {"start": "2025-01-01"},
        },
        observation("pain", "72514-3", 8, "{score}"),
        observation("crp", "1988-5", 4, "mg/L"),
    )
    patient = reasoner.load(text)
    g, base = patient.graph, "https://ehr.example/fhir/Patient/p1/record/"
    assert not patient.unmapped
    for resource, concept in [
        ("Condition-claudication", VOCAB.NeurogenicClaudication),
        ("Condition-implant", VOCAB.MRUnsafeImplant),
        ("Condition-pregnancy", VOCAB.Pregnancy),
        ("Condition-asks", VOCAB.RequestsOpioid),
        ("Condition-mri", VOCAB.PriorLumbarMRI),
        ("Condition-hernia", VOCAB.ImagingConfirmedDiscHerniation),
        ("Observation-pain", VOCAB.PainScoreNRS),
        ("Observation-crp", VOCAB.CRP),
    ]:
        assert (URIRef(base + resource), RDF.type, concept) in g, resource
    assert _status_of(patient, "Condition/pregnancy") == GR.Absent
    assert _status_of(patient, "Condition/implant") == GR.Present
    assert g.value(URIRef(base + "MedicationStatement-tac"), GR.drug) == VOCAB.tacrolimus
    assert float(g.value(URIRef(base + "Observation-pain"), GR.value)) == 8.0  # type: ignore[arg-type]
    applied = reasoner.recommend(patient).by_identifier()
    assert "LBP-MED-03" in applied  # tacrolimus: NSAIDs contraindicated
    assert "LBP-MED-10" in applied or "LBP-MED-14" in applied  # the opioid request brings the CDC safety advice
    assert not {"LBP-IMG-05", "LBP-IMG-04"} & set(applied)  # no MRI with an MR-unsafe implant


AGE_CASES = ROOT / "ontology" / "lbp" / "cases"
AGE_BUNDLE = AGE_CASES / "patients" / "impossible-birth-date-red-flags-negative.fhir.json"


def _age_outcome(result: reasoner.Recommendations) -> Any:
    return (
        sorted(r.identifier for r in result.recommendations),
        sorted((s.identifier, tuple(s.by)) for s in result.suppressed),
        sorted((m.finding, tuple(m.needed_for)) for m in result.missing),
    )


@pytest.mark.parametrize(
    ("birth", "case", "needed"),
    [
        (None, "age-unknown-no-birth-date-red-flags-negative", {"LBP-IMG-01", "LBP-IMG-02", "LBP-IMG-08"}),
        ("2030-01-01", "age-unknown-no-birth-date-red-flags-negative", {"LBP-IMG-01", "LBP-IMG-02", "LBP-IMG-08"}),
        ("1946", "age-birth-year-straddles-70-red-flags-negative", {"LBP-IMG-01", "LBP-IMG-08", "LBP-IMG-08-ACP2011"}),
        ("1980", "age-birth-year-under-50-red-flags-negative", set()),
        ("1940", "age-birth-year-over-70-red-flags-negative", set()),
    ],
)
def test_a_fhir_birth_date_gives_the_outcome_of_its_turtle_case(birth: str | None, case: str, needed: set[str]) -> None:
    # every red flag documented negative: only the birth date differs, read from FHIR as the Turtle case states it
    bundle = json.loads(AGE_BUNDLE.read_text(encoding="utf-8"))
    person = bundle["entry"][0]["resource"]
    person.pop("birthDate")
    if birth is not None:
        person["birthDate"] = birth
    expected = load_case(AGE_CASES / f"{case}.yaml")
    fhir = reasoner.recommend(read_bundle(json.dumps(bundle), source="t"), as_of=expected.as_of)
    turtle = reasoner.recommend(expected.patient, as_of=expected.as_of)
    assert _age_outcome(fhir) == _age_outcome(turtle)
    reported = {m.finding: {i.rsplit("#", 1)[-1] for i in m.needed_for} for m in fhir.missing}
    applied = {r.identifier for r in fhir.recommendations}
    if needed:  # the birth date is asked for, naming the reassurance withheld and the advice left undecided
        assert needed <= reported[str(GR.BirthDateField)] and not {"LBP-IMG-01", "LBP-IMG-02"} & applied
    else:
        assert str(GR.BirthDateField) not in reported


def test_the_birth_date_is_not_needed_for_advice_superseded_whatever_the_age() -> None:
    # a man of 65 or 66: the date of birth decides ACP 2011's 'defer radiography' (men over 65), unless a fever has
    # already brought the infection pathway, which supersedes that statement at any age (regression: it was listed)
    def needed(case: str) -> set[str]:
        expected = load_case(AGE_CASES / f"{case}.yaml")
        result = reasoner.recommend(expected.patient, as_of=expected.as_of)
        birth = [m for m in result.missing if m.finding == str(GR.BirthDateField)]
        return {i.rsplit("#", 1)[-1] for m in birth for i in m.needed_for}

    assert "LBP-IMG-08-ACP2011" in needed("age-birth-year-straddles-65-man-defer-radiography-undecided")
    assert "LBP-IMG-08-ACP2011" not in needed("age-birth-year-straddles-65-man-fever-infection-pathway")
