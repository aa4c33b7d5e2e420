"""SHACL validation that is never silently wrong: exact compiled checks where they apply, pySHACL everywhere else.

`CompiledShapes(graph)` decides once, when it is built, how the shapes graph is validated. When every triple of
the graph that can carry SHACL meaning is one reasoner.engine.shapes_compiled implements exactly, the compiled
checks run (well under a millisecond per patient, SPARQL constraints in Oxigraph); otherwise `reason` says why and
every validation goes to pySHACL, the design's validator (hundreds of milliseconds). A data graph the compiled
checks cannot decide exactly (see `Undecided`) also goes to pySHACL. Both ways give the same `Result`s, and the
same `Violation`s for the patient. Before either, every SPARQL query in the shapes graph passes the query guard:
nothing is fetched at run time, on either path. tests/test_shacl_w3c.py runs the W3C SHACL test suite through this
class; tests/test_shapes_differential.py compares the two paths on patients.
"""

from __future__ import annotations

import threading

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from reasoner.engine.shapes_compiled import Program, Result, Undecided, Unsupported, compile_shapes
from reasoner.errors import GuidelineError, QueryError, Violation
from reasoner.namespaces import GR, RDF, RDFS, SH
from reasoner.rdf.bindings import _tokens
from reasoner.rdf.sparql_guard import guard

__all__ = ["CompiledShapes", "Result", "display_name", "path_term", "violation"]

_QUERY_TERMS = (SH.select, SH.ask, SH.construct, SH.update)
_PYSHACL_LOCK = threading.Lock()  # pySHACL mutates the shapes graph it is given; one validation at a time


class CompiledShapes:
    """A shapes graph, ready to validate data graphs: `check` for violations, `results` for SHACL results."""

    def __init__(self, shapes: Graph, *, source: str) -> None:
        self.source = source
        self._graph = shapes
        for node, predicate, query in shapes:
            if predicate in _QUERY_TERMS:
                try:
                    guard(str(query))
                    _check_prebinding(str(query), ask=predicate == SH.ask)
                except QueryError as exc:
                    raise GuidelineError(f"{source}: SPARQL query of {display_name(node)}: {exc}") from exc
        self.program: Program | None  # None: pySHACL validates this graph, for `reason`
        try:
            self.program, self.reason = compile_shapes(shapes), None
        except Unsupported as exc:
            self.program, self.reason = None, str(exc)

    @property
    def compiled(self) -> bool:
        """True when the compiled checks validate this shapes graph; False when pySHACL does (see `reason`)."""
        return self.program is not None

    def results(self, data: Graph) -> list[Result]:
        """Every SHACL validation result of `data` (empty when it conforms)."""
        if self.program is not None:
            try:
                return self.program.results(data)
            except Undecided:
                pass
        return self.pyshacl_results(data)

    def check(self, data: Graph) -> list[Violation]:
        return [violation(r) for r in self.results(data)]

    def pyshacl_results(self, data: Graph) -> list[Result]:
        """The results pySHACL gives (the path `results` takes outside the compiled subset)."""
        from pyshacl import validate  # imported here: half a second, and only graphs outside the compiled subset

        shapes = Graph()
        for triple in self._graph:
            shapes.add(triple)
        with _PYSHACL_LOCK:
            try:
                _, report, _ = validate(data, shacl_graph=shapes, advanced=True, allow_warnings=True)
            except Exception as exc:  # pySHACL's errors share no base class; each names the shape at fault
                raise GuidelineError(f"{self.source}: pySHACL cannot validate with these shapes: {exc}") from exc
        assert isinstance(report, Graph)
        return [
            self._result(report, r)
            for top in report.subjects(RDF.type, SH.ValidationReport)
            for r in report.objects(top, SH.result)
        ]

    def _result(self, report: Graph, node: Node) -> Result:
        shape = report.value(node, SH.sourceShape)
        component = report.value(node, SH.sourceConstraintComponent)
        assert shape is not None and isinstance(component, URIRef)
        constraint = report.value(node, SH.sourceConstraint)
        if component == SH.SPARQLConstraintComponent and constraint is not None:
            says = self._graph.value(constraint, SH.message) is not None or "message" in str(
                self._graph.value(constraint, SH.select)
            )
            # pySHACL adds the shape's own sh:message to a SPARQL result; the constraint's message is the one meant
            shape_says = {str(m) for m in self._graph.objects(shape, SH.message)}
            found = sorted({str(m) for m in report.objects(node, SH.resultMessage)} - shape_says) if says else []
            message = found[0] if found else None
        else:
            own = sorted(str(m) for m in self._graph.objects(shape, SH.message))
            message = own[0] if own else None
        path = report.value(node, SH.resultPath)
        return Result(
            report.value(node, SH.focusNode),  # type: ignore[arg-type]
            path_term(report, path) if path is not None else None,
            report.value(node, SH.value),
            report.value(node, SH.resultSeverity) or SH.Violation,
            shape,
            component,
            message,
        )


