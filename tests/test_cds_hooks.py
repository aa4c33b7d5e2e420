"""CDS Hooks 2.0 over real HTTP on 127.0.0.1: discovery and its prefetch templates, patient-view on the seed Bundle,
order-select on draft imaging orders, feedback, the error statuses; a prefetch that is incomplete or about another
patient answered 412 with no card, a patient outside every guideline's scope no card, every malformed call 400, the
EHR's JWT checked (signature, aud, exp, iss, jti replay), a full queue answered 503 with Retry-After."""

from __future__ import annotations

import json
import logging
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import reasoner
from reasoner.serve import Authorisation, HookOptions, Server, Settings, make_app
from tests.conftest import default_sigint
from tests.test_fhir import FHIR_SEED

AS_OF = date(2026, 3, 22)
LBP = "https://w3id.org/guideline-reasoner/lbp"
PATIENT_VIEW = "/cds-services/guideline-reasoner-patient-view"
ORDER_SELECT = "/cds-services/guideline-reasoner-order-select"
MRI_ORDER = {
    "resourceType": "ServiceRequest",
    "id": "draft-mri",
    "status": "draft",
    "intent": "order",
    "subject": {"reference": "Patient/p2"},
    "code": {"coding": [{"system": "http://loinc.org", "code": "30679-5", "display": "MR Lumbar spine WO contrast"}]},
}


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with Server(make_app(None, hooks=HookOptions(as_of=AS_OF))) as server:  # what `reasoner serve --cds-hooks` serves
        yield server.url.rstrip("/")


def _get(url: str) -> tuple[int, dict[str, Any], dict[str, str]]:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.status, json.loads(response.read()), dict(response.headers)


def _post(url: str, body: Any) -> tuple[int, dict[str, Any]]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _prefetch_by_type(bundle: dict[str, Any]) -> dict[str, Any]:
    """The seed Bundle split the way an EHR answers the discovery's prefetch templates (one search set per type)."""
    keys = {
        "Condition": "conditions",
        "Observation": "observations",
        "Procedure": "procedures",
        "AllergyIntolerance": "allergies",
        "MedicationStatement": "medicationStatements",
        "MedicationRequest": "medicationRequests",
    }
    out: dict[str, Any] = {k: {"resourceType": "Bundle", "type": "searchset", "entry": []} for k in keys.values()}
    for entry in bundle["entry"]:
        kind = entry["resource"]["resourceType"]
        if kind == "Patient":
            out["patient"] = entry["resource"]
        else:
            out[keys[kind]]["entry"].append(entry)
    return out


def _hook(hook: str, patient_id: str, prefetch: dict[str, Any], **context: Any) -> dict[str, Any]:
    return {
        "hook": hook,
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "fhirServer": "https://ehr.example/fhir",
        "context": {"userId": "Practitioner/example", "patientId": patient_id, **context},
        "prefetch": prefetch,
    }


def _no_red_flags_patient() -> dict[str, Any]:
    """Acute low back pain with every red flag documented absent: imaging is advised against."""
    patient = {"resourceType": "Patient", "id": "p2", "birthDate": "1990-05-01", "gender": "male"}
    subject = {"reference": "Patient/p2"}
    conditions = [
        {
            "resourceType": "Condition",
            "id": "lbp",
            "subject": subject,
            "onsetDateTime": "2026-03-15",
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": "279039007"}]},
        }
    ]
    gl = reasoner.load_guideline()
    from reasoner.namespaces import GR, RDFS

    for field in sorted(gl.graph.subjects(RDFS.subClassOf, GR.RedFlag)):
        name = str(field).rsplit("#", 1)[1]
        conditions.append(
            {
                "resourceType": "Condition",
                "id": name.lower(),
                "subject": subject,
                "verificationStatus": {"coding": [{"code": "refuted"}]},
                "code": {"coding": [{"system": LBP, "code": name}]},
            }
        )
    return _full(
        patient=patient,
        conditions={"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": c} for c in conditions]},
    )


