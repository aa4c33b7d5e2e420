"""Patient input that breaks the patient shapes (shapes/patient.ttl) or the guideline vocabulary checks
(reasoner/engine/validate.py) is refused before anything is derived, with a message naming the source, the offending
node and what was expected. Every case is one mutation of a small valid base patient."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from reasoner import InvalidPatientError, PatientParseError, Violation, check, load, load_guideline, recommend

PATIENT = "https://example.org/patient/shape-base"
EX = PATIENT + "/"
LBP = "https://w3id.org/guideline-reasoner/lbp#"
VOCAB = "https://w3id.org/guideline-reasoner/vocab#"
OWL = "http://www.w3.org/2002/07/owl#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SH = "http://www.w3.org/ns/shacl#"

BASE_TTL = f"""@prefix gr: <https://w3id.org/guideline-reasoner/core#> .
@prefix lbp: <{LBP}> .
@prefix vocab: <https://w3id.org/guideline-reasoner/vocab#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix ex: <{EX}> .

<{PATIENT}> a gr:Patient ;
    gr:birthDate "1980-01-01"^^xsd:date ;
    gr:sex gr:Female ;
    gr:assessedOn "2026-03-22"^^xsd:date ;
    gr:hasFinding ex:pain, ex:fever, ex:weakness ;
    gr:hasExposure ex:naproxen ;
    gr:hasMeasurement ex:egfr .

ex:pain a gr:FindingRecord, vocab:LowBackPain ; gr:status gr:Present ; gr:onset "2026-03-15"^^xsd:date .
ex:fever a gr:FindingRecord, vocab:Fever ; gr:status gr:Absent .
ex:weakness a gr:FindingRecord, vocab:MotorWeakness ; gr:status gr:Present ; gr:mrcGrade 4.0 ;
    gr:recordedOn "2026-03-22"^^xsd:date .
ex:naproxen a gr:MedicationExposure ; gr:drug vocab:naproxen ; gr:route gr:Oral ;
    gr:start "2026-03-16"^^xsd:date ; gr:end "2026-03-20"^^xsd:date ; gr:response gr:ResponseNotDocumented .
