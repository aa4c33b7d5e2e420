"""`recommend --format fhir`: the plan as a FHIR R4 Bundle. Every Bundle is validated with fhir.resources (the R4B
models the FHIR reader uses, which read these R4 resources), parsed back from its JSON, and its actions are checked
against the JSON result's recommendations: for the seed case (Turtle), the same patient read from FHIR, a CKD case
and a patient in no module's scope."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.detectedissue import DetectedIssue
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.provenance import Provenance
from fhir.resources.R4B.requestgroup import RequestGroup
from fhir.resources.R4B.servicerequest import ServiceRequest
from rdflib import URIRef

from reasoner.authoring.cases import load_case
from reasoner.cli import main
from reasoner.input.builder import PatientBuilder
from reasoner.knowledge.guideline import Guideline, load_guideline
from reasoner.namespaces import DCTERMS, GR, RDF
from reasoner.output.fhir_plan import fhir_plan
from reasoner.output.result import Recommendations
from reasoner.pipeline import recommend
from tests.conftest import ROOT, SEED

FHIR_SEED = ROOT / "examples" / "seed-case.fhir.json"
CKD_CASE = ROOT / "ontology" / "ckd" / "cases" / "metformin-old-egfr-28-only.yaml"
RECORDED = datetime(2026, 3, 22, 10, 30, tzinfo=UTC)
TARGET_ELEMENT = "http://hl7.org/fhir/StructureDefinition/targetElement"
PRIORITY = {
    "emergency": "stat",
    "urgent": "urgent",
    "now": "asap",
    "soon": "routine",
    "routine": "routine",
    None: "routine",
}


@pytest.fixture(scope="module")
def gl() -> Guideline:
    return load_guideline()


def _nobody() -> Any:
    """A patient with nothing recorded but age and sex: in no module's scope."""
    return PatientBuilder(
        "https://example.org/patient/nobody", birth_date=date(1980, 6, 15), sex="female", assessed_on=date(2026, 3, 22)
    ).build()


def _evaluate(name: str, gl: Guideline) -> Recommendations:
    if name == "ckd":
        case = load_case(CKD_CASE, guideline=gl)
        return recommend(case.patient, as_of=case.as_of, guideline=gl, include_drafts=case.include_drafts)
    patient = {"seed": SEED, "fhir": FHIR_SEED, "nobody": _nobody()}[name]
    return recommend(patient, guideline=gl)


@pytest.fixture(scope="module", params=["seed", "fhir", "ckd", "nobody"])
def case(request: pytest.FixtureRequest, gl: Guideline) -> tuple[Recommendations, Bundle, dict[str, Any]]:
    """(result, the Bundle parsed back from its JSON text with fhir.resources, that JSON)."""
    result = _evaluate(request.param, gl)
    text = json.dumps(fhir_plan(result, gl, recorded=RECORDED))
    return result, Bundle.model_validate_json(text), json.loads(text)


def _of(bundle: Bundle, kind: type[Any]) -> list[Any]:
    return [e.resource for e in bundle.entry or [] if isinstance(e.resource, kind)]


def _by_url(bundle: Bundle) -> dict[str, Any]:
    return {str(e.fullUrl): e.resource for e in bundle.entry or []}


def test_the_bundle_is_valid_fhir_and_its_json_round_trips(
    case: tuple[Recommendations, Bundle, dict[str, Any]],
) -> None:
    _, bundle, data = case
    assert bundle.type == "collection"
    assert json.loads(bundle.model_dump_json()) == data, "every field is one the FHIR model keeps"
    urls = [str(e.fullUrl) for e in bundle.entry or []]
    assert len(urls) == len(set(urls))
    for entry in bundle.entry or []:
        assert str(entry.fullUrl).endswith(str(entry.resource.id))
    internal = {ref for ref in _references(data) if ref.startswith("urn:uuid:")}
    assert internal <= set(urls), "every reference to a resource of the plan resolves within the Bundle"


def test_one_action_per_recommendation_in_order(case: tuple[Recommendations, Bundle, dict[str, Any]]) -> None:
    result, bundle, _ = case
    recs = result.to_json()["recommendations"]
    [group] = _of(bundle, RequestGroup)
    assert group.intent == "proposal" and (group.instantiatesUri or []) == [
        g["version_iri"] for g in result.to_json()["guidelines"]
    ]
    actions = group.action or []
    assert [a.id for a in actions] == [r["identifier"] for r in recs]
    for action, rec in zip(actions, recs, strict=True):
        assert action.title == rec["label"]
        assert action.priority == PRIORITY[rec["urgency"]]
        assert [c.code for c in action.code[0].coding] == [rec["kind"]]
        derived = [d for d in action.documentation if d.type == "derived-from"]
        assert [(d.url, d.label) for d in derived] == [(rec["id"], rec["identifier"])]
        cited = [d.citation for d in action.documentation if d.type == "citation"]
        assert cited == [s["citation"] for s in rec["sources"]]
        grades = [d.display for d in action.documentation if d.type == "citation"]
        for grade, src in zip(grades, rec["sources"], strict=True):
            assert all(part in grade for part in (src["strength"], src["quality"], src["rating"]) if part)
        hours = action.timingDuration
        assert (hours.value if hours else None) == rec["within_hours"]
        if rec["timing"]:
            assert rec["timing"] in action.textEquivalent
        for name in rec["project_defined"]:
            assert name in action.textEquivalent, "a project-chosen value is labelled as such"


