"""OWL 2 RL/RDF rules (W3C OWL 2 Profiles, section 4.3) applied to patient facts over a closed guideline.

The guideline's own closure is computed once, by owlrl, at compile time. What remains per patient is the rules with
an A-box premise, evaluated semi-naively from the patient's triples with index lookups. Since the guideline
closure is already closed, every new consequence involves at least one patient triple, so starting the agenda
from the patient's triples reaches the same fixpoint as the full closure.

Supported (rule names from the spec's tables 5-7): cax-sco, cax-eqc1/2 and cls-int2/cls-uni (through the closed
subclass hierarchy), cls-int1, cls-svf1, cls-svf2, cls-hv1, cls-hv2, cls-avf, prp-dom, prp-rng, prp-spo1,
prp-eqp1/2 (through the closed subproperty hierarchy), prp-inv1/2, prp-symp, prp-trp. A guideline that uses a
construct outside this set is refused by `TBox.refuse_unsupported` rather than silently under-reasoned.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable

from rdflib import Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from reasoner.errors import GuidelineError
from reasoner.namespaces import OWL, RDF, RDFS
from reasoner.rdf.index import Triple, TripleIndex

__all__ = ["UNSUPPORTED", "TBox"]

_TYPE, _THING = RDF.type, OWL.Thing  # hoisted: namespace attribute lookups are slow in the inner loop

# Constructs whose OWL 2 RL rules the per-patient path does not implement, with the rules they would need.
UNSUPPORTED: dict[URIRef, str] = {
    OWL.sameAs: "eq-* (equality)",
    OWL.differentFrom: "eq-diff1",
    OWL.AllDifferent: "eq-diff2/3",
    OWL.FunctionalProperty: "prp-fp (derives owl:sameAs)",
    OWL.InverseFunctionalProperty: "prp-ifp (derives owl:sameAs)",
    OWL.hasKey: "prp-key (derives owl:sameAs)",
    OWL.maxCardinality: "cls-maxc1/2",
    OWL.maxQualifiedCardinality: "cls-maxqc1-4",
    OWL.cardinality: "cls-maxc (not in OWL 2 RL)",
    OWL.qualifiedCardinality: "cls-maxqc (not in OWL 2 RL)",
    OWL.minCardinality: "not in OWL 2 RL",
    OWL.propertyChainAxiom: "prp-spo2",
    OWL.oneOf: "cls-oo",
    OWL.complementOf: "cls-com (inconsistency check)",
    OWL.disjointWith: "cax-dw (inconsistency check)",
    OWL.AllDisjointClasses: "cax-adc (inconsistency check)",
    OWL.propertyDisjointWith: "prp-pdw (inconsistency check)",
    OWL.AllDisjointProperties: "prp-adp (inconsistency check)",
    OWL.IrreflexiveProperty: "prp-irp (inconsistency check)",
    OWL.AsymmetricProperty: "prp-asyp (inconsistency check)",
    OWL.NegativePropertyAssertion: "prp-npa1/2 (inconsistency check)",
    OWL.hasSelf: "not in OWL 2 RL",
}


class TBox:
    """Lookup tables over a closed guideline graph, and the per-patient fixpoint."""

    def __init__(self, closure: Graph) -> None:
        # One object per term, so that the per-patient dict and set lookups succeed on identity instead of calling
        # rdflib's Python-level __eq__ (the parser creates a new object for each occurrence of an IRI).
        self._canonical: dict[Node, Node] = {_TYPE: _TYPE, _THING: _THING}
        canon = self._canonical.setdefault
        triples = [(canon(s, s), canon(p, p), canon(o, o)) for s, p, o in closure]
        self.closure = TripleIndex(triples)
        by_predicate: dict[Node, list[tuple[Node, Node]]] = defaultdict(list)
        for s, p, o in triples:
            by_predicate[p].append((s, o))

        def objects(s: Node, p: Node) -> set[Node]:
            return self.closure.objects(s, canon(p, p))

        self.supers = _grouped((a, b) for a, b in by_predicate[RDFS.subClassOf] if a != b)
        self.superprops = _grouped((a, b) for a, b in by_predicate[RDFS.subPropertyOf] if a != b)
        self.domains = _grouped(by_predicate[RDFS.domain])
        self.ranges = _grouped(by_predicate[RDFS.range])
        inverse = by_predicate[OWL.inverseOf]
        self.inverses = _grouped([*inverse, *((b, a) for a, b in inverse)])
        self.transitive = {s for s, o in by_predicate[RDF.type] if o == OWL.TransitiveProperty}
        self.symmetric = {s for s, o in by_predicate[RDF.type] if o == OWL.SymmetricProperty}
        # cls-int1: class -> the intersections it is a member of.
        self.intersections: dict[Node, list[tuple[Node, tuple[Node, ...]]]] = defaultdict(list)
        for cls, head in by_predicate[OWL.intersectionOf]:
            members = tuple(canon(m, m) for m in Collection(closure, head))
            for member in set(members):
                self.intersections[member].append((cls, members))
        # Restrictions, indexed both ways.
        self.svf_by_prop: dict[Node, list[tuple[Node, Node]]] = defaultdict(list)
        self.svf_by_filler: dict[Node, list[tuple[Node, Node]]] = defaultdict(list)
        self.hv_by_class: dict[Node, list[tuple[Node, Node]]] = defaultdict(list)
        self.hv_by_pair: dict[tuple[Node, Node], list[Node]] = defaultdict(list)
        self.avf_by_class: dict[Node, list[tuple[Node, Node]]] = defaultdict(list)
        self.avf_by_prop: dict[Node, list[tuple[Node, Node]]] = defaultdict(list)
        for r, prop in by_predicate[OWL.onProperty]:
            for filler in objects(r, OWL.someValuesFrom):
                self.svf_by_prop[prop].append((r, filler))
                self.svf_by_filler[filler].append((r, prop))
            for value in objects(r, OWL.hasValue):
                self.hv_by_class[r].append((prop, value))
                self.hv_by_pair[(prop, value)].append(r)
            for filler in objects(r, OWL.allValuesFrom):
                self.avf_by_class[r].append((prop, filler))
                self.avf_by_prop[prop].append((r, filler))

    @staticmethod
    def refuse_unsupported(asserted: Graph, *, where: str) -> None:
        """Raise GuidelineError naming every construct of `asserted` the per-patient rules do not implement."""
        problems = []
        for construct, rules in UNSUPPORTED.items():
            users = sorted({str(s) for s in asserted.subjects(construct, None)})
            users += sorted({str(s) for s in asserted.subjects(RDF.type, construct)})
            users += sorted({str(s) for s, _ in asserted.subject_objects(construct)} - set(users))
            if users:
                name = "owl:" + construct.removeprefix(str(OWL))
                problems.append(f"{name} on {', '.join(users[:3])} needs OWL 2 RL rule {rules}")
        if problems:
            raise GuidelineError(
                f"{where}: the compiled engine does not support " + "; ".join(problems) + " (use --engine owlrl)"
            )

    def close(self, facts: Iterable[Triple]) -> TripleIndex:
        """Return `facts` plus every triple the supported rules derive from them over the closed guideline.

        Triples already in the guideline closure are not repeated in the result."""
        abox = TripleIndex()
        known, given = abox.triples, self.closure.triples  # plain sets: membership tests dominate the loop
        canon = self._canonical.get
        agenda: deque[Triple] = deque((canon(s, s), canon(p, p), canon(o, o)) for s, p, o in facts)
        while agenda:
            triple = agenda.popleft()
            if triple in known or triple in given:
                continue
            abox.add(triple)
            agenda.extend(t for t in self._consequences(triple, abox) if t not in known and t not in given)
        return abox

    # -- rules ---------------------------------------------------------------------------------------------

    def _has(self, abox: TripleIndex, triple: Triple) -> bool:
        return triple in abox.triples or triple in self.closure.triples

    def _objects(self, abox: TripleIndex, s: Node, p: Node) -> set[Node]:
        return abox.objects(s, p) | self.closure.objects(s, p)

    def _subjects(self, abox: TripleIndex, p: Node, o: Node) -> set[Node]:
        return abox.subjects(p, o) | self.closure.subjects(p, o)

    def _consequences(self, triple: Triple, abox: TripleIndex) -> list[Triple]:
        s, p, o = triple
        out: list[Triple] = []
        if p == _TYPE:
            out += [(s, _TYPE, d) for d in self.supers.get(o, ())]  # cax-sco
            for cls, members in self.intersections.get(o, ()):  # cls-int1
                if all(self._has(abox, (s, _TYPE, m)) for m in members):
                    out.append((s, _TYPE, cls))
            for r, prop in self.svf_by_filler.get(o, ()):  # cls-svf1, filler side
                out += [(x, _TYPE, r) for x in self._subjects(abox, prop, s)]
            out += [(s, prop, v) for prop, v in self.hv_by_class.get(o, ())]  # cls-hv1
            for prop, filler in self.avf_by_class.get(o, ()):  # cls-avf, class side
                out += [(y, _TYPE, filler) for y in self._objects(abox, s, prop)]
        out += [(s, _TYPE, d) for d in self.domains.get(p, ())]  # prp-dom
        out += [(s, q, o) for q in self.superprops.get(p, ())]  # prp-spo1
        for r, filler in self.svf_by_prop.get(p, ()):  # cls-svf1/2, property side
            if filler == _THING or self._has(abox, (o, _TYPE, filler)):
                out.append((s, _TYPE, r))
        out += [(s, _TYPE, r) for r in self.hv_by_pair.get((p, o), ())]  # cls-hv2
        if p in self.transitive:  # prp-trp, both directions
            out += [(s, p, z) for z in self._objects(abox, o, p)]
            out += [(w, p, o) for w in self._subjects(abox, p, s)]
        if isinstance(o, Literal):
            return out
        out += [(o, _TYPE, r) for r in self.ranges.get(p, ())]  # prp-rng
        out += [(o, q, s) for q in self.inverses.get(p, ())]  # prp-inv1/2
        if p in self.symmetric:  # prp-symp
            out.append((o, p, s))
        for r, filler in self.avf_by_prop.get(p, ()):  # cls-avf, property side
            if self._has(abox, (s, _TYPE, r)):
                out.append((o, _TYPE, filler))
        return out


def _grouped(pairs: Iterable[tuple[Node, Node]]) -> dict[Node, set[Node]]:
    out: dict[Node, set[Node]] = defaultdict(set)
    for key, value in pairs:
        out[key].add(value)
    return out
