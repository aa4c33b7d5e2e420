"""The typed result of `recommend`: what applies, what was blocked and why, what is missing, with provenance."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from reasoner.input.patient import UnmappedCode
from reasoner.knowledge.wording import Wording
from reasoner.namespaces import DCTERMS, DERIVED, GR, OWL, PROV, RDF, RDFS, XSD

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
# How a withheld recommendation names what withheld it, one predicate per reason (Suppressed.reasons).
_WITHHELD_BY = {"exclusion": GR.excludedByClass, "superseded": GR.supersededByRecommendation, "conflict": GR.yieldedTo}
# Review statuses by their notation: the PROV graph says which advice was not approved (drafts applied on request).
# The run-level summary of a withheld recommendation, per reason kind (gr:withheldAdvice is written for any reason).
_WITHHELD_AS = {
    "exclusion": GR.withheldAsExcluded,
    "superseded": GR.withheldAsSuperseded,
    "conflict": GR.withheldAsYielded,
}
_RED_FLAG = {"present": GR.redFlagPresent, "unknown": GR.redFlagUnknown, "absent": GR.redFlagAbsent}
_REVIEW_STATUS = {"approved": GR.Approved, "under-review": GR.UnderReview, "draft": GR.Draft, "retired": GR.Retired}


@dataclass(frozen=True)
class Fact:
    """A patient record (or the patient) that contributed to a conclusion; `source` is the input it was read from
    when the input names one (the FHIR resource of a record read from a Bundle)."""

    iri: str
    label: str
    source: str | None = None

    def to_json(self) -> dict[str, str]:
        out = {"iri": self.iri, "label": self.label}
        if self.source:
            out["source"] = self.source
        return out


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
    # Plain-language text for the patient version (gr:patientLabel, gr:patientExplanation); None when the
    # recommendation is for clinicians only (gr:clinicianOnly) or has none.
    patient_label: str | None = None
    patient_explanation: str | None = None
    module: str = ""  # the guideline module it belongs to, and that module's version IRI
    module_version: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "identifier": self.identifier,
            "module": self.module,
            "module_version": self.module_version,
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
    """A recommendation the patient was eligible for but did not get. `by` names what withheld it and `reasons`,
    item for item, how: "exclusion" (an exclusion class the patient is in), "superseded" (a recommendation given
    that supersedes it) or "conflict" (another module's recommendation a conflict rule let prevail)."""

    id: str
    identifier: str
    label: str
    kind: str
    by: list[str]
    by_labels: list[str]
    reasons: list[str]
    because: list[Fact]
    module: str = ""
    module_version: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "identifier": self.identifier,
            "module": self.module,
            "module_version": self.module_version,
            "label": self.label,
            "kind": self.kind,
            "by": list(self.by),
            "by_labels": list(self.by_labels),
            "reasons": list(self.reasons),
            "because": [f.to_json() for f in self.because],
        }


@dataclass(frozen=True)
class Missing:
    finding: str
    label: str
    needed_for: list[str]
    record: str
    patient_label: str | None = None  # the finding in plain language (gr:patientLabel), for the patient version
    modules: list[str] = field(default_factory=list)  # the modules that treat the finding as a red flag

    def to_json(self) -> dict[str, Any]:
        return {
            "finding": self.finding,
            "label": self.label,
            "needed_for": list(self.needed_for),
            "modules": list(self.modules),
        }


@dataclass(frozen=True)
class ConflictSide:
    """One of two conflicting recommendations, with what it rests on: its grade, facts and inferred classes."""

    id: str
    identifier: str
    label: str
    kind: str
    target: str
    module: str
    module_version: str
    strength: str | None
    quality: str | None
    rating: str | None
    because: list[Fact]
    via: list[str]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "identifier": self.identifier,
            "label": self.label,
            "kind": self.kind,
            "target": self.target,
            "module": self.module,
            "module_version": self.module_version,
            "strength": self.strength,
            "quality": self.quality,
            "rating": self.rating,
            "because": [f.to_json() for f in self.because],
            "via": list(self.via),
        }


