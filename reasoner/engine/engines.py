"""Engines: feature rules -> OWL 2 RL closure -> the generic recommendation rules, for one validated patient.

`compiled` (the default) reasons over the guideline compiled once (reasoner.engine.owl2rl, an Oxigraph store holding the
guideline); `owlrl` is the reference semantics, owlrl's full closure of guideline + patient in rdflib, about a
thousand times slower. Both run the same query files; tests/test_engine_differential.py holds them equal.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any, Protocol, cast

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from reasoner.engine.consistency import Checks, Conflict
from reasoner.engine.owl2rl import TBox
from reasoner.engine.rule_table import RuleTable
from reasoner.errors import GuidelineError, InconsistentPatientError, ReasonerError, Violation
from reasoner.input.patient import Patient
from reasoner.knowledge.closure import expand_with_owlrl, owlrl_errors
from reasoner.knowledge.guideline import Guideline
from reasoner.knowledge.queries import rule_query
from reasoner.namespaces import GR, RDF, XSD
from reasoner.rdf.index import Triple
from reasoner.rdf.numbers import canonical_triples
from reasoner.rdf.oxi import from_ox, to_quads

__all__ = ["ENGINES", "CompiledEngine", "Engine", "Evaluation", "Facts", "OwlrlEngine", "rules_of"]

_RULES = ("recommend", "suppressed")
RECYCLE_AFTER = 10_000  # patients evaluated in one in-memory store before a fresh one replaces it (see store_for)
_LINKS = (GR.hasFinding, GR.hasExposure, GR.hasMeasurement)


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

    def evaluate_many(
        self, gl: Guideline, patients: Sequence[Patient], *, as_of: date, min_rank: int, jurisdiction: URIRef
    ) -> list[Evaluation]:
        """Derive features, close under OWL 2 RL and run the recommendation rules for valid patients, all
        evaluated at `as_of`. `jurisdiction` is gr:US, gr:UK, or gr:International for both."""


def _grouped(rows: Iterable[tuple[Node, Node, Node]]) -> dict[str, dict[str, list[str]]]:
    """Rule rows (patient, recommendation, related IRI) -> patient -> recommendation -> sorted related IRIs."""
    out: dict[str, dict[str, set[str]]] = {}
    for patient, rec, related in rows:
        out.setdefault(str(patient), {}).setdefault(str(rec), set()).add(str(related))
    return {p: {r: sorted(v) for r, v in recs.items()} for p, recs in out.items()}


class OwlrlEngine:
    """Reference engine: everything in one rdflib graph, owlrl's full OWL 2 RL closure over it."""

    name = "owlrl"

    def evaluate_many(
        self, gl: Guideline, patients: Sequence[Patient], *, as_of: date, min_rank: int, jurisdiction: URIRef
    ) -> list[Evaluation]:
        out = []
        for patient in patients:  # one closure per patient: this is the naive baseline
            work, derived = self.features(gl, patient, as_of=as_of)
            self.close(work)
            # owlrl re-creates literals, which rdflib may normalise: check the patient's own triples as given too
            conflicts = Checks(work).all_of({*work, *patient.graph}, work.__contains__)
            _refuse_inconsistent([patient.source], [*conflicts, *(f"owlrl: {e}" for e in owlrl_errors(work))])
            applied, blocked = self.rules(work, patient.iri, min_rank=min_rank, jurisdiction=jurisdiction)
            out.append(Evaluation(applied, blocked, Facts(cast(_Source, work)), derived))
        return out

    @staticmethod
    def features(gl: Guideline, patient: Patient, *, as_of: date) -> tuple[Graph, Graph]:
        """Guideline + patient + what the feature rules derive, and the derived triples alone."""
        work = Graph()
        work += gl.graph
        work += canonical_triples(patient.graph)  # numbers in the form both engines compare alike
        derived = Graph()
        binding = {"asOf": Literal(as_of.isoformat(), datatype=XSD.date)}
        for rule in gl.feature_rules:
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
            _grouped(
                cast(Iterable[tuple[Node, Node, Node]], work.query(rule_query(r).prepared, initBindings=bindings))
            ).get(str(patient), {})
            for r in _RULES
        )
        return applied, blocked


class _Compiled:
    """A guideline compiled for the fast path: T-box and rule tables, and a store holding the asserted guideline
    (all the feature rules read)."""

    ASSERTED = ox.NamedNode("urn:guideline-reasoner:asserted")

    def __init__(self, gl: Guideline) -> None:
        TBox.refuse_unsupported(gl.graph, where=f"guideline {gl.iri} ({gl.version})")
        closure = gl.closure()
        self.tbox = TBox(closure)
        if self.tbox.guideline_conflicts:
            problems = "; ".join(self.tbox.guideline_conflicts[:5])
            raise GuidelineError(f"guideline {gl.iri} ({gl.version}) is inconsistent under OWL 2 RL: {problems}")
        self.guideline_facts = self.tbox.closure  # the same closure, already indexed by the T-box
        self._guideline_quads = to_quads(gl.graph, self.ASSERTED)
        self.store = self._fresh_store()
        self.patients_seen = 0
        self.guideline_asserted = set(gl.graph)
        self.rules = RuleTable(self.tbox.closure)

    def _fresh_store(self) -> ox.Store:
        store = ox.Store()
        store.extend(self._guideline_quads)
        return store

    def store_for(self, patients: int) -> ox.Store:
        """The store to evaluate `patients` more patients in. An in-memory Oxigraph store keeps some memory of every
        graph removed from it (about 25 kB a patient), so a long batch would grow without bound: start afresh every
        RECYCLE_AFTER patients. Evaluations under way keep the store they started with."""
        self.patients_seen += patients
        if self.patients_seen > RECYCLE_AFTER:
            self.store, self.patients_seen = self._fresh_store(), patients
        return self.store


