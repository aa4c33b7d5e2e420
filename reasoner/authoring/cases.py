"""Guideline test cases: one YAML file per case (tests/cases/<module>/<name>.yaml), loaded, run and explained.

A case pins a patient, an evaluation date and what the guideline says must, must not and should not be
recommended; docs/authoring-tests.md describes the format. Only `yaml.safe_load` reads case files. Every problem
in a case file is a CaseError naming the file, the field and what was expected.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from rdflib import URIRef

from reasoner.engine.validate import check
from reasoner.errors import CaseError, InvalidPatientError, PatientParseError
from reasoner.input.load import load
from reasoner.input.patient import Patient
from reasoner.knowledge.guideline import Guideline, RecommendationSpec, load_guideline
from reasoner.namespaces import GR, OWL, RDF, RDFS, XSD
from reasoner.output.result import AppliedRecommendation, Missing, Recommendations
from reasoner.pipeline import JURISDICTIONS, recommend

__all__ = [
    "KINDS",
    "Case",
    "CaseResult",
    "ConflictExpectation",
    "Expectation",
    "Expectations",
    "Unmet",
    "case_dirs",
    "compact",
    "load_case",
    "load_cases",
    "prefixes",
    "run_case",
    "run_cases",
]

KINDS = ("order", "refer", "start", "continue", "stop", "avoid", "assess", "reassess", "educate")
#: Prefixes a case may use in targets, and that inline patient Turtle gets without declaring them.
_STANDARD = {"xsd": str(XSD), "rdf": str(RDF), "rdfs": str(RDFS), "owl": str(OWL)}
_FIELDS = ("name", "description", "as_of", "jurisdiction", "include_drafts", "patient", "patient_file")
_LISTS = ("must", "must_not", "should_not", "suppressed", "conflicts", "missing", "not_missing")
_MAPPING_KEYS = ("id", "kind", "target", "via")


@dataclass(frozen=True)
class Expectation:
    """One expected (or unwanted) recommendation: an identifier, or any of kind, target (a concrete target or a
    class of targets) and via (a class the explanation must name). Every given part must match."""

    text: str
    identifier: str | None = None
    kind: str | None = None
    target: str | None = None
    via: str | None = None

    def matches_spec(self, spec: RecommendationSpec, guideline: Guideline) -> bool:
        """Whether the recommendation as authored matches (identifier, kind and target; `via` is not checked)."""
        return (
            (self.identifier is None or spec.identifier == self.identifier)
            and (self.kind is None or spec.kind == self.kind)
            and (self.target is None or spec.target in guideline.members(self.target))
        )

    def matches(self, rec: AppliedRecommendation, guideline: Guideline) -> bool:
        spec = guideline.recommendations[rec.id]
        return self.matches_spec(spec, guideline) and (self.via is None or self.via in rec.via)


@dataclass(frozen=True)
class Expectations:
    must: tuple[Expectation, ...] = ()
    must_not: tuple[Expectation, ...] = ()
    should_not: tuple[Expectation, ...] = ()
    suppressed: tuple[str, ...] = ()
    conflicts: tuple[ConflictExpectation, ...] = ()
    missing: tuple[str, ...] = ()  # red-flag fields the result must report missing
    needed_for: tuple[tuple[str, frozenset[str]], ...] = ()  # (field, identifiers its needed_for must include)
    not_missing: tuple[str, ...] = ()  # ... and must not


@dataclass(frozen=True)
class ConflictExpectation:
    """Two recommendations of different modules expected to conflict, and the one a declared rule lets prevail
    (None: the conflict is expected unresolved, both given)."""

    between: frozenset[str]
    prevailing: str | None

    @property
    def text(self) -> str:
        pair = " vs ".join(sorted(self.between))
        return f"{pair}, {self.prevailing} prevailing" if self.prevailing else f"{pair}, unresolved"


@dataclass(frozen=True)
class Case:
    name: str
    path: Path
    as_of: date
    jurisdiction: str
    include_drafts: bool
    patient: Patient
    expectations: Expectations
    description: str | None = None

    module: str | None = None  # the module whose cases/ directory holds the case; None: a case kept elsewhere

    @property
    def id(self) -> str:
        """`<module directory>/<file name>`, e.g. my-module/vignette-v01."""
        folder = self.path.parent
        return f"{folder.parent.name if folder.name == 'cases' else folder.name}/{self.path.stem}"


@dataclass(frozen=True)
class Unmet:
    """An expectation the result does not meet: what was expected, what happened, and why."""

    field: str
    expectation: str
    expected: str
    actual: str
    details: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        out = [f"{self.field}: {self.expectation}", f"  expected: {self.expected}", f"  actual:   {self.actual}"]
        return out + [f"  - {d}" for d in self.details]


@dataclass(frozen=True)
class CaseResult:
    case: Case
    result: Recommendations
    failures: tuple[Unmet, ...]
    warnings: tuple[Unmet, ...]

    @property
    def status(self) -> str:
        return "FAIL" if self.failures else "WARN" if self.warnings else "PASS"

    @property
    def passed(self) -> bool:
        return not self.failures

    def explain(self) -> str:
        """The case's status line, then every failure and warning with expected vs actual and the explanation."""
        lines = [f"{self.status} {self.case.id}: {self.case.name} (as of {self.case.as_of})"]
        for unmet in self.failures:
            lines += ["    " + x for x in unmet.lines()]
        for unmet in self.warnings:
            lines += ["    (warning) " + unmet.lines()[0]] + ["    " + x for x in unmet.lines()[1:]]
        return "\n".join(lines)


