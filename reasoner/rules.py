"""The generic recommendation rule (queries/rules/*.rq): eligible, not excluded, not superseded."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from functools import cache
from typing import cast

from rdflib import Graph, Literal, URIRef
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.sparql import Query
from rdflib.query import ResultRow

from reasoner._paths import data_dir

__all__ = ["applicable", "suppressed"]


@cache
def _rule(name: str) -> Query:
    return prepareQuery((data_dir("queries") / "rules" / f"{name}.rq").read_text())


def _grouped(graph: Graph, rule: str, patient: URIRef, min_rank: int) -> dict[str, list[str]]:
    """Run a rule whose rows are (recommendation, related IRI); group the related IRIs by recommendation."""
    out: dict[str, set[str]] = defaultdict(set)
    rows = graph.query(_rule(rule), initBindings={"patient": patient, "minRank": Literal(min_rank)})
    for rec, related in cast(Iterable[ResultRow], rows):
        out[str(rec)].add(str(related))
    return {k: sorted(v) for k, v in out.items()}


def applicable(graph: Graph, patient: URIRef, *, min_rank: int) -> dict[str, list[str]]:
    """Recommendation IRI -> the eligibility classes through which it applies."""
    return _grouped(graph, "recommend", patient, min_rank)


def suppressed(graph: Graph, patient: URIRef, *, min_rank: int) -> dict[str, list[str]]:
    """Recommendation IRI -> what blocked it (exclusion classes, superseding recommendations)."""
    return _grouped(graph, "suppressed", patient, min_rank)