KEYS = (
    "patient",
    "conditions",
    "observations",
    "procedures",
    "allergies",
    "medicationRequests",
    "medicationStatements",
)


def _full(**given: Any) -> dict[str, Any]:
    """A whole prefetch: every template key, null (CDS Hooks 2.0: a search that matched nothing) unless given."""
    return {key: given.get(key) for key in KEYS}


def test_discovery_lists_the_services_with_prefetch_templates(base: str) -> None:
    status, body, headers = _get(base + "/cds-services")
    assert status == 200 and headers["content-type"] == "application/json"
    services = {s["id"]: s for s in body["services"]}
    assert {s["hook"] for s in services.values()} == {"patient-view", "order-select"}
    for service in services.values():
        assert service["title"] and service["description"]
        assert service["prefetch"]["patient"] == "Patient/{{context.patientId}}"
        assert all("{{context.patientId}}" in t for t in service["prefetch"].values())


def test_patient_view_on_the_seed_bundle_gives_the_right_cards(base: str) -> None:
    bundle = json.loads(FHIR_SEED.read_text())
    status, body = _post(
        base + "/cds-services/guideline-reasoner-patient-view",
        _hook("patient-view", "seed-v02", _prefetch_by_type(bundle)),
    )
    assert status == 200, body
    cards = body["cards"]
    expected = reasoner.recommend(FHIR_SEED, as_of=AS_OF)
    urgent = [r for r in expected.recommendations if r.urgency]
    assert [c["summary"] for c in cards[: len(urgent)]] == [f"{r.urgency.upper()}: {r.label}" for r in urgent]  # type: ignore[union-attr]
    assert [c["indicator"] for c in cards] == ["critical", "critical", "warning", "warning", "warning", "info"]
    assert all(len(c["summary"]) < 140 and c["source"]["label"] and c["detail"] for c in cards)
    assert len({c["uuid"] for c in cards}) == len(cards)

    mri, surgery = cards[0], cards[1]
    assert mri["summary"] == "URGENT: Urgent MRI of the lumbar spine without IV contrast"
    assert mri["source"] == {
        "label": "ACP/APS 2007 low back pain guideline",
        "url": "https://doi.org/10.7326/0003-4819-147-7-200710020-00006",
    }
    rec = expected.by_identifier()["LBP-IMG-04"]
    assert rec.rationale and rec.rationale in mri["detail"]
    assert "[from Condition/weakness-day21]" in mri["detail"] and "strong recommendation" in mri["detail"]
    (suggestion,) = mri["suggestions"]
    assert mri["selectionBehavior"] == "at-most-one"
    (action,) = suggestion["actions"]
    assert action["type"] == "create" and action["resource"]["resourceType"] == "ServiceRequest"
    assert {"system": "http://loinc.org", "code": "30679-5"} in action["resource"]["code"]["coding"]
    assert action["resource"]["subject"] == {"reference": "Patient/seed-v02"}
    assert action["resource"]["priority"] == "urgent"
    assert surgery["summary"] == "URGENT: Urgent spine surgery consultation" and surgery["suggestions"]
    created = [a["resource"] for c in cards for s in c.get("suggestions", []) for a in s["actions"]]
    assert created and all(r["subject"] == {"reference": "Patient/seed-v02"} for r in created)
    missing = cards[4]
    assert missing["summary"].startswith("Not documented (unknown, not absent): ") and len(missing["summary"]) <= 140
    assert all(m.label in missing["detail"] for m in expected.missing)


def test_order_select_supports_an_indicated_mri_and_questions_an_unneeded_one(base: str) -> None:
    drafts = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": MRI_ORDER}]}
    url = base + "/cds-services/guideline-reasoner-order-select"
    seed = _prefetch_by_type(json.loads(FHIR_SEED.read_text()))
    status, body = _post(url, _hook("order-select", "seed-v02", seed, selections=[], draftOrders=drafts))
    assert status == 200, body
    (supported,) = body["cards"]
    assert supported["indicator"] == "info" and "Supported by the guideline" in supported["summary"]

    status, body = _post(url, _hook("order-select", "p2", _no_red_flags_patient(), draftOrders=drafts))
    assert status == 200, body
    (warning,) = body["cards"]
    assert warning["indicator"] == "warning" and warning["summary"].startswith("Imaging not advised now")
    (action,) = warning["suggestions"][0]["actions"]
    assert action == {
        "type": "delete",
        "description": "Remove ServiceRequest/draft-mri",
        "resourceId": "ServiceRequest/draft-mri",
    }


