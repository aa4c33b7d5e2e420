"""A patient graph: one patient's asserted facts and where they came from, and its skolemization."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import date

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from reasoner.errors import PatientParseError
from reasoner.namespaces import GR
from reasoner.rdf.limits import blank_node_parents
from reasoner.rdf.rdfio import ReadError

__all__ = ["Patient", "UnmappedCode", "blank_node_parents_of", "skolemize"]


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


GENID = "https://w3id.org/guideline-reasoner/store/genid/"


def skolemize(patient: Patient) -> Patient:
    """The patient with every blank node replaced by an IRI derived from the patient IRI and where the node hangs
    (the IRI or node above it, the property, and the node's own content), so the same facts always give the same
    IRIs, in time linear in the graph; a patient without blank nodes is returned as it is. Queries bind record
    nodes by value, and blank nodes cannot be bound. Identical sibling nodes get distinct IRIs (numbered), so no
    fact is merged away."""
    parents = blank_node_parents_of(patient.graph, patient.source)
    if not parents:
        return patient
    iris = _skolem_iris(patient.graph, parents, patient.iri)
    out = Graph()
    for s, p, o in patient.graph:
        out.add((iris.get(s, s), p, iris.get(o, o)))
    return replace(patient, graph=out)


def blank_node_parents_of(graph: Graph, source: str) -> dict[BNode, tuple[Node, Node] | None]:
    """Each blank node's parent edge; refuses (PatientParseError) cycles and blank nodes shared by two parents."""
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