# -- loading ---------------------------------------------------------------------------------------------------


def case_dirs(guideline: Guideline) -> list[Path]:
    """The cases/ directory of every loaded module that has one."""
    return [m.directory / "cases" for m in guideline.modules if (m.directory / "cases").is_dir()]


@cache
def prefixes(guideline: Guideline) -> dict[str, str]:
    """The prefixes a case may use in targets, and that inline patient Turtle gets without declaring them: those
    the loaded modules declare (vann), and xsd, rdf, rdfs, owl."""
    return guideline.prefixes() | _STANDARD


def load_cases(
    paths: str | Path | Sequence[str | Path] | None = None, *, guideline: Guideline | None = None
) -> list[Case]:
    """Every case under each path (a directory, searched recursively for *.yaml and *.yml, or one case file),
    sorted by path; by default, the cases of every loaded module.

    Raises one CaseError listing every broken file."""
    gl = guideline or load_guideline()
    roots = [Path(paths)] if isinstance(paths, str | Path) else [Path(p) for p in paths or case_dirs(gl)]
    files: list[Path] = []
    for root in roots:
        if not root.exists():
            raise CaseError(str(root), None, "does not exist; expected a case file or a directory of *.yaml cases")
        found = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml"))
        if not found:
            raise CaseError(str(root), None, "holds no test cases; expected *.yaml case files")
        files += [f for f in found if f not in files]
    cases, errors = [], []
    for file in files:
        try:
            cases.append(load_case(file, guideline=gl))
        except CaseError as exc:
            errors.append(exc)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        where = ", ".join(str(r) for r in roots)
        raise CaseError(where, None, f"{len(errors)} broken case files:\n" + "\n".join(f"  {e}" for e in errors))
    return cases


