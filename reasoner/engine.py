"""Engines: feature rules -> OWL 2 RL closure -> the generic recommendation rules, for one validated patient.

`compiled` (the default) reasons over the guideline compiled once (reasoner.owl2rl, an Oxigraph store holding the
guideline); `owlrl` is the reference semantics, owlrl's full closure of guideline + patient in rdflib, about a
thousand times slower. Both run the same query files; tests/test_engine_differential.py holds them equal.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any, Protocol, cast

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from reasoner.guideline import Guideline
from reasoner.namespaces import XSD
from reasoner.owl2rl import TBox, Triple, TripleIndex, expand_with_owlrl
from reasoner.oxi import from_ox, substitute, to_quads
from reasoner.patient import Patient
from reasoner.queries import feature_rules, rule_query

__all__ = ["ENGINES", "CompiledEngine", "Engine", "Evaluation", "Facts", "OwlrlEngine"]

_RULES = ("recommend", "suppressed")


class _Source(Protocol):
    def __contains__(self, triple: Any, /) -> bool: ...
    def objects(self, subject: Node, predicate: Node) -> Iterable[Node]: ...


class Facts:
    """A read-only view over several triple sources: the patient's closed facts and the closed guideline."""

    def __init__(self, *sources: _Source) -> None:
        self.sources = sources

    def __contains__(self, triple: object) -> bool:
        return any(triple in s for s in self.sources)

    def objects(self, subject: Node, predicate: Node) -> Iterator[Node]:
        seen: set[Node] = set()
        for source in self.sources:
            for o in source.objects(subject, predicate):
                if o not in seen:
                    seen.add(o)
                    yield o

    def value(self, subject: Node, predicate: Node) -> Node | None:
        return next(self.objects(subject, predicate), None)


@dataclass
class Evaluation:
    """What an engine found: recommendation IRI -> eligibility classes (applied) or blockers (blocked)."""

    applied: dict[str, list[str]]
    blocked: dict[str, list[str]]
    facts: Facts
    derived: Graph


class Engine(Protocol):
    name: str

    def evaluate(
        self, gl: Guideline, patient: Patient, *, as_of: date, min_rank: int, jurisdiction: URIRef
    ) -> Evaluation:
        """Derive features, close under OWL 2 RL and run the recommendation rules for one valid patient.

        `jurisdiction` is gr:US, gr:UK, or gr:International for both."""


def _grouped(rows: Iterable[tuple[Node, Node]]) -> dict[str, list[str]]:
    out: dict[str, set[str]] = {}
    for rec, related in rows:
        out.setdefault(str(rec), set()).add(str(related))
    return {k: sorted(v) for k, v in out.items()}


class OwlrlEngine:
    """Reference engine: everything in one rdflib graph, owlrl's full OWL 2 RL closure over it."""

    name = "owlrl"

    def evaluate(
        self, gl: Guideline, patient: Patient, *, as_of: date, min_rank: int, jurisdiction: URIRef
    ) -> Evaluation:
        work, derived = self.features(gl, patient, as_of=as_of)
        self.close(work)
        applied, blocked = self.rules(work, patient.iri, min_rank=min_rank, jurisdiction=jurisdiction)
        return Evaluation(applied, blocked, Facts(cast(_Source, work)), derived)

    @staticmethod
    def features(gl: Guideline, patient: Patient, *, as_of: date) -> tuple[Graph, Graph]:
        """Guideline + patient + what the feature rules derive, and the derived triples alone."""
        work = Graph()
        work += gl.graph
        work += patient.graph
        derived = Graph()
        binding = {"asOf": Literal(as_of.isoformat(), datatype=XSD.date)}
        for rule in feature_rules():
            rows = cast(Iterable[Triple], work.query(rule.prepared, initBindings=binding))
            for triple in [t for t in rows if t not in work]:
                work.add(triple)
                derived.add(triple)
        return work, derived

    close = staticmethod(expand_with_owlrl)

    @staticmethod
    def rules(
        work: Graph, patient: URIRef, *, min_rank: int, jurisdiction: URIRef
    ) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
        bindings = {"patient": patient, "minRank": Literal(min_rank), "jurisdiction": jurisdiction}
        applied, blocked = (
            _grouped(cast(Iterable[tuple[Node, Node]], work.query(rule_query(r).prepared, initBindings=bindings)))
            for r in _RULES
        )
        return applied, blocked


class _Compiled:
    """A guideline compiled for the fast path: T-box tables and a store holding the guideline's two graphs."""

    ASSERTED = ox.NamedNode("urn:guideline-reasoner:asserted")
    INFERRED = ox.NamedNode("urn:guideline-reasoner:inferred")

    def __init__(self, gl: Guideline) -> None:
        TBox.refuse_unsupported(gl.graph, where=f"guideline {gl.iri} ({gl.version})")
        closure = gl.closure()
        self.tbox = TBox(closure)
        self.guideline_facts = TripleIndex(closure)
        self.store = ox.Store()
        self.store.extend(to_quads(gl.graph, self.ASSERTED))
        self.store.extend(to_quads(gl.inferred, self.INFERRED))
        self.guideline_asserted = set(gl.graph)


@cache
def _compiled(gl: Guideline) -> _Compiled:
    return _Compiled(gl)


class CompiledEngine:
    """Fast path: features and rules in Oxigraph over the precompiled guideline; OWL 2 RL by reasoner.owl2rl."""

    name = "compiled"
    _lock = threading.Lock()

    def compile(self, gl: Guideline) -> None:
        """Compile `gl` now rather than on its first patient (refuses unsupported OWL constructs)."""
        with self._lock:
            _compiled(gl)

    def evaluate(
        self, gl: Guideline, patient: Patient, *, as_of: date, min_rank: int, jurisdiction: URIRef
    ) -> Evaluation:
        with self._lock:
            c = _compiled(gl)
        work = ox.NamedNode(f"urn:uuid:{uuid.uuid4()}")  # one graph per evaluation: concurrent calls stay apart
        store = c.store
        try:
            asserted = set(patient.graph)
            store.extend(to_quads(asserted, work))
            derived: set[Triple] = set()
            as_of_literal = Literal(as_of.isoformat(), datatype=XSD.date)
            for rule in feature_rules():
                query = substitute(rule.text, {"asOf": as_of_literal})
                made = cast(Iterable[ox.Triple], store.query(query, default_graph=[c.ASSERTED, work]))
                triples = {(from_ox(t.subject), from_ox(t.predicate), from_ox(t.object)) for t in made}
                new = [t for t in triples if t not in asserted and t not in derived and t not in c.guideline_asserted]
                store.extend(to_quads(new, work))
                derived.update(new)
            abox = c.tbox.close(asserted | derived)
            store.extend(to_quads([t for t in abox.triples if t not in asserted and t not in derived], work))
            bindings = {"patient": patient.iri, "minRank": Literal(min_rank), "jurisdiction": jurisdiction}
            found = []
            for name in _RULES:
                rule = rule_query(name)
                rows = store.query(substitute(rule.text, bindings), default_graph=[c.ASSERTED, c.INFERRED, work])
                found.append(_grouped((from_ox(r[0]), from_ox(r[1])) for r in cast(Iterable[ox.QuerySolution], rows)))
        finally:
            store.remove_graph(work)
        derived_graph = Graph()
        for triple in derived:
            derived_graph.add(triple)
        return Evaluation(found[0], found[1], Facts(abox, c.guideline_facts), derived_graph)


ENGINES: dict[str, Engine] = {"compiled": CompiledEngine(), "owlrl": OwlrlEngine()}
