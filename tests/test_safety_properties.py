"""The clinical safety properties of ../shared/DESIGN.md as property-based tests over random valid patients.

- Escalation is monotone: adding red-flag findings never makes an emergency or urgent recommendation disappear,
  unless a recommendation at least as urgent supersedes it (the emergency pathway over the urgent one).
- Blocked advice is never advice: nothing is both applied and suppressed.
- Unknown is not absent: leaving a red-flag field undocumented gives exactly the advice of recording it as unknown;
  no reassurance ("no imaging") while a screening red flag is undocumented; and "ask about cauda equina now" while a
  cauda equina field is undocumented (catalogue §0.2, open-world rule). Sexual function and bilateral symptoms are
  cauda equina fields outside the routine screen: vignette V01 gets "no imaging" without them documented.
"""

from __future__ import annotations

import random
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import Graph, Literal, Namespace, URIRef

import reasoner
from reasoner import Patient, Recommendations
from reasoner.knowledge.vocabulary import Vocabulary
from reasoner.namespaces import GR, RDF, RDFS, XSD
from reasoner.synth.cohort import synthetic_patient

LBP = Namespace("https://w3id.org/guideline-reasoner/lbp#")

GL = reasoner.load_guideline()
CLOSURE = GL.closure_index()  # built once: the guideline's closure, indexed
URGENT = 3  # gr:Urgent and gr:AtThisEncounter; gr:Emergency is 4
FIELDS = sorted(f for f in GL.graph.subjects(RDFS.subClassOf, GR.RedFlag) if isinstance(f, URIRef))
# Finding classes a patient record may use (the guideline's vocabulary) that are red flags.
RED_FLAGS = sorted(
    {c for f in FIELDS for c in CLOSURE.subjects(RDFS.subClassOf, f)} & Vocabulary.of(GL).findings, key=str
)
REASSURANCE = {"LBP-IMG-01", "LBP-IMG-02", "LBP-IMG-03", "LBP-IMG-10"}
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _patient(seed: int) -> Patient:
    return synthetic_patient(GL, random.Random(seed), iri=f"https://example.org/property/{seed}")


def _with(patient: Patient, extra: Graph) -> Patient:
    graph = Graph()
    graph += patient.graph
    graph += extra
    return Patient(graph=graph, iri=patient.iri, source=patient.source)


def _records(patient: Patient, cls: URIRef) -> list[URIRef]:
    g = patient.graph
    return [r for r in g.objects(patient.iri, GR.hasFinding) if (r, RDF.type, cls) in g and isinstance(r, URIRef)]


def _status(patient: Patient, cls: URIRef, status: URIRef) -> bool:
    return any((r, GR.status, status) in patient.graph for r in _records(patient, cls))


def _finding(patient: Patient, cls: URIRef, status: URIRef, name: str, on: date) -> Graph:
    g = Graph()
    node = URIRef(f"{patient.iri}/added/{name}")
    g.add((patient.iri, GR.hasFinding, node))
    g.add((node, RDF.type, GR.FindingRecord))
    g.add((node, RDF.type, cls))
    g.add((node, GR.status, status))
    if status == GR.Present:
        g.add((node, GR.recordedOn, Literal(on.isoformat(), datatype=XSD.date)))
    return g


def _has_back_pain(patient: Patient) -> bool:
    kinds = set(CLOSURE.subjects(RDFS.subClassOf, LBP.BackPainFinding))
    g = patient.graph
    return any((r, GR.status, GR.Present) in g and kinds & set(g.objects(r, RDF.type)) for r in g.subjects())


def _rank(result: Recommendations, identifier: str) -> int:
    spec = next(s for s in GL.recommendations.values() if s.identifier == identifier)
    return spec.urgency_rank


def _urgent(result: Recommendations) -> set[str]:
    return {r.identifier for r in result.recommendations if _rank(result, r.identifier) >= URGENT}


