"""Facts that cannot all be true are refused, never reasoned over: a finding documented present and absent on the same
date, an onset or exposure start after the assessment (or evaluation) date or before birth, and an evaluation date
outside EARLIEST..LATEST. Validation (reasoner.engine.validate.check) reports the patient's own contradictions;
the pipeline, which knows the evaluation date, reports facts dated after it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from collections.abc import Set as AbstractSet
from datetime import date, datetime

from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from reasoner.engine.shapes import display_name
from reasoner.errors import ReasonerError, Violation
from reasoner.input.patient import Patient
from reasoner.namespaces import GR, RDF

__all__ = ["EARLIEST", "LATEST", "check_evaluation_date", "contradictions", "dated_after"]

#: The evaluation dates the reasoner accepts; anything outside is a typing error, not a patient's date.
EARLIEST = date(1900, 1, 1)
LATEST = date(2200, 12, 31)


def check_evaluation_date(when: date, *, what: str = "the evaluation date") -> None:
    """Raise ReasonerError (a usage error) for an evaluation date outside EARLIEST..LATEST."""
    if not EARLIEST <= when <= LATEST:
        raise ReasonerError(f"{what} {when.isoformat()} is outside {EARLIEST.isoformat()} to {LATEST.isoformat()}")


def contradictions(patient: Patient, findings: AbstractSet[Node]) -> list[Violation]:
    """Every impossible fact of `patient`: a finding (a class of `findings`) documented present and absent on the
    same date, an onset or exposure start after the patient's gr:assessedOn or before its gr:birthDate (or
    gr:bornNotBefore, the earliest an imprecise one can be), a birth after
    the assessment, and an assessment date outside EARLIEST..LATEST."""
    g, iri = patient.graph, patient.iri
    assessed = _date(g.value(iri, GR.assessedOn))
    birth = GR.birthDate if (iri, GR.birthDate, None) in g else GR.bornNotBefore  # the earliest it can be
    born = _date(g.value(iri, birth))
    out: list[Violation] = []
    if assessed is not None and not EARLIEST <= assessed <= LATEST:
        out.append(Violation(display_name(iri), "gr:assessedOn", f"{assessed} is outside {EARLIEST} to {LATEST}"))
    if assessed is not None and born is not None and born > assessed:
        out.append(Violation(display_name(iri), display_name(birth), f"{born} is after the assessment date {assessed}"))
    for record, prop, when in _starts(g, iri):
        if assessed is not None and when > assessed:
            message = f"{when} is after the assessment date {assessed} (gr:assessedOn)"
            out.append(Violation(display_name(record), display_name(prop), message))
        if born is not None and when < born:
            out.append(Violation(display_name(record), display_name(prop), f"{when} is before the birth date {born}"))
    return out + _present_and_absent(g, iri, assessed, findings)


def dated_after(patient: Patient, when: date) -> list[Violation]:
    """Onsets and exposure starts of `patient` after the evaluation date `when`: facts that had not happened yet."""
    return [
        Violation(display_name(record), display_name(prop), f"{day} is after the evaluation date {when}")
        for record, prop, day in _starts(patient.graph, patient.iri)
        if day > when
    ]


def _starts(g: Graph, iri: URIRef) -> Iterator[tuple[Node, URIRef, date]]:
    """(record, gr:onset or gr:start, its date) for every finding onset and exposure start of the patient."""
    for link, prop in ((GR.hasFinding, GR.onset), (GR.hasExposure, GR.start)):
        for record in g.objects(iri, link):
            for value in g.objects(record, prop):
                day = _date(value)
                if day is not None:
                    yield record, prop, day


def _present_and_absent(g: Graph, iri: URIRef, assessed: date | None, findings: AbstractSet[Node]) -> list[Violation]:
    """A record documents its finding on its gr:recordedOn date, else at the assessment. Present and absent records of
    one finding class on one date contradict each other unless they name different sides or different body sites."""
    groups: dict[tuple[Node, date | None, bool], dict[tuple[Node | None, Node | None], Node]] = defaultdict(dict)
    for record in sorted(g.objects(iri, GR.hasFinding), key=str):
        status = g.value(record, GR.status)
        if status not in (GR.Present, GR.Absent):
            continue
        on = _date(g.value(record, GR.recordedOn)) or assessed
        where = (g.value(record, GR.laterality), g.value(record, GR.bodySite))
        for cls in set(g.objects(record, RDF.type)) & findings:
            groups[(cls, on, status == GR.Present)].setdefault(where, record)
    out = []
    for (cls, on, present), records in sorted(groups.items(), key=lambda item: str(item[0])):
        if not present:
            continue
        absent = groups.get((cls, on, False), {})
        for where, record in records.items():
            other = next((r for w, r in absent.items() if _same_place(where, w)), None)
            if other is not None:
                day = on.isoformat() if on is not None else "the same undated assessment"
                out.append(
                    Violation(
                        display_name(record),
                        "gr:status",
                        f"{display_name(cls)} is documented present by {display_name(record)} and absent by "
                        f"{display_name(other)} on {day}",
                    )
                )
    return out


def _same_place(a: tuple[Node | None, Node | None], b: tuple[Node | None, Node | None]) -> bool:
    """Two records may speak of the same place unless both name a side, or both a body site, and these differ."""
    return all(x is None or y is None or x == y for x, y in zip(a, b, strict=True))


def _date(value: Node | None) -> date | None:
    day = value.toPython() if isinstance(value, Literal) else None
    return day if isinstance(day, date) and not isinstance(day, datetime) else None  # the shapes report the rest
