"""CDS Hooks 2.0: a discovery endpoint and a `patient-view` service that evaluates the prefetched FHIR resources
and answers with cards, plus an `order-select` service that checks draft imaging orders against the
recommendations. `CdsHooks.answer` answers one service call (service id, request body) with an HTTP status and a
JSON body, and `CdsHooks.feedback` one feedback call; reasoner.serve runs them in a worker process
(reasoner.serve._hooks). A malformed request is answered 400, never 500: the request is checked against the shapes
CDS Hooks 2.0 and FHIR give it before anything reads it (reasoner.serve._hook_request). A prefetch that is not the
whole of what the templates ask, about the patient in context, is answered 412 with no card
(reasoner.serve._prefetch). A patient outside every loaded guideline's scope gets no card.

Cards: one per recommendation with an urgency (emergency and urgent are critical, now and soon a warning,
routine info), one warning naming undocumented red flags, and one info card with the rest of the plan. Each has a
summary under 140 characters, markdown detail with the why (patient facts with their FHIR resources, inferred
classes, rationale, grade), the primary source as label and link, and for orders and referrals a suggestion that
creates the ServiceRequest for the patient in context (its subject).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import date
from http import HTTPStatus
from typing import Any

from rdflib import URIRef

from reasoner.errors import InputError
from reasoner.input.fhir import map_code, read_bundle
from reasoner.knowledge.guideline import Guideline, load_guideline
from reasoner.namespaces import GR, RDF
from reasoner.output.fhir_plan import service_request, target_codes
from reasoner.output.report import References, fact_text
from reasoner.output.result import AppliedRecommendation, Recommendations
from reasoner.pipeline import recommend
from reasoner.serve._feedback import read_feedback
from reasoner.serve._hook_request import HookError, check_request, read_body
from reasoner.serve._prefetch import prefetched_bundle, templates

__all__ = ["CdsHooks"]

SUMMARY_LIMIT = 140
_INDICATOR = {"emergency": "critical", "urgent": "critical", "now": "warning", "soon": "warning", "routine": "info"}
_NAMESPACE = uuid.UUID("0b6f6c52-8f0e-4a44-9a53-5c1f3e3c2b10")  # card and suggestion uuids are uuid5 under it


class CdsHooks:
    """The CDS services of one guideline; `handle` answers the discovery call and the service calls."""

    def __init__(
        self, *, guideline: Guideline | None = None, jurisdiction: str = "US", as_of: date | None = None
    ) -> None:
        """`as_of` fixes the evaluation date (default: the day of each call)."""
        self.guideline = guideline or load_guideline()
        self.jurisdiction, self.as_of = jurisdiction, as_of
        title = self.guideline.title
        self.templates = templates(self.guideline)
        prefetch = {t.key: t.query for t in self.templates}
        self.services: dict[str, tuple[dict[str, Any], Callable[[dict[str, Any]], list[dict[str, Any]]]]] = {
            "guideline-reasoner-patient-view": (
                {
                    "hook": "patient-view",
                    "title": f"{title}: cited recommendations",
                    "description": f"Evaluates the patient against the {title} guideline and shows what to do, "
                    "how urgently and why.",
                    "prefetch": prefetch,
                },
                self._patient_view,
            ),
            "guideline-reasoner-order-select": (
                {
                    "hook": "order-select",
                    "title": f"{title}: imaging order check",
                    "description": "Checks draft imaging orders against the guideline's imaging recommendations "
                    "for this patient.",
                    "prefetch": prefetch,
                },
                self._order_select,
            ),
        }

    def discovery(self) -> dict[str, Any]:
        return {"services": [{**spec, "id": sid} for sid, (spec, _) in self.services.items()]}

    def answer(self, service_id: str, body: bytes) -> tuple[int, dict[str, Any]]:
        """Answer one call of POST /cds-services/{service_id}: (HTTP status, JSON body)."""
        try:
            return HTTPStatus.OK, {"cards": self.call(service_id, read_body(body))}
        except HookError as exc:
            return exc.status, {"error": str(exc)}

    def call(self, service_id: str, request: dict[str, Any]) -> list[dict[str, Any]]:
        spec, run = self._service(service_id)
        if request.get("hook") != spec["hook"]:
            raise HookError(HTTPStatus.BAD_REQUEST, f"service {service_id} answers {spec['hook']!r} hooks")
        check_request(request)
        return run(request)

    def feedback(self, service_id: str, body: bytes) -> tuple[int, dict[str, Any], list[dict[str, Any]]]:
        """Answer one call of POST /cds-services/{service_id}/feedback: (HTTP status, JSON body, the records to log;
        see reasoner.serve._feedback for what they hold)."""
        try:
            self._service(service_id)
            records = read_feedback(service_id, read_body(body))
        except HookError as exc:
            return exc.status, {"error": str(exc)}, []
        return HTTPStatus.OK, {"received": len(records)}, records

    def _service(self, service_id: str) -> tuple[dict[str, Any], Callable[[dict[str, Any]], list[dict[str, Any]]]]:
        if service_id not in self.services:
            raise HookError(HTTPStatus.NOT_FOUND, f"no CDS service {service_id!r}")
        return self.services[service_id]

    # -- services ------------------------------------------------------------------------------------------

    def _evaluate(self, request: dict[str, Any]) -> Recommendations | None:
        """The patient's recommendations, or None when no loaded guideline applies to the patient (no card then)."""
        bundle = prefetched_bundle(request, self.templates)
        source = f"hook {request['hookInstance']}"
        try:
            patient = read_bundle(json.dumps(bundle), source=source, guideline=self.guideline)
        except InputError as exc:
            raise HookError(HTTPStatus.BAD_REQUEST, str(exc)) from None
        except Exception as exc:  # the reader met a shape it did not expect: still the request's fault, not ours
            raise HookError(
                HTTPStatus.BAD_REQUEST, f"{source}: the prefetched resources cannot be read ({type(exc).__name__})"
            ) from None
        try:
            result = recommend(patient, as_of=self.as_of, guideline=self.guideline, jurisdiction=self.jurisdiction)
        except InputError as exc:
            raise HookError(HTTPStatus.BAD_REQUEST, str(exc)) from None
        return result if result.guidelines else None

    def _patient_view(self, request: dict[str, Any]) -> list[dict[str, Any]]:
        result = self._evaluate(request)
        if result is None:
            return []
        instance, patient_id = request["hookInstance"], request["context"]["patientId"]
        cards = [
            _recommendation_card(r, instance, patient_id, target_codes(self.guideline, r))
            for r in result.recommendations
            if r.urgency
        ]
        if result.missing:
            names = ", ".join(m.label for m in result.missing)
            cards.append(
                _card(
                    instance,
                    "missing",
                    _summary(f"Not documented (unknown, not absent): {names}"),
                    "warning",
                    "Ask about and record each before concluding; until then reassurance such as *no imaging* "
                    "cannot be given.\n\n"
                    + "\n".join(
                        f"- **{m.label}**: needed for {', '.join(_local(i) for i in m.needed_for)}"
                        for m in result.missing
                    ),
                    _project_source(self.guideline),
                )
            )
        rest = [r for r in result.recommendations if not r.urgency]
        if rest:
            detail = "\n".join(f"- {r.label} (`{r.identifier}`, {r.kind})" for r in rest)
            cards.append(
                _card(
                    instance,
                    "plan",
                    _summary(f"{len(rest)} further recommendations: what to stop, bridge and follow up"),
                    "info",
                    detail,
                    _project_source(self.guideline),
                )
            )
        return cards

    def _order_select(self, request: dict[str, Any]) -> list[dict[str, Any]]:
        drafts = request["context"].get("draftOrders")
        if not isinstance(drafts, dict) or drafts.get("resourceType") != "Bundle":
            raise HookError(HTTPStatus.BAD_REQUEST, "order-select needs context.draftOrders, a FHIR Bundle")
        orders = [
            e["resource"]
            for e in drafts.get("entry") or []
            if isinstance(e, dict)
            and isinstance(e.get("resource"), dict)
            and e["resource"].get("resourceType") == "ServiceRequest"
        ]
        result = self._evaluate(request)
        if result is None:
            return []
        cards = []
        for order in orders:
            targets = {
                t
                for c in (order.get("code") or {}).get("coding") or []
                if isinstance(c, dict) and c.get("system") and c.get("code")
                for t in map_code(str(c["system"]), str(c["code"]), guideline=self.guideline)
                if self._imaging(t)
            }
            if targets:
                cards += self._check_order(order, targets, result, request)
        return cards

    def _imaging(self, target: URIRef) -> bool:
        return (target, RDF.type, GR.ImagingProcedure) in self.guideline.graph

    def _check_order(
        self, order: dict[str, Any], targets: set[URIRef], result: Recommendations, request: dict[str, Any]
    ) -> list[dict[str, Any]]:
        instance, name = request["hookInstance"], f"ServiceRequest/{order.get('id')}"
        supporting = [r for r in result.recommendations if r.kind == "order" and URIRef(r.target.iri) in targets]
        against = [r for r in result.recommendations if r.kind == "avoid" and self._imaging(URIRef(r.target.iri))]
        if supporting:
            rec = supporting[0]
            return [
                _card(
                    instance,
                    f"order-{name}",
                    _summary(f"Supported by the guideline: {rec.label}"),
                    "info",
                    _why(rec),
                    _source(rec),
                )
            ]
        if against:
            rec = against[0]
            card = _card(
                instance,
                f"order-{name}",
                _summary(f"Imaging not advised now: {rec.label}"),
                "warning",
                _why(rec),
                _source(rec),
            )
            card["suggestions"] = [
                {
                    "label": f"Remove the draft order {name}",
                    "uuid": str(uuid.uuid5(_NAMESPACE, f"{instance}|remove|{name}")),
                    "actions": [{"type": "delete", "description": f"Remove {name}", "resourceId": name}],
                }
            ]
            card["selectionBehavior"] = "at-most-one"
            return [card]
        return []


