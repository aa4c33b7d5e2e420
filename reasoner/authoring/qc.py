"""`reasoner check`: quality control of a guideline module set, as ROBOT's report does for ontologies.

Five kinds of check over the core and the modules selected (reasoner.knowledge.modules.select), each finding
naming the file (from the directory holding its module), the line and the entity:

- parse errors (each file read on its own; nothing else runs when a file cannot be read);
- query syntax: every query file of the core and of the modules reads as SPARQL and passes the query guard;
- the QC queries, `queries/qc/*.rq`: each a SELECT of ?entity ?property ?value (optionally ?detail and ?also) over
  the union of the modules' asserted Turtle and the IRIs the feature rules name, with a header comment giving its
  severity, the problem, why it matters and how to fix it;
- the guideline shapes, `shapes/guideline.ttl` (SHACL, compiled by reasoner.engine.shapes);
- OWL 2 RL consistency: no member of owl:Nothing and no individual in two disjoint classes, in the guideline's
  closure and for every test-case patient; and the guideline must load in the reasoner.

A profile (`ERROR name` lines, like ROBOT's) overrides severities. `QualityReport.errors` decides the exit code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from pyparsing import ParseException
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.plugins.sparql import prepareQuery
from rdflib.term import Node

from reasoner._paths import data_dir
from reasoner.authoring.cases import Case, load_cases
from reasoner.authoring.turtle_format import FIXED_PREFIXES
from reasoner.authoring.turtle_scan import Scan, Statement, scan
from reasoner.engine.engines import ENGINES
from reasoner.engine.owl2rl import TBox
from reasoner.engine.shapes import CompiledShapes
from reasoner.errors import GuidelineError, QueryError, ReasonerError
from reasoner.input.patient import skolemize
from reasoner.knowledge.guideline import Guideline, load_guideline
from reasoner.knowledge.modules import Selection, select
from reasoner.knowledge.queries import core_feature_files, header_fields
from reasoner.namespaces import GR, OWL, RDF, RDFS
from reasoner.rdf.oxi import from_ox, to_quads
from reasoner.rdf.rdfio import ReadError, parse_text
from reasoner.rdf.sparql_guard import guard

__all__ = ["SEVERITIES", "Check", "Finding", "QualityReport", "check_guideline", "checks", "read_profile"]

SEVERITIES = ("ERROR", "WARN", "INFO")
_QC = "urn:guideline-reasoner:qc:"
_INFERABLE = ox.NamedNode(_QC + "inferable")
_RULES = ox.NamedNode(_QC + "rules")
_PROFILE_LINE = re.compile(r"^(ERROR|WARN|INFO)\s+([\w-]+)\s*$")
_NAME = re.compile(r"<([^>\s]+)>|\b([A-Za-z][\w-]*):([A-Za-z_][\w.-]*[\w-]|[A-Za-z_])")
_BOOLEAN = ox.NamedNode("http://www.w3.org/2001/XMLSchema#boolean")
# Classes patient data states directly (besides finding and measurement classes); see uninferable-class.rq.
_SEED_ROOTS = (GR.Finding, GR.MeasurementKind, GR.Record, GR.Patient)


@dataclass(frozen=True)
class Check:
    """One QC query and its header: severity, the problem, why it matters, how to fix it."""

    name: str
    path: Path
    text: str
    severity: str
    problem: str
    why: str
    fix: str


@dataclass(frozen=True)
class Finding:
    check: str
    severity: str
    entity: str
    property: str | None
    value: str | None
    message: str
    file: str | None = None
    line: int | None = None
    fix: str | None = None

    def where(self) -> str:
        """file:line, or the file, or "-" when the finding has no place in a file."""
        if self.file is None:
            return "-"
        return f"{self.file}:{self.line}" if self.line is not None else self.file

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "severity": self.severity,
            "file": self.file,
            "line": self.line,
            "entity": self.entity,
            "property": self.property,
            "value": self.value,
            "message": self.message,
            "fix": self.fix,
        }


@dataclass
class QualityReport:
    """Everything `check_guideline` found, most severe first, with the guideline version it checked."""

    root: str
    guideline: dict[str, str | None]  # iri, version, version_iri (None when the files do not say)
    files: list[str]
    checks: list[str]
    cases: int
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "ERROR"]

    def count(self, severity: str) -> int:
        return sum(f.severity == severity for f in self.findings)

    def to_json(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "guideline": self.guideline,
            "files": self.files,
            "checks": self.checks,
            "cases": self.cases,
            "summary": {s: self.count(s) for s in SEVERITIES},
            "findings": [f.to_json() for f in self.findings],
        }

    def to_table(self) -> str:
        g = self.guideline
        lines = [
            f"guideline {g['iri'] or '?'} version {g['version'] or '?'} <{g['version_iri'] or '?'}>: "
            f"{len(self.files)} files, {len(self.checks)} checks, {self.cases} test-case patients"
        ]
        for f in self.findings:
            subject = " ".join(x for x in (f.entity, f.property, f.value) if x)
            lines.append(f"{f.severity:<5} {f.where()}  {f.check}  {subject}")
            lines.append(f"      {f.message}")
            if f.fix:
                lines.append(f"      fix: {f.fix}")
        lines.append(", ".join(f"{self.count(s)} {s}" for s in SEVERITIES))
        return "\n".join(lines)


# -- the checks and the profile --------------------------------------------------------------------------------


@cache
def checks(root: Path | None = None) -> dict[str, Check]:
    """Every QC query (queries/qc/*.rq) by name, in name order; a header without a valid severity, problem, why
    or fix is a GuidelineError naming the file."""
    base = root or data_dir("queries") / "qc"
    return {p.stem: _load_check(p) for p in sorted(base.glob("*.rq"))}


def _load_check(path: Path) -> Check:
    text = path.read_text(encoding="utf-8")
    fields = header_fields(text, ("Severity", "Problem", "Why", "Fix"))
    missing = [f for f in ("Severity", "Problem", "Why", "Fix") if not fields.get(f)]
    if missing:
        raise GuidelineError(f"{path}: the header comment lacks {', '.join(missing)}")
    if fields["Severity"] not in SEVERITIES:
        raise GuidelineError(f"{path}: severity {fields['Severity']!r}; expected one of {', '.join(SEVERITIES)}")
    return Check(path.stem, path, text, fields["Severity"], fields["Problem"], fields["Why"], fields["Fix"])


def read_profile(path: Path) -> dict[str, str]:
    """A severity profile: one `SEVERITY check-name` per line (# comments and blank lines ignored)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise GuidelineError(f"{path}: cannot read the profile: {exc}") from exc
    out = {}
    for number, line in enumerate(text.splitlines(), 1):
        content = line.split("#", 1)[0].strip()
        if not content:
            continue
        found = _PROFILE_LINE.match(content)
        if not found:
            raise GuidelineError(f"{path}:{number}: expected 'ERROR|WARN|INFO check-name', got {content!r}")
        out[found[2]] = found[1]
    return out


# -- running ---------------------------------------------------------------------------------------------------


def check_guideline(
    *paths: Path,
    cases: Path | None = None,
    profile: Mapping[str, str] | None = None,
    reasoning: bool = True,
    cache_root: Path | None = None,
) -> QualityReport:
    """Check the core and the modules under `paths` (module directories or guideline trees, as
    reasoner.knowledge.modules.select takes them; default: $REASONER_GUIDELINES, else every bundled module) and
    the patients of their test cases (or of the cases under `cases`). Severities come from each check's header,
    overridden by `profile` (check name -> severity); an unknown check name in the profile is a GuidelineError.
    Without `reasoning`, only the query syntax, the QC queries and the shapes run (under a second): the guideline
    is not loaded in the reasoner, and neither it nor the test-case patients are checked for consistency."""
    known = checks()
    profile = dict(profile or {})
    unknown = sorted(set(profile) - set(known) - set(_BUILT_IN))
    if unknown:
        raise GuidelineError(f"the profile names unknown checks: {', '.join(unknown)}")
    try:
        selection: Selection | None = select(paths)
    except GuidelineError as exc:  # reported below, after any parse error that explains it
        selection, refused = None, exc
    locator = _Locator(selection, paths or [data_dir("ontology")])
    files = selection.files if selection is not None else _turtle_under(paths)
    findings: list[Finding] = []
    graph = Graph()
    for path in files:
        text = path.read_bytes().decode("utf-8", errors="replace")
        try:
            parse_text(graph, text, source=str(path), fmt="turtle")
        except ReadError as exc:
            findings.append(_parse_error(locator.name(path), exc))
        locator.add(path, text)
    if selection is None and not findings:
        where = ", ".join(str(p) for p in paths) or "the bundled modules"
        findings.append(Finding("module-set", "ERROR", where, None, None, str(refused), None, None, _FIX_MODULES))
    report = QualityReport(
        ", ".join(locator.name(p) for p in paths) or "bundled modules",
        _version(graph, selection),
        [locator.name(p) for p in files],
        [*known, *_BUILT_IN],
        0,
        findings,
    )
    if selection is not None and not findings:
        rules = _rule_files(selection)
        syntax = _query_syntax(locator, [*rules, *_other_queries(selection)], known)
        run = _Run(graph, locator, rules)
        findings += syntax
        findings += run.queries(c for c in known.values() if locator.name(c.path) not in {f.file for f in syntax})
        findings += run.shapes()
        if reasoning and not syntax:
            found, report.cases = run.reasoning(paths, selection, cases=cases, cache_root=cache_root)
            findings += found
    severity = {**{c.name: c.severity for c in known.values()}, **_BUILT_IN, **profile}
    report.findings = sorted(
        (_with(f, severity=severity.get(f.check, f.severity)) for f in findings),
        key=lambda f: (SEVERITIES.index(f.severity), f.file or "", f.line or 0, f.check, f.entity, f.value or ""),
    )
    return report


def _turtle_under(paths: Iterable[Path]) -> list[Path]:
    """The Turtle files of guideline trees or module directories, found without reading them (when the module set
    cannot be selected, to report the parse errors that may be why)."""
    roots = [Path(p) for p in paths] or [data_dir("ontology")]
    return sorted({f for r in roots for f in (*r.glob("*.ttl"), *r.glob("*/*.ttl")) if f.is_file()})


def _rule_files(selection: Selection) -> list[Path]:
    """The feature rules: the core's and every module's."""
    return [*core_feature_files(), *(f for m in selection.modules for f in m.features)]


def _other_queries(selection: Selection) -> list[Path]:
    """The other query files the reasoner and its commands run: the core's recommendation, QC and research
    queries, and the modules' research queries."""
    core = data_dir("queries")
    return [
        *(f for d in ("rules", "qc", "research") for f in sorted((core / d).glob("*.rq"))),
        *(f for m in selection.modules for f in sorted(m.research.glob("*.rq"))),
    ]


def _query_syntax(locator: _Locator, paths: Iterable[Path], known: Mapping[str, Check]) -> list[Finding]:
    """Every query file must read as SPARQL 1.1 (Oxigraph's parser; rdflib's, which gives the more precise
    position, is asked only about a file Oxigraph refuses) and pass the query guard."""
    out, empty = [], ox.Store()
    for path in paths:
        name = locator.name(path)
        text = path.read_bytes().decode("utf-8", errors="replace")
        try:
            guard(text)
            empty.query(text, custom_functions=_FUNCTIONS)  # type: ignore[arg-type]
        except QueryError as exc:
            out.append(_query_finding(name, str(exc), None))
        except SyntaxError as exc:
            line, message = _syntax_position(text, str(exc))
            out.append(_query_finding(name, message, line))
    return out


def _syntax_position(text: str, oxigraph: str) -> tuple[int | None, str]:
    try:
        prepareQuery(text)
    except ParseException as exc:
        return exc.lineno, f"{exc.msg} (line {exc.lineno}, column {exc.col})"
    except Exception:  # rdflib fails in many ways on a query Oxigraph refused; Oxigraph's message then serves
        pass
    found = re.search(r"(\d+):(\d+)", oxigraph)
    return (int(found[1]) if found else None), oxigraph


def _query_finding(name: str, message: str, line: int | None) -> Finding:
    return Finding(
        "query-syntax",
        "ERROR",
        name,
        None,
        None,
        f"cannot be used as a query: {message}",
        name,
        line,
        "Correct the query at that line (docs/authoring.md); the reasoner refuses the guideline until then.",
    )


# Checks made in Python, with their default severities.
_BUILT_IN = {
    "parse-error": "ERROR",
    "shape": "ERROR",
    "guideline-loads": "ERROR",
    "inconsistent-guideline": "ERROR",
    "inconsistent-case": "ERROR",
    "case-unusable": "ERROR",
    "unsupported-construct": "ERROR",
    "module-set": "ERROR",
    "query-syntax": "ERROR",
}


def _with(finding: Finding, *, severity: str) -> Finding:
    return Finding(**{**finding.__dict__, "severity": severity})


def _parse_error(name: str, exc: ReadError) -> Finding:
    found = re.search(r"at line (\d+)", exc.detail)
    why = re.search(r"Bad syntax \((.*?)\) at \^", exc.detail)
    message = f"cannot be read as Turtle: {why[1] if why else exc.detail}"
    return Finding("parse-error", "ERROR", name, None, None, message, name, int(found[1]) if found else None)


def _version(graph: Graph, selection: Selection | None) -> dict[str, str | None]:
    """The first guideline module's IRI and version (a module set is reported by its first guideline)."""
    iris = [URIRef(m.iri) for m in selection.modules] if selection is not None else []
    module = next((m for m in iris if (m, RDF.type, GR.Guideline) in graph), None)
    if module is None:
        return {"iri": None, "version": None, "version_iri": None}
    info, iri = graph.value(module, OWL.versionInfo), graph.value(module, OWL.versionIRI)
    return {"iri": str(module), "version": _str(info), "version_iri": _str(iri)}


def _str(node: Node | None) -> str | None:
    return str(node) if node is not None else None


class _Run:
    """One check of one parsed guideline: the Oxigraph store the queries run over, and where things are."""

    def __init__(self, graph: Graph, locator: _Locator, rules: Iterable[Path]) -> None:
        self.graph = graph
        self.locator = locator
        self.store = ox.Store()
        self.store.extend(to_quads(graph, ox.DefaultGraph()))  # type: ignore[arg-type]
        self._support(rules)

    def _support(self, rules: Iterable[Path]) -> None:
        """The data uninferable-class.rq, unused-red-flag.rq and undeclared-in-feature-rule.rq read: the IRIs the
        feature rules (the core's and the modules') name, and the inferable-class fixpoint
        (queries/qc/support/inferable.ru, repeated until it adds nothing)."""
        mentions, mentioned = ox.NamedNode(_QC + "mentions"), set()
        for rule in rules:
            text = rule.read_bytes().decode("utf-8", errors="replace")
            node = ox.NamedNode(self.locator.add_query(rule, text))
            for iri in sorted(_mentions(text)):
                self.store.add(ox.Quad(node, mentions, ox.NamedNode(iri), _RULES))
                mentioned.add(URIRef(iri))
        seeds = set(_typed_subclasses(self.graph, _SEED_ROOTS)) | mentioned | {OWL.Thing}
        seeds |= {o for p in (RDFS.domain, RDFS.range) for o in self.graph.objects(None, p) if isinstance(o, URIRef)}
        seeds |= {t for t in self.graph.objects(None, RDF.type) if isinstance(t, URIRef)}  # classes with members
        kind, inferable = ox.NamedNode(str(RDF.type)), ox.NamedNode(_QC + "Inferable")
        self.store.extend(ox.Quad(ox.NamedNode(str(s)), kind, inferable, _INFERABLE) for s in seeds)
        update = (data_dir("queries") / "qc" / "support" / "inferable.ru").read_text(encoding="utf-8")
        while True:
            before = self._count(_INFERABLE)
            self.store.update(update)
            if self._count(_INFERABLE) == before:
                break

    def _count(self, graph: ox.NamedNode) -> int:
        return sum(1 for _ in self.store.quads_for_pattern(None, None, None, graph))

    def queries(self, all_checks: Iterable[Check]) -> list[Finding]:
        out = []
        for check in all_checks:
            rows = self.store.query(check.text, custom_functions=_FUNCTIONS)  # type: ignore[arg-type]
            names = {v.value for v in rows.variables}  # type: ignore[union-attr]
            for row in rows:  # type: ignore[union-attr]
                entity, prop, value = (
                    from_ox(row[v]) if row[v] is not None else None for v in ("entity", "property", "value")
                )
                if entity is None:
                    raise GuidelineError(f"{check.path}: a row without ?entity")
                detail = row["detail"] if "detail" in names else None
                message = f"{check.problem} ({detail.value})" if isinstance(detail, ox.Literal) else check.problem
                also = row["also"] if "also" in names else None
                if also is not None:  # the other entity involved, and where it is written
                    message += f" (also: {self.place(from_ox(also), value)})"
                out.append(self.finding(check.name, check.severity, entity, prop, value, message, check.fix))
        return out

    def finding(
        self, check: str, severity: str, entity: Node, prop: Node | None, value: Node | None, message: str, fix: str
    ) -> Finding:
        owner, where = self.owner(entity), None
        if owner is not None:
            where = self.locator.find(owner, [d for d in (value, prop) if d is not None])
        file, line = where if where else (None, None)
        shown = self.locator.short(owner if owner is not None else entity)
        short = self.locator.short
        return Finding(
            check,
            severity,
            shown,
            short(prop) if prop is not None else None,
            short(value) if value is not None else None,
            message,
            file,
            line,
            fix,
        )

    def place(self, node: Node, detail: Node | None) -> str:
        """`node` and the file and line where it is written (the line naming `detail`, if one does)."""
        owner = self.owner(node)
        where = self.locator.find(owner, [detail] if detail is not None else []) if owner is not None else None
        return self.locator.short(node) + (f" at {where[0]}:{where[1]}" if where else "")

    def owner(self, node: Node) -> URIRef | None:
        """The named subject `node` belongs to: itself, or the first named node a blank node hangs from."""
        seen: set[Node] = set()
        while isinstance(node, BNode) and node not in seen:
            seen.add(node)
            parent = next(iter(sorted(self.graph.subjects(None, node), key=str)), None)
            if parent is None:
                return None
            node = parent
        return node if isinstance(node, URIRef) else None

    def shapes(self) -> list[Finding]:
        path = data_dir("shapes") / "guideline.ttl"
        compiled = _compiled_shapes(path)
        typed = Graph()
        typed += self.graph
        for s, t in list(self.graph.subject_objects(RDF.type)):
            for broader in _superclasses(self.graph, t):
                typed.add((s, RDF.type, broader))
        out = []
        for violation in compiled.check(typed):
            focus = self.locator.expand(violation.focus)
            prop = URIRef(self.locator.expand(violation.path)) if violation.path else None
            node: Node = URIRef(focus) if not focus.startswith("_:") else BNode(focus[2:])
            out.append(
                self.finding(
                    "shape", "ERROR", node, prop, None, violation.message, f"as the message says ({path.name})"
                )
            )
        return out

    def reasoning(
        self, paths: Sequence[Path], selection: Selection, *, cases: Path | None, cache_root: Path | None
    ) -> tuple[list[Finding], int]:
        """The guideline loads and compiles; its closure, and every test-case patient, is consistent."""
        iris = [URIRef(m.iri) for m in selection.modules]
        module = next((m for m in iris if (m, RDF.type, GR.Guideline) in self.graph), iris[0] if iris else GR[""])
        try:
            gl = load_guideline(*paths, cache_root=cache_root)
        except (GuidelineError, ValueError) as exc:  # ValueError: a wrongly typed value, reported with its line
            message = f"the reasoner cannot load this guideline: {exc}"
            return [self.finding("guideline-loads", "ERROR", module, None, None, message, _FIX_LOAD)], 0
        out, engine = [], "compiled"
        try:
            TBox.refuse_unsupported(gl.graph, where=f"guideline {gl.iri} ({gl.version})")
        except GuidelineError as exc:  # the test-case patients are then reasoned over with owlrl (slow)
            out.append(self.finding("unsupported-construct", "ERROR", module, None, None, str(exc), _FIX_LOAD))
            engine = "owlrl"
        closure = gl.closure()
        disjoint = _disjoint_pairs(closure)
        for individual in sorted({s for s, _ in closure.subject_objects(RDF.type)}, key=str):
            for cls, other in _clashes(set(closure.objects(individual, RDF.type)), disjoint):
                message = _clash_message(cls, other, self.locator)
                out.append(self.finding("inconsistent-guideline", "ERROR", individual, RDF.type, cls, message, _FIX))
        cases_dirs = [cases] if cases is not None else [m.cases for m in selection.modules if m.cases.is_dir()]
        if not cases_dirs or any(f.check == "inconsistent-guideline" for f in out):  # cannot be compiled
            return out, 0
        found, count = self.patients(gl, cases_dirs, disjoint, engine)
        return out + found, count

    def patients(
        self, gl: Guideline, cases_dirs: list[Path], disjoint: set[frozenset[Node]], engine: str
    ) -> tuple[list[Finding], int]:
        try:
            found = load_cases(cases_dirs, guideline=gl)
        except ReasonerError as exc:
            where = ", ".join(str(d) for d in cases_dirs)
            return [Finding("case-unusable", "ERROR", where, None, None, str(exc), where)], 0
        by_date: dict[date, list[Case]] = {}
        for case in found:
            by_date.setdefault(case.as_of, []).append(case)
        out = []
        for when, group in sorted(by_date.items()):
            patients = [skolemize(c.patient) for c in group]
            evaluations = ENGINES[engine].evaluate_many(
                gl, patients, as_of=when, min_rank=0, jurisdiction=GR.International
            )
            for case, patient, evaluation in zip(group, patients, evaluations, strict=True):
                nodes = {patient.iri} | set(patient.graph.subjects()) | set(evaluation.derived.subjects())
                for node in sorted(nodes, key=str):
                    for cls, other in _clashes(set(evaluation.facts.objects(node, RDF.type)), disjoint):
                        message = f"test case {case.id}: " + _clash_message(cls, other, self.locator)
                        short = self.locator.short
                        out.append(
                            Finding(
                                "inconsistent-case",
                                "ERROR",
                                short(node),
                                "rdf:type",
                                short(cls),
                                message,
                                str(case.path),
                                None,
                                _FIX,
                            )
                        )
        return out, len(found)


_FIX_MODULES = (
    "Make the directories a module set: each module directory holds Turtle declaring exactly one owl:Ontology, "
    "and every owl:imports names a module given or bundled (docs/authoring.md)."
)
_FIX_LOAD = "Correct what the message names; `reasoner recommend` refuses the guideline until then."
_FIX = (
    "Find the axioms that put the individual in both classes (the explanation of `reasoner recommend` for a "
    "patient) and correct the class definitions, or the disjointness if it is wrong."
)


@cache
def _compiled_shapes(path: Path) -> CompiledShapes:
    return CompiledShapes(Graph().parse(path, format="turtle"), source=str(path))


def _clash_message(cls: Node, other: Node | None, locator: _Locator) -> str:
    if other is None:
        return "is a member of owl:Nothing: the guideline says this individual cannot exist"
    return f"is a member of {locator.short(cls)} and of {locator.short(other)}, which are disjoint"


def _disjoint_pairs(graph: Graph) -> set[frozenset[Node]]:
    pairs = {frozenset((a, b)) for a, b in graph.subject_objects(OWL.disjointWith) if a != b}
    for axiom in graph.subjects(RDF.type, OWL.AllDisjointClasses):
        for members in graph.objects(axiom, OWL.members):
            items = list(Collection(graph, members))
            pairs |= {frozenset((a, b)) for a in items for b in items if a != b}
    return pairs


def _clashes(types: set[Node], disjoint: set[frozenset[Node]]) -> Iterator[tuple[Node, Node | None]]:
    if OWL.Nothing in types:
        yield OWL.Nothing, None
    for pair in disjoint:
        if pair <= types:
            a, b = sorted(pair, key=str)
            yield a, b


def _typed_subclasses(graph: Graph, roots: Iterable[URIRef]) -> Iterator[URIRef]:
    """Every named class under `roots` by asserted rdfs:subClassOf (roots included)."""
    queue, seen = list(roots), set()
    while queue:
        current = queue.pop()
        if current in seen:
            continue
        seen.add(current)
        yield current
        queue += [s for s in graph.subjects(RDFS.subClassOf, current) if isinstance(s, URIRef)]


def _superclasses(graph: Graph, cls: Node) -> set[Node]:
    out: set[Node] = set()
    queue = [cls]
    while queue:
        for broader in graph.objects(queue.pop(), RDFS.subClassOf):
            if broader not in out:
                out.add(broader)
                queue.append(broader)
    return out


def _mentions(text: str) -> set[str]:
    """The IRIs a SPARQL query names (prefixed names expanded with its PREFIX lines), comments aside."""
    prefixes = dict(re.findall(r"PREFIX\s+([\w-]*):\s*<([^>]*)>", text, re.IGNORECASE))
    body = "\n".join(line.split(" #", 1)[0] for line in text.splitlines() if not line.lstrip().startswith("#"))
    body = re.sub(r"PREFIX\s+[\w-]*:\s*<[^>]*>", "", body, flags=re.IGNORECASE)
    out = set()
    for iri, prefix, local in _NAME.findall(body):
        if iri:
            out.add(iri)
        elif prefix in prefixes:
            out.add(prefixes[prefix] + local)
    return out


# Check digits: Verhoeff for SNOMED CT identifiers, the mod-10 (Luhn) digit of LOINC codes.
_VERHOEFF_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_VERHOEFF_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0),
    (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5),
    (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)


