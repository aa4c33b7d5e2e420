"""The markdown report. For clinicians: headline, why, what has failed, plan, stop, bridge, pitfalls, follow-up,
input not used, references, and the guideline version, review status and a professional-use note. For patients
(audience "patient"): the same reasoning in the plain language the ontology authors (gr:patientLabel,
gr:patientExplanation), without identifiers, grades, conditions or anything marked gr:clinicianOnly."""

from __future__ import annotations

import re
from collections import Counter
from typing import TYPE_CHECKING

from reasoner.errors import ReasonerError

if TYPE_CHECKING:  # the result renders itself through this module (Recommendations.to_markdown)
    from reasoner.input.patient import UnmappedCode
    from reasoner.output.result import AppliedRecommendation, Conflict, ConflictSide, Fact, Recommendations

__all__ = [
    "AUDIENCES",
    "DISCLAIMER",
    "PATIENT_NOTE",
    "References",
    "check_audience",
    "conflict_text",
    "fact_text",
    "footer_text",
    "grade_text",
    "markdown",
    "patient_headline",
    "patient_sections",
    "resource_name",
    "unmapped_text",
    "when_for_patients",
]

AUDIENCES = ("clinician", "patient")


def check_audience(audience: str) -> None:
    """Refuse an audience no report is written for."""
    if audience not in AUDIENCES:
        raise ReasonerError(f"unknown audience {audience!r}; choose one of {', '.join(AUDIENCES)}")


DISCLAIMER = (
    "For use by healthcare professionals. This report applies encoded guideline statements to the facts given; "
    "it does not replace clinical judgement, and facts not recorded were not considered."
)

PATIENT_NOTE = (
    "This summary explains what the guideline suggests for the facts your care team recorded. It does not replace "
    "a conversation with them: ask about anything that is unclear, and seek help at once if your symptoms get worse."
)


class References:
    """Numbers each cited source once, in order of first citation."""

    def __init__(self) -> None:
        self.order: list[str] = []
        self.citations: dict[str, str] = {}
        self.links: dict[str, str | None] = {}
        self.notes: dict[str, str | None] = {}

    def cite(self, rec: AppliedRecommendation) -> str:
        marks = []
        for src in rec.sources:
            if src.iri not in self.citations:
                self.citations[src.iri] = src.citation
                self.links[src.iri] = f"https://doi.org/{src.doi}" if src.doi else src.url
                self.notes[src.iri] = src.unverified
                self.order.append(src.iri)
            mark = f"[{self.order.index(src.iri) + 1}]"
            if mark not in marks:
                marks.append(mark)
        return "".join(marks)

    def entry(self, iri: str) -> str:
        """The numbered reference as text: the citation, its link, and what in it is unverified."""
        link, note = self.links[iri], self.notes[iri]
        return self.citations[iri] + (f" {link}" if link else "") + (f" ({note})" if note else "")


def resource_name(iri: str) -> str | None:
    """The FHIR resource an input IRI names, as Type/id (the reader keeps a resource's fullUrl, or an IRI ending in
    Type/id when it has none); None when the IRI names no resource that way."""
    match = re.search(r"([A-Z][A-Za-z]+/[^/]+)$", iri)
    return match.group(1) if match else None


def fact_text(fact: Fact) -> str:
    """A patient fact's label, with the input resource it was read from (a FHIR resource as Type/id)."""
    if not fact.source:
        return fact.label
    return f"{fact.label} [from {resource_name(fact.source) or fact.source}]"


def grade_text(strength: str | None, quality: str | None, rating: str | None) -> str:
    """A grade as its source gave it: strength, quality and rating, or "ungraded"."""
    return "; ".join(p for p in (strength, quality, rating) if p) or "ungraded"


def _grade(rec: AppliedRecommendation) -> str:
    return grade_text(rec.strength, rec.quality, rec.rating)


def draft_mark(rec: AppliedRecommendation) -> str:
    """ "[DRAFT, not approved]" for advice shown only because drafts were included, else ""."""
    return "" if rec.review_status == "approved" else f"[{rec.review_status.upper()}, not approved]"


def _line(rec: AppliedRecommendation, refs: References) -> list[str]:
    when = f" — {rec.urgency.upper()}" if rec.urgency else ""
    timing = f", {rec.timing}" if rec.timing else ""
    status = f"**{draft_mark(rec)}** " if draft_mark(rec) else ""
    out = [f"- {status}**{rec.label}**{when}{timing}. {refs.cite(rec)} `{rec.identifier}`"]
    if rec.condition:
        out.append(f"  - Condition: {rec.condition}")
    if rec.because:
        out.append("  - Because: " + "; ".join(fact_text(f) for f in rec.because))
    grade = f"  - Grade ({rec.sources[0].label if rec.sources else 'source'}): {_grade(rec)}"
    if rec.project_defined:
        grade += f". Project-defined, not from a source: {', '.join(rec.project_defined)}"
    out.append(grade)
    return out


def markdown(result: Recommendations, *, audience: str = "clinician") -> str:
    """The report for `audience`: "clinician" (default) or "patient"."""
    check_audience(audience)
    if audience == "patient":
        return _patient_markdown(result)
    refs = References()
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
        facts = {f.iri: fact_text(f) for r in lead for f in r.because}
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

    for section in result.wording.sections:
        chosen = [r for r in recs if r.kind in section.kinds]
        if chosen:
            lines += [f"## {section.title}", ""]
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

    if result.conflicts:
        lines += ["## Conflicts between guidelines", ""]
        lines += [f"- {conflict_text(c)}" for c in result.conflicts]
        lines.append("")

    if result.unmapped:
        lines += ["## Input not used", ""]
        lines += [f"- {line}" for line in unmapped_summary(result.unmapped)]
        lines.append("")

    lines += ["## References", ""]
    for n, iri in enumerate(refs.order, 1):
        lines.append(f"{n}. {refs.entry(iri)}")
    lines += [
        "",
        "---",
        footer_text(result),
        "",
        f"*{DISCLAIMER}*",
        "",
    ]
    return "\n".join(lines)


