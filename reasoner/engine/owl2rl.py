"""OWL 2 RL/RDF rules (W3C OWL 2 Profiles, section 4.3) applied to patient facts over a closed guideline.

The guideline's own closure is computed once, by owlrl, at compile time. What remains per patient is the rules with
an A-box premise, evaluated semi-naively from the patient's triples with index lookups. Since the guideline
closure is already closed, every new consequence involves at least one patient triple, so starting the agenda
from the patient's triples reaches the same fixpoint as the full closure.

Supported (rule names from the spec's tables 5-7): cax-sco, cax-eqc1/2 and cls-int2/cls-uni (through the closed
subclass hierarchy), cls-int1, cls-svf1, cls-svf2, cls-hv1, cls-hv2, cls-avf, prp-dom, prp-rng, prp-spo1,
prp-eqp1/2 (through the closed subproperty hierarchy), prp-inv1/2, prp-symp, prp-trp; eq-ref through `entails`.
The rules whose conclusion is false are checked by `conflicts` (reasoner.engine.consistency). A guideline that uses
a construct outside this set, or in a use these rules do not cover exactly, is refused by `TBox.refuse_unsupported`
rather than silently under-reasoned.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from rdflib import Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from reasoner.engine.consistency import Checks, Conflict
from reasoner.engine.datatypes import RANGE_DATATYPES, RL_DATATYPES
from reasoner.errors import GuidelineError
from reasoner.knowledge.closure import owlrl_errors
from reasoner.namespaces import OWL, RDF, RDFS, XSD
from reasoner.rdf.index import Triple, TripleIndex

__all__ = ["UNSUPPORTED", "TBox"]

_TYPE, _THING = RDF.type, OWL.Thing  # hoisted: namespace attribute lookups are slow in the inner loop

# Constructs refused wherever they occur (as predicate, as rdf:type, or as subject), with the rules they would need.
UNSUPPORTED: dict[URIRef, str] = {
    OWL.sameAs: "eq-sym, eq-trans, eq-rep-s/p/o (equality)",
    OWL.FunctionalProperty: "prp-fp (derives owl:sameAs)",
    OWL.InverseFunctionalProperty: "prp-ifp (derives owl:sameAs)",
    OWL.hasKey: "prp-key (derives owl:sameAs)",
    OWL.maxCardinality: "cls-maxc1/2",
    OWL.maxQualifiedCardinality: "cls-maxqc1-4",
    OWL.cardinality: "none: not in OWL 2 RL",
    OWL.qualifiedCardinality: "none: not in OWL 2 RL",
    OWL.minCardinality: "none: not in OWL 2 RL",
    OWL.minQualifiedCardinality: "none: not in OWL 2 RL",
    OWL.propertyChainAxiom: "prp-spo2",
    OWL.hasSelf: "none: not in OWL 2 RL",
    OWL.ReflexiveProperty: "none: not in OWL 2 RL",
    OWL.disjointUnionOf: "none: not in OWL 2 RL",
    OWL.onDatatype: "dt-type2 over a datatype restriction",
    OWL.withRestrictions: "dt-type2 over a datatype restriction",
    OWL.datatypeComplementOf: "none: not in OWL 2 RL",
}
_DATA_RANGE_NAMESPACES = (str(XSD), str(RDF), str(RDFS), str(OWL))
_BUILTIN_NAMESPACES = (str(RDF), str(RDFS), str(OWL))
_PLAIN_CLASSES = {OWL.Thing, OWL.Nothing, RDFS.Resource, OWL.NamedIndividual}


def _is_data_range(graph: Graph, node: Node) -> bool:
    """A datatype or a data range: what a literal, not an individual, is a member of."""
    if isinstance(node, URIRef):
        return node in RL_DATATYPES or str(node).startswith(str(XSD)) or (node, RDF.type, RDFS.Datatype) in graph
    if (node, RDF.type, RDFS.Datatype) in graph or (node, OWL.onDatatype, None) in graph:
        return True
    listed = [m for head in graph.objects(node, OWL.oneOf) for m in Collection(graph, head)]
    members = [
        m for p in (OWL.intersectionOf, OWL.unionOf) for h in graph.objects(node, p) for m in Collection(graph, h)
    ]
    return any(isinstance(m, Literal) for m in listed) or any(_is_data_range(graph, m) for m in members)


def _builtin(node: Node) -> bool:
    return isinstance(node, URIRef) and str(node).startswith(_BUILTIN_NAMESPACES)


def _conditional(graph: Graph) -> Iterator[tuple[str, str, set[Node]]]:
    """(construct, rule it would need, where it is used) for constructs refused only in some uses."""
    restrictions = set(graph.subjects(OWL.onProperty, None))
    data_props = set(graph.subjects(RDF.type, OWL.DatatypeProperty))
    for p, rule in ((OWL.someValuesFrom, "cls-svf1 with dt-type2"), (OWL.allValuesFrom, "cls-avf with dt-type2")):
        users = {r for r, filler in graph.subject_objects(p) if filler != OWL.Thing and _is_data_range(graph, filler)}
        users |= {
            r for r in restrictions & set(graph.subjects(p, None)) if set(graph.objects(r, OWL.onProperty)) & data_props
        }
        yield f"{_name(p)} with a data range", rule, users
    users = {r for r, value in graph.subject_objects(OWL.hasValue) if isinstance(value, Literal)}
    yield "owl:hasValue with a literal", "cls-hv1/2 with dt-eq (literals equal by value)", users
    users = {
        p
        for p, d in graph.subject_objects(RDFS.range)
        if _is_data_range(graph, d)
        and d not in RANGE_DATATYPES
        and not (isinstance(d, URIRef) and d not in RL_DATATYPES)
    }
    yield "rdfs:range with a data range outside the implemented datatypes", "dt-not-type after prp-rng", users
    # Per-patient rules that would derive a triple about the schema, which only the compile-time closure handles.
    typed = [o for p in (RDFS.subClassOf, OWL.equivalentClass, RDFS.domain, RDFS.range, OWL.allValuesFrom)
             for o in graph.objects(None, p)]  # fmt: skip
    users = {c for c in typed if _builtin(c) and c not in _PLAIN_CLASSES and c not in RL_DATATYPES}
    derived = [o for p in (RDFS.subPropertyOf, OWL.equivalentProperty, OWL.inverseOf) for o in graph.objects(None, p)]
    derived += [s for p in (OWL.equivalentProperty, OWL.inverseOf) for s in graph.subjects(p, None)]
    derived += [p for r in graph.subjects(OWL.hasValue, None) for p in graph.objects(r, OWL.onProperty)]
    derived += [p for k in (OWL.SymmetricProperty, OWL.TransitiveProperty) for p in graph.subjects(RDF.type, k)]
    users |= {p for p in derived if _builtin(p)}
    yield "a built-in RDF/RDFS/OWL term as a class or property patient facts are given", "scm-* (schema rules)", users


def _name(construct: URIRef) -> str:
    return "owl:" + construct.removeprefix(str(OWL))


class _ClassRules(NamedTuple):
    """What a patient typed with one class can trigger."""

    supers: tuple[Node, ...]  # cax-sco
    intersections: tuple[tuple[Node, tuple[Node, ...]], ...]  # cls-int1: (intersection, its members)
    svf: tuple[tuple[Node, Node], ...]  # cls-svf1, filler side: (restriction, property)
    has_value: tuple[tuple[Node, Node], ...]  # cls-hv1: (property, value)
    all_values: tuple[tuple[Node, Node], ...]  # cls-avf, class side: (property, filler)


class _PropertyRules(NamedTuple):
    """What a patient triple with one predicate can trigger."""

    domains: tuple[Node, ...]
    superprops: tuple[Node, ...]
    svf: tuple[tuple[Node, Node], ...]  # (restriction, filler)
    ranges: tuple[Node, ...]
    inverses: tuple[Node, ...]
    all_values: tuple[tuple[Node, Node], ...]  # (restriction, filler)
    has_value: bool  # some owl:hasValue restriction is on it (cls-hv2)
    transitive: bool
    symmetric: bool


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
        # One lookup per patient triple instead of one per rule: what a typing with each class, and a triple with each
        # predicate, can trigger (a class or predicate no rule mentions is absent).
        self._by_class = {
            c: _ClassRules(
                tuple(self.supers.get(c, ())),
                tuple(self.intersections.get(c, ())),
                tuple(self.svf_by_filler.get(c, ())),
                tuple(self.hv_by_class.get(c, ())),
                tuple(self.avf_by_class.get(c, ())),
            )
            for c in {*self.supers, *self.intersections, *self.svf_by_filler, *self.hv_by_class, *self.avf_by_class}
        }
        hv_props = {prop for prop, _ in self.hv_by_pair}
        self._by_predicate = {
            p: _PropertyRules(
                tuple(self.domains.get(p, ())),
                tuple(self.superprops.get(p, ())),
                tuple(self.svf_by_prop.get(p, ())),
                tuple(self.ranges.get(p, ())),
                tuple(self.inverses.get(p, ())),
                tuple(self.avf_by_prop.get(p, ())),
                p in hv_props,
                p in self.transitive,
                p in self.symmetric,
            )
            for p in {
                *self.domains, *self.superprops, *self.svf_by_prop, *self.ranges, *self.inverses, *self.avf_by_prop,
                *hv_props, *self.transitive, *self.symmetric,
            }
        }  # fmt: skip
        self.checks = Checks(closure)
        # The guideline's own conflicts: owlrl's error list, and the same checks the patients get.
        self.guideline_conflicts = [*owlrl_errors(closure), *map(str, self.checks.static)]
        self.guideline_conflicts += map(str, self.checks.all_of(self.closure.triples, self.closure.__contains__))

    @staticmethod
    def refuse_unsupported(asserted: Graph, *, where: str) -> None:
        """Raise GuidelineError naming every construct of `asserted` the per-patient rules do not implement exactly:
        the construct, the OWL 2 RL rule it would need and where it is used."""
        found: list[tuple[str, str, set[Node]]] = []
        for construct, rules in UNSUPPORTED.items():
            users = set(asserted.subjects(construct, None)) | set(asserted.subjects(RDF.type, construct))
            found.append((_name(construct), rules, users))
        found += _conditional(asserted)
        problems = [
            f"{name} on {', '.join(sorted(str(u) for u in users)[:3])} needs OWL 2 RL rule {rules}"
            for name, rules, users in found
            if users
        ]
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

    def conflicts(self, abox: TripleIndex) -> list[Conflict]:
        """The rules with conclusion `false` that fire on the closed patient facts `abox` (from `close`)."""
        return self.checks.all_of(abox.triples, lambda t: t in abox.triples or t in self.closure.triples)

    def entails(self, abox: TripleIndex, triple: Triple) -> bool:
        """Whether the guideline and `abox` (from `close`) entail `triple`. eq-ref (every term is owl:sameAs
        itself) is answered here rather than materialised: it holds of every term and nothing reads it."""
        s, p, o = (self._canonical.get(t, t) for t in triple)
        return (s, p, o) in abox.triples or (s, p, o) in self.closure.triples or (p == OWL.sameAs and s == o)

    # -- rules ---------------------------------------------------------------------------------------------

    def _has(self, abox: TripleIndex, triple: Triple) -> bool:
        return triple in abox.triples or triple in self.closure.triples

    def _objects(self, abox: TripleIndex, s: Node, p: Node) -> set[Node]:
        return abox.objects(s, p) | self.closure.objects(s, p)

    def _subjects(self, abox: TripleIndex, p: Node, o: Node) -> set[Node]:
        return abox.subjects(p, o) | self.closure.subjects(p, o)

    def _consequences(self, triple: Triple, abox: TripleIndex) -> list[Triple]:
        # Every term here is canonical (see __init__ and close), so `is` tests rdf:type and owl:Thing exactly.
        s, p, o = triple
        out: list[Triple] = []
        if p is _TYPE:
            found = self._by_class.get(o)
            if found is not None:
                supers, intersections, svf_by_filler, hv_by_class, avf_by_class = found
                out += [(s, _TYPE, d) for d in supers]  # cax-sco
                for cls, members in intersections:  # cls-int1
                    if all(self._has(abox, (s, _TYPE, m)) for m in members):
                        out.append((s, _TYPE, cls))
                for r, prop in svf_by_filler:  # cls-svf1, filler side
                    out += [(x, _TYPE, r) for x in self._subjects(abox, prop, s)]
                out += [(s, prop, v) for prop, v in hv_by_class]  # cls-hv1
                for prop, filler in avf_by_class:  # cls-avf, class side
                    out += [(y, _TYPE, filler) for y in self._objects(abox, s, prop)]
        rules = self._by_predicate.get(p)
        if rules is None:
            return out
        domains, superprops, svf_by_prop, ranges, inverses, avf_by_prop, has_value, transitive, symmetric = rules
        out += [(s, _TYPE, d) for d in domains]  # prp-dom
        out += [(s, q, o) for q in superprops]  # prp-spo1
        for r, filler in svf_by_prop:  # cls-svf1/2, property side
            if filler is _THING or self._has(abox, (o, _TYPE, filler)):
                out.append((s, _TYPE, r))
        if has_value:
            out += [(s, _TYPE, r) for r in self.hv_by_pair.get((p, o), ())]  # cls-hv2
        if transitive:  # prp-trp, both directions
            out += [(s, p, z) for z in self._objects(abox, o, p)]
            out += [(w, p, o) for w in self._subjects(abox, p, s)]
        if isinstance(o, Literal):
            return out
        out += [(o, _TYPE, r) for r in ranges]  # prp-rng
        out += [(o, q, s) for q in inverses]  # prp-inv1/2
        if symmetric:  # prp-symp
            out.append((o, p, s))
        for r, filler in avf_by_prop:  # cls-avf, property side
            if self._has(abox, (s, _TYPE, r)):
                out.append((o, _TYPE, filler))
        return out


def _grouped(pairs: Iterable[tuple[Node, Node]]) -> dict[Node, set[Node]]:
    out: dict[Node, set[Node]] = defaultdict(set)
    for key, value in pairs:
        out[key].add(value)
    return out