def _digits(term: object) -> str | None:
    value = term.value if isinstance(term, ox.Literal) else None
    return value if value and value.isdigit() else None


def _verhoeff(term: object) -> ox.Literal:
    digits, check = _digits(term), 0
    for i, c in enumerate(reversed(digits or "")):
        check = _VERHOEFF_D[check][_VERHOEFF_P[i % 8][int(c)]]
    return ox.Literal("true" if digits and check == 0 else "false", datatype=_BOOLEAN)


def _luhn(term: object) -> ox.Literal:
    digits, total = _digits(term), 0
    for i, c in enumerate(reversed(digits or "")):
        n = int(c) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return ox.Literal("true" if digits and total % 10 == 0 else "false", datatype=_BOOLEAN)


def _well_typed(term: object) -> ox.Literal:
    """Whether a literal's text is a valid value of its datatype ("72 hours"^^xsd:integer, "2026-13-45"^^xsd:date
    are not)."""
    ok = not isinstance(term, ox.Literal) or not Literal(term.value, datatype=term.datatype.value).ill_typed
    return ox.Literal("true" if ok else "false", datatype=_BOOLEAN)


_FUNCTIONS = {
    ox.NamedNode(_QC + "verhoeff"): _verhoeff,
    ox.NamedNode(_QC + "luhn"): _luhn,
    ox.NamedNode(_QC + "wellTyped"): _well_typed,
}


