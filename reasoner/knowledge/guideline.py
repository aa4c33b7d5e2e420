"""The guideline: the core and a set of modules (reasoner.knowledge.modules), read once per content hash, with
lookups for reporting and what each module declares (its version, scope, red-flag fields, feature rules)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import owlrl
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.term import Node

from reasoner.errors import GuidelineError
from reasoner.knowledge import cache as _cache
from reasoner.knowledge.closure import owl_rl_closure
from reasoner.knowledge.modules import ModuleDir, Selection, select
from reasoner.knowledge.queries import RuleQuery, core_feature_files, read_query
from reasoner.namespaces import DCTERMS, GR, OWL, RDF, RDFS, SKOS
from reasoner.rdf.index import TripleIndex
from reasoner.rdf.rdfio import ReadError, parse_file

__all__ = ["Evidence", "Guideline", "Module", "RecommendationSpec", "SourceSpec", "load_guideline"]

VANN = Namespace("http://purl.org/vocab/vann/")


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
    asks_for: tuple[str, ...]  # red-flag fields reported missing only when a recommendation asking for them applies
    undecided_when: tuple[str, ...]  # patient classes whose unknown data leave the recommendation undecided
    superseded_by: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    review_status: str
    project_defined: tuple[str, ...]
    module: str

    @property
    def primary(self) -> Evidence | None:
        return self.evidence[0] if self.evidence else None


@dataclass(frozen=True)
class Module:
    """One loaded module: a guideline (a gr:Guideline, with a scope) or a vocabulary it imports."""

    iri: str
    version_iri: str
    version: str
    modified: str
    title: str
    review_status: str
    is_guideline: bool
    scope: str | None  # the class of patients the module applies to (gr:scope); None: every patient
    directory: Path
    prefix: str | None  # vann:preferredNamespacePrefix and vann:preferredNamespaceUri
    namespace: str | None
    # the fields whose unknown this module reports: its red flags (direct gr:RedFlag subclasses) and, when it
    # declares age bands (gr:olderThanYears, gr:notOlderThanYears), the date of birth
    fields: frozenset[str]


@dataclass(frozen=True)
class ConflictRule:
    """How a conflict between two modules' recommendations resolves (gr:ConflictRule)."""

    iri: str
    label: str
    prevailing: frozenset[str]  # action kinds (notations)
    yielding: frozenset[str]
    module: str | None  # the module whose recommendations prevail; None: any module's


