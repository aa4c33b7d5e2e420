"""Patient graphs: loading one patient's facts from Turtle or JSON-LD (file or string)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import to_canonical_graph

from reasoner.errors import InvalidPatientError, PatientParseError, Violation
from reasoner.namespaces import GR, RDF
from reasoner.rdfio import ReadError, parse_file, parse_text

__all__ = ["Patient", "load", "skolemize"]


@dataclass(frozen=True)
class Patient:
    """One patient's asserted facts, where they came from, and the patient node."""

    graph: Graph
    iri: URIRef
    source: str

    @property
    def assessed_on(self) -> date | None:
        value = self.graph.value(self.iri, GR.assessedOn)
        return value.toPython() if isinstance(value, Literal) and isinstance(value.toPython(), date) else None


def load(source: str | Path | Graph, *, format: str | None = None, name: str | None = None) -> Patient:
    """Load a patient from a file path, a Turtle/JSON-LD string, or an rdflib Graph.

    A `str` that names an existing file is read as that file; any other `str` is parsed as data.
    `format` is "turtle", "nt" or "json-ld" (default: from the file suffix or the content).
    """
    graph = Graph()
    if isinstance(source, Graph):
        graph += source
        label = name or "<graph>"
    elif isinstance(source, Path) or _names_a_file(source):
        path = Path(source)
        label = name or str(path)
        try:
            parse_file(graph, path, fmt=format)
        except ReadError as exc:
            raise PatientParseError(label, exc.detail) from exc
    else:
        label = name or "<string>"
        try:
            parse_text(graph, source, source=label, fmt=format)
        except ReadError as exc:
            raise PatientParseError(label, exc.detail) from exc
    patients = sorted(s for s in graph.subjects(RDF.type, GR.Patient) if isinstance(s, URIRef))
    if len(patients) != 1:
        found = ", ".join(str(p) for p in patients) or "none"
        raise InvalidPatientError(
            label,
            [Violation(label, None, f"expected exactly one gr:Patient with an IRI, found {len(patients)}: {found}")],
        )
    return Patient(graph=graph, iri=patients[0], source=label)


GENID = "https://w3id.org/guideline-reasoner/store/genid/"


def skolemize(patient: Patient) -> Patient:
    """The patient with every blank node replaced by an IRI derived from the patient IRI and the node's canonical
    label, so the same facts always give the same IRIs; a patient without blank nodes is returned as it is.
    Queries bind record nodes by value, and blank nodes cannot be bound."""
    graph = patient.graph
    if not any(isinstance(t, BNode) for triple in graph for t in triple):
        return patient
    out = Graph()
    for triple in to_canonical_graph(graph):
        s, p, o = (_genid(patient.iri, t) if isinstance(t, BNode) else t for t in triple)
        out.add((s, p, o))
    return Patient(graph=out, iri=patient.iri, source=patient.source)


def _genid(patient: URIRef, node: BNode) -> URIRef:
    return URIRef(GENID + hashlib.sha256(f"{patient}|{node}".encode()).hexdigest()[:32])


def _names_a_file(text: str) -> bool:
    """A string is a path only if it cannot be RDF data and an existing file has that name."""
    if "\n" in text or text.lstrip().startswith(("{", "[", "@", "<", "#")):
        return False
    try:
        return Path(text).is_file()
    except OSError:  # e.g. a name longer than the file system allows
        return False