@pytest.mark.parametrize(
    ("path", "body", "status", "message"),
    [
        ("/cds-services/nope", {"hook": "patient-view"}, 404, "no CDS service 'nope'"),
        ("/cds-services/guideline-reasoner-patient-view", b"{not json", 400, "not acceptable JSON"),
        (
            "/cds-services/guideline-reasoner-patient-view",
            {"hook": "order-select", "hookInstance": "x", "context": {}},
            400,
            "answers 'patient-view'",
        ),
        (
            "/cds-services/guideline-reasoner-patient-view",
            {"hook": "patient-view", "hookInstance": "x", "context": {}},
            400,
            "context.patientId must be a non-empty string",
        ),
        (
            "/cds-services/guideline-reasoner-patient-view",
            {"hook": "patient-view", "hookInstance": "x", "context": {"patientId": "p"}},
            412,
            "prefetch data is required",
        ),
        (
            "/cds-services/guideline-reasoner-patient-view",
            {
                "hook": "patient-view",
                "hookInstance": "x",
                "context": {"patientId": "p"},
                "prefetch": _full(patient={"resourceType": "Patient", "id": "p", "birthDate": "yesterday"}),
            },
            400,
            "the Patient cannot be read: birthDate",
        ),
    ],
)
def test_bad_calls_get_clear_errors(base: str, path: str, body: Any, status: int, message: str) -> None:
    got, answer = _post(base + path, body)
    assert got == status and message in answer["error"]


def _ehr_answers(templates: dict[str, str], record: dict[str, Any]) -> dict[str, Any]:
    """What an EHR holding `record` sends for the templates: a read by type, and searches with FHIR's token matching
    of `code` (system|code, or system| for any code of that system); null for a search that matched nothing."""
    resources = [e["resource"] for e in record["entry"]]
    out: dict[str, Any] = {}
    for key, template in templates.items():
        path, _, query = template.partition("?")
        if not query:
            out[key] = next(r for r in resources if r["resourceType"] == path.split("/")[0])
            continue
        params = dict(p.split("=", 1) for p in query.split("&"))
        tokens = re.split(r"(?<!\\),", params["code"]) if "code" in params else None

        def match(resource: dict[str, Any], tokens: list[str] | None = tokens) -> bool:
            codings = (resource.get("code") or resource.get("medicationCodeableConcept") or {}).get("coding", [])
            pairs = {(c.get("system"), c.get("code")) for c in codings}
            return tokens is None or any(f"{s}|{c}" in tokens or f"{s}|" in tokens for s, c in pairs)

        found = [r for r in resources if r["resourceType"] == path and match(r)]
        entries = [{"resource": r, "search": {"mode": "match"}} for r in found]
        out[key] = (
            {"resourceType": "Bundle", "type": "searchset", "total": len(found), "entry": entries} if found else None
        )
    return out


