"""The OWL 2 RL/RDF rules whose conclusion is `false` (W3C OWL 2 Profiles, tables 4-8), over closed facts.

cls-nothing2, cax-dw, cax-adc, cls-com, prp-irp, prp-asyp, prp-pdw, prp-adp, prp-npa1/2, eq-diff1/2/3 and
dt-not-type (a literal ill-typed for its own datatype, or outside a datatype range of its property). Every check is
triggered by one triple and looks its partner up, so checking the patient's closed triples against the closed
guideline finds every conflict that involves a patient fact; the guideline's own conflicts are checked once, at
compile time. Both engines run these checks on their closures (the compiled engine on the patient's triples, the
owlrl engine on the whole graph), so they report the same conflicts; owlrl's own error list is kept as well.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import combinations

from rdflib import Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from reasoner.engine.datatypes import RANGE_DATATYPES, in_value_space, value_key, well_typed
from reasoner.namespaces import OWL, RDF, RDFS
from reasoner.rdf.index import Triple

__all__ = ["Checks", "Conflict"]


@dataclass(frozen=True)
class Conflict:
    """One rule with conclusion `false` that fired, and the facts it fired on."""

    rule: str
    facts: tuple[Triple, ...]
    detail: str = ""

    def __str__(self) -> str:
        facts = " and ".join(" ".join(term.n3() for term in fact) for fact in self.facts)
        return f"{facts} ({self.rule}{': ' + self.detail if self.detail else ''})"


_TYPE, _NOTHING, _DIFFERENT = RDF.type, OWL.Nothing, OWL.differentFrom  # hoisted: namespace lookups are slow


def _key(node: Node) -> object:
    return value_key(node) if isinstance(node, Literal) else node


class Checks:
    """Lookup tables for the `false` rules over a closed guideline graph."""

    def __init__(self, closure: Graph) -> None:
        def pairs(p: Node) -> list[tuple[Node, Node]]:
            return list(closure.subject_objects(p))

        def members(owner: Node) -> list[Node]:
            return [m for head in closure.objects(owner, OWL.members) for m in Collection(closure, head)]

        self.disjoint: dict[Node, list[tuple[Node, str]]] = defaultdict(list)
        self.disjoint_props: dict[Node, list[tuple[Node, str]]] = defaultdict(list)
        for pairs_of, table, rule in (
            (pairs(OWL.disjointWith), self.disjoint, "cax-dw"),
            (pairs(OWL.complementOf), self.disjoint, "cls-com"),
            (pairs(OWL.propertyDisjointWith), self.disjoint_props, "prp-pdw"),
        ):
            for a, b in pairs_of:
                table[a].append((b, rule))
                table[b].append((a, rule))
        for kind, table, rule in (
            (OWL.AllDisjointClasses, self.disjoint, "cax-adc"),
            (OWL.AllDisjointProperties, self.disjoint_props, "prp-adp"),
        ):
            for owner in closure.subjects(RDF.type, kind):
                for a, b in combinations(members(owner), 2):
                    table[a].append((b, rule))
                    table[b].append((a, rule))
        self.irreflexive = set(closure.subjects(RDF.type, OWL.IrreflexiveProperty))
        self.asymmetric = set(closure.subjects(RDF.type, OWL.AsymmetricProperty))
        # prp-npa1/2: (source, property) -> targets (data values compared by value, dt-eq)
        self.negative: dict[tuple[Node, Node], list[tuple[object, Node]]] = defaultdict(list)
        for npa, source in pairs(OWL.sourceIndividual):
            for prop in closure.objects(npa, OWL.assertionProperty):
                for target in [*closure.objects(npa, OWL.targetIndividual), *closure.objects(npa, OWL.targetValue)]:
                    self.negative[(source, prop)].append((_key(target), npa))
        self.data_ranges: dict[Node, list[URIRef]] = defaultdict(list)
        for prop, datatype in pairs(RDFS.range):
            if isinstance(datatype, URIRef) and datatype in RANGE_DATATYPES:
                self.data_ranges[prop].append(datatype)
        # eq-diff2/3 with no owl:sameAs but eq-ref's: a member listed twice (equal data values count, dt-eq)
        self.static: list[Conflict] = []
        for owner in closure.subjects(RDF.type, OWL.AllDifferent):
            listed = [m for p in (OWL.members, OWL.distinctMembers) for h in closure.objects(owner, p)
                      for m in Collection(closure, h)]  # fmt: skip
            for a, b in combinations(listed, 2):
                if _key(a) == _key(b):
                    self.static.append(Conflict("eq-diff2/3", ((owner, RDF.type, OWL.AllDifferent),), f"{a} twice"))
        # What can trigger a check, so that `all_of` skips the other triples: a literal (dt-not-type), a typing with a
        # class that has a check, or a predicate that has one.
        self._trigger_classes = frozenset((*self.disjoint, OWL.Nothing))
        negated = (p for _, p in self.negative)
        self._trigger_predicates = frozenset(
            (OWL.differentFrom, *self.irreflexive, *self.asymmetric, *self.disjoint_props, *negated)
        )

    def of(self, triple: Triple, has: Callable[[Triple], bool]) -> list[Conflict]:
        """The conflicts `triple` takes part in, its partners looked up with `has`."""
        s, p, o = triple
        out: list[Conflict] = []
        if p == _TYPE:
            if o == _NOTHING:
                out.append(Conflict("cls-nothing2", (triple,)))
            for other, rule in self.disjoint.get(o, ()):
                if has((s, _TYPE, other)):
                    out.append(Conflict(rule, (triple, (s, _TYPE, other))))
        if p == _DIFFERENT and s == o:
            out.append(Conflict("eq-diff1", (triple,), "owl:sameAs is reflexive (eq-ref)"))
        if s == o and p in self.irreflexive:
            out.append(Conflict("prp-irp", (triple,)))
        if p in self.asymmetric and has((o, p, s)):
            out.append(Conflict("prp-asyp", (triple, (o, p, s))))
        for other, rule in self.disjoint_props.get(p, ()):
            if has((s, other, o)):
                out.append(Conflict(rule, (triple, (s, other, o))))
        negative = self.negative.get((s, p))
        if negative:
            key = _key(o)
            out += [Conflict("prp-npa1/2", (triple,), f"negated by {npa}") for target, npa in negative if target == key]
        if isinstance(o, Literal):
            if not well_typed(o):
                out.append(Conflict("dt-not-type", (triple,), f"{o.n3()} is not a valid {o.datatype}"))
            else:
                for datatype in self.data_ranges.get(p, ()):
                    if not in_value_space(o, datatype):
                        out.append(Conflict("dt-not-type", (triple,), f"rdfs:range of {p} is {datatype}"))
        return out

    def all_of(self, triples: Iterable[Triple], has: Callable[[Triple], bool]) -> list[Conflict]:
        """Every conflict of `triples`, each reported once."""
        seen: dict[tuple[str, frozenset[Triple]], Conflict] = {}
        classes, predicates = self._trigger_classes, self._trigger_predicates
        for triple in triples:
            _, p, o = triple
            if not (isinstance(o, Literal) or p in predicates or (p == _TYPE and o in classes)):
                continue  # no check can fire on it
            for conflict in self.of(triple, has):
                seen.setdefault((conflict.rule, frozenset(conflict.facts)), conflict)
        return sorted(seen.values(), key=str)
