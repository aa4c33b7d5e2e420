"""reasoner.engine.owl2rl rule by rule: each supported OWL 2 RL rule on a minimal ontology, against owlrl's closure, and
each unsupported construct refused by name. The lbp guideline only exercises some of these rules; this suite keeps
the others honest for the next module."""

from __future__ import annotations

import pytest
from rdflib import Graph, Literal

from reasoner.engine.owl2rl import UNSUPPORTED, TBox
from reasoner.errors import GuidelineError
from reasoner.knowledge.closure import expand_with_owlrl

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
        ":A owl:disjointWith :B .",
        ":R owl:onProperty :p ; owl:maxCardinality 1 .",
        ":p owl:propertyChainAxiom ( :q :r ) .",
        ":A owl:complementOf :B .",
    ],
)
def test_unsupported_construct_is_refused_by_name(axiom: str) -> None:
    graph = _graph(axiom)
    with pytest.raises(GuidelineError) as info:
        TBox.refuse_unsupported(graph, where="test.ttl")
    message = str(info.value)
    assert message.startswith("test.ttl: the compiled engine does not support")
    assert "https://example.org/t#" in message and "--engine owlrl" in message
    construct = next(c for c in UNSUPPORTED if "owl:" + c.rsplit("#", 1)[-1] + " on" in message)
    assert UNSUPPORTED[construct] in message


def test_supported_guideline_is_not_refused() -> None:
    TBox.refuse_unsupported(_graph(" ".join(t for t, _, _ in RULES.values())), where="all.ttl")