def test_each_action_proposes_the_request_its_kind_calls_for(
    case: tuple[Recommendations, Bundle, dict[str, Any]], gl: Guideline
) -> None:
    result, bundle, _ = case
    resources = _by_url(bundle)
    [group] = _of(bundle, RequestGroup)
    for action, rec in zip(group.action or [], result.recommendations, strict=True):
        request = resources[action.resource.reference] if action.resource else None
        drug = any((URIRef(rec.target.iri), RDF.type, t) in gl.graph for t in (GR.Drug, GR.DrugClass))
        if rec.kind in ("order", "refer"):
            assert isinstance(request, ServiceRequest) and not request.doNotPerform
            assert request.code.text == rec.target.label and request.instantiatesUri == [rec.id]
        elif rec.kind == "avoid":
            assert isinstance(request, MedicationRequest if drug else ServiceRequest) and request.doNotPerform is True
            concept = request.medicationCodeableConcept if isinstance(request, MedicationRequest) else request.code
            assert concept.text == rec.target.label
        elif rec.kind == "stop":
            assert isinstance(request, DetectedIssue) and request.reference == rec.id
            assert rec.target.label in request.detail
        else:
            assert request is None, f"{rec.identifier} ({rec.kind}) is advice given as text"
        if request is not None:
            subject = request.patient if isinstance(request, DetectedIssue) else request.subject
            assert subject.reference == group.subject.reference


def test_codes_are_only_the_targets_own_verified_codes(
    case: tuple[Recommendations, Bundle, dict[str, Any]], gl: Guideline
) -> None:
    result, bundle, _ = case
    g = gl.graph
    targets = {r.identifier: r.target.iri for r in result.recommendations}
    [group] = _of(bundle, RequestGroup)
    resources = _by_url(bundle)
    for action in group.action or []:
        if not action.resource:
            continue
        request = resources[action.resource.reference]
        concept = request.medicationCodeableConcept if isinstance(request, MedicationRequest) else request.code
        given = {(c.system, c.code) for c in concept.coding or []}
        own = {
            (str(g.value(c, GR.system)), str(g.value(c, GR.code)))
            for c in g.objects(URIRef(targets[action.id]), GR.coding)
            if g.value(c, GR.unverified) is None and g.value(c, DCTERMS.isPartOf) is None
        }
        assert given <= own, f"{action.id}: a code the ontology does not give its target {sorted(given - own)}"


def test_provenance_links_each_action_to_its_facts_module_version_and_evidence(
    case: tuple[Recommendations, Bundle, dict[str, Any]],
) -> None:
    result, bundle, _ = case
    [group] = _of(bundle, RequestGroup)
    group_url = next(str(e.fullUrl) for e in bundle.entry or [] if isinstance(e.resource, RequestGroup))
    provenance = _of(bundle, Provenance)
    assert len(provenance) == len(result.recommendations)
    for action, rec, prov in zip(group.action or [], result.recommendations, provenance, strict=True):
        first = prov.target[0]
        assert first.reference == group_url and [(x.url, x.valueUri) for x in first.extension] == [
            (TARGET_ELEMENT, action.id)
        ]
        assert [t.reference for t in prov.target[1:]] == ([action.resource.reference] if action.resource else [])
        assert prov.policy == [rec.id, rec.module_version]
        assert str(prov.occurredDateTime) == result.as_of
        shown = {e.what.display for e in prov.entity if e.role == "source"}
        assert shown == {f.label for f in rec.because}
        named = {e.what.identifier.value for e in prov.entity if e.role != "source"}
        assert {rec.id, rec.module_version, *(s.evidence for s in rec.sources)} <= named


