"""SHACL, compiled: the subset of SHACL Core and SHACL-SPARQL that shapes/patient.ttl uses, turned once into checks.

pySHACL re-reads the shapes graph and runs SPARQL through rdflib on every call (hundreds of milliseconds per
patient); these checks run in well under a millisecond, with the SPARQL-based constraints (SHACL §5) evaluated
by Oxigraph. Shapes are read per the spec: node shapes with sh:targetClass (§2.1.3.3) or reached through sh:node
(§4.7.1); property shapes with an IRI sh:path (§2.3.1); the core components listed in `_COMPONENTS`. Any other
SHACL term in the shapes graph is refused when compiling, so no constraint is silently skipped.
tests/test_shapes_differential.py checks these results against pySHACL on every fixture.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from reasoner.errors import GuidelineError, QueryError, Violation
from reasoner.namespaces import GR, RDF, RDFS, SH, XSD
from reasoner.rdf.bindings import prebind
from reasoner.rdf.index import TripleIndex
from reasoner.rdf.oxi import from_ox, to_quads
from reasoner.rdf.sparql_guard import guard

__all__ = ["CompiledShapes", "display_name"]

# Terms a node or property shape may carry, besides the constraint components below.
_STRUCTURE = {SH.targetClass, SH.property, SH.path, SH.message, SH.name, SH.description, RDF.type, RDFS.comment}
_COMPONENTS = {
    SH.nodeKind,
    SH.minCount,
    SH.maxCount,
    SH.datatype,
    SH["in"],
    SH.node,
    SH["class"],
    SH["or"],
    SH.lessThanOrEquals,
    SH.minInclusive,
    SH.maxInclusive,
    SH.minExclusive,
    SH.maxExclusive,
    SH.sparql,
}
_ALLOWED = _STRUCTURE | _COMPONENTS | {SH.declare, SH.prefix, SH.namespace, SH.select, SH.prefixes}
# Hoisted: rdflib builds a new URIRef on every namespace attribute access, and these are compared per value.
# Components are keyed by plain str: compared per value, and str equality runs in C while rdflib's __eq__ does not.
_NODE, _MIN_COUNT, _MAX_COUNT, _LESS_EQ = (str(c) for c in (SH.node, SH.minCount, SH.maxCount, SH.lessThanOrEquals))
_COUNTS = (_MIN_COUNT, _MAX_COUNT)
_TYPE = RDF.type
_TEMPLATE = re.compile(r"\{[?$](\w+)\}")


@dataclass
class _SparqlConstraint:
    query: str
    message: str
    source: str


@dataclass
class _Shape:
    node: Node
    message: str | None
    path: URIRef | None = None
    values: list[tuple[str, Any]] = field(default_factory=list)
    properties: list[_Shape] = field(default_factory=list)
    sparql: list[_SparqlConstraint] = field(default_factory=list)


class CompiledShapes:
    """The shapes graph, compiled; `check(graph)` returns every violation of a patient graph."""

    def __init__(self, shapes: Graph, *, source: str) -> None:
        self.source = source
        self._graph = shapes
        for s, p, _ in shapes:
            if str(p).startswith(str(SH)) and p not in _ALLOWED:
                raise GuidelineError(f"{source}: {display_name(s)} uses {display_name(p)}, which is not supported")
        self._shapes: dict[Node, _Shape] = {}
        self.targets = [
            (cls, self._shape(s)) for s, cls in sorted(shapes.subject_objects(SH.targetClass), key=lambda t: str(t[0]))
        ]

    def check(self, patient: Graph) -> list[Violation]:
        out: list[Violation] = []
        store: ox.Store | None = None
        graph = TripleIndex(patient)  # a plain index: the checks below do thousands of lookups per patient
        for cls, shape in self.targets:
            focus = sorted(graph.subjects(_TYPE, cls), key=str)
            for node_shape, nodes in self._reach(graph, shape, focus):
                out += self._check_values(graph, node_shape, nodes)
                if node_shape.sparql and nodes:
                    if store is None:
                        store = ox.Store()
                        store.extend(to_quads(graph.triples, ox.DefaultGraph()))  # type: ignore[arg-type]
                    out += self._check_sparql(store, node_shape, nodes)
        return out

    # -- compiling -----------------------------------------------------------------------------------------

    def _shape(self, node: Node) -> _Shape:
        if node in self._shapes:
            return self._shapes[node]
        g = self._graph
        message = g.value(node, SH.message)
        path = g.value(node, SH.path)
        if path is not None and not isinstance(path, URIRef):
            raise GuidelineError(f"{self.source}: shape {display_name(node)}: only IRI paths are supported")
        shape = _Shape(node, str(message) if message is not None else None, path)
        self._shapes[node] = shape
        for component in sorted(_COMPONENTS - {SH.sparql}, key=str):
            for value in g.objects(node, component):
                shape.values.append((str(component), self._parameter(component, value)))
        shape.properties = [self._shape(p) for p in sorted(g.objects(node, SH.property), key=str)]
        shape.sparql = [self._sparql(c) for c in sorted(g.objects(node, SH.sparql), key=str)]
        return shape

    def _parameter(self, component: URIRef, value: Node) -> Any:
        if component in (SH["in"],):
            return set(Collection(self._graph, value))
        if component in (SH["or"],):
            return [self._shape(m) for m in Collection(self._graph, value)]
        if component == SH.node:
            return self._shape(value)
        if component == SH.nodeKind and value not in _NODE_KINDS:
            raise GuidelineError(f"{self.source}: sh:nodeKind {display_name(value)} is not a SHACL node kind")
        return value

    def _sparql(self, node: Node) -> _SparqlConstraint:
        g = self._graph
        select, message = g.value(node, SH.select), g.value(node, SH.message)
        if select is None:
            raise GuidelineError(f"{self.source}: SPARQL constraint {display_name(node)} needs sh:select")
        prefixes = "".join(
            f"PREFIX {g.value(d, SH.prefix)}: <{g.value(d, SH.namespace)}>\n"
            for holder in g.objects(node, SH.prefixes)
            for d in g.objects(holder, SH.declare)
        )
        query = prefixes + str(select).replace("$this", "?this")
        try:
            guard(query)
        except QueryError as exc:
            raise GuidelineError(f"{self.source}: SPARQL constraint {display_name(node)}: {exc}") from exc
        return _SparqlConstraint(query, str(message or "violates a SPARQL constraint"), display_name(node))

    # -- checking ------------------------------------------------------------------------------------------

    def _reach(self, graph: TripleIndex, shape: _Shape, focus: list[Node]) -> Iterator[tuple[_Shape, list[Node]]]:
        """The shape with its focus nodes, then every shape reached through sh:node with the value nodes."""
        yield shape, focus
        for prop in shape.properties:
            for component, nested in prop.values:
                if component == _NODE:
                    assert prop.path is not None
                    values = sorted({v for f in focus for v in graph.objects(f, prop.path)}, key=str)
                    yield from self._reach(graph, nested, values)

    def _check_values(self, graph: TripleIndex, shape: _Shape, nodes: list[Node]) -> list[Violation]:
        out = []
        for node in nodes:
            for component, parameter in shape.values:
                if not _COMPONENT_CHECKS[component](graph, self, node, [node], parameter):
                    out.append(_violation(shape, node, None, component, node))
            for prop in shape.properties:
                assert prop.path is not None
                values = sorted(graph.objects(node, prop.path), key=str)
                for component, parameter in prop.values:
                    if component == _NODE:
                        continue  # the nested shape reports its own violations (see _reach)
                    for bad in _failing(component, graph, self, node, values, parameter):
                        out.append(_violation(prop, node, prop.path, component, bad))
        return out

    def _check_sparql(self, store: ox.Store, shape: _Shape, nodes: list[Node]) -> list[Violation]:
        out = []
        for constraint in shape.sparql:
            query = prebind(constraint.query, {"this": list(nodes)}, source=constraint.source)
            rows = store.query(query)
            names = rows.variables  # type: ignore[union-attr]
            for row in rows:  # type: ignore[union-attr]
                bound = {v.value: from_ox(row[v]) for v in names if row[v] is not None}
                text = _TEMPLATE.sub(lambda m, b=bound: _show(b.get(m.group(1))), constraint.message)  # type: ignore[misc]
                out.append(Violation(display_name(bound["this"]), None, text))
        return out

    def conforms(self, graph: TripleIndex, shape: _Shape, node: Node) -> bool:
        return not self._check_values(graph, shape, [node])


def _failing(
    component: str, graph: TripleIndex, shapes: CompiledShapes, focus: Node, values: list[Node], parameter: Any
) -> list[Node | None]:
    """Value nodes that break `component`; None stands for the focus node (count and pair components)."""
    if component in _COUNTS:
        return [] if _COMPONENT_CHECKS[component](graph, shapes, focus, values, parameter) else [None]
    if component == _LESS_EQ:
        others = list(graph.objects(focus, parameter))
        return [v for v, w in itertools.product(values, others) if not _le(v, w)]
    return [v for v in values if not _COMPONENT_CHECKS[component](graph, shapes, v, [v], parameter)]


def _le(a: Node, b: Node) -> bool:
    try:
        return bool(isinstance(a, Literal) and isinstance(b, Literal) and a.toPython() <= b.toPython())
    except TypeError:
        return False


def _compare(value: Node, bound: Node, test: Callable[[Any, Any], bool]) -> bool:
    if not isinstance(value, Literal) or not isinstance(bound, Literal) or value.ill_typed:
        return False
    a, b = value.toPython(), bound.toPython()
    if not isinstance(a, int | float | Decimal) or not isinstance(b, int | float | Decimal) or isinstance(a, bool):
        return False
    return test(Decimal(str(a)), Decimal(str(b)))


def _datatype_ok(value: Node, datatype: Node) -> bool:
    """SHACL 4.1.1; a literal without datatype or language tag is an xsd:string (RDF 1.1)."""
    if not isinstance(value, Literal) or value.ill_typed:
        return False
    if value.datatype is None:
        return datatype == (RDF.langString if value.language else XSD.string)
    return value.datatype == datatype


# SHACL 4.1.2: the node kinds each sh:nodeKind value admits.
_NODE_KINDS: dict[Node, tuple[type, ...]] = {
    SH.IRI: (URIRef,),
    SH.BlankNode: (BNode,),
    SH.Literal: (Literal,),
    SH.BlankNodeOrIRI: (BNode, URIRef),
    SH.BlankNodeOrLiteral: (BNode, Literal),
    SH.IRIOrLiteral: (URIRef, Literal),
}


_Check = Callable[[TripleIndex, CompiledShapes, Node, list[Node], Any], bool]
_COMPONENT_CHECKS: dict[str, _Check] = {
    str(SH.nodeKind): lambda g, s, v, vs, p: isinstance(v, _NODE_KINDS[p]),
    str(SH.minCount): lambda g, s, v, vs, p: len(vs) >= int(p),
    str(SH.maxCount): lambda g, s, v, vs, p: len(vs) <= int(p),
    str(SH.datatype): lambda g, s, v, vs, p: _datatype_ok(v, p),
    str(SH["in"]): lambda g, s, v, vs, p: v in p,
    str(SH["class"]): lambda g, s, v, vs, p: (v, _TYPE, p) in g,
    str(SH["or"]): lambda g, s, v, vs, p: any(s.conforms(g, m, v) for m in p),
    str(SH.minInclusive): lambda g, s, v, vs, p: _compare(v, p, lambda a, b: a >= b),
    str(SH.maxInclusive): lambda g, s, v, vs, p: _compare(v, p, lambda a, b: a <= b),
    str(SH.minExclusive): lambda g, s, v, vs, p: _compare(v, p, lambda a, b: a > b),
    str(SH.maxExclusive): lambda g, s, v, vs, p: _compare(v, p, lambda a, b: a < b),
}


def _violation(shape: _Shape, focus: Node, path: URIRef | None, component: str, value: Node | None) -> Violation:
    text = shape.message or f"breaks {display_name(component)} of {display_name(shape.node)}"
    if value is not None and value != focus and isinstance(value, URIRef | Literal):
        text = f"{text} (got {value.n3()})"
    return Violation(display_name(focus), display_name(path) if path is not None else None, text)


def _show(node: Node | None) -> str:
    if node is None:
        return ""
    return str(node)


def display_name(node: object) -> str:
    """A node as violations name it: core and RDF terms by prefix, anything else in full."""
    if node is None:
        return "<graph>"
    if isinstance(node, BNode):
        return f"_:{node}"
    text = str(node)
    for prefix, ns in (("gr:", str(GR)), ("rdf:", str(RDF)), ("rdfs:", str(RDFS)), ("sh:", str(SH))):
        if text.startswith(ns):
            return prefix + text[len(ns) :]
    return text