@SETTINGS
@given(seed=st.integers(0, 10**6), picks=st.lists(st.sampled_from(RED_FLAGS), min_size=1, max_size=3, unique=True))
def test_adding_red_flags_never_removes_urgent_or_emergency_advice(seed: int, picks: list[URIRef]) -> None:
    base = _patient(seed)
    assert base.assessed_on is not None
    before = reasoner.recommend(base, guideline=GL)
    extra = Graph()
    for i, cls in enumerate(picks):
        if not _status(base, cls, GR.Absent):  # never contradict a documented negative
            extra += _finding(base, cls, GR.Present, f"flag{i}", base.assessed_on)
    after = reasoner.recommend(_with(base, extra), guideline=GL)
    kept = {r.identifier for r in after.recommendations}
    superseded = {s.identifier: s.by for s in after.suppressed}
    for lost in _urgent(before) - kept:
        blockers = [GL.recommendations[b] for b in superseded.get(lost, []) if b in GL.recommendations]
        assert any(b.urgency_rank >= _rank(before, lost) for b in blockers), (
            f"{lost} disappeared after adding {[str(p) for p in picks]} and nothing as urgent replaced it"
        )


@SETTINGS
@given(seed=st.integers(0, 10**6))
def test_blocked_advice_never_appears_as_advice(seed: int) -> None:
    result = reasoner.recommend(_patient(seed), guideline=GL, jurisdiction="both")
    applied = {r.identifier for r in result.recommendations}
    assert applied.isdisjoint(s.identifier for s in result.suppressed)


@SETTINGS
@given(seed=st.integers(0, 10**6), field=st.sampled_from(FIELDS))
def test_an_undocumented_red_flag_counts_as_unknown(seed: int, field: URIRef) -> None:
    base = _patient(seed)
    documented = [r for cls in [field, *CLOSURE.subjects(RDFS.subClassOf, field)] for r in _records(base, cls)]
    graph = Graph()
    for s, p, o in base.graph:
        if s not in documented and o not in documented:
            graph.add((s, p, o))
    silent = Patient(graph=graph, iri=base.iri, source=base.source)
    assert base.assessed_on is not None
    explicit = _with(silent, _finding(silent, field, GR.Unknown, "unknown", base.assessed_on))
    quiet, said = reasoner.recommend(silent, guideline=GL), reasoner.recommend(explicit, guideline=GL)
    assert {r.identifier for r in quiet.recommendations} == {r.identifier for r in said.recommendations}
    fired = {r.identifier for r in quiet.recommendations}
    if (field, RDFS.subClassOf, LBP.ScreenRedFlag) in CLOSURE:
        assert REASSURANCE.isdisjoint(fired)
    if (field, RDFS.subClassOf, LBP.CaudaEquinaField) in CLOSURE and _has_back_pain(silent):
        assert "LBP-ASSESS-03" in fired
    kinds = {field, *CLOSURE.subjects(RDFS.subClassOf, field)}
    implied = {s for s, _, o in quiet.derived.triples((None, RDF.type, None)) if o in kinds}  # e.g. from laterality
    applied = {r.id for r in quiet.recommendations}
    asked = {  # by the modules in scope; a field recommendations ask for (gr:asksFor) only when one applies
        f for g in quiet.guidelines for f in GL.module(g.iri).fields if f not in GL.asked_by or GL.asked_by[f] & applied
    }
    if str(field) in asked and not implied - set(quiet.derived.subjects(RDF.type, GR.ImpliedUnknown)):
        assert str(field) in {m.finding for m in quiet.missing}
    if str(field) not in asked:  # out of scope, or asked for only by recommendations that do not apply
        assert str(field) not in {m.finding for m in quiet.missing}


VOCAB = Namespace("https://w3id.org/guideline-reasoner/vocab#")
FEW = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MRI_TARGETS = {LBP.MRILumbarSpine, LBP.MRILumbarSpineWithoutContrast, LBP.MRILumbarSpineWithAndWithoutContrast}
SAFETY_NETS = {"LBP-FU-02", "LBP-FU-04"}
BY_ID = {s.identifier: s for s in GL.recommendations.values()}
# Findings that put a patient on an MRI pathway, and what each adds to a synthetic patient.
MRI_PATHWAYS = [VOCAB.SaddleAnaesthesia, VOCAB.MultiRootWeakness, VOCAB.Fever, VOCAB.HistoryOfCancer]


