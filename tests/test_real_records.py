"""Real public FHIR R4 records nobody on the project wrote: HL7's International Patient Summary example Bundles and the
FHIR R4 specification's examples (tests/suites.py says where they come from). Every Bundle of type document,
collection or transaction with one Patient is read as it is; each R4 example Patient with resources about it is read as
one collection Bundle of those resources, exactly as published.

What a clinician expects is read from each record's own text here, independently of the reader's code mappings: no
traceback and no refusal for one bad resource (every resource is used or listed in `unmapped` with a reason); a Bundle
without exactly one Patient is refused with a clear error; back pain advice exactly when the record has back pain,
sciatica or radiculopathy; each current analgesic or anticoagulant recognised as a current exposure; cancer (active or
in remission) recognised as a history of cancer.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

import reasoner
from reasoner.errors import PatientParseError
from reasoner.input.fhir import read_bundle
from reasoner.namespaces import GR, PROV, VOCAB
from tests.suites import fhir_package

IPS = fhir_package("hl7.fhir.uv.ips")
R4 = fhir_package("hl7.fhir.r4.examples")
TYPES = {"document", "collection", "transaction"}
MAX_BYTES = 1_000_000  # the specification's definitional Bundles (thousands of entries, no Patient) are left out
READ = {"Condition", "Observation", "AllergyIntolerance", "Procedure", "MedicationStatement", "MedicationRequest"}
LBP_MODULE = "https://w3id.org/guideline-reasoner/lbp"

# The test's own reading of a record, by the words its codings and texts carry (not by the reader's codes).
BACK_PAIN = re.compile(r"back pain|lumbago|sciatica|radiculopathy", re.I)
CANCER = re.compile(r"malignan|carcinoma|cancer|leuka?emia|lymphoma|sarcoma|melanoma", re.I)
FAMILY = re.compile(r"family history", re.I)
DRUGS = {  # word in a product's name -> the ingredient a clinician reads in it
    r"warfarin": "warfarin",
    r"apixaban": "apixaban",
    r"rivaroxaban": "rivaroxaban",
    r"oxycodone|percocet": "oxycodone",
    r"hydrocodone|vicodin|norco": "hydrocodone",
    r"fentanyl": "fentanyl",
    r"morphine": "morphine",
    r"tramadol": "tramadol",
    r"acetaminophen|paracetamol|tylenol|vicodin|percocet|norco": "acetaminophen",
    r"ibuprofen": "ibuprofen",
    r"naproxen": "naproxen",
}


def _bundles() -> list[Path]:
    return sorted([*IPS.glob("Bundle-*.json"), *R4.glob("Bundle-*.json")])


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _patients(bundle: dict[str, Any]) -> int:
    return sum((e.get("resource") or {}).get("resourceType") == "Patient" for e in bundle.get("entry") or [])


def _kept(path: Path) -> bool:
    return path.stat().st_size <= MAX_BYTES and _load(path).get("type") in TYPES


def _assembled() -> dict[str, dict[str, Any]]:
    """Each R4 example Patient with every example resource of a read type whose subject is that Patient."""
    about: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(R4.glob("*.json")):
        if path.name.split("-")[0] not in READ:
            continue
        resource = _load(path)
        ref = (resource.get("subject") or resource.get("patient") or {}).get("reference", "")
        if ref.startswith("Patient/"):
            about.setdefault(ref.removeprefix("Patient/"), []).append(resource)
    records = {}
    for pid, resources in about.items():
        person = R4 / f"Patient-{pid}.json"
        if person.is_file():
            entries = [_load(person), *resources]
            records[f"R4 Patient/{pid}"] = {
                "resourceType": "Bundle",
                "type": "collection",
                "entry": [
                    {"fullUrl": f"http://hl7.org/fhir/{r['resourceType']}/{r['id']}", "resource": r} for r in entries
                ],
            }
    return records


RECORDS = {p.name: _load(p) for p in _bundles() if _kept(p) and _patients(_load(p)) == 1} | _assembled()
REFUSED = sorted(p for p in _bundles() if _kept(p) and _patients(_load(p)) != 1)


def _words(value: Any) -> str:
    """Every display and text string in a resource part (codings, product names), joined."""
    if isinstance(value, dict):
        return " ".join(_words(v) for k, v in value.items() if k in {"coding", "display", "text", "code"} or k == "")
    if isinstance(value, list):
        return " ".join(_words(v) for v in value)
    return value if isinstance(value, str) else ""


def _resources(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if isinstance(e.get("resource"), dict)]


def _medication_words(request: dict[str, Any], bundle: dict[str, Any]) -> str:
    ref = (request.get("medicationReference") or {}).get("reference", "")
    named = [m for m in request.get("contained", []) if f"#{m.get('id')}" == ref]
    named += [e["resource"] for e in bundle["entry"] if ref and e.get("fullUrl") == ref]
    named += [r for r in _resources(bundle) if ref == f"Medication/{r.get('id')}"]
    return _words(request.get("medicationCodeableConcept")) + " " + " ".join(_words(m.get("code")) for m in named)


def _expected_current_drugs(bundle: dict[str, Any]) -> set[str]:
    """Ingredients of every active prescription or statement without an end, read from the product's name."""
    out = set()
    for r in _resources(bundle):
        if r.get("resourceType") not in {"MedicationRequest", "MedicationStatement"} or r.get("status") != "active":
            continue
        if (r.get("effectivePeriod") or {}).get("end") or r.get("subject", {}).get("reference") is None:
            continue
        words = _medication_words(r, bundle)
        out |= {drug for pattern, drug in DRUGS.items() if re.search(pattern, words, re.I)}
    return out


