"""The compiled shapes (reasoner.engine.shapes) against pySHACL on the same shapes file: every invalid fixture of
test_patient_shapes and every valid patient of the corpus gives the same violations (focus node, path, message).

pySHACL also reports, for a nested shape reached through sh:node, one generic result on the parent ("value does
not conform to shape"); the compiled shapes report only the nested results, which name the real problem, so those
parent results are left out of the comparison."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyshacl import validate as pyshacl_validate
from rdflib import Graph, Literal, URIRef

from reasoner import load
from reasoner.engine.shapes import CompiledShapes, display_name
from reasoner.errors import GuidelineError
from reasoner.knowledge.queries import read_query
from reasoner.namespaces import RDF, SH
from tests.conftest import ROOT
from tests.test_engine_differential import CORPUS
from tests.test_patient_shapes import BASE_TTL, CASES

SHAPES = ROOT / "shapes" / "patient.ttl"


def _pyshacl(data: Graph) -> set[tuple[str, str | None, str]]:
    conforms, report, _ = pyshacl_validate(data, shacl_graph=Graph().parse(SHAPES), advanced=True, allow_warnings=True)
    out = set()
    for result in report.subjects(RDF.type, SH.ValidationResult):
        if report.value(result, SH.sourceConstraintComponent) == SH.NodeConstraintComponent:
            continue
        path = report.value(result, SH.resultPath)
        message = str(report.value(result, SH.resultMessage))
        value = report.value(result, SH.value)
        focus = report.value(result, SH.focusNode)
        if isinstance(value, URIRef | Literal) and value != focus:
            message = f"{message} (got {value.n3()})"
        out.add((display_name(focus), display_name(path) if isinstance(path, URIRef) else None, message))
    assert conforms == (not out)
    return out


def _compiled(data: Graph) -> set[tuple[str, str | None, str]]:
    shapes = CompiledShapes(Graph().parse(SHAPES), source=str(SHAPES))
    return {(v.focus, v.path, v.message) for v in shapes.check(data)}


@pytest.mark.parametrize("text", [BASE_TTL, *(c.values[0] for c in CASES)], ids=["base", *(c.id for c in CASES)])
def test_invalid_fixtures_agree_with_pyshacl(text: str, tmp_path: Path) -> None:
    path = tmp_path / "patient.ttl"
    path.write_text(text, encoding="utf-8")
    data = Graph().parse(path)
    assert _compiled(data) == _pyshacl(data)


@pytest.mark.parametrize("patient", CORPUS, ids=lambda p: p.source.rsplit("/", 1)[-1])
def test_valid_corpus_agrees_with_pyshacl(patient: object) -> None:
    data = load(patient.source).graph  # type: ignore[attr-defined]
    assert _compiled(data) == _pyshacl(data) == set()


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
    shapes_graph, data = Graph().parse(data=_KINDS_SHAPES, format="turtle"), Graph().parse(data=_KINDS_DATA)
    compiled = CompiledShapes(shapes_graph, source="kinds.ttl").check(data)
    _, report, _ = pyshacl_validate(data, shacl_graph=shapes_graph)
    expected = {
        (
            display_name(report.value(r, SH.focusNode)),
            display_name(report.value(r, SH.resultPath)),
            report.value(r, SH.value),
        )
        for r in report.subjects(RDF.type, SH.ValidationResult)
    }
    assert len(compiled) == len(expected) == 11  # 2 bad names; 9 values of the wrong kind (non-blank values vary)
    assert {(v.focus, v.path) for v in compiled} == {(f, p) for f, p, _ in expected}


def test_an_unknown_node_kind_is_refused() -> None:
    bad = _KINDS_SHAPES.replace("sh:nodeKind sh:IRI ]", "sh:nodeKind sh:Iri ]")
    with pytest.raises(GuidelineError, match="sh:Iri is not a SHACL node kind"):
        CompiledShapes(Graph().parse(data=bad, format="turtle"), source="kinds.ttl")


def test_a_sparql_constraint_that_fetches_is_refused_when_compiled() -> None:
    """The guard that protects the endpoint also holds for guideline-authored queries (once, at compile time)."""
    fetching = _KINDS_SHAPES.replace(
        "sh:property [ sh:path ex:name ; sh:datatype xsd:string ] ;",
        'sh:sparql [ sh:select "SELECT $this WHERE { SERVICE <http://127.0.0.1:9/> { $this ?p ?o } }" ] ;',
    )
    with pytest.raises(GuidelineError, match=r"kinds\.ttl: SPARQL constraint .*SERVICE"):
        CompiledShapes(Graph().parse(data=fetching, format="turtle"), source="kinds.ttl")


def test_a_rule_file_that_fetches_is_refused(tmp_path: Path) -> None:
    rule = tmp_path / "99-fetch.rq"
    rule.write_text("CONSTRUCT { ?s a ?o } WHERE { SERVICE <http://127.0.0.1:9/> { ?s a ?o } }", encoding="utf-8")
    with pytest.raises(GuidelineError, match=r"99-fetch\.rq: .*SERVICE"):
        read_query(rule)
