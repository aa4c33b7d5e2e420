"""Fidelity: every patient stored in the cohort store round-trips through each supported serialisation (Turtle,
N-Triples, JSON-LD), written by reasoner.rdf.rdfio.serialize and read back by reasoner.load, to identical stored
literals: the same lexical forms, datatypes and language tags, byte for byte, and no digit lost against the input file.

Two libraries respell numbers without changing their values: rdflib on reading ("1.0E0"^^xsd:double becomes "1.0"),
and Oxigraph's store, which keeps typed literals in canonical form ("4.50"^^xsd:decimal is stored as "4.5"). So a
stored literal is canonical, and the property is that storing it again after any round trip changes nothing. What
would lose digits is guarded: rdflib's Turtle writer prints an xsd:double with seven significant digits (the
project writes through Oxigraph), and a JSON number with more digits than a double keeps is refused."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, URIRef

import reasoner
from reasoner.errors import PatientParseError
from reasoner.namespaces import GR
from reasoner.rdf.oxi import from_ox, to_ox
from reasoner.rdf.rdfio import FORMATS, serialize
from reasoner.store.batch import batch
from reasoner.store.cohort import facts_graph, open_store
from reasoner.synth.cohort import write_cohort
from tests.conftest import derived_graph_of

ROOT = Path(__file__).resolve().parent.parent
NOTE = "https://example.org/ns/note"
# A valid patient whose literals are hard to keep: doubles at full precision and at the ends of their range,
# decimals with trailing zeros and many digits, long integers, strings with quotes, newlines, backslashes and
# characters outside the BMP, language tags, a long text, times with zones.
TRICKY = f"""@prefix gr: <https://w3id.org/guideline-reasoner/core#> .
@prefix lbp: <https://w3id.org/guideline-reasoner/lbp#> .
@prefix vocab: <https://w3id.org/guideline-reasoner/vocab#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix n: <{NOTE}#> .
<https://example.org/patient/tricky> a gr:Patient ; gr:assessedOn "2026-03-22"^^xsd:date ; gr:sex gr:Female ;
    gr:hasFinding <https://example.org/patient/tricky/weakness> ;
    gr:hasMeasurement <https://example.org/patient/tricky/egfr> ;
    n:double "0.12345678901234566"^^xsd:double , "2.2250738585072014E-308"^^xsd:double ,
             "1.7976931348623157E308"^^xsd:double , "-0.0"^^xsd:double , "1e-300"^^xsd:double ;
    n:float "3.4028235E38"^^xsd:float ;
    n:decimal 123456789012345678901234567890.123456789 , "4.50"^^xsd:decimal , "-0.000000000000000000001"^^xsd:decimal ;
    n:integer 123456789012345678901234567890123456789 , "-42"^^xsd:integer ;
    n:text "quote \\" and 'single', back\\\\slash, tab\\t, newline\\n, emoji \U0001f9b4, CJK 腰痛, RTL ألم" ,
           \"\"\"three
lines with ""quotes"" inside\"\"\" ,
           "Rückenschmerzen"@de , "douleur lombaire"@fr-CA , "{"long text " * 800}" ;
    n:when "2026-03-22T08:15:30.5+05:30"^^xsd:dateTime , "2026-03-22Z"^^xsd:date ;
    n:flag true , "0"^^xsd:boolean .
<https://example.org/patient/tricky/weakness> a gr:FindingRecord, vocab:MotorWeakness ; gr:status gr:Present ;
    gr:mrcGrade "3.70"^^xsd:decimal ; gr:recordedOn "2026-03-22"^^xsd:date .
<https://example.org/patient/tricky/egfr> a gr:Measurement, vocab:EGFR ;
    gr:value "95.000000000000000000000000001"^^xsd:decimal ; gr:recordedOn "2026-03-22"^^xsd:date .
