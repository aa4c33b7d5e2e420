"""Coverage of the guideline by its test cases: for each recommendation, the cases where it must fire and does,
and the cases asserting it absent where it indeed does not fire. An approved recommendation lacking either is
`missing`, which `reasoner coverage` (and CI) reports as a failure."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reasoner.authoring.cases import Case, CaseResult, load_cases, run_case
from reasoner.knowledge.guideline import Guideline, load_guideline

__all__ = ["Coverage", "RecommendationCoverage", "coverage"]

_SHOWN = 3  # case names shown per cell in the text table


@dataclass(frozen=True)
class RecommendationCoverage:
    identifier: str
    review_status: str
    firing: tuple[str, ...]
    absent: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "identifier": self.identifier,
            "review_status": self.review_status,
            "firing": list(self.firing),
            "absent": list(self.absent),
        }


@dataclass(frozen=True)
class Coverage:
    rows: tuple[RecommendationCoverage, ...]
    missing: tuple[str, ...]  # approved recommendations without a firing case or without an absent case
    cases: int

    def to_json(self) -> dict[str, Any]:
        return {"cases": self.cases, "recommendations": [r.to_json() for r in self.rows], "missing": list(self.missing)}

    def to_text(self) -> str:
        def cell(names: tuple[str, ...]) -> str:
            shown = ", ".join(n.rsplit("/", 1)[-1] for n in names[:_SHOWN])
            more = ", ..." if len(names) > _SHOWN else ""
            return f"{len(names)}: {shown}{more}" if names else "0"

        table = [("recommendation", "status", "firing cases", "absent cases")]
        table += [(r.identifier, r.review_status, cell(r.firing), cell(r.absent)) for r in self.rows]
        widths = [max(len(row[i]) for row in table) for i in range(3)]
        lines = ["  ".join(c.ljust(w) for c, w in zip(row[:3], widths, strict=True)) + "  " + row[3] for row in table]
        if self.missing:
            lines.append(f"missing ({len(self.missing)}): {', '.join(self.missing)}")
        else:
            lines.append(
                f"every approved recommendation fires in a case and is asserted absent in another ({self.cases} cases)"
            )
        return "\n".join(lines)


def coverage(
    cases: Iterable[Case | CaseResult] | str | Path | Sequence[str | Path] | None = None,
    guideline: Guideline | None = None,
) -> Coverage:
    """Coverage of `guideline` (default: the loaded modules) by cases: paths to load (default: every module's
    cases), cases to run, or results. A case in a module's cases/ covers only that module's recommendations."""
    gl = guideline or load_guideline()
    items: list[Case] | list[Case | CaseResult]
    if cases is None or isinstance(cases, str | Path):
        items = load_cases(cases, guideline=gl)
    else:
        given = list(cases)
        paths = [c for c in given if isinstance(c, str | Path)]
        items = load_cases(paths, guideline=gl) if paths else [c for c in given if isinstance(c, Case | CaseResult)]
    results = [c if isinstance(c, CaseResult) else run_case(c, guideline=gl) for c in items]
    firing: dict[str, set[str]] = {s.identifier: set() for s in gl.recommendations.values()}
    absent: dict[str, set[str]] = {s.identifier: set() for s in gl.recommendations.values()}
    for res in results:
        fired = {r.identifier for r in res.result.recommendations}
        own = {s.identifier for s in gl.recommendations.values() if res.case.module in (None, s.module)}
        for exp in res.case.expectations.must:
            if exp.identifier is not None and exp.identifier in fired and exp.identifier in own:
                firing[exp.identifier].add(res.case.id)
        for exp in res.case.expectations.must_not:
            if exp.via is not None:  # "not via X" does not assert the recommendation absent
                continue
            for spec in gl.recommendations.values():
                if spec.identifier in own and spec.identifier not in fired and exp.matches_spec(spec, gl):
                    absent[spec.identifier].add(res.case.id)
    specs = sorted(gl.recommendations.values(), key=lambda s: s.identifier)
    rows = tuple(
        RecommendationCoverage(
            s.identifier, s.review_status, tuple(sorted(firing[s.identifier])), tuple(sorted(absent[s.identifier]))
        )
        for s in specs
    )
    missing = tuple(r.identifier for r in rows if r.review_status == "approved" and not (r.firing and r.absent))
    return Coverage(rows, missing, len(results))