def _conditions(bundle: dict[str, Any], pattern: re.Pattern[str]) -> list[dict[str, Any]]:
    """The patient's own conditions naming `pattern` (not a family history), neither refuted nor entered in error."""
    out = []
    for r in _resources(bundle):
        verification = json.dumps(r.get("verificationStatus") or {})
        words = _words(r.get("code"))
        own = r.get("resourceType") == "Condition" and pattern.search(words) and not FAMILY.search(words)
        if own and "refuted" not in verification and "entered-in-error" not in verification:
            out.append(r)
    return out


def _name(resource: dict[str, Any]) -> str:
    return f"{resource['resourceType']}/{resource.get('id')}"


@pytest.fixture(scope="module", params=sorted(RECORDS))
def record(request: pytest.FixtureRequest) -> tuple[dict[str, Any], reasoner.Patient, reasoner.Recommendations]:
    bundle = RECORDS[request.param]
    patient = read_bundle(json.dumps(bundle), source=request.param)
    return bundle, patient, reasoner.recommend(patient)


def test_the_real_record_set_is_not_empty() -> None:
    assert len(RECORDS) >= 10 and len(REFUSED) >= 5
    assert any(_expected_current_drugs(b) for b in RECORDS.values()), "a real record with a current analgesic"
    assert any(_conditions(b, CANCER) for b in RECORDS.values()), "a real record with cancer"


def test_every_resource_is_used_or_listed_with_a_reason(
    record: tuple[dict[str, Any], reasoner.Patient, reasoner.Recommendations],
) -> None:
    bundle, patient, _ = record
    derived = {str(o) for o in patient.graph.objects(None, PROV.wasDerivedFrom)}
    listed = {u.resource for u in patient.unmapped if u.reason}
    for index, entry in enumerate(bundle["entry"]):
        resource = entry.get("resource") or {}
        kind = resource.get("resourceType")
        if kind in {"Patient", "Medication"}:
            continue
        name = _name(resource) if resource.get("id") else f"{kind or 'entry'} (entry {index})"
        used = entry.get("fullUrl") in derived or any(d.endswith(quote(name, safe="/")) for d in derived)
        assert used or name in listed, f"{name} is neither used nor listed in unmapped"


def test_back_pain_advice_exactly_when_the_record_has_back_pain(
    record: tuple[dict[str, Any], reasoner.Patient, reasoner.Recommendations],
) -> None:
    bundle, _, result = record
    advised = [r.identifier for r in result.recommendations if r.module == LBP_MODULE]
    assert bool(advised) == bool(_conditions(bundle, BACK_PAIN)), advised


def test_each_current_analgesic_and_anticoagulant_is_recognised(
    record: tuple[dict[str, Any], reasoner.Patient, reasoner.Recommendations],
) -> None:
    bundle, patient, _ = record
    g = patient.graph
    current = {
        str(g.value(e, GR.drug)).removeprefix(str(VOCAB))
        for e in g.objects(patient.iri, GR.hasExposure)
        if g.value(e, GR.ongoing) is not None and g.value(e, GR.ongoing).toPython() is True
    }
    assert _expected_current_drugs(bundle) <= current


def test_cancer_is_recognised_as_a_history_of_cancer(
    record: tuple[dict[str, Any], reasoner.Patient, reasoner.Recommendations],
) -> None:
    bundle, patient, _ = record
    g = patient.graph
    present = {
        t
        for f in g.objects(patient.iri, GR.hasFinding)
        if g.value(f, GR.status) == GR.Present
        for t in g.objects(f, None)
    }
    assert bool(_conditions(bundle, CANCER)) == (VOCAB.HistoryOfCancer in present)


@pytest.mark.parametrize("path", REFUSED, ids=lambda p: p.name)
def test_a_bundle_without_exactly_one_patient_is_refused_clearly(path: Path) -> None:
    count = _patients(_load(path))
    with pytest.raises(PatientParseError, match=f"expected exactly one Patient resource, found {count}"):
        read_bundle(path.read_bytes(), source=path.name)