# -- cards ---------------------------------------------------------------------------------------------------------


def _card(instance: str, key: str, summary: str, indicator: str, detail: str, source: dict[str, str]) -> dict[str, Any]:
    return {
        "uuid": str(uuid.uuid5(_NAMESPACE, f"{instance}|{key}")),
        "summary": summary,
        "indicator": indicator,
        "detail": detail,
        "source": source,
    }


def _recommendation_card(
    rec: AppliedRecommendation, instance: str, patient_id: str, codes: list[dict[str, str]]
) -> dict[str, Any]:
    urgency = rec.urgency or "routine"
    card = _card(
        instance,
        rec.identifier,
        _summary(f"{urgency.upper()}: {rec.label}"),
        _INDICATOR[urgency],
        _why(rec),
        _source(rec),
    )
    if rec.kind in ("order", "refer"):
        request = service_request(rec, codes, subject={"reference": f"Patient/{patient_id}"})
        card["suggestions"] = [
            {
                "label": f"{'Order' if rec.kind == 'order' else 'Refer for'} {rec.target.label}",
                "uuid": str(uuid.uuid5(_NAMESPACE, f"{instance}|{rec.identifier}|suggest")),
                "isRecommended": True,
                "actions": [{"type": "create", "description": rec.label, "resource": request}],
            }
        ]
        card["selectionBehavior"] = "at-most-one"
    return card


