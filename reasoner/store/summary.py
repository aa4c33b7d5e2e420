"""One evaluation's summary: what it adds to the cohort counts (reasoner.store.counts), as plain data that a batch
worker hands to the writer with the evaluation's graphs."""

from __future__ import annotations

from dataclasses import dataclass

from reasoner.output.result import Recommendations

__all__ = ["Key", "Summary"]

#: A count's key: kind, version, jurisdiction, as-of date, item, detail ("" when the kind has none).
Key = tuple[str, str, str, str, str, str]

_REASON_KIND = {"exclusion": "excluded", "superseded": "superseded", "conflict": "yielded"}


@dataclass(frozen=True)
class Summary:
    """One evaluation as its run's summary triples say it."""

    jurisdiction: str
    as_of: str
    used: frozenset[str]  # everything the run used: the patient and the guideline versions
    given: frozenset[str]
    withheld: frozenset[tuple[str, str]]  # (kind, recommendation): "withheld" for each, and each reason kind
    red_flags: frozenset[tuple[str, str]]  # (field, "present" | "unknown" | "absent")
    missing: frozenset[str]
    needed: frozenset[tuple[str, str]]  # (missing field, recommendation it was needed for)
    triggered: frozenset[tuple[str, str]]  # (recommendation given, the kind of a fact it rests on)

    @classmethod
    def of(cls, result: Recommendations) -> Summary:
        return cls(
            jurisdiction=result.jurisdiction,
            as_of=result.as_of,
            used=frozenset({result.patient, *(g.version_iri for g in result.guidelines)}),
            given=frozenset(r.id for r in result.recommendations),
            withheld=frozenset(
                {("withheld", s.id) for s in result.suppressed}
                | {(_REASON_KIND[k], s.id) for s in result.suppressed for k in s.reasons}
            ),
            red_flags=frozenset(result.red_flags.items()),
            missing=frozenset(m.finding for m in result.missing),
            needed=frozenset((m.finding, r) for m in result.missing for r in m.needed_for),
            triggered=frozenset((r, k) for r, kinds in result.fact_kinds.items() for k in kinds),
        )
