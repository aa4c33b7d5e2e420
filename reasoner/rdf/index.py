"""A set of triples indexed for the lookups the engines make (subject-predicate, predicate-object)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from rdflib.term import Node

__all__ = ["Triple", "TripleIndex"]

Triple = tuple[Node, Node, Node]


class TripleIndex:
    """A set of triples with subject-predicate and predicate-object lookups."""

    def __init__(self, triples: Iterable[Triple] = ()) -> None:
        self.triples: set[Triple] = set()
        self._sp: dict[tuple[Node, Node], set[Node]] = defaultdict(set)
        self._po: dict[tuple[Node, Node], set[Node]] = defaultdict(set)
        for triple in triples:
            self.add(triple)

    def __contains__(self, triple: object) -> bool:
        return triple in self.triples

    def add(self, triple: Triple) -> None:
        s, p, o = triple
        self.triples.add(triple)
        self._sp[(s, p)].add(o)
        self._po[(p, o)].add(s)

    def objects(self, s: Node, p: Node) -> set[Node]:
        return self._sp.get((s, p), set())

    def subjects(self, p: Node, o: Node) -> set[Node]:
        return self._po.get((p, o), set())