def test_prefetch_templates_ask_only_for_what_the_reader_maps(base: str) -> None:
    """The templates search by the codes the loaded guideline maps (from its Turtle): an EHR answering them over the
    seed record leaves out an Observation no term maps, and the cards are those of the whole record."""
    from reasoner.input.fhir import map_code
    from reasoner.knowledge.vocabulary import Vocabulary

    _, body, _ = _get(base + "/cds-services")
    templates = body["services"][0]["prefetch"]
    assert set(templates) == set(KEYS)
    gl = reasoner.load_guideline()
    loinc = [c for m in Vocabulary.of(gl).measurements for c in gl.codes(m) if c.startswith("http://loinc.org|")]
    assert loinc and all(c in templates["observations"].split("code=")[1].split(",") for c in loinc)
    assert templates["medicationRequests"].endswith("&_include=MedicationRequest:medication")
    assert templates["medicationStatements"].endswith("&_include=MedicationStatement:medication")

    record = json.loads(FHIR_SEED.read_text())
    pulse = {
        "resourceType": "Observation",
        "id": "pulse",
        "status": "final",
        "subject": {"reference": "Patient/seed-v02"},
        "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
        "valueQuantity": {"value": 72, "unit": "/min"},
    }
    assert not map_code("http://loinc.org", "8867-4")
    record["entry"].append({"resource": pulse})
    answered = _ehr_answers(templates, record)
    sent = [e["resource"]["id"] for e in answered["observations"]["entry"]]
    assert "pulse" not in sent and {"slr", "fever", "egfr"} <= set(sent)
    url = base + PATIENT_VIEW
    status, whole = _post(url, _hook("patient-view", "seed-v02", _prefetch_by_type(json.loads(FHIR_SEED.read_text()))))
    status_templated, templated = _post(url, _hook("patient-view", "seed-v02", answered))
    assert status == status_templated == 200 and templated == whole


def test_a_prefetched_patient_other_than_the_context_gets_412_and_no_card(base: str) -> None:
    seed = _prefetch_by_type(json.loads(FHIR_SEED.read_text()))
    status, answer = _post(base + PATIENT_VIEW, _hook("patient-view", "someone-else", seed))
    assert status == 412 and "cards" not in answer
    assert "'someone-else'" in answer["error"] and "'seed-v02'" in answer["error"]


def _incomplete() -> dict[str, tuple[str, dict[str, Any]]]:
    """Prefetches of the seed record that are not whole, by name: (the key named in the error, the prefetch)."""

    def seed(**changes: Any) -> dict[str, Any]:
        prefetch = _prefetch_by_type(json.loads(FHIR_SEED.read_text()))
        return {k: v for k, v in {**prefetch, **changes}.items() if v != "omit"}

    failed = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "timeout"}]}
    observations = _prefetch_by_type(json.loads(FHIR_SEED.read_text()))["observations"]
    stranger = {"resourceType": "Condition", "id": "x", "subject": {"reference": "Patient/p9"}, "code": {"text": "x"}}
    return {
        "a key not sent": ("observations", seed(observations="omit")),
        "an OperationOutcome for a search": ("conditions", seed(conditions=failed)),
        "an OperationOutcome for the Patient": ("patient", seed(patient=failed)),
        "a null Patient": ("patient", seed(patient=None)),
        "one page of several": (
            "observations",
            seed(observations={**observations, "link": [{"relation": "next", "url": "https://ehr.example/p2"}]}),
        ),
        "an error among the search's outcomes": (
            "allergies",
            seed(allergies={"resourceType": "Bundle", "entry": [{"resource": failed, "search": {"mode": "outcome"}}]}),
        ),
        "fewer matches than the total": ("observations", seed(observations={**observations, "total": 99})),
        "another patient's resource": (
            "conditions",
            seed(conditions={"resourceType": "Bundle", "entry": [{"resource": stranger}]}),
        ),
    }


@pytest.mark.parametrize("name", list(_incomplete()))
def test_an_incomplete_prefetch_gets_412_naming_what_was_not_read(base: str, name: str) -> None:
    """CDS Hooks 2.0: a service that cannot obtain required data answers 412; this one fetches nothing, so data the
    EHR could not send is never evaluated as absent."""
    key, prefetch = _incomplete()[name]
    status, answer = _post(base + PATIENT_VIEW, _hook("patient-view", "seed-v02", prefetch))
    assert status == 412 and "cards" not in answer, (name, answer)
    assert f"{key}: " in answer["error"], answer["error"]


