"""The prefetch of the CDS services: the templates discovery advertises, and the check that a call's prefetch is the
whole of what they ask for, about the patient in context, before anything is read.

Templates ask for what the FHIR reader (reasoner.input.fhir) uses and nothing else: the Patient; Conditions,
Observations, Procedures and AllergyIntolerances whose code is one the reader maps (every verified `gr:coding` of the
findings, measurements, therapies and drugs the loaded guideline defines, and any code of a loaded ontology's own
code system, `system|`); MedicationRequests and MedicationStatements with the Medications they reference
(`_include`), not filtered by code, since a medication given by reference has no code to search on. The codes come
from the guideline's Turtle, so a module that adds a code widens the search.

This service fetches nothing (no network at run time), so every template is required, and what the EHR could not
supply is never read as "no such data" (CDS Hooks 2.0, Prefetch Template: a service "unable to obtain required data
... SHALL respond with an HTTP 412"). 412 and no card for: no prefetch, a template key left out, an OperationOutcome
in place of the data or an error or fatal issue in a search's outcome entry, a Bundle with a `next` link or fewer
matches than its `total`, a null Patient, a Patient other than context.patientId, a searched resource about another
patient. A null search result is what CDS Hooks 2.0 sends for a search that matched nothing ("the __null__ result is
used rather than a bundle with zero entries"), so it is complete and empty. A key no template has, or data of the
wrong resource type for its template, is a malformed call: 400.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from rdflib import URIRef
from rdflib.term import Node

from reasoner.knowledge.guideline import Guideline
from reasoner.knowledge.vocabulary import Vocabulary
from reasoner.namespaces import OWL, RDF
from reasoner.serve._hook_request import HookError

__all__ = ["Template", "prefetched_bundle", "templates"]

PATIENT = "patient"
_SUBJECT = re.compile(r"(?:^|/)Patient/([^/]+)(?:/_history/[^/]+)?$")
_FAILED = {"error", "fatal"}


@dataclass(frozen=True)
class Template:
    """One prefetch template: its key, the resource type it reads or searches, its query, the types _include adds."""

    key: str
    kind: str
    query: str
    included: frozenset[str] = frozenset()


def templates(gl: Guideline) -> tuple[Template, ...]:
    vocab = Vocabulary.of(gl)
    systems = sorted(str(o) for o in gl.graph.subjects(RDF.type, OWL.Ontology))

    def coded(kind: str, key: str, *terms: Iterable[Node]) -> Template:
        codes = sorted({_token(c) for group in terms for t in group if isinstance(t, URIRef) for c in gl.codes(t)})
        query = f"{kind}?patient={{{{context.patientId}}}}&code={','.join([*codes, *(f'{s}|' for s in systems)])}"
        return Template(key, kind, query)

    def medications(kind: str, key: str) -> Template:
        query = f"{kind}?patient={{{{context.patientId}}}}&_include={kind}:medication"
        return Template(key, kind, query, frozenset({"Medication"}))

    return (
        Template(PATIENT, "Patient", "Patient/{{context.patientId}}"),
        coded("Condition", "conditions", vocab.findings),
        coded("Observation", "observations", vocab.findings, vocab.measurements),
        coded("Procedure", "procedures", vocab.therapies, vocab.findings),
        coded("AllergyIntolerance", "allergies", vocab.findings, vocab.drugs),
        medications("MedicationRequest", "medicationRequests"),
        medications("MedicationStatement", "medicationStatements"),
    )


def prefetched_bundle(request: dict[str, Any], wanted: tuple[Template, ...]) -> dict[str, Any]:
    """The call's prefetch as one collection Bundle for the FHIR reader, once it is whole and about the patient in
    context (a request already checked by reasoner.serve._hook_request); else a HookError (see the module)."""
    prefetch: dict[str, Any] = request.get("prefetch") or {}
    keys = [t.key for t in wanted]
    if not prefetch:
        raise HookError(
            HTTPStatus.PRECONDITION_FAILED,
            f"prefetch data is required ({', '.join(keys)}): this service does not query the EHR's FHIR server",
        )
    unknown = sorted(set(prefetch) - set(keys))
    if unknown:
        raise HookError(
            HTTPStatus.BAD_REQUEST,
            f"prefetch {', '.join(map(repr, unknown))}: no template of this service; it asks for {', '.join(keys)}",
        )
    patient_id = request["context"]["patientId"]
    unread: list[str] = [f"{k}: not sent" for k in keys if k not in prefetch]
    entries: list[dict[str, Any]] = []
    for template in wanted:
        value = prefetch.get(template.key)
        if value is None:
            if template.key == PATIENT and template.key in prefetch:
                unread.append(f"{PATIENT}: null (no Patient {patient_id!r})")
            continue
        if value["resourceType"] == "OperationOutcome":
            unread.append(f"{template.key}: the EHR could not supply it ({_issues(value)})")
        elif template.key == PATIENT:
            entries.append({"resource": _patient(value, patient_id)})
        else:
            entries += _searched(template, value, patient_id, unread)
    if unread:
        raise HookError(
            HTTPStatus.PRECONDITION_FAILED,
            "the prefetch is incomplete, and what was not read would be taken as absent, so no advice is given: "
            + "; ".join(unread),
        )
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def _patient(value: dict[str, Any], patient_id: str) -> dict[str, Any]:
    if value["resourceType"] != "Patient":
        raise HookError(HTTPStatus.BAD_REQUEST, f"prefetch {PATIENT}: a Patient, not a {value['resourceType']}")
    if value.get("id") != patient_id:
        raise HookError(
            HTTPStatus.PRECONDITION_FAILED,
            f"context.patientId is {patient_id!r} but the prefetched Patient is {value.get('id')!r}: the data is "
            "not the patient in context, so no advice is given",
        )
    return value


def _searched(template: Template, bundle: dict[str, Any], patient_id: str, unread: list[str]) -> list[dict[str, Any]]:
    """The entries of one search's Bundle the reader gets (matches and included resources); what makes the search
    incomplete is added to `unread`."""
    key = template.key
    if bundle["resourceType"] != "Bundle":
        raise HookError(
            HTTPStatus.BAD_REQUEST, f"prefetch {key}: a search answers a Bundle, not a {bundle['resourceType']}"
        )
    if any(link["relation"] == "next" for link in bundle.get("link", [])):
        unread.append(f"{key}: only one page of the search (Bundle.link next); CDS Hooks prefetch comes whole")
    kept, matches = [], 0
    for n, entry in enumerate(bundle.get("entry", [])):
        resource = entry.get("resource")
        if resource is None:
            continue
        kind, mode = resource["resourceType"], (entry.get("search") or {}).get("mode")
        if kind == "OperationOutcome" or mode == "outcome":
            failed = [i for i in _issue_list(resource) if i.get("severity") in _FAILED]
            if failed:
                unread.append(f"{key}: the EHR's search reported {_issues(resource)}")
            continue
        if kind not in (template.kind, *template.included):
            raise HookError(
                HTTPStatus.BAD_REQUEST, f"prefetch {key}.entry[{n}]: a {kind} in the search for {template.kind}"
            )
        if kind == template.kind:
            matches += 1
            other = _other_patient(resource, patient_id)
            if other is not None:
                unread.append(f"{key}: {kind}/{resource.get('id')} is about Patient/{other}, not {patient_id!r}")
        kept.append(entry)
    total = bundle.get("total")
    if total is not None and matches < total:
        unread.append(f"{key}: {matches} of the search's {total} matches")
    return kept


def _other_patient(resource: dict[str, Any], patient_id: str) -> str | None:
    """The id of the Patient the resource names as subject (or patient) when it is not `patient_id`."""
    ref = resource.get("subject") or resource.get("patient")
    reference = ref.get("reference") if isinstance(ref, dict) else None
    found = _SUBJECT.search(reference) if isinstance(reference, str) else None
    return found.group(1) if found and found.group(1) != patient_id else None


def _issue_list(outcome: dict[str, Any]) -> list[dict[str, Any]]:
    issues = outcome.get("issue")
    return [i for i in issues if isinstance(i, dict)] if isinstance(issues, list) else []


def _issues(outcome: dict[str, Any]) -> str:
    """An OperationOutcome's issues in a few words: severity, code and text, clipped."""
    parts = []
    for issue in _issue_list(outcome)[:3]:
        details = issue.get("details")
        text = issue.get("diagnostics") or (details.get("text") if isinstance(details, dict) else None)
        words = [str(issue.get(k)) for k in ("severity", "code") if isinstance(issue.get(k), str)]
        words += [text[:120]] if isinstance(text, str) else []
        parts.append(" ".join(words) or "an issue")
    return "OperationOutcome: " + ("; ".join(parts) or "no issue given")


def _token(code: str) -> str:
    """A "system|code" as a FHIR search token, the code's \\ , $ | escaped."""
    system, value = code.split("|", 1)
    for char in "\\,$|":
        value = value.replace(char, "\\" + char)
    return f"{system}|{value}"
