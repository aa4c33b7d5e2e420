"""Building a patient graph in Python instead of writing Turtle.

    from datetime import date
    from reasoner import PatientBuilder, recommend

    b = PatientBuilder("https://example.org/patient/1", birth_date=date(1980, 6, 15), sex="female",
                       assessed_on=date(2026, 3, 22))
    b.finding("MotorWeakness", laterality="right", onset=date(2026, 3, 2))
    b.absent("HistoryOfCancer")
    b.medication("ketorolac", start=date(2026, 3, 3), days=1, route="intramuscular", dose_mg=60)
    b.therapy("PhysicalTherapy", start=date(2026, 3, 8), ongoing=True, response="partial")
    result = recommend(b.build())

Concept names are local names in the shared clinical vocabulary (reasoner.namespaces.VOCAB) or full IRIs.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from rdflib import Graph, Literal, Namespace, URIRef

from reasoner.input.patient import Patient
from reasoner.namespaces import GR, RDF, RDFS, VOCAB, XSD

__all__ = ["PatientBuilder"]

_STATUS = {"present": GR.Present, "absent": GR.Absent, "unknown": GR.Unknown}
_LATERALITY = {"left": GR.Left, "right": GR.Right, "bilateral": GR.Bilateral}
_COURSE = {"new": GR.NewCourse, "worsening": GR.Worsening, "stable": GR.Stable, "improving": GR.Improving}
_RESPONSE = {
    "benefit": GR.Benefit,
    "partial": GR.PartialBenefit,
    "transient": GR.TransientBenefit,
    "none": GR.NoBenefit,
    "not-documented": GR.ResponseNotDocumented,
    "adverse": GR.AdverseEffect,
}
_ROUTE = {
    "intravenous": GR.Intravenous,
    "intramuscular": GR.Intramuscular,
    "oral": GR.Oral,
    "topical": GR.Topical,
    "nasal": GR.Nasal,
    "epidural": GR.Epidural,
}
_SEX = {"female": GR.Female, "male": GR.Male, "other": GR.OtherSex}


def _pick(table: dict[str, URIRef], value: str, what: str) -> URIRef:
    try:
        return table[value]
    except KeyError:
        raise ValueError(f"unknown {what} {value!r}; expected one of {', '.join(table)}") from None


class PatientBuilder:
    """Accumulates one patient's facts; `build()` returns a Patient ready for `recommend`."""

    def __init__(
        self,
        iri: str,
        *,
        birth_date: date | None = None,
        born_between: tuple[date, date] | None = None,
        sex: str | None = None,
        assessed_on: date | None = None,
        vocabulary: Namespace = VOCAB,
    ) -> None:
        self.graph = Graph()
        self.iri = URIRef(iri)
        self.vocabulary = vocabulary
        self._count = 0
        self.graph.add((self.iri, RDF.type, GR.Patient))
        if birth_date is not None:
            self.graph.add((self.iri, GR.birthDate, _date(birth_date)))
        if born_between is not None:  # an imprecise birth date: the first and last day it can be
            self.graph.add((self.iri, GR.bornNotBefore, _date(born_between[0])))
            self.graph.add((self.iri, GR.bornNotAfter, _date(born_between[1])))
        if sex is not None:
            self.graph.add((self.iri, GR.sex, _pick(_SEX, sex, "sex")))
        if assessed_on is not None:
            self.graph.add((self.iri, GR.assessedOn, _date(assessed_on)))

    def finding(
        self,
        concept: str,
        *,
        status: str = "present",
        onset: date | None = None,
        recorded_on: date | None = None,
        laterality: str | None = None,
        course: str | None = None,
        mrc_grade: float | None = None,
        site: str | None = None,
        label: str | None = None,
    ) -> URIRef:
        """Record a finding (present by default); returns the record's IRI."""
        node = self._record(GR.hasFinding, GR.FindingRecord, concept)
        self.graph.add((node, GR.status, _pick(_STATUS, status, "status")))
        for prop, value in ((GR.onset, onset), (GR.recordedOn, recorded_on)):
            if value is not None:
                self.graph.add((node, prop, _date(value)))
        if laterality is not None:
            self.graph.add((node, GR.laterality, _pick(_LATERALITY, laterality, "laterality")))
        if course is not None:
            self.graph.add((node, GR.course, _pick(_COURSE, course, "course")))
        if mrc_grade is not None:
            self.graph.add((node, GR.mrcGrade, _decimal(mrc_grade)))
        self._annotate(node, site, label)
        return node

    def absent(self, *concepts: str) -> None:
        """Document findings as asked about and absent (documented negatives)."""
        for concept in concepts:
            self.finding(concept, status="absent")

    def unknown(self, *concepts: str) -> None:
        """Record findings explicitly as unknown (the same as leaving a red flag undocumented)."""
        for concept in concepts:
            self.finding(concept, status="unknown")

    def medication(
        self,
        drug: str,
        *,
        start: date,
        end: date | None = None,
        days: int | None = None,
        ongoing: bool = False,
        route: str | None = None,
        dose_mg: float | None = None,
        response: str = "not-documented",
        label: str | None = None,
    ) -> URIRef:
        """Record a course of a drug; state its end, its number of days, or that it is ongoing."""
        node = self._exposure(GR.MedicationExposure, GR.drug, drug, start, end, days, ongoing, response)
        if route is not None:
            self.graph.add((node, GR.route, _pick(_ROUTE, route, "route")))
        if dose_mg is not None:
            self.graph.add((node, GR.doseMg, _decimal(dose_mg)))
        self._annotate(node, None, label)
        return node

    def therapy(
        self,
        therapy: str,
        *,
        start: date,
        end: date | None = None,
        days: int | None = None,
        ongoing: bool = False,
        response: str = "not-documented",
        label: str | None = None,
    ) -> URIRef:
        """Record a course of a non-drug therapy."""
        node = self._exposure(GR.TherapyCourse, GR.therapy, therapy, start, end, days, ongoing, response)
        self._annotate(node, None, label)
        return node

    def measurement(self, kind: str, value: float, *, recorded_on: date) -> URIRef:
        """Record a measurement in the unit its measurement class declares (gr:unit)."""
        node = self._record(GR.hasMeasurement, GR.Measurement, kind)
        self.graph.add((node, GR.value, _decimal(value)))
        self.graph.add((node, GR.recordedOn, _date(recorded_on)))
        return node

    def build(self) -> Patient:
        graph = Graph()
        graph += self.graph
        return Patient(graph=graph, iri=self.iri, source=f"<builder {self.iri}>")

    # -- internals -----------------------------------------------------------------------------------------

    def _concept(self, name: str) -> URIRef:
        return URIRef(name) if ":" in name else self.vocabulary[name]

    def _record(self, link: URIRef, record_type: URIRef, concept: str) -> URIRef:
        self._count += 1
        node = URIRef(f"{self.iri}/record/{self._count}")
        self.graph.add((self.iri, link, node))
        self.graph.add((node, RDF.type, record_type))
        self.graph.add((node, RDF.type, self._concept(concept)))
        return node

    def _exposure(
        self,
        kind: URIRef,
        prop: URIRef,
        agent: str,
        start: date,
        end: date | None,
        days: int | None,
        ongoing: bool,
        response: str,
    ) -> URIRef:
        self._count += 1
        node = URIRef(f"{self.iri}/record/{self._count}")
        self.graph.add((self.iri, GR.hasExposure, node))
        self.graph.add((node, RDF.type, kind))
        self.graph.add((node, prop, self._concept(agent)))
        self.graph.add((node, GR.start, _date(start)))
        if end is not None:
            self.graph.add((node, GR.end, _date(end)))
        if days is not None:
            self.graph.add((node, GR.days, Literal(days, datatype=XSD.integer)))
        if ongoing:
            self.graph.add((node, GR.ongoing, Literal(True)))
        self.graph.add((node, GR.response, _pick(_RESPONSE, response, "response")))
        return node

    def _annotate(self, node: URIRef, site: str | None, label: str | None) -> None:
        if site is not None:
            self.graph.add((node, GR.bodySite, Literal(site)))
        if label is not None:
            self.graph.add((node, RDFS.label, Literal(label)))


def _date(value: date) -> Literal:
    return Literal(value.isoformat(), datatype=XSD.date)


def _decimal(value: float) -> Literal:
    return Literal(Decimal(str(value)), datatype=XSD.decimal)
