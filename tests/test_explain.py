"""Explanations do not depend on blank-node labels or file layout (regression: reformatting the guideline files
changed which of two sufficient reasons a recommendation was explained by)."""

from __future__ import annotations

import random
import re

from rdflib import Graph

from reasoner import load_guideline, recommend
from reasoner.output.explain import Axioms
from tests.conftest import ROOT


def _relabelled(graph: Graph, seed: int) -> Graph:
    """The same graph with its triples in another order and its blank nodes under other labels."""
    lines = graph.serialize(format="nt").splitlines()
    random.Random(seed).shuffle(lines)
    text = re.sub(r"_:(\w+)", lambda m: f"_:x{seed}{m.group(1)[::-1]}", "\n".join(lines))
    return Graph().parse(data=text, format="nt")


def test_definition_order_ignores_blank_node_labels_and_triple_order() -> None:
    graph = load_guideline().graph
    one, two = Axioms(_relabelled(graph, 1)), Axioms(_relabelled(graph, 2))
    assert one.definitions.keys() == two.definitions.keys()
    for cls, definitions in one.definitions.items():
        assert [one.render(d) for d in definitions] == [two.render(d) for d in two.definitions[cls]], cls


def test_every_sufficient_reason_is_named() -> None:
    """V05 meets two definitions of suspected spinal infection (fever and drug use; raised markers with focal
    tenderness): the emergency referral names the facts of both."""
    result = recommend(ROOT / "ontology" / "lbp" / "cases" / "vignettes" / "v05.ttl")
    because = {f.iri.rsplit("/", 1)[-1] for f in result.by_identifier()["LBP-REF-04"].because}
    assert {"fever", "ivdu", "crp", "tenderness"} <= because