def footer_text(result: Recommendations) -> str:
    """The guideline modules applied, with their versions, and how the result was reached."""
    modules = "; ".join(
        f"{g.title}, version {g.version} (<{g.version_iri}>, last updated {g.modified}; review status "
        f"{g.review_status})"
        for g in result.guidelines or [result.guideline]
    )
    shown = ", ".join(sorted({r.review_status for r in result.recommendations})) or "none"
    return (
        f"Guidelines applied: {modules}. Recommendations shown: {shown}. Sources applied where they conflict: "
        f"{result.wording.jurisdictions[result.jurisdiction]}. Engine: {result.engine}."
    )


def conflict_text(conflict: Conflict) -> str:
    """Both sides of a conflict between modules, each with its grade and the facts behind it, and its resolution."""

    def side(s: ConflictSide) -> str:
        grade = "; ".join(p for p in (s.strength, s.quality, s.rating) if p) or "ungraded"
        facts = "; ".join(fact_text(f) for f in s.because) or "no recorded fact"
        return f"{s.label} (`{s.identifier}`, {s.module_version}; {grade}; because: {facts})"

    if conflict.prevailing:
        won = conflict.first.identifier
        outcome = f'resolved by the declared rule "{conflict.rule_label}": {won} is given, the other withheld'
    else:
        outcome = "no declared rule resolves it: both are shown, and the clinician decides"
    return f"{side(conflict.first)} contradicts {side(conflict.second)}; {outcome}."


def unmapped_summary(unmapped: list[UnmappedCode]) -> list[str]:
    """What was not used, for a reader: each point about the record as a whole (the Patient, the Bundle) in full, the
    rest counted by resource type (a real record has dozens); the JSON output lists every resource, code and reason."""
    whole = [u for u in unmapped if "/" not in u.resource and " (entry " not in u.resource]
    resources = {u.resource for u in unmapped if u not in whole}
    counts = Counter(name.split("/")[0].split(" (entry ")[0] for name in resources)
    lines = [unmapped_text(u.resource, u.system, u.code, u.display, u.reason) for u in whole]
    shown = [f"{kind} {n}" for kind, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    if shown:
        lines.append(
            f"Resources not used, or with a code no guideline term carries, by type: {', '.join(shown)} "
            "(the JSON output lists each with its code and reason)."
        )
    return lines


def unmapped_text(resource: str, system: str | None, code: str | None, display: str | None, reason: str) -> str:
    coded = f" {system}|{code}" if system and code else ""
    shown = f" ({display})" if display else ""
    return f"{resource}{coded}{shown}: {reason}"


# -- the patient version ---------------------------------------------------------------------------------------

_PATIENT_WHEN = {
    "emergency": "Today, as an emergency",
    "urgent": "Within the next day or two",
    "now": "At this visit",
    "soon": "Within the next week or two",
    "routine": "At a routine visit",
}


def when_for_patients(rec: AppliedRecommendation) -> str | None:
    return _PATIENT_WHEN.get(rec.urgency or "")


def patient_headline(result: Recommendations) -> str:
    """The most urgent steps in plain language (the recommendations come most urgent first)."""
    shown = [r for r in result.recommendations if r.patient_label]
    if not shown or not shown[0].urgency or shown[0].urgency == "routine":
        return result.wording.patient_headline
    top = [r for r in shown if r.urgency == shown[0].urgency]
    lead = [r for r in top if r.kind in ("order", "refer")] or top[:1]
    steps = [str(r.patient_label) for r in lead]
    return f"{when_for_patients(lead[0])}: " + "; ".join(s[:1].lower() + s[1:] for s in steps)


def patient_sections(result: Recommendations) -> list[tuple[str, list[AppliedRecommendation]]]:
    """The recommendations a patient sees, grouped; clinician-only ones (no patient label) are left out."""
    shown = [r for r in result.recommendations if r.patient_label]
    return [
        (section.title, chosen)
        for section in result.wording.patient_sections
        if (chosen := [r for r in shown if r.kind in section.kinds])
    ]


def _patient_markdown(result: Recommendations) -> str:
    refs = References()
    lines = [f"# {patient_headline(result)}", ""]
    for title, recs in patient_sections(result):
        lines += [f"## {title}", ""]
        for rec in recs:
            when = when_for_patients(rec)
            draft = f"{draft_mark(rec)} " if draft_mark(rec) else ""
            lines.append(f"- {draft}**{rec.patient_label}**{f' ({when.lower()})' if when else ''}. {refs.cite(rec)}")
            if rec.patient_explanation:
                lines.append(f"  {rec.patient_explanation}")
        lines.append("")
    if result.missing:
        lines += ["## Questions your care team still needs to ask you", ""]
        lines += [f"- {m.patient_label or m.label}" for m in result.missing]
        lines += ["", "Nobody has recorded yet whether you have these. Tell your care team now if you do.", ""]
    lines += ["## Where this advice comes from", ""]
    for n, iri in enumerate(refs.order, 1):
        link = refs.links[iri]
        lines.append(f"{n}. {refs.citations[iri]}" + (f" {link}" if link else ""))
    lines += ["", "---", f"*{PATIENT_NOTE}*", ""]
    return "\n".join(lines)
