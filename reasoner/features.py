"""Feature rules: SPARQL CONSTRUCT files under queries/features/, run in file-name order, turning numbers and
dates (evaluated at `as_of`) into classes the OWL axioms use. Each rule sees what earlier rules derived."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import cast

from rdflib import Graph, Literal
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.sparql import Query
from rdflib.term import Node

from reasoner._paths import data_dir
from reasoner.namespaces import XSD

__all__ = ["FeatureRule", "feature_rules", "run_features"]


@dataclass(frozen=True)
class FeatureRule:
    name: str
    path: Path
    query: Query


@cache
def feature_rules(root: Path | None = None) -> tuple[FeatureRule, ...]:
    base = root or data_dir("queries") / "features"
    return tuple(FeatureRule(name=p.stem, path=p, query=prepareQuery(p.read_text())) for p in sorted(base.glob("*.rq")))


def run_features(graph: Graph, as_of: date) -> Graph:
    """Run every feature rule over `graph`, adding what each derives; return everything derived."""
    derived = Graph()
    binding = {"asOf": Literal(as_of.isoformat(), datatype=XSD.date)}
    for rule in feature_rules():
        rows = cast(Iterable[tuple[Node, Node, Node]], graph.query(rule.query, initBindings=binding))
        new = [t for t in rows if t not in graph]
        for triple in new:
            graph.add(triple)
            derived.add(triple)
    return derived