ex:egfr a gr:Measurement, vocab:EGFR ; gr:value 95.0 ; gr:recordedOn "2026-03-22"^^xsd:date .
"""

JSON_PATIENT = "https://example.org/patient/json-base"
BASE_JSON: dict[str, Any] = {
    "@context": "https://w3id.org/guideline-reasoner/context.jsonld",
    "@id": JSON_PATIENT,
    "@type": "Patient",
    "birthDate": "1980-01-01",
    "sex": "gr:Female",
    "assessedOn": "2026-03-22",
    "hasFinding": [
        {
            "@id": JSON_PATIENT + "/pain",
            "@type": ["FindingRecord", "vocab:LowBackPain"],
            "status": "gr:Present",
            "onset": "2026-03-15",
        },
        {"@id": JSON_PATIENT + "/fever", "@type": ["FindingRecord", "vocab:Fever"], "status": "gr:Absent"},
    ],
    "hasMeasurement": [
        {
            "@id": JSON_PATIENT + "/egfr",
            "@type": ["Measurement", "vocab:EGFR"],
            "value": "95.0",
            "recordedOn": "2026-03-22",
        }
    ],
}


def mutate(old: str, new: str, base: str = BASE_TTL) -> str:
    """The base with its one occurrence of `old` replaced by `new` (fails loudly if the anchor is ambiguous)."""
    assert base.count(old) == 1, f"mutation anchor {old!r} must occur exactly once"
    return base.replace(old, new)


def add(extra: str) -> str:
    return BASE_TTL + extra + "\n"


def json_text(document: dict[str, Any] | None = None) -> str:
    return json.dumps(BASE_JSON if document is None else document, indent=2)


def write(tmp_path: Path, text: str, name: str = "patient.ttl") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def refused(path: Path) -> InvalidPatientError:
    with pytest.raises(InvalidPatientError) as info:
        recommend(path)
    return info.value


def unreadable(path: Path) -> PatientParseError:
    with pytest.raises(PatientParseError) as info:
        recommend(path)
    return info.value


def find(violations: list[Violation], *, node: str, message: str, path: str | None) -> Violation:
    """The violation whose message contains `message` and that names `node` (as focus or in its message)."""
    for v in violations:
        if message in v.message and (v.focus == node or node in v.message) and (path is None or v.path == path):
            return v
    raise AssertionError(
        f"no violation naming {node} with {message!r} (path {path}); got {[str(v) for v in violations]}"
    )


# -- the base patients are valid ---------------------------------------------------------------------------------


def test_base_turtle_patient_is_valid(tmp_path: Path) -> None:
    assert check(load(write(tmp_path, BASE_TTL)), load_guideline()) == []


def test_base_json_ld_patient_is_valid(tmp_path: Path) -> None:
    patient = load(write(tmp_path, json_text(), "patient.jsonld"))
    assert str(patient.iri) == JSON_PATIENT
    assert check(patient, load_guideline()) == []


# -- one mutation per shape or vocabulary rule -------------------------------------------------------------------

FEVER = "ex:fever a gr:FindingRecord, vocab:Fever ; gr:status gr:Absent ."

CASES = [
    pytest.param(
        mutate(FEVER, "ex:fever a gr:FindingRecord, vocab:Fever ."),
        EX + "fever",
        "gr:status",
        "a finding needs exactly one status: gr:Present, gr:Absent or gr:Unknown",
        id="missing-status",
    ),
    pytest.param(
        mutate("gr:status gr:Absent", "gr:status gr:Maybe"),
        EX + "fever",
        "gr:status",
        "a finding needs exactly one status: gr:Present, gr:Absent or gr:Unknown",
        id="bad-status-value",
    ),
    pytest.param(
        mutate(' ; gr:onset "2026-03-15"^^xsd:date', ""),
        EX + "pain",
        None,
        "a finding documented present needs gr:onset or gr:recordedOn",
        id="present-without-onset-or-recordedOn",
    ),
    pytest.param(
        mutate("gr:drug vocab:naproxen ; ", ""),
        EX + "naproxen",
        None,
        "a medication exposure needs exactly one gr:drug (an IRI)",
        id="exposure-without-drug",
    ),
    pytest.param(
        mutate('gr:start "2026-03-16"^^xsd:date ; ', ""),
        EX + "naproxen",
        "gr:start",
        "an exposure needs exactly one start date (xsd:date), on or before its end",
        id="exposure-without-start",
    ),
    pytest.param(
        mutate('gr:end "2026-03-20"^^xsd:date ; ', ""),
        EX + "naproxen",
        None,
        "an exposure states how long it lasted: gr:end, gr:days, or gr:ongoing true",
        id="exposure-without-end-days-or-ongoing",
    ),
    pytest.param(
        mutate('gr:end "2026-03-20"', 'gr:end "2026-03-10"'),
        EX + "naproxen",
        "gr:start",
        "an exposure needs exactly one start date (xsd:date), on or before its end",
        id="end-before-start",
    ),
    pytest.param(
        mutate(" ; gr:response gr:ResponseNotDocumented", ""),
        EX + "naproxen",
        "gr:response",
        "an exposure needs exactly one response (use gr:ResponseNotDocumented when nobody recorded it)",
        id="exposure-without-response",
    ),
    pytest.param(
        mutate("gr:mrcGrade 4.0", "gr:mrcGrade 7.0"),
        EX + "weakness",
        "gr:mrcGrade",
        "MRC grade must be one xsd:decimal from 0 to 5",
        id="mrc-grade-7",
    ),
    pytest.param(
        mutate("gr:value 95.0", "gr:value 900.0"),
        EX + "egfr",
        "gr:value",
        "900.0 is outside",
        id="egfr-out-of-range",
    ),
    pytest.param(
        mutate('gr:birthDate "1980-01-01"^^xsd:date', 'gr:bornNotBefore "1980-01-01"^^xsd:date'),
        PATIENT,
        None,
        "an imprecise birth date needs both gr:bornNotBefore and gr:bornNotAfter",
        id="born-not-before-alone",
    ),
    pytest.param(
        mutate(
            'gr:birthDate "1980-01-01"^^xsd:date',
            'gr:bornNotBefore "1980-12-31"^^xsd:date ; gr:bornNotAfter "1980-01-01"^^xsd:date',
        ),
        PATIENT,
        None,
        "an imprecise birth date needs both gr:bornNotBefore and gr:bornNotAfter",
        id="born-interval-reversed",
    ),
    pytest.param(
        mutate(
            'gr:birthDate "1980-01-01"^^xsd:date',
            'gr:birthDate "1980-01-01"^^xsd:date ; gr:bornNotAfter "1980-12-31"^^xsd:date',
        ),
        PATIENT,
        None,
        "an imprecise birth date needs both gr:bornNotBefore and gr:bornNotAfter",
        id="birth-date-and-interval",
    ),
    pytest.param(
        mutate("vocab:Fever ;", "lbp:Nonsense ;"),
        EX + "fever",
        "rdf:type",
        f"unknown finding class {LBP}Nonsense",
        id="unknown-finding-class",
    ),
    pytest.param(
        mutate("gr:drug vocab:naproxen", "gr:drug lbp:unobtainium"),
        EX + "naproxen",
        "gr:drug",
        f"unknown drug {LBP}unobtainium",
        id="unknown-drug",
    ),
    pytest.param(
        mutate('gr:onset "2026', 'gr:onsett "2026'),
        EX + "pain",
        "gr:onsett",
        "unknown property: not declared in the core vocabulary",
        id="unknown-gr-property",
    ),
    pytest.param(
        add(f"ex:fever <{OWL}sameAs> ex:pain ."),
        EX + "fever",
        None,
        f"not allowed in patient data (ontology axioms, owl:sameAs, imports and shapes belong to the guideline): "
        f"{EX}fever {OWL}sameAs {EX}pain",
        id="owl-sameAs",
    ),
    pytest.param(
        add(f"vocab:LowBackPain <{RDFS}subClassOf> vocab:HistoryOfCancer ."),
        VOCAB + "LowBackPain",
        None,
        f"not allowed in patient data (ontology axioms, owl:sameAs, imports and shapes belong to the guideline): "
        f"{VOCAB}LowBackPain {RDFS}subClassOf {VOCAB}HistoryOfCancer",
        id="rdfs-subClassOf-axiom",
    ),
    pytest.param(
        add(f"ex:shape a <{SH}NodeShape> ; <{SH}targetClass> gr:Patient ."),
        EX + "shape",
        None,
        "not allowed in patient data (ontology axioms, owl:sameAs, imports and shapes belong to the guideline)",
        id="shacl-node-shape",
    ),
    pytest.param(
        add(f"<{PATIENT}> <{OWL}imports> <https://example.org/elsewhere> ."),
        "https://example.org/elsewhere",
        None,
        f"not allowed in patient data (ontology axioms, owl:sameAs, imports and shapes belong to the guideline): "
        f"{PATIENT} {OWL}imports https://example.org/elsewhere",
        id="owl-imports",
    ),
]


@pytest.mark.parametrize(("text", "node", "path", "message"), CASES)
def test_invalid_patient_is_refused(tmp_path: Path, text: str, node: str, path: str | None, message: str) -> None:
    source = write(tmp_path, text)
    error = refused(source)
    assert error.source == str(source)
    assert str(error).startswith(f"{source}: invalid patient data")
    assert node in str(error)
    assert message in str(error)
    find(error.violations, node=node, message=message, path=path)


def test_egfr_range_names_bounds_and_unit(tmp_path: Path) -> None:
    error = refused(write(tmp_path, mutate("gr:value 95.0", "gr:value 900.0")))
    violation = find(error.violations, node=EX + "egfr", message="900.0 is outside", path="gr:value")
    assert violation.message.endswith("200.0 mL/min/{1.73_m2}")


def test_negative_egfr_is_refused(tmp_path: Path) -> None:
    # vocab:EGFR declares gr:minValue 0; a negative eGFR is impossible and must be refused like 900.0 is.
    error = refused(write(tmp_path, mutate("gr:value 95.0", "gr:value -5.0")))
    find(error.violations, node=EX + "egfr", message="-5.0 is outside 0.0-200.0", path="gr:value")


def test_two_patients_are_refused(tmp_path: Path) -> None:
    other = "https://example.org/patient/other"
    source = write(tmp_path, add(f"<{other}> a gr:Patient ."))
    error = refused(source)
    assert error.source == str(source)
    message = "expected exactly one gr:Patient with an IRI, found 2"
    assert message in str(error) and PATIENT in str(error) and other in str(error)
    find(error.violations, node=other, message=message, path=None)


def test_no_patient_is_refused(tmp_path: Path) -> None:
    source = write(tmp_path, mutate(f"<{PATIENT}> a gr:Patient ;", f"<{PATIENT}>"))
    error = refused(source)
    assert error.source == str(source)
    assert "expected exactly one gr:Patient with an IRI, found 0: none" in str(error)
    assert [v.focus for v in error.violations] == [str(source)]


# -- input that cannot be read -----------------------------------------------------------------------------------


def test_turtle_syntax_error(tmp_path: Path) -> None:
    source = write(tmp_path, mutate(FEVER, FEVER.rstrip(" .")))
    error = unreadable(source)
    assert error.source == str(source)
    assert str(error).startswith(f"{source}: cannot read patient data: syntax error")
    assert "line" in error.detail


def test_remote_json_ld_context(tmp_path: Path) -> None:
    document = copy.deepcopy(BASE_JSON)
    document["@context"] = "https://evil.example.org/context.jsonld"
    source = write(tmp_path, json_text(document), "patient.jsonld")
    error = unreadable(source)
    assert error.source == str(source)
    assert str(error).startswith(f"{source}: cannot read patient data:")
    assert "remote JSON-LD context 'https://evil.example.org/context.jsonld' is not allowed" in error.detail


def test_duplicate_json_keys(tmp_path: Path) -> None:
    text = json_text()
    anchor = '"birthDate": "1980-01-01",'
    assert text.count(anchor) == 1
    source = write(tmp_path, text.replace(anchor, anchor + ' "birthDate": "1981-01-01",'), "patient.jsonld")
    error = unreadable(source)
    assert error.source == str(source)
    assert "duplicate JSON key 'birthDate'" in str(error)


def test_nan_in_json(tmp_path: Path) -> None:
    text = json_text()
    anchor = '"value": "95.0"'
    assert text.count(anchor) == 1
    source = write(tmp_path, text.replace(anchor, '"value": NaN'), "patient.jsonld")
    error = unreadable(source)
    assert error.source == str(source)
    assert "NaN is not a valid JSON number" in str(error)


_COMPLETE_EXPOSURES = """
ex:ibuprofen a gr:MedicationExposure ; gr:drug vocab:ibuprofen ; gr:route gr:Oral ;
    gr:start "2026-03-01"^^xsd:date ; gr:end "2026-03-05"^^xsd:date ; gr:response gr:NoBenefit .
