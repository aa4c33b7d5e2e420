"""What a guideline lets patient data refer to: its findings, red-flag fields, measurements, drugs, therapies and
declared properties."""

from __future__ import annotations

from functools import cache

from rdflib import Graph, URIRef
from rdflib.term import Node

from reasoner.knowledge.guideline import Guideline
from reasoner.namespaces import GR, RDF, RDFS

__all__ = ["Vocabulary"]


class Vocabulary:
    """What a guideline lets patient data refer to; computed once per guideline version."""

    def __init__(self, guideline: Guideline) -> None:
        g = guideline.graph
        self.findings = _subclasses(g, GR.Finding)
        self.red_flag_fields = {f for f in g.subjects(RDFS.subClassOf, GR.RedFlag) if isinstance(f, URIRef)}
        self.measurements = _subclasses(g, GR.MeasurementKind) - {GR.MeasurementKind}
        self.ranges = {
            m: (_bound(g, m, GR.minValue, "-inf"), _bound(g, m, GR.maxValue, "inf")) for m in self.measurements
        }
        self.drugs = {s for c in _subclasses(g, GR.Drug) for s in g.subjects(RDF.type, c)}
        self.therapies = set(g.subjects(RDF.type, GR.Therapy))
        self.properties = {
            s for s in g.subjects(RDF.type, None) if isinstance(s, URIRef) and str(s).startswith(str(GR))
        }

    @staticmethod
    @cache
    def of(guideline: Guideline) -> Vocabulary:
        return Vocabulary(guideline)


def _bound(g: Graph, kind: Node, prop: URIRef, default: str) -> float:
    # `is None`, not `or`: an rdflib Literal(0) is falsy, and a declared minimum of 0 must stay 0.
    value = g.value(kind, prop)
    return float(str(value)) if value is not None else float(default)


def _subclasses(g: Graph, root: URIRef) -> set[Node]:
    found: set[Node] = {root}
    frontier = [root]
    while frontier:
        current = frontier.pop()
        for sub in g.subjects(RDFS.subClassOf, current):
            if isinstance(sub, URIRef) and sub not in found:
                found.add(sub)
                frontier.append(sub)
    return found