class Guideline:
    """The core and the loaded modules: their asserted graph, each module's own graph, and lookups."""

    def __init__(self, graphs: list[Graph], *, inferred: Graph, selection: Selection, content_hash: str) -> None:
        if len(graphs) != 1 + len(selection.modules):
            raise GuidelineError("compiled guideline does not match its modules: recompile (clear the cache)")
        self.graph = Graph()
        for part in graphs:
            self.graph += part
        self._parts = graphs  # the core's, then each module's, in selection order
        self.inferred = inferred  # the OWL 2 RL consequences of `graph` alone (see closure())
        self._labels: dict[Node, str] = {}
        self._closure: Graph | None = None
        self._closure_index: TripleIndex | None = None
        self.selection = selection
        self.files = selection.files
        self.content_hash = content_hash
        self.modules = tuple(self._module(d, g) for d, g in zip(selection.modules, graphs[1:], strict=True))
        self.guidelines = tuple(m for m in self.modules if m.is_guideline)
        if not self.guidelines:
            raise GuidelineError("no guideline module loaded: a module directory declaring a gr:Guideline is needed")
        first = self.guidelines[0]  # what a single-guideline caller sees as "the" guideline
        self.iri, self.version_iri, self.version = first.iri, first.version_iri, first.version
        self.modified, self.title, self.review_status = first.modified, first.title, first.review_status
        self.sources = {str(s): self._source(s) for s in self.graph.subjects(RDF.type, GR.Source)}
        self.recommendations = {
            str(r): self._recommendation(r) for r in self.graph.subjects(RDF.type, GR.Recommendation)
        }
        self.asked_by = self._asked_by()
        self.opposes = {
            self.notation(kind): frozenset(self.notation(o) for o in self.graph.objects(kind, GR.opposes))
            for kind in self.graph.subjects(GR.opposes, None)
        }
        self.conflict_rules = tuple(
            ConflictRule(
                iri=str(rule),
                label=self.label(rule),
                prevailing=frozenset(self.notation(k) for k in self.graph.objects(rule, GR.prevailingAction)),
                yielding=frozenset(self.notation(k) for k in self.graph.objects(rule, GR.yieldingAction)),
                module=_opt(self.graph.value(rule, GR.prevailingModule)),
            )
            for rule in sorted(self.graph.subjects(RDF.type, GR.ConflictRule), key=str)
        )
        self._members: dict[str, frozenset[str]] = {}
        self._red_flag_fields: dict[URIRef, frozenset[str]] | None = None
        self.feature_rules: tuple[RuleQuery, ...] = tuple(
            read_query(path)
            for path in sorted(
                (*core_feature_files(), *(f for d in selection.modules for f in d.features)), key=lambda p: p.name
            )
        )

    def _asked_by(self) -> dict[str, frozenset[str]]:
        """Field -> the recommendations asking for it (gr:asksFor); a field no loaded module reports unknown is an
        error naming the recommendation, since it could never be reported missing."""
        fields = {f for m in self.modules for f in m.fields}
        asked: dict[str, set[str]] = {}
        for spec in self.recommendations.values():
            for f in spec.asks_for:
                if f not in fields:
                    raise GuidelineError(
                        f"recommendation {spec.iri} has gr:asksFor {f}; expected a field a loaded module "
                        "reports unknown (a direct rdfs:subClassOf gr:RedFlag, or gr:BirthDateField with age bands)"
                    )
                asked.setdefault(f, set()).add(spec.iri)
        return {f: frozenset(r) for f, r in asked.items()}

    def members(self, iri: str) -> frozenset[str]:
        """`iri`, its subclasses and every individual typed with one of them, in the guideline's closure."""
        found = self._members.get(iri)
        if found is None:
            index, root = self.closure_index(), URIRef(iri)
            classes = {root, *index.subjects(RDFS.subClassOf, root)}
            individuals = {s for c in classes for s in index.subjects(RDF.type, c)}
            found = self._members[iri] = frozenset(str(x) for x in classes | individuals if isinstance(x, URIRef))
        return found

    def red_flag_fields(self) -> dict[URIRef, frozenset[str]]:
        """Class -> the red-flag fields (direct subclasses of gr:RedFlag) that it is or is narrower than, by asserted
        rdfs:subClassOf in the loaded graph: what a research query over the stored version graphs finds."""
        if self._red_flag_fields is None:
            table: dict[URIRef, set[str]] = {}
            for field in self.graph.subjects(RDFS.subClassOf, GR.RedFlag):
                if isinstance(field, URIRef):
                    for cls in self.graph.transitive_subjects(RDFS.subClassOf, field):
                        if isinstance(cls, URIRef):
                            table.setdefault(cls, set()).add(str(field))
            self._red_flag_fields = {c: frozenset(f) for c, f in table.items()}
        return self._red_flag_fields

    def overlap(self, a: str, b: str) -> bool:
        """Two targets overlap when one is the other or falls under it (a drug in a drug class, a narrower class)."""
        return a in self.members(b) or b in self.members(a)

    def module_graph(self, iri: str) -> Graph:
        """What module `iri` says, with the core and the modules it imports (directly or not)."""
        dirs = {d.iri: (d, g) for d, g in zip(self.selection.modules, self._parts[1:], strict=True)}
        out, todo, seen = Graph(), [iri], set()
        out += self._parts[0]
        while todo:
            current = todo.pop()
            if current in seen or current not in dirs:
                continue
            seen.add(current)
            where, graph = dirs[current]
            out += graph
            todo.extend(where.imports)
        return out

    def module(self, iri: str) -> Module:
        return next(m for m in self.modules if m.iri == iri)

    def prefixes(self) -> dict[str, str]:
        """The namespace prefixes the core and the loaded modules declare (vann), for case files, queries and
        output."""
        out = {}
        for node in sorted(self.graph.subjects(RDF.type, OWL.Ontology), key=str):
            prefix, namespace = (
                self.graph.value(node, VANN.preferredNamespacePrefix),
                self.graph.value(node, VANN.preferredNamespaceUri),
            )
            if prefix is not None and namespace is not None:
                out[str(prefix)] = str(namespace)
        return out

    def _module(self, where: ModuleDir, graph: Graph) -> Module:
        node = URIRef(where.iri)
        declared = [s for s in graph.subjects(RDF.type, GR.Guideline) if isinstance(s, URIRef)]
        if declared not in ([], [node]):
            raise GuidelineError(
                f"{where.path}: a module declares one gr:Guideline, its own ontology <{where.iri}>; found "
                + ", ".join(f"<{s}>" for s in declared)
            )
        status = graph.value(node, GR.reviewStatus)
        scope = graph.value(node, GR.scope)
        prefix, namespace = (
            graph.value(node, VANN.preferredNamespacePrefix),
            graph.value(node, VANN.preferredNamespaceUri),
        )
        red_flags = {str(f) for f in graph.subjects(RDFS.subClassOf, GR.RedFlag) if isinstance(f, URIRef)}
        bands = any((None, p, None) in graph for p in (GR.olderThanYears, GR.notOlderThanYears))
        fields = frozenset(red_flags | ({str(GR.BirthDateField)} if bands else set()))
        return Module(
            iri=where.iri,
            version_iri=_one_str(graph, node, OWL.versionIRI),
            version=_one_str(graph, node, OWL.versionInfo),
            modified=_one_str(graph, node, DCTERMS.modified),
            title=str(graph.value(node, RDFS.label) or where.iri),
            review_status=self.notation(status) if status is not None else "draft",
            is_guideline=bool(declared),
            scope=str(scope) if scope is not None else None,
            directory=where.path,
            prefix=str(prefix) if prefix is not None else None,
            namespace=str(namespace) if namespace is not None else None,
            fields=fields,
        )

    def closure(self) -> Graph:
        """The guideline's own OWL 2 RL closure: asserted plus inferred triples, blank nodes shared. Built on first
        use and shared by every caller (the compiled engine, the lookups, QC): read it, never change it."""
        if self._closure is None:
            self._closure = Graph()
            self._closure += self.graph
            self._closure += self.inferred
        return self._closure

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
        return _integer(node, GR.rank, value) if node is not None and value is not None else 0

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
            order=_integer(node, GR.order, order) if order is not None else 99,
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
        modules = sorted(str(m) for m in g.objects(node, GR.partOf))
        guidelines = {m.iri for m in self.guidelines}
        if len(modules) != 1 or modules[0] not in guidelines:
            raise GuidelineError(
                f"recommendation {node} needs gr:partOf exactly one loaded guideline module "
                f"({', '.join(sorted(guidelines))}); found {', '.join(modules) or 'none'}"
            )
        return RecommendationSpec(
            iri=str(node),
            identifier=str(g.value(node, DCTERMS.identifier) or self.label(node)),
            label=self.label(node),
            definition=str(g.value(node, SKOS.definition) or ""),
            kind=self.notation(action),
            target=str(target),
            urgency=self.notation(urgency) if urgency is not None else None,
            urgency_rank=self.rank(urgency),
            within_hours=_integer(node, GR.withinHours, within) if within is not None else None,
            timing=_opt(g.value(node, GR.timing)),
            condition=_opt(g.value(node, GR.condition)),
            rationale=_opt(g.value(node, GR.rationale)),
            pitfalls=tuple(sorted(str(p) for p in g.objects(node, GR.pitfall))),
            eligibility=iris(GR.eligibility),
            exclusions=iris(GR.exclusion),
            considers=iris(GR.considers),
            asks_for=iris(GR.asksFor),
            undecided_when=iris(GR.undecidedWhen),
            superseded_by=iris(GR.supersededBy),
            evidence=tuple(evidence),
            review_status=self.notation(status) if status is not None else "draft",
            project_defined=tuple(sorted(str(p) for p in g.objects(node, GR.projectDefined))),
            module=modules[0],
        )


