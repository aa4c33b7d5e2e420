"""The compiled shapes (reasoner.engine.shapes_compiled) against pySHACL on the patient shapes: every invalid
fixture of test_patient_shapes, every valid patient of the corpus, and invalid patients generated from valid ones
(each property of each record dropped, duplicated and mistyped) give the same SHACL results, field by field
(focus node, path, value, severity, source shape, constraint component, message), so the same violations."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from rdflib import Graph, Literal
from rdflib.term import Node

from reasoner import load
from reasoner.engine.shapes import CompiledShapes, Result
from reasoner.errors import GuidelineError
from reasoner.knowledge.queries import read_query
from reasoner.namespaces import GR, RDF, XSD
from tests.conftest import ROOT
from tests.test_engine_differential import CORPUS
from tests.test_patient_shapes import BASE_TTL, CASES

SHAPES = ROOT / "shapes" / "patient.ttl"
SEED = ROOT / "examples" / "seed-case.ttl"
VALIDATOR = CompiledShapes(Graph().parse(SHAPES), source=str(SHAPES))


def _both(data: Graph) -> tuple[Counter[Result], Counter[Result]]:
    assert VALIDATOR.program is not None, VALIDATOR.reason
    return Counter(VALIDATOR.program.results(data)), Counter(VALIDATOR.pyshacl_results(data))


def test_the_patient_shapes_are_compiled() -> None:
    assert VALIDATOR.compiled, VALIDATOR.reason


@pytest.mark.parametrize("text", [BASE_TTL, *(c.values[0] for c in CASES)], ids=["base", *(c.id for c in CASES)])
def test_invalid_fixtures_agree_with_pyshacl(text: str, tmp_path: Path) -> None:
    path = tmp_path / "patient.ttl"
    path.write_text(text, encoding="utf-8")
    compiled, reference = _both(Graph().parse(path))
    assert compiled == reference


@pytest.mark.parametrize("patient", CORPUS, ids=lambda p: p.source.rsplit("/", 1)[-1])
def test_valid_corpus_agrees_with_pyshacl(patient: object) -> None:
    compiled, reference = _both(load(patient.source).graph)  # type: ignore[attr-defined]
    assert compiled == reference == Counter()


_RECORD_LINKS = (GR.hasFinding, GR.hasExposure, GR.hasMeasurement)


def _other(value: Node) -> Node:
    """A second value of the same kind as `value` (for duplicating a property)."""
    if isinstance(value, Literal):
        if value.datatype == XSD.date:
            return Literal("2001-02-03", datatype=XSD.date)
        if value.datatype in (XSD.decimal, XSD.integer):
            return Literal(str(int(float(str(value))) + 1), datatype=value.datatype)
        return Literal(f"{value}-other", datatype=value.datatype, lang=value.language)
    return GR.Left if value != GR.Left else GR.Right


def _mistyped(value: Node) -> Node:
    """`value` as the wrong kind of term: an IRI for a literal, a string literal for an IRI."""
    return GR.Unknown if isinstance(value, Literal) else Literal(str(value))


def _mutants(path: Path) -> list[tuple[str, Graph]]:
    base = load(str(path)).graph
    patient = next(iter(base.subjects(RDF.type, GR.Patient)))
    records = [patient, *sorted({r for p in _RECORD_LINKS for r in base.objects(patient, p)}, key=str)]
    out: list[tuple[str, Graph]] = []
    for record in records:
        for p, o in sorted(base.predicate_objects(record), key=str):
            if p in _RECORD_LINKS:
                continue
            name = f"{path.stem}:{str(record).rsplit('/', 1)[-1]}:{str(p).rsplit('#', 1)[-1]}"
            for kind, change in (
                ("drop", lambda g, s=record, p=p, o=o: g.remove((s, p, o))),
                ("duplicate", lambda g, s=record, p=p, o=o: g.add((s, p, _other(o)))),
                ("mistype", lambda g, s=record, p=p, o=o: (g.remove((s, p, o)), g.add((s, p, _mistyped(o))))),
            ):
                mutant = Graph()
                for triple in base:
                    mutant.add(triple)
                change(mutant)
                out.append((f"{name}:{kind}", mutant))
    return out


SEED_MUTANTS = _mutants(SEED)
# One mutant per property and change runs by default (pySHACL takes about a second each); all of them are slow.
_FIRST = {n.split(":", 2)[2]: (n, d) for n, d in reversed(SEED_MUTANTS)}
SEED_SAMPLE = sorted(_FIRST.values(), key=lambda m: m[0])
CASE_FILES = sorted((ROOT / "tests" / "cases").rglob("*.ttl"))


@pytest.mark.parametrize(("name", "data"), SEED_SAMPLE, ids=[n for n, _ in SEED_SAMPLE])
def test_generated_invalid_seed_patients_agree_with_pyshacl(name: str, data: Graph) -> None:
    compiled, reference = _both(data)
    assert compiled == reference


@pytest.mark.slow
def test_every_generated_invalid_seed_patient_agrees_with_pyshacl() -> None:
    for name, data in SEED_MUTANTS:
        compiled, reference = _both(data)
        assert compiled == reference, name


@pytest.mark.slow
@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.stem)
def test_generated_invalid_case_patients_agree_with_pyshacl(path: Path) -> None:
    for name, data in _mutants(path):
        compiled, reference = _both(data)
        assert compiled == reference, name


def test_the_mutants_break_the_shapes() -> None:
    """The generated patients exercise the shapes: most of them are invalid, and every component is hit."""
    found = [r for _, data in SEED_MUTANTS for r in VALIDATOR.results(data)]
    assert len({n for n, data in SEED_MUTANTS if VALIDATOR.results(data)}) > len(SEED_MUTANTS) // 3
    assert {str(r.component).rsplit("#", 1)[-1] for r in found} >= {
        "MinCountConstraintComponent",
        "MaxCountConstraintComponent",
        "DatatypeConstraintComponent",
        "InConstraintComponent",
        "SPARQLConstraintComponent",
    }


_KINDS_SHAPES = """
@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix ex: <https://example.org/> .
ex:S a sh:NodeShape ; sh:targetClass ex:T ;
  sh:property [ sh:path ex:name ; sh:datatype xsd:string ] ;
  sh:property [ sh:path ex:iri ; sh:nodeKind sh:IRI ] ;
  sh:property [ sh:path ex:blank ; sh:nodeKind sh:BlankNode ] ;
  sh:property [ sh:path ex:lit ; sh:nodeKind sh:Literal ] ;
  sh:property [ sh:path ex:bi ; sh:nodeKind sh:BlankNodeOrIRI ] ;
  sh:property [ sh:path ex:bl ; sh:nodeKind sh:BlankNodeOrLiteral ] ;
  sh:property [ sh:path ex:il ; sh:nodeKind sh:IRIOrLiteral ] .
