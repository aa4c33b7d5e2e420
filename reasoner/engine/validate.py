"""Validating a patient graph: the SHACL patient shapes, then the guideline's vocabulary (known findings, drugs,
measurement ranges, declared properties), then facts that cannot all be true (reasoner.engine.plausibility). Every
problem is reported; nothing is derived from an invalid patient."""

from __future__ import annotations

from decimal import Decimal
from functools import cache

from rdflib import Graph, Literal, URIRef

from reasoner._paths import data_dir
from reasoner.engine.plausibility import contradictions
from reasoner.engine.shapes import CompiledShapes, display_name
from reasoner.errors import InvalidPatientError, Violation
from reasoner.input.patient import Patient, skolemize
from reasoner.knowledge.guideline import Guideline
from reasoner.knowledge.vocabulary import Vocabulary
from reasoner.namespaces import GR, RDF

__all__ = ["check", "validate"]

# Types a patient graph may use besides the module's finding and measurement classes.
_RECORD_TYPES = {GR.Patient, GR.FindingRecord, GR.Measurement, GR.MedicationExposure, GR.TherapyCourse, GR.Exposure}


@cache
def _shapes() -> CompiledShapes:
    path = data_dir("shapes") / "patient.ttl"
    return CompiledShapes(Graph().parse(path), source=str(path))


def check(patient: Patient, guideline: Guideline) -> list[Violation]:
    """Return every violation in `patient` (empty when valid)."""
    patient = skolemize(patient)  # the SPARQL-based shapes bind record nodes by value, which blank nodes cannot be
    violations = (
        _shapes().check(patient.graph)
        + _vocabulary_violations(patient, guideline)
        + contradictions(patient, Vocabulary.of(guideline).findings)
    )
    return sorted(set(violations), key=lambda v: (v.focus, v.path or "", v.message))


def validate(patient: Patient, guideline: Guideline) -> None:
    """Raise InvalidPatientError listing every violation, or return None when the patient is valid."""
    violations = check(patient, guideline)
    if violations:
        raise InvalidPatientError(patient.source, violations)


def _vocabulary_violations(patient: Patient, guideline: Guideline) -> list[Violation]:
    g, vocab = patient.graph, Vocabulary.of(guideline)
    out: list[Violation] = []
    version = guideline.version
    for s, p, _ in g:
        if isinstance(p, URIRef) and str(p).startswith(str(GR)) and p not in vocab.properties:
            out.append(
                Violation(
                    display_name(s),
                    display_name(p),
                    f"unknown property: not declared in the core vocabulary ({version})",
                )
            )
    for record in g.objects(patient.iri, GR.hasFinding):
        types = set(g.objects(record, RDF.type)) - _RECORD_TYPES
        unknown = sorted(str(t) for t in types if t not in vocab.findings)
        for t in unknown:
            out.append(Violation(display_name(record), "rdf:type", f"unknown finding class {t} (guideline {version})"))
        if not types & vocab.findings:
            out.append(
                Violation(display_name(record), "rdf:type", "a finding record needs a finding class of the guideline")
            )
    for record in g.objects(patient.iri, GR.hasMeasurement):
        kinds = set(g.objects(record, RDF.type)) & vocab.measurements
        if len(kinds) != 1:
            out.append(
                Violation(
                    display_name(record),
                    "rdf:type",
                    "a measurement needs exactly one measurement class of the guideline",
                )
            )
            continue
        kind = next(iter(kinds))
        low, high = vocab.ranges[kind]
        for value in g.objects(record, GR.value):
            number = value.toPython() if isinstance(value, Literal) else None
            if isinstance(number, bool) or not isinstance(number, int | float | Decimal):
                continue  # the shapes report the datatype
            if not (low <= float(number) <= high):
                unit = guideline.graph.value(kind, GR.unit)
                out.append(
                    Violation(
                        display_name(record), "gr:value", f"{number} is outside {low}-{high} {unit or ''}".rstrip()
                    )
                )
    for record in g.objects(patient.iri, GR.hasExposure):
        for drug in g.objects(record, GR.drug):
            if drug not in vocab.drugs:
                out.append(Violation(display_name(record), "gr:drug", f"unknown drug {drug} (guideline {version})"))
        for therapy in g.objects(record, GR.therapy):
            if therapy not in vocab.therapies:
                out.append(
                    Violation(display_name(record), "gr:therapy", f"unknown therapy {therapy} (guideline {version})")
                )
    return out
