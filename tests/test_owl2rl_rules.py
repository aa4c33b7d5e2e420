"""reasoner.engine.owl2rl rule by rule: each supported OWL 2 RL rule on a minimal ontology, against owlrl's closure, and
each unsupported construct refused by name. The lbp guideline only exercises some of these rules; this suite keeps
the others honest for the next module."""

from __future__ import annotations

import re

import pytest
from rdflib import Graph, Literal, Namespace

from reasoner.engine.consistency import Checks
from reasoner.engine.owl2rl import TBox
from reasoner.errors import GuidelineError
from reasoner.knowledge.closure import expand_with_owlrl
from reasoner.namespaces import OWL

EX = Namespace("https://example.org/t#")

PREFIXES = """@prefix : <https://example.org/t#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""

# rule: (T-box, A-box, one triple the rule must derive)
RULES = {
    "cax-sco": (":A rdfs:subClassOf :B . :B rdfs:subClassOf :C .", ":x a :A .", ":x a :C ."),
    "cax-eqc": (":A owl:equivalentClass :B .", ":x a :B .", ":x a :A ."),
    "cls-int1": (":I owl:intersectionOf ( :A :B ) .", ":x a :A , :B .", ":x a :I ."),
    "cls-int2": (":I owl:intersectionOf ( :A :B ) .", ":x a :I .", ":x a :B ."),
    "cls-uni": (":U owl:unionOf ( :A :B ) .", ":x a :B .", ":x a :U ."),
    "cls-svf1": (
        ":R owl:onProperty :p ; owl:someValuesFrom :C .",
        ":x :p :y . :y a :C .",
        ":x a :R .",
    ),
    "cls-svf1-late-filler": (
        ":R owl:onProperty :p ; owl:someValuesFrom :C . :D rdfs:subClassOf :C .",
        ":x :p :y . :y a :D .",
        ":x a :R .",
    ),
    "cls-svf2": (":R owl:onProperty :p ; owl:someValuesFrom owl:Thing .", ":x :p :y .", ":x a :R ."),
    "cls-hv1": (":R owl:onProperty :p ; owl:hasValue :v .", ":x a :R .", ":x :p :v ."),
    "cls-hv2": (":R owl:onProperty :p ; owl:hasValue :v .", ":x :p :v .", ":x a :R ."),
    "cls-avf": (":R owl:onProperty :p ; owl:allValuesFrom :C .", ":x a :R ; :p :y .", ":y a :C ."),
    "prp-dom": (":p rdfs:domain :D .", ":x :p :y .", ":x a :D ."),
    "prp-rng": (":p rdfs:range :C .", ":x :p :y .", ":y a :C ."),
    "prp-spo1": (":p rdfs:subPropertyOf :q .", ":x :p :y .", ":x :q :y ."),
    "prp-eqp": (":p owl:equivalentProperty :q .", ":x :q :y .", ":x :p :y ."),
    "prp-inv1": (":p owl:inverseOf :q .", ":x :p :y .", ":y :q :x ."),
    "prp-inv2": (":p owl:inverseOf :q .", ":x :q :y .", ":y :p :x ."),
    "prp-symp": (":p a owl:SymmetricProperty .", ":x :p :y .", ":y :p :x ."),
    "prp-trp": (":p a owl:TransitiveProperty .", ":x :p :y . :y :p :z . :z :p :w .", ":x :p :w ."),
    "chained": (
        ":p rdfs:domain :A . :I owl:intersectionOf ( :A :B ) . :I rdfs:subClassOf :R2 ."
        " :R2 owl:onProperty :q ; owl:hasValue :v .",
        ":x :p :y ; a :B .",
        ":x :q :v .",
    ),
}


def _graph(text: str) -> Graph:
    return Graph().parse(data=PREFIXES + text, format="turtle")


@pytest.mark.parametrize("rule", sorted(RULES))
def test_rule_matches_owlrl(rule: str) -> None:
    tbox_text, abox_text, expected = RULES[rule]
    tbox, abox = _graph(tbox_text), _graph(abox_text)
    closure = Graph()
    closure += tbox
    expand_with_owlrl(closure)
    reference = Graph()
    reference += tbox
    reference += abox
    expand_with_owlrl(reference)

    got = TBox(closure).close(abox).triples
    want = {t for t in reference if t not in closure and not isinstance(t[0], Literal)}
    want = {t for t in want if not (str(t[1]).endswith("#sameAs") and t[0] == t[2])}  # eq-ref: not materialised
    assert set(_graph(expected)) <= got
    assert got == want


@pytest.mark.parametrize(
    "axiom",
    [
        ":p a owl:FunctionalProperty .",
        ":a owl:sameAs :b .",
        ":R owl:onProperty :p ; owl:maxCardinality 1 .",
        ":p owl:propertyChainAxiom ( :q :r ) .",
        ":R owl:onProperty :d ; owl:someValuesFrom xsd:integer .",
        ":R owl:onProperty :d ; owl:hasValue 5 .",
        ":d rdfs:range [ a rdfs:Datatype ; owl:onDatatype xsd:integer ] .",
        ":p rdfs:subPropertyOf rdfs:subClassOf .",
    ],
)
def test_unsupported_construct_is_refused_by_name(axiom: str) -> None:
    graph = _graph(axiom)
    with pytest.raises(GuidelineError) as info:
        TBox.refuse_unsupported(graph, where="test.ttl")
    message = str(info.value)
    assert message.startswith("test.ttl: the compiled engine does not support")
    assert "--engine owlrl" in message
    assert re.search(r" on (https://example\.org/t#|http://www\.w3\.org/)\S* needs OWL 2 RL rule \S", message)


# rule: (T-box, patient facts) that together are inconsistent
INCONSISTENT = {
    "cls-nothing2": (":A rdfs:subClassOf owl:Nothing .", ":x a :A ."),
    "cax-dw": (":A owl:disjointWith :B . :C rdfs:subClassOf :B .", ":x a :A , :C ."),
    "cax-adc": ("[] a owl:AllDisjointClasses ; owl:members ( :A :B :C ) .", ":x a :A , :C ."),
    "cls-com": (":A owl:complementOf :B .", ":x a :A , :B ."),
    "prp-irp": (":p a owl:IrreflexiveProperty .", ":x :p :x ."),
    "prp-asyp": (":p a owl:AsymmetricProperty .", ":x :p :y . :y :p :x ."),
    "prp-pdw": (":p owl:propertyDisjointWith :q .", ":x :p :y ; :q :y ."),
    "prp-adp": ("[] a owl:AllDisjointProperties ; owl:members ( :p :q ) .", ":x :p :y ; :q :y ."),
    "prp-npa1": (
        "[] owl:sourceIndividual :x ; owl:assertionProperty :p ; owl:targetIndividual :y . :q rdfs:subPropertyOf :p .",
        ":x :q :y .",
    ),
    "prp-npa2": ("[] owl:sourceIndividual :x ; owl:assertionProperty :d ; owl:targetValue 5 .", ":x :d 05 ."),
    "dt-not-type-own": ("", ':x :d "five"^^xsd:integer .'),
    "dt-not-type-range": (":d rdfs:range xsd:nonNegativeInteger .", ":x :d -3 ."),
}


def _inconsistency(tbox_text: str, abox_text: str) -> tuple[set[object], set[object]]:
    """What the compiled path finds, and what the reference engine's checks find on owlrl's closure."""
    tbox, abox = _graph(tbox_text), _graph(abox_text)
    closure = Graph()
    closure += tbox
    expand_with_owlrl(closure)
    compiled = TBox(closure)
    found = {(c.rule, frozenset(c.facts)) for c in compiled.conflicts(compiled.close(abox))}
    reference = Graph()
    reference += tbox
    reference += abox
    expand_with_owlrl(reference)
    checks = Checks(reference).all_of({*reference, *abox}, reference.__contains__)
    return found, {(c.rule, frozenset(c.facts)) for c in checks}


@pytest.mark.parametrize("rule", sorted(INCONSISTENT))
def test_inconsistency_is_found_by_both_engines(rule: str) -> None:
    found, reference = _inconsistency(*INCONSISTENT[rule])
    assert found, f"{rule}: not detected"
    name = rule.removesuffix("-own").removesuffix("-range").rstrip("12")
    assert all(name in str(r) for r, _ in found)
    assert found <= reference


@pytest.mark.parametrize("rule", sorted(INCONSISTENT))
def test_consistent_variant_is_not_refused(rule: str) -> None:
    """The same T-box with a harmless patient: the checks are not trigger-happy."""
    found, reference = _inconsistency(INCONSISTENT[rule][0], ":x :d 7 ; a :Z . :x :r :y .")
    assert found == set() and reference == set()


def test_reflexive_same_as_is_entailed() -> None:
    compiled = TBox(_graph(":A rdfs:subClassOf :B ."))
    abox = compiled.close(_graph(":x a :A ."))
    assert compiled.entails(abox, (EX.x, OWL.sameAs, EX.x))
    assert not compiled.entails(abox, (EX.x, OWL.sameAs, EX.y))


def test_supported_guideline_is_not_refused() -> None:
    TBox.refuse_unsupported(_graph(" ".join(t for t, _, _ in RULES.values())), where="all.ttl")