def _check_prebinding(query: str, *, ask: bool) -> None:
    """SHACL 5.2.1: a query with pre-bound variables may not use MINUS or VALUES, may not assign a pre-bound
    variable with AS, and each subquery must project $this; a processor reports a failure otherwise."""
    tokens = [(kind, value) for kind, value, _ in _tokens(query) if kind not in ("space", "comment")]
    prebound = {"this", "value"} if ask else {"this"}
    selects = 0
    for i, (kind, value) in enumerate(tokens):
        word = value.upper() if kind == "word" else ""
        if word in ("MINUS", "VALUES"):
            raise QueryError(f"{word} cannot be used with pre-bound variables (SHACL 5.2.1)")
        if word == "AS" and i + 1 < len(tokens) and tokens[i + 1][1][1:] in prebound:
            raise QueryError(f"a pre-bound variable cannot be assigned: AS {tokens[i + 1][1]} (SHACL 5.2.1)")
        if word == "SELECT":
            selects += 1
            if selects > 1 or ask:
                projection = []
                for _, value2 in tokens[i + 1 :]:
                    if value2.upper() == "WHERE" or value2 == "{":
                        break
                    projection.append(value2)
                if not any(v[1:] == "this" for v in projection if v[:1] in "?$"):
                    raise QueryError("a subquery must project $this (SHACL 5.2.1)")


_PATH_KINDS = {
    SH.inversePath: "^",
    SH.alternativePath: "|",
    SH.zeroOrMorePath: "*",
    SH.oneOrMorePath: "+",
    SH.zeroOrOnePath: "?",
}


def path_term(graph: Graph, node: Node) -> Node | tuple[object, ...]:
    """A SHACL property path as a value comparable across graphs: an IRI, or (operator, operands...) with "/" for
    a sequence (SHACL 2.3.1)."""
    if not isinstance(node, BNode):
        return node
    if graph.value(node, RDF.first) is not None:
        return ("/", *(path_term(graph, m) for m in Collection(graph, node)))
    for predicate, operator in _PATH_KINDS.items():
        inner = graph.value(node, predicate)
        if inner is not None:
            if operator == "|":
                return (operator, *(path_term(graph, m) for m in Collection(graph, inner)))
            return (operator, path_term(graph, inner))
    return node


def violation(result: Result) -> Violation:
    """The patient-facing form of a result: the node at fault, the property, and the shape's message."""
    text = result.message or f"breaks {display_name(result.component)} of {display_name(result.shape)}"
    value = result.value
    if value is not None and value != result.focus and isinstance(value, URIRef | Literal):
        text = f"{text} (got {value.n3()})"
    path = _show_path(result.path) if result.path is not None else None
    return Violation(display_name(result.focus), path, text)


def _show_path(path: object) -> str:
    if not isinstance(path, tuple):
        return display_name(path)
    operator: str = path[0]
    operands = path[1:]
    if operator in ("/", "|"):
        return "(" + operator.join(_show_path(o) for o in operands) + ")"
    return f"^{_show_path(operands[0])}" if operator == "^" else f"({_show_path(operands[0])}){operator}"


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
