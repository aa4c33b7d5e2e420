"""The research queries (queries/research/*.rq) against a generated cohort batched into one store three times: under
two guideline versions (the bundled one and a copy with one recommendation turned into a draft) with the US sources,
and under the bundled version with the UK's. Every expected answer is computed here, independently, from the
patients' own facts and what recommend() returned for them; nothing is hard-coded. Each evaluation (patient,
versions, jurisdiction, as-of date) is its own graph: an answer that mixed them would double count."""

from __future__ import annotations

import shutil
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.term import Node

import reasoner
from reasoner.authoring.cases import Case
from reasoner.input.patient import Patient
from reasoner.knowledge.guideline import Guideline
from reasoner.namespaces import GR, OWL, RDF, RDFS
from reasoner.output.result import Recommendations, Suppressed
from reasoner.store import research
from reasoner.store.backends import PatientGraphs
from reasoner.store.batch import batch
from reasoner.store.cohort import (
    CohortStore,
    Rows,
    open_store,
    patient_graphs,
    query,
    skolemize,
    write_guideline,
    write_patient,
    write_patients,
)
from reasoner.store.counts import COUNTS, fold
from reasoner.synth.cohort import cases_of, synthesize, synthetic_patients, write_cohort

LBP = Namespace("https://w3id.org/guideline-reasoner/lbp#")

SEED = 20261124
LIMITS = (LBP.KetorolacLimitReached, LBP.KetorolacLimitExceeded, LBP.CyclobenzaprineBeyondTwoWeeks)


@dataclass
class Cohort:
    store: CohortStore
    patients: dict[str, Patient]
    results: dict[str, dict[str, Recommendations]]  # version IRI -> patient IRI -> result, US sources
    uk: dict[str, Recommendations]  # patient IRI -> result under the bundled version, UK sources
    guidelines: dict[str, Guideline]
    cases: dict[str, Case]  # patient IRI -> the test case it was drawn from
    changed: str  # the recommendation made a draft in the second version

    @property
    def versions(self) -> list[str]:
        return sorted(self.guidelines)

    @property
    def evaluations(self) -> list[tuple[str, str, dict[str, Recommendations]]]:
        """Each stored batch: version IRI, jurisdiction, patient IRI -> result."""
        bundled = min(self.versions, key=len)
        return [*((v, "US", r) for v, r in sorted(self.results.items())), (bundled, "UK", self.uk)]


def _variant(gl: Guideline, root: Path, changed: str) -> str:
    """Copy every loaded module under `root`, the first guideline with a new version IRI (the store keys a run on
    it) and `changed` turned into a draft; return the new version IRI."""
    module, version = URIRef(gl.iri), gl.version_iri + "-research-variant"
    for loaded in gl.modules:
        target = root / loaded.directory.name
        shutil.copytree(loaded.directory, target)
        for path in sorted(target.glob("*.ttl")):
            graph = Graph().parse(path)
            if (module, OWL.versionIRI, None) in graph:
                graph.set((module, OWL.versionIRI, URIRef(version)))
                graph.set((module, OWL.versionInfo, Literal(gl.version + "-research-variant")))
            elif (URIRef(changed), GR.reviewStatus, None) in graph:
                graph.set((URIRef(changed), GR.reviewStatus, GR.Draft))
            else:
                continue
            graph.serialize(path, format="turtle")
    return version


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cohort]:
    tmp = tmp_path_factory.mktemp("research")
    gl = reasoner.load_guideline()
    count = len(cases_of(gl))  # every test case once: every pathway of every module
    write_cohort(gl, count, tmp / "cohort", seed=SEED)
    drawn = list(synthesize(gl, count, seed=SEED))
    patients = {str(s.patient.iri): s.patient for s in drawn}
    first = {r.patient: r for r in reasoner.recommend_many(patients.values(), guideline=gl)}  # type: ignore[union-attr]
    given = Counter(rec.id for r in first.values() for rec in r.recommendations)
    changed = given.most_common(1)[0][0]
    version = _variant(gl, tmp / "variant", changed)
    gl2 = reasoner.load_guideline(tmp / "variant", cache_root=tmp / "cache")
    assert gl2.version_iri == version
    second = {r.patient: r for r in reasoner.recommend_many(patients.values(), guideline=gl2)}  # type: ignore[union-attr]
    uk = {r.patient: r for r in reasoner.recommend_many(patients.values(), guideline=gl, jurisdiction="UK")}
    store_path = tmp / "store"
    for root, jurisdiction in ((None, "US"), (tmp / "variant", "US"), (None, "UK")):
        summary = batch(
            [tmp / "cohort"],
            store_path,
            guidelines=(root,) if root else (),
            cache_root=tmp / "cache" if root else None,
            jurisdiction=jurisdiction,
        )
        assert (summary.done, summary.invalid) == (count, [])
    store = open_store(store_path, read_only=True)
    yield Cohort(
        store,
        patients,
        {gl.version_iri: first, gl2.version_iri: second},  # type: ignore[dict-item]
        uk,  # type: ignore[arg-type]
        {gl.version_iri: gl, gl2.version_iri: gl2},
        {str(s.patient.iri): s.case for s in drawn},
        changed,
    )
    store.close()


