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


def applicable(graph: Graph, patient: URIRef, *, min_rank: int) -> dict[str, list[str]]:
    """Recommendation IRI -> the eligibility classes through which it applies."""
    out: dict[str, list[str]] = defaultdict(list)
    rows = graph.query(_rule("recommend"), initBindings={"patient": patient, "minRank": Literal(min_rank)})
    for rec, eligibility in cast(Iterable[ResultRow], rows):
        out[str(rec)].append(str(eligibility))
    return {k: sorted(v) for k, v in out.items()}


def suppressed(graph: Graph, patient: URIRef, *, min_rank: int) -> dict[str, list[str]]:
    """Recommendation IRI -> what blocked it (exclusion classes, superseding recommendations)."""
    out: dict[str, list[str]] = defaultdict(list)
    rows = graph.query(_rule("suppressed"), initBindings={"patient": patient, "minRank": Literal(min_rank)})
    for rec, by in cast(Iterable[ResultRow], rows):
        out[str(rec)].append(str(by))
    return {k: sorted(set(v)) for k, v in out.items()}
