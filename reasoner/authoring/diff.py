"""`reasoner diff OLD NEW`: what changed between two versions of the guideline, and whom it affects.

OLD and NEW are guideline directories or git revisions (the guideline files at that revision, read with
`git show REV:path`). The diff lists the version IRIs, the recommendations added and removed, each changed
recommendation field by field (eligibility, exclusions, action, target, urgency, grade, sources, review status,
jurisdiction, ...), recommendations whose eligibility or exclusion classes mean something else because a class
they depend on changed, and the other terms added, removed or changed.

With a cohort store, `impact` re-evaluates every stored patient's facts with NEW and compares with OLD: the
recommendations stored for the patient under OLD's version IRI when the store holds exactly OLD's content,
else OLD evaluated again. Both use the run's stored evaluation date and jurisdiction.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from reasoner.authoring.turtle_format import FIXED_PREFIXES
from reasoner.errors import GuidelineError, InputError
from reasoner.input.load import load
from reasoner.input.patient import Patient
from reasoner.knowledge.guideline import Guideline, RecommendationSpec, load_guideline, read_asserted
from reasoner.knowledge.modules import select
from reasoner.namespaces import DCTERMS, GR, OWL, RDF, RDFS, SKOS
from reasoner.pipeline import recommend_many
from reasoner.store.cohort import CATALOGUE, facts_graph, open_store, query

__all__ = ["Change", "GuidelineDiff", "PatientImpact", "RecommendationChange", "diff_guidelines", "guideline_at"]

# The fields compared, in the order they are reported.
FIELDS = (
    "identifier",
    "label",
    "action",
    "target",
    "eligibility",
    "eligibility definition",
    "exclusion",
    "considers",
    "superseded by",
    "urgency",
    "within hours",
    "timing",
    "condition",
    "grade",
    "sources",
    "review status",
    "jurisdiction",
    "project-defined",
    "definition",
    "rationale",
    "pitfalls",
    "other statements",
)
# Predicates the named fields above report; anything else said about a recommendation is "other statements".
_FIELD_PREDICATES = {
    RDF.type,
    DCTERMS.identifier,
    RDFS.label,
    SKOS.definition,
    GR.action,
    GR.target,
    GR.eligibility,
    GR.exclusion,
    GR.considers,
    GR.supersededBy,
    GR.urgency,
    GR.withinHours,
    GR.timing,
    GR.condition,
    GR.evidence,
    GR.reviewStatus,
    GR.jurisdiction,
    GR.projectDefined,
    GR.rationale,
    GR.pitfall,
}
_DEPENDS = (OWL.equivalentClass, OWL.intersectionOf, OWL.unionOf, OWL.someValuesFrom, OWL.allValuesFrom, RDF.first)


@dataclass(frozen=True)
class Change:
    """One field of one recommendation: its old and new value (a list for fields with several values)."""

    field: str
    old: str | list[str] | None
    new: str | list[str] | None

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, "old": self.old, "new": self.new}

    def __str__(self) -> str:
        if self.old is None and isinstance(self.new, list):  # "eligibility definition": the classes redefined
            return f"{self.field} changed through: {', '.join(self.new)}"
        if isinstance(self.old, list) and isinstance(self.new, list):
            gone = [f"-{x}" for x in self.old if x not in self.new]
            came = [f"+{x}" for x in self.new if x not in self.old]
            return f"{self.field}: {' '.join(gone + came)}"
        return f"{self.field}: {_show(self.old)} -> {_show(self.new)}"


@dataclass(frozen=True)
class RecommendationChange:
    iri: str
    identifier: str
    label: str
    changes: tuple[Change, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.iri, "identifier": self.identifier, "label": self.label}
        if self.changes:
            out["changes"] = [c.to_json() for c in self.changes]
        return out


@dataclass(frozen=True)
class PatientImpact:
    """A stored patient whose recommendations differ under NEW: identifiers added and removed."""

    patient: str
    added: tuple[str, ...]
    removed: tuple[str, ...]
    baseline: str  # "stored" (OLD's stored results) or "evaluated" (OLD evaluated again)
    error: str | None = None  # NEW refuses the patient's facts

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"patient": self.patient, "added": list(self.added), "removed": list(self.removed)}
        out["baseline"] = self.baseline
        if self.error:
            out["error"] = self.error
        return out


@dataclass
class GuidelineDiff:
    old: dict[str, str]  # where (directory or git revision), iri, version, version_iri, modified
    new: dict[str, str]
    added: list[RecommendationChange]
    removed: list[RecommendationChange]
    changed: list[RecommendationChange]
    terms: dict[str, list[str]]  # other terms: added, removed, changed
    impact: list[PatientImpact] | None = None
    patients: int = 0  # stored patients re-evaluated
    notes: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or any(self.terms.values()))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "old": self.old,
            "new": self.new,
            "recommendations": {
                "added": [r.to_json() for r in self.added],
                "removed": [r.to_json() for r in self.removed],
                "changed": [r.to_json() for r in self.changed],
            },
            "terms": self.terms,
            "notes": self.notes,
        }
        if self.impact is not None:
            out["impact"] = {"patients": self.patients, "changed": [p.to_json() for p in self.impact]}
        return out

    def to_table(self) -> str:
        o, n = self.old, self.new
        lines = [
            f"old: {o['where']}: {o['iri']} version {o['version']} <{o['version_iri']}>",
            f"new: {n['where']}: {n['iri']} version {n['version']} <{n['version_iri']}>",
        ]
        lines += [f"note: {note}" for note in self.notes]
        for title, mark, items in (("added", "+", self.added), ("removed", "-", self.removed)):
            lines.append(f"recommendations {title}: {len(items)}")
            lines += [f"  {mark} {r.identifier}  {r.label}" for r in items]
        lines.append(f"recommendations changed: {len(self.changed)}")
        for r in self.changed:
            lines.append(f"  ~ {r.identifier}  {r.label}")
            lines += [f"      {c}" for c in r.changes]
        for title in ("added", "removed", "changed"):
            names = self.terms[title]
            lines.append(f"other terms {title}: {len(names)}" + (f": {', '.join(names)}" if names else ""))
        if self.impact is not None:
            lines.append(f"patients whose recommendations change: {len(self.impact)} of {self.patients} stored")
            for p in self.impact:
                parts = [f"+{x}" for x in p.added] + [f"-{x}" for x in p.removed]
                lines.append(f"  {p.patient}  {' '.join(parts)}" + (f"  ({p.error})" if p.error else ""))
        return "\n".join(lines)


def diff_guidelines(
    old: str | Path,
    new: str | Path,
    *,
    impact: str | Path | None = None,
    repo: Path | None = None,
    path: str = "ontology",
    cache_root: Path | None = None,
) -> GuidelineDiff:
    """Compare the guideline at `old` with the one at `new`: each a directory, or a revision of the git repository
    `repo` (default: the one holding the current directory) whose guideline files are under `path`. With `impact`
    (a cohort store), also list the stored patients whose recommendations change."""
    with ExitStack() as stack:
        sides = []
        for spec in (old, new):
            where = stack.enter_context(guideline_at(spec, repo=repo, path=path))
            try:
                gl = load_guideline(where, cache_root=cache_root) if impact is not None else _read(where)
            except GuidelineError as exc:
                raise GuidelineError(f"{spec}: {exc}") from exc
            sides.append((str(spec), gl))
    (old_name, a), (new_name, b) = sides
    result = _compare(a, b)
    result.old, result.new = _version(old_name, a), _version(new_name, b)
    if a.version_iri == b.version_iri and not result.empty:
        result.notes.append(f"the content changed but the version IRI did not (still {b.version_iri})")
    if impact is not None:
        result.impact, result.patients = _impact(a, b, impact)
    return result


@contextmanager
def guideline_at(spec: str | Path, *, repo: Path | None = None, path: str = "ontology") -> Iterator[Path]:
    """The guideline directory `spec` names: the directory itself, or the .ttl files under `path` at git revision
    `spec`, copied into a temporary directory for as long as the context lasts."""
    if Path(spec).is_dir():
        yield Path(spec)
        return
    where = repo or Path.cwd()
    commit = _git(where, "rev-parse", "--verify", "--quiet", f"{spec}^{{commit}}", check=False).strip()
    if not commit:
        raise GuidelineError(f"{spec}: neither a directory nor a revision of the git repository at {where}")
    top = Path(_git(where, "rev-parse", "--show-toplevel").strip())
    names = [
        n for n in _git(top, "ls-tree", "-r", "--name-only", commit, "--", path).splitlines() if n.endswith(".ttl")
    ]
    if not names:
        raise GuidelineError(f"{spec}: no .ttl files under {path}/ at revision {commit[:12]}")
    with tempfile.TemporaryDirectory(prefix="guideline-") as tmp:
        root = Path(tmp) / path
        for name in names:
            target = Path(tmp) / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(_git_bytes(top, "show", f"{commit}:{name}"))
        yield root


def _read(root: Path) -> Guideline:
    """The guideline's asserted triples and lookups, without its OWL 2 RL closure (compiling it takes seconds, and
    comparing versions needs only what was written; evaluating patients, for the impact, loads it in full)."""
    chosen = select([root])
    graphs = [read_asserted([chosen.core]), *(read_asserted(m.files) for m in chosen.modules)]
    return Guideline(graphs, inferred=Graph(), selection=chosen, content_hash="")


def _git(where: Path, *args: str, check: bool = True) -> str:
    return _git_bytes(where, *args, check=check).decode("utf-8", errors="replace")


def _git_bytes(where: Path, *args: str, check: bool = True) -> bytes:
    try:
        done = subprocess.run(["git", "-C", str(where), *args], capture_output=True, check=False)
    except OSError as exc:
        raise GuidelineError(f"cannot run git: {exc}") from exc
    if check and done.returncode != 0:
        raise GuidelineError(f"git {' '.join(args)} failed in {where}: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


def _version(where: str, gl: Guideline) -> dict[str, str]:
    return {
        "where": where,
        "iri": gl.iri,
        "version": gl.version,
        "version_iri": gl.version_iri,
        "modified": gl.modified,
    }


# -- comparing ---------------------------------------------------------------------------------------------------


def _compare(a: Guideline, b: Guideline) -> GuidelineDiff:
    names = _Names()
    old_classes, new_classes = _class_definitions(a.graph), _class_definitions(b.graph)
    redefined = {c for c in old_classes.keys() | new_classes.keys() if old_classes.get(c) != new_classes.get(c)}
    added = [_summary(b.recommendations[i]) for i in sorted(b.recommendations.keys() - a.recommendations.keys())]
    removed = [_summary(a.recommendations[i]) for i in sorted(a.recommendations.keys() - b.recommendations.keys())]
    changed = []
    for iri in sorted(a.recommendations.keys() & b.recommendations.keys()):
        old, new = _fields(a, a.recommendations[iri], names), _fields(b, b.recommendations[iri], names)
        deps = _dependencies(a.graph, a.recommendations[iri]) | _dependencies(b.graph, b.recommendations[iri])
        touched = sorted(names.short(c) for c in deps & redefined)
        if touched:
            old["eligibility definition"], new["eligibility definition"] = None, touched
        changes = tuple(Change(f, old.get(f), new.get(f)) for f in FIELDS if old.get(f) != new.get(f))
        if changes:
            spec = b.recommendations[iri]
            changed.append(RecommendationChange(iri, spec.identifier, spec.label, changes))
    skip = _recommendation_nodes(a) | _recommendation_nodes(b)
    old_terms, new_terms = _terms(a.graph, skip), _terms(b.graph, skip)
    terms = {
        "added": sorted(names.short(t) for t in new_terms.keys() - old_terms.keys()),
        "removed": sorted(names.short(t) for t in old_terms.keys() - new_terms.keys()),
        "changed": sorted(names.short(t) for t in old_terms.keys() & new_terms.keys() if old_terms[t] != new_terms[t]),
    }
    empty = {"where": "", "iri": "", "version": "", "version_iri": "", "modified": ""}
    return GuidelineDiff(dict(empty), dict(empty), added, removed, changed, terms)


def _summary(spec: RecommendationSpec) -> RecommendationChange:
    return RecommendationChange(spec.iri, spec.identifier, spec.label)


def _fields(gl: Guideline, spec: RecommendationSpec, names: _Names) -> dict[str, str | list[str] | None]:
    primary = spec.primary
    grade = "; ".join(x for x in (primary.strength, primary.quality, primary.rating) if x) if primary else None
    sources = [
        f"{e.order}. {names.short(URIRef(e.source.iri))}: {e.statement}"
        + (
            f" [{'; '.join(x for x in (e.strength, e.quality, e.rating) if x)}]"
            if e.strength or e.quality or e.rating
            else ""
        )
        for e in spec.evidence
    ]
    jurisdictions = sorted(gl.notation(j) for j in gl.graph.objects(URIRef(spec.iri), GR.jurisdiction))
    return {
        "identifier": spec.identifier,
        "label": spec.label,
        "action": spec.kind,
        "target": names.short(URIRef(spec.target)),
        "eligibility": [names.short(URIRef(c)) for c in spec.eligibility],
        "exclusion": [names.short(URIRef(c)) for c in spec.exclusions],
        "considers": [names.short(URIRef(c)) for c in spec.considers],
        "superseded by": [names.short(URIRef(c)) for c in spec.superseded_by],
        "urgency": spec.urgency,
        "within hours": str(spec.within_hours) if spec.within_hours is not None else None,
        "timing": spec.timing,
        "condition": spec.condition,
        "grade": grade,
        "sources": sources,
        "review status": spec.review_status,
        "jurisdiction": jurisdictions,
        "project-defined": list(spec.project_defined),
        "definition": spec.definition,
        "rationale": spec.rationale,
        "pitfalls": list(spec.pitfalls),
        "other statements": sorted(
            f"{names.short(p)} {_text(gl.graph, o)}"
            for p, o in gl.graph.predicate_objects(URIRef(spec.iri))
            if p not in _FIELD_PREDICATES
        ),
    }


def _recommendation_nodes(gl: Guideline) -> set[Node]:
    out: set[Node] = set()
    for spec in gl.recommendations.values():
        out.add(URIRef(spec.iri))
        out |= {URIRef(e.iri) for e in spec.evidence}
    return out


def _class_definitions(graph: Graph) -> dict[Node, frozenset[str]]:
    """Per named class, what decides its members: superclasses, equivalents, and what is declared under it."""
    out: dict[Node, set[str]] = {}
    for s, o in graph.subject_objects(RDFS.subClassOf):
        if isinstance(s, URIRef):
            out.setdefault(s, set()).add("subClassOf " + _text(graph, o))
        if isinstance(o, URIRef):
            out.setdefault(o, set()).add("has subclass " + _text(graph, s))
    for s, o in graph.subject_objects(OWL.equivalentClass):
        for a, b in ((s, o), (o, s)):
            if isinstance(a, URIRef):
                out.setdefault(a, set()).add("equivalentClass " + _text(graph, b))
    return {c: frozenset(v) for c, v in out.items()}


def _dependencies(graph: Graph, spec: RecommendationSpec) -> set[Node]:
    """The named classes the recommendation's eligibility, exclusion and considered classes are built from."""
    queue: list[Node] = [URIRef(c) for c in (*spec.eligibility, *spec.exclusions, *spec.considers)]
    seen: set[Node] = set()
    while queue:
        node = queue.pop()
        if node in seen:
            continue
        seen.add(node)
        for prop in _DEPENDS:
            queue += graph.objects(node, prop)
        queue += graph.subjects(OWL.equivalentClass, node)
        queue += graph.subjects(RDFS.subClassOf, node)
        queue += graph.objects(node, RDF.rest)
    return {n for n in seen if isinstance(n, URIRef)}


