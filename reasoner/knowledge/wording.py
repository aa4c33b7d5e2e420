"""What reports call things, read from the core and the modules' Turtle: section titles, the patient headline, and
what each jurisdiction applies. Python holds no wording of a guideline's own."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rdflib import Literal, URIRef
from rdflib.term import Node

from reasoner.knowledge.guideline import Guideline, Module
from reasoner.namespaces import GR, OWL, RDF, RDFS, SKOS

__all__ = ["Section", "Wording", "wording"]


@dataclass(frozen=True)
class Section:
    key: str  # an id for the HTML (skos:notation, else the label)
    title: str
    kinds: tuple[str, ...]  # action kinds (notations) whose recommendations it holds


@dataclass(frozen=True)
class Wording:
    sections: tuple[Section, ...]
    patient_sections: tuple[Section, ...]
    patient_headline: str
    jurisdictions: dict[str, str]  # "US", "UK", "both" -> which sources apply where sources conflict


def wording(gl: Guideline, modules: Sequence[Module]) -> Wording:
    """The wording for a report on a patient in the scope of `modules`: a module's own titles when it is the only
    one, else the core's."""
    g = gl.graph
    own = URIRef(modules[0].iri) if len(modules) == 1 else None
    titles: dict[Node, str] = {}
    if own is not None:
        for node in g.objects(own, GR.sectionTitle):
            section, label = g.value(node, GR.section), g.value(node, RDFS.label)
            if section is not None and label is not None:
                titles[section] = str(label)

    def sections(kind: URIRef) -> tuple[Section, ...]:
        found = sorted(g.subjects(RDF.type, kind), key=lambda s: (int(str(g.value(s, GR.order) or 99)), str(s)))
        return tuple(
            Section(
                key=str(g.value(s, SKOS.notation) or gl.label(s)),
                title=titles.get(s) or gl.label(s),
                kinds=tuple(sorted(gl.notation(k) for k in g.objects(s, GR.sectionAction))),
            )
            for s in found
        )

    core = next((o for o in g.subjects(RDF.type, OWL.Ontology) if (o, GR.patientHeadline, None) in g), None)
    headline = g.value(own, GR.patientHeadline) if own is not None else None
    if headline is None and core is not None:
        headline = g.value(core, GR.patientHeadline)
    return Wording(
        sections=sections(GR.ReportSection),
        patient_sections=sections(GR.PatientReportSection),
        patient_headline=str(headline) if isinstance(headline, Literal) else "",
        jurisdictions=_jurisdictions(gl, modules),
    )


def _jurisdictions(gl: Guideline, modules: Sequence[Module]) -> dict[str, str]:
    """Per choice, the jurisdiction's name and the sources of the modules in scope it applies where sources
    conflict (sources of any jurisdiction apply where none conflict)."""
    g, names = gl.graph, {m.iri for m in modules}
    cited: dict[str, set[str]] = {}
    for rec in gl.recommendations.values():
        if rec.module in names:
            for ev in rec.evidence:
                if ev.source.jurisdiction:
                    cited.setdefault(ev.source.jurisdiction, set()).add(_short(gl, URIRef(ev.source.iri)))
    out = {}
    for choice, node in (("US", GR.US), ("UK", GR.UK)):
        others = sorted(gl.label(j) for j in g.subjects(RDF.type, GR.Jurisdiction) if j not in (node, GR.International))
        sources = ", ".join(sorted(cited.get(gl.notation(node), set()))) or "none cited"
        out[choice] = f"{gl.label(node)} ({sources}); statements of {' or '.join(others)} that conflict are not applied"
    both = " and ".join(sorted(gl.label(j) for j in (GR.US, GR.UK)))
    out["both"] = f"{both}; conflicting statements are shown side by side"
    return out


def _short(gl: Guideline, source: URIRef) -> str:
    notation = gl.graph.value(source, SKOS.notation)
    return str(notation) if notation is not None else gl.label(source)