def _run(c: Cohort, name: str, **bindings: Any) -> list[dict[str, Any]]:
    return _select(c, research.queries()[name].text, **bindings)


def _select(c: Cohort, text: str, **bindings: Any) -> list[dict[str, Any]]:
    rows = query(c.store, text, bindings=bindings)
    assert isinstance(rows, Rows)
    return [{k: _py(v) for k, v in row.items()} for row in rows]


def _py(value: Node | None) -> Any:
    if isinstance(value, Literal):
        return value.toPython() if value.datatype is not None else str(value)
    return None if value is None else str(value)


def _records(c: Cohort, result: Recommendations) -> Graph:
    """The patient's facts plus what the feature rules derived for it in that evaluation."""
    graph = Graph()
    graph += c.patients[result.patient].graph
    graph += result.derived
    return graph


# -- the catalogue -----------------------------------------------------------------------------------------------


def test_there_are_at_least_12_research_queries_each_with_a_header() -> None:
    found = research.queries()
    assert len(found) >= 12
    for q in found.values():
        assert q.question and q.parameters and q.row, q.name
        assert q.text.lstrip().startswith("# Question:"), q.name


def test_every_documented_parameter_restricts_the_answer_to_its_value(cohort: Cohort) -> None:
    """Bound to a value it takes in the unbound answer, a parameter gives exactly the rows with that value."""
    # a required patient is one given advice in every evaluation (a drawn case may be outside every scope)
    advised = next(i for i in sorted(cohort.patients) if all(r[i].recommendations for r in cohort.results.values()))
    for name, q in research.queries().items():
        fixed = {p: URIRef(advised) for p in q.required}
        every = _run(cohort, name, **fixed)
        assert every, f"{name} has no rows on the test cohort"
        for parameter in q.optional:
            values = sorted({r[parameter] for r in every if r.get(parameter) is not None}, key=str)
            if not values:
                continue
            value = values[-1]
            term = URIRef(value) if isinstance(value, str) and value.startswith("http") else Literal(value)
            rows = _run(cohort, name, **fixed, **{parameter: term})
            assert rows == [r for r in every if r[parameter] == value], (name, parameter)


# -- one test per query ------------------------------------------------------------------------------------------


def test_red_flag_prevalence(cohort: Cohort) -> None:
    for version, jurisdiction, results in cohort.evaluations:
        gl = cohort.guidelines[version]
        fields = sorted(f for f in gl.graph.subjects(RDFS.subClassOf, GR.RedFlag) if isinstance(f, URIRef))
        # a run uses the versions of the modules whose scope the patient is in: the others' red flags are not its own
        scoped = [i for i in cohort.patients if version in {g.version_iri for g in results[i].guidelines}]
        expected = {}
        for field in fields:
            narrower = set(gl.graph.transitive_subjects(RDFS.subClassOf, field))
            counts = Counter()
            for iri in scoped:
                graph, rank = _records(cohort, results[iri]), 0
                for record in graph.objects(URIRef(iri), GR.hasFinding):
                    if set(graph.objects(record, RDF.type)) & narrower:
                        status = graph.value(record, GR.status)
                        rank = max(rank, {GR.Present: 3, GR.Unknown: 2}.get(status, 1))  # type: ignore[arg-type]
                if rank:
                    counts[rank] += 1
            expected[str(field)] = (gl.label(field), counts[3], counts[2], counts[1], sum(counts.values()))
        rows = _run(cohort, "red-flag-prevalence", version=URIRef(version), jurisdiction=jurisdiction)
        got = {r["field"]: (r["label"], r["present"], r["unknown"], r["absent"], r["patients"]) for r in rows}
        assert got == expected
        assert all(r["patients"] == len(scoped) for r in rows), "every field is documented or unknown"


