"""FHIR R4 input: one patient's Bundle (JSON) read into the patient graph through the ontology's own code mappings.

Every resource is validated with fhir.resources (its R4B models, which read R4 JSON for the resources used here).
A code maps to an ontology term through that term's verified `gr:coding`, or through a guideline ontology's own
code system (system = the owl:Ontology IRI, code = the term's local name) for terms without a verified standard
code; the mapping lives in Turtle, never here. What maps to nothing is listed in `Patient.unmapped`. Each record
keeps the resource it came from (prov:wasDerivedFrom), which the provenance of every recommendation shows.

Read: Patient (birth date, sex), Bundle.timestamp (the assessment date), Condition, Observation (a finding or a
measurement), AllergyIntolerance, Procedure (a therapy course or a finding such as past surgery),
MedicationStatement and MedicationRequest (with Medication resources they reference). Extensions whose URL is a
property of the core vocabulary (gr:course, gr:response, gr:mrcGrade...) set that property on the record.

Finding status: verificationStatus refuted, a "not-done" procedure, an Observation valued false or "absent", and a
resolved, inactive or remitted condition (unless its finding class is gr:historical) are documented absent;
unconfirmed, provisional or differential diagnoses and Observations with a dataAbsentReason are unknown; the rest
is present. Entered-in-error resources are not used (and are listed).

A real record is read as a clinic has it: one imperfect resource never refuses the patient. It goes to `unmapped`
with its reason (a resource the FHIR model refuses, an unsupported type, a subject that is another patient or given
only by identifier, a partial date, a past medication whose end is unknown) and the rest is used. Only a Bundle
without exactly one readable Patient, or a deceased Patient, is refused. A fact is this patient's only when its
subject resolves to the Bundle's Patient (its fullUrl, Patient/id, or urn:uuid:id). A product code names each of
its ingredients (reasoner.knowledge.terminology), so a combination product gives one exposure per ingredient. An
extension never overrides what the resource itself states. The Bundle is held to MAX_FHIR_BYTES as compact JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.allergyintolerance import AllergyIntolerance
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.dosage import Dosage
from fhir.resources.R4B.extension import Extension
from fhir.resources.R4B.medication import Medication
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.medicationstatement import MedicationStatement
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient as FhirPatient
from fhir.resources.R4B.procedure import Procedure
from fhir.resources.R4B.reference import Reference
from fhir_core.fhirabstractmodel import FHIRAbstractModel
from pydantic import ValidationError
from rdflib import Graph, Literal, URIRef

from reasoner.errors import PatientParseError
from reasoner.input.patient import Patient, UnmappedCode
from reasoner.knowledge.guideline import Guideline, load_guideline
from reasoner.knowledge.terminology import Terminology
from reasoner.namespaces import GR, PROV, RDF, RDFS, XSD
from reasoner.rdf import limits
from reasoner.rdf.limits import ReadError, check_iri, read_json

__all__ = ["map_code", "read_bundle"]

_SEX = {"female": GR.Female, "male": GR.Male, "other": GR.OtherSex}
_INACTIVE = {"inactive", "resolved", "remission"}
_UNCONFIRMED = {"unconfirmed", "provisional", "differential"}
_NOT_USED = {"entered-in-error"}
_NOT_TAKEN = {"not-taken", "cancelled", "draft", "on-hold", "entered-in-error"}
_ENDED = {"stopped", "completed"}
_BASE = "urn:guideline-reasoner:fhir:"
_EARLIEST_BIRTH_YEAR = 1900  # an earlier birth date is a placeholder or a typing error, not a living patient's age
_MG = {"mg", "milligram", "milligrams"}
_READ = ("Condition", "Observation", "AllergyIntolerance", "Procedure", "MedicationStatement", "MedicationRequest")


def read_bundle(raw: bytes | str, *, source: str, guideline: Guideline | None = None) -> Patient:
    """Read a FHIR R4 Bundle holding one Patient and that patient's resources.

    Raises PatientParseError naming `source`, the resource and the problem when the JSON is malformed, a resource
    breaks the FHIR model, or the Bundle does not hold exactly one Patient.
    """
    try:  # within reasoner.rdf.limits, like every patient input; whitespace is not held against a real record
        document = read_json(raw, source=source, limit=limits.fhir_file_cap(), name="2 x MAX_FHIR_BYTES")
    except ReadError as exc:
        raise PatientParseError(source, exc.detail) from exc
    if not isinstance(document, dict) or document.get("resourceType") != "Bundle":
        found = document.get("resourceType") if isinstance(document, dict) else type(document).__name__
        raise PatientParseError(source, f"expected a FHIR Bundle, found resourceType {found!r}")
    size = len(json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode())
    if size > limits.MAX_FHIR_BYTES:
        raise PatientParseError(
            source, f"the Bundle is {size} bytes as compact JSON, more than MAX_FHIR_BYTES ({limits.MAX_FHIR_BYTES})"
        )
    return _Reader(source, Terminology.of(guideline or load_guideline())).read(document)


def map_code(system: str, code: str, *, guideline: Guideline | None = None) -> set[URIRef]:
    """Every ontology term a code maps to (verified gr:coding, or a guideline ontology's own code system)."""
    return set(Terminology.of(guideline or load_guideline()).concepts(system, code))


class _Reader:
    def __init__(self, source: str, terms: Terminology) -> None:
        self.source, self.terms = source, terms
        self.graph = Graph()
        self.unmapped: list[UnmappedCode] = []
        self.patient = URIRef("urn:guideline-reasoner:fhir:Patient")
        self.patient_refs: set[str] = set()
        self.medications: dict[str, CodeableConcept] = {}
        self.assessed: date | None = None

    # -- the bundle ----------------------------------------------------------------------------------------

    def read(self, document: dict[str, Any]) -> Patient:
        entries = document.get("entry") or []
        if not isinstance(entries, list):
            raise PatientParseError(self.source, "Bundle.entry must be a list")
        timestamp = document.get("timestamp")
        raw_patients = [
            (i, e) for i, e in enumerate(entries) if isinstance(e, dict) and _kind(e.get("resource")) == "Patient"
        ]
        if len(raw_patients) != 1:
            raise PatientParseError(self.source, f"expected exactly one Patient resource, found {len(raw_patients)}")
        self.assessed = self._bundle_date(timestamp)
        self._patient(*raw_patients[0])
        if self.assessed is not None:
            self.graph.add((self.patient, GR.assessedOn, _date(self.assessed)))
        resources = [r for i, e in enumerate(entries) if i != raw_patients[0][0] and (r := self._resource(i, e))]
        for resource, url, name, index in resources:
            kind = resource.get_resource_type()
            if kind == "Medication":
                continue  # read through the resources that reference it
            if kind not in _READ:
                self._miss(name, None, None, f"resource type {kind} is not read")
                continue
            if not self._about_patient(resource, name):
                continue
            node = URIRef(f"{self.patient}/record/{quote(kind)}-{quote(resource.id or str(index), safe='')}")
            reader: Callable[[Any, URIRef, str], list[URIRef]] = getattr(self, f"_{kind.lower()}")
            for made in reader(resource, node, name):
                self.graph.add((made, PROV.wasDerivedFrom, URIRef(url)))
                self._extensions(resource.extension, made, name)
        return Patient(graph=self.graph, iri=self.patient, source=self.source, unmapped=tuple(self.unmapped))

    def _bundle_date(self, timestamp: Any) -> date | None:
        if timestamp is None:
            return None
        try:
            bundle: Bundle = self._model(
                Bundle, {"resourceType": "Bundle", "type": "collection", "timestamp": timestamp}
            )
        except _Unreadable as exc:
            self._miss("Bundle", None, None, f"timestamp not used: {exc}")
            return None
        return bundle.timestamp.date() if bundle.timestamp is not None else None

    def _model(self, cls: type[FHIRAbstractModel], data: Any) -> Any:
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or '(resource)'}: {e['msg']}" for e in exc.errors()[:5]
            )
            raise _Unreadable(problems) from None

    def _resource(self, index: int, entry: Any) -> tuple[Any, str, str, int] | None:
        """The entry's resource read with the FHIR model, or None (listed in unmapped) when it cannot be."""
        resource = entry.get("resource") if isinstance(entry, dict) else None
        kind = _kind(resource)
        rid = resource.get("id") if isinstance(resource, dict) else None
        name = f"{kind}/{rid}" if kind and isinstance(rid, str) and rid else f"{kind or 'entry'} (entry {index})"
        if not isinstance(resource, dict) or kind is None:
            self._miss(name, None, None, "not used: the Bundle entry has no resource with a resourceType")
            return None
        try:
            cls = get_fhir_model_class(kind)
        except (ValueError, KeyError):
            self._miss(name, None, None, f"not used: unknown resourceType {kind!r}")
            return None
        try:
            model = self._model(cls, resource)
        except _Unreadable as exc:
            self._miss(name, None, None, f"not used: the resource breaks the FHIR R4 model: {exc}")
            return None
        url = self._iri(entry.get("fullUrl"), name)
        if kind == "Medication" and model.code is not None:
            self.medications.update({url: model.code, name: model.code})
        return model, url, name, index

    def _iri(self, full_url: Any, name: str) -> str:
        """The entry's fullUrl when it is an absolute IRI; otherwise an IRI made from the resource name."""
        if isinstance(full_url, str) and ":" in full_url:
            try:
                check_iri(full_url, source=self.source)
                return full_url
            except ReadError:
                pass
        return _BASE + quote(name, safe="/")

    def _patient(self, index: int, entry: dict[str, Any]) -> None:
        resource = entry["resource"]
        try:
            patient: FhirPatient = self._model(FhirPatient, resource)
        except _Unreadable as exc:
            raise PatientParseError(self.source, f"the Patient cannot be read: {exc}") from None
        url = self._iri(entry.get("fullUrl"), f"Patient/{patient.id or index}")
        if patient.deceasedBoolean or patient.deceasedDateTime is not None:
            raise PatientParseError(
                self.source, "the Patient is recorded as deceased (deceased[x]); no advice is given"
            )
        self.patient = URIRef(url)
        full = entry.get("fullUrl") if isinstance(entry.get("fullUrl"), str) else None
        self.patient_refs = {r for r in (full, url) if r}
        if patient.id:
            self.patient_refs |= {f"Patient/{patient.id}", f"urn:uuid:{patient.id}"}
        g = self.graph
        g.add((self.patient, RDF.type, GR.Patient))
        self._birth(patient.birthDate)
        if patient.gender in _SEX:
            g.add((self.patient, GR.sex, _SEX[patient.gender]))

    def _birth(self, born: date | str | None) -> None:
        """A full birth date as gr:birthDate; a year or a year and month as the interval it allows (gr:bornNotBefore,
        gr:bornNotAfter, the latest day at most the assessment date), noted in `unmapped`. A missing or impossible one
        (after the assessment, before 1900) asserts nothing: the age rules then report the age unknown."""
        latest = self.assessed or date.today()
        if born is None:
            self._miss("Patient", None, None, "no birthDate; age unknown, so no age rule applies")
            return
        first, last = (born, born) if isinstance(born, date) else _partial_date(born)
        if first > latest:
            self._miss("Patient", None, None, f"birthDate {born} is after {latest}; age unknown")
        elif last.year < _EARLIEST_BIRTH_YEAR:
            self._miss("Patient", None, None, f"birthDate {born} is before {_EARLIEST_BIRTH_YEAR}; age unknown")
        elif first == last:
            self.graph.add((self.patient, GR.birthDate, _date(first)))
        else:
            last = min(last, latest)
            self.graph.add((self.patient, GR.bornNotBefore, _date(first)))
            self.graph.add((self.patient, GR.bornNotAfter, _date(last)))
            note = f"birthDate {born} is not a full date; age known only as that of a birth from {first} to {last}"
            self._miss("Patient", None, None, note)

    def _about_patient(self, resource: Any, name: str) -> bool:
        """Whether the resource's subject is this Bundle's Patient; when not, it is listed and not used."""
        ref: Reference | None = getattr(resource, "subject", None) or getattr(resource, "patient", None)
        if ref is None:
            reason = "no subject; it cannot be told to be this patient's"
        elif ref.reference is None:
            given = "given only by identifier" if ref.identifier is not None else "without a reference"
            reason = f"subject {given}; it cannot be told to be this patient's"
        elif ref.reference not in self.patient_refs:
            reason = f"about {_clip(ref.reference)}, not this Bundle's Patient"
        else:
            return True
        self._skip(name, reason)
        return False

    # -- resources (each returns the records it made) -------------------------------------------------

    def _condition(self, c: Condition, node: URIRef, name: str) -> list[URIRef]:
        verification, clinical = _code_of(c.verificationStatus), _code_of(c.clinicalStatus)
        if verification in _NOT_USED:
            return self._skip(name, f"verificationStatus {verification}")
        findings = self._terms(c.code, name, "finding", lambda t: t in self.terms.vocab.findings)
        if not findings:
            return []
        if verification == "refuted":
            status = GR.Absent
        elif verification in _UNCONFIRMED:
            status = GR.Unknown
        elif clinical in _INACTIVE and not any(self.terms.historical(f) for f in findings):
            status = GR.Absent
        else:
            status = GR.Present
        onset = c.onsetDateTime or (c.onsetPeriod.start if c.onsetPeriod else None)
        self._finding(node, findings, status, name, onset=onset, recorded=c.recordedDate)
        self._body_site(node, c.bodySite, name)
        return [node]

    def _observation(self, o: Observation, node: URIRef, name: str) -> list[URIRef]:
        if o.status in _NOT_USED or o.status == "cancelled":
            return self._skip(name, f"status {o.status}")
        vocab = self.terms.vocab
        terms = self._terms(o.code, name, "finding or measurement", lambda t: t in vocab.findings | vocab.measurements)
        when = o.effectiveDateTime or (o.effectivePeriod.start if o.effectivePeriod else None) or o.issued
        kinds = [t for t in terms if t in vocab.measurements]
        if kinds:
            return self._measurement(o, node, name, kinds, when)
        if not terms:
            return []
        if o.dataAbsentReason is not None:
            status = GR.Unknown
        elif o.valueBoolean is not None:
            status = GR.Present if o.valueBoolean else GR.Absent
        elif o.valueCodeableConcept is not None:
            found = self._terms(o.valueCodeableConcept, name, "status", lambda t: self.terms.is_a(t, GR.FindingStatus))
            if len(found) != 1:
                return []
            status = found[0]
        else:
            status = GR.Present  # an observed finding without a value was seen
        self._finding(node, terms, status, name, onset=None, recorded=when)
        self._body_site(node, [o.bodySite] if o.bodySite else None, name)
        return [node]

    def _measurement(self, o: Observation, node: URIRef, name: str, kinds: list[URIRef], when: Any) -> list[URIRef]:
        quantity = o.valueQuantity
        if quantity is None or quantity.value is None:
            return self._skip(name, "a measurement without a numeric valueQuantity")
        # Every measurement kind the code names (each module may define its own, with its unit) types the record.
        units = {kind: str(self.terms.graph.value(kind, GR.unit) or "") for kind in kinds}
        given = quantity.code or quantity.unit
        fitting = [kind for kind in kinds if not given or not units[kind] or units[kind] == given]
        if not fitting:
            return self._skip(name, f"unit {given!r}; {self.terms.label(kinds[0])} is read in {units[kinds[0]]!r}")
        g = self.graph
        g.add((self.patient, GR.hasMeasurement, node))
        g.add((node, RDF.type, GR.Measurement))
        for kind in fitting:
            g.add((node, RDF.type, kind))
        g.add((node, GR.value, Literal(Decimal(str(quantity.value)), datatype=XSD.decimal)))
        self._add_day(node, GR.recordedOn, when, name)
        return [node]

    def _allergyintolerance(self, a: AllergyIntolerance, node: URIRef, name: str) -> list[URIRef]:
        verification, clinical = _code_of(a.verificationStatus), _code_of(a.clinicalStatus)
        if verification in _NOT_USED:
            return self._skip(name, f"verificationStatus {verification}")
        vocab, g = self.terms.vocab, self.terms.graph

        def hypersensitivities(term: URIRef) -> list[URIRef]:
            if term in vocab.findings:
                return [term]
            return sorted(
                f
                for f, drugs in g.subject_objects(GR.hypersensitivityTo)
                if isinstance(f, URIRef)
                and any((term, RDF.type, c) in g for c in g.transitive_subjects(RDFS.subClassOf, drugs))
            )

        terms = self._terms(a.code, name, "finding or drug with a hypersensitivity class", hypersensitivities)
        findings = sorted({f for t in terms for f in hypersensitivities(t)})
        if not findings:
            return []
        refuted = verification == "refuted" or clinical in _INACTIVE
        self._finding(node, findings, GR.Absent if refuted else GR.Present, name, a.onsetDateTime, a.recordedDate)
        return [node]

    def _procedure(self, p: Procedure, node: URIRef, name: str) -> list[URIRef]:
        if p.status in _NOT_USED:
            return self._skip(name, f"status {p.status}")
        vocab = self.terms.vocab
        terms = self._terms(p.code, name, "therapy or finding", lambda t: t in vocab.therapies | vocab.findings)
        start = p.performedDateTime or (p.performedPeriod.start if p.performedPeriod else None)
        end = p.performedPeriod.end if p.performedPeriod else None
        findings = [t for t in terms if t in vocab.findings]
        if findings:
            status = GR.Absent if p.status == "not-done" else GR.Present
            self._finding(node, findings, status, name, onset=start, recorded=None)
            return [node]
        if not terms or p.status == "not-done":
            return [] if not terms else self._skip(name, "status not-done")
        self._exposure(node, GR.TherapyCourse, GR.therapy, terms[0], name, start, end, p.status == "in-progress")
        if p.performedDateTime is not None:
            self.graph.add((node, GR.days, Literal(1, datatype=XSD.integer)))
        self._response(node, p.outcome, name)
        return [node]

    def _medicationstatement(self, m: MedicationStatement, node: URIRef, name: str) -> list[URIRef]:
        if m.status in _NOT_TAKEN:
            return self._skip(name, f"status {m.status}")
        start = m.effectiveDateTime or (m.effectivePeriod.start if m.effectivePeriod else None)
        end = m.effectivePeriod.end if m.effectivePeriod else None
        days = 1 if m.effectiveDateTime is not None else None
        return self._medication(m, node, name, start, end, days, m.status == "active", m.dosage)

    def _medicationrequest(self, m: MedicationRequest, node: URIRef, name: str) -> list[URIRef]:
        if m.status in _NOT_TAKEN:
            return self._skip(name, f"status {m.status}")
        timing = m.dosageInstruction[0].timing if m.dosageInstruction else None
        repeat = timing.repeat if timing else None
        bounds = repeat.boundsPeriod if repeat else None
        start = (bounds.start if bounds else None) or m.authoredOn
        days = None
        if repeat and repeat.boundsDuration and repeat.boundsDuration.value is not None:
            if repeat.boundsDuration.code != "d":
                return self._skip(name, "boundsDuration is read in days (UCUM 'd')")
            days = int(repeat.boundsDuration.value)
        end = bounds.end if bounds else None
        return self._medication(m, node, name, start, end, days, m.status == "active", m.dosageInstruction)

    def _medication(
        self,
        m: MedicationStatement | MedicationRequest,
        node: URIRef,
        name: str,
        start: Any,
        end: Any,
        days: int | None,
        active: bool,
        dosage: list[Dosage] | None,
    ) -> list[URIRef]:
        code = m.medicationCodeableConcept
        if code is None and m.medicationReference is not None:
            ref = str(m.medicationReference.reference)
            contained = {f"#{c.id}": c.code for c in m.contained or [] if isinstance(c, Medication)}
            code = contained.get(ref) or self.medications.get(ref)
        if code is None:
            return self._skip(
                name, "no medication code (medicationCodeableConcept, or a Medication contained or in the Bundle)"
            )
        drugs = self._terms(code, name, "drug", lambda t: t in self.terms.vocab.drugs)
        if not drugs:
            return []
        if m.status in _ENDED and end is None and days is None:
            names = ", ".join(self.terms.label(d) for d in drugs)
            return self._skip(name, f"status {m.status} without an end date: a past exposure to {names} of unknown end")
        made = [URIRef(f"{node}-{d.fragment or len(drugs)}") if len(drugs) > 1 else node for d in drugs]
        for record, drug in zip(made, drugs, strict=True):  # a combination product: one exposure per ingredient
            self._exposure(record, GR.MedicationExposure, GR.drug, drug, name, start, end, active and end is None)
            if days is not None and end is None:
                self.graph.add((record, GR.days, Literal(days, datatype=XSD.integer)))
            self._dosage(record, dosage, name)
        return made

    def _dosage(self, node: URIRef, dosage: list[Dosage] | None, name: str) -> None:
        if not dosage:
            return
        if dosage[0].route is not None:
            routes = self._terms(dosage[0].route, name, "route", lambda t: self.terms.is_a(t, GR.Route))
            if routes:
                self.graph.add((node, GR.route, routes[0]))
        dose = dosage[0].doseAndRate[0].doseQuantity if dosage[0].doseAndRate else None
        if dose is not None and dose.value is not None:
            if (dose.code or dose.unit or "").lower() in _MG:
                self.graph.add((node, GR.doseMg, Literal(Decimal(str(dose.value)), datatype=XSD.decimal)))
            else:
                self._miss(name, None, None, f"dose unit {dose.code or dose.unit!r} is not read (mg only)")

    # -- record builders -----------------------------------------------------------------------------------

    def _finding(
        self, node: URIRef, classes: list[URIRef], status: URIRef, name: str, onset: Any, recorded: Any
    ) -> None:
        g = self.graph
        g.add((self.patient, GR.hasFinding, node))
        g.add((node, RDF.type, GR.FindingRecord))
        for cls in classes:
            g.add((node, RDF.type, cls))
        g.add((node, GR.status, status))
        self._add_day(node, GR.onset, onset, name)
        self._add_day(node, GR.recordedOn, recorded, name)
        if (node, GR.onset, None) in g or (node, GR.recordedOn, None) in g:
            return
        # Dated only to a month or a year: the finding was there by the end of that period (no later than the
        # assessment), which dates the record without inventing a day for any duration rule (onset stays unknown).
        known_by = [d for d in (_last_day(onset), _last_day(recorded)) if d is not None]
        if known_by:
            day = min(known_by) if self.assessed is None else min(*known_by, self.assessed)
            g.add((node, GR.recordedOn, _date(day)))
            self._miss(name, None, None, f"dated to the {_precision(onset or recorded)} only: known by {day}")

    def _exposure(
        self, node: URIRef, kind: URIRef, link: URIRef, agent: URIRef, name: str, start: Any, end: Any, ongoing: bool
    ) -> None:
        g = self.graph
        g.add((self.patient, GR.hasExposure, node))
        g.add((node, RDF.type, kind))
        g.add((node, link, agent))
        self._add_day(node, GR.start, start, name)
        self._add_day(node, GR.end, end, name)
        if ongoing:
            g.add((node, GR.ongoing, Literal(True)))
        g.add((node, GR.response, GR.ResponseNotDocumented))  # replaced by Procedure.outcome or a gr:response extension

    def _response(self, node: URIRef, outcome: CodeableConcept | None, name: str) -> None:
        if outcome is None:
            return
        found = self._terms(outcome, name, "response", lambda t: self.terms.is_a(t, GR.Response))
        if found:
            self.graph.set((node, GR.response, found[0]))

    def _body_site(self, node: URIRef, sites: list[CodeableConcept] | None, name: str) -> None:
        for site in sites or []:
            sides = [t for c in site.coding or [] if c.system and c.code for t in self.terms.concepts(c.system, c.code)]
            sides = [t for t in sides if self.terms.is_a(t, GR.Laterality)]
            if sides:
                self.graph.add((node, GR.laterality, sides[0]))
            if site.text:
                self.graph.add((node, GR.bodySite, Literal(site.text)))

    def _extensions(self, extensions: list[Extension] | None, node: URIRef, name: str) -> None:
        for ext in extensions or []:
            url = ext.url or ""
            if not url.startswith(str(GR)):
                continue  # other profiles' extensions carry nothing the guideline reads
            prop = URIRef(url)
            value: Any = None
            if prop not in self.terms.vocab.properties:
                self._miss(name, url, None, "extension names no property of the core vocabulary")
                continue
            if ext.valueCodeableConcept is not None:
                found = self._terms(ext.valueCodeableConcept, name, prop.fragment, lambda t: True)
                value = found[0] if found else None
            elif ext.valueDecimal is not None:
                value = Literal(Decimal(str(ext.valueDecimal)), datatype=XSD.decimal)
            elif ext.valueInteger is not None:
                value = Literal(ext.valueInteger, datatype=XSD.integer)
            elif ext.valueBoolean is not None:
                value = Literal(ext.valueBoolean)
            elif ext.valueString is not None:
                value = Literal(ext.valueString)
            stated = self.graph.value(node, prop)
            if value is not None and stated in (None, GR.ResponseNotDocumented):  # never over the resource's own
                self.graph.set((node, prop, value))
            elif value is not None and stated != value:
                self._miss(name, url, None, "extension not used: the resource itself states this property")

    # -- codes, dates and the unmapped list ----------------------------------------------------------------

    def _terms(
        self, concept: CodeableConcept | None, name: str, what: str, accept: Callable[[URIRef], Any]
    ) -> list[URIRef]:
        """The terms `concept` maps to that `accept` takes; when none, every coding is listed as unmapped."""
        if concept is None:
            self._miss(name, None, None, f"no code for the {what}")
            return []
        found: list[URIRef] = []
        misses: list[tuple[str | None, str | None, str | None, str]] = []
        for coding in concept.coding or []:
            system, code = coding.system, coding.code
            terms = self.terms.concepts(system, code) if system and code else frozenset()
            taken = sorted(t for t in terms if accept(t))
            found += [t for t in taken if t not in found]
            if not taken:
                misses.append((system, code, coding.display, self._why_not(system, code, terms, what)))
        if not found:
            for system, code, display, reason in misses:
                self._miss(name, system, code, reason, display)
            if not concept.coding:
                self._miss(name, None, None, f"the {what} has text only, no coding", concept.text)
        return found

    def _why_not(self, system: str | None, code: str | None, terms: frozenset[URIRef], what: str) -> str:
        if not system or not code:
            return "a coding needs both system and code"
        if terms:
            return f"maps to {', '.join(sorted(self.terms.label(t) for t in terms))}, which is not a {what} here"
        unverified = self.terms.unverified(system, code)
        if unverified:
            names = ", ".join(sorted(self.terms.label(t) for t in unverified))
            return f"only an unverified code of {names}; not used until verified"
        return "no term of the guideline carries this code"

    def _day(self, value: Any, name: str, field: str) -> date | None:
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date) or value is None:
            return value
        self._miss(name, None, None, f"{field} {value!r} is not a full date; not used")
        return None

    def _add_day(self, node: URIRef, prop: URIRef, value: Any, name: str) -> None:
        day = self._day(value, name, prop.fragment)
        if day is not None:
            self.graph.add((node, prop, _date(day)))

    def _skip(self, name: str, reason: str) -> list[URIRef]:
        self._miss(name, None, None, f"not used: {reason}")
        return []

    def _miss(self, name: str, system: str | None, code: str | None, reason: str, display: str | None = None) -> None:
        self.unmapped.append(UnmappedCode(name, system, code, display, reason))


