"""Hostile patient files are refused fast, with an error naming the file and the problem; nothing is fetched (a
canary HTTP server on 127.0.0.1 records every request, an audit hook every connection and every file opened), no
file but the input is read, memory stays bounded, and nothing is stored. Limits: reasoner/rdf/limits.py."""

from __future__ import annotations

import importlib
import json
import sys
import time
import tracemalloc
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from rdflib import URIRef

import reasoner
from reasoner._paths import data_dir
from reasoner.errors import InputError, InvalidPatientError, PatientParseError
from reasoner.input.patient import skolemize
from reasoner.rdf import limits as input_limits
from reasoner.rdf.rdfio import CONTEXT_IRI
from reasoner.store.batch import batch
from reasoner.store.cohort import open_store
from tests.canary import Canary, canary_fixture

ROOT = Path(__file__).resolve().parent.parent
SEED = (ROOT / "examples" / "seed-case.ttl").read_text()
PREFIXES = """@prefix gr: <https://w3id.org/guideline-reasoner/core#> .
@prefix lbp: <https://w3id.org/guideline-reasoner/lbp#> .
@prefix vocab: <https://w3id.org/guideline-reasoner/vocab#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
"""
P = "https://example.org/patient/hostile"
HEAD = PREFIXES + f'<{P}> a gr:Patient ; gr:assessedOn "2026-03-22"^^xsd:date .\n'
TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
NT_HEAD = f"<{P}> {TYPE} <https://w3id.org/guideline-reasoner/core#Patient> .\n"
CANARY = "http://127.0.0.1:{port}"  # replaced by the canary server's address


# -- the canary: every request that leaves the process for 127.0.0.1 is recorded ---------------------------------


canary = canary_fixture(body=b'{"@context": {"x": "urn:x"}}', content_type="application/ld+json")


@dataclass
class Watch:
    """What the process did while watched: connections made and files opened (Python's audit events)."""

    connects: list[str]
    opened: list[str]
    active: bool = False


_WATCH = Watch([], [])


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if not _WATCH.active:
        return
    if event == "socket.connect":
        _WATCH.connects.append(repr(args[1]))
    elif event == "open" and isinstance(args[0], str | bytes | Path):
        _WATCH.opened.append(str(Path(args[0].decode() if isinstance(args[0], bytes) else args[0]).resolve()))


sys.addaudithook(_audit)  # audit hooks cannot be removed; this one records only while a test watches


def _watched(action: Callable[[], object]) -> Watch:
    _WATCH.connects.clear()
    _WATCH.opened.clear()
    _WATCH.active = True
    try:
        action()
    finally:
        _WATCH.active = False
    return Watch(list(_WATCH.connects), list(_WATCH.opened))


def test_the_canary_and_the_audit_hook_see_a_request(canary: Canary) -> None:
    """The instruments work: a real request is recorded by both (else the tests below could not fail)."""
    before = len(canary.requests)
    seen = _watched(lambda: urllib.request.urlopen(canary.base + "/probe", timeout=5).read())
    assert canary.requests[before:] == ["GET /probe"]
    assert seen.connects, "the audit hook saw no connection"
    del canary.requests[before:]


# -- the hostile files ---------------------------------------------------------------------------------------------


def _nested_turtle(depth: int) -> str:
    return HEAD + f"<{P}> gr:note " + "[ gr:note " * depth + '"x"' + " ]" * depth + " .\n"


def _json(doc: object) -> str:
    return json.dumps(doc)


def _billion_laughs() -> str:
    entities = ['<!ENTITY l0 "lol">'] + [f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10)]
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [{"".join(entities)}]>\n'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:gr="https://w3id.org/guideline-reasoner/core#">'
        f'<gr:Patient rdf:about="{P}"><gr:note>&l9;</gr:note></gr:Patient></rdf:RDF>\n'
    )


def _xxe(target: str) -> str:
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [<!ENTITY xxe SYSTEM "{target}">]>\n'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:gr="https://w3id.org/guideline-reasoner/core#">'
        f'<gr:Patient rdf:about="{P}"><gr:note>&xxe;</gr:note></gr:Patient></rdf:RDF>\n'
    )