def test_a_warning_among_a_searchs_outcomes_and_a_null_search_leave_the_prefetch_whole(base: str) -> None:
    """A warning (not an error) in a search's outcome entry is no failure, and null is CDS Hooks 2.0's answer for a
    search that matched nothing: the cards are those of the whole record."""
    prefetch = _prefetch_by_type(json.loads(FHIR_SEED.read_text()))
    status, whole = _post(base + PATIENT_VIEW, _hook("patient-view", "seed-v02", prefetch))
    warning = {"resourceType": "OperationOutcome", "issue": [{"severity": "warning", "code": "informational"}]}
    outcome = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": warning, "search": {"mode": "outcome"}}],
    }
    changed = {**prefetch, "allergies": outcome}
    assert prefetch["allergies"]["entry"] == []
    status_changed, answer = _post(
        base + PATIENT_VIEW, _hook("patient-view", "seed-v02", {**changed, "allergies": None})
    )
    assert status == status_changed == 200 and answer == whole
    status_changed, answer = _post(base + PATIENT_VIEW, _hook("patient-view", "seed-v02", changed))
    assert status_changed == 200 and answer == whole


def test_a_patient_outside_every_guideline_gets_no_card(base: str, tmp_path: Path) -> None:
    """The seed record without its low back pain diagnosis: red flags and medications, but no module applies."""
    record = json.loads(FHIR_SEED.read_text())
    record["entry"] = [e for e in record["entry"] if e["resource"].get("id") != "sciatica"]
    (tmp_path / "record.fhir.json").write_text(json.dumps(record))
    assert reasoner.recommend(tmp_path / "record.fhir.json", as_of=AS_OF).guidelines == []
    for path, hook, extra in (
        (PATIENT_VIEW, "patient-view", {}),
        (ORDER_SELECT, "order-select", {"draftOrders": {"resourceType": "Bundle", "entry": [{"resource": MRI_ORDER}]}}),
    ):
        status, answer = _post(base + path, _hook(hook, "seed-v02", _prefetch_by_type(record), **extra))
        assert status == 200 and answer == {"cards": []}, answer


FEEDBACK = PATIENT_VIEW + "/feedback"
_CARD, _SUGGESTION = str(uuid.uuid4()), str(uuid.uuid4())
_ACCEPTED = {
    "card": _CARD,
    "outcome": "accepted",
    "acceptedSuggestions": [{"id": _SUGGESTION}],
    "outcomeTimestamp": "2026-03-22T10:00:00Z",
}
_OVERRIDDEN = {
    "card": _CARD,
    "outcome": "overridden",
    "overrideReason": {
        "reason": {"system": "https://ehr.example/reasons", "code": "refused", "display": "Patient refused"},
        "userComment": "Jane Roe, 12 Elm St, declined",
    },
    "outcomeTimestamp": "2026-03-22T10:01:00.25+00:00",
}


def test_feedback_is_accepted_and_logged_without_the_clinicians_comment(
    base: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="reasoner.serve.feedback"):
        status, answer = _post(base + FEEDBACK, {"feedback": [_ACCEPTED, _OVERRIDDEN]})
    assert status == 200 and answer == {"received": 2}
    logged = [json.loads(r.getMessage()) for r in caplog.records if r.name == "reasoner.serve.feedback"]
    service = "guideline-reasoner-patient-view"
    assert logged == [
        {"service": service, "card": _CARD, "outcome": "accepted", "suggestions": [_SUGGESTION],
         "overrideReason": None, "at": "2026-03-22T10:00:00Z"},
        {"service": service, "card": _CARD, "outcome": "overridden", "suggestions": [],
         "overrideReason": "https://ehr.example/reasons|refused", "at": "2026-03-22T10:01:00.25+00:00"},
    ]  # fmt: skip
    assert "Jane Roe" not in caplog.text