def test_urgent_advice(cohort: Cohort) -> None:
    expected = {
        (version, jurisdiction, iri, rec.identifier, str(GR[rec.urgency.capitalize()]), rec.within_hours)
        for version, jurisdiction, results in cohort.evaluations
        for iri, result in results.items()
        for rec in result.recommendations
        if rec.urgency in ("emergency", "urgent")
    }
    rows = _run(cohort, "urgent-advice")
    got = {
        (r["version"], r["jurisdiction"], r["patient"], r["identifier"], r["urgency"], r["withinHours"]) for r in rows
    }
    assert got == expected
    assert any(r["urgency"] == str(GR.Emergency) for r in rows) and any(r["urgency"] == str(GR.Urgent) for r in rows)
    for version, jurisdiction, _ in cohort.evaluations:  # most urgent first
        ranks = [
            r["urgency"] == str(GR.Emergency)
            for r in rows
            if (r["version"], r["jurisdiction"]) == (version, jurisdiction)
        ]
        assert ranks == sorted(ranks, reverse=True)
    only = _run(cohort, "urgent-advice", urgency=GR.Emergency)  # a projected parameter: substituted
    assert {r["urgency"] for r in only} == {str(GR.Emergency)}
    two = sorted({r["patient"] for r in rows})[:2]
    some = _run(cohort, "urgent-advice", patient=[URIRef(p) for p in two])  # several values: a VALUES block
    assert {r["patient"] for r in some} == set(two)
    assert len(some) == sum(1 for e in expected if e[2] in two)


def test_recommendations_by_evidence_quality(cohort: Cohort) -> None:
    expected: dict[tuple[str, str, str | None], tuple[int, set[str], set[str]]] = {}
    for version, jurisdiction, results in cohort.evaluations:
        for iri, result in results.items():
            for rec in result.recommendations:
                key = (version, jurisdiction, rec.quality)
                times, patients, recs = expected.get(key, (0, set(), set()))
                expected[key] = (times + 1, patients | {iri}, recs | {rec.id})
    rows = _run(cohort, "recommendations-by-evidence-quality")
    got = {
        (r["version"], r["jurisdiction"], r["qualityLabel"]): (r["times"], r["patients"], r["recommendations"])
        for r in rows
    }
    assert got == {k: (t, len(p), len(r)) for k, (t, p, r) in expected.items()}


def test_recommendations_by_source(cohort: Cohort) -> None:
    times: Counter[tuple[str, str, str]] = Counter()
    patients: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    recs: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for version, jurisdiction, results in cohort.evaluations:
        for iri, result in results.items():
            for rec in result.recommendations:
                for source in {s.iri for s in rec.sources}:
                    times[(version, jurisdiction, source)] += 1
                    patients[(version, jurisdiction, source)].add(iri)
                    recs[(version, jurisdiction, source)].add(rec.id)
    rows = _run(cohort, "recommendations-by-source")
    got = {
        (r["version"], r["jurisdiction"], r["source"]): (r["times"], r["patients"], r["recommendations"]) for r in rows
    }
    assert got == {k: (n, len(patients[k]), len(recs[k])) for k, n in times.items()}


def test_imaging_orders_by_modality(cohort: Cohort) -> None:
    patients: dict[tuple[str, str, str], set[tuple[str, str]]] = defaultdict(set)
    orders: Counter[tuple[str, str, str]] = Counter()
    recs: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for version, jurisdiction, results in cohort.evaluations:
        gl = cohort.guidelines[version]
        for iri, result in results.items():
            for rec in result.recommendations:
                if rec.kind != "order":
                    continue
                for modality in gl.graph.objects(URIRef(rec.target.iri), GR.modality):
                    key = (version, jurisdiction, str(modality))
                    patients[key].add((iri, result.as_of))
                    orders[key] += 1
                    recs[key].add(rec.id)
    rows = _run(cohort, "imaging-orders-by-modality")
    got = {
        (r["version"], r["jurisdiction"], r["modality"]): (r["patients"], r["orders"], r["recommendations"])
        for r in rows
    }
    assert got == {k: (len(p), orders[k], len(recs[k])) for k, p in patients.items()}
    mri = "https://w3id.org/guideline-reasoner/vocab#MagneticResonanceImaging"
    assert any(k[2] == mri for k in got), "some patient of the cohort was given an MRI order"
    assert all(r["label"] for r in rows)
    only = _run(cohort, "imaging-orders-by-modality", modality=URIRef(mri))
    assert only == [r for r in rows if r["modality"] == mri]


