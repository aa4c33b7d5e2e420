"""The HTML report: one self-contained page (inline CSS and SVG, no scripts, fonts or images fetched), with the
sections of the markdown report and, for each recommendation, a "why" panel that draws its provenance chain:
patient facts -> inferred classes -> recommendation -> guideline statements (with their grades) -> sources."""

from __future__ import annotations

import textwrap
from html import escape
from typing import TYPE_CHECKING

from reasoner.output.report import (
    DISCLAIMER,
    PATIENT_NOTE,
    References,
    check_audience,
    conflict_text,
    draft_mark,
    fact_text,
    footer_text,
    patient_headline,
    patient_sections,
    unmapped_text,
    when_for_patients,
)

if TYPE_CHECKING:  # the result renders itself through this module (Recommendations.to_html)
    from reasoner.output.result import AppliedRecommendation, Recommendations

__all__ = ["html"]

_CSS = """
body{font:15px/1.45 system-ui,sans-serif;color:#1d2330;max-width:1180px;margin:0 auto;padding:24px}
h1{font-size:1.5em;border-left:6px solid #b42318;padding-left:12px}
h2{margin-top:1.8em;border-bottom:1px solid #d0d5dd}
.meta{color:#475467}.rec{border:1px solid #d0d5dd;border-radius:8px;padding:10px 14px;margin:12px 0}
.rec h3{margin:0 0 4px;font-size:1.05em}.code{font-family:monospace;color:#475467}
.urgency{font-weight:700;text-transform:uppercase}.u-emergency,.u-urgent{color:#b42318}.u-now{color:#b54708}
.missing{background:#fffaeb;border:2px solid #f79009;border-radius:8px;padding:4px 16px}
.suppressed li{color:#475467}.why svg{max-width:100%;height:auto}
footer{margin-top:2em;font-size:.9em;color:#475467}
"""
_COLUMNS = ("Patient facts", "Inferred", "Recommendation", "Guideline statement", "Source")
_BOX_W, _BOX_H, _GAP_X, _GAP_Y, _TOP = 196, 58, 34, 10, 30
_Row = tuple[str, str, str | None]  # a box of the why picture: its kind (fill colour), its text, its link
_FILL = {
    "fact": "#eef4ff",
    "unknown": "#fef0c7",
    "class": "#f4f3ff",
    "rec": "#fee4e2",
    "ev": "#ecfdf3",
    "src": "#f2f4f7",
}


def html(result: Recommendations, *, audience: str = "clinician") -> str:
    """The report as one HTML document for `audience` ("clinician" or "patient")."""
    check_audience(audience)
    refs = References()
    if audience == "patient":
        title, body = patient_headline(result), _patient_body(result, refs)
    else:
        title, body = result.headline, _clinician_body(result, refs)
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>",
            f'<header><h1 id="headline">{escape(title)}</h1></header>',
            *body,
            _references(refs, notes=audience == "clinician"),
            _footer(result, audience),
            "</body></html>",
            "",
        ]
    )


# -- clinician -------------------------------------------------------------------------------------------------


def _clinician_body(result: Recommendations, refs: References) -> list[str]:
    labels = result.labels
    missing_records = {m.record for m in result.missing}
    out = [f'<p class="meta">Patient <code>{escape(result.patient)}</code>, evaluated as of {result.as_of}.</p>']
    if result.prior_treatments:
        out.append('<section id="tried"><h2>What has been tried</h2><ul>')
        for t in result.prior_treatments:
            state = "ongoing" if t.current else "finished"
            evidence = f" Evidence: {escape(t.evidence)}" if t.evidence else ""
            out.append(f"<li>{escape(t.label)} ({state}; response: {escape(t.response)}).{evidence}</li>")
        out.append("</ul></section>")
    for section in result.wording.sections:
        chosen = [r for r in result.recommendations if r.kind in section.kinds]
        if chosen:
            out.append(f'<section id="{escape(section.key)}"><h2>{escape(section.title)}</h2>')
            out += [_recommendation(r, refs, labels, missing_records) for r in chosen]
            out.append("</section>")
    if result.missing:
        out.append('<section id="missing" class="missing"><h2>Missing data: unknown, not absent</h2><ul>')
        for m in result.missing:
            needed = ", ".join(i.rsplit("#", 1)[-1] for i in m.needed_for) or "no current recommendation"
            out.append(f"<li><strong>{escape(m.label)}</strong>: not documented; needed for {escape(needed)}</li>")
        out.append("</ul><p>Ask and record each before concluding.</p></section>")
    pitfalls = sorted({p for r in result.recommendations for p in r.pitfalls})
    if pitfalls:
        out.append('<section id="pitfalls"><h2>Pitfalls</h2><ul>')
        out += [f"<li>{escape(p)}</li>" for p in pitfalls]
        out.append("</ul></section>")
    if result.suppressed:
        out.append('<section id="suppressed" class="suppressed"><h2>Not advised for this patient</h2><ul>')
        for s in result.suppressed:
            facts = "; ".join(fact_text(f) for f in s.because)
            because = f" Facts: {escape(facts)}." if facts else ""
            out.append(
                f'<li data-identifier="{escape(s.identifier)}">{escape(s.label)} '
                f'<span class="code">{escape(s.identifier)}</span>, blocked by '
                f"{escape(', '.join(s.by_labels))}.{because}</li>"
            )
        out.append("</ul></section>")
    if result.conflicts:
        out.append('<section id="conflicts"><h2>Conflicts between guidelines</h2><ul>')
        out += [f"<li>{escape(conflict_text(c).replace('`', ''))}</li>" for c in result.conflicts]
        out.append("</ul></section>")
    if result.unmapped:
        out.append('<section id="unmapped"><h2>Input not used</h2><ul>')
        out += [
            f"<li>{escape(unmapped_text(u.resource, u.system, u.code, u.display, u.reason))}</li>"
            for u in result.unmapped
        ]
        out.append("</ul></section>")
    return out