def _exposure(patient: Patient, drug: URIRef, on: date) -> Graph:
    g = Graph()
    node = URIRef(f"{patient.iri}/added/{drug.rsplit('#', 1)[-1]}")
    g.add((patient.iri, GR.hasExposure, node))
    g.add((node, RDF.type, GR.MedicationExposure))
    g.add((node, GR.drug, drug))
    g.add((node, GR.start, Literal(on.isoformat(), datatype=XSD.date)))
    g.add((node, GR.ongoing, Literal(True)))
    g.add((node, GR.response, GR.ResponseNotDocumented))
    return g


def _without(patient: Patient, cls: URIRef) -> Patient:
    """The patient with every record of `cls` (and of its narrower findings) removed."""
    kinds = {cls, *CLOSURE.subjects(RDFS.subClassOf, cls)}
    drop = {
        r for r in patient.graph.objects(patient.iri, GR.hasFinding) if kinds & set(patient.graph.objects(r, RDF.type))
    }
    graph = Graph()
    for s, p, o in patient.graph:
        if s not in drop and o not in drop:
            graph.add((s, p, o))
    return Patient(graph=graph, iri=patient.iri, source=patient.source)


def _back_pain(patient: Patient, on: date) -> Graph:
    return _finding(patient, VOCAB.LowBackPain, GR.Present, "back-pain", on)


@FEW
@given(
    seed=st.integers(0, 10**6),
    pathway=st.sampled_from(MRI_PATHWAYS),
    device=st.sampled_from([VOCAB.MRUnsafeImplant, VOCAB.SevereClaustrophobia]),
)
def test_an_mri_contraindication_always_blocks_the_mri_order(seed: int, pathway: URIRef, device: URIRef) -> None:
    base = _without(_without(_patient(seed), VOCAB.MRContraindication), pathway)
    assert base.assessed_on is not None
    on = base.assessed_on
    base = _without(base, VOCAB.LowBackPain)  # a back pain documented absent would contradict it
    extra = _back_pain(base, on) + _finding(base, pathway, GR.Present, "pathway", on)
    extra += _finding(base, device, GR.Present, "device", on)
    result = reasoner.recommend(_with(base, extra), guideline=GL)
    orders = {r.identifier: r for r in result.recommendations}
    mri = [i for i in orders if BY_ID[i].target in {str(t) for t in MRI_TARGETS} and BY_ID[i].kind == "order"]
    assert not mri, f"MRI ordered despite {device}: {mri}"
    assert any(i.endswith("-CT") for i in orders), "no CT alternative replaced the MRI"


@FEW
@given(seed=st.integers(0, 10**6), cni=st.booleans())
def test_an_nsaid_is_never_started_with_a_calcineurin_inhibitor_or_a_transplant(seed: int, cni: bool) -> None:
    base = _patient(seed)
    assert base.assessed_on is not None
    on = base.assessed_on
    base = _without(base, VOCAB.LowBackPain)  # a back pain documented absent would contradict it
    extra = _back_pain(base, on)
    if cni:
        extra += _exposure(base, VOCAB.tacrolimus, on)
    else:
        base = _without(base, VOCAB.SolidOrganTransplantRecipient)
        extra += _finding(base, VOCAB.SolidOrganTransplantRecipient, GR.Present, "transplant", on)
    result = reasoner.recommend(_with(base, extra), guideline=GL)
    nsaids = {str(c) for c in CLOSURE.subjects(RDFS.subClassOf, VOCAB.NSAID)} | {str(VOCAB.NSAID)}
    nsaids |= {str(d) for c in list(nsaids) for d in CLOSURE.subjects(RDF.type, URIRef(c))}
    started = [
        r.identifier
        for r in result.recommendations
        if BY_ID[r.identifier].kind in {"start", "continue"} and BY_ID[r.identifier].target in nsaids
    ]
    assert not started, f"NSAID started or continued for a {'tacrolimus' if cni else 'transplant'} patient: {started}"
    assert "LBP-MED-03" in {r.identifier for r in result.recommendations}