def test_advice_while_a_red_flag_was_unknown(cohort: Cohort) -> None:
    expected = {
        (version, jurisdiction, iri, result.as_of, rec.identifier, m.finding, rec.id in m.needed_for)
        for version, jurisdiction, results in cohort.evaluations
        for iri, result in results.items()
        for rec in result.recommendations
        for m in result.missing
    }
    rows = _run(cohort, "advice-while-red-flag-unknown")
    got = {
        (r["version"], r["jurisdiction"], r["patient"], str(r["asOf"]), r["identifier"], r["field"], r["dependsOnIt"])
        for r in rows
    }
    assert got == expected
    assert any(e[-1] for e in expected), "some advice depends on an unknown red flag"


def test_provenance_chain_of_one_recommendation(cohort: Cohort) -> None:
    version = min(cohort.versions)
    results = cohort.results[version]
    iri, rec = next(
        (iri, rec) for iri, r in sorted(results.items()) for rec in r.recommendations if rec.urgency == "urgent"
    )
    rows = _run(
        cohort,
        "provenance-chain",
        patient=URIRef(iri),
        identifier=rec.identifier,
        version=URIRef(version),
        jurisdiction="US",
    )
    steps: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        assert (r["patient"], r["version"], r["jurisdiction"], r["identifier"]) == (iri, version, "US", rec.identifier)
        assert str(r["asOf"]) == results[iri].as_of
        steps[r["step"]].add(r["item"])
    assert steps == {
        "1 fact": {f.iri for f in rec.because},
        "2 inferred class": set(rec.via),
        "3 recommendation": {rec.id},
        "4 statement": {s.evidence for s in rec.sources},
        "5 source": {s.iri for s in rec.sources},
    }
    details = {r["item"]: r["detail"] for r in rows}
    assert all(details[s.evidence] == s.statement for s in rec.sources)
    assert all(details[s.iri] == s.citation for s in rec.sources)
    every = _run(cohort, "provenance-chain", patient=URIRef(iri))
    assert {(r["jurisdiction"], r["identifier"]) for r in every} == {
        (jurisdiction, r.identifier)
        for _, jurisdiction, found in cohort.evaluations
        for r in found[iri].recommendations
    }


def test_recommendations_that_never_fired(cohort: Cohort) -> None:
    expected = set()
    for version, jurisdiction, results in cohort.evaluations:  # each module's version: its own recommendations
        fired = {rec.id for r in results.values() for rec in r.recommendations}
        gl = cohort.guidelines[version]
        for module in gl.guidelines:
            own = [r for r, spec in gl.recommendations.items() if spec.module == module.iri]
            expected |= {(module.version_iri, jurisdiction, rec) for rec in own if rec not in fired}
    rows = _run(cohort, "never-fired")
    assert {(r["version"], r["jurisdiction"], r["recommendation"]) for r in rows} == expected
    variant = max(cohort.versions, key=len)
    assert (variant, "US", cohort.changed) in expected, "the recommendation made a draft never fires"
    bound = _run(cohort, "never-fired", version=URIRef(variant))
    assert {(r["version"], r["jurisdiction"], r["recommendation"]) for r in bound} == {
        e for e in expected if e[0] == variant
    }