"""


def _terms(graph: Graph) -> set[tuple[str, str, str, str | None, str | None]]:
    """Each triple with its object spelled out: lexical form, datatype and language tag."""
    out = set()
    for s, p, o in graph:
        if isinstance(o, Literal):
            out.add((str(s), str(p), str(o), str(o.datatype) if o.datatype else None, o.language))
        else:
            out.add((str(s), str(p), str(o), None, None))
    return out


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """A store holding synthetic patients, the vignettes, the seed case and the tricky patient."""
    root = tmp_path_factory.mktemp("fidelity")
    inputs = root / "in"
    write_cohort(reasoner.load_guideline(), 12, inputs, seed=31)
    for path in [
        ROOT / "examples" / "seed-case.ttl",
        *sorted((ROOT / "ontology" / "lbp" / "cases" / "vignettes").glob("*.ttl")),
    ]:
        (inputs / f"{path.parent.name}-{path.name}").write_text(path.read_text())
    (inputs / "tricky.ttl").write_text(TRICKY)
    summary = batch([inputs], root / "store", jurisdiction="both")
    assert not summary.invalid, summary.invalid
    patients = sorted(str(reasoner.load(p).iri) for p in inputs.glob("*.ttl"))
    return root / "store", patients


def _stored_graph(store: Path, name: str) -> Graph:
    graph = Graph()
    with open_store(store, read_only=True) as opened:
        for quad in _stored_quads(opened.oxigraph, name):
            graph.add((from_ox(quad.subject), from_ox(quad.predicate), from_ox(quad.object)))
    return graph


def _stored_quads(store: ox.Store, name: str) -> list[ox.Quad]:
    return list(store.quads_for_pattern(None, None, None, ox.NamedNode(name)))


def _restored(triples: Graph, name: str) -> set[str]:
    """`triples` stored again in a fresh Oxigraph store under `name`, as N-Quads lines."""
    store = ox.Store()
    graph = ox.NamedNode(name)
    store.extend(ox.Quad(to_ox(s), to_ox(p), to_ox(o), graph) for s, p, o in triples)  # type: ignore[arg-type]
    return {str(q) for q in _stored_quads(store, name)}


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_stored_patient_round_trips_to_identical_stored_literals(
    stored: tuple[Path, list[str]], fmt: str
) -> None:
    store, patients = stored
    assert len(patients) >= 20
    with open_store(store, read_only=True) as opened:
        for patient in patients:
            name = facts_graph(patient)
            quads = _stored_quads(opened.oxigraph, name)
            assert len(quads) > 3, patient
            facts = Graph()
            for q in quads:
                facts.add((from_ox(q.subject), from_ox(q.predicate), from_ox(q.object)))
            again = reasoner.load(serialize(facts, fmt), format=fmt, name=f"{patient} as {fmt}")
            assert _restored(again.graph, name) == {str(q) for q in quads}, patient


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_derived_graph_round_trips_to_identical_stored_literals(stored: tuple[Path, list[str]], fmt: str) -> None:
    store, patients = stored
    formats = {"turtle": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES, "json-ld": ox.RdfFormat.JSON_LD}
    with open_store(store, read_only=True) as opened:
        for patient in patients:
            names = {str(g.value) for g in opened.oxigraph.named_graphs()}
            name = derived_graph_of(names, patient, jurisdiction="both")
            quads = _stored_quads(opened.oxigraph, name)
            assert len(quads) > 5, patient  # the run, its guideline version, the derived facts
            derived = Graph()
            for q in quads:
                derived.add((from_ox(q.subject), from_ox(q.predicate), from_ox(q.object)))
            again = Graph()
            for quad in ox.parse(serialize(derived, fmt).encode(), format=formats[fmt]):
                again.add((from_ox(quad.subject), from_ox(quad.predicate), from_ox(quad.object)))
            assert _restored(again, name) == {str(q) for q in quads}, patient


def test_the_tricky_literals_are_stored_with_every_digit(stored: tuple[Path, list[str]]) -> None:
    """Every number is stored with the value written, to the last digit; strings exactly as written."""
    store, _ = stored
    facts = _stored_graph(store, facts_graph("https://example.org/patient/tricky"))

    def values(name: str) -> set[str]:
        return {str(o) for o in facts.objects(None, URIRef(NOTE + name))}

    assert {float(v) for v in values("#double")} == {
        0.12345678901234566,
        2.2250738585072014e-308,
        1.7976931348623157e308,
        -0.0,
        1e-300,
    }
    assert {Decimal(v) for v in values("#decimal")} == {
        Decimal("123456789012345678901234567890.123456789"),
        Decimal("4.5"),
        Decimal("-1E-21"),
    }
    assert {int(v) for v in values("#integer")} == {123456789012345678901234567890123456789, -42}
    grade = facts.value(URIRef("https://example.org/patient/tricky/weakness"), GR.mrcGrade)
    assert Decimal(str(grade)) == Decimal("3.7")
    egfr = facts.value(URIRef("https://example.org/patient/tricky/egfr"), GR.value)
    assert str(egfr) == "95.000000000000000000000000001"  # 27 decimal places: more than a double or Oxigraph keep
    assert any("\U0001f9b4" in t and "\\slash" in t and "\n" in t for t in values("#text"))
    assert "douleur lombaire" in values("#text")


def test_json_numbers_keep_every_digit_or_are_refused() -> None:
    """A JSON number becomes a double; one with more digits than a double keeps is refused rather than rounded."""
    doc = {"@id": "https://example.org/patient/j", "@type": "https://w3id.org/guideline-reasoner/core#Patient"}
    exact = json.dumps(doc | {NOTE: 0.12345678901234566})
    value = next(reasoner.load(exact, format="json-ld").graph.objects(None, URIRef(NOTE)))
    assert float(str(value)) == 0.12345678901234566
    rounded = exact.replace("0.12345678901234566", "0.123456789012345678901")
    with pytest.raises(PatientParseError, match="more digits than a double keeps"):
        reasoner.load(rounded, format="json-ld")
