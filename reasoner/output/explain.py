"""Explanations: which patient records made the patient a member of a class, and which classes were inferred on
the way. It walks the class's OWL definition (equivalences, subclass-side expressions, named subclasses) over the
closed graph, so it explains exactly the axioms the reasoner used."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rdflib import Graph, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from reasoner.namespaces import GR, OWL, RDF, RDFS

if TYPE_CHECKING:
    from reasoner.engine.engines import Facts

__all__ = ["Axioms", "Explainer", "Explanation"]

_RECORD_LINKS = (GR.hasFinding, GR.hasExposure, GR.hasMeasurement)
_TYPE = RDF.type  # hoisted: rdflib builds a new URIRef on every namespace attribute access
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


class Axioms:
    """The class axioms of a guideline, read once into lookups (the explanation walk is on every patient's path)."""

    def __init__(self, tbox: Graph) -> None:
        self.intersections = {n: list(Collection(tbox, h)) for n, h in tbox.subject_objects(OWL.intersectionOf)}
        self.unions = {n: list(Collection(tbox, h)) for n, h in tbox.subject_objects(OWL.unionOf)}
        self.on_property = dict(tbox.subject_objects(OWL.onProperty))
        self.has_value = dict(tbox.subject_objects(OWL.hasValue))
        self.some_values = dict(tbox.subject_objects(OWL.someValuesFrom))
        # Definitions in an order that depends on what they say, not on blank-node labels or file layout, so the
        # same patient always gets the same explanation: class expressions first, then named subclasses.
        self.definitions: dict[Node, list[Node]] = {}
        for cls in {*tbox.subjects(OWL.equivalentClass, None), *tbox.objects(None, RDFS.subClassOf)}:
            defs = {*tbox.objects(cls, OWL.equivalentClass), *tbox.subjects(RDFS.subClassOf, cls)} - {cls}
            self.definitions[cls] = sorted(defs, key=lambda n: (isinstance(n, URIRef), self.render(n)))

    def render(self, expression: Node, depth: int = 0) -> str:
        """A class expression as text with no blank-node labels in it (a sort key)."""
        if isinstance(expression, URIRef) or depth > 16:
            return str(expression)
        if expression in self.intersections:
            return "and(" + ",".join(self.render(m, depth + 1) for m in self.intersections[expression]) + ")"
        if expression in self.unions:
            return "or(" + ",".join(self.render(m, depth + 1) for m in self.unions[expression]) + ")"
        prop = self.on_property.get(expression)
        if expression in self.has_value:
            return f"value({prop},{self.has_value[expression]})"
        if expression in self.some_values:
            return f"some({prop},{self.render(self.some_values[expression], depth + 1)})"
        return "?"


class Explainer:
    """Explains class memberships in `closed` using the guideline's `axioms`; `asserted` is the input patient graph."""

    def __init__(self, axioms: Axioms, closed: Facts, asserted: Graph) -> None:
        self.axioms, self.closed, self.asserted = axioms, closed, set(asserted)
        # One patient's recommendations share most of their classes: walk each once.
        self._explained: dict[tuple[Node, Node], Explanation] = {}
        self._satisfied: dict[tuple[Node, Node], bool] = {}

    def explain(self, node: Node, cls: Node) -> Explanation:
        """A fresh Explanation (callers may merge into it)."""
        done = self._explained.get((node, cls))
        if done is None:
            done = self._explained[(node, cls)] = Explanation()
            self._walk(node, cls, done, set())
        return Explanation(list(done.facts), list(done.via))

    # -- the walk ------------------------------------------------------------------------------------------

    def _walk(self, node: Node, cls: Node, out: Explanation, seen: set[tuple[Node, Node]]) -> None:
        if (node, cls) in seen:
            return
        seen.add((node, cls))
        ax = self.axioms
        if isinstance(cls, URIRef):
            if (node, _TYPE, cls) in self.asserted:  # a fact of the input: nothing to derive it from
                return
            if cls not in _SILENT:
                out.add_via(cls)
            # Every class expression the node satisfies is a sufficient reason: name them all. Named subclasses
            # only stand for their own definitions, so the first one satisfied is walked when no expression is.
            met = [d for d in ax.definitions.get(cls, ()) if self.satisfies(node, d)]
            for definition in [d for d in met if not isinstance(d, URIRef)] or met[:1]:
                self._walk(node, definition, out, seen)
            return
        if cls in ax.intersections:
            for m in ax.intersections[cls]:
                self._walk(node, m, out, seen)
            return
        if cls in ax.unions:
            for m in ax.unions[cls]:
                if self.satisfies(node, m):
                    self._walk(node, m, out, seen)
                    return
            return
        prop, filler = ax.on_property.get(cls), ax.some_values.get(cls)
        if prop is not None and filler is not None:
            for value in sorted(self.closed.objects(node, prop), key=str):
                if self.satisfies(value, filler):
                    if prop in _RECORD_LINKS:
                        out.add_fact(value)
                    self._walk(value, filler, out, seen)

    def satisfies(self, node: Node, cls: Node) -> bool:
        known = self._satisfied.get((node, cls))
        if known is None:
            known = self._satisfied[(node, cls)] = self._satisfies(node, cls)
        return known

    def _satisfies(self, node: Node, cls: Node) -> bool:
        ax = self.axioms
        if isinstance(cls, URIRef):
            return (node, _TYPE, cls) in self.closed
        if cls in ax.intersections:
            return all(self.satisfies(node, m) for m in ax.intersections[cls])
        if cls in ax.unions:
            return any(self.satisfies(node, m) for m in ax.unions[cls])
        prop = ax.on_property.get(cls)
        if prop is None:
            return False
        if cls in ax.has_value:
            return (node, prop, ax.has_value[cls]) in self.closed
        if cls in ax.some_values:
            return any(self.satisfies(v, ax.some_values[cls]) for v in self.closed.objects(node, prop))
        return False