def load_case(path: str | Path, *, guideline: Guideline | None = None) -> Case:
    """Read and check one case file: fields, dates, identifiers and targets known to the guideline, patient data."""
    file = Path(path)
    gl = guideline or load_guideline()
    data = _read_yaml(file)
    unknown = sorted(set(data) - set(_FIELDS) - set(_LISTS), key=str)
    if unknown:
        raise CaseError(str(file), str(unknown[0]), f"unknown field; expected one of {', '.join(_FIELDS + _LISTS)}")
    reader = _Reader(file, gl)
    expectations = Expectations(
        must=reader.expectations(data, "must"),
        must_not=reader.expectations(data, "must_not"),
        should_not=reader.expectations(data, "should_not"),
        suppressed=tuple(reader.identifier(x, f"suppressed (item {i})") for i, x in reader.items(data, "suppressed")),
        conflicts=tuple(reader.conflict(x, f"conflicts (item {i})") for i, x in reader.items(data, "conflicts")),
        missing=tuple(reader.missing(x, f"missing (item {i})")[0] for i, x in reader.items(data, "missing")),
        needed_for=tuple(reader.missing(x, f"missing (item {i})") for i, x in reader.items(data, "missing")),
        not_missing=tuple(reader.term(x, f"not_missing (item {i})") for i, x in reader.items(data, "not_missing")),
    )
    if not any(getattr(expectations, key) for key in _LISTS):
        raise CaseError(str(file), None, f"no expectations; a case needs one of {', '.join(_LISTS)}")
    jurisdiction = data.get("jurisdiction", "US")
    if jurisdiction not in JURISDICTIONS:
        raise CaseError(str(file), "jurisdiction", f"{jurisdiction!r}; expected one of {', '.join(JURISDICTIONS)}")
    drafts = data.get("include_drafts", False)
    if not isinstance(drafts, bool):
        raise CaseError(str(file), "include_drafts", f"{drafts!r}; expected true or false")
    return Case(
        name=reader.text(data, "name", required=True) or "",
        description=reader.text(data, "description", required=False),
        path=file,
        as_of=_as_of(file, data.get("as_of")),
        jurisdiction=str(jurisdiction),
        include_drafts=drafts,
        patient=_patient(file, data, gl),
        expectations=expectations,
        module=_module_of(file, gl),
    )


def _module_of(file: Path, gl: Guideline) -> str | None:
    where = file.resolve()
    return next((m.iri for m in gl.modules if (m.directory / "cases") in where.parents), None)