"""
_KINDS_DATA = """
@prefix ex: <https://example.org/> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:a a ex:T ; ex:name "plain", "typed"^^xsd:string, "tagged"@en, 3 ;
  ex:iri ex:x, "x", [] ; ex:blank ex:x, "x", [] ; ex:lit ex:x, "x", [] ;
  ex:bi ex:x, "x", [] ; ex:bl ex:x, "x", [] ; ex:il ex:x, "x", [] .
"""


def test_datatype_and_every_node_kind_agree_with_pyshacl() -> None:
    """Regression: a plain literal is an xsd:string, and every sh:nodeKind is enforced (sh:IRI only, before)."""
    shapes = CompiledShapes(Graph().parse(data=_KINDS_SHAPES, format="turtle"), source="kinds.ttl")
    data = Graph().parse(data=_KINDS_DATA, format="turtle")
    assert shapes.program is not None
    compiled = Counter(shapes.program.results(data))
    assert compiled == Counter(shapes.pyshacl_results(data))
    assert sum(compiled.values()) == 11  # 2 bad names; 9 values of the wrong kind


def test_an_unknown_node_kind_goes_to_pyshacl() -> None:
    bad = _KINDS_SHAPES.replace("sh:nodeKind sh:IRI ]", "sh:nodeKind sh:Iri ]")
    shapes = CompiledShapes(Graph().parse(data=bad, format="turtle"), source="kinds.ttl")
    assert not shapes.compiled and "sh:Iri is not a SHACL node kind" in str(shapes.reason)


def test_a_sparql_constraint_that_fetches_is_refused_when_compiled() -> None:
    """The guard that protects the endpoint also holds for guideline-authored queries (once, at compile time)."""
    fetching = _KINDS_SHAPES.replace(
        "sh:property [ sh:path ex:name ; sh:datatype xsd:string ] ;",
        'sh:sparql [ sh:select "SELECT $this WHERE { SERVICE <http://127.0.0.1:9/> { $this ?p ?o } }" ] ;',
    )
    with pytest.raises(GuidelineError, match=r"kinds\.ttl: SPARQL query of .*SERVICE"):
        CompiledShapes(Graph().parse(data=fetching, format="turtle"), source="kinds.ttl")


def test_a_rule_file_that_fetches_is_refused(tmp_path: Path) -> None:
    rule = tmp_path / "99-fetch.rq"
    rule.write_text("CONSTRUCT { ?s a ?o } WHERE { SERVICE <http://127.0.0.1:9/> { ?s a ?o } }", encoding="utf-8")
    with pytest.raises(GuidelineError, match=r"99-fetch\.rq: .*SERVICE"):
        read_query(rule)


def test_an_unknown_term_sends_the_graph_to_pyshacl() -> None:
    """The compiled subset is decided over every triple of a shape, not only its sh: predicates."""
    extended = _KINDS_SHAPES.replace("ex:S a sh:NodeShape ;", "ex:S a sh:NodeShape ; ex:customParameter 3 ;")
    shapes = CompiledShapes(Graph().parse(data=extended, format="turtle"), source="kinds.ttl")
    assert not shapes.compiled and "https://example.org/customParameter" in str(shapes.reason)
