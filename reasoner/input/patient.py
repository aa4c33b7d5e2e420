"""Patient graphs: loading one patient's facts from Turtle, N-Triples, JSON-LD or a FHIR R4 Bundle (file or string)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from reasoner.errors import InvalidPatientError, PatientParseError, Violation
from reasoner.namespaces import GR, RDF
from reasoner.rdf.limits import blank_node_parents, read_file
from reasoner.rdf.rdfio import ReadError, add_checked, parse_text

__all__ = ["Patient", "UnmappedCode", "load", "skolemize"]


@dataclass(frozen=True)
class UnmappedCode:
    """Input the reasoner could not use (a FHIR code no ontology concept carries, an unread resource type...),
    named so that nothing is dropped silently."""

    resource: str
    system: str | None
    code: str | None
    display: str | None
    reason: str

    def to_json(self) -> dict[str, str | None]:
        return {
            "resource": self.resource,
            "system": self.system,
            "code": self.code,
            "display": self.display,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Patient:
    """One patient's asserted facts, where they came from, the patient node, and any input left unused."""

    graph: Graph
    iri: URIRef
    source: str
    unmapped: tuple[UnmappedCode, ...] = ()

    @property
    def assessed_on(self) -> date | None:
        value = self.graph.value(self.iri, GR.assessedOn)
        return value.toPython() if isinstance(value, Literal) and isinstance(value.toPython(), date) else None


def load(source: str | bytes | Path | Graph, *, format: str | None = None, name: str | None = None) -> Patient:
    """Load a patient from a file path, a Turtle/JSON-LD/FHIR string, or an rdflib Graph.

    A `str` that names an existing file is read as that file; any other `str`, and `bytes`, are parsed as data
    (services pass bytes, so that no input can name a file). Every input is held to reasoner.rdf.limits.
    `format` is "turtle", "nt", "json-ld" or "fhir" (default: from the file suffix or the content; a JSON object
    with a "resourceType" is FHIR).
    """
    graph = Graph()
    if isinstance(source, Graph):
        label = name or "<graph>"
        try:
            add_checked(graph, source, source=label)
        except ReadError as exc:
            raise PatientParseError(label, exc.detail) from exc
    else:
        raw: bytes | str
        if isinstance(source, Path) or (isinstance(source, str) and _names_a_file(source)):
            label = name or str(source)
            try:
                raw = read_file(Path(source), source=label)
            except ReadError as exc:
                raise PatientParseError(label, exc.detail) from exc
        else:
            label, raw = name or "<string>", source
        if format == "fhir" or (format is None and _is_fhir(raw)):
            from reasoner.input.fhir import read_bundle  # imported here: reasoner.input.fhir builds Patient objects

            return read_bundle(raw, source=label)
        try:
            parse_text(graph, raw, source=label, fmt=format)
        except ReadError as exc:
            raise PatientParseError(label, exc.detail) from exc
    _blank_node_parents(graph, label)
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
    """The patient with every blank node replaced by an IRI derived from the patient IRI and where the node hangs
    (the IRI or node above it, the property, and the node's own content), so the same facts always give the same
    IRIs, in time linear in the graph; a patient without blank nodes is returned as it is. Queries bind record
    nodes by value, and blank nodes cannot be bound. Identical sibling nodes get distinct IRIs (numbered), so no
    fact is merged away."""
    parents = _blank_node_parents(patient.graph, patient.source)
    if not parents:
        return patient
    iris = _skolem_iris(patient.graph, parents, patient.iri)
    out = Graph()
    for s, p, o in patient.graph:
        out.add((iris.get(s, s), p, iris.get(o, o)))
    return replace(patient, graph=out)


def _blank_node_parents(graph: Graph, source: str) -> dict[BNode, tuple[Node, Node] | None]:
    try:
        return blank_node_parents(graph, source=source)
    except ReadError as exc:
        raise PatientParseError(source, exc.detail) from exc


def _skolem_iris(graph: Graph, parents: dict[BNode, tuple[Node, Node] | None], patient: URIRef) -> dict[Node, Node]:
    """Blank node -> IRI: a digest of its content (bottom-up, deepest first), then of its place (top-down)."""

    def depth(node: BNode) -> int:
        count, edge = 0, parents[node]
        while edge is not None and isinstance(edge[0], BNode):
            count, edge = count + 1, parents[edge[0]]
        return count

    order = sorted(parents, key=depth)
    content: dict[Node, str] = {}
    for node in reversed(order):
        outgoing = graph.predicate_objects(node)
        lines = sorted(f"{p.n3()} {content[o] if isinstance(o, BNode) else o.n3()}" for p, o in outgoing)
        content[node] = _digest("\n".join(lines))
    iris: dict[Node, Node] = {}
    siblings: dict[tuple[str, ...], int] = {}
    for node in order:
        edge = parents[node]
        place = ("", "") if edge is None else (str(iris.get(edge[0], edge[0])), str(edge[1]))
        key = (*place, content[node])
        index = siblings[key] = siblings.get(key, -1) + 1  # identical siblings are interchangeable: number them
        iris[node] = URIRef(GENID + _digest(f"{patient}|{'|'.join(key)}|{index}")[:32])
    return iris


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _is_fhir(raw: bytes | str) -> bool:
    """FHIR JSON is an object with a "resourceType"; JSON-LD never has one."""
    data = raw.encode() if isinstance(raw, str) else raw
    return data.lstrip()[:1] == b"{" and re.search(rb'"resourceType"\s*:', data) is not None


def _names_a_file(text: str) -> bool:
    """A string is a path only if it cannot be RDF data and an existing file has that name."""
    if "\n" in text or text.lstrip().startswith(("{", "[", "@", "<", "#")):
        return False
    try:
        return Path(text).is_file()
    except OSError:  # e.g. a name longer than the file system allows
        return False
