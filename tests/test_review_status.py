"""Review status: only approved recommendations apply by default; --include-drafts applies the others, and every
output marks them as not approved. Every output names the guideline version."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from rdflib import Literal, URIRef

import reasoner
from reasoner.namespaces import GR, OWL
from tests.guideline_edits import edit

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "examples" / "seed-case.ttl"


def test_draft_advice_applies_only_on_request_and_is_marked(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "ontology", tmp_path / "ontology")
    edit(
        tmp_path / "ontology",
        "lbp/recommendations.ttl",
        "lbp:LBP-IMG-04",
        r"gr:reviewStatus\s+gr:Approved",
        "gr:reviewStatus gr:Draft",
    )
    gl = reasoner.load_guideline(tmp_path / "ontology")

    default = reasoner.recommend(SEED, guideline=gl)
    assert "LBP-IMG-04" not in default.by_identifier()

    drafts = reasoner.recommend(SEED, guideline=gl, include_drafts=True)
    mri = drafts.by_identifier()["LBP-IMG-04"]
    assert mri.review_status == "draft"
    assert next(r for r in drafts.to_json()["recommendations"] if r["identifier"] == "LBP-IMG-04")["review_status"] == (
        "draft"
    )
    line = next(x for x in drafts.to_markdown().splitlines() if "`LBP-IMG-04`" in x)
    assert "DRAFT, not approved" in line
    approved = next(x for x in drafts.to_markdown().splitlines() if "`LBP-REF-01`" in x or "`LBP-ASSESS-04`" in x)
    assert "not approved" not in approved
    html = drafts.to_html()
    assert re.search(
        r'<h3><strong class="draft">\[DRAFT, not approved\]</strong> [^<]*<span class="code">LBP-IMG-04<', html
    )
    assert html.count("not approved]</strong>") == 1
    assert mri.patient_label
    plain = next(x for x in drafts.to_markdown(audience="patient").splitlines() if mri.patient_label in x)
    assert plain.startswith("- [DRAFT, not approved] ")
    graph = drafts.to_graph()
    (node,) = graph.subjects(GR.recommendation, URIRef(mri.id))
    assert (node, GR.reviewStatus, GR.Draft) in graph


def test_every_output_names_the_guideline_version() -> None:
    result = reasoner.recommend(SEED)
    version, iri = result.guideline.version, result.guideline.version_iri
    assert iri.endswith(version)
    assert result.to_json()["guideline"]["version_iri"] == iri
    assert iri in result.to_markdown() and version in result.to_markdown()
    assert (URIRef(iri), OWL.versionInfo, Literal(version)) in result.to_graph()