@pytest.mark.parametrize(
    ("name", "body", "status"),
    [
        ("no such service", {"feedback": [_ACCEPTED]}, 404),
        ("not JSON", b"{feedback", 400),
        ("feedback an object", {"feedback": _ACCEPTED}, 400),
        ("feedback empty", {"feedback": []}, 400),
        ("card not a uuid", {"feedback": [{**_ACCEPTED, "card": "card-1"}]}, 400),
        ("unknown outcome", {"feedback": [{**_ACCEPTED, "outcome": "dismissed"}]}, 400),
        ("accepted without suggestions", {"feedback": [{**_ACCEPTED, "acceptedSuggestions": []}]}, 400),
        ("suggestion id a number", {"feedback": [{**_ACCEPTED, "acceptedSuggestions": [{"id": 5}]}]}, 400),
        ("overridden with suggestions", {"feedback": [{**_OVERRIDDEN, "acceptedSuggestions": [{"id": _CARD}]}]}, 400),
        ("timestamp not UTC", {"feedback": [{**_ACCEPTED, "outcomeTimestamp": "2026-03-22T10:00:00+02:00"}]}, 400),
        ("timestamp a date", {"feedback": [{**_ACCEPTED, "outcomeTimestamp": "2026-03-22"}]}, 400),
        ("no timestamp", {"feedback": [{k: v for k, v in _ACCEPTED.items() if k != "outcomeTimestamp"}]}, 400),
        ("reason without code", {"feedback": [{**_OVERRIDDEN, "overrideReason": {"reason": {"system": "s"}}}]}, 400),
        ("comment a number", {"feedback": [{**_OVERRIDDEN, "overrideReason": {"userComment": 5}}]}, 400),
    ],
)
def test_malformed_feedback_is_refused(base: str, name: str, body: Any, status: int) -> None:
    path = "/cds-services/nope/feedback" if name == "no such service" else FEEDBACK
    got, answer = _post(base + path, body)
    assert got == status and answer["error"], (name, got, answer)


def test_reasoner_serve_cds_hooks_command_answers_discovery() -> None:
    """`reasoner serve --cds-hooks` without a store: the services only, stopped by Ctrl-C."""
    command = [sys.executable, "-m", "reasoner.cli", "serve", "--cds-hooks", "--port", "0"]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint)
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        assert "CDS Hooks" in line and "SPARQL" not in line, line
        url = line.split(" at ")[1].split()[0]
        status, body, _ = _get(url + "cds-services")
        assert status == 200
        assert {s["hook"] for s in body["services"]} == {"patient-view", "order-select"}
        process.send_signal(signal.SIGINT)
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


# -- transport: malformed calls, authorisation, the queue ----------------------------------------------------------

_CALL = {"hook": "patient-view", "hookInstance": "x", "context": {"patientId": "p"}}
_PATIENT = {"resourceType": "Patient", "id": "p", "birthDate": "1980-01-01"}


