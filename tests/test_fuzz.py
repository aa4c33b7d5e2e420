"""Fuzzing: Hypothesis strategies for patient graphs and for the loaders (byte and token mutations of real patient
files in every format, and random bytes). The property: the pipeline returns a result or a clear input error
(PatientParseError, InvalidPatientError, CannotEvaluateError), never another exception, never a hang, and never a
silent drop: every triple an independent parse of the input finds is in the loaded patient, and every triple of a
valid patient reaches the store.

Counterexamples found so far are kept as explicit examples (@example) and as regression tests at the end."""

from __future__ import annotations

import json
import random
import time
from datetime import date, timedelta

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rdflib import BNode, Graph, URIRef

import reasoner
from reasoner.errors import CannotEvaluateError, InputError, InvalidPatientError, PatientParseError
from reasoner.input.patient import Patient, skolemize
from reasoner.knowledge.vocabulary import Vocabulary
from reasoner.namespaces import GR, RDF, VOCAB
from reasoner.rdf.oxi import from_ox
from reasoner.rdf.rdfio import CONTEXT_IRI, serialize
from reasoner.store.cohort import facts_graph, open_store, patient_graphs, write_guideline, write_patients
from reasoner.synth.cohort import synthetic_patient

GL = reasoner.load_guideline()
SEED = reasoner.load("examples/seed-case.ttl").graph
SECONDS = 5.0  # per example: loading and evaluating one patient takes milliseconds
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOWER = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_COMPACT = {
    "@context": CONTEXT_IRI,
    "@id": "https://example.org/patient/fuzz",
    "@type": "Patient",
    "assessedOn": "2026-03-22",
    "hasFinding": [
        {"@id": "https://example.org/patient/fuzz/f1", "@type": ["FindingRecord", "vocab:Sciatica"],
         "status": "gr:Present", "onset": "2026-03-10", "laterality": "gr:Left", "mrcGrade": 4.5},
        {"@type": ["FindingRecord", "vocab:Fever"], "status": "gr:Absent"},
    ],
    "hasMeasurement": [{"@type": ["gr:Measurement", "vocab:EGFR"], "value": 88, "recordedOn": "2026-03-20"}],
}  # fmt: skip
SEEDS: dict[str, bytes] = {
    "turtle": serialize(SEED, "turtle").encode(),
    "nt": serialize(SEED, "nt").encode(),
    "json-ld": serialize(SEED, "json-ld").encode(),
    "compact": json.dumps(_COMPACT, indent=1).encode(),
}
TOKENS = [
    b'"', b"'", b'"""', b"<", b">", b"[", b"]", b"(", b")", b"{", b"}", b",", b";", b".", b":", b"@", b"#", b"\\",
    b"\n", b"\x00", b"\xff", b"\xc3", b"\\u0000", b"\\ud800", b"NaN", b"-Infinity", b"1e400", b"9" * 70, b"_:b0",
    b"owl:sameAs", b"a", b"^^", b"@en", b"@context", b'"@id"', b'"@type"', b'"@graph"', b'"@import"', b'"@value"',
    b"null", b"true", b"<<", b">>", b"http://127.0.0.1:9/", b"file:///etc/passwd", b"<!DOCTYPE x>", b"\xef\xbb\xbf",
]  # fmt: skip


@st.composite
def mutations(draw: st.DrawFn) -> tuple[str, bytes]:
    """A real patient file in one format, with one to eight byte or token mutations."""
    name = draw(st.sampled_from(sorted(SEEDS)))
    data = bytearray(SEEDS[name])
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "repeat"]))
        if kind == "flip" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[at:at] = draw(st.sampled_from(TOKENS))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 40))]
        elif kind == "truncate":
            del data[at:]
        elif kind == "repeat":
            span = data[at : at + draw(st.integers(1, 200))]
            data[at:at] = span * draw(st.integers(1, 5))
    return ("json-ld" if name == "compact" else name), bytes(data)


def _independent_triples(fmt: str, data: bytes) -> set[tuple[object, object, object]] | None:
    """The ground triples Oxigraph finds in `data` on its own (None if it cannot parse it)."""
    formats = {"turtle": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES, "json-ld": ox.RdfFormat.JSON_LD}
    try:
        quads = list(ox.parse(data, format=formats[fmt]))
    except (SyntaxError, ValueError, UnicodeDecodeError):
        return None
    out = set()
    for q in quads:
        terms = (q.subject, q.predicate, q.object)
        if not any(isinstance(t, ox.BlankNode | ox.Triple) for t in terms):
            out.add(tuple(from_ox(t) for t in terms))
    return out


