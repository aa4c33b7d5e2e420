"""A CDS Hooks request before any service reads it: the body as a JSON object within reasoner.rdf.limits, and the
JSON types CDS Hooks 2.0 and FHIR give its parts, so that what reads it next may rely on them. Anything else is a
HookError with status 400: a malformed request is never a 500."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from reasoner.rdf.limits import ReadError, read_json

__all__ = ["HookError", "check_request", "need", "read_body"]


class HookError(Exception):
    """The call is answered with `status` and this message, and no card."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


def read_body(body: bytes) -> dict[str, Any]:
    """The request body as a JSON object, read within reasoner.rdf.limits like every patient input (size, nesting
    measured before parsing, duplicate keys, numbers, string lengths)."""
    try:
        data = read_json(body or b"null", source="the request body")
    except ReadError as exc:
        raise HookError(HTTPStatus.BAD_REQUEST, f"the request body is not acceptable JSON: {exc.detail}") from None
    if not isinstance(data, dict):
        raise HookError(HTTPStatus.BAD_REQUEST, "the request body must be a JSON object")
    return data


def need(ok: bool, what: str) -> None:
    """Refuse the request (400) unless `ok`; `what` says what was expected."""
    if not ok:
        raise HookError(HTTPStatus.BAD_REQUEST, f"malformed hook request: {what}")


def check_request(request: dict[str, Any]) -> None:
    """Refuse (400) a hook call whose parts do not have the JSON types CDS Hooks 2.0 and FHIR give them, or whose
    context has no patientId (both hooks served require it)."""
    need(isinstance(request.get("hookInstance"), str), "hookInstance must be a string")
    need(isinstance(request.get("context"), dict), "context must be an object")
    need(request.get("fhirServer") is None or isinstance(request["fhirServer"], str), "fhirServer must be a string")
    need(
        request.get("fhirAuthorization") is None or isinstance(request["fhirAuthorization"], dict),
        "fhirAuthorization must be an object",
    )
    context = request["context"]
    patient_id = context.get("patientId")
    need(isinstance(patient_id, str) and patient_id != "", "context.patientId must be a non-empty string")
    prefetch = request.get("prefetch")
    need(prefetch is None or isinstance(prefetch, dict), "prefetch must be an object")
    resources = {f"prefetch.{k}": v for k, v in (prefetch or {}).items()}
    if "draftOrders" in context:
        resources["context.draftOrders"] = context["draftOrders"]
    for where, value in resources.items():
        if value is not None:
            need(isinstance(value, dict) and isinstance(value.get("resourceType"), str), f"{where}: a FHIR resource")
            if value["resourceType"] == "Bundle":
                _check_bundle(where, value)


def _check_bundle(where: str, bundle: dict[str, Any]) -> None:
    links = bundle.get("link", [])
    need(
        isinstance(links, list) and all(isinstance(k, dict) and isinstance(k.get("relation"), str) for k in links),
        f"{where}.link: a list of links, each with a relation",
    )
    total = bundle.get("total")
    need(total is None or (isinstance(total, int) and not isinstance(total, bool)), f"{where}.total: an integer")
    entries = bundle.get("entry", [])
    need(isinstance(entries, list), f"{where}.entry must be a list")
    for n, entry in enumerate(entries):
        need(isinstance(entry, dict), f"{where}.entry[{n}] must be an object")
        search = entry.get("search")
        need(
            search is None or (isinstance(search, dict) and isinstance(search.get("mode", ""), str)),
            f"{where}.entry[{n}].search: an object whose mode is a string",
        )
        resource = entry.get("resource")
        need(
            resource is None or (isinstance(resource, dict) and isinstance(resource.get("resourceType"), str)),
            f"{where}.entry[{n}].resource: a FHIR resource",
        )
        if isinstance(resource, dict) and resource["resourceType"] == "ServiceRequest":
            code = resource.get("code")
            need(code is None or isinstance(code, dict), f"{where}.entry[{n}].resource.code: a CodeableConcept")
            codings = (code or {}).get("coding", [])
            need(
                isinstance(codings, list) and all(isinstance(c, dict) for c in codings),
                f"{where}.entry[{n}].resource.code.coding: a list of Codings",
            )
