"""The typed result of `recommend`: what applies, what was blocked and why, what is missing, with provenance."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from rdflib import Graph, Literal, URIRef

from reasoner.namespaces import DCTERMS, DERIVED, GR, PROV, RDF, RDFS, XSD

__all__ = [
    "AppliedRecommendation",
    "Fact",
    "GuidelineInfo",
    "Missing",
    "PriorTreatment",
    "Recommendations",
    "SourceRef",
    "Suppressed",
    "Target",
]

SOFTWARE = "guideline-reasoner 0.1.0"


@dataclass(frozen=True)
class Fact:
    """A patient record (or the patient) that contributed to a conclusion."""

    iri: str
    label: str

    def to_json(self) -> dict[str, str]:
        return {"iri": self.iri, "label": self.label}


@dataclass(frozen=True)
class Target:
    iri: str
    label: str
    codes: list[str]

    def to_json(self) -> dict[str, Any]:
        return {"iri": self.iri, "label": self.label, "codes": list(self.codes)}


@dataclass(frozen=True)
class SourceRef:
    """One evidence statement behind a recommendation, with the grade its source gave."""

    iri: str
    evidence: str
    label: str
    citation: str
    doi: str | None
    url: str | None
    statement: str
    strength: str | None
    quality: str | None
    rating: str | None
    jurisdiction: str | None
    unverified: str | None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"iri": self.iri, "citation": self.citation}
        if self.doi:
            out["doi"] = self.doi
        if self.url:
            out["url"] = self.url
        out.update(
            statement=self.statement,
            evidence=self.evidence,
            strength=self.strength,
            quality=self.quality,
            rating=self.rating,
            jurisdiction=self.jurisdiction,
        )
        if self.unverified:
            out["unverified"] = self.unverified
        return out


@dataclass(frozen=True)
class AppliedRecommendation:
    id: str
    identifier: str
    label: str
    kind: str
    target: Target
    urgency: str | None
    within_hours: int | None
    timing: str | None
    condition: str | None
    strength: str | None
    quality: str | None
    rating: str | None
    sources: list[SourceRef]
    because: list[Fact]
    via: list[str]
    project_defined: list[str]
    review_status: str
    rationale: str | None
    pitfalls: list[str]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "identifier": self.identifier,
            "label": self.label,
            "kind": self.kind,
            "target": self.target.to_json(),
            "urgency": self.urgency,
            "within_hours": self.within_hours,
            "timing": self.timing,
            "condition": self.condition,
            "strength": self.strength,
            "quality": self.quality,
            "rating": self.rating,
            "sources": [s.to_json() for s in self.sources],
            "because": [f.to_json() for f in self.because],
            "via": list(self.via),
            "project_defined": list(self.project_defined),
            "review_status": self.review_status,
            "rationale": self.rationale,
        }


@dataclass(frozen=True)
class Suppressed:
    id: str
    identifier: str
    label: str
    kind: str
    by: list[str]
    by_labels: list[str]
    because: list[Fact]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "identifier": self.identifier,
            "label": self.label,
            "kind": self.kind,
            "by": list(self.by),
            "by_labels": list(self.by_labels),
            "because": [f.to_json() for f in self.because],
        }


@dataclass(frozen=True)
class Missing:
    finding: str
    label: str
    needed_for: list[str]
    record: str

    def to_json(self) -> dict[str, Any]:
        return {"finding": self.finding, "label": self.label, "needed_for": list(self.needed_for)}


@dataclass(frozen=True)
class PriorTreatment:
    """A course the patient has had, with its response and what the evidence says of that treatment."""

    iri: str
    label: str
    agent: str
    response: str
    current: bool
    evidence: str | None
    sources: list[str]


@dataclass(frozen=True)
class GuidelineInfo:
    iri: str
    version: str
    version_iri: str
    modified: str
    title: str
    review_status: str


@dataclass
class Recommendations:
    """The result of evaluating one patient: ordered recommendations, suppressed ones, missing data."""

    patient: str
    as_of: str
    guideline: GuidelineInfo
    engine: str
    jurisdiction: str
    headline: str
    recommendations: list[AppliedRecommendation]
    suppressed: list[Suppressed]
    missing: list[Missing]
    prior_treatments: list[PriorTreatment] = field(default_factory=list)
    derived: Graph = field(default_factory=Graph, repr=False)

    def by_identifier(self) -> dict[str, AppliedRecommendation]:
        return {r.identifier: r for r in self.recommendations}

    def to_json(self) -> dict[str, Any]:
        return {
            "patient": self.patient,
            "as_of": self.as_of,
            "guideline": {
                "iri": self.guideline.iri,
                "version": self.guideline.version,
                "version_iri": self.guideline.version_iri,
                "modified": self.guideline.modified,
            },
            "engine": self.engine,
            "jurisdiction": self.jurisdiction,
            "headline": self.headline,
            "recommendations": [r.to_json() for r in self.recommendations],
            "suppressed": [s.to_json() for s in self.suppressed],
            "missing": [m.to_json() for m in self.missing],
        }

    def to_markdown(self) -> str:
        from reasoner.report import markdown

        return markdown(self)

    @property
    def run_iri(self) -> URIRef:
        key = "|".join((self.patient, self.as_of, self.guideline.version_iri, self.engine, self.jurisdiction))
        return DERIVED["run/" + hashlib.sha1(key.encode()).hexdigest()[:20]]

    def to_graph(self) -> Graph:
        """The derivation as PROV-O: the run, each recommendation with the facts, classes, guideline statement,
        evidence and source behind it, the suppressed recommendations and the missing findings. IRIs are
        deterministic, so the same patient, date, guideline version and engine always give the same graph."""
        g = Graph()
        g.bind("gr", GR)
        g.bind("prov", PROV)
        run, patient, version = self.run_iri, URIRef(self.patient), URIRef(self.guideline.version_iri)
        agent = DERIVED["agent/" + SOFTWARE.replace(" ", "/")]
        g.add((run, RDF.type, GR.ReasoningRun))
        g.add((run, RDF.type, PROV.Activity))
        g.add((run, PROV.used, patient))
        g.add((run, PROV.used, version))
        g.add((run, GR.asOf, Literal(self.as_of, datatype=XSD.date)))
        g.add((run, GR.engine, Literal(self.engine)))
        g.add((run, GR.jurisdictionApplied, Literal(self.jurisdiction)))
        g.add((run, PROV.wasAssociatedWith, agent))
        g.add((agent, RDF.type, PROV.SoftwareAgent))
        g.add((agent, RDFS.label, Literal(SOFTWARE)))
        g.add((version, RDF.type, PROV.Entity))
        g.add((version, DCTERMS.isVersionOf, URIRef(self.guideline.iri)))
        base = str(run)
        for rec in self.recommendations:
            node = URIRef(f"{base}/rec/{rec.identifier}")
            g.add((node, RDF.type, GR.PatientRecommendation))
            g.add((node, RDF.type, PROV.Entity))
            g.add((node, RDFS.label, Literal(rec.label)))
            g.add((node, GR.recommendation, URIRef(rec.id)))
            g.add((node, GR.patient, patient))
            g.add((node, GR.guidelineVersion, version))
            g.add((node, PROV.wasGeneratedBy, run))
            g.add((node, PROV.wasDerivedFrom, URIRef(rec.id)))
            if rec.urgency:
                g.add((node, GR.urgency, GR[rec.urgency.capitalize()]))
            if rec.within_hours is not None:
                g.add((node, GR.withinHours, Literal(rec.within_hours)))
            for fact in rec.because:
                g.add((node, PROV.wasDerivedFrom, URIRef(fact.iri)))
            for cls in rec.via:
                g.add((node, GR.via, URIRef(cls)))
            for src in rec.sources:
                ev = URIRef(src.evidence)
                g.add((node, PROV.wasDerivedFrom, ev))
                g.add((URIRef(rec.id), GR.evidence, ev))
                g.add((ev, GR.source, URIRef(src.iri)))
                g.add((URIRef(src.iri), DCTERMS.bibliographicCitation, Literal(src.citation)))
            for name in rec.project_defined:
                g.add((node, GR.projectDefined, Literal(name)))
        for sup in self.suppressed:
            node = URIRef(f"{base}/suppressed/{sup.identifier}")
            g.add((node, RDF.type, GR.SuppressedRecommendation))
            g.add((node, GR.recommendation, URIRef(sup.id)))
            g.add((node, GR.patient, patient))
            g.add((node, PROV.wasGeneratedBy, run))
            for by in sup.by:
                g.add((node, GR.blockedBy, URIRef(by)))
            for fact in sup.because:
                g.add((node, PROV.wasDerivedFrom, URIRef(fact.iri)))
        for miss in self.missing:
            node = URIRef(f"{base}/missing/{miss.finding.rsplit('#', 1)[-1]}")
            g.add((node, RDF.type, GR.MissingFinding))
            g.add((node, GR.finding, URIRef(miss.finding)))
            g.add((node, GR.patient, patient))
            g.add((node, PROV.wasGeneratedBy, run))
            g.add((node, PROV.wasDerivedFrom, URIRef(miss.record)))
            for rec_iri in miss.needed_for:
                g.add((node, GR.neededFor, URIRef(rec_iri)))
        g += self.derived
        return g