def _load_and_evaluate(fmt: str, data: bytes) -> None:
    started = time.perf_counter()
    try:
        patient = reasoner.load(data, format=fmt, name="fuzz")
    except (PatientParseError, InvalidPatientError) as exc:
        assert "fuzz" in str(exc)
        patient = None
    if patient is not None:
        expected = _independent_triples(fmt, data)
        if expected is not None:  # nothing the independent parse found is missing
            missing = {t for t in expected if t not in patient.graph}
            assert not missing, f"silently dropped: {sorted(map(str, missing))[:3]}"
        try:
            result = reasoner.recommend(patient, guideline=GL)
            assert result.patient == str(patient.iri)
        except (InvalidPatientError, CannotEvaluateError) as exc:
            assert "fuzz" in str(exc)
    assert time.perf_counter() - started < SECONDS


@FAST
@given(mutations())
@example(("json-ld", b'{"@id": "https://e.org/p", "urn:x": ' + b"9" * 5000 + b"}"))  # ValueError escaped
@example(("json-ld", b'{"@id": "https://e.org/p", "urn:x": ' + b"[" * 5000 + b"]" * 5000 + b"}"))  # RecursionError
@example(
    (
        "turtle",
        b"<https://e.org/p> a <https://w3id.org/guideline-reasoner/core#Patient> ; "
        b'<urn:x> "NaN"^^<http://www.w3.org/2001/XMLSchema#decimal> .',
    )
)
@example(("json-ld", SEEDS["compact"].replace(b'"status": "gr:Absent"', b'"status": "gr:Absent", "bogus": 1')))
def test_mutated_patient_files_give_a_result_or_a_clear_error(case: tuple[str, bytes]) -> None:
    _load_and_evaluate(*case)


@FAST
@given(st.sampled_from(["turtle", "nt", "json-ld"]), st.binary(max_size=2000))
def test_random_bytes_give_a_clear_error(fmt: str, data: bytes) -> None:
    _load_and_evaluate(fmt, data)


# -- generated patient graphs ----------------------------------------------------------------------------------

FINDINGS = sorted(
    str(f) for f in Vocabulary.of(GL).findings if str(f).startswith("https://w3id.org/guideline-reasoner/lbp#")
)
DRUGS = sorted(str(d).rsplit("#", 1)[-1] for d in Vocabulary.of(GL).drugs)
THERAPIES = sorted(str(t).rsplit("#", 1)[-1] for t in Vocabulary.of(GL).therapies)
DAY0 = date(2025, 1, 1)


@st.composite
def patients(draw: st.DrawFn) -> Patient:
    """A patient built from the guideline's own vocabulary: findings in any status and laterality, measurements,
    medications and therapies, at random dates; some invalid by construction (a finding present with no date, a dose
    of zero), which must be refused with the problem named."""
    assessed = DAY0 + timedelta(days=draw(st.integers(30, 700)))
    b = reasoner.PatientBuilder(
        f"https://example.org/fuzz/{draw(st.integers(0, 10**9))}",
        birth_date=date(draw(st.integers(1930, 2008)), draw(st.integers(1, 12)), 1),
        sex=draw(st.sampled_from(["female", "male", "other"])),
        assessed_on=assessed,
    )
    day = st.integers(0, 720).map(lambda n: DAY0 + timedelta(days=n))
    for concept in draw(st.lists(st.sampled_from(FINDINGS), max_size=12)):
        status = draw(st.sampled_from(["present", "absent", "unknown"]))
        dated = status == "present" and draw(st.sampled_from([True, True, True, False]))
        b.finding(
            concept,
            status=status,
            onset=draw(day) if dated else None,
            laterality=draw(st.none() | st.sampled_from(["left", "right", "bilateral"])),
            course=draw(st.none() | st.sampled_from(["new", "worsening", "stable", "improving"])),
            mrc_grade=draw(st.none() | st.sampled_from([0, 1, 2.5, 3.7, 4, 5])),
        )
    for drug in draw(st.lists(st.sampled_from(DRUGS), max_size=4)):
        b.medication(
            drug, start=draw(day), days=draw(st.integers(1, 120)), dose_mg=draw(st.sampled_from([0.5, 10, 600]))
        )
    for therapy in draw(st.lists(st.sampled_from(THERAPIES), max_size=2)):
        b.therapy(
            therapy, start=draw(day), ongoing=True, response=draw(st.sampled_from(["benefit", "none", "partial"]))
        )
    return b.build()