def _terms(graph: Graph, skip: set[Node]) -> dict[Node, frozenset[str]]:
    """Every named subject but the recommendations and their evidence, with everything said about it."""
    out: dict[Node, set[str]] = {}
    for s, p, o in graph:
        if isinstance(s, URIRef) and s not in skip:
            out.setdefault(s, set()).add(f"{p.n3()} {_text(graph, o)}")
    return {t: frozenset(v) for t, v in out.items()}


def _text(graph: Graph, node: Node, depth: int = 0) -> str:
    """A node with the blank nodes under it written out, in a form that does not depend on blank node names."""
    if not isinstance(node, BNode) or depth > 20:
        return node.n3() if isinstance(node, URIRef | Literal) else "[]"
    parts = sorted(f"{p.n3()} {_text(graph, o, depth + 1)}" for p, o in graph.predicate_objects(node))
    return "[" + " ; ".join(parts) + "]"


def _show(value: str | list[str] | None) -> str:
    if value is None:
        return "(none)"
    return ", ".join(value) if isinstance(value, list) else repr(value)


class _Names:
    def __init__(self) -> None:
        self.prefixes = sorted(((ns, p) for p, ns in FIXED_PREFIXES.items()), key=lambda t: -len(t[0]))

    def short(self, node: Node) -> str:
        text = str(node)
        for namespace, prefix in self.prefixes:
            if text.startswith(namespace):
                return f"{prefix}:{text[len(namespace) :]}"
        return f"<{text}>"


