"""The clinician-readable markdown report: headline, why, what has failed, plan, stop, bridge, pitfalls,
follow-up, references, and the guideline version, review status and a professional-use note."""

from __future__ import annotations

from reasoner.result import AppliedRecommendation, Recommendations

__all__ = ["markdown"]

DISCLAIMER = (
    "For use by healthcare professionals. This report applies encoded guideline statements to the facts given; "
    "it does not replace clinical judgement, and facts not recorded were not considered."
)

_PLAN = ("order", "refer", "assess")
_STOP = ("stop", "avoid")
_BRIDGE = ("start", "continue")
_FOLLOW = ("reassess", "educate")


class _References:
    """Numbers each cited source once, in order of first citation."""

    def __init__(self) -> None:
        self.order: list[str] = []
        self.entries: dict[str, str] = {}

    def cite(self, rec: AppliedRecommendation) -> str:
        marks = []
        for src in rec.sources:
            if src.iri not in self.entries:
                link = f"https://doi.org/{src.doi}" if src.doi else src.url
                note = f" ({src.unverified})" if src.unverified else ""
                self.entries[src.iri] = src.citation + (f" {link}" if link else "") + note
                self.order.append(src.iri)
            mark = f"[{self.order.index(src.iri) + 1}]"
            if mark not in marks:
                marks.append(mark)
        return "".join(marks)


def _grade(rec: AppliedRecommendation) -> str:
    parts = [p for p in (rec.strength, rec.quality, rec.rating) if p]
    return "; ".join(parts) if parts else "ungraded"


def _line(rec: AppliedRecommendation, refs: _References) -> list[str]:
    when = f" — {rec.urgency.upper()}" if rec.urgency else ""
    timing = f", {rec.timing}" if rec.timing else ""
    out = [f"- **{rec.label}**{when}{timing}. {refs.cite(rec)} `{rec.identifier}`"]
    if rec.condition:
        out.append(f"  - Condition: {rec.condition}")
    if rec.because:
        out.append("  - Because: " + "; ".join(f.label for f in rec.because))
    grade = f"  - Grade ({rec.sources[0].label if rec.sources else 'source'}): {_grade(rec)}"
    if rec.project_defined:
        grade += f". Project-defined, not from a source: {', '.join(rec.project_defined)}"
    out.append(grade)
    return out


_JURISDICTION_TEXT = {
    "US": "United States (ACP, ACR, FDA, CDC); NICE statements that conflict with them are not applied",
    "UK": "United Kingdom (NICE); US statements that conflict with NICE are not applied",
    "both": "both United States and United Kingdom; conflicting statements are shown side by side",
}


def markdown(result: Recommendations) -> str:
    refs = _References()
    recs = result.recommendations
    lines = [f"# {result.headline}", ""]
    lines.append(f"Patient `{result.patient}`, evaluated as of {result.as_of}.")
    lines.append("")

    lead = [r for r in recs if r.kind in ("order", "refer") and r.urgency]
    if lead:
        lines += ["## Why", ""]
        for rec in lead:
            if rec.rationale:
                lines.append(f"- {rec.rationale} {refs.cite(rec)}")
        facts = {f.iri: f.label for r in lead for f in r.because}
        if facts:
            lines.append("- Patient facts: " + "; ".join(facts.values()) + ".")
        lines.append("")

    if result.prior_treatments:
        lines += ["## What has been tried", ""]
        for t in result.prior_treatments:
            state = "ongoing" if t.current else "finished"
            text = f"- {t.label} ({state}; response: {t.response})."
            if t.evidence:
                text += f" Evidence: {t.evidence}"
            lines.append(text)
        lines.append("")

    sections = (
        ("Action plan", _PLAN),
        ("Stop or avoid", _STOP),
        ("Treatment while waiting (bridge)", _BRIDGE),
        ("Follow-up and safety net", _FOLLOW),
    )
    for title, kinds in sections:
        chosen = [r for r in recs if r.kind in kinds]
        if chosen:
            lines += [f"## {title}", ""]
            for rec in chosen:
                lines += _line(rec, refs)
            lines.append("")

    pitfalls = sorted({p for r in recs for p in r.pitfalls})
    if pitfalls or result.missing or result.suppressed:
        lines += ["## Pitfalls and missing data", ""]
        lines += [f"- {p}" for p in pitfalls]
        if result.missing:
            names = ", ".join(m.label for m in result.missing)
            lines.append(f"- **Not documented (unknown, not absent): {names}.** Ask and record each before concluding.")
        for sup in result.suppressed:
            lines.append(f"- Not advised: {sup.label} (`{sup.identifier}`), blocked by {', '.join(sup.by_labels)}.")
        lines.append("")

    lines += ["## References", ""]
    for n, iri in enumerate(refs.order, 1):
        lines.append(f"{n}. {refs.entries[iri]}")
    lines += [
        "",
        "---",
        f"Guideline: {result.guideline.title}, version {result.guideline.version} "
        f"(<{result.guideline.version_iri}>, last updated {result.guideline.modified}); "
        f"module review status: {result.guideline.review_status}; "
        f"recommendations shown: {', '.join(sorted({r.review_status for r in recs})) or 'none'}. "
        f"Sources applied where they conflict: {_JURISDICTION_TEXT[result.jurisdiction]}. Engine: {result.engine}.",
        "",
        f"*{DISCLAIMER}*",
        "",
    ]
    return "\n".join(lines)
