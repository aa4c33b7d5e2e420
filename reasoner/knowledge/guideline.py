"""The guideline: every Turtle file under ontology/, read once per content hash, with lookups for reporting."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import owlrl
from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from reasoner._paths import data_dir
from reasoner.errors import GuidelineError
from reasoner.knowledge import cache as _cache
from reasoner.knowledge.closure import owl_rl_closure
from reasoner.namespaces import DCTERMS, GR, OWL, RDF, RDFS, SKOS
from reasoner.rdf.index import TripleIndex
from reasoner.rdf.rdfio import ReadError, parse_file

__all__ = ["Evidence", "Guideline", "RecommendationSpec", "SourceSpec", "load_guideline"]


@dataclass(frozen=True)
class SourceSpec:
    iri: str
    label: str
    citation: str
    doi: str | None
    url: str | None
    jurisdiction: str | None
    unverified: str | None


@dataclass(frozen=True)
class Evidence:
    """One evidence statement, with its grade exactly as its source gave it."""

    iri: str
    order: int
    source: SourceSpec
    statement: str
    strength: str | None
    strength_rank: int
    quality: str | None
    rating: str | None
    unverified: str | None


@dataclass(frozen=True)
class RecommendationSpec:
    """A recommendation as authored: what the generic rule and the report need to know about it."""

    iri: str
    identifier: str
    label: str
    definition: str
    kind: str
    target: str
    urgency: str | None
    urgency_rank: int
    within_hours: int | None
    timing: str | None
    condition: str | None
    rationale: str | None
    pitfalls: tuple[str, ...]
    eligibility: tuple[str, ...]
    exclusions: tuple[str, ...]
    considers: tuple[str, ...]
    superseded_by: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    review_status: str
    project_defined: tuple[str, ...]

    @property
    def primary(self) -> Evidence | None:
        return self.evidence[0] if self.evidence else None


class Guideline:
    """The asserted guideline graph (all modules plus the core) and lookups derived from it."""

    def __init__(self, graph: Graph, *, inferred: Graph, files: tuple[Path, ...], content_hash: str) -> None:
        self.graph = graph
        self.inferred = inferred  # the OWL 2 RL consequences of `graph` alone (see closure())
        self._labels: dict[Node, str] = {}
        self._closure_index: TripleIndex | None = None
        self.files = files
        self.content_hash = content_hash
        modules = [s for s in graph.subjects(RDF.type, GR.Guideline) if isinstance(s, URIRef)]
        if len(modules) != 1:
            raise GuidelineError(f"expected exactly one gr:Guideline module, found {len(modules)}")
        self.iri = str(modules[0])
        self.version_iri = _one_str(graph, modules[0], OWL.versionIRI)
        self.version = _one_str(graph, modules[0], OWL.versionInfo)
        self.modified = _one_str(graph, modules[0], DCTERMS.modified)
        self.title = self.label(modules[0])
        self.review_status = self.notation(graph.value(modules[0], GR.reviewStatus))
        self.sources = {str(s): self._source(s) for s in graph.subjects(RDF.type, GR.Source)}
        self.recommendations = {str(r): self._recommendation(r) for r in graph.subjects(RDF.type, GR.Recommendation)}

    def closure(self) -> Graph:
        """The guideline's own OWL 2 RL closure: asserted plus inferred triples, blank nodes shared."""
        out = Graph()
        out += self.graph
        out += self.inferred
        return out

    def closure_index(self) -> TripleIndex:
        """The closure as an index for lookups, built on first use."""
        if self._closure_index is None:
            self._closure_index = TripleIndex(self.closure())
        return self._closure_index

    # -- lookups -------------------------------------------------------------------------------------------

    def label(self, node: Node | None) -> str:
        if node is None:
            return ""
        found = self._labels.get(node)
        if found is None:
            value = self.graph.value(node, RDFS.label)
            found = str(value) if value is not None else str(node).rsplit("#", 1)[-1].rsplit("/", 1)[-1]
            if len(self._labels) < 100_000:  # guideline terms recur on every patient; patient nodes do not
                self._labels[node] = found
        return found

    def notation(self, node: Node | None) -> str:
        value = self.graph.value(node, SKOS.notation) if node is not None else None
        return str(value) if value is not None else self.label(node)

    def codes(self, node: URIRef) -> list[str]:
        """Verified codes of a concept as "system|code"; unverified codes are never reported."""
        out = []
        for coding in self.graph.objects(node, GR.coding):
            system, code = self.graph.value(coding, GR.system), self.graph.value(coding, GR.code)
            if system is None or code is None or self.graph.value(coding, GR.unverified) is not None:
                continue
            out.append(f"{system}|{code}")
        return sorted(out)

    def rank(self, node: Node | None) -> int:
        value = self.graph.value(node, GR.rank) if node is not None else None
        return int(str(value)) if value is not None else 0

    def evidence_summary(self, node: URIRef) -> tuple[str, list[SourceSpec]] | None:
        """What the evidence says of a drug or therapy: its own summary, else its nearest class's."""
        queue: list[Node] = [node]
        seen: set[Node] = set()
        while queue:
            current = queue.pop(0)
            if current in seen:
                continue
            seen.add(current)
            text = self.graph.value(current, GR.evidenceSummary)
            if text is not None:
                srcs = [self.sources[str(s)] for s in self.graph.objects(current, GR.evidenceSource)]
                return str(text), sorted(srcs, key=lambda s: s.iri)
            queue.extend(self.graph.objects(current, RDF.type))
            queue.extend(self.graph.objects(current, RDFS.subClassOf))
        return None

    # -- construction --------------------------------------------------------------------------------------

    def _source(self, node: Node) -> SourceSpec:
        g = self.graph
        jurisdiction = g.value(node, GR.jurisdiction)
        return SourceSpec(
            iri=str(node),
            label=self.label(node),
            citation=str(g.value(node, DCTERMS.bibliographicCitation) or self.label(node)),
            doi=_opt(g.value(node, GR.doi)),
            url=_opt(g.value(node, GR.url)),
            jurisdiction=self.notation(jurisdiction) if jurisdiction is not None else None,
            unverified=_opt(g.value(node, GR.unverified)),
        )

    def _evidence(self, node: Node) -> Evidence:
        g = self.graph
        source = g.value(node, GR.source)
        if source is None or str(source) not in self.sources:
            raise GuidelineError(f"evidence statement {node} has no known gr:source")
        strength = g.value(node, GR.strength)
        quality = g.value(node, GR.quality)
        rating = g.value(node, GR.rating)
        order = g.value(node, GR.order)
        return Evidence(
            iri=str(node),
            order=int(str(order)) if order is not None else 99,
            source=self.sources[str(source)],
            statement=str(g.value(node, GR.statement) or ""),
            strength=self.label(strength) if strength is not None else None,
            strength_rank=self.rank(strength) if strength is not None else self.rank(rating),
            quality=self.label(quality) if quality is not None else None,
            rating=self.label(rating) if rating is not None else None,
            unverified=_opt(g.value(node, GR.unverified)),
        )

    def _recommendation(self, node: Node) -> RecommendationSpec:
        g = self.graph

        def iris(prop: URIRef) -> tuple[str, ...]:
            return tuple(sorted(str(o) for o in g.objects(node, prop)))

        action = g.value(node, GR.action)
        target = g.value(node, GR.target)
        if action is None or target is None:
            raise GuidelineError(f"recommendation {node} needs gr:action and gr:target")
        urgency = g.value(node, GR.urgency)
        within = g.value(node, GR.withinHours)
        evidence = sorted((self._evidence(e) for e in g.objects(node, GR.evidence)), key=lambda e: (e.order, e.iri))
        status = g.value(node, GR.reviewStatus)
        return RecommendationSpec(
            iri=str(node),
            identifier=str(g.value(node, DCTERMS.identifier) or self.label(node)),
            label=self.label(node),
            definition=str(g.value(node, SKOS.definition) or ""),
            kind=self.notation(action),
            target=str(target),
            urgency=self.notation(urgency) if urgency is not None else None,
            urgency_rank=self.rank(urgency),
            within_hours=int(str(within)) if within is not None else None,
            timing=_opt(g.value(node, GR.timing)),
            condition=_opt(g.value(node, GR.condition)),
            rationale=_opt(g.value(node, GR.rationale)),
            pitfalls=tuple(sorted(str(p) for p in g.objects(node, GR.pitfall))),
            eligibility=iris(GR.eligibility),
            exclusions=iris(GR.exclusion),
            considers=iris(GR.considers),
            superseded_by=iris(GR.supersededBy),
            evidence=tuple(evidence),
            review_status=self.notation(status) if status is not None else "draft",
            project_defined=tuple(sorted(str(p) for p in g.objects(node, GR.projectDefined))),
        )