@dataclass(frozen=True)
class Conflict:
    """Two modules' recommendations for this patient that contradict each other (opposed actions on overlapping
    targets). Resolved by a declared rule (the yielding one is withheld and listed as suppressed by the prevailing
    one), or unresolved: both are given, and the clinician decides."""

    first: ConflictSide
    second: ConflictSide
    rule: str | None  # the gr:ConflictRule that resolved it
    rule_label: str | None
    prevailing: str | None  # the id of the recommendation that prevails

    def to_json(self) -> dict[str, Any]:
        return {
            "recommendations": [self.first.to_json(), self.second.to_json()],
            "resolution": (
                {"rule": self.rule, "label": self.rule_label, "prevailing": self.prevailing} if self.rule else None
            ),
        }


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
    wording: Wording = field(repr=False)  # what the reports call things, from the modules' Turtle
    labels: dict[str, str] = field(repr=False)  # labels of the inferred classes the recommendations went through
    prior_treatments: list[PriorTreatment] = field(default_factory=list)
    derived: Graph = field(default_factory=Graph, repr=False)
    unmapped: list[UnmappedCode] = field(default_factory=list)
    guidelines: list[GuidelineInfo] = field(default_factory=list)  # every module applied (the patient in scope)
    conflicts: list[Conflict] = field(default_factory=list)
    red_flags: dict[str, str] = field(default_factory=dict, repr=False)  # field -> "present", "unknown" or "absent"
    fact_kinds: dict[str, list[str]] = field(default_factory=dict, repr=False)  # recommendation given -> fact kinds

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
            "guidelines": [
                {
                    "iri": g.iri,
                    "version": g.version,
                    "version_iri": g.version_iri,
                    "modified": g.modified,
                    "title": g.title,
                }
                for g in self.guidelines
            ],
            "engine": self.engine,
            "jurisdiction": self.jurisdiction,
            "headline": self.headline,
            "recommendations": [r.to_json() for r in self.recommendations],
            "suppressed": [s.to_json() for s in self.suppressed],
            "missing": [m.to_json() for m in self.missing],
            "conflicts": [c.to_json() for c in self.conflicts],
            "unmapped": [u.to_json() for u in self.unmapped],
        }

    def to_markdown(self, *, audience: str = "clinician") -> str:
        from reasoner.output.report import markdown

        return markdown(self, audience=audience)

    def to_html(self, *, audience: str = "clinician") -> str:
        from reasoner.output.report_html import html

        return html(self, audience=audience)

    @property
    def versions_key(self) -> str:
        """The versions applied, as one string: the first module's version IRI, then any others (sorted)."""
        others = sorted(g.version_iri for g in self.guidelines if g.version_iri != self.guideline.version_iri)
        return " ".join((self.guideline.version_iri, *others))

    @property
    def run_iri(self) -> URIRef:
        key = "|".join((self.patient, self.as_of, self.versions_key, self.engine, self.jurisdiction))
        return DERIVED["run/" + hashlib.sha1(key.encode()).hexdigest()[:20]]

    def to_graph(self, *, guideline_statements: bool = True) -> Graph:
        """The derivation as PROV-O: the run, each recommendation with the facts, classes, guideline statement,
        evidence and source behind it, the suppressed recommendations and the missing findings. IRIs are
        deterministic, so the same patient, date, guideline version and engine always give the same graph.
        Without `guideline_statements`, what the guideline itself says (each recommendation's evidence statements,
        their sources and citations) is left out: the cohort store holds that once, in the version's graph."""
        g = Graph()
        g.bind("gr", GR)
        g.bind("prov", PROV)
        for triple in self.triples(guideline_statements=guideline_statements):
            g.add(triple)
        return g

    def _episode(self, add: Callable[[tuple[Node, Node, Node]], None], run: URIRef) -> None:
        """The episode on the run: its length is the greatest gr:durationDays a feature rule derived (on the
        episode's earliest records), its start that many days before the evaluation date."""
        days = [int(d.toPython()) for d in self.derived.objects(None, GR.durationDays) if isinstance(d, Literal)]
        if days:
            longest = max(days)
            start = date.fromisoformat(self.as_of) - timedelta(days=longest)
            add((run, GR.episodeDays, Literal(longest)))
            add((run, GR.episodeStart, Literal(start.isoformat(), datatype=XSD.date)))

    def _summary(self, add: Callable[[tuple[Node, Node, Node]], None], run: URIRef) -> None:
        """The evaluation's summary on the run, one triple per item: advice given and withheld (with the reason
        kinds), each red-flag field's status and each missing finding. Cohort counts read these single patterns."""
        for rec in self.recommendations:
            add((run, GR.gaveAdvice, URIRef(rec.id)))
        for sup in self.suppressed:
            add((run, GR.withheldAdvice, URIRef(sup.id)))
            for reason in dict.fromkeys(sup.reasons):
                add((run, _WITHHELD_AS[reason], URIRef(sup.id)))
        for field_iri, status in self.red_flags.items():
            add((run, _RED_FLAG[status], URIRef(field_iri)))
        for miss in self.missing:
            add((run, GR.findingMissing, URIRef(miss.finding)))

    def triples(self, *, guideline_statements: bool = True) -> list[tuple[Node, Node, Node]]:
        """The triples of `to_graph()` without building an rdflib Graph (the batch writes them straight to the
        store; building the Graph costs more than deriving the recommendations)."""
        out: list[tuple[Node, Node, Node]] = []
        add = out.append
        run, patient, version = self.run_iri, URIRef(self.patient), URIRef(self.guideline.version_iri)
        agent = DERIVED["agent/" + SOFTWARE.replace(" ", "/")]
        add((run, RDF.type, GR.ReasoningRun))
        add((run, RDF.type, PROV.Activity))
        add((run, PROV.used, patient))
        for info in self.guidelines:  # the versions applied: none for a patient outside every module's scope
            used = URIRef(info.version_iri)
            add((run, PROV.used, used))
            add((used, RDF.type, PROV.Entity))
            add((used, DCTERMS.isVersionOf, URIRef(info.iri)))
            add((used, OWL.versionInfo, Literal(info.version)))
        add((run, GR.asOf, Literal(self.as_of, datatype=XSD.date)))
        add((run, GR.engine, Literal(self.engine)))
        add((run, GR.jurisdictionApplied, Literal(self.jurisdiction)))
        add((run, PROV.wasAssociatedWith, agent))
        add((agent, RDF.type, PROV.SoftwareAgent))
        add((agent, RDFS.label, Literal(SOFTWARE)))
        self._episode(add, run)
        self._summary(add, run)
        base = str(run)

        def derived(node: URIRef, kind: URIRef, item: URIRef) -> None:
            # The PROV sub-property says what kind of item it is; the plain triple keeps PROV-only clients whole.
            add((node, kind, item))
            add((node, PROV.wasDerivedFrom, item))

        def fact_source(fact: Fact) -> None:
            if fact.source:
                add((URIRef(fact.iri), PROV.wasDerivedFrom, URIRef(fact.source)))

        for rec in self.recommendations:
            node = URIRef(f"{base}/rec/{rec.identifier}")
            add((node, RDF.type, GR.PatientRecommendation))
            add((node, RDF.type, PROV.Entity))
            add((node, RDFS.label, Literal(rec.label)))
            add((node, GR.recommendation, URIRef(rec.id)))
            add((node, GR.patient, patient))
            add((node, GR.guidelineVersion, URIRef(rec.module_version) if rec.module_version else version))
            add((node, GR.reviewStatus, _REVIEW_STATUS.get(rec.review_status, GR.Draft)))
            add((node, PROV.wasGeneratedBy, run))
            derived(node, GR.fromGuidelineStatement, URIRef(rec.id))
            if rec.urgency:
                add((node, GR.urgency, GR[rec.urgency.capitalize()]))
            if rec.within_hours is not None:
                add((node, GR.withinHours, Literal(rec.within_hours)))
            for fact in rec.because:
                derived(node, GR.fromPatientFact, URIRef(fact.iri))
                fact_source(fact)
            for cls in rec.via:
                add((node, GR.via, URIRef(cls)))
            for kind in self.fact_kinds.get(rec.id, ()):
                add((node, GR.factKind, URIRef(kind)))
            for src in rec.sources:
                ev = URIRef(src.evidence)
                derived(node, GR.fromGuidelineStatement, ev)
                if guideline_statements:
                    add((URIRef(rec.id), GR.evidence, ev))
                    add((ev, GR.source, URIRef(src.iri)))
                    add((URIRef(src.iri), DCTERMS.bibliographicCitation, Literal(src.citation)))
            for name in rec.project_defined:
                add((node, GR.projectDefined, Literal(name)))
        for sup in self.suppressed:
            node = URIRef(f"{base}/suppressed/{sup.identifier}")
            add((node, RDF.type, GR.SuppressedRecommendation))
            add((node, GR.withheldRecommendation, URIRef(sup.id)))
            add((node, GR.patient, patient))
            add((node, PROV.wasGeneratedBy, run))
            for by, reason in zip(sup.by, sup.reasons, strict=True):
                add((node, _WITHHELD_BY[reason], URIRef(by)))
            for fact in sup.because:
                derived(node, GR.fromBlockingFact, URIRef(fact.iri))
                fact_source(fact)
        for conflict in self.conflicts:
            sides = (conflict.first, conflict.second)
            node = URIRef(f"{base}/conflict/{conflict.first.identifier}/{conflict.second.identifier}")
            add((node, RDF.type, GR.GuidelineConflict))
            add((node, GR.patient, patient))
            add((node, PROV.wasGeneratedBy, run))
            for side in sides:
                add((node, GR.recommendation, URIRef(side.id)))
                for fact in side.because:
                    derived(node, GR.fromPatientFact, URIRef(fact.iri))
            if conflict.rule:
                add((node, GR.resolvedBy, URIRef(conflict.rule)))
            if conflict.prevailing:
                add((node, GR.prevailing, URIRef(conflict.prevailing)))
        for miss in self.missing:
            node = URIRef(f"{base}/missing/{miss.finding.rsplit('#', 1)[-1]}")
            add((node, RDF.type, GR.MissingFinding))
            add((node, GR.finding, URIRef(miss.finding)))
            add((node, GR.patient, patient))
            add((node, PROV.wasGeneratedBy, run))
            derived(node, GR.fromPatientFact, URIRef(miss.record))
            for rec_iri in miss.needed_for:
                add((node, GR.neededFor, URIRef(rec_iri)))
        out.extend(self.derived)
        return out