def test_exposures_past_their_limits(cohort: Cohort) -> None:
    expected = set()
    for version, jurisdiction, results in cohort.evaluations:
        for iri, result in results.items():
            past_limit = [(e, limit) for limit in LIMITS for e in result.derived.subjects(RDF.type, limit)]
            graph = _records(cohort, result) if past_limit else Graph()  # only where needed: 750 results
            for exposure, limit in past_limit:
                days = graph.value(exposure, GR.exposureDays)
                drug = str(graph.value(exposure, GR.drug))
                expected.add((version, jurisdiction, iri, str(exposure), drug, str(limit), _py(days)))
    rows = _run(cohort, "exposures-past-limits")
    got = {
        (r["version"], r["jurisdiction"], r["patient"], r["exposure"], r["drug"], r["limit"], r["days"]) for r in rows
    }
    assert got == expected
    past = {e[2] for e in expected}
    gl = cohort.guidelines[min(cohort.versions, key=len)]  # the bundled version
    meant = {  # drawn from a case past a limit at its own date: moving every date keeps the exposure lengths
        iri
        for iri, case in cohort.cases.items()
        if (None, GR.hasExposure, None) in case.patient.graph  # a limit is on an exposure: the others cannot be
        and any(
            (None, RDF.type, limit) in reasoner.recommend(case.patient, guideline=gl, as_of=case.as_of).derived
            for limit in LIMITS
        )
    }
    assert meant and meant <= past, "every patient drawn past a limit is found"


def test_contraindicated_advice_blocked(cohort: Cohort) -> None:
    expected = set()
    for version, jurisdiction, results in cohort.evaluations:
        specs = cohort.guidelines[version].recommendations
        for iri, result in results.items():
            for s in result.suppressed:
                expected |= {(version, jurisdiction, iri, s.identifier, b) for b in s.by if b in specs[s.id].exclusions}
    rows = _run(cohort, "contraindicated-advice-blocked")
    got = {(r["version"], r["jurisdiction"], r["patient"], r["identifier"], r["blocker"]) for r in rows}
    assert got == expected
    nsaid = str(LBP.NSAIDContraindicatedPatient)
    only = _run(cohort, "contraindicated-advice-blocked", blocker=URIRef(nsaid))
    assert only and {r["blocker"] for r in only} == {nsaid}
    got_only = {(r["version"], r["jurisdiction"], r["patient"], r["identifier"]) for r in only}
    assert got_only == {e[:4] for e in expected if e[4] == nsaid}


def _differences(
    first: dict[str, Recommendations], second: dict[str, Recommendations], one: str, two: str
) -> set[tuple[str, str, str]]:
    """(patient, identifier, `one` or `two`) for every recommendation given in one result of a patient and not in
    the other."""
    out = set()
    for iri in first.keys() & second.keys():
        a = {r.id: r.identifier for r in first[iri].recommendations}
        b = {r.id: r.identifier for r in second[iri].recommendations}
        out |= {(iri, a[r], one) for r in a.keys() - b.keys()}
        out |= {(iri, b[r], two) for r in b.keys() - a.keys()}
    return out


def test_patients_whose_advice_differs_between_versions(cohort: Cohort) -> None:
    v1, v2 = sorted(cohort.versions, key=len)  # the bundled version, then the variant
    expected = _differences(cohort.results[v1], cohort.results[v2], v1, v2)
    assert expected, "the variant changes somebody's advice"
    rows = _run(cohort, "version-differences", v1=URIRef(v1), v2=URIRef(v2))
    assert {(r["patient"], r["identifier"], r["onlyUnder"]) for r in rows} == expected
    assert {(r["v1"], r["v2"], r["jurisdiction"]) for r in rows} == {(v1, v2, "US")}, "UK was evaluated under v1 only"
    both = _run(cohort, "version-differences")  # unbound: each ordered pair (of the two versions compared here)
    assert len([r for r in both if {r["v1"], r["v2"]} == {v1, v2}]) == 2 * len(expected)


def test_patients_whose_advice_differs_between_jurisdictions(cohort: Cohort) -> None:
    bundled = min(cohort.versions, key=len)
    expected = _differences(cohort.results[bundled], cohort.uk, "US", "UK")
    assert expected, "the UK's sources change somebody's advice"
    rows = _run(cohort, "jurisdiction-differences", j1="US", j2="UK")
    assert {(r["patient"], r["identifier"], r["onlyUnder"]) for r in rows} == expected
    assert all(str(r["asOf"]) == cohort.uk[r["patient"]].as_of for r in rows)
    assert {(r["j1"], r["j2"]) for r in rows} == {("US", "UK")}
    both = _run(cohort, "jurisdiction-differences")  # unbound: each ordered pair; the variant was evaluated in US only
    assert len(both) == 2 * len(expected)