def _why(rec: AppliedRecommendation) -> str:
    refs = References()
    refs.cite(rec)
    lines = [f"**{rec.label}** (`{rec.identifier}`)" + (f", {rec.timing}" if rec.timing else "") + "."]
    if rec.rationale:
        lines += ["", rec.rationale]
    if rec.condition:
        lines += ["", f"*Condition:* {rec.condition}"]
    if rec.because:
        lines += ["", "**Because** (patient facts):", *(f"- {fact_text(f)}" for f in rec.because)]
    grade = "; ".join(p for p in (rec.strength, rec.quality, rec.rating) if p) or "ungraded"
    lines += ["", f"**Grade** ({rec.sources[0].label if rec.sources else 'source'}): {grade}"]
    if rec.project_defined:
        lines.append(f"Project-defined, not from a source: {', '.join(rec.project_defined)}.")
    lines += ["", "**Sources**:"]
    for n, iri in enumerate(refs.order, 1):
        link = refs.links[iri]
        lines.append(f"{n}. [{refs.citations[iri]}]({link})" if link else f"{n}. {refs.citations[iri]}")
    return "\n".join(lines)


def _source(rec: AppliedRecommendation) -> dict[str, str]:
    if not rec.sources:
        return {"label": "Guideline reasoner"}
    primary = rec.sources[0]
    link = f"https://doi.org/{primary.doi}" if primary.doi else primary.url
    return {"label": primary.label, **({"url": link} if link else {})}


def _project_source(gl: Guideline) -> dict[str, str]:
    return {"label": f"{gl.title} (guideline reasoner, version {gl.version})"}


def _summary(text: str) -> str:
    return text if len(text) < SUMMARY_LIMIT else text[: SUMMARY_LIMIT - 2].rstrip() + "…"


def _local(iri: str) -> str:
    return iri.rsplit("#", 1)[-1]
