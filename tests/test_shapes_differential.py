"""The compiled shapes (reasoner.shapes) against pySHACL on the same shapes file: every invalid fixture of
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
from reasoner.namespaces import RDF, SH
from reasoner.shapes import CompiledShapes, display_name
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
