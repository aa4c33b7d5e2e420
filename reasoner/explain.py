"""Explanations: which patient records made the patient a member of a class, and which classes were inferred on
the way. It walks the class's OWL definition (equivalences, subclass-side expressions, named subclasses) over the
closed graph, so it explains exactly the axioms the reasoner used."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rdflib import BNode, Graph, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from reasoner.namespaces import GR, OWL, RDF, RDFS

if TYPE_CHECKING:
    from reasoner.engine import Facts

__all__ = ["Explainer", "Explanation"]

_RECORD_LINKS = (GR.hasFinding, GR.hasExposure, GR.hasMeasurement)
# Classes too general to be worth naming in an explanation.
_SILENT = {
    GR.Patient,
    GR.FindingRecord,
    GR.Record,
    GR.Exposure,
    GR.MedicationExposure,
    GR.TherapyCourse,
    GR.Measurement,
}


@dataclass
class Explanation:
    facts: list[Node] = field(default_factory=list)
    via: list[URIRef] = field(default_factory=list)

    def add_fact(self, node: Node) -> None:
        if node not in self.facts:
            self.facts.append(node)

    def add_via(self, cls: URIRef) -> None:
        if cls not in self.via:
            self.via.append(cls)

    def merge(self, other: Explanation) -> None:
        for f in other.facts:
            self.add_fact(f)
        for v in other.via:
            self.add_via(v)


class Explainer:
    """Explains class memberships in `closed` using the axioms of `tbox`; `asserted` is the input patient graph."""

    def __init__(self, tbox: Graph, closed: Facts, asserted: Graph) -> None:
        self.tbox, self.closed, self.asserted = tbox, closed, asserted

    def explain(self, node: Node, cls: Node) -> Explanation:
        out = Explanation()
        self._walk(node, cls, out, set())
        return out

    # -- the walk ------------------------------------------------------------------------------------------

    def _walk(self, node: Node, cls: Node, out: Explanation, seen: set[tuple[Node, Node]]) -> None:
        if (node, cls) in seen:
            return
        seen.add((node, cls))
        if isinstance(cls, URIRef):
            if (node, RDF.type, cls) not in self.asserted and cls not in _SILENT:
                out.add_via(cls)
            for definition in self._definitions(cls):
                if self.satisfies(node, definition):
                    self._walk(node, definition, out, seen)
                    return
            return
        members = self._list(cls, OWL.intersectionOf)
        if members is not None:
            for m in members:
                self._walk(node, m, out, seen)
            return
        options = self._list(cls, OWL.unionOf)
        if options is not None:
            for m in options:
                if self.satisfies(node, m):
                    self._walk(node, m, out, seen)
                    return
            return
        prop = self.tbox.value(cls, OWL.onProperty)
        filler = self.tbox.value(cls, OWL.someValuesFrom)
        if prop is not None and filler is not None:
            for value in sorted(self.closed.objects(node, prop), key=str):
                if self.satisfies(value, filler):
                    if prop in _RECORD_LINKS:
                        out.add_fact(value)
                    self._walk(value, filler, out, seen)

    def _definitions(self, cls: URIRef) -> list[Node]:
        """Ways `cls` can be inferred: its equivalent expressions, then subclass-side expressions, then subclasses."""
        defs: list[Node] = list(self.tbox.objects(cls, OWL.equivalentClass))
        subs = sorted(self.tbox.subjects(RDFS.subClassOf, cls), key=lambda n: (isinstance(n, URIRef), str(n)))
        return defs + subs

    def satisfies(self, node: Node, cls: Node) -> bool:
        if isinstance(cls, URIRef):
            return (node, RDF.type, cls) in self.closed
        members = self._list(cls, OWL.intersectionOf)
        if members is not None:
            return all(self.satisfies(node, m) for m in members)
        options = self._list(cls, OWL.unionOf)
        if options is not None:
            return any(self.satisfies(node, m) for m in options)
        prop = self.tbox.value(cls, OWL.onProperty)
        if prop is None:
            return False
        has_value = self.tbox.value(cls, OWL.hasValue)
        if has_value is not None:
            return (node, prop, has_value) in self.closed
        filler = self.tbox.value(cls, OWL.someValuesFrom)
        if filler is not None:
            return any(self.satisfies(v, filler) for v in self.closed.objects(node, prop))
        return False

    def _list(self, cls: Node, prop: URIRef) -> list[Node] | None:
        if not isinstance(cls, BNode):
            return None
        head = self.tbox.value(cls, prop)
        return list(Collection(self.tbox, head)) if head is not None else None