def _doc(**extra: Any) -> dict[str, Any]:
    return {"@context": CONTEXT_IRI, "@id": P, "@type": "Patient", **extra}


MB = 1024 * 1024

# name, file name, content (str or bytes; CANARY is replaced by the canary's URL), what the error must say
PARSE_ERRORS: list[tuple[str, str, str | bytes, str]] = [
    # size, encoding, truncation
    ("too large", "big.ttl", HEAD + "#" * (6 * MB) + "\n", "MAX_INPUT_BYTES"),
    (
        "invalid UTF-8",
        "latin1.ttl",
        HEAD.encode() + f'<{P}> gr:note "caf\xe9" .\n'.encode("latin-1"),
        "not valid UTF-8",
    ),
    ("NUL byte", "nul.ttl", HEAD + f'<{P}> gr:note "a\x00b" .\n', "NUL"),
    ("NUL escape in Turtle", "nul-escape.ttl", HEAD + f'<{P}> gr:note "a\\u0000b" .\n', "NUL"),
    ("truncated Turtle", "truncated.ttl", SEED[: len(SEED) // 2], "syntax error"),
    ("truncated N-Triples", "truncated.nt", NT_HEAD + f'<{P}> <urn:x:note> "abc', "syntax error"),
    ("truncated JSON-LD", "truncated.jsonld", _json(_doc(birthDate="1980-01-01"))[:-9], "invalid JSON"),
    # huge literals: rdflib spends minutes on these; Oxigraph streams them and the limit refuses them
    (
        "4 MB one-line literal (N-Triples)",
        "literal.nt",
        NT_HEAD + f'<{P}> <urn:x:note> "{"a" * (4 * MB)}" .\n',
        "MAX_LITERAL_CHARS",
    ),
    (
        "4 MB one-line literal (Turtle)",
        "literal.ttl",
        HEAD + f'<{P}> gr:note "{"a" * (4 * MB)}" .\n',
        "MAX_LITERAL_CHARS",
    ),
    (
        "1.6 MB multi-line literal",
        "long.ttl",
        HEAD + f'<{P}> gr:note """{("b" * 79 + chr(10)) * 20_000}""" .\n',
        "MAX_LITERAL_CHARS",
    ),
    ("huge JSON string", "string.jsonld", _json(_doc(bodySite="c" * 200_000)), "MAX_LITERAL_CHARS"),
    ("huge IRI", "iri.ttl", HEAD + f"<{P}> gr:note <https://example.org/{'i' * 10_000}> .\n", "MAX_IRI_CHARS"),
    # nesting
    ("deep Turtle nesting", "nested.ttl", _nested_turtle(5_000), "MAX_NESTING"),
    (
        "deep Turtle collection",
        "list.ttl",
        HEAD + f"<{P}> gr:note " + "( " * 5_000 + ")" * 5_000 + " .\n",
        "MAX_NESTING",
    ),
    (
        "deep JSON nesting",
        "nested.jsonld",
        '{"@id": "' + P + '", "urn:x:n": ' + '{"urn:x:n": ' * 100_000 + "1" + "}" * 100_001,
        "MAX_NESTING",
    ),
    ("blank-node cycle", "cycle.nt", NT_HEAD + "_:a <urn:x:n> _:b .\n_:b <urn:x:n> _:a .\n", "cycle"),
    (
        "shared blank node",
        "shared.ttl",
        HEAD + f"<{P}> gr:note _:x . <https://example.org/other> gr:note _:x .\n",
        "one place only",
    ),
    # too many triples
    (
        "too many triples",
        "many.nt",
        NT_HEAD + "".join(f'<{P}> <urn:x:n> "{i}" .\n' for i in range(25_000)),
        "MAX_TRIPLES",
    ),
    # invalid IRIs
    ("IRI with a space", "space.ttl", HEAD + f"<{P}> gr:note <https://example.org/a b> .\n", "Invalid IRI"),
    ("relative IRI", "relative.nt", NT_HEAD + f"<{P}> <urn:x:n> <relative> .\n", "absolute IRI"),
    (
        "JSON-LD @id that is not an IRI",
        "id.jsonld",
        _json(_doc(hasFinding=[{"@id": "not an iri", "status": "gr:Absent"}])),
        "would be dropped",
    ),
    ("JSON-LD IRI with a space", "space.jsonld", _json(_doc(hasFinding=["https://example.org/a b"])), "absolute IRI"),
    ("JSON-LD key the context lacks", "key.jsonld", _json(_doc(bogus="x")), "would be dropped"),
    ("JSON-LD unknown keyword", "keyword.jsonld", _json(_doc(**{"@bogus": "x"})), "not a JSON-LD keyword"),
    (
        "JSON-LD language tag with a space",
        "lang.jsonld",
        _json(_doc(**{"urn:x:note": {"@value": "x", "@language": "en US"}})),
        "would be dropped",
    ),
    ("JSON-LD top-level string", "string.json", '"just a string"', "object or an array"),
    # JSON numbers and keys: Python's json keeps the last duplicate and accepts NaN
    (
        "duplicate JSON key",
        "dup.jsonld",
        '{"@id": "' + P + '", "@id": "https://example.org/other"}',
        "duplicate JSON key",
    ),
    ("NaN", "nan.jsonld", '{"@id": "' + P + '", "urn:x:v": NaN}', "NaN is not a valid JSON number"),
    ("Infinity", "inf.jsonld", '{"@id": "' + P + '", "urn:x:v": -Infinity}', "not a valid JSON number"),
    ("huge JSON number", "big.jsonld", '{"@id": "' + P + '", "urn:x:v": 1e400}', "out of range"),
    (
        "100,000-digit JSON integer",
        "digits.jsonld",
        '{"@id": "' + P + '", "urn:x:v": ' + "9" * 100_000 + "}",
        "longer than",
    ),
    ("lone surrogate", "surrogate.jsonld", '{"@id": "' + P + '", "urn:x:v": "\\ud800"}', "lone surrogate"),
    ("NUL escape in JSON", "nul.jsonld", '{"@id": "' + P + '", "urn:x:v": "a\\u0000b"}', "NUL"),
    # numeric literals rdflib misreads: "NaN"^^xsd:decimal is a Decimal NaN to it, and NaN < 200 is true
    ("NaN double", "nan.ttl", HEAD + f'<{P}> gr:note "NaN"^^xsd:double .\n', "NaN and INF are not accepted"),
    ("INF decimal", "inf.ttl", HEAD + f'<{P}> gr:note "INF"^^xsd:decimal .\n', "not a valid xsd:decimal"),
    ("1e400 double", "e400.ttl", HEAD + f'<{P}> gr:note "1e400"^^xsd:double .\n', "out of range"),
    ("5,000-digit integer", "digits.ttl", HEAD + f"<{P}> gr:note {'7' * 5000} .\n", "longer than"),
    ("quoted triple", "star.ttl", HEAD + f'<< <{P}> a gr:Patient >> gr:note "x" .\n', "RDF-star"),
    # remote and local JSON-LD contexts: rdflib would fetch every one of them
    (
        "remote context",
        "remote.jsonld",
        _json({"@context": CANARY + "/context.jsonld", "@id": P}),
        "remote JSON-LD context",
    ),
    (
        "remote context in a list",
        "list.jsonld",
        _json({"@context": [{"x": "urn:x"}, CANARY + "/c"], "@id": P}),
        "remote JSON-LD context",
    ),
    (
        "scoped remote context",
        "scoped.jsonld",
        _json({"@context": {"t": {"@id": "urn:x:t", "@context": CANARY + "/scoped"}}, "@id": P, "t": {"x": 1}}),
        "remote JSON-LD context",
    ),
    ("@import", "import.jsonld", _json({"@context": {"@import": CANARY + "/import"}, "@id": P}), "@import"),
    ("file context", "file.jsonld", _json({"@context": "file:///etc/passwd", "@id": P}), "remote JSON-LD context"),
    ("/dev/zero context", "zero.jsonld", _json({"@context": "file:///dev/zero", "@id": P}), "remote JSON-LD context"),
    (
        "relative file context",
        "relative.jsonld",
        _json({"@context": "../../../etc/passwd", "@id": P}),
        "remote JSON-LD context",
    ),
    # FHIR bundles go through the same JSON reader
    (
        "FHIR duplicate key",
        "bundle.json",
        '{"resourceType": "Bundle", "resourceType": "Patient"}',
        "duplicate JSON key",
    ),
    ("FHIR NaN", "nan-bundle.json", '{"resourceType": "Bundle", "total": NaN}', "not a valid JSON number"),
    (
        "FHIR deep nesting",
        "deep-bundle.json",
        '{"resourceType": "Bundle", "x": ' + "[" * 5000 + "]" * 5000 + "}",
        "MAX_NESTING",
    ),
    (
        "FHIR huge string",
        "long-bundle.json",
        '{"resourceType": "Bundle", "id": "' + "d" * 200_000 + '"}',
        "MAX_LITERAL_CHARS",
    ),
    # RDF/XML is not accepted at all: entities, DTDs, external entities
    ("billion laughs", "laughs.rdf", _billion_laughs(), "RDF/XML is not accepted"),
    ("external entity (URL)", "xxe.rdf", _xxe(CANARY + "/xxe"), "RDF/XML is not accepted"),
    ("external entity (file)", "xxe-file.xml", _xxe("file:///etc/passwd"), "RDF/XML is not accepted"),
    ("XML under another name", "sneaky", _billion_laughs(), "RDF/XML is not accepted"),
]

# Files that parse but are not a valid patient: the shapes refuse them, and nothing is derived or fetched.
INVALID: list[tuple[str, str, str, str]] = [
    ("owl:imports", "imports.ttl", HEAD + f"<{P}> owl:imports <{CANARY}/ontology.ttl> .\n", "not allowed in patient"),
    (
        "owl:sameAs",
        "same.ttl",
        HEAD + f"<{P}> owl:sameAs <https://example.org/patient/other> .\n",
        "not allowed in patient",
    ),
    (
        "functional property",
        "functional.ttl",
        HEAD + "gr:hasFinding a owl:FunctionalProperty .\n",
        "not allowed in patient",
    ),
    (
        "inverse-functional identifier",
        "ifp.ttl",
        HEAD + f'<urn:x:mrn> a owl:InverseFunctionalProperty .\n<{P}> <urn:x:mrn> "123" .\n',
        "not allowed in patient",
    ),
    (
        "SHACL shape",
        "shape.ttl",
        HEAD + "<urn:x:s> a sh:NodeShape ; sh:targetClass gr:Patient ; sh:closed true .\n",
        "not allowed in patient",
    ),
    (
        "subclass axiom",
        "axiom.ttl",
        HEAD + "vocab:Fever <http://www.w3.org/2000/01/rdf-schema#subClassOf> vocab:Sciatica .\n",
        "not allowed in patient",
    ),
    ("no patient", "nobody.nt", '<https://example.org/x> <urn:x:n> "y" .\n', "exactly one gr:Patient"),
    (
        "two patients",
        "two.ttl",
        HEAD + "<https://example.org/patient/second> a gr:Patient .\n",
        "exactly one gr:Patient",
    ),
]


def _write(tmp: Path, name: str, content: str | bytes, canary: Canary) -> Path:
    path = tmp / name
    if isinstance(content, str):
        path.write_text(content.replace(CANARY, canary.base), encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def _allowed_files(path: Path) -> set[str]:
    """The input itself and the project's bundled JSON-LD context (what a document naming CONTEXT_IRI gets)."""
    return {str(path.resolve()), str((data_dir("ontology") / "context.jsonld").resolve())}


@pytest.fixture(scope="module")
def guideline() -> reasoner.Guideline:
    guideline = reasoner.load_guideline()
    reasoner.recommend(SEED, guideline=guideline)  # warm: lazy imports and compilation are not what is measured
    importlib.import_module("reasoner.input.fhir")  # imported on the first FHIR bundle
    return guideline


@pytest.mark.parametrize(("name", "file", "content", "expected"), PARSE_ERRORS, ids=[c[0] for c in PARSE_ERRORS])
def test_a_hostile_file_is_refused_fast_without_a_request_or_another_file(
    tmp_path: Path, canary: Canary, guideline: reasoner.Guideline, name: str, file: str, content: str | bytes,
    expected: str,
) -> None:  # fmt: skip
    path = _write(tmp_path, file, content, canary)
    outcome: list[BaseException] = []

    def load() -> None:
        try:
            reasoner.load(path)
        except InputError as exc:
            outcome.append(exc)

    started = time.perf_counter()
    seen = _watched(load)
    elapsed = time.perf_counter() - started
    assert outcome, f"{name}: loaded without an error"
    error = outcome[0]
    assert isinstance(error, PatientParseError | InvalidPatientError)
    assert str(path) in str(error) and expected in str(error), str(error)[:300]
    assert elapsed < 2.0, f"{name}: took {elapsed:.2f} s"
    assert canary.requests == [] and seen.connects == []
    assert set(seen.opened) <= _allowed_files(path), seen.opened


@pytest.mark.parametrize(("name", "file", "content", "expected"), INVALID, ids=[c[0] for c in INVALID])
def test_ontology_axioms_imports_and_shapes_in_patient_data_are_refused_before_reasoning(
    tmp_path: Path, canary: Canary, guideline: reasoner.Guideline, name: str, file: str, content: str, expected: str
) -> None:
    path = _write(tmp_path, file, content, canary)
    outcome: list[BaseException] = []

    def evaluate() -> None:
        try:
            reasoner.recommend(path, guideline=guideline)
        except InputError as exc:
            outcome.append(exc)

    started = time.perf_counter()
    seen = _watched(evaluate)
    assert time.perf_counter() - started < 2.0
    assert outcome and isinstance(outcome[0], InvalidPatientError), f"{name}: evaluated"
    assert str(path) in str(outcome[0]) and expected in str(outcome[0]), str(outcome[0])[:300]
    assert canary.requests == [] and seen.connects == []
    assert set(seen.opened) <= _allowed_files(path), seen.opened


def test_a_path_like_string_is_never_read_when_given_as_bytes(tmp_path: Path) -> None:
    """A service passes bytes: text naming a file ("/etc/passwd") is then data, never a path to read."""
    secret = tmp_path / "secret.ttl"
    secret.write_text(SEED)
    assert reasoner.load(str(secret)).iri  # a str naming a file is read (the documented convenience)...
    refused: list[PatientParseError] = []

    def load_bytes() -> None:
        try:
            reasoner.load(str(secret).encode())
        except PatientParseError as exc:
            refused.append(exc)

    seen = _watched(load_bytes)
    assert refused and str(secret.resolve()) not in seen.opened  # ...bytes never are


def test_a_huge_or_endless_file_is_not_read_whole(tmp_path: Path) -> None:
    started = time.perf_counter()
    with pytest.raises(PatientParseError, match="MAX_INPUT_BYTES"):
        reasoner.load(Path("/dev/zero"))
    assert time.perf_counter() - started < 2.0


MEMORY_CASES = [c for c in PARSE_ERRORS if len(c[2]) > MB] + [c for c in PARSE_ERRORS if "nesting" in c[0]]


@pytest.mark.parametrize(("name", "file", "content", "expected"), MEMORY_CASES, ids=[c[0] for c in MEMORY_CASES])
def test_memory_stays_bounded_on_the_largest_hostile_files(
    tmp_path: Path, canary: Canary, guideline: reasoner.Guideline, name: str, file: str, content: str | bytes,
    expected: str,
) -> None:  # fmt: skip
    """Python-side peak allocation while refusing a file of up to MAX_INPUT_BYTES stays a small multiple of it."""
    path = _write(tmp_path, file, content, canary)
    tracemalloc.start()
    try:
        with pytest.raises(InputError, match=expected):
            reasoner.load(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * input_limits.MAX_INPUT_BYTES, f"{name}: peak {peak / MB:.1f} MiB"


def test_nothing_hostile_is_stored(tmp_path: Path, canary: Canary, guideline: reasoner.Guideline) -> None:
    """A batch over every hostile file stores no patient: each is listed as refused, with its reason."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    cases = [c for c in PARSE_ERRORS + INVALID if Path(c[1]).suffix in (".ttl", ".nt", ".jsonld", ".json")]
    cases = [c for c in cases if len(c[2]) < MB]  # the large ones are covered above; keep this test quick
    for index, (_, file, content, _) in enumerate(cases):
        _write(inputs, f"{index:02d}-{file}", content, canary)
    summary = batch([inputs], tmp_path / "store")
    assert summary.done == 0 and len(summary.invalid) == len(cases)
    with open_store(tmp_path / "store", read_only=True) as store:
        assert not [g for g in store.graphs() if "/facts?" in g or "/derived?" in g]
    assert canary.requests == []


def test_a_format_other_than_turtle_n_triples_or_json_ld_is_refused() -> None:
    for fmt in ("xml", "trig", "n3", "nquads", "hext"):
        with pytest.raises(PatientParseError, match="not accepted"):
            reasoner.load(SEED, format=fmt)


def test_identical_blank_node_records_are_kept_and_skolemized_in_linear_time() -> None:
    """rdflib's canonical labelling took minutes on 60 identical blank-node findings; each is kept, with its own
    IRI, and the same facts always give the same IRIs."""
    records = ", ".join(["[ a gr:FindingRecord, vocab:Fever ; gr:status gr:Absent ]"] * 60)
    text = HEAD + f"<{P}> gr:hasFinding {records} .\n"
    started = time.perf_counter()
    one = skolemize(reasoner.load(text))
    two = skolemize(reasoner.load(text))
    assert time.perf_counter() - started < 2.0
    assert set(one.graph) == set(two.graph)
    assert len(set(one.graph.objects(URIRef(P), URIRef("https://w3id.org/guideline-reasoner/core#hasFinding")))) == 60
    assert len(one.graph) == len(reasoner.load(text).graph)


def test_limits_are_module_constants_a_deployment_can_change(monkeypatch: pytest.MonkeyPatch) -> None:
    assert reasoner.load(SEED).graph
    monkeypatch.setattr(input_limits, "MAX_TRIPLES", 10)
    with pytest.raises(PatientParseError, match="more than 10 triples"):
        reasoner.load(SEED)


def test_every_limit_is_documented() -> None:
    security = (ROOT / "docs" / "SECURITY.md").read_text()
    limits = [name for name in input_limits.__all__ if name.startswith("MAX_")]
    assert len(limits) == 7
    for name in limits:
        assert f"`{name}`" in security, name
        assert f"{getattr(input_limits, name):,}" in security or str(getattr(input_limits, name)) in security, name


# -- JSON-LD meaning comes from the bundled context only -------------------------------------------------------

_FINDING = {
    "@id": P + "/retention",
    "@type": ["FindingRecord", "vocab:UrinaryRetention"],
    "status": "gr:Present",
    "onset": "2026-03-21",
}


_BACK_PAIN = {"@id": P + "/back-pain", "@type": ["FindingRecord", "vocab:LowBackPain"], "status": "gr:Present",
              "onset": "2026-03-10"}  # fmt: skip


def _with_context(context: Any, finding: dict[str, Any] | None = None, **extra: Any) -> str:
    findings = [_BACK_PAIN, finding or _FINDING]  # back pain: the patient is in the low back pain module's scope
    body = {"@id": P, "@type": "Patient", "assessedOn": "2026-03-22", "hasFinding": findings, **extra}
    return _json({"@context": context, **body})


# name, document, the term the error must name
REDEFINITIONS: list[tuple[str, str, str]] = [
    (
        "a new term that inverts a status",
        _with_context([CONTEXT_IRI, {"Present": "gr:Absent"}], {**_FINDING, "status": "Present"}),
        '"Present"',
    ),
    ("a redefined prefix", _with_context([CONTEXT_IRI, {"gr": "https://example.org/not-core#"}]), '"gr"'),
    ("a redefined property", _with_context([CONTEXT_IRI, {"status": {"@id": "gr:laterality", "@type": "@vocab"}}]),
     '"status"'),
    ("a type coercion", _with_context([CONTEXT_IRI, {"assessedOn": {"@id": "gr:assessedOn"}}]), '"assessedOn"'),
    ("a type alias", _with_context([CONTEXT_IRI, {"FindingRecord": "gr:Measurement"}]), '"FindingRecord"'),
    ("@vocab", _with_context([CONTEXT_IRI, {"@vocab": "https://w3id.org/guideline-reasoner/core#"}]), '"@vocab"'),
    ("@base", _with_context([CONTEXT_IRI, {"@base": "https://example.org/"}]), '"@base"'),
    ("@language", _with_context([CONTEXT_IRI, {"@language": "en"}]), '"@language"'),
    ("@protected", _with_context([CONTEXT_IRI, {"@protected": True}]), '"@protected"'),
    ("@propagate", _with_context([CONTEXT_IRI, {"@propagate": False}]), '"@propagate"'),
    ("@version", _with_context([CONTEXT_IRI, {"@version": 1.1}]), '"@version"'),
    ("@direction", _with_context([CONTEXT_IRI, {"@direction": "rtl"}]), '"@direction"'),
    ("a keyword alias", _with_context([CONTEXT_IRI, {"id": "@id"}]), '"id"'),
    ("an inline context alone", _with_context({"Patient": "gr:Patient", "x": "urn:x"}), '"x"'),
    ("a context before the bundled one", _with_context([{"Present": "gr:Absent"}, CONTEXT_IRI]), '"Present"'),
    (
        "a scoped context on a term",
        _with_context([CONTEXT_IRI, {"hasFinding": {"@id": "gr:hasFinding", "@type": "@id", "@container": "@set",
                                                    "@context": {"Present": "gr:Absent"}}}]),
        '"hasFinding"',
    ),
    (
        "a nested context on a node",
        _with_context(CONTEXT_IRI, {**_FINDING, "@context": {"Present": "gr:Absent"}, "status": "Present"}),
        '"Present"',
    ),
    ("a null context", _with_context(CONTEXT_IRI, {**_FINDING, "@context": None}), "null"),
    ("@import of the bundled context", _with_context({"@import": CONTEXT_IRI}), "@import"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "document", "term"), REDEFINITIONS, ids=[r[0] for r in REDEFINITIONS])
def test_a_json_ld_context_cannot_redefine_the_bundled_terms(name: str, document: str, term: str) -> None:
    with pytest.raises(PatientParseError) as caught:
        reasoner.load(document.encode(), name="redefined.jsonld")
    assert "redefined.jsonld" in str(caught.value) and term in str(caught.value), str(caught.value)


def test_an_inverted_status_no_longer_drops_the_cauda_equina_emergency(guideline: reasoner.Guideline) -> None:
    """The reported case: {"Present": "gr:Absent"} made "status": "Present" an absent urinary retention."""
    honest = reasoner.recommend(_with_context(CONTEXT_IRI).encode(), guideline=guideline)
    assert any(r.urgency == "emergency" for r in honest.recommendations)
    with pytest.raises(PatientParseError, match='"Present"'):
        reasoner.recommend(
            _with_context([CONTEXT_IRI, {"Present": "gr:Absent"}], {**_FINDING, "status": "Present"}).encode(),
            guideline=guideline,
        )


def test_a_context_that_repeats_the_bundled_definitions_is_accepted() -> None:
    bundled = json.loads((data_dir("ontology") / "context.jsonld").read_text())["@context"]
    repeated = reasoner.load(_with_context([CONTEXT_IRI, {"gr": bundled["gr"], "status": bundled["status"]}]).encode())
    inline = reasoner.load(_with_context(bundled).encode())
    named = reasoner.load(_with_context(CONTEXT_IRI).encode())
    assert set(repeated.graph) == set(named.graph) == set(inline.graph)