# -- where things are --------------------------------------------------------------------------------------------


class _Locator:
    """Where each subject is first written (file and line), by a light scan of each Turtle file; and the query
    files, each named by its own IRI (qc:rule/<file>)."""

    def __init__(self, selection: Selection | None, roots: Iterable[Path]) -> None:
        # Files are named from the directory holding their module (ontology/<module>/recommendations.ttl), the core
        # from the directory holding its tree (ontology/core.ttl), the core queries from queries/'s parent.
        # A module of a guideline tree is named from the tree's parent, as the core is.
        modules = [m.path.resolve() for m in selection.modules] if selection is not None else []
        core = [selection.core.parent.resolve()] if selection is not None else []
        bases = [(m, m.parent.parent if (m.parent / "core.ttl").is_file() else m.parent) for m in modules]
        bases += [(c, c.parent) for c in core] + [(data_dir("queries").resolve(), data_dir("queries").parent.resolve())]
        bases += [(r.resolve(), r.resolve().parent) for r in roots]  # what was given, when no module set was found
        self.bases = sorted(bases, key=lambda b: len(b[0].parts), reverse=True)
        self.statements: dict[str, list[tuple[Path, Statement, Scan]]] = {}
        self.queries: dict[str, tuple[Path, list[str], dict[str, str]]] = {}
        self.prefixes = dict(FIXED_PREFIXES)

    def add(self, path: Path, text: str) -> None:
        layout = scan(text)
        for name, namespace in layout.prefixes.items():
            self.prefixes.setdefault(name, namespace)
        for st in layout.statements:
            iri = None if st.directive else layout.expand(st.subject)
            if iri is not None:
                self.statements.setdefault(iri, []).append((path, st, layout))

    def add_query(self, path: Path, text: str) -> str:
        """Record a query file; its IRI, which findings show as the file's name."""
        iri = _QC + "rule/" + self.name(path)
        prefixes = dict(re.findall(r"PREFIX\s+([\w-]*):\s*<([^>]*)>", text, re.IGNORECASE))
        self.queries[iri] = (path, text.split("\n"), prefixes)
        return iri

    def name(self, path: Path) -> str:
        path = path.resolve()
        for directory, base in self.bases:
            if path.is_relative_to(directory):
                return str(path.relative_to(base))
        return str(path)

    def find(self, entity: URIRef, details: list[Node]) -> tuple[str, int] | None:
        """The file and line of `entity`'s first statement; or of the first line of its statements that names one
        of `details` (tried in order: the value, then the property)."""
        query = self.queries.get(str(entity))
        if query is not None:
            return self._find_in_query(*query, details)
        found = self.statements.get(str(entity))
        if not found:
            return None
        # A line naming every detail (the property and its value) first: a bare value such as 48 may also be
        # written in some text of the entity.
        for wanted in ([details] if len(details) > 1 else []) + [[d] for d in details]:
            for path, st, layout in found:
                patterns = [_pattern(d, layout.prefixes) for d in wanted]
                for offset, line in enumerate(st.text.split("\n")):
                    if all(p.search(line) for p in patterns):
                        return self.name(path), st.start + offset
        path, st, _ = found[0]
        return self.name(path), st.start

    def _find_in_query(
        self, path: Path, lines: list[str], prefixes: dict[str, str], details: list[Node]
    ) -> tuple[str, int]:
        """The first line of a query (comments aside) naming one of `details`; else its first line."""
        for detail in details:
            pattern = _pattern(detail, prefixes)
            for number, line in enumerate(lines, 1):
                if not line.lstrip().startswith("#") and pattern.search(line.split(" #", 1)[0]):
                    return self.name(path), number
        return self.name(path), 1

    def short(self, node: Node) -> str:
        """A node as findings show it: a prefixed name where a known prefix fits, a literal's text, [] for a
        blank node, a query file's name."""
        if str(node) in self.queries:
            return self.name(self.queries[str(node)][0])
        if isinstance(node, Literal):
            return str(node)
        if isinstance(node, BNode):
            return "[]"
        text = str(node)
        best = max((ns for ns in self.prefixes.values() if text.startswith(ns)), key=len, default=None)
        if best is None:
            return f"<{text}>"
        prefix = next(p for p, ns in self.prefixes.items() if ns == best)
        return f"{prefix}:{text[len(best) :]}"

    def expand(self, name: str) -> str:
        prefix, colon, local = name.partition(":")
        if colon and prefix in self.prefixes and not local.startswith("//"):
            return self.prefixes[prefix] + local
        return name


def _pattern(node: Node, prefixes: Mapping[str, str]) -> re.Pattern[str]:
    """How `node` can be written in Turtle: <IRI> or a prefixed name; a literal as its quoted or bare text."""
    text = str(node)
    if isinstance(node, Literal):
        return re.compile(rf'"{re.escape(text)}"|(?<![\w.]){re.escape(text)}(?![\w.])')
    forms = [f"<{text}>"] + [f"{p}:{text[len(ns) :]}" for p, ns in prefixes.items() if text.startswith(ns)]
    return re.compile("|".join(re.escape(f) + r"(?![\w:.-]*[\w:-])" for f in forms))