@FEW
@given(seed=st.integers(0, 10**6))
def test_unknown_mr_safety_never_delays_an_emergency(seed: int) -> None:
    base = _without(_without(_patient(seed), VOCAB.MRContraindication), VOCAB.SaddleAnaesthesia)
    assert base.assessed_on is not None
    on = base.assessed_on
    base = _without(base, VOCAB.LowBackPain)  # a back pain documented absent would contradict it
    extra = _back_pain(base, on) + _finding(base, VOCAB.SaddleAnaesthesia, GR.Present, "saddle", on)
    unknown = reasoner.recommend(_with(base, extra), guideline=GL)
    absent = reasoner.recommend(
        _with(base, extra + _finding(base, VOCAB.MRContraindication, GR.Absent, "mr", on)), guideline=GL
    )
    fired = {r.identifier for r in unknown.recommendations}
    assert {"LBP-IMG-06", "LBP-REF-02"} <= fired
    emergency = {r.identifier for r in absent.recommendations if _rank(absent, r.identifier) >= 4}
    assert emergency <= fired, f"unknown MR safety lost {emergency - fired}"
    assert str(VOCAB.MRContraindication) in {m.finding for m in unknown.missing}


@SETTINGS
@given(seed=st.integers(0, 10**6), picks=st.lists(st.sampled_from(RED_FLAGS), min_size=1, max_size=3, unique=True))
def test_adding_red_flags_never_removes_a_safety_net(seed: int, picks: list[URIRef]) -> None:
    base = _patient(seed)
    assert base.assessed_on is not None
    before = reasoner.recommend(base, guideline=GL)
    extra = Graph()
    for i, cls in enumerate(picks):
        if not _status(base, cls, GR.Absent):
            extra += _finding(base, cls, GR.Present, f"flag{i}", base.assessed_on)
    after = reasoner.recommend(_with(base, extra), guideline=GL)
    lost = (
        {r.identifier for r in before.recommendations} - {r.identifier for r in after.recommendations}
    ) & SAFETY_NETS
    assert not lost, f"{lost} lost after adding {[str(p) for p in picks]}"


AGE_FACTS = (GR.birthDate, GR.bornNotBefore, GR.bornNotAfter)
# Every "no imaging" reassurance, including the ACP 2011 deferral and "do not repeat imaging".
NO_IMAGING = REASSURANCE | {"LBP-IMG-08-ACP2011", "LBP-IMG-13"}


@SETTINGS
@given(seed=st.integers(0, 10**6))
def test_an_unknown_age_never_gives_reassurance_nor_delays_urgent_advice(seed: int) -> None:
    base = _patient(seed)
    graph = Graph()
    for s, p, o in base.graph:
        if not (s == base.iri and p in AGE_FACTS):
            graph.add((s, p, o))
    silent = Patient(graph=graph, iri=base.iri, source=base.source)
    known, unknown = reasoner.recommend(base, guideline=GL), reasoner.recommend(silent, guideline=GL)
    fired = {r.identifier for r in unknown.recommendations}
    assert NO_IMAGING & fired <= {r.identifier for r in known.recommendations}, "reassurance only an unknown age gave"
    superseded = {s.identifier: s.by for s in unknown.suppressed}
    for lost in _urgent(known) - fired:
        blockers = [GL.recommendations[b] for b in superseded.get(lost, []) if b in GL.recommendations]
        assert any(b.urgency_rank >= _rank(known, lost) for b in blockers), f"{lost} waits for the date of birth"
    if _has_back_pain(silent):
        assert str(GR.BirthDateField) in {m.finding for m in unknown.missing}
        assert not NO_IMAGING & fired, "a 'no imaging' reassurance while the age is unknown"