ex:pt a gr:TherapyCourse ; gr:therapy vocab:PhysicalTherapy ;
    gr:start "2026-03-01"^^xsd:date ; gr:end "2026-03-10"^^xsd:date ; gr:response gr:NoBenefit .
"""


@pytest.mark.parametrize(
    ("old", "new", "record", "message"),
    [
        ("gr:drug vocab:naproxen ; ", "", "naproxen", "a medication exposure needs exactly one gr:drug (an IRI)"),
        (
            "ex:naproxen a gr:MedicationExposure ; gr:drug vocab:naproxen ; gr:route gr:Oral ;",
            "ex:naproxen a gr:TherapyCourse ;",
            "naproxen",
            "a therapy course needs exactly one gr:therapy (an IRI)",
        ),
    ],
    ids=["drug", "therapy"],
)
def test_an_incomplete_exposure_next_to_complete_ones_is_refused(
    old: str, new: str, record: str, message: str, tmp_path: Path
) -> None:
    """Regression: the count of drugs ran in a sub-SELECT that the old pre-binding did not reach, so any complete
    exposure of the same patient hid the incomplete one."""
    text = mutate("gr:hasExposure ex:naproxen", "gr:hasExposure ex:naproxen, ex:ibuprofen, ex:pt", mutate(old, new))
    path = write(tmp_path, text + _COMPLETE_EXPOSURES)
    violations = check(load(str(path)), load_guideline())
    assert [(v.focus, v.path, v.message) for v in violations] == [(EX + record, None, message)]
    find(refused(path).violations, node=EX + record, message=message, path=None)