def _integer(node: Node, prop: URIRef, value: Node) -> int:
    """`value` as a whole number, else an error naming the entity, the property and what was expected."""
    try:
        return int(str(value))
    except ValueError:
        raise GuidelineError(f"{node} has {prop} {str(value)!r}; expected a whole number (xsd:integer)") from None


def _opt(value: object) -> str | None:
    return str(value) if value is not None else None


def _one_str(graph: Graph, node: Node, prop: URIRef) -> str:
    value = graph.value(node, prop)
    if value is None:
        raise GuidelineError(f"guideline module {node} lacks {prop}")
    return str(value.toPython()) if isinstance(value, Literal) else str(value)


def load_guideline(*paths: Path | str, cache_root: Path | None = None) -> Guideline:
    """Load the core and the modules under `paths` (default: $REASONER_GUIDELINES, else every bundled module),
    with what they import, and their OWL 2 RL closure.

    Cached in memory and on disk (reasoner.knowledge.cache) by the files' content hash: a changed file is recompiled.
    """
    chosen = select(paths)
    digest = hashlib.sha256()
    for path in chosen.content_files():
        digest.update(f"{path.parent.name}/{path.name}".encode())
        digest.update(path.read_bytes())
    digest.update(f"owlrl {owlrl.__version__}".encode())
    return _load(chosen, digest.hexdigest(), cache_root)


def read_asserted(files: Iterable[Path]) -> Graph:
    """The guideline files parsed into one graph (no closure); a file that cannot be read is a GuidelineError."""
    asserted = Graph()
    for path in files:
        try:
            parse_file(asserted, path)
        except ReadError as exc:
            raise GuidelineError(str(exc)) from exc
    return asserted


@cache
def _load(chosen: Selection, content_hash: str, cache_root: Path | None) -> Guideline:
    cached = _cache.read(content_hash, root=cache_root)
    if cached is not None:
        graphs, inferred = cached
    else:
        graphs = [read_asserted([chosen.core]), *(read_asserted(m.files) for m in chosen.modules)]
        union = Graph()
        for part in graphs:
            union += part
        inferred = owl_rl_closure(union)
        _cache.write(content_hash, graphs, inferred, root=cache_root)
    return Guideline(graphs, inferred=inferred, selection=chosen, content_hash=content_hash)