@st.composite
def synthetic_with_blank_records(draw: st.DrawFn) -> Patient:
    """A synthetic patient (every pathway of the guideline) whose records may be turned into blank nodes."""
    patient = synthetic_patient(
        GL, random.Random(draw(st.integers(0, 10**6))), iri="https://example.org/fuzz/synthetic"
    )
    if not draw(st.booleans()):
        return patient
    records = {o for o in patient.graph.objects(patient.iri) if str(o).startswith(str(patient.iri) + "/")}
    blank = {r: BNode() for r in records}
    graph = Graph()
    for s, p, o in patient.graph:
        graph.add((blank.get(s, s), p, blank.get(o, o)))
    return Patient(graph=graph, iri=patient.iri, source="fuzz")


def _evaluate_and_store(patient: Patient) -> None:
    started = time.perf_counter()
    try:
        result = reasoner.recommend(patient, guideline=GL)
    except (InvalidPatientError, CannotEvaluateError) as exc:
        assert exc.source and str(exc)
        return
    assert time.perf_counter() - started < SECONDS
    store = open_store()
    write_guideline(store, GL)
    ready = skolemize(patient)
    write_patients(store, [patient_graphs(ready, result)])
    stored = list(store.oxigraph.quads_for_pattern(None, None, None, ox.NamedNode(facts_graph(str(patient.iri)))))
    assert len(stored) == len(patient.graph), "a fact of a valid patient did not reach the store"


@SLOWER
@given(patients())
def test_generated_patients_give_a_result_or_a_clear_error_and_are_stored_whole(patient: Patient) -> None:
    _evaluate_and_store(patient)


@SLOWER
@given(synthetic_with_blank_records())
def test_synthetic_patients_with_or_without_blank_nodes_are_stored_whole(patient: Patient) -> None:
    _evaluate_and_store(patient)


@SLOWER
@given(mutations())
def test_a_batch_of_mutated_files_never_stops_on_one(case: tuple[str, bytes]) -> None:
    """recommend_many yields, for each input, a result or the InputError that refused it, in order."""
    _, data = case
    inputs = [SEEDS["turtle"].decode(), data.decode("utf-8", "replace"), SEEDS["compact"].decode()]
    outcomes = list(reasoner.recommend_many(inputs, guideline=GL))
    assert len(outcomes) == 3
    assert isinstance(outcomes[0], reasoner.Recommendations) and isinstance(outcomes[2], reasoner.Recommendations)
    assert isinstance(outcomes[1], reasoner.Recommendations | InputError)


# -- regressions: counterexamples found while hardening ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fmt", "message"),
    [
        # a 100,000-digit JSON integer: Python's int() raised ValueError through the loader
        ('{"@id": "https://e.org/p", "urn:x": ' + "9" * 100_000 + "}", "json-ld", "longer than"),
        # JSON nested 5,000 deep: RecursionError escaped
        ('{"urn:x": ' * 5000 + "1" + "}" * 5000, "json-ld", "MAX_NESTING"),
        # "NaN"^^xsd:decimal: rdflib accepted it and check() crashed with decimal.InvalidOperation
        ('<https://e.org/p> a <https://w3id.org/guideline-reasoner/core#Patient> ; <urn:x> "NaN"^^'
         "<http://www.w3.org/2001/XMLSchema#decimal> .", "turtle", "not a valid xsd:decimal"),
        # a JSON-LD node whose @id is not an IRI vanished with its facts
        (json.dumps({"@id": "https://e.org/p", "https://w3id.org/guideline-reasoner/core#hasFinding":
                     {"@id": "not an iri", "urn:x": "kept?"}}), "json-ld", "would be dropped"),
    ],
)  # fmt: skip
def test_counterexamples_stay_refused(text: str, fmt: str, message: str) -> None:
    with pytest.raises(PatientParseError, match=message):
        reasoner.load(text, format=fmt)


def test_counterexample_identical_blank_records_are_evaluated_quickly() -> None:
    """Sixty identical blank-node findings took rdflib's canonical labelling minutes in skolemize."""
    graph = Graph()
    graph += SEED
    patient = URIRef("https://example.org/patient/seed-v02")
    for _ in range(60):
        record = BNode()
        graph.add((patient, GR.hasFinding, record))
        graph.add((record, RDF.type, GR.FindingRecord))
        graph.add((record, RDF.type, VOCAB.Fever))
        graph.add((record, GR.status, GR.Absent))
    started = time.perf_counter()
    result = reasoner.recommend(reasoner.load(graph), guideline=GL)
    assert time.perf_counter() - started < SECONDS and result.recommendations


def test_counterexample_json_numbers_are_well_typed_for_pyshacl() -> None:
    """rdflib kept JSON 88 under a coerced xsd:decimal as a Python int: pySHACL (the path for shapes outside the
    compiled subset) refused the valid compact patient as ill-typed, the compiled checks did not."""
    from reasoner.engine.validate import _shapes

    patient = reasoner.load(SEEDS["compact"].decode(), format="json-ld")
    assert _shapes().pyshacl_results(patient.graph) == []