def _draft(rec: AppliedRecommendation) -> str:
    mark = draft_mark(rec)
    return f'<strong class="draft">{escape(mark)}</strong> ' if mark else ""


def _recommendation(
    rec: AppliedRecommendation, refs: References, labels: dict[str, str], missing_records: set[str]
) -> str:
    marks = refs.cite(rec)
    when = f'<span class="urgency u-{rec.urgency}">{rec.urgency}</span>' if rec.urgency else ""
    timing = escape(rec.timing) if rec.timing else ""
    grade = "; ".join(p for p in (rec.strength, rec.quality, rec.rating) if p) or "ungraded"
    parts = [
        f'<article class="rec" id="rec-{escape(rec.identifier)}" data-identifier="{escape(rec.identifier)}">',
        f'<h3>{_draft(rec)}{escape(rec.label)} <span class="code">{escape(rec.identifier)}</span> '
        f"{_ref_links(marks)}</h3>",
        f'<p class="meta">{" · ".join(x for x in (when, timing) if x)}</p>' if when or timing else "",
        f"<p>Condition: {escape(rec.condition)}</p>" if rec.condition else "",
        f'<p class="meta">Grade: {escape(grade)}'
        + (f". Project-defined: {escape(', '.join(rec.project_defined))}" if rec.project_defined else "")
        + "</p>",
        f'<details class="why" open><summary>Why</summary>{_why_svg(rec, refs, labels, missing_records)}</details>',
        "</article>",
    ]
    return "\n".join(p for p in parts if p)


def _ref_links(marks: str) -> str:
    numbers = [m for m in marks.strip("[]").split("][") if m]
    return "".join(f'<a href="#ref-{n}">[{n}]</a>' for n in numbers)


def _why_svg(rec: AppliedRecommendation, refs: References, labels: dict[str, str], missing_records: set[str]) -> str:
    """The provenance chain as columns of boxes joined by arrows."""
    facts: list[_Row] = [("unknown" if f.iri in missing_records else "fact", fact_text(f), None) for f in rec.because]
    classes: list[_Row] = [("class", labels.get(c, c.rsplit("#", 1)[-1]), None) for c in rec.via]
    head = f"{rec.identifier}: {rec.urgency.upper() + ' ' if rec.urgency else ''}{rec.kind} {rec.target.label}"
    evidence: list[_Row] = []
    sources: list[_Row] = []
    for s in rec.sources:
        grade = "; ".join(p for p in (s.strength, s.quality, s.rating) if p) or "ungraded"
        evidence.append(("ev", f"{s.statement} [{grade}]", None))
        number = refs.order.index(s.iri) + 1
        sources.append(("src", f"[{number}] {s.label}", f"#ref-{number}"))
    chain: list[list[_Row]] = [facts or [("fact", "(no patient fact needed)", None)], classes, [("rec", head, None)]]
    columns = [c for c in [*chain, evidence, sources] if c]
    height = _TOP + max(len(c) for c in columns) * (_BOX_H + _GAP_Y) + 4
    width = len(columns) * (_BOX_W + _GAP_X) - _GAP_X + 8
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" aria-label="provenance of {escape(rec.identifier)}" font-size="11">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#667085"/></marker></defs>',
    ]
    names = _column_names(columns, bool(classes), bool(evidence))
    for i, name in enumerate(names):
        out.append(f'<text x="{_x(i) + 2}" y="16" font-weight="bold" fill="#344054">{escape(name)}</text>')
    for i in range(len(columns) - 1):
        out += _links(i, len(columns[i]), len(columns[i + 1]), one_to_one=names[i] == "Guideline statement")
    for i, column in enumerate(columns):
        for j, (kind, text, link) in enumerate(column):
            out.append(_box(_x(i), _y(j), kind, text, link))
    out.append("</svg>")
    return "".join(out)


