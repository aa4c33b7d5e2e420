"""CDS Hooks 2.0 feedback (POST /cds-services/{id}/feedback): what the clinician did with a card.

The request is checked against the spec's Feedback shape (400 otherwise): a non-empty `feedback` list; each entry a
`card` uuid, an `outcome` of `accepted` (with non-empty `acceptedSuggestions`, each an `id` uuid) or `overridden`
(optionally an `overrideReason` with a Coding `reason` and/or a `userComment`), and an `outcomeTimestamp` in UTC
(RFC 3339). Nothing is stored: each entry becomes one log record of the service, the card and suggestion uuids, the
outcome, its time and the override reason's system and code. The free-text `userComment` is dropped unread, since a
clinician may write anything there, a patient's name included; the uuids name no patient (uuid5 of the EHR's random
hookInstance).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from http import HTTPStatus
from typing import Any

from reasoner.serve._hook_request import HookError, need

__all__ = ["read_feedback"]

_OUTCOMES = ("accepted", "overridden")


def read_feedback(service: str, request: dict[str, Any]) -> list[dict[str, Any]]:
    """The feedback entries of a request as the records to log; HookError 400 when it is not CDS Hooks feedback."""
    entries = request.get("feedback")
    if not isinstance(entries, list) or entries == []:
        raise HookError(HTTPStatus.BAD_REQUEST, "malformed feedback: feedback must be a non-empty list")
    return [_entry(service, f"feedback[{n}]", e) for n, e in enumerate(entries)]


def _entry(service: str, where: str, entry: Any) -> dict[str, Any]:
    need(isinstance(entry, dict), f"{where} must be an object")
    need(_is_uuid(entry.get("card")), f"{where}.card: the card's uuid")
    outcome = entry.get("outcome")
    need(outcome in _OUTCOMES, f"{where}.outcome: one of {', '.join(_OUTCOMES)}")
    need(_utc(entry.get("outcomeTimestamp")), f"{where}.outcomeTimestamp: a date and time in UTC (RFC 3339)")
    accepted = entry.get("acceptedSuggestions")
    if outcome == "accepted":
        need(
            isinstance(accepted, list)
            and accepted != []
            and all(isinstance(s, dict) and _is_uuid(s.get("id")) for s in accepted),
            f"{where}.acceptedSuggestions: a non-empty list of {{id: a suggestion's uuid}} for an accepted card",
        )
    else:
        need(accepted is None, f"{where}.acceptedSuggestions: only for an accepted card")
    reason = entry.get("overrideReason")
    need(reason is None or outcome == "overridden", f"{where}.overrideReason: only for an overridden card")
    code = None
    if reason is not None:
        need(isinstance(reason, dict) and reason != {}, f"{where}.overrideReason: a non-empty object")
        coding = reason.get("reason")
        need(
            coding is None
            or (
                isinstance(coding, dict)
                and isinstance(coding.get("code"), str)
                and all(isinstance(coding.get(k, ""), str) for k in ("system", "display"))
            ),
            f"{where}.overrideReason.reason: a Coding with a code",
        )
        need(isinstance(reason.get("userComment", ""), str), f"{where}.overrideReason.userComment: a string")
        code = f"{coding.get('system', '')}|{coding['code']}" if coding else None
    return {
        "service": service,
        "card": entry["card"],
        "outcome": outcome,
        "suggestions": [s["id"] for s in accepted or []],
        "overrideReason": code,
        "at": entry["outcomeTimestamp"],
    }


def _is_uuid(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _utc(value: Any) -> bool:
    if not isinstance(value, str) or "T" not in value:
        return False
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return False
    return moment.utcoffset() == timedelta(0)
