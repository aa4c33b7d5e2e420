"""The bridge to Oxigraph: rdflib <-> pyoxigraph terms, and pre-binding query variables.

pyoxigraph substitutes only projected variables, while the rule files use ?asOf, ?patient and ?minRank anywhere,
UNION branches and subqueries included (rdflib's initBindings). `Bindable` gives that meaning by replacing the
variable with the constant in the text. (Binding a variable to many values at once is reasoner.rdf.bindings.prebind.)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TypeVar

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef
from rdflib.term import Node

__all__ = ["Bindable", "from_ox", "to_ox", "to_quads"]


# Term conversions are memoised: most terms (the guideline's classes, properties and individuals) recur in every
# patient. Bounded, since patient-specific IRIs recur only within one evaluation.
_CACHE_LIMIT = 50_000
K = TypeVar("K")
V = TypeVar("V")
_to_ox_cache: dict[Node, ox.NamedNode | ox.BlankNode | ox.Literal] = {}
_from_ox_cache: dict[object, Node] = {}


def to_ox(term: Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    return _memo(_to_ox_cache, term, _convert_to_ox)


def from_ox(term: object) -> Node:
    return _memo(_from_ox_cache, term, _convert_from_ox)


def _memo(cache: dict[K, V], key: K, convert: Callable[[K], V]) -> V:
    found = cache.get(key)
    if found is None:
        if len(cache) > _CACHE_LIMIT:
            cache.clear()
        found = cache[key] = convert(key)
    return found


def _convert_to_ox(term: Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)) if term.datatype else None)
    raise TypeError(f"not an RDF term: {term!r}")


def _convert_from_ox(term: object) -> Node:
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        if datatype == "http://www.w3.org/2001/XMLSchema#string":
            return Literal(term.value)
        return Literal(term.value, datatype=URIRef(datatype))
    raise TypeError(f"not an RDF term: {term!r}")


def to_quads(triples: Iterable[tuple[Node, Node, Node]], graph: ox.NamedNode) -> list[ox.Quad]:
    return [ox.Quad(to_ox(s), to_ox(p), to_ox(o), graph) for s, p, o in triples]  # type: ignore[arg-type]


class Bindable:
    """A query with one variable bound by value at each run: split once where the variable occurs, so that binding
    it (every occurrence replaced by an IRI or literal) is a join rather than a regular-expression pass."""

    def __init__(self, query: str, name: str) -> None:
        self._parts = tuple(re.split(rf"[?$]{re.escape(name)}\b", query))

    def bind(self, value: Node) -> str:
        return _n3(value).join(self._parts)


def _n3(term: Node) -> str:
    if isinstance(term, BNode):
        raise TypeError("blank nodes cannot be bound in a query")
    return term.n3()