# -- impact on a cohort ------------------------------------------------------------------------------------------

_RUNS = """
SELECT ?g ?patient ?version ?asOf ?jurisdiction WHERE {
  GRAPH ?g { ?run a gr:ReasoningRun ; prov:used ?patient , ?version ; gr:asOf ?asOf ;
                  gr:jurisdictionApplied ?jurisdiction . ?version dcterms:isVersionOf ?module . }
  FILTER(?patient != ?version)
}"""
_PATIENTS = (
    "SELECT DISTINCT ?g ?patient WHERE { GRAPH ?g { ?patient a gr:Patient } FILTER(STRSTARTS(STR(?g), ?prefix)) }"
)
_FACTS = "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }"
_STORED = "SELECT ?rec WHERE { GRAPH ?g { ?n a gr:PatientRecommendation ; gr:recommendation ?rec } }"
_HASH = "SELECT ?hash WHERE { GRAPH ?catalogue { ?version st:contentHash ?hash } }"


@dataclass
class _Cohort:
    patients: list[Patient]
    runs: dict[str, tuple[date, str]]  # patient -> evaluation date and jurisdiction of its stored run
    stored: dict[str, set[str]]  # patient -> recommendations stored under OLD, when the store holds OLD exactly


def _read_cohort(location: str | Path, old: Guideline) -> _Cohort:
    """The stored patients, the date and jurisdiction of each one's run, and what was stored for those whose run
    used only OLD's module versions, when the store holds OLD exactly."""
    cohort = _Cohort([], {}, {})
    mine = {m.version_iri for m in old.guidelines}
    with open_store(location, read_only=True) as store:
        runs: dict[str, tuple[str, set[str], object, str]] = {}  # graph -> patient, versions, date, jurisdiction
        for row in _rows(query(store, _RUNS)):
            found = runs.setdefault(str(row["g"]), (str(row["patient"]), set(), row["asOf"], str(row["jurisdiction"])))
            found[1].add(str(row["version"]))
        under_old: dict[str, str] = {}  # patient -> its derived graph under OLD
        for graph, (subject, versions, when, jurisdiction) in runs.items():
            day = when.toPython() if isinstance(when, Literal) else None
            ours = versions <= mine
            if isinstance(day, date) and (ours or subject not in cohort.runs):
                cohort.runs[subject] = (day, jurisdiction)
            if ours:
                under_old[subject] = graph
        old_is_stored = all(
            any(
                str(r["hash"]) == old.content_hash
                for r in _rows(query(store, _HASH, bindings={"catalogue": URIRef(CATALOGUE), "version": URIRef(v)}))
            )
            for v in mine
        )
        for row in _rows(query(store, _PATIENTS, bindings={"prefix": facts_graph("")})):
            facts = query(store, _FACTS, bindings={"g": URIRef(str(row["g"]))})
            if not isinstance(facts, Graph):
                continue
            patient = load(facts, name=str(row["patient"]))
            cohort.patients.append(patient)
            key = str(patient.iri)
            if old_is_stored and key in under_old:
                graph = URIRef(under_old[key])
                cohort.stored[key] = {str(r["rec"]) for r in _rows(query(store, _STORED, bindings={"g": graph}))}
    return cohort


