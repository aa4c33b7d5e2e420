"""The plan as FHIR R4: a collection Bundle an EHR can take, holding one RequestGroup with an action per
recommendation, the request each action proposes, and a Provenance per action.

- RequestGroup (intent proposal): its identifier is the run's IRI (the PROV graph's), instantiatesUri the guideline
  modules applied. Each action: id = the recommendation's identifier, title = its label, priority from the
  urgency, timingDuration from its hours (marked when the project chose them), the recommendation's IRI as
  `derived-from` documentation and each source's citation with the grade it gave as `citation` documentation.
- order and refer give a ServiceRequest; avoid gives a request not to do it (`doNotPerform`): a MedicationRequest
  for a drug or drug class, a ServiceRequest for anything else; stop gives a DetectedIssue naming what to stop.
  A code is given only where the ontology carries a verified code of the target itself (never a value set's
  member, never an unverified one); otherwise the code is text alone.
- Provenance: the action (targetElement) and its request, derived from the patient facts (their FHIR resource,
  Type/id, when the patient came from FHIR), the recommendation and its module version (policy) and the evidence.

The subject is the input Patient (Patient/id) when the patient came from FHIR; otherwise a Patient entry identified
by the patient's IRI. All wording comes from the result (the ontology's labels and text)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from rdflib import Literal, URIRef

from reasoner.knowledge.guideline import Guideline
from reasoner.namespaces import DCTERMS, GR, RDF, SKOS
from reasoner.output.report import conflict_text, grade_text, resource_name
from reasoner.output.result import SOFTWARE, AppliedRecommendation, Fact, Recommendations

__all__ = ["fhir_plan", "priority", "service_request", "target_codes"]

_NAMESPACE = uuid.UUID("5d1c0a3e-2f4b-4c8e-9b7a-6e2d4f1a8c30")  # entry uuids are uuid5 under it
_IRI = "urn:ietf:rfc:3986"  # the identifier system whose values are IRIs
_UCUM = "http://unitsofmeasure.org"
_PARTICIPANT = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
_TARGET_ELEMENT = "http://hl7.org/fhir/StructureDefinition/targetElement"
_FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
# FHIR request priority (routine | urgent | asap | stat) for each urgency notation of the core vocabulary.
_PRIORITY = {"emergency": "stat", "urgent": "urgent", "now": "asap"}
_DRUGS = (GR.Drug, GR.DrugClass)
_ACTIVITIES = ("MedicationStatement", "MedicationRequest", "MedicationAdministration", "Procedure")


def priority(urgency: str | None) -> str:
    """The FHIR request priority of an urgency (none or soon or routine: routine)."""
    return _PRIORITY.get(urgency or "", "routine")


def target_codes(guideline: Guideline, rec: AppliedRecommendation) -> list[dict[str, str]]:
    """The verified codes of the recommendation's target itself, as Codings. A coding that only enrols a code in a
    value set (dcterms:isPartOf, such as a combination product listed under each ingredient) names something else,
    so it is left out; so is an unverified one (the result's target codes hold verified codes only)."""
    g = guideline.graph
    own = {
        f"{g.value(c, GR.system)}|{g.value(c, GR.code)}"
        for c in g.objects(URIRef(rec.target.iri), GR.coding)
        if g.value(c, DCTERMS.isPartOf) is None
    }
    return [{"system": s, "code": c} for s, c in (code.split("|", 1) for code in rec.target.codes if code in own)]


def service_request(
    rec: AppliedRecommendation,
    codes: list[dict[str, str]],
    *,
    subject: dict[str, Any] | None = None,
    reasons: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A proposed ServiceRequest for an order or a referral (or, for avoid advice, a request not to perform it):
    `codes` from target_codes, `subject` and `reasons` as FHIR References."""
    request: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "status": "draft",
        "intent": "proposal",
        "priority": priority(rec.urgency),
        "code": {"text": rec.target.label, **({"coding": codes} if codes else {})},
    }
    if rec.kind == "avoid":
        request["doNotPerform"] = True
    if subject:
        request["subject"] = subject
    if reasons:
        request["reasonReference"] = reasons
    return request


def fhir_plan(result: Recommendations, guideline: Guideline, *, recorded: datetime | None = None) -> dict[str, Any]:
    """The result as a FHIR R4 collection Bundle (JSON): `recorded` is when the plan was written (default: now)."""
    return _Plan(result, guideline, recorded or datetime.now(UTC)).bundle()


class _Plan:
    def __init__(self, result: Recommendations, guideline: Guideline, recorded: datetime) -> None:
        self.result, self.guideline = result, guideline
        self.recorded = recorded.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        self.run = str(result.run_iri)
        self.entries: list[dict[str, Any]] = []
        self.subject = self._subject()

    def url(self, key: str) -> str:
        return f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'{self.run}|{key}')}"

    def add(self, key: str, resource: dict[str, Any]) -> dict[str, str]:
        """Add `resource` as an entry; a Reference to it."""
        url = self.url(key)
        self.entries.append({"fullUrl": url, "resource": _with_id(resource, url)})
        return {"reference": url}

    def bundle(self) -> dict[str, Any]:
        result = self.result
        group: dict[str, Any] = {
            "resourceType": "RequestGroup",
            "identifier": [{"system": _IRI, "value": self.run}],
            "status": "draft",
            "intent": "proposal",
            "subject": self.subject,
            "authoredOn": self.recorded,
            "note": [{"text": result.headline}],
        }
        if result.guidelines:  # none for a patient in no module's scope (FHIR has no empty lists)
            group["instantiatesUri"] = [g.version_iri for g in result.guidelines]
        if result.missing:
            names = ", ".join(m.label for m in result.missing)
            group["note"].append({"text": f"Not documented (unknown, not absent): {names}."})
        group["note"] += [{"text": conflict_text(c)} for c in result.conflicts]  # an unresolved one: both given
        group_url = self.url("plan")
        actions = [self._action(rec, group_url) for rec in result.recommendations]
        if actions:
            group["action"] = actions
        self.entries.insert(0, {"fullUrl": group_url, "resource": _with_id(group, group_url)})
        return {
            "resourceType": "Bundle",
            "identifier": {"system": _IRI, "value": self.run},
            "type": "collection",
            "timestamp": self.recorded,
            "entry": self.entries,
        }

    def _subject(self) -> dict[str, Any]:
        """The input Patient when the patient came from FHIR; else a Patient entry identified by its IRI."""
        name = _literal(self.result.patient)
        if name and name.startswith("Patient/"):
            return {"reference": name}
        return self.add(
            "patient", {"resourceType": "Patient", "identifier": [{"system": _IRI, "value": self.result.patient}]}
        )

    def _action(self, rec: AppliedRecommendation, group_url: str) -> dict[str, Any]:
        action: dict[str, Any] = {
            "id": _element_id(rec.identifier),
            "title": rec.label,
            "textEquivalent": self._text(rec),
            "priority": priority(rec.urgency),
            "code": [{"coding": [self._kind(rec.kind)]}],
            "documentation": [
                {"type": "derived-from", "label": rec.identifier, "display": rec.label, "url": rec.id},
                *(
                    _citation(s.citation, s.doi, s.url, s.label, grade_text(s.strength, s.quality, s.rating))
                    for s in rec.sources
                ),
            ],
        }
        if rec.rationale:
            action["description"] = rec.rationale
        if rec.within_hours is not None:
            action["timingDuration"] = {"value": rec.within_hours, "unit": "h", "system": _UCUM, "code": "h"}
        request = self._request(rec)
        targets: list[dict[str, Any]] = [
            {"reference": group_url, "extension": [{"url": _TARGET_ELEMENT, "valueUri": action["id"]}]}
        ]
        if request is not None:
            action["resource"] = request
            targets.append(request)
        self._provenance(rec, targets)
        return action

    def _text(self, rec: AppliedRecommendation) -> str:
        when = ", ".join(p for p in (rec.urgency, rec.timing) if p)
        parts = [rec.label + (f" ({when})" if when else "") + "."]
        if rec.condition:
            parts.append(f"Condition: {rec.condition}")
        source = rec.sources[0].label if rec.sources else "source"
        parts.append(f"Grade ({source}): {grade_text(rec.strength, rec.quality, rec.rating)}.")
        if rec.project_defined:
            parts.append(f"Project-defined, not from a source: {', '.join(rec.project_defined)}.")
        if rec.review_status != "approved":
            parts.append(f"Review status: {rec.review_status}, not approved.")
        return " ".join(parts)

    def _kind(self, kind: str) -> dict[str, str]:
        """The action kind as a Coding of the core vocabulary (system: the core ontology, code: its notation)."""
        g = self.guideline.graph
        node = next((s for s in g.subjects(SKOS.notation, Literal(kind)) if (s, RDF.type, GR.ActionKind) in g), None)
        return {"system": str(GR).rstrip("#"), "code": kind, "display": self.guideline.label(node) if node else kind}

    def _request(self, rec: AppliedRecommendation) -> dict[str, str] | None:
        """The request the action proposes, as a Reference to its entry; None for advice given as text alone."""
        codes = target_codes(self.guideline, rec)
        reasons = [_reference(f) for f in _unique(rec.because)]
        key = f"request/{rec.identifier}"
        common = {"instantiatesUri": [rec.id]}
        if rec.kind == "stop":
            issue: dict[str, Any] = {
                "resourceType": "DetectedIssue",
                "status": "preliminary",
                "code": {"text": rec.label},
                "patient": self.subject,
                "identifiedDateTime": self.result.as_of,
                "detail": " ".join(
                    p
                    for p in (
                        f"{_capital(self._kind(rec.kind)['display'])}: {rec.target.label}.",
                        rec.rationale,
                        rec.condition,
                    )
                    if p
                ),
                "reference": rec.id,
            }
            implicated = [r for f, r in zip(_unique(rec.because), reasons, strict=True) if _activity(f)]
            if implicated:
                issue["implicated"] = implicated
            if reasons:
                issue["evidence"] = [{"detail": reasons}]
            return self.add(key, issue)
        drug = any((URIRef(rec.target.iri), RDF.type, t) in self.guideline.graph for t in _DRUGS)
        if rec.kind == "avoid" and drug:
            medication: dict[str, Any] = {
                "resourceType": "MedicationRequest",
                **common,
                "status": "draft",
                "intent": "proposal",
                "doNotPerform": True,
                "medicationCodeableConcept": {"text": rec.target.label, **({"coding": codes} if codes else {})},
                "subject": self.subject,
            }
            if reasons:
                medication["reasonReference"] = reasons
            return self.add(key, medication)
        if rec.kind in ("order", "refer", "avoid"):
            request = service_request(rec, codes, subject=self.subject, reasons=reasons)
            return self.add(key, {"resourceType": "ServiceRequest", **common, **request})
        return None

    def _provenance(self, rec: AppliedRecommendation, targets: list[dict[str, Any]]) -> None:
        module = next((g for g in self.result.guidelines if g.version_iri == rec.module_version), None)
        shown = f"{module.title}, version {module.version}" if module else rec.module_version
        entities = [{"role": "source", "what": _reference(f)} for f in _unique(rec.because)]
        entities.append({"role": "derivation", "what": _logical(rec.id, f"{rec.identifier}: {rec.label}")})
        entities.append({"role": "derivation", "what": _logical(rec.module_version, shown)})
        entities += [
            {"role": "quotation", "what": _logical(s.evidence, f"{s.statement} ({s.citation})")} for s in rec.sources
        ]
        self.add(
            f"provenance/{rec.identifier}",
            {
                "resourceType": "Provenance",
                "target": targets,
                "occurredDateTime": self.result.as_of,
                "recorded": self.recorded,
                "policy": [rec.id, rec.module_version],
                "agent": [
                    {
                        "type": {"coding": [{"system": _PARTICIPANT, "code": "assembler"}]},
                        "who": {"display": SOFTWARE},
                    }
                ],
                "entity": entities,
            },
        )


def _with_id(resource: dict[str, Any], url: str) -> dict[str, Any]:
    """The resource with its id (the uuid of its entry's fullUrl) after its resourceType."""
    return {"resourceType": resource["resourceType"], "id": url.rsplit(":", 1)[1], **resource}


def _citation(citation: str, doi: str | None, url: str | None, label: str, grade: str) -> dict[str, str]:
    link = f"https://doi.org/{doi}" if doi else url
    return {"type": "citation", "display": f"{label}: {grade}", "citation": citation, **({"url": link} if link else {})}


def _literal(iri: str) -> str | None:
    """Type/id when `iri` names a FHIR resource (a record read from FHIR keeps its resource IRI), else None."""
    name = resource_name(iri)
    return name if name and _FHIR_ID.fullmatch(name.split("/", 1)[1]) else None


def _reference(fact: Fact) -> dict[str, Any]:
    """A fact as a Reference: its FHIR resource (Type/id) when it was read from one, else its IRI as identifier."""
    name = _literal(fact.source) if fact.source else None
    if name:
        return {"reference": name, "display": fact.label}
    return _logical(fact.source or fact.iri, fact.label)


def _logical(iri: str, display: str) -> dict[str, Any]:
    return {"identifier": {"system": _IRI, "value": iri}, "display": display}


def _activity(fact: Fact) -> bool:
    """Whether the fact was read from a resource that records something done to the patient (a drug, a procedure)."""
    name = _literal(fact.source) if fact.source else None
    return name is not None and name.split("/", 1)[0] in _ACTIVITIES


def _unique(facts: Iterable[Fact]) -> list[Fact]:
    seen: dict[str, Fact] = {}
    for fact in facts:
        seen.setdefault(fact.iri, fact)
    return list(seen.values())


def _element_id(identifier: str) -> str:
    """The identifier as a FHIR element id ([A-Za-z0-9-.]{1,64})."""
    return re.sub(r"[^A-Za-z0-9\-.]", "-", identifier)[:64] or "action"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
