"""SHACL, compiled: an exact implementation of a subset of SHACL Core and SHACL-SPARQL, turned once into checks.

`compile_shapes` reads a shapes graph and raises `Unsupported` unless every triple that can carry SHACL meaning is
one it implements exactly (see `_Reader`); reasoner.engine.shapes then hands the graph to pySHACL instead. At run
time a value whose comparison this module cannot settle exactly (an ill-typed literal, time zones on one side
only) raises `Undecided`, and that data graph goes to pySHACL too. The subset:

- targets: sh:targetClass, sh:targetNode, sh:targetSubjectsOf, sh:targetObjectsOf and implicit class targets
  (a shape that is also an rdfs:Class), classes with rdfs:subClassOf* in the data graph (SHACL 2.1.3);
- node shapes and property shapes with an IRI sh:path, nested through sh:property, sh:node, sh:not, sh:and,
  sh:or, sh:xone (no cycles); sh:severity, sh:deactivated, sh:message;
- sh:class, sh:datatype, sh:nodeKind, sh:minCount, sh:maxCount, sh:minInclusive, sh:maxInclusive,
  sh:minExclusive, sh:maxExclusive (numeric, xsd:date and xsd:dateTime bounds), sh:minLength, sh:maxLength,
  sh:in, sh:hasValue, sh:equals, sh:disjoint, sh:lessThan, sh:lessThanOrEquals;
- sh:sparql SELECT constraints at node and property level, $this pre-bound per focus node by Oxigraph's
  substitution (which reaches into sub-SELECTs and UNIONs, as SHACL 5.2.1 requires) and $PATH replaced by the path;
  a query that uses $this only at the top level and in FILTER [NOT] EXISTS runs once for all focus nodes instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from reasoner.namespaces import OWL, RDF, RDFS, SH, XSD
from reasoner.rdf.bindings import Substitution, _tokens, prebind
from reasoner.rdf.index import TripleIndex
from reasoner.rdf.oxi import from_ox, to_ox, to_quads

__all__ = ["Program", "Result", "Undecided", "Unsupported", "compile_shapes"]


class Unsupported(Exception):
    """The shapes graph uses something the compiled checks do not implement exactly."""


class Undecided(Exception):
    """The data holds a value the compiled checks cannot compare exactly."""


@dataclass(frozen=True)
class Result:
    """One SHACL validation result (SHACL 3.6.2), with the message the shapes give it (None: none given)."""

    focus: Node
    path: Node | tuple[object, ...] | None
    value: Node | None
    severity: Node
    shape: Node
    component: URIRef
    message: str | None


# Every parameter of a SHACL Core or SHACL-SPARQL constraint component, and the target and path predicates: a
# node with any of them is a shape (SHACL 2.1), whether or not this module implements it.
_SHAPE_PREDICATES = {
    SH[n]
    for n in (
        "targetClass",
        "targetNode",
        "targetSubjectsOf",
        "targetObjectsOf",
        "target",
        "path",
        "property",
        "node",
        "not",
        "and",
        "or",
        "xone",
        "class",
        "datatype",
        "nodeKind",
        "minCount",
        "maxCount",
        "minExclusive",
        "minInclusive",
        "maxExclusive",
        "maxInclusive",
        "minLength",
        "maxLength",
        "pattern",
        "flags",
        "languageIn",
        "uniqueLang",
        "equals",
        "disjoint",
        "lessThan",
        "lessThanOrEquals",
        "qualifiedValueShape",
        "qualifiedMinCount",
        "qualifiedMaxCount",
        "qualifiedValueShapesDisjoint",
        "closed",
        "ignoredProperties",
        "hasValue",
        "in",
        "sparql",
    )
}
_IMPLEMENTED = {
    SH[n]
    for n in (
        "targetClass",
        "targetNode",
        "targetSubjectsOf",
        "targetObjectsOf",
        "path",
        "property",
        "node",
        "not",
        "and",
        "or",
        "xone",
        "class",
        "datatype",
        "nodeKind",
        "minCount",
        "maxCount",
        "minExclusive",
        "minInclusive",
        "maxExclusive",
        "maxInclusive",
        "minLength",
        "maxLength",
        "equals",
        "disjoint",
        "lessThan",
        "lessThanOrEquals",
        "hasValue",
        "in",
        "sparql",
        "message",
        "severity",
        "deactivated",
    )
}
# Without meaning for validation (SHACL 2.3.1: non-validating properties), allowed on a shape.
_ANNOTATIONS = {SH.name, SH.description, SH.order, SH.group, SH.defaultValue, RDFS.label, RDFS.comment, RDFS.seeAlso}
_ANNOTATIONS |= {RDFS.isDefinedBy, RDFS.subClassOf}
_SHAPE_TYPES = {SH.NodeShape, SH.PropertyShape, RDFS.Class}
# sh: predicates that may appear off shapes: SPARQL constraints, prefix declarations, and validation reports
# (the W3C tests keep the expected report in the shapes graph).
_SPARQL_TERMS = {SH.select, SH.prefixes, SH.declare, SH.prefix, SH.namespace}
_REPORT_TERMS = {
    SH[n]
    for n in [
        "conforms",
        "result",
        "focusNode",
        "resultPath",
        "resultSeverity",
        "sourceConstraintComponent",
        "sourceShape",
        "sourceConstraint",
        "value",
        "resultMessage",
        "detail",
    ]
}
_SH_TYPES = {SH.NodeShape, SH.PropertyShape, SH.SPARQLConstraint, SH.PrefixDeclaration}
_SH_TYPES |= {SH.ValidationReport, SH.ValidationResult}
_SEVERITIES = {SH.Violation, SH.Warning, SH.Info}
_NODE_KINDS: dict[Node, tuple[type, ...]] = {
    SH.IRI: (URIRef,),
    SH.BlankNode: (BNode,),
    SH.Literal: (Literal,),
    SH.BlankNodeOrIRI: (BNode, URIRef),
    SH.BlankNodeOrLiteral: (BNode, Literal),
    SH.IRIOrLiteral: (URIRef, Literal),
}
_INTEGERS = {
    XSD[n]
    for n in [
        "integer",
        "nonPositiveInteger",
        "negativeInteger",
        "long",
        "int",
        "short",
        "byte",
        "nonNegativeInteger",
        "unsignedLong",
        "unsignedInt",
        "unsignedShort",
        "unsignedByte",
        "positiveInteger",
    ]
}
_NUMERIC = _INTEGERS | {XSD.decimal, XSD.float, XSD.double}
# XSD datatypes whose lexical forms rdflib checks (Literal.ill_typed), so sh:datatype is decided exactly.
_CHECKED_DATATYPES = _NUMERIC | {XSD.string, XSD.boolean, XSD.date, XSD.dateTime}
_TIMEZONE = re.compile(r"(Z|[+-]\d\d:\d\d)$")
# Query forms and variables SHACL forbids in pre-bound queries or whose semantics pySHACL owns (SHACL 5.2.1).
_SPARQL_CONSTRAINT_TERMS = {SH.select, SH.prefixes, SH.message, RDFS.label, RDFS.comment}
# Oxigraph's substitution differs from SHACL's pre-binding for BOUND($this) and BIND($this AS ?x) (W3C tests
# sparql/pre-binding-004, -005) and SELECT * must project $this in a subquery (-006): those go to pySHACL.
_SPARQL_REFUSED_WORDS = {"MINUS", "VALUES", "SERVICE", "ASK", "CONSTRUCT", "DESCRIBE", "BIND", "BOUND"}
_SPARQL_REFUSED_VARS = {"shapesGraph", "currentShape", "failure"}
_TEMPLATE = re.compile(r"\{[?$](\w+)\}")


def _component(name: str) -> URIRef:
    return SH[name[0].upper() + name[1:] + "ConstraintComponent"]


@dataclass
class _Sparql:
    node: Node
    query: str
    message: Literal | None
    batch: bool  # `_batchable`: one query binding every focus node at once gives the same rows


@dataclass
class _Shape:
    node: Node
    path: URIRef | None
    severity: Node
    message: str | None
    deactivated: bool
    constraints: list[tuple[URIRef, Any]] = field(default_factory=list)
    properties: list[_Shape] = field(default_factory=list)
    sparql: list[_Sparql] = field(default_factory=list)


class _Reader:
    """Reads a shapes graph into `_Shape`s, raising Unsupported at the first triple it cannot honour exactly."""

    def __init__(self, graph: Graph) -> None:
        self.g = graph
        self.shapes: dict[Node, _Shape] = {}
        self.reading: set[Node] = set()

    def check_graph(self) -> set[Node]:
        g = self.g
        for s, p, o in g:
            if p == RDF.type and isinstance(o, URIRef) and o.startswith(SH) and o not in _SH_TYPES:
                raise Unsupported(f"{_short(s)} is typed {_short(o)}")
            if isinstance(p, URIRef) and p.startswith(SH) and p not in _IMPLEMENTED | _SPARQL_TERMS | _REPORT_TERMS:
                raise Unsupported(f"{_short(s)} uses {_short(p)}")
        shapes = {s for s, p, _ in g if p in _SHAPE_PREDICATES}
        shapes |= {s for t in (SH.NodeShape, SH.PropertyShape) for s in g.subjects(RDF.type, t)}
        shapes |= {o for p in (SH.node, SH.property, SH["not"]) for o in g.objects(None, p)}
        shapes |= {m for p in (SH["and"], SH["or"], SH.xone) for lst in g.objects(None, p) for m in self.items(lst)}
        return shapes

    def items(self, head: Node) -> list[Node]:
        """A well-formed RDF list, or Unsupported."""
        out: list[Node] = []
        seen: set[Node] = set()
        while head != RDF.nil:
            if head in seen or set(self.g.predicates(head)) != {RDF.first, RDF.rest}:
                raise Unsupported(f"{_short(head)} is not a well-formed RDF list")
            firsts, rests = list(self.g.objects(head, RDF.first)), list(self.g.objects(head, RDF.rest))
            if len(firsts) != 1 or len(rests) != 1:
                raise Unsupported(f"{_short(head)} is not a well-formed RDF list")
            seen.add(head)
            out.append(firsts[0])
            head = rests[0]
        return out

    def one(self, node: Node, predicate: URIRef) -> Node | None:
        values = list(self.g.objects(node, predicate))
        if len(values) > 1:
            raise Unsupported(f"{_short(node)} has several {_short(predicate)}")
        return values[0] if values else None

    def shape(self, node: Node) -> _Shape:
        if node in self.shapes:
            return self.shapes[node]
        if node in self.reading:
            raise Unsupported(f"{_short(node)} refers to itself (recursive shapes)")
        self.reading.add(node)
        g = self.g
        for p, o in g.predicate_objects(node):
            if p == RDF.type and o not in _SHAPE_TYPES:
                raise Unsupported(f"shape {_short(node)} is typed {_short(o)}")
            if p != RDF.type and p not in _IMPLEMENTED and p not in _ANNOTATIONS:
                raise Unsupported(f"shape {_short(node)} uses {_short(p)}")
        path = self.one(node, SH.path)
        types = set(g.objects(node, RDF.type))
        if (path is not None and not isinstance(path, URIRef)) or (path is None and SH.PropertyShape in types):
            raise Unsupported(f"shape {_short(node)} has a path that is not one IRI")
        if path is not None and SH.NodeShape in types:
            raise Unsupported(f"shape {_short(node)} is a node shape with a path")
        severity = self.one(node, SH.severity) or SH.Violation
        deactivated = self.one(node, SH.deactivated)
        if severity not in _SEVERITIES or deactivated not in (None, Literal(True), Literal(False)):
            raise Unsupported(f"shape {_short(node)} has an unusual sh:severity or sh:deactivated")
        shape = _Shape(node, path, severity, _message(g, node), deactivated == Literal(True))
        for p, o in sorted(g.predicate_objects(node), key=lambda t: (str(t[0]), str(t[1]))):
            name = p[len(SH) :] if isinstance(p, URIRef) and p.startswith(SH) else ""
            if name in _PARAMETERS:
                shape.constraints.append((_component(name), _PARAMETERS[name](self, shape, o)))
            elif name == "property":
                prop = self.shape(o)
                if prop.path is None:
                    raise Unsupported(f"sh:property of {_short(node)} is not a property shape")
                shape.properties.append(prop)
            elif name == "sparql":
                shape.sparql.append(self.sparql(shape, o))
        self.reading.discard(node)
        self.shapes[node] = shape
        return shape

    def sparql(self, shape: _Shape, node: Node) -> _Sparql:
        g = self.g
        for p, o in g.predicate_objects(node):
            allowed = o == SH.SPARQLConstraint if p == RDF.type else p in _SPARQL_CONSTRAINT_TERMS
            if not allowed:
                raise Unsupported(f"SPARQL constraint {_short(node)} uses {_short(p)} {_short(o)}")
        select = self.one(node, SH.select)
        if not isinstance(select, Literal):
            raise Unsupported(f"SPARQL constraint {_short(node)} has no sh:select string")
        prefixes = ""
        for holder in g.objects(node, SH.prefixes):
            if (holder, OWL.imports, None) in g:
                raise Unsupported(f"the prefixes of {_short(node)} are imported (owl:imports)")
            for decl in g.objects(holder, SH.declare):
                if set(g.predicates(decl)) - {RDF.type, SH.prefix, SH.namespace}:
                    raise Unsupported(f"prefix declaration {_short(decl)} has other properties")
                prefix, namespace = self.one(decl, SH.prefix), self.one(decl, SH.namespace)
                if not isinstance(prefix, Literal) or not isinstance(namespace, Literal):
                    raise Unsupported(f"prefix declaration {_short(decl)} needs one sh:prefix and sh:namespace")
                prefixes += f"PREFIX {prefix}: <{namespace}>\n"
        query = prefixes + str(select)
        tokens = _tokens(query)
        names = {value[1:] for kind, value, _ in tokens if kind == "var"}
        words = {value.upper() for kind, value, _ in tokens if kind == "word"}
        spaced = [t for t in tokens if t[0] not in ("space", "comment")]
        star = any(
            v == "*" and spaced[i - 1][1].upper() in ("SELECT", "DISTINCT", "REDUCED")
            for i, (_, v, _) in enumerate(spaced)
            if i
        )
        if star or words & _SPARQL_REFUSED_WORDS or names & _SPARQL_REFUSED_VARS or "this" not in names:
            raise Unsupported(f"SPARQL constraint {_short(node)}: a query form or variable SHACL restricts")
        if "PATH" in names:
            if shape.path is None:
                raise Unsupported(f"SPARQL constraint {_short(node)} uses $PATH in a node shape")
            query = "".join(f"<{shape.path}>" if kind == "var" and v[1:] == "PATH" else v for kind, v, _ in tokens)
        if shape.path is not None and "value" not in names:
            raise Unsupported(f"SPARQL constraint {_short(node)} of a property shape does not select ?value")
        try:
            ox.Store().query(query, substitutions={ox.Variable("this"): ox.NamedNode(str(SH))})
        except SyntaxError as exc:
            raise Unsupported(f"SPARQL constraint {_short(node)} does not parse: {exc}") from exc
        messages = sorted(g.objects(node, SH.message), key=str)
        if any(not isinstance(m, Literal) for m in messages):
            raise Unsupported(f"SPARQL constraint {_short(node)} has a message that is not a literal")
        message = messages[0] if messages else None
        return _Sparql(node, query, message if isinstance(message, Literal) else None, _batchable(query))


_NOT_BATCHED = {"GROUP", "HAVING", "LIMIT", "OFFSET", "ORDER", "OPTIONAL", "UNION", "GRAPH", "FROM"}
_NOT_BATCHED |= {"COUNT", "SUM", "MIN", "MAX", "AVG", "SAMPLE", "GROUP_CONCAT"}


def _batchable(query: str) -> bool:
    """Whether binding $this to all focus nodes by one VALUES block at the top of the WHERE group gives, per focus
    node, the rows of the pre-bound query: true when the query selects $this, has no aggregate, solution modifier
    other than DISTINCT, subquery, OPTIONAL, UNION or GRAPH, and no group other than the WHERE group and the groups
    of FILTER [NOT] EXISTS (which SPARQL evaluates with the solution's $this substituted)."""
    tokens = [(kind, value) for kind, value, _ in _tokens(query) if kind not in ("space", "comment")]
    words = [value.upper() for kind, value in tokens if kind == "word"]
    if words.count("SELECT") != 1 or set(words) & _NOT_BATCHED:
        return False
    depth, exists_depth, projected, seen_where = 0, 0, False, False
    for i, (kind, value) in enumerate(tokens):
        if not seen_where and kind == "var" and value[1:] == "this":
            projected = True
        if value == "{":
            depth += 1
            if depth == 1:
                seen_where = True
            elif not exists_depth and tokens[i - 1][1].upper() == "EXISTS":
                exists_depth = depth
            elif not exists_depth:
                return False
        elif value == "}":
            exists_depth = 0 if depth == exists_depth else exists_depth
            depth -= 1
    return projected


def _message(g: Graph, node: Node) -> str | None:
    messages = sorted(str(m) for m in g.objects(node, SH.message))
    return messages[0] if messages else None


def _iri(reader: _Reader, shape: _Shape, value: Node) -> Node:
    if not isinstance(value, URIRef):
        raise Unsupported(f"{_short(shape.node)}: expected an IRI, got {_short(value)}")
    return value


def _on_property(reader: _Reader, shape: _Shape, value: Node) -> Node:
    if shape.path is None:
        raise Unsupported(f"{_short(shape.node)}: a pair or count constraint on a node shape")
    return _iri(reader, shape, value)


def _count(reader: _Reader, shape: _Shape, value: Node) -> int:
    if not isinstance(value, Literal) or value.datatype != XSD.integer or value.ill_typed or int(value) < 0:
        raise Unsupported(f"{_short(shape.node)}: a count that is not a non-negative xsd:integer")
    return int(value)


def _property_count(reader: _Reader, shape: _Shape, value: Node) -> int:
    if shape.path is None:
        raise Unsupported(f"{_short(shape.node)}: a count constraint on a node shape")
    return _count(reader, shape, value)


def _datatype(reader: _Reader, shape: _Shape, value: Node) -> Node:
    if not isinstance(value, URIRef) or (value.startswith(str(XSD)) and value not in _CHECKED_DATATYPES):
        raise Unsupported(f"{_short(shape.node)}: sh:datatype {_short(value)} is not checked exactly")
    return value


def _node_kind(reader: _Reader, shape: _Shape, value: Node) -> tuple[type, ...]:
    if value not in _NODE_KINDS:
        raise Unsupported(f"{_short(shape.node)}: sh:nodeKind {_short(value)} is not a SHACL node kind")
    return _NODE_KINDS[value]


def _bound(reader: _Reader, shape: _Shape, value: Node) -> Node:
    if not isinstance(value, Literal) or value.ill_typed or _family(value) not in ("numeric", "date", "dateTime"):
        raise Unsupported(f"{_short(shape.node)}: a range bound that is not a number, xsd:date or xsd:dateTime")
    if _family(value) == "date" and _TIMEZONE.search(str(value)):
        raise Unsupported(f"{_short(shape.node)}: an xsd:date bound with a time zone")
    return value


def _list(reader: _Reader, shape: _Shape, value: Node) -> list[_Shape]:
    return [reader.shape(m) for m in reader.items(value)]


_Parameter = Callable[[_Reader, _Shape, Node], Any]
_PARAMETERS: dict[str, _Parameter] = {
    "class": _iri,
    "datatype": _datatype,
    "nodeKind": _node_kind,
    "minCount": _property_count,
    "maxCount": _property_count,
    "minInclusive": _bound,
    "maxInclusive": _bound,
    "minExclusive": _bound,
    "maxExclusive": _bound,
    "minLength": _count,
    "maxLength": _count,
    "in": lambda r, s, v: set(r.items(v)),
    "hasValue": lambda r, s, v: v,
    "equals": _on_property,
    "disjoint": _on_property,
    "lessThan": _on_property,
    "lessThanOrEquals": _on_property,
    "node": lambda r, s, v: r.shape(v),
    "not": lambda r, s, v: r.shape(v),
    "and": _list,
    "or": _list,
    "xone": _list,
}


@dataclass
class _Target:
    shape: _Shape
    classes: list[Node]
    nodes: list[Node]
    subjects_of: list[Node]
    objects_of: list[Node]


class Program:
    """A compiled shapes graph; `results(data)` validates a data graph (Undecided if it cannot do so exactly)."""

    def __init__(self, targets: list[_Target]) -> None:
        self.targets = targets

    def results(self, data: Graph) -> list[Result]:
        run = _Run(TripleIndex(data))
        out: list[Result] = []
        for target in self.targets:
            focus_nodes = run.focus_nodes(target)
            run.prefetch(target.shape, focus_nodes)
            for focus in focus_nodes:
                out += run.validate(target.shape, focus)
        return out


def compile_shapes(graph: Graph) -> Program:
    """The exact checks for `graph`, or Unsupported naming the first thing they would not honour."""
    reader = _Reader(graph)
    shapes = reader.check_graph()
    targets = []
    for node in sorted(shapes, key=str):
        shape = reader.shape(node)
        g = graph
        classes = [_iri(reader, shape, c) for c in g.objects(node, SH.targetClass)]
        if RDFS.Class in set(g.objects(node, RDF.type)):
            classes.append(node)
        subjects_of = [_iri(reader, shape, p) for p in g.objects(node, SH.targetSubjectsOf)]
        objects_of = [_iri(reader, shape, p) for p in g.objects(node, SH.targetObjectsOf)]
        nodes = list(g.objects(node, SH.targetNode))
        if classes or nodes or subjects_of or objects_of:
            targets.append(_Target(shape, classes, nodes, subjects_of, objects_of))
    return Program(targets)


# -- checking ---------------------------------------------------------------------------------------------------


class _Run:
    """One validation of one data graph: its index, the class hierarchy and conformance answers, memoised."""

    def __init__(self, data: TripleIndex) -> None:
        self.data = data
        self.subclasses: dict[Node, set[Node]] = {}
        self.conforming: dict[tuple[int, Node], bool] = {}
        self._store: ox.Store | None = None
        self.rows: dict[tuple[int, Node], list[dict[str, Node]]] = {}  # (constraint, focus) -> rows, by `prefetch`

    def focus_nodes(self, target: _Target) -> list[Node]:
        found: set[Node] = set(target.nodes)
        for cls in target.classes:
            for sub in self.below(cls):
                found |= self.data.subjects(RDF.type, sub)
        for p in target.subjects_of + target.objects_of:
            for s, q, o in self.data.triples:
                if q == p:
                    found.add(s if p in target.subjects_of else o)
        return sorted(found, key=_order)

    def below(self, cls: Node) -> set[Node]:
        """`cls` and its subclasses in the data graph (rdfs:subClassOf*)."""
        if cls not in self.subclasses:
            seen, queue = {cls}, [cls]
            while queue:
                for sub in self.data.subjects(RDFS.subClassOf, queue.pop()):
                    if sub not in seen:
                        seen.add(sub)
                        queue.append(sub)
            self.subclasses[cls] = seen
        return self.subclasses[cls]

    def instance(self, node: Node, cls: Node) -> bool:
        return bool(self.data.objects(node, RDF.type) & self.below(cls))

    def conforms(self, shape: _Shape, node: Node) -> bool:
        key = (id(shape), node)
        if key not in self.conforming:
            self.conforming[key] = next(iter(self.validate(shape, node)), None) is None
        return self.conforming[key]

    def validate(self, shape: _Shape, focus: Node) -> list[Result]:
        if shape.deactivated:
            return []
        out: list[Result] = []
        path = shape.path
        values = sorted(self.data.objects(focus, path), key=_order) if path is not None else [focus]
        for component, parameter in shape.constraints:
            for value in _CHECKS[component](self, focus, values, parameter):
                out.append(Result(focus, path, value, shape.severity, shape.node, component, shape.message))
        for prop in shape.properties:  # a nested property shape starts from each value node (SHACL 4.5.3)
            for value in values:
                out += self.validate(prop, value)
        for constraint in shape.sparql:
            out += self.sparql(shape, constraint, focus)
        return out

    @property
    def store(self) -> ox.Store:
        if self._store is None:
            self._store = ox.Store()
            self._store.extend(to_quads(self.data.triples, ox.DefaultGraph()))  # type: ignore[arg-type]
        return self._store

    def prefetch(self, shape: _Shape, focus_nodes: list[Node]) -> None:
        """Run the batchable SPARQL constraints of `shape` once for all its focus nodes (a query per focus node
        costs a parse each: too slow for a patient's records)."""
        if shape.deactivated or not focus_nodes or any(isinstance(f, BNode) for f in focus_nodes):
            return
        for constraint in shape.sparql:
            if constraint.batch:
                for focus in focus_nodes:
                    self.rows[(id(constraint), focus)] = []
                query = prebind(constraint.query, {"this": focus_nodes}, source=_short(constraint.node))
                for row in self._solutions(self.store.query(query)):
                    self.rows[(id(constraint), row["this"])].append(row)

    @staticmethod
    def _solutions(rows: object) -> list[dict[str, Node]]:
        assert isinstance(rows, ox.QuerySolutions)
        names = [v.value for v in rows.variables]
        return [{name: from_ox(row[name]) for name in names if row[name] is not None} for row in rows]

    def sparql(self, shape: _Shape, constraint: _Sparql, focus: Node) -> list[Result]:
        if isinstance(focus, BNode):
            raise Undecided("a SPARQL constraint on a blank node")
        rows = self.rows.get((id(constraint), focus))
        if rows is None:
            substitution: dict[ox.Variable, Substitution] = {ox.Variable("this"): to_ox(focus)}
            rows = self._solutions(self.store.query(constraint.query, substitutions=substitution))
        out = []
        for bound in rows:
            path: Node | None = bound.get("path") if isinstance(bound.get("path"), URIRef) else shape.path
            value = bound.get("value", focus if shape.path is None else None)
            message = bound.get("message")
            if message is None and constraint.message is not None:
                message = Literal(_TEMPLATE.sub(lambda m, b=bound: str(b.get(m.group(1), "")), constraint.message))  # type: ignore[misc]
            out.append(
                Result(
                    focus,
                    path,
                    value,
                    shape.severity,
                    shape.node,
                    SH.SPARQLConstraintComponent,
                    str(message) if message is not None else None,
                )
            )
        return out


def _order(node: Node) -> tuple[str, str]:
    return (type(node).__name__, str(node))


def _family(value: Literal) -> str:
    datatype = value.datatype
    if datatype is None:
        return "string" if not value.language else "langString"
    if datatype in _NUMERIC:
        return "numeric"
    return {XSD.date: "date", XSD.dateTime: "dateTime", XSD.string: "string", XSD.boolean: "boolean"}.get(
        datatype, "other"
    )


def _compare(a: Node, b: Node) -> int | None:
    """SPARQL's ordering of two terms: -1, 0 or 1, or None when they are not comparable (a type error)."""
    if not isinstance(a, Literal) or not isinstance(b, Literal):
        return None
    family = _family(a)
    if family != _family(b) or family in ("langString", "other", "boolean"):
        if family == _family(b):
            raise Undecided(f"comparing {a.n3()} with {b.n3()}")
        return None
    if a.ill_typed or b.ill_typed:
        return None  # an ill-typed literal is a type error in SPARQL's operators
    if family in ("date", "dateTime") and (
        bool(_TIMEZONE.search(str(a))) != bool(_TIMEZONE.search(str(b)))
        or (family == "date" and _TIMEZONE.search(str(a)))
    ):
        raise Undecided(f"comparing {a.n3()} with {b.n3()}: time zones")
    x, y = (a.toPython(), b.toPython()) if family != "string" else (str(a), str(b))
    if not isinstance(x, str | int | float | Decimal | date | datetime) or type(x) is bool:
        raise Undecided(f"comparing {a.n3()} with {b.n3()}")
    if x != x or y != y:  # NaN
        return None
    return (x > y) - (x < y)  # type: ignore[operator]


def _is(order: int | None, *wanted: int) -> bool:
    return order is not None and order in wanted


def _per_value(test: Callable[[_Run, Node, Any], bool]) -> Callable[[_Run, Node, list[Node], Any], Iterator[Node]]:
    def check(run: _Run, focus: Node, values: list[Node], parameter: Any) -> Iterator[Node]:
        return (v for v in values if not test(run, v, parameter))

    return check


def _datatype_ok(value: Node, datatype: Node) -> bool:
    if not isinstance(value, Literal):
        return False
    actual = value.datatype or (RDF.langString if value.language else XSD.string)
    return actual == datatype and not value.ill_typed


def _pairs(test: Callable[[int | None], bool]) -> Callable[[_Run, Node, list[Node], Any], Iterator[Node]]:
    def check(run: _Run, focus: Node, values: list[Node], other: Any) -> Iterator[Node]:
        others = sorted(run.data.objects(focus, other), key=_order)
        return (v for v in values for w in others if not test(_compare(v, w)))

    return check


def _equals(run: _Run, focus: Node, values: list[Node], other: Any) -> Iterator[Node]:
    others = run.data.objects(focus, other)
    yield from (v for v in values if v not in others)
    yield from (w for w in sorted(others, key=_order) if w not in values)


def _count_check(ok: Callable[[int, int], bool]) -> Callable[[_Run, Node, list[Node], Any], Iterator[None]]:
    def check(run: _Run, focus: Node, values: list[Node], bound: Any) -> Iterator[None]:
        return iter(() if ok(len(values), bound) else (None,))

    return check


def _has_value(run: _Run, focus: Node, values: list[Node], wanted: Any) -> Iterator[None]:
    return iter(() if wanted in values else (None,))


def _length(ok: Callable[[int, int], bool]) -> Callable[[_Run, Node, Any], bool]:
    return lambda run, v, n: not isinstance(v, BNode) and ok(len(str(v)), n)


_Check = Callable[[_Run, Node, list[Node], Any], Iterator[Node | None]]
_CHECKS: dict[URIRef, _Check] = {
    _component("class"): _per_value(lambda run, v, c: run.instance(v, c)),
    _component("datatype"): _per_value(lambda run, v, d: _datatype_ok(v, d)),
    _component("nodeKind"): _per_value(lambda run, v, kinds: isinstance(v, kinds)),
    _component("minCount"): _count_check(lambda n, bound: n >= bound),
    _component("maxCount"): _count_check(lambda n, bound: n <= bound),
    _component("minInclusive"): _per_value(lambda run, v, b: _is(_compare(v, b), 0, 1)),
    _component("maxInclusive"): _per_value(lambda run, v, b: _is(_compare(v, b), 0, -1)),
    _component("minExclusive"): _per_value(lambda run, v, b: _is(_compare(v, b), 1)),
    _component("maxExclusive"): _per_value(lambda run, v, b: _is(_compare(v, b), -1)),
    _component("minLength"): _per_value(_length(lambda n, bound: n >= bound)),
    _component("maxLength"): _per_value(_length(lambda n, bound: n <= bound)),
    _component("in"): _per_value(lambda run, v, members: v in members),
    _component("hasValue"): _has_value,
    _component("equals"): _equals,
    _component("disjoint"): lambda run, f, values, p: (v for v in values if v in run.data.objects(f, p)),
    _component("lessThan"): _pairs(lambda order: _is(order, -1)),
    _component("lessThanOrEquals"): _pairs(lambda order: _is(order, -1, 0)),
    _component("node"): _per_value(lambda run, v, shape: run.conforms(shape, v)),
    _component("not"): _per_value(lambda run, v, shape: not run.conforms(shape, v)),
    _component("and"): _per_value(lambda run, v, shapes: all(run.conforms(s, v) for s in shapes)),
    _component("or"): _per_value(lambda run, v, shapes: any(run.conforms(s, v) for s in shapes)),
    _component("xone"): _per_value(lambda run, v, shapes: sum(run.conforms(s, v) for s in shapes) == 1),
}


def _short(node: object) -> str:
    text = str(node)
    for prefix, ns in (("sh:", str(SH)), ("rdf:", str(RDF)), ("rdfs:", str(RDFS))):
        if text.startswith(ns):
            return prefix + text[len(ns) :]
    return f"_:{text}" if isinstance(node, BNode) else text