def _reason(result: Recommendations, gl: Guideline, withheld: Suppressed, by: str) -> str:
    """Why `by` withheld a recommendation, from the guideline's own axioms and the result's conflicts (not from
    Suppressed.reasons, which the store's predicates are written from)."""
    if by in gl.recommendations[withheld.id].exclusions:
        return "exclusion"
    if any(c.prevailing == by and c.second.id == withheld.id for c in result.conflicts):
        return "conflict"
    assert by in gl.recommendations, (withheld.id, by)  # gr:supersededBy is transitive: not only the asserted ones
    return "superseded"


def test_recommendation_frequency(cohort: Cohort) -> None:
    expected = {}
    for version, jurisdiction, results in cohort.evaluations:
        gl = cohort.guidelines[version]
        given: dict[str, set[str]] = defaultdict(set)
        withheld: dict[str, set[str]] = defaultdict(set)
        why: dict[tuple[str, str], set[str]] = defaultdict(set)
        for iri, result in results.items():
            for rec in result.recommendations:
                given[rec.identifier].add(iri)
            for s in result.suppressed:
                withheld[s.identifier].add(iri)
                for by in s.by:
                    why[(s.identifier, _reason(result, gl, s, by))].add(iri)
        for i in given.keys() | withheld.keys():
            counts = [len(why[(i, k)]) for k in ("exclusion", "superseded", "conflict")]
            expected[(version, jurisdiction, i)] = (len(given[i]), len(withheld[i]), *counts)
    rows = _run(cohort, "recommendation-frequency")
    columns = ("given", "suppressed", "excluded", "superseded", "yielded")
    got = {(r["version"], r["jurisdiction"], r["identifier"]): tuple(r[c] for c in columns) for r in rows}
    assert got == expected
    assert all(sum(v[2:4]) for v in expected.values() if v[1]), "withheld in this cohort by exclusion or superseding"


def test_given_and_withheld_advice_never_share_a_predicate_and_each_withheld_node_names_its_reasons(
    cohort: Cohort,
) -> None:
    """Given advice names its recommendation with gr:recommendation, withheld advice with
    gr:withheldRecommendation; each withheld node has exactly one reason triple per blocker, by the reason's kind."""
    predicates = {
        "exclusion": GR.excludedByClass,
        "superseded": GR.supersededByRecommendation,
        "conflict": GR.yieldedTo,
    }
    naming = """SELECT DISTINCT ?type ?p WHERE { GRAPH ?d { ?n a ?type ; ?p ?rec . }
      GRAPH ?v { ?rec a gr:Recommendation } VALUES ?type { gr:PatientRecommendation gr:SuppressedRecommendation } }"""
    found = {(r["type"], r["p"]) for r in _select(cohort, naming)}
    given = {p for t, p in found if t == str(GR.PatientRecommendation)}
    withheld = {p for t, p in found if t == str(GR.SuppressedRecommendation)}
    assert str(GR.recommendation) in given and str(GR.withheldRecommendation) in withheld
    assert {str(GR.recommendation), str(GR.withheldRecommendation)} & given & withheld == set()
    # Every (node, reason predicate, blocker) in the store, against the result's blockers classified independently.
    reasons = """SELECT ?run ?rec ?p ?by WHERE { GRAPH ?d { ?n a gr:SuppressedRecommendation ; gr:withheldRecommendation
      ?rec ; prov:wasGeneratedBy ?run ; ?p ?by . VALUES ?p { gr:excludedByClass gr:supersededByRecommendation
      gr:yieldedTo gr:blockedBy } } }"""
    got = {(r["run"], r["rec"], r["p"], r["by"]) for r in _select(cohort, reasons)}
    expected = set()
    for version, _, results in cohort.evaluations:
        for result in results.values():
            for s in result.suppressed:
                for by in s.by:
                    kind = _reason(result, cohort.guidelines[version], s, by)
                    expected.add((str(result.run_iri), s.id, str(predicates[kind]), by))
    assert got == expected
    assert {e[2] for e in expected} >= {str(GR.excludedByClass), str(GR.supersededByRecommendation)}