def test_a_patient_read_from_fhir_is_referenced_by_its_resources(gl: Guideline) -> None:
    result = _evaluate("fhir", gl)
    bundle = Bundle.model_validate(fhir_plan(result, gl, recorded=RECORDED))
    given = json.loads(FHIR_SEED.read_text())
    names = {f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in given["entry"]}
    [group] = _of(bundle, RequestGroup)
    assert group.subject.reference == "Patient/seed-v02" and not _of(bundle, Patient)
    reasons = [r for s in _of(bundle, ServiceRequest) for r in s.reasonReference or []]
    literal = {r.reference for r in reasons if r.reference}
    assert literal and literal <= names, "facts are referenced by the FHIR resource they were read from"
    mri = next(s for s in _of(bundle, ServiceRequest) if "LBP-IMG-04" in s.instantiatesUri[0])
    assert mri.priority == "urgent" and mri.code.coding, "a target with a verified code of its own is coded"
    stops = _of(bundle, DetectedIssue)
    assert stops and all(
        i.reference.split("/")[0] in ("MedicationStatement", "MedicationRequest") for d in stops for i in d.implicated
    ), "a stop names the patient's own medication resource"


def test_a_patient_from_turtle_is_a_patient_entry_identified_by_its_iri(gl: Guideline) -> None:
    result = _evaluate("seed", gl)
    bundle = Bundle.model_validate(fhir_plan(result, gl, recorded=RECORDED))
    [patient] = _of(bundle, Patient)
    assert [(i.system, i.value) for i in patient.identifier] == [("urn:ietf:rfc:3986", result.patient)]
    [group] = _of(bundle, RequestGroup)
    assert group.subject.reference == f"urn:uuid:{patient.id}"
    refs = _references(json.loads(bundle.model_dump_json()))
    assert all(r.startswith("urn:uuid:") for r in refs), "no reference to a FHIR resource the input never had"


def test_a_ckd_case_stops_avoids_and_orders(gl: Guideline) -> None:
    result = _evaluate("ckd", gl)
    kinds = {r.kind for r in result.recommendations}
    assert {"stop", "avoid", "order"} <= kinds and {r.module for r in result.recommendations} == {
        "https://w3id.org/guideline-reasoner/ckd"
    }
    bundle = Bundle.model_validate(fhir_plan(result, gl, recorded=RECORDED))
    assert len(_of(bundle, DetectedIssue)) == sum(r.kind == "stop" for r in result.recommendations)
    assert sum(bool(m.doNotPerform) for m in _of(bundle, MedicationRequest)) >= 1


def test_a_patient_in_no_scope_gets_an_empty_plan_that_is_still_valid(gl: Guideline) -> None:
    result = _evaluate("nobody", gl)
    assert result.recommendations == [] and result.guidelines == []
    bundle = Bundle.model_validate(fhir_plan(result, gl, recorded=RECORDED))
    [group] = _of(bundle, RequestGroup)
    assert not group.action and group.note[0].text == result.headline
    assert {type(e.resource) for e in bundle.entry or []} == {RequestGroup, Patient}


def test_missing_red_flags_and_conflicts_are_notes_and_blocked_advice_is_no_action(gl: Guideline) -> None:
    case = load_case(
        ROOT / "tests" / "cases" / "ckd-with-lbp" / "lbp-ckd-g3a-lisinopril-nsaid-conflict.yaml", guideline=gl
    )
    result = recommend(case.patient, as_of=case.as_of, guideline=gl, include_drafts=case.include_drafts)
    assert result.conflicts and result.suppressed
    [group] = _of(Bundle.model_validate(fhir_plan(result, gl, recorded=RECORDED)), RequestGroup)
    notes = [n.text for n in group.note]
    for conflict in result.conflicts:
        assert any(conflict.first.identifier in n and conflict.second.identifier in n for n in notes)
    for missing in result.missing:
        assert any(missing.label in n for n in notes), "unknown is not absent: the plan says what is undocumented"
    assert not {s.identifier for s in result.suppressed} & {a.id for a in group.action or []}


def test_the_same_run_gives_the_same_bundle(gl: Guideline) -> None:
    result = _evaluate("seed", gl)
    assert fhir_plan(result, gl, recorded=RECORDED) == fhir_plan(_evaluate("seed", gl), gl, recorded=RECORDED)


def test_the_command_line_writes_the_plan(tmp_path: Path) -> None:
    out = CliRunner().invoke(main, ["recommend", str(FHIR_SEED), "--format", "fhir"])
    assert out.exit_code == 0, out.output
    bundle = Bundle.model_validate_json(out.output)
    [group] = _of(bundle, RequestGroup)
    assert group.subject.reference == "Patient/seed-v02" and group.action


def _references(data: Any) -> list[str]:
    """Every Reference.reference in a JSON structure."""
    if isinstance(data, dict):
        own = [data["reference"]] if isinstance(data.get("reference"), str) and "resourceType" not in data else []
        return own + [r for v in data.values() for r in _references(v)]
    if isinstance(data, list):
        return [r for v in data for r in _references(v)]
    return []