def _links(column: int, sources: int, targets: int, *, one_to_one: bool) -> list[str]:
    """Arrows from one column to the next: box to box when one side has a single box (or each statement to its
    own source), else through a vertical bus so that many-to-many links stay readable."""
    x1, x2 = _x(column) + _BOX_W, _x(column + 1)
    mid = (_BOX_H / 2, x1 + _GAP_X / 2)
    out = []

    def path(d: str, arrow: bool) -> str:
        end = ' marker-end="url(#arrow)"' if arrow else ""
        return f'<path d="{d}" fill="none" stroke="#98a2b3" stroke-width="1"{end}/>'

    if one_to_one or sources == 1 or targets == 1:
        for a in range(sources):
            for b in range(targets):
                if not one_to_one or a == b:
                    y1, y2 = _y(a) + mid[0], _y(b) + mid[0]
                    out.append(path(f"M{x1},{y1} C{x1 + 18},{y1} {x2 - 18},{y2} {x2 - 1},{y2}", True))
        return out
    bus = mid[1]
    out += [path(f"M{x1},{_y(a) + mid[0]} H{bus}", False) for a in range(sources)]
    out.append(path(f"M{bus},{_y(0) + mid[0]} V{_y(max(sources, targets) - 1) + mid[0]}", False))
    out += [path(f"M{bus},{_y(b) + mid[0]} H{x2 - 1}", True) for b in range(targets)]
    return out


def _column_names(columns: list[list[_Row]], classes: bool, evidence: bool) -> list[str]:
    names = [n for n in _COLUMNS if (classes or n != "Inferred") and (evidence or n not in _COLUMNS[3:])]
    return names[: len(columns)]


def _x(column: int) -> int:
    return 4 + column * (_BOX_W + _GAP_X)


def _y(row: int) -> int:
    return _TOP + row * (_BOX_H + _GAP_Y)


def _box(x: int, y: int, kind: str, text: str, link: str | None) -> str:
    lines = textwrap.wrap(text, 31, max_lines=4, placeholder="…") or [""]
    spans = "".join(f'<tspan x="{x + 6}" dy="{13 if n else 0}">{escape(line)}</tspan>' for n, line in enumerate(lines))
    stroke = ' stroke="#f79009" stroke-width="2"' if kind == "unknown" else ' stroke="#d0d5dd"'
    box = (
        f'<g class="node {kind}"><title>{escape(text)}</title>'
        f'<rect x="{x}" y="{y}" width="{_BOX_W}" height="{_BOX_H}" rx="6" fill="{_FILL[kind]}"{stroke}/>'
        f'<text x="{x + 6}" y="{y + 14}" fill="#1d2330">{spans}</text></g>'
    )
    return f'<a href="{escape(link)}">{box}</a>' if link else box


# -- patient ---------------------------------------------------------------------------------------------------


def _patient_body(result: Recommendations, refs: References) -> list[str]:
    out: list[str] = []
    for title, recs in patient_sections(result):
        out.append(f"<section><h2>{escape(title)}</h2>")
        for rec in recs:
            when = when_for_patients(rec)
            out += [
                f'<article class="rec" data-identifier="{escape(rec.identifier)}">',
                f"<h3>{_draft(rec)}{escape(str(rec.patient_label))} {_ref_links(refs.cite(rec))}</h3>",
                f'<p class="meta">{escape(when)}</p>' if when else "",
                f"<p>{escape(rec.patient_explanation)}</p>" if rec.patient_explanation else "",
                "</article>",
            ]
        out.append("</section>")
    if result.missing:
        out.append('<section id="missing" class="missing"><h2>Questions your care team still needs to ask you</h2>')
        out += ["<ul>", *(f"<li>{escape(m.patient_label or m.label)}</li>" for m in result.missing), "</ul>"]
        out.append("<p>Nobody has recorded yet whether you have these. Tell your care team now if you do.</p>")
        out.append("</section>")
    return [line for line in out if line]


# -- shared ----------------------------------------------------------------------------------------------------


def _references(refs: References, *, notes: bool) -> str:
    """The numbered references with their links; `notes` adds what in each is unverified (for clinicians)."""
    items = []
    for n, iri in enumerate(refs.order, 1):
        link, note = refs.links[iri], refs.notes[iri] if notes else None
        items.append(
            f'<li id="ref-{n}">{escape(refs.citations[iri])}'
            + (f' <a href="{escape(link)}">{escape(link)}</a>' if link else "")
            + (f" ({escape(note)})" if note else "")
            + "</li>"
        )
    return '<section id="references"><h2>References</h2><ol>' + "".join(items) + "</ol></section>"


def _footer(result: Recommendations, audience: str) -> str:
    if audience == "patient":
        return f"<footer><p><em>{escape(PATIENT_NOTE)}</em></p></footer>"
    return f"<footer><p>{escape(footer_text(result))}</p><p><em>{escape(DISCLAIMER)}</em></p></footer>"