def test_episode_facts_are_on_the_run(cohort: Cohort) -> None:
    """The run states the episode's length and start: the longest gr:durationDays the feature rules derived, and the
    earliest present onset of the records given it, so a query needs no record join."""
    text = """SELECT ?run ?days ?start WHERE { GRAPH ?d { ?run a gr:ReasoningRun ; gr:episodeDays ?days ;
      gr:episodeStart ?start } }"""
    got = {(r["run"], r["days"], r["start"]) for r in _select(cohort, text)}
    expected = set()
    for _, _, results in cohort.evaluations:
        for result in results.values():
            dated = [(_py(d), r) for r, d in result.derived.subject_objects(GR.durationDays)]
            if dated:  # the records' graph only where a duration was derived
                graph = _records(cohort, result)
                days = max(d for d, _ in dated)
                (start,) = {_py(graph.value(r, GR.onset)) for d, r in dated if d == days}
                expected.add((str(result.run_iri), days, start))
    assert expected and got == expected


def test_missing_data_impact(cohort: Cohort) -> None:
    patients: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    dependencies: Counter[tuple[str, str, str]] = Counter()
    recs: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for version, jurisdiction, results in cohort.evaluations:
        graph = cohort.guidelines[version].graph
        for iri, result in results.items():
            # the rows are red-flag fields; the date of birth (gr:BirthDateField) is missing data of another kind
            for m in (m for m in result.missing if (URIRef(m.finding), RDFS.subClassOf, GR.RedFlag) in graph):
                patients[(version, jurisdiction, m.finding)].add(iri)
                dependencies[(version, jurisdiction, m.finding)] += len(m.needed_for)
                recs[(version, jurisdiction, m.finding)] |= set(m.needed_for)
    rows = _run(cohort, "missing-data-impact")
    got = {
        (r["version"], r["jurisdiction"], r["field"]): (r["patients"], r["dependencies"], r["recommendations"])
        for r in rows
    }
    assert got == {k: (len(p), dependencies[k], len(recs[k])) for k, p in patients.items()}


def test_trigger_facts(cohort: Cohort) -> None:
    expected: dict[tuple[str, str, str, str], set[str]] = defaultdict(set)
    for version, jurisdiction, results in cohort.evaluations:
        for iri, result in results.items():
            graph = _records(cohort, result)
            for rec in result.recommendations:
                for fact in rec.because:
                    node = URIRef(fact.iri)
                    agents = {*graph.objects(node, GR.drug), *graph.objects(node, GR.therapy)}
                    kinds = agents or {t for t in graph.objects(node, RDF.type) if not str(t).startswith(str(GR))}
                    for kind in kinds:
                        expected[(version, jurisdiction, rec.identifier, str(kind))].add(iri)
    rows = _run(cohort, "trigger-facts")
    assert {(r["version"], r["jurisdiction"], r["identifier"], r["kind"]): r["patients"] for r in rows} == {
        k: len(v) for k, v in expected.items()
    }
    nsaid = _run(cohort, "trigger-facts", identifier="LBP-MED-03")
    assert nsaid and {r["identifier"] for r in nsaid} == {"LBP-MED-03"}


def test_aggregates_count_each_date_once_and_as_of_selects_one() -> None:
    """The same patients stored at their own dates and at one later date: unbound, an aggregate counts each
    evaluation; bound to the later date, it counts that date's evaluations alone, as recommend() gives them."""
    gl = reasoner.load_guideline()
    later = date(2027, 1, 1)
    patients = [skolemize(p) for p in synthetic_patients(gl, 6, seed=SEED)]
    own = [reasoner.recommend(p, guideline=gl) for p in patients]
    then = [reasoner.recommend(p, guideline=gl, as_of=later) for p in patients]
    with open_store() as store:
        write_guideline(store, gl)
        for patient, *results in zip(patients, own, then, strict=True):
            for result in results:
                write_patient(store, patient, result)
        text = research.queries()["recommendation-frequency"].text

        def given(**bindings: Any) -> dict[str, int]:
            rows = query(store, text, bindings=bindings)
            assert isinstance(rows, Rows)
            return {str(r["identifier"]): int(r["given"]) for r in rows if r["given"]}  # type: ignore[arg-type]

        assert given(asOf=later) == dict(Counter(rec.identifier for r in then for rec in r.recommendations))
        assert given() == dict(Counter(rec.identifier for r in own + then for rec in r.recommendations))


# -- the cohort counts ---------------------------------------------------------------------------------------------

DETAILED = Path(__file__).parent / "research_detailed"  # the aggregate queries as they read the evaluation graphs