def _impact(a: Guideline, b: Guideline, location: str | Path) -> tuple[list[PatientImpact], int]:
    cohort = _read_cohort(location, a)
    groups: dict[tuple[date | None, str], list[Patient]] = {}
    for p in cohort.patients:
        when, jurisdiction = cohort.runs.get(str(p.iri), (p.assessed_on, "US"))
        groups.setdefault((when, jurisdiction), []).append(p)
    out = []
    for (when, jurisdiction), group in sorted(groups.items(), key=lambda kv: (str(kv[0][0]), kv[0][1])):
        fresh = [p for p in group if str(p.iri) not in cohort.stored]
        before = dict(zip([str(p.iri) for p in fresh], _evaluate(a, fresh, when, jurisdiction), strict=True))
        before.update(cohort.stored)
        for patient, after in zip(group, _evaluate(b, group, when, jurisdiction), strict=True):
            key = str(patient.iri)
            how = "stored" if key in cohort.stored else "evaluated"
            if isinstance(after, str):
                out.append(PatientImpact(key, (), (), how, after))
                continue
            old = before[key]
            old_ids = _identifiers(a, old if isinstance(old, set) else set())
            new_ids = _identifiers(b, after)
            if old_ids != new_ids:
                out.append(PatientImpact(key, tuple(sorted(new_ids - old_ids)), tuple(sorted(old_ids - new_ids)), how))
    return sorted(out, key=lambda p: p.patient), len(cohort.patients)


def _evaluate(gl: Guideline, patients: Sequence[Patient], when: date | None, jurisdiction: str) -> list[set[str] | str]:
    out: list[set[str] | str] = []
    for outcome in recommend_many(patients, as_of=when, guideline=gl, jurisdiction=jurisdiction):
        out.append(outcome.args[0] if isinstance(outcome, InputError) else {r.id for r in outcome.recommendations})
    return out


def _identifiers(gl: Guideline, iris: set[str]) -> set[str]:
    return {gl.recommendations[i].identifier if i in gl.recommendations else i for i in iris}


def _rows(answer: object) -> list[dict[str, Node | None]]:
    return list(answer) if not isinstance(answer, bool | Graph) else []  # type: ignore[call-overload]