def _malformed() -> dict[str, tuple[str, Any]]:
    """Malformed service calls by name: (path, body)."""
    deep = b"[" * 5000 + b"1" + b"]" * 5000
    conditions = lambda entry: {"patient": _PATIENT, "conditions": {"resourceType": "Bundle", "entry": entry}}  # noqa: E731
    order = {"resourceType": "ServiceRequest", "id": "o", "status": "draft", "intent": "order"}
    drafts = lambda resource: {"resourceType": "Bundle", "entry": [{"resource": resource}]}  # noqa: E731
    return {
        "deep JSON": (
            PATIENT_VIEW,
            json.dumps({**_CALL, "prefetch": {"patient": "DEEP"}}).encode().replace(b'"DEEP"', deep),
        ),
        "deep JSON, bare": (PATIENT_VIEW, b"[" * 100_000 + b"]" * 100_000),
        "not UTF-8": (PATIENT_VIEW, b"\xff\xfe{}"),
        "a list": (PATIENT_VIEW, []),
        "a number": (PATIENT_VIEW, 5),
        "duplicate keys": (PATIENT_VIEW, b'{"hook": "patient-view", "hook": "order-select"}'),
        "NaN": (PATIENT_VIEW, b'{"hook": NaN}'),
        "hookInstance a number": (PATIENT_VIEW, {**_CALL, "hookInstance": 5}),
        "context a list": (PATIENT_VIEW, {**_CALL, "context": []}),
        "patientId an object": (PATIENT_VIEW, {**_CALL, "context": {"patientId": {}}, "prefetch": {"p": _PATIENT}}),
        "prefetch a list": (PATIENT_VIEW, {**_CALL, "prefetch": [_PATIENT]}),
        "prefetch a string": (PATIENT_VIEW, {**_CALL, "prefetch": {"patient": "Patient/p"}}),
        "resourceType a number": (PATIENT_VIEW, {**_CALL, "prefetch": {"patient": {"resourceType": 5}}}),
        "entry a number": (PATIENT_VIEW, {**_CALL, "prefetch": conditions(5)}),
        "entry of numbers": (PATIENT_VIEW, {**_CALL, "prefetch": conditions([5])}),
        "resource a list": (PATIENT_VIEW, {**_CALL, "prefetch": conditions([{"resource": []}])}),
        "two patients": (PATIENT_VIEW, {**_CALL, "prefetch": {"a": _PATIENT, "b": {**_PATIENT, "id": "q"}}}),
        "a key no template has": (PATIENT_VIEW, {**_CALL, "prefetch": {**_full(patient=_PATIENT), "labs": None}}),
        "a search answered by a Patient": (
            PATIENT_VIEW,
            {**_CALL, "prefetch": _full(patient=_PATIENT, conditions=_PATIENT)},
        ),
        "a Patient in a search": (
            PATIENT_VIEW,
            {
                **_CALL,
                "prefetch": _full(
                    patient=_PATIENT, conditions={"resourceType": "Bundle", "entry": [{"resource": _PATIENT}]}
                ),
            },
        ),
        "link a string": (
            PATIENT_VIEW,
            {**_CALL, "prefetch": _full(patient=_PATIENT, conditions={"resourceType": "Bundle", "link": "next"})},
        ),
        "total a string": (
            PATIENT_VIEW,
            {**_CALL, "prefetch": _full(patient=_PATIENT, conditions={"resourceType": "Bundle", "total": "3"})},
        ),
        "birthDate a number": (PATIENT_VIEW, {**_CALL, "prefetch": _full(patient={**_PATIENT, "birthDate": 5})}),
        "fhirServer a number": (PATIENT_VIEW, {**_CALL, "fhirServer": 5, "prefetch": {"patient": _PATIENT}}),
        "draftOrders a list": (
            ORDER_SELECT,
            {**_CALL, "hook": "order-select", "context": {"draftOrders": []}, "prefetch": {"patient": _PATIENT}},
        ),
        "order code a list": (
            ORDER_SELECT,
            {
                **_CALL,
                "hook": "order-select",
                "context": {"draftOrders": drafts({**order, "code": [1]})},
                "prefetch": {"patient": _PATIENT},
            },
        ),
        "order coding a number": (
            ORDER_SELECT,
            {
                **_CALL,
                "hook": "order-select",
                "context": {"draftOrders": drafts({**order, "code": {"coding": 5}})},
                "prefetch": {"patient": _PATIENT},
            },
        ),
        "order codings of strings": (
            ORDER_SELECT,
            {
                **_CALL,
                "hook": "order-select",
                "context": {"draftOrders": drafts({**order, "code": {"coding": ["x"]}})},
                "prefetch": {"patient": _PATIENT},
            },
        ),
    }


@pytest.mark.parametrize("code", [[], 5], ids=["a list", "a number"])
def test_one_unreadable_resource_is_listed_and_never_assumed_absent(base: str, code: object) -> None:
    """A Condition whose code is not a CodeableConcept is one bad resource of a real record (the FHIR reader lists it
    and reads the rest): the call is answered, and no card rests on the missing condition."""
    condition = {"resourceType": "Condition", "id": "c", "subject": {"reference": "Patient/p"}, "code": code}
    bundle = {"resourceType": "Bundle", "entry": [{"resource": condition}]}
    status, answer = _post(base + PATIENT_VIEW, {**_CALL, "prefetch": _full(patient=_PATIENT, conditions=bundle)})
    assert status == 200 and answer["cards"] == [], answer