def _same_answers(store: CohortStore) -> int:
    """Assert that every aggregate query that reads the counts answers as its detailed version (over the evaluation
    graphs themselves) does; return how many rows they gave in all."""
    rows = 0
    for path in sorted(DETAILED.glob("*.rq")):
        counted, detailed = (query(store, text) for text in (research.queries()[path.stem].text, path.read_text()))
        assert isinstance(counted, Rows) and isinstance(detailed, Rows)
        assert counted.variables == detailed.variables, path.stem
        assert sorted(map(str, counted.rows)) == sorted(map(str, detailed.rows)), path.stem
        rows += len(detailed.rows)
    return rows


def test_every_aggregate_query_has_its_detailed_version_and_reads_the_counts() -> None:
    for path in sorted(DETAILED.glob("*.rq")):
        text = research.queries()[path.stem].text
        assert "GRAPH ?counts" in text and "gr:PatientRecommendation" not in text, path.stem
    assert len(list(DETAILED.glob("*.rq"))) == 8


def test_the_counts_answer_as_the_evaluation_graphs_do(cohort: Cohort) -> None:
    """Two versions and two jurisdictions, written by three batches (each folding its counts at the end)."""
    assert _same_answers(cohort.store) > 100


def _renamed(patient: Patient, iri: URIRef) -> Patient:
    """`patient`'s facts as those of the patient `iri`: a new record of an already stored patient."""
    graph = Graph()
    for s, p, o in patient.graph:
        graph.add((iri if s == patient.iri else s, p, iri if o == patient.iri else o))
    return Patient(graph, iri, f"{patient.source} as {iri}")


def test_the_counts_stay_exact_as_evaluations_are_replaced_and_when_folded() -> None:
    """Evaluations written, replaced by other facts, replaced by the same facts, in writes that mix new and stored
    patients (a bulk load and an update in one write): after each write, and once folded, the counts answer as the
    evaluation graphs do. A patient's facts graph is shared by its evaluations, and the detailed red-flag queries
    read it, so a patient's facts change here only where each of its evaluations is written anew with them (the
    counts keep what each evaluation saw)."""
    gl, when = reasoner.load_guideline(), date(2027, 6, 1)  # after every synthetic record
    first = [skolemize(p) for p in synthetic_patients(gl, 40, seed=SEED)]
    drawn = [
        skolemize(_renamed(p, q.iri))
        for p, q in zip(synthetic_patients(gl, 30, seed=SEED + 1), first[:30], strict=True)
    ]

    def versions(patients: list[Patient]) -> list[str]:
        return [r.versions_key for r in reasoner.recommend_many(patients, guideline=gl, as_of=when)]  # type: ignore[union-attr]

    # other facts for patients whose evaluations all get rewritten, under the same versions (a change of versions
    # is another evaluation graph, and the old one would stay beside the new facts)
    other = [p for p, a, b in zip(drawn, versions(first[:30]), versions(drawn), strict=True) if a == b][:15]
    assert len(other) >= 10
    new = [skolemize(p) for p in synthetic_patients(gl, 10, seed=SEED + 2)]

    def records(patients: list[Patient], jurisdiction: str) -> list[PatientGraphs]:
        results = reasoner.recommend_many(patients, guideline=gl, as_of=when, jurisdiction=jurisdiction)
        return [patient_graphs(p, r) for p, r in zip(patients, results, strict=True)]  # type: ignore[arg-type]

    with open_store() as store:
        write_guideline(store, gl)
        for patients, jurisdiction in (
            (first[:25], "US"),
            (first[20:], "US"),  # five of them again, unchanged
            (first[30:], "UK"),
            (other + new, "US"),  # some replaced by other facts, ten new: one write
            (other + first[30:], "UK"),  # new evaluations of those, ten UK ones again
        ):
            write_patients(store, records(patients, jurisdiction))
            assert _same_answers(store) > 50
        writes = {g.split("&", 1)[0] for g in store.graphs() if g.startswith(COUNTS + "?write=")}
        assert len(writes) == 6, "each write has its own count graphs (the mixed one two sets: its load, its update)"
        fold(store)
        counts = [g for g in store.graphs() if g.startswith(COUNTS)]
        assert counts and not any(g.startswith(COUNTS + "?write=") for g in counts)
        assert _same_answers(store) > 50