def _code_of(concept: CodeableConcept | None) -> str | None:
    codes = [c.code for c in (concept.coding or []) if c.code] if concept is not None else []
    return codes[0] if codes else None


def _last_day(value: Any) -> date | None:
    """The last day of a FHIR partial date (YYYY or YYYY-MM); None for anything else."""
    text = str(value) if value is not None else ""
    if len(text) == 4 and text.isdigit():
        return date(int(text), 12, 31)
    if len(text) == 7 and text[:4].isdigit() and text[4] == "-" and text[5:].isdigit() and 1 <= int(text[5:]) <= 12:
        year, month = int(text[:4]), int(text[5:])
        return date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return None


def _precision(value: Any) -> str:
    return "year" if len(str(value)) == 4 else "month"


def _partial_date(text: str) -> tuple[date, date]:
    """The first and last day of a FHIR partial date ("YYYY" or "YYYY-MM"; the model has checked the form)."""
    year, _, month = text.partition("-")
    if not month:
        return date(int(year), 1, 1), date(int(year), 12, 31)
    first = date(int(year), int(month), 1)
    return first, (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def _date(day: date) -> Literal:
    return Literal(day.isoformat(), datatype=XSD.date)


class _Unreadable(Exception):
    """Internal: the FHIR model refused a resource; the message lists the first problems."""


def _kind(resource: Any) -> str | None:
    kind = resource.get("resourceType") if isinstance(resource, dict) else None
    return kind if isinstance(kind, str) and kind else None


def _clip(text: str, width: int = 120) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
