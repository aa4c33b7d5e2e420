"""The generic recommendation rules (queries/rules/recommend.rq and suppressed.rq) compiled to lookup tables.

Both rules read only the guideline's recommendation metadata and the classes of the patient node, so once the
guideline is compiled they reduce to set tests over the patient's classes. The SPARQL files stay the definition:
the reference engine runs them, and tests/test_engine_differential.py holds this table equal to them.
"""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import Literal, URIRef
from rdflib.term import Node

from reasoner.namespaces import GR, RDF
from reasoner.rdf.index import TripleIndex

__all__ = ["RuleTable"]


@dataclass(frozen=True)
class _Entry:
    """One node with gr:eligibility: a recommendation, or anything a recommendation is superseded by."""

    iri: str
    is_recommendation: bool
    eligibility: tuple[str, ...]
    exclusions: tuple[str, ...]
    superseded_by: tuple[str, ...]
    ranks: tuple[float, ...]
    jurisdictions: frozenset[str]
    scopes: tuple[str, ...]  # the gr:scope of every module it is gr:partOf: the patient must be in each

    def admitted(self, min_rank: int, jurisdiction: str) -> bool:
        """The rank and jurisdiction FILTERs of the rules."""
        if not any(rank >= min_rank for rank in self.ranks):
            return False
        return jurisdiction == _INTERNATIONAL or not self.jurisdictions or jurisdiction in self.jurisdictions

    def in_scope(self, classes: set[str]) -> bool:
        return all(s in classes for s in self.scopes)

    def applies_unsuperseded(self, classes: set[str], min_rank: int, jurisdiction: str) -> bool:
        """Admitted, eligible and not excluded: what a superseding recommendation must be to block another."""
        return (
            self.admitted(min_rank, jurisdiction)
            and self.in_scope(classes)
            and any(e in classes for e in self.eligibility)
            and not any(x in classes for x in self.exclusions)
        )


_INTERNATIONAL = str(GR.International)


def _rank(node: Node) -> float | None:
    """A numeric rank, or None where SPARQL's `>=` would raise a type error (the FILTER then drops the row)."""
    if isinstance(node, Literal) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
        return float(node.value)
    return None


class RuleTable:
    """The recommendation rules over a closed guideline, evaluated on one patient's classes."""

    def __init__(self, closure: TripleIndex) -> None:
        def objects(s: Node, p: URIRef) -> tuple[str, ...]:
            return tuple(sorted(str(o) for o in closure.objects(s, p)))

        subjects = {s for s, p, _ in closure.triples if p == GR.eligibility}
        self._entries: dict[str, _Entry] = {}
        for s in subjects:
            ranks = [
                _rank(r) for status in closure.objects(s, GR.reviewStatus) for r in closure.objects(status, GR.rank)
            ]
            self._entries[str(s)] = _Entry(
                iri=str(s),
                is_recommendation=(s, RDF.type, GR.Recommendation) in closure,
                eligibility=objects(s, GR.eligibility),
                exclusions=objects(s, GR.exclusion),
                superseded_by=objects(s, GR.supersededBy),
                ranks=tuple(r for r in ranks if r is not None),
                jurisdictions=frozenset(objects(s, GR.jurisdiction)),
                scopes=tuple(
                    sorted({str(c) for m in closure.objects(s, GR.partOf) for c in closure.objects(m, GR.scope)})
                ),
            )
        self._recommendations = sorted((e for e in self._entries.values() if e.is_recommendation), key=lambda e: e.iri)

    def admitted(self, iri: str, *, min_rank: int, jurisdiction: str) -> bool:
        """Whether the rules consider recommendation `iri` at all: its review status and jurisdiction."""
        entry = self._entries.get(iri)
        return entry is not None and entry.admitted(min_rank, jurisdiction)

    def evaluate(
        self, classes: set[str], *, min_rank: int, jurisdiction: str
    ) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
        """recommend.rq and suppressed.rq for a patient of `classes`: recommendation -> the eligibility classes it
        applies through (applied), and recommendation -> what blocks it (blocked), both sorted."""
        applied: dict[str, list[str]] = {}
        blocked: dict[str, list[str]] = {}
        for entry in self._recommendations:
            if not entry.admitted(min_rank, jurisdiction) or not entry.in_scope(classes):
                continue
            eligible = [e for e in entry.eligibility if e in classes]
            if not eligible:
                continue
            by = {x for x in entry.exclusions if x in classes}
            for other in entry.superseded_by:
                found = self._entries.get(other)
                if found is not None and found.applies_unsuperseded(classes, min_rank, jurisdiction):
                    by.add(other)
            if by:
                blocked[entry.iri] = sorted(by)
            else:
                applied[entry.iri] = eligible
        return applied, blocked