@cache
def _compiled(gl: Guideline) -> _Compiled:
    return _Compiled(gl)


@cache
def rules_of(gl: Guideline) -> RuleTable:
    """The recommendation rules' tables over `gl`'s closure, for reading what they admit apart from an evaluation
    (whichever engine evaluated it)."""
    return RuleTable(gl.closure_index())


class CompiledEngine:
    """Fast path: feature rules in Oxigraph over the precompiled guideline, OWL 2 RL by reasoner.engine.owl2rl, and the
    recommendation rules as tables (reasoner.engine.rule_table)."""

    name = "compiled"
    _lock = threading.Lock()

    def compile(self, gl: Guideline) -> None:
        """Compile `gl` now rather than on its first patient (refuses unsupported OWL constructs)."""
        with self._lock:
            _compiled(gl)

    def evaluate_many(
        self, gl: Guideline, patients: Sequence[Patient], *, as_of: date, min_rank: int, jurisdiction: URIRef
    ) -> list[Evaluation]:
        """All patients go into one named graph and each query runs once for all of them: the patients share no
        node but the guideline's, and every rule is written per patient, so the answers are those of one patient
        at a time (the differential test checks it) at a fraction of the per-query cost."""
        with self._lock:
            c = _compiled(gl)
            store = c.store_for(len(patients))
        owner = _Owners(patients)
        work = ox.NamedNode(f"urn:uuid:{uuid.uuid4()}")  # one graph per call: concurrent calls stay apart
        try:
            asserted = set(canonical_triples(t for p in patients for t in p.graph))  # as OwlrlEngine.features
            store.extend(to_quads(asserted, work))
            derived: set[Triple] = set()
            as_of_literal = Literal(as_of.isoformat(), datatype=XSD.date)
            for rule in gl.feature_rules:
                query = rule.at_date.bind(as_of_literal)
                made = cast(Iterable[ox.Triple], store.query(query, default_graph=[c.ASSERTED, work]))
                triples = {(from_ox(t.subject), from_ox(t.predicate), from_ox(t.object)) for t in made}
                new = [t for t in triples if t not in asserted and t not in derived and t not in c.guideline_asserted]
                store.extend(to_quads(new, work))
                derived.update(new)
            abox = c.tbox.close(asserted | derived)
        finally:
            store.remove_graph(work)
        facts = Facts(abox, c.guideline_facts)
        per_patient = owner.split(derived, source="feature rules")
        owner.refuse_inconsistent(patients, c.tbox.conflicts(abox))
        out = []
        for i, p in enumerate(patients):
            classes = {str(t) for t in abox.objects(p.iri, RDF.type)}
            applied, blocked = c.rules.evaluate(classes, min_rank=min_rank, jurisdiction=str(jurisdiction))
            out.append(Evaluation(applied, blocked, facts, per_patient[i]))
        return out


class _Owners:
    """Which patient a node belongs to: the patient itself and the records it links to."""

    def __init__(self, patients: Sequence[Patient]) -> None:
        self.of: dict[Node, int] = {}
        for i, p in enumerate(patients):
            self.of[p.iri] = i
            for link in _LINKS:
                for record in p.graph.objects(p.iri, link):
                    self.of[record] = i

    def refuse_inconsistent(self, patients: Sequence[Patient], conflicts: list[Conflict]) -> None:
        """Refuse the patients `conflicts` are about (all of them where a conflict names no patient's node)."""
        involved = {self.of[n] for c in conflicts for fact in c.facts for n in (fact[0], fact[2]) if n in self.of}
        at_fault = sorted(involved) if involved or not conflicts else range(len(patients))
        _refuse_inconsistent([patients[i].source for i in at_fault], conflicts)

    def split(self, triples: set[Triple], *, source: str) -> list[Graph]:
        count = 1 + max(self.of.values(), default=0)
        out = [Graph() for _ in range(count)]
        links = [t for t in triples if t[1] in _LINKS and t[0] in self.of]
        for s, _, o in links:  # derived records (explicit unknowns) belong to the patient that links them
            self.of.setdefault(o, self.of[s])
        for triple in triples:
            index = self.of.get(triple[0])
            if index is None:
                raise ReasonerError(f"{source} derived {triple} about a node that belongs to no patient")
            out[index].add(triple)
        return out


def _refuse_inconsistent(sources: list[str], conflicts: Sequence[Conflict | str]) -> None:
    """Raise InconsistentPatientError if OWL 2 RL found `conflicts`: nothing is derived from such a patient."""
    if conflicts:
        violations = [
            Violation(str(c.facts[0][0]), None, str(c)) if isinstance(c, Conflict) else Violation("OWL 2 RL", None, c)
            for c in conflicts
        ]
        raise InconsistentPatientError(", ".join(sources), violations)


ENGINES: dict[str, Engine] = {"compiled": CompiledEngine(), "owlrl": OwlrlEngine()}