def _read_yaml(file: Path) -> dict[str, Any]:
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CaseError(str(file), None, f"cannot read the file: {exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CaseError(str(file), None, f"not valid YAML: {' '.join(str(exc).split())}") from exc
    except ValueError as exc:  # safe_load builds dates itself and fails on 2026-02-30
        for key, value in re.findall(r"^\s*([A-Za-z_]+)\s*:\s*['\"]?(\d{4}-\d\d-\d\d)\b", text, re.MULTILINE):
            try:
                date.fromisoformat(value)
            except ValueError:
                raise CaseError(str(file), key, f"{value} is not a calendar date; expected YYYY-MM-DD") from exc
        raise CaseError(str(file), None, f"not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise CaseError(str(file), None, "expected a mapping of fields (name, as_of, patient, must, ...)")
    return data


def _as_of(file: Path, value: object) -> date:
    if value is None:
        raise CaseError(str(file), "as_of", "missing; expected the evaluation date as YYYY-MM-DD")
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\d", value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    shown = repr(value) if isinstance(value, str) else str(value)
    raise CaseError(str(file), "as_of", f"{shown} is not a date; expected YYYY-MM-DD")


def _patient(file: Path, data: dict[str, Any], gl: Guideline) -> Patient:
    inline, ref = data.get("patient"), data.get("patient_file")
    if (inline is None) == (ref is None):
        raise CaseError(str(file), "patient", "expected exactly one of patient (inline Turtle) or patient_file")
    field = "patient" if inline is not None else "patient_file"
    try:
        if inline is not None:
            if not isinstance(inline, str):
                raise CaseError(str(file), field, "expected Turtle text (a YAML block scalar: `patient: |`)")
            prelude = " ".join(f"@prefix {p}: <{ns}> ." for p, ns in prefixes(gl).items()) + "\n"  # line numbers - 1
            patient = load(prelude + inline, format="turtle", name=str(file))
        else:
            target = file.parent / str(ref)
            if not target.is_file():
                raise CaseError(str(file), field, f"{target} does not exist; expected a path relative to the case")
            patient = load(target)
    except PatientParseError as exc:
        detail = exc.detail
        if inline is not None:  # line numbers count from the start of the block, without the prefix line
            detail = re.sub(r"at line (\d+)", lambda m: f"at line {int(m.group(1)) - 1}", detail)
        raise CaseError(str(file), field, f"unreadable Turtle: {detail}") from exc
    except InvalidPatientError as exc:
        raise CaseError(str(file), field, "; ".join(str(v) for v in exc.violations)) from exc
    problems = check(patient, gl)
    if problems:
        listed = "\n".join(f"    - {v}" for v in problems)
        raise CaseError(str(file), field, f"breaks the patient shapes ({len(problems)} problem(s)):\n{listed}")
    return patient


class _Reader:
    """Checks the fields of one case file against the guideline, naming the file and the field on any problem."""

    def __init__(self, file: Path, gl: Guideline) -> None:
        self.file, self.gl = file, gl
        self.identifiers = {spec.identifier for spec in gl.recommendations.values()}

    def fail(self, field: str, problem: str) -> CaseError:
        return CaseError(str(self.file), field, problem)

    def text(self, data: dict[str, Any], key: str, *, required: bool) -> str | None:
        value = data.get(key)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"{'missing or empty' if not value else repr(value)}; expected a line of text")
        return value.strip()

    def conflict(self, value: object, where: str) -> ConflictExpectation:
        if not isinstance(value, dict) or set(value) - {"between", "prevailing"} or "between" not in value:
            raise self.fail(where, f"{value!r}; expected {{between: [ID, ID], prevailing: ID}} (prevailing optional)")
        pair = value["between"]
        if not isinstance(pair, list) or len(pair) != 2:
            raise self.fail(where, f"between: {pair!r}; expected a list of two recommendation identifiers")
        between = frozenset(self.identifier(x, f"{where} between") for x in pair)
        prevailing = value.get("prevailing")
        if prevailing is not None and self.identifier(prevailing, f"{where} prevailing") not in between:
            raise self.fail(where, f"prevailing: {prevailing} is not one of {', '.join(sorted(between))}")
        return ConflictExpectation(between, None if prevailing is None else str(prevailing))

    def missing(self, value: object, where: str) -> tuple[str, frozenset[str]]:
        """A field the result must report missing (a CURIE), or {field: CURIE, needed_for: [ID, ...]} when the
        recommendations it is needed for must be among those listed."""
        if not isinstance(value, dict):
            return self.term(value, where), frozenset()
        needed = value.get("needed_for", [])
        if set(value) - {"field", "needed_for"} or "field" not in value or not isinstance(needed, list):
            raise self.fail(where, f"{value!r}; expected a field (CURIE) or {{field: CURIE, needed_for: [ID, ...]}}")
        return self.term(value["field"], where), frozenset(self.identifier(x, f"{where} needed_for") for x in needed)

    def items(self, data: dict[str, Any], key: str) -> list[tuple[int, object]]:
        value = data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(key, "expected a list (one `- ` item per expectation)")
        return list(enumerate(value, start=1))

    def expectations(self, data: dict[str, Any], key: str) -> tuple[Expectation, ...]:
        return tuple(self.expectation(item, f"{key} (item {i})") for i, item in self.items(data, key))

    def expectation(self, item: object, where: str) -> Expectation:
        if isinstance(item, str):
            return Expectation(text=item, identifier=self.identifier(item, where))
        if not isinstance(item, dict) or not item:
            raise self.fail(where, f"{item!r}; expected an identifier or a mapping of {', '.join(_MAPPING_KEYS)}")
        extra = sorted(set(item) - set(_MAPPING_KEYS), key=str)
        if extra:
            raise self.fail(where, f"unknown key {extra[0]!r}; expected {', '.join(_MAPPING_KEYS)}")
        kind = item.get("kind")
        if kind is not None and kind not in KINDS:
            raise self.fail(where, f"kind {kind!r}; expected one of {', '.join(KINDS)}")
        text = ", ".join(f"{k}: {item[k]}" for k in _MAPPING_KEYS if k in item)
        return Expectation(
            text="{" + text + "}",
            identifier=self.identifier(item["id"], where) if "id" in item else None,
            kind=kind,
            target=self.term(item["target"], where + " target") if "target" in item else None,
            via=self.term(item["via"], where + " via") if "via" in item else None,
        )

    def identifier(self, value: object, where: str) -> str:
        if isinstance(value, str) and value in self.identifiers:
            return value
        close = difflib.get_close_matches(str(value), sorted(self.identifiers), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise self.fail(where, f"unknown recommendation identifier {value!r}{hint}; expected one of the guideline's")

    def term(self, value: object, where: str) -> str:
        if not isinstance(value, str):
            raise self.fail(
                where,
                f"{value!r}; expected a CURIE (prefix:name, with a prefix a loaded module declares) or a full IRI",
            )
        text = value.strip()
        if text.startswith("<") and text.endswith(">"):
            iri = text[1:-1]
        elif text.startswith(("http://", "https://", "urn:")):
            iri = text
        else:
            prefix, colon, local = text.partition(":")
            known = prefixes(self.gl)
            if not colon or prefix not in known:
                raise self.fail(where, f"unknown prefix in {text!r}; expected one of {', '.join(known)}: or an IRI")
            iri = known[prefix] + local
        if (URIRef(iri), None, None) not in self.gl.graph:
            raise self.fail(where, f"{text} is not a term of the guideline; expected a target or class it defines")
        return iri


# -- running ---------------------------------------------------------------------------------------------------


def run_cases(
    paths: str | Path | Sequence[str | Path] | None = None, *, guideline: Guideline | None = None
) -> list[CaseResult]:
    """Load every case under `paths` (default: every loaded module's cases) and run each one."""
    gl = guideline or load_guideline()
    return [run_case(case, guideline=gl) for case in load_cases(paths, guideline=gl)]


def run_case(case: Case, *, guideline: Guideline | None = None) -> CaseResult:
    """Evaluate the case's patient at its date and check every expectation; a failed should_not is a warning."""
    gl = guideline or load_guideline()
    result = recommend(
        case.patient, as_of=case.as_of, guideline=gl, jurisdiction=case.jurisdiction, include_drafts=case.include_drafts
    )
    explain = _Explainer(gl, result, case)
    exp = case.expectations
    failures = [explain.missing(e) for e in exp.must if not explain.applied(e)]
    failures += [explain.unwanted("must_not", e) for e in exp.must_not if explain.applied(e)]
    failures += [
        explain.not_suppressed(i) for i in exp.suppressed if i not in {s.identifier for s in result.suppressed}
    ]
    found = {
        (frozenset((c.first.identifier, c.second.identifier)), c.first.identifier if c.prevailing else None): c
        for c in result.conflicts
    }
    failures += [explain.no_conflict(c, found) for c in exp.conflicts if (c.between, c.prevailing) not in found]
    reported = {m.finding: m for m in result.missing}
    failures += [explain.field("missing", f, reported) for f in exp.missing if f not in reported]
    failures += [
        explain.needed_for(f, ids, reported[f])
        for f, ids in exp.needed_for
        if f in reported and not ids <= {gl.recommendations[r].identifier for r in reported[f].needed_for}
    ]
    failures += [explain.field("not_missing", f, reported) for f in exp.not_missing if f in reported]
    warnings = [explain.unwanted("should_not", e) for e in exp.should_not if explain.applied(e)]
    return CaseResult(case, result, tuple(failures), tuple(warnings))


def _ident(spec: RecommendationSpec) -> str:
    return spec.identifier


def compact(iri: str, gl: Guideline) -> str:
    for prefix, ns in prefixes(gl).items():
        if iri.startswith(ns):
            return f"{prefix}:{iri[len(ns) :]}"
    return f"<{iri}>"


class _Explainer:
    """Builds the expected/actual text of unmet expectations from the result and the guideline."""

    def __init__(self, gl: Guideline, result: Recommendations, case: Case) -> None:
        self.gl, self.result, self.case = gl, result, case

    def applied(self, exp: Expectation) -> list[AppliedRecommendation]:
        return [r for r in self.result.recommendations if exp.matches(r, self.gl)]

    def missing(self, exp: Expectation) -> Unmet:
        ids = ", ".join(r.identifier for r in self.result.recommendations) or "none"
        specs = sorted((s for s in self.gl.recommendations.values() if exp.matches_spec(s, self.gl)), key=_ident)
        applied = self.result.by_identifier()
        details = [
            f"applied, but not via {compact(exp.via or '', self.gl)}: {self.fired(applied[s.identifier])}"
            if s.identifier in applied
            else self.why_not(s)
            for s in specs
        ] or ["no recommendation of the guideline matches this expectation"]
        return Unmet(
            "must", exp.text, f"a recommendation matching {exp.text} applies", f"applied: {ids}", tuple(details)
        )

    def unwanted(self, field: str, exp: Expectation) -> Unmet:
        recs = self.applied(exp)
        actual = "applied: " + ", ".join(r.identifier for r in recs)
        return Unmet(field, exp.text, f"no recommendation matching {exp.text}", actual, tuple(map(self.fired, recs)))

    def no_conflict(self, exp: ConflictExpectation, found: dict[tuple[frozenset[str], str | None], Any]) -> Unmet:
        seen = [
            f"{' vs '.join(sorted(pair))} ({'resolved: ' + won + ' prevails' if won else 'unresolved'})"
            for pair, won in found
        ]
        return Unmet("conflicts", exp.text, f"a conflict {exp.text}", "conflicts: " + ("; ".join(seen) or "none"))

    def field(self, key: str, finding: str, reported: dict[str, Missing]) -> Unmet:
        name = compact(finding, self.gl)
        listed = ", ".join(compact(f, self.gl) for f in sorted(reported)) or "none"
        if key == "missing":
            return Unmet(key, name, f"{name} reported missing", f"missing: {listed}")
        needed = ", ".join(self.gl.recommendations[r].identifier for r in reported[finding].needed_for) or "nothing"
        return Unmet(key, name, f"{name} not reported missing", f"reported missing, needed for {needed}")

    def needed_for(self, finding: str, identifiers: frozenset[str], reported: Missing) -> Unmet:
        name = compact(finding, self.gl)
        needed = ", ".join(self.gl.recommendations[r].identifier for r in reported.needed_for) or "nothing"
        wanted = ", ".join(sorted(identifiers))
        return Unmet("missing", name, f"{name} reported missing, needed for {wanted}", f"needed for {needed}")

    def not_suppressed(self, identifier: str) -> Unmet:
        rec = self.result.by_identifier().get(identifier)
        spec = next(s for s in self.gl.recommendations.values() if s.identifier == identifier)
        actual = "it applied" if rec else "it was neither applied nor suppressed"
        detail = self.fired(rec) if rec else self.why_not(spec)
        return Unmet("suppressed", identifier, f"{identifier} eligible but blocked", actual, (detail,))

    def fired(self, rec: AppliedRecommendation) -> str:
        because = "; ".join(f.label for f in rec.because) or "nothing recorded"
        via = ", ".join(compact(c, self.gl) for c in rec.via) or "none"
        target = compact(rec.target.iri, self.gl)
        return f"{rec.identifier} [{rec.kind} {target}] {rec.label}; because: {because}; via: {via}"

    def why_not(self, spec: RecommendationSpec) -> str:
        blocked = next((s for s in self.result.suppressed if s.identifier == spec.identifier), None)
        if blocked is not None:
            because = "; ".join(f.label for f in blocked.because)
            return f"{spec.identifier} was eligible but blocked by {'; '.join(blocked.by_labels)}" + (
                f" (because: {because})" if because else ""
            )
        if spec.review_status != "approved" and not self.case.include_drafts:
            return f"{spec.identifier} is {spec.review_status}: only approved recommendations apply by default"
        places = sorted(str(j) for j in self.gl.graph.objects(URIRef(spec.iri), GR.jurisdiction))
        scope = f" (limited to {', '.join(compact(p, self.gl) for p in places)})" if places else ""
        classes = ", ".join(f"{compact(c, self.gl)} ({self.gl.label(URIRef(c))})" for c in spec.eligibility)
        return f"{spec.identifier}{scope} did not apply: the patient is not in {classes}"
