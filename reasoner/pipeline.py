"""recommend(): validate -> feature rules -> OWL 2 RL closure -> generic recommendation rule -> explanation."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import cache
from itertools import islice
from pathlib import Path
from typing import TypeVar

from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from reasoner.engine.engines import ENGINES, Evaluation, rules_of
from reasoner.engine.plausibility import check_evaluation_date, dated_after
from reasoner.engine.safeguards import evaluate_guarded
from reasoner.engine.validate import validate
from reasoner.errors import InputError, InvalidPatientError, ReasonerError
from reasoner.input.load import load
from reasoner.input.patient import Patient, skolemize
from reasoner.knowledge.guideline import Guideline, Module, RecommendationSpec, load_guideline
from reasoner.knowledge.wording import Wording, wording
from reasoner.namespaces import GR, PROV, RDF, RDFS
from reasoner.output.explain import Axioms, Explainer
from reasoner.output.result import (
    AppliedRecommendation,
    Conflict,
    ConflictSide,
    Fact,
    GuidelineInfo,
    Missing,
    PriorTreatment,
    Recommendations,
    SourceRef,
    Suppressed,
    Target,
)

__all__ = ["JURISDICTIONS", "chunked", "recommend", "recommend_many"]

_APPROVED_RANK = 3
_DRAFT_RANK = 1
_ACTION_KINDS = ("order", "refer")
_SOON_RANK = 2
# Where sources conflict, the recommendations of which jurisdiction apply (gr:International: all of them).
JURISDICTIONS = {"US": GR.US, "UK": GR.UK, "both": GR.International}
_TYPE = RDF.type
_STATUS_RANK: dict[Node, int] = {GR.Present: 3, GR.Unknown: 2}  # any other status (absent) ranks 1
_STATUS_NAME = {3: "present", 2: "unknown", 1: "absent"}
# Record types too generic to name a record by.
_GENERIC_TYPES = frozenset(
    (GR.FindingRecord, GR.Measurement, GR.MedicationExposure, GR.TherapyCourse, GR.ImpliedUnknown, GR.Patient)
)


PatientInput = Patient | str | Path | Graph
T = TypeVar("T")


def recommend(
    patient: PatientInput,
    *,
    as_of: date | None = None,
    guideline: Guideline | None = None,
    engine: str = "compiled",
    include_drafts: bool = False,
    jurisdiction: str = "US",
) -> Recommendations:
    """Evaluate one patient against the guideline at `as_of` (default: the patient's assessedOn date, else today).

    `jurisdiction` selects between conflicting sources: "US", "UK" or "both" (each source names its jurisdiction).
    Raises InvalidPatientError (nothing derived) when the facts break the patient shapes.
    """
    (outcome,) = recommend_many(
        [patient],
        as_of=as_of,
        guideline=guideline,
        engine=engine,
        include_drafts=include_drafts,
        jurisdiction=jurisdiction,
    )
    if isinstance(outcome, InputError):
        raise outcome
    return outcome


def recommend_many(
    patients: Iterable[PatientInput],
    *,
    as_of: date | None = None,
    guideline: Guideline | None = None,
    engine: str = "compiled",
    include_drafts: bool = False,
    jurisdiction: str = "US",
    chunk_size: int = 64,
) -> Iterator[Recommendations | InputError]:
    """Evaluate many patients, yielding in input order each result or the InputError that refused the patient
    (an unreadable or invalid patient never stops the others; so is one with an onset or exposure start after its
    evaluation date). Patients are evaluated `chunk_size` at a time, which the compiled engine does in one pass per
    chunk and evaluation date. An `as_of` outside 1900-2200 raises ReasonerError."""
    if as_of is not None:
        check_evaluation_date(as_of, what="as-of date")
    if jurisdiction not in JURISDICTIONS:
        raise ReasonerError(f"unknown jurisdiction {jurisdiction!r}; choose one of {', '.join(JURISDICTIONS)}")
    if engine not in ENGINES:
        raise ReasonerError(f"unknown engine {engine!r}; choose one of {', '.join(sorted(ENGINES))}")
    gl = guideline or load_guideline()
    min_rank = _DRAFT_RANK if include_drafts else _APPROVED_RANK
    for chunk in chunked(patients, chunk_size):
        outcomes: list[Recommendations | InputError | None] = [None] * len(chunk)
        by_date: dict[date, list[tuple[int, Patient]]] = {}
        for index, item in enumerate(chunk):
            try:
                data = skolemize(item if isinstance(item, Patient) else load(item))
                validate(data, gl)
                when = as_of or data.assessed_on or date.today()
                early = dated_after(data, when)
                if early:
                    raise InvalidPatientError(data.source, early)
            except InputError as exc:
                outcomes[index] = exc
                continue
            by_date.setdefault(when, []).append((index, data))
        for when, group in by_date.items():
            found = evaluate_guarded(  # patients that share a node apart; the reasoning budget per patient
                ENGINES[engine], gl, [p for _, p in group], as_of=when, min_rank=min_rank,
                jurisdiction=JURISDICTIONS[jurisdiction],
            )  # fmt: skip
            for (index, data), evaluation in zip(group, found, strict=True):
                outcomes[index] = (
                    evaluation
                    if isinstance(evaluation, InputError)
                    else _Assembler(gl, data, evaluation).build(when, engine, jurisdiction, min_rank)
                )
        for outcome in outcomes:
            assert outcome is not None
            yield outcome


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """`items` in lists of `size` (the last may be shorter; a size below 1 counts as 1, so nothing is dropped)."""
    iterator = iter(items)
    while chunk := list(islice(iterator, max(1, size))):
        yield chunk


@cache
def _axioms(gl: Guideline) -> Axioms:
    return Axioms(gl.graph)


class _Assembler:
    """Turns rule output into the typed result: explanations, labels, ordering, missing data, headline."""

    def __init__(self, gl: Guideline, patient: Patient, found: Evaluation) -> None:
        self.gl, self.patient, self.found = gl, patient, found
        self.closed, self.derived = found.facts, found.derived
        self.explainer = Explainer(_axioms(gl), found.facts, patient.graph)
        self._labels: dict[Node, str] = {}
        self._facts: dict[Node, Fact] = {}

    def build(self, when: date, engine: str, jurisdiction: str, min_rank: int = _APPROVED_RANK) -> Recommendations:
        in_scope = [
            m
            for m in self.gl.guidelines
            if m.scope is None or (self.patient.iri, _TYPE, URIRef(m.scope)) in self.closed
        ]
        applied = {i: self._applied(self.gl.recommendations[i], c) for i, c in self.found.applied.items()}
        blocked = {i: self._suppressed(self.gl.recommendations[i], by) for i, by in self.found.blocked.items()}
        conflicts = self._conflicts(applied, blocked)
        recs = sorted(applied.values(), key=self._order)
        sups = sorted(blocked.values(), key=lambda s: s.identifier)
        fields = {f: [m.iri for m in in_scope if f in m.fields] for m in in_scope for f in m.fields}
        infos = [_info(m) for m in in_scope]
        derived = self._derived_in_scope(fields, [m for m in self.gl.guidelines if m not in in_scope])
        return Recommendations(
            patient=str(self.patient.iri),
            as_of=when.isoformat(),
            guideline=infos[0] if infos else _info(self.gl.guidelines[0]),
            engine=engine,
            jurisdiction=jurisdiction,
            headline=self._headline(recs) if in_scope else "No guideline loaded applies to this patient",
            recommendations=recs,
            suppressed=sups,
            missing=self._missing(recs, sups, fields, self._undecided(in_scope, jurisdiction, min_rank)),
            wording=_wording(self.gl, tuple(in_scope or self.gl.guidelines)),
            labels={c: self.gl.label(URIRef(c)) for r in recs for c in r.via},
            prior_treatments=self._prior_treatments(),
            derived=derived,
            red_flags=self._red_flags(derived),
            fact_kinds=self._fact_kinds(recs, derived),
            unmapped=list(self.patient.unmapped),
            guidelines=infos,
            conflicts=conflicts,
        )

    def _conflicts(self, applied: dict[str, AppliedRecommendation], blocked: dict[str, Suppressed]) -> list[Conflict]:
        """Pairs of applied recommendations of different modules whose actions oppose on overlapping targets.
        A declared rule (gr:ConflictRule) resolves one: the yielding recommendation moves from `applied` to
        `blocked`, suppressed by the prevailing one; an undeclared conflict leaves both given."""
        gl, out = self.gl, []
        for a_id, a in sorted(applied.items()):
            for b_id, b in sorted(applied.items()):
                if a.module == b.module or b.kind not in gl.opposes.get(a.kind, ()):
                    continue
                if not gl.overlap(a.target.iri, b.target.iri):
                    continue
                rule = next(
                    (
                        r
                        for r in gl.conflict_rules
                        if a.kind in r.prevailing and b.kind in r.yielding and r.module in (None, a.module)
                    ),
                    None,
                )
                out.append(
                    Conflict(
                        self._side(a_id, a),
                        self._side(b_id, b),
                        rule.iri if rule else None,
                        rule.label if rule else None,
                        a_id if rule else None,
                    )
                )
        for conflict in out:
            if conflict.prevailing is None:
                continue
            loser = conflict.second.id
            if loser in applied:
                spec = gl.recommendations[loser]
                del applied[loser]
                blocked[loser] = Suppressed(
                    spec.iri, spec.identifier, spec.label, spec.kind, [conflict.first.id],
                    [gl.recommendations[conflict.first.id].identifier], ["conflict"], list(conflict.first.because),
                    spec.module, gl.module(spec.module).version_iri,
                )  # fmt: skip
        return out

    def _side(self, iri: str, rec: AppliedRecommendation) -> ConflictSide:
        return ConflictSide(
            iri, rec.identifier, rec.label, rec.kind, rec.target.iri, rec.module, rec.module_version,
            rec.strength, rec.quality, rec.rating, list(rec.because), list(rec.via),
        )  # fmt: skip

    def _red_flags(self, derived: Graph) -> dict[str, str]:
        """Red-flag field -> its status in this evaluation: "present" if a record of it (or of a narrower class) is
        present, else "unknown" if one is unknown, else "absent"; a field without a record has no entry. Records
        and their classes are as given and as the feature rules derived them (what the store keeps)."""
        table, patient, graphs = self.gl.red_flag_fields(), self.patient.iri, (self.patient.graph, derived)
        rank: dict[str, int] = {}
        for record in {r for g in graphs for r in g.objects(patient, GR.hasFinding)}:
            fields = {
                f for g in graphs for t in g.objects(record, _TYPE) if isinstance(t, URIRef) for f in table.get(t, ())
            }
            statuses = [_STATUS_RANK.get(s, 1) for g in graphs for s in g.objects(record, GR.status)]
            for field in fields if statuses else ():  # a record without a status says nothing
                rank[field] = max(rank.get(field, 0), *statuses)
        return {field: _STATUS_NAME[r] for field, r in sorted(rank.items())}

    def _fact_kinds(self, recs: list[AppliedRecommendation], derived: Graph) -> dict[str, list[str]]:
        """Recommendation given -> the kinds of the patient facts it rests on: an exposure's drug or therapy, else
        each class of the record (as given, or as the feature rules derived it) outside the core vocabulary."""
        graphs, agents, core = (self.patient.graph, derived), (GR.drug, GR.therapy), str(GR)
        out: dict[str, list[str]] = {}
        for rec in recs:
            kinds: set[str] = set()
            for fact in rec.because:
                node = URIRef(fact.iri)
                given = {a for p in agents for a in self.patient.graph.objects(node, p)}
                if not given and not any((node, p, None) in g for g in graphs for p in agents):
                    given = {t for g in graphs for t in g.objects(node, _TYPE)}
                kinds |= {str(k) for k in given if isinstance(k, URIRef) and not str(k).startswith(core)}
            if kinds:
                out[rec.id] = sorted(kinds)
        return out

    def _derived_in_scope(self, fields: dict[str, list[str]], outside: list[Module]) -> Graph:
        """What the feature rules derived, without what belongs to modules the patient is not in scope of: the
        unknown records of red flags no module in scope asks about, and classes in those modules' namespaces
        (every module's feature rules run, since scope is known only after reasoning)."""
        drop = {
            s
            for s in self.derived.subjects(_TYPE, GR.ImpliedUnknown)
            if not any(str(t) in fields for t in self.derived.objects(s, _TYPE))
        }
        foreign = tuple(m.namespace for m in outside if m.namespace)
        if not drop and not foreign:
            return self.derived
        out = Graph()
        for s, p, o in self.derived:
            if s not in drop and o not in drop and not (isinstance(o, URIRef) and str(o).startswith(foreign)):
                out.add((s, p, o))
        return out

    def _order(self, rec: AppliedRecommendation) -> tuple[int, bool, int, str]:
        """Most urgent first; at the same urgency, orders and referrals before the rest; then by grade."""
        spec = self.gl.recommendations[rec.id]
        strength = spec.primary.strength_rank if spec.primary else 0
        return (-spec.urgency_rank, rec.kind not in _ACTION_KINDS, -strength, rec.identifier)

    def _applied(self, spec: RecommendationSpec, classes: list[str]) -> AppliedRecommendation:
        explanation = self.explainer.explain(self.patient.iri, URIRef(classes[0]))
        for extra in spec.considers:
            if (self.patient.iri, RDF.type, URIRef(extra)) in self.closed:
                explanation.merge(self.explainer.explain(self.patient.iri, URIRef(extra)))
        primary = spec.primary
        fixed = _fixed_parts(self.gl, spec.iri)
        return AppliedRecommendation(
            module=spec.module,
            module_version=fixed.module_version,
            id=spec.iri,
            identifier=spec.identifier,
            label=spec.label,
            kind=spec.kind,
            target=Target(spec.target, fixed.target_label, list(fixed.target_codes)),
            urgency=spec.urgency,
            within_hours=spec.within_hours,
            timing=spec.timing,
            condition=spec.condition,
            strength=primary.strength if primary else None,
            quality=primary.quality if primary else None,
            rating=primary.rating if primary else None,
            sources=list(fixed.sources),
            because=[self._fact(n) for n in explanation.facts],
            via=[str(c) for c in explanation.via],
            project_defined=list(spec.project_defined),
            review_status=spec.review_status,
            rationale=spec.rationale,
            pitfalls=list(spec.pitfalls),
            patient_label=fixed.patient_label,
            patient_explanation=fixed.patient_explanation,
        )

    def _suppressed(self, spec: RecommendationSpec, by: list[str]) -> Suppressed:
        facts: list[Node] = []
        for blocker in by:
            if blocker in self.gl.recommendations:
                continue
            for fact in self.explainer.explain(self.patient.iri, URIRef(blocker)).facts:
                if fact not in facts:
                    facts.append(fact)
        labels = [
            self.gl.recommendations[b].identifier if b in self.gl.recommendations else self.gl.label(URIRef(b))
            for b in by
        ]
        # The rule table blocks by exclusion classes and by superseding recommendations, nothing else.
        reasons = ["superseded" if b in self.gl.recommendations else "exclusion" for b in by]
        return Suppressed(
            spec.iri, spec.identifier, spec.label, spec.kind, by, labels, reasons, [self._fact(n) for n in facts],
            spec.module, self.gl.module(spec.module).version_iri,
        )  # fmt: skip

    def _undecided(self, in_scope: list[Module], jurisdiction: str, min_rank: int) -> dict[str, list[Node]]:
        """Recommendations in force that neither apply nor are blocked while the patient is in one of their
        gr:undecidedWhen classes (unknown data leave them open), each with the facts behind those classes; not one
        that applied advice resting on no unknown supersedes, as it stays blocked whatever the unknown is."""
        modules, where = {m.iri for m in in_scope}, str(JURISDICTIONS[jurisdiction])
        found, rules = self.found, rules_of(self.gl)  # in force: what the recommendation rules admit
        out: dict[str, list[Node]] = {}
        for spec in self.gl.recommendations.values():
            if not spec.undecided_when or spec.module not in modules or spec.iri in found.applied:
                continue
            if spec.iri in found.blocked or not rules.admitted(spec.iri, min_rank=min_rank, jurisdiction=where):
                continue
            # superseded by advice that holds whatever the unknown turns out to be: blocked either way, not open
            if any(s in found.applied and not self._rests_on_unknown(s) for s in spec.superseded_by):
                continue
            for cls in spec.undecided_when:
                if (self.patient.iri, _TYPE, URIRef(cls)) in self.closed:
                    out.setdefault(spec.iri, []).extend(self.explainer.explain(self.patient.iri, URIRef(cls)).facts)
        return out

    def _rests_on_unknown(self, rec: str) -> bool:
        """Whether the patient's eligibility for recommendation `rec` rests on a finding recorded unknown."""
        return any(
            (fact, GR.status, GR.Unknown) in self.closed
            for cls in self.gl.recommendations[rec].eligibility
            if (self.patient.iri, _TYPE, URIRef(cls)) in self.closed
            for fact in self.explainer.explain(self.patient.iri, URIRef(cls)).facts
        )

    def _missing(
        self,
        recs: list[AppliedRecommendation],
        sups: list[Suppressed],
        owners: dict[str, list[str]],
        undecided: dict[str, list[Node]],
    ) -> list[Missing]:
        """Fields recorded unknown (red flags, the date of birth) of the modules the patient is in scope of
        (`owners`: field -> them); a field that recommendations ask for (gr:asksFor) only when one of them applies.
        Each lists what it is needed for: the advice resting on it, the advice it blocks, and the advice it leaves
        undecided (`undecided`: recommendation -> the facts that leave it open)."""
        out = []
        g = self.closed
        applied = {r.id for r in recs}
        for record in sorted(g.objects(self.patient.iri, GR.hasFinding), key=str):
            if (record, GR.status, GR.Unknown) not in g:
                continue
            fields = [t for t in self._asserted_types(record) if str(t) in owners]
            asking = self.gl.asked_by.get(str(fields[0])) if fields else None
            if not fields or (asking is not None and not asking & applied):
                continue
            iri = str(record)
            needed = sorted(
                (asking or frozenset()) & applied
                | {r.id for r in recs if any(f.iri == iri for f in r.because)}
                | {s.id for s in sups if any(f.iri == iri for f in s.because)}
                | {rec for rec, facts in undecided.items() if record in facts}
            )
            plain = _opt_str(self.gl.graph.value(fields[0], GR.patientLabel))
            out.append(Missing(str(fields[0]), self.gl.label(fields[0]), needed, iri, plain, owners[str(fields[0])]))
        return sorted(out, key=lambda m: m.label)

    def _headline(self, recs: list[AppliedRecommendation]) -> str:
        """The most urgent step, and the most urgent order or referral if that step is not one, each with the
        patient classes behind an order or referral; below "soon" there is no urgent action and it says so."""
        rank = {r.id: self.gl.recommendations[r.id].urgency_rank for r in recs}
        top = max(rank.values(), default=0)
        if top < _SOON_RANK:
            return "No urgent action: see the plan" if recs else "No recommendation applies: see the missing data"
        at_top = [r for r in recs if rank[r.id] == top]
        lead = [r for r in at_top if r.kind in _ACTION_KINDS] or at_top[:1]
        parts = [self._step(lead)]
        if lead[0].kind not in _ACTION_KINDS:
            actions = [r for r in recs if r.kind in _ACTION_KINDS and rank[r.id] >= _SOON_RANK]
            if actions:
                parts.append(self._step([r for r in actions if rank[r.id] == rank[actions[0].id]]))
        return "; then ".join(parts)

    def _step(self, lead: list[AppliedRecommendation]) -> str:
        if lead[0].kind not in _ACTION_KINDS:
            return f"{(lead[0].urgency or '').upper()}: {lead[0].label}"
        reasons = self._reasons(lead)
        why = f" ({'; '.join(reasons)})" if reasons else ""
        return f"{(lead[0].urgency or '').upper()}: {' and '.join(r.target.label for r in lead)}{why}"

    def _reasons(self, lead: list[AppliedRecommendation]) -> list[str]:
        """The most specific patient classes the lead recommendations were inferred through (at most two)."""
        classes: list[URIRef] = []
        for r in lead:
            for cls in r.via:
                node = URIRef(cls)
                if cls.endswith("Patient") and node not in classes:
                    classes.append(node)
        closure = self.gl.closure_index()
        specific = [c for c in classes if not any(o != c and (o, RDFS.subClassOf, c) in closure for o in classes)]
        return [self.gl.label(c) for c in specific[:2]]

    def _prior_treatments(self) -> list[PriorTreatment]:
        g, out = self.closed, []
        for exp in sorted(g.objects(self.patient.iri, GR.hasExposure), key=str):
            agent = g.value(exp, GR.drug) or g.value(exp, GR.therapy)
            if not isinstance(agent, URIRef):
                continue
            summary = self.gl.evidence_summary(agent)
            response = g.value(exp, GR.response)
            out.append(
                PriorTreatment(
                    iri=str(exp),
                    label=self._label(exp),
                    agent=str(agent),
                    response=self.gl.label(response) if response is not None else "not documented",
                    current=(exp, RDF.type, GR.CurrentExposure) in g,
                    evidence=summary[0] if summary else None,
                    sources=[s.iri for s in summary[1]] if summary else [],
                )
            )
        return out

    # -- labels --------------------------------------------------------------------------------------------

    def _asserted_types(self, node: Node) -> list[URIRef]:
        source = self.patient.graph if (node, None, None) in self.patient.graph else self.derived
        return sorted(t for t in source.objects(node, _TYPE) if isinstance(t, URIRef) and t not in _GENERIC_TYPES)

    def _fact(self, node: Node) -> Fact:
        fact = self._facts.get(node)  # the same facts recur in the explanations of several recommendations
        if fact is None:
            source = self.patient.graph.value(node, PROV.wasDerivedFrom)  # the FHIR resource a record was read from
            fact = self._facts[node] = Fact(
                str(node), self._label(node), str(source) if isinstance(source, URIRef) else None
            )
        return fact

    def _label(self, node: Node) -> str:
        label = self._labels.get(node)
        if label is None:
            label = self._labels[node] = self._describe(node)
        return label

    def _describe(self, node: Node) -> str:
        g, gl = self.closed, self.gl
        given = self.patient.graph.value(node, RDFS.label)
        if given is not None:
            return str(given)
        kinds = ", ".join(gl.label(t) for t in self._asserted_types(node)) or gl.label(node)
        if (node, RDF.type, GR.ImpliedUnknown) in g:
            return f"{kinds}: not documented (unknown)"
        status = g.value(node, GR.status)
        if status is not None:
            parts = [gl.label(status)]
            for prop in (GR.laterality, GR.course):
                value = g.value(node, prop)
                if value is not None:
                    parts.append(gl.label(value))
            grade = g.value(node, GR.mrcGrade)
            if grade is not None:
                parts.append(f"MRC {grade}")
            for prop, word in ((GR.onset, "since"), (GR.recordedOn, "on")):
                value = g.value(node, prop)
                if value is not None:
                    parts.append(f"{word} {value}")
                    break
            return f"{kinds} ({', '.join(parts)})"
        agent = g.value(node, GR.drug) or g.value(node, GR.therapy)
        if agent is not None:
            days = g.value(node, GR.exposureDays)
            route = g.value(node, GR.route)
            bits = [b for b in (gl.label(route) if route else None, f"from {g.value(node, GR.start)}") if b]
            if isinstance(days, Literal):
                bits.append(f"{days} day(s)")
            return f"{gl.label(agent)} ({', '.join(bits)})"
        value = g.value(node, GR.value)
        if value is not None:
            unit = next((gl.graph.value(t, GR.unit) for t in self._asserted_types(node)), None)
            return f"{kinds} {value}{' ' + str(unit) if unit else ''} on {g.value(node, GR.recordedOn)}"
        return kinds


@dataclass(frozen=True)
class _Fixed:
    """What an applied recommendation reports that depends on the guideline only, not on the patient."""

    module_version: str
    target_label: str
    target_codes: tuple[str, ...]
    sources: tuple[SourceRef, ...]
    patient_label: str | None  # the plain-language label and explanation; none for clinicians-only advice
    patient_explanation: str | None


@cache
def _fixed_parts(gl: Guideline, iri: str) -> _Fixed:
    spec, g = gl.recommendations[iri], gl.graph
    target, rec = URIRef(spec.target), URIRef(iri)
    clinician_only = g.value(rec, GR.clinicianOnly) == Literal(True)
    return _Fixed(
        module_version=gl.module(spec.module).version_iri,
        target_label=gl.label(target),
        target_codes=tuple(gl.codes(target)),
        sources=tuple(
            SourceRef(
                iri=e.source.iri,
                evidence=e.iri,
                label=e.source.label,
                citation=e.source.citation,
                doi=e.source.doi,
                url=e.source.url,
                statement=e.statement,
                strength=e.strength,
                quality=e.quality,
                rating=e.rating,
                jurisdiction=e.source.jurisdiction,
                unverified="; ".join(x for x in (e.source.unverified, e.unverified) if x) or None,
            )
            for e in spec.evidence
        ),
        patient_label=None if clinician_only else _opt_str(g.value(rec, GR.patientLabel)),
        patient_explanation=None if clinician_only else _opt_str(g.value(rec, GR.patientExplanation)),
    )


@cache
def _wording(gl: Guideline, modules: tuple[Module, ...]) -> Wording:
    return wording(gl, modules)


def _info(module: Module) -> GuidelineInfo:
    return GuidelineInfo(
        module.iri, module.version, module.version_iri, module.modified, module.title, module.review_status
    )


def _opt_str(value: Node | None) -> str | None:
    return str(value) if value is not None else None