def _opt(value: object) -> str | None:
    return str(value) if value is not None else None


def _one_str(graph: Graph, node: Node, prop: URIRef) -> str:
    value = graph.value(node, prop)
    if value is None:
        raise GuidelineError(f"guideline module {node} lacks {prop}")
    return str(value.toPython()) if isinstance(value, Literal) else str(value)


def guideline_files(root: Path) -> tuple[Path, ...]:
    return tuple(sorted(p for p in root.rglob("*.ttl") if p.is_file()))


def load_guideline(root: Path | None = None, *, cache_root: Path | None = None) -> Guideline:
    """Load the guideline under `root` (default: the bundled ontology/) with its OWL 2 RL closure.

    Cached in memory and on disk (reasoner.knowledge.cache) by the files' content hash: a changed file is recompiled.
    """
    base = (root or data_dir("ontology")).resolve()
    files = guideline_files(base)
    if not files:
        raise GuidelineError(f"{base}: no .ttl guideline files found")
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(base)).encode())
        digest.update(path.read_bytes())
    digest.update(f"owlrl {owlrl.__version__}".encode())
    return _load(files, digest.hexdigest(), cache_root)


def read_asserted(files: tuple[Path, ...]) -> Graph:
    """The guideline files parsed into one graph (no closure); a file that cannot be read is a GuidelineError."""
    asserted = Graph()
    for path in files:
        try:
            parse_file(asserted, path)
        except ReadError as exc:
            raise GuidelineError(str(exc)) from exc
    return asserted


@cache
def _load(files: tuple[Path, ...], content_hash: str, cache_root: Path | None) -> Guideline:
    cached = _cache.read(content_hash, root=cache_root)
    if cached is not None:
        asserted, inferred = cached
    else:
        asserted = read_asserted(files)
        inferred = owl_rl_closure(asserted)
        _cache.write(content_hash, asserted, inferred, root=cache_root)
    return Guideline(asserted, inferred=inferred, files=files, content_hash=content_hash)
