"""One synthetic patient from one guideline test case: the case's presentation under fresh IRIs and other dates.

Every date moves by the same number of days, so every interval the feature rules measure in days (onset to
assessment, exposure lengths, measurement ages) is kept; the assessment date (gr:assessedOn) becomes the case's
evaluation date moved likewise. The birth date moves too, then by a few days more, within the same whole-years age
at the assessment (the age rule counts whole years). Optionally one red-flag finding documented absent is dropped:
the question left unasked is unknown, a real-world state the guideline has to handle. Nothing here knows a clinical
concept: the red flags are the guideline's subclasses of gr:RedFlag.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from reasoner.authoring.cases import Case
from reasoner.input.patient import Patient, skolemize
from reasoner.namespaces import GR, PROV, RDF, XSD

__all__ = ["BIRTH_JITTER_DAYS", "SHIFT_DAYS", "Synthetic", "variant"]

#: Every date of a patient moves back by up to this many days (never later: a cohort is evaluated as of a date after
#: every case's own, and a fact dated after the evaluation is refused).
SHIFT_DAYS = 730
#: The birth date moves by up to this many days more, keeping the whole-years age at the assessment.
BIRTH_JITTER_DAYS = 60


@dataclass(frozen=True)
class Synthetic:
    """A synthetic patient, the case it was drawn from, and how far its dates moved."""

    patient: Patient
    case: Case
    shift: timedelta
    dropped: URIRef | None  # the red-flag finding class whose documented absence was dropped, if any

    @property
    def as_of(self) -> date:
        """The assessment date: the case's evaluation date, moved with the others."""
        return self.case.as_of + self.shift


def variant(case: Case, rng: random.Random, iri: str, *, red_flags: frozenset[str], unknown: bool) -> Synthetic:
    """The case's patient as `iri`, with every date moved by one random shift; with `unknown`, one red-flag
    finding documented absent (a class of `red_flags`), if there is one, is dropped."""
    source = skolemize(case.patient)
    shift = timedelta(days=rng.randint(-SHIFT_DAYS, 0))
    names = _fresh_iris(source, iri)
    graph = Graph()
    for s, p, o in source.graph:
        if p == GR.assessedOn:
            continue
        graph.add((names.get(s, s), p, _shifted(names.get(o, o), shift)))
    patient = URIRef(iri)
    as_of = case.as_of + shift
    graph.add((patient, GR.assessedOn, Literal(as_of, datatype=XSD.date)))
    _jitter_birth(graph, patient, case, as_of, rng)
    dropped = _drop_one_absent(graph, patient, red_flags, rng) if unknown else None
    return Synthetic(Patient(graph, patient, source=f"synthetic {iri} from {case.id}"), case, shift, dropped)


def _fresh_iris(patient: Patient, iri: str) -> dict[Node, URIRef]:
    """The patient as `iri`, and every other node the graph describes (its records) or cites as a record's source
    (a FHIR resource, prov:wasDerivedFrom) as `iri/<local name>`, numbered when two local names clash."""
    names: dict[Node, URIRef] = {patient.iri: URIRef(iri)}
    taken: set[str] = set()
    g = patient.graph
    nodes = {n for n in (*g.subjects(), *g.objects(None, PROV.wasDerivedFrom)) if isinstance(n, URIRef)}
    for node in sorted(nodes - {patient.iri}):
        local = str(node).rstrip("/#").rsplit("/", 1)[-1].rsplit("#", 1)[-1] or "record"
        name, n = local, 1
        while name in taken:
            n += 1
            name = f"{local}-{n}"
        taken.add(name)
        names[node] = URIRef(f"{iri}/{name}")
    return names


def _shifted(node: Node, shift: timedelta) -> Node:
    if isinstance(node, Literal) and node.datatype in (XSD.date, XSD.dateTime):
        value = node.toPython()
        if isinstance(value, date | datetime):  # an ill-typed lexical form stays as written: validation names it
            return Literal(value + shift, datatype=node.datatype)
    return node


def _age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _jitter_birth(graph: Graph, patient: URIRef, case: Case, as_of: date, rng: random.Random) -> None:
    """Move the (already shifted) birth date by a few days, keeping the whole-years age the case had; a shift
    across a 29 February can otherwise change it by a day."""
    born = graph.value(patient, GR.birthDate)
    original = case.patient.graph.value(case.patient.iri, GR.birthDate)
    if not (isinstance(born, Literal) and isinstance(original, Literal) and type(born.toPython()) is date):
        return
    age = _age(original.toPython(), case.as_of)
    candidates = [
        day
        for j in range(-BIRTH_JITTER_DAYS, BIRTH_JITTER_DAYS + 1)
        if _age(day := born.toPython() + timedelta(days=j), as_of) == age
    ]
    graph.set((patient, GR.birthDate, Literal(rng.choice(candidates), datatype=XSD.date)))


def _drop_one_absent(graph: Graph, patient: URIRef, red_flags: frozenset[str], rng: random.Random) -> URIRef | None:
    """Remove one finding record documented absent whose class is a red flag; return that class."""
    absent = sorted(
        (record, kind)
        for record in graph.objects(patient, GR.hasFinding)
        if (record, GR.status, GR.Absent) in graph
        for kind in graph.objects(record, RDF.type)
        if isinstance(record, URIRef) and isinstance(kind, URIRef) and str(kind) in red_flags
    )
    if not absent:
        return None
    record, kind = rng.choice(absent)
    graph.remove((patient, None, record))
    graph.remove((record, None, None))
    return kind