@pytest.mark.parametrize("name", list(_malformed()))
def test_every_malformed_call_gets_400(base: str, name: str) -> None:
    path, body = _malformed()[name]
    status, answer = _post(base + path, body)
    assert status == 400 and answer["error"], (name, status, answer)


def _keys(tmp_path: Path) -> tuple[Path, Any]:
    """A JWK Set file with one ES384 public key (kid "ehr-1"), and the private key."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from jwt.algorithms import ECAlgorithm

    private = ec.generate_private_key(ec.SECP384R1())
    jwk = json.loads(ECAlgorithm.to_jwk(private.public_key()))
    path = tmp_path / "ehr-keys.json"
    path.write_text(json.dumps({"keys": [{**jwk, "kid": "ehr-1", "alg": "ES384", "use": "sig"}]}))
    return path, private


def test_calls_need_the_ehrs_valid_jwt(tmp_path: Path) -> None:
    import jwt

    jwks, private = _keys(tmp_path)
    issuer = "https://ehr.example.org"
    options = HookOptions(as_of=AS_OF, authorisation=Authorisation(jwks, (issuer,)))
    with Server(make_app(None, hooks=options)) as server:
        url = server.url + PATIENT_VIEW.lstrip("/")
        body = _hook("patient-view", "seed-v02", _prefetch_by_type(json.loads(FHIR_SEED.read_text())))
        now = int(time.time())

        def token(**claims: Any) -> str:
            base = {"iss": issuer, "aud": url, "iat": now, "exp": now + 60, "jti": str(uuid.uuid4())}
            key = claims.pop("key", private)
            return jwt.encode({**base, **claims}, key, algorithm="ES384", headers={"kid": claims.pop("kid", "ehr-1")})

        def call(authorization: str | None) -> int:
            headers = {
                "Content-Type": "application/json",
                **({"Authorization": authorization} if authorization else {}),
            }
            request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    return int(response.status)
            except urllib.error.HTTPError as exc:
                return int(exc.code)

        good = token()
        assert call(f"Bearer {good}") == 200
        assert call(f"Bearer {good}") == 401  # replayed jti
        other = __import__("cryptography.hazmat.primitives.asymmetric.ec", fromlist=["ec"])
        refused = {
            "none": None,
            "not bearer": f"Basic {good}",
            "expired": f"Bearer {token(iat=now - 600, exp=now - 300)}",
            "lives too long": f"Bearer {token(exp=now + 3600)}",
            "wrong audience": f"Bearer {token(aud='https://elsewhere.example/cds-services/x')}",
            "wrong issuer": f"Bearer {token(iss='https://evil.example')}",
            "no jti": f"Bearer {token(jti=None)}",
            "unknown kid": f"Bearer {token(kid='other')}",
            "wrong key": f"Bearer {token(key=other.generate_private_key(other.SECP384R1()))}",
            "garbage": "Bearer not.a.jwt",
        }
        for name, authorization in refused.items():
            assert call(authorization) == 401, name
        status, discovered, _ = _get(server.url + "cds-services")  # discovery is public
        assert status == 200 and discovered["services"]


def test_a_full_queue_answers_503_with_retry_after() -> None:
    settings = Settings(hook_workers=1, hook_queue=1, hook_timeout=60)
    with Server(make_app(None, hooks=HookOptions(as_of=AS_OF), settings=settings)) as server:
        body = _hook("patient-view", "seed-v02", _prefetch_by_type(json.loads(FHIR_SEED.read_text())))
        url = server.url + PATIENT_VIEW.lstrip("/")

        def call(_: int) -> tuple[int, str | None]:
            data = json.dumps(body).encode()
            request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=120) as response:
                    return int(response.status), None
            except urllib.error.HTTPError as exc:
                return int(exc.code), exc.headers.get("Retry-After")

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(call, range(8)))
    assert (200, None) in answers and (503, "5") in answers
    assert {status for status, _ in answers} <= {200, 503}
