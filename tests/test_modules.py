"""Guideline modules: any set of module directories loads; a module applies only to the patients in its scope;
results name each item's module and version; conflicts between modules are shown with both chains and resolved
only by rules declared in Turtle; an author's own module, kept outside the repository, works end to end."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from rdflib import URIRef

from reasoner import load_guideline, recommend
from reasoner.authoring.cases import load_case
from reasoner.cli import main
from reasoner.errors import GuidelineError
from reasoner.knowledge.guideline import Guideline
from reasoner.namespaces import GR, RDF
from reasoner.output.result import Recommendations
from reasoner.store.cohort import (
    Rows,
    derived_graph,
    open_store,
    patient_graphs,
    query,
    write_guideline,
    write_patients,
)

ROOT = Path(__file__).resolve().parent.parent
ONTOLOGY = ROOT / "ontology"
SEED = ROOT / "examples" / "seed-case.ttl"
LBP, CKD = "https://w3id.org/guideline-reasoner/lbp", "https://w3id.org/guideline-reasoner/ckd"
TOGETHER = ROOT / "tests" / "cases" / "ckd-with-lbp"  # cases that need both bundled modules
CKD_ONLY = TOGETHER / "ckd-without-back-pain-no-lbp-advice.yaml"
CONFLICT = TOGETHER / "lbp-ckd-g3a-lisinopril-nsaid-conflict.yaml"


@pytest.fixture(scope="module")
def both() -> Guideline:
    return load_guideline()


def _case(path: Path, gl: Guideline) -> Recommendations:
    case = load_case(path, guideline=gl)
    return recommend(case.patient, as_of=case.as_of, guideline=gl, include_drafts=case.include_drafts)


def _mentions(result: Recommendations, namespace: str) -> list[str]:
    """Every place the result (JSON, Turtle, both reports) names a term of `namespace`."""
    texts = {
        "json": json.dumps(result.to_json()),
        "turtle": result.to_graph().serialize(format="nt"),
        "markdown": result.to_markdown(),
        "html": result.to_html(),
    }
    return [kind for kind, text in texts.items() if namespace in text]


def test_both_bundled_modules_load_with_the_shared_vocabulary(both: Guideline) -> None:
    assert [m.iri for m in both.guidelines] == [LBP, CKD], "bundled modules load oldest first (dcterms:issued)"
    assert "https://w3id.org/guideline-reasoner/vocab" in [m.iri for m in both.modules]
    assert {r.module for r in both.recommendations.values()} == {CKD, LBP}


def test_the_seed_case_is_unchanged_by_a_second_module(both: Guideline) -> None:
    alone = recommend(SEED, guideline=load_guideline(ONTOLOGY / "lbp"))
    together = recommend(SEED, guideline=both)
    assert [r.identifier for r in together.recommendations] == [r.identifier for r in alone.recommendations]
    assert [s.identifier for s in together.suppressed] == [s.identifier for s in alone.suppressed]
    assert together.headline == alone.headline and together.missing == alone.missing
    assert [g.iri for g in together.guidelines] == [LBP] and together.guideline.iri == LBP
    assert _mentions(together, CKD + "#") == [], "the seed patient is outside the CKD module's scope"


def test_a_ckd_patient_without_back_pain_gets_nothing_of_the_back_pain_module(both: Guideline) -> None:
    result = _case(CKD_ONLY, both)
    assert result.recommendations and {r.module for r in result.recommendations} == {CKD}
    assert [g.iri for g in result.guidelines] == [CKD] and result.to_json()["guideline"]["iri"] == CKD
    assert all(s.module == CKD for s in result.suppressed)
    assert result.missing == [], "no back pain red flag is asked about for a patient outside that module's scope"
    assert _mentions(result, LBP + "#") == []
    assert "back pain" not in result.to_markdown(audience="patient").lower()


def test_each_item_names_its_module_and_version(both: Guideline) -> None:
    result = _case(CONFLICT, both)
    data = result.to_json()
    versions = {m.iri: m.version_iri for m in both.guidelines}
    assert {g["iri"] for g in data["guidelines"]} == {CKD, LBP}
    for item in data["recommendations"] + data["suppressed"]:
        assert item["module_version"] == versions[item["module"]]
    prov = result.to_graph()
    for node in prov.subjects(RDF.type, GR.PatientRecommendation):
        rec = both.recommendations[str(prov.value(node, GR.recommendation))]
        assert prov.value(node, GR.guidelineVersion) == URIRef(versions[rec.module])


def test_a_declared_conflict_shows_both_chains_and_withholds_the_yielding_advice(both: Guideline) -> None:
    result = _case(CONFLICT, both)
    (conflict,) = result.conflicts
    assert (conflict.first.identifier, conflict.second.identifier) == ("CKD-NSAID-03", "LBP-MED-01")
    assert conflict.first.module == CKD and conflict.second.module == LBP
    assert conflict.first.because and conflict.second.because, "both provenance chains"
    assert conflict.second.strength == "strong recommendation" and conflict.first.strength
    assert conflict.rule == CKD + "#KidneySafetyPrevails" and conflict.prevailing == conflict.first.id
    assert "LBP-MED-01" not in result.by_identifier()
    withheld = next(s for s in result.suppressed if s.identifier == "LBP-MED-01")
    assert withheld.by == [conflict.first.id] and withheld.by_labels == ["CKD-NSAID-03"]
    assert "## Conflicts between guidelines" in result.to_markdown() and 'id="conflicts"' in result.to_html()
    prov = result.to_graph()
    (node,) = prov.subjects(RDF.type, GR.GuidelineConflict)
    assert prov.value(node, GR.resolvedBy) == URIRef(conflict.rule)
    assert set(prov.objects(node, GR.recommendation)) == {URIRef(conflict.first.id), URIRef(conflict.second.id)}
    # The withheld side says it yielded in a conflict, not that a recommendation of its own module superseded it.
    assert withheld.reasons == ["conflict"]
    (held,) = (n for n in prov.subjects(GR.withheldRecommendation, URIRef(withheld.id)))
    assert set(prov.predicate_objects(held)) >= {(GR.yieldedTo, URIRef(conflict.first.id))}
    assert (held, GR.supersededByRecommendation, None) not in prov and (held, GR.excludedByClass, None) not in prov


def test_an_undeclared_conflict_is_shown_not_resolved(tmp_path: Path) -> None:
    ckd = tmp_path / "ckd"
    shutil.copytree(ONTOLOGY / "ckd", ckd)
    module = ckd / "module.ttl"
    text = module.read_text()
    start = text.index("ckd:KidneySafetyPrevails a gr:ConflictRule")
    module.write_text(text[:start] + text[text.index("\n\n", start) + 2 :])
    gl = load_guideline(ckd, ONTOLOGY / "lbp")
    result = _case(CONFLICT, gl)
    (conflict,) = result.conflicts
    assert conflict.rule is None and conflict.prevailing is None
    assert {"CKD-NSAID-03", "LBP-MED-01"} <= set(result.by_identifier()), "both are given; the clinician decides"
    assert "no declared rule resolves it" in result.to_markdown()


# -- an author's module, outside the repository ---------------------------------------------------------------

_MODULE = """\
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix demo: <https://example.org/demo#> .
@prefix gr: <https://w3id.org/guideline-reasoner/core#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix vann: <http://purl.org/vocab/vann/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .

<https://example.org/demo> a gr:Guideline, owl:Ontology ;
    rdfs:label "Fever work-up"@en ;
    owl:imports <https://w3id.org/guideline-reasoner/vocab> ;
    owl:versionIRI <https://example.org/demo/2026-12-06> ;
    owl:versionInfo "2026-12-06" ;
    dcterms:modified "2026-12-06"^^xsd:date ;
    vann:preferredNamespacePrefix "demo" ;
    vann:preferredNamespaceUri "https://example.org/demo#" ;
    gr:reviewStatus gr:Approved ;
    gr:scope demo:FeverPatient .

demo:FeverPatient a owl:Class ;
    rdfs:subClassOf gr:Patient ;
    rdfs:label "patient with fever"@en .

demo:FeverWorkup a gr:Assessment ;
    rdfs:label "fever work-up"@en .

demo:DEMO-01 a gr:Recommendation ;
    gr:partOf <https://example.org/demo> ;
    dcterms:identifier "DEMO-01" ;
    rdfs:label "Work up the fever"@en ;
    skos:definition "A patient with fever gets a work-up."@en ;
    gr:action gr:Assess ;
    gr:target demo:FeverWorkup ;
    gr:eligibility demo:FeverPatient ;
    gr:evidence demo:DEMO-01-ev1 ;
    gr:reviewStatus gr:Approved ;
    gr:clinicianOnly true .

demo:DEMO-01-ev1 a gr:EvidenceStatement ;
    gr:order 1 ;
    gr:source demo:SRC ;
    gr:statement "Work up a fever." ;
    gr:strength gr:StrongRecommendation .

demo:SRC a gr:Source ;
    rdfs:label "Demo source"@en ;
    dcterms:bibliographicCitation "A demonstration source." ;
    gr:jurisdiction gr:International .
"""
_FEATURE = """\
PREFIX demo: <https://example.org/demo#>
PREFIX gr: <https://w3id.org/guideline-reasoner/core#>
PREFIX vocab: <https://w3id.org/guideline-reasoner/vocab#>
CONSTRUCT { ?p a demo:FeverPatient . }
WHERE { ?p a gr:Patient ; gr:hasFinding ?r . ?r a vocab:Fever ; gr:status gr:Present . }
"""
_PATIENT = """\
@prefix gr: <https://w3id.org/guideline-reasoner/core#> .
@prefix vocab: <https://w3id.org/guideline-reasoner/vocab#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<https://example.org/p/{name}> a gr:Patient ; gr:assessedOn "2026-12-01"^^xsd:date ;
    gr:hasFinding <https://example.org/p/{name}/fever> .
<https://example.org/p/{name}/fever> a gr:FindingRecord, vocab:Fever ; gr:status gr:{status} ;
    gr:recordedOn "2026-12-01"^^xsd:date .
"""


def _case_file(name: str, status: str, expectation: str) -> str:
    body = "\n".join("  " + line for line in _PATIENT.format(name=name, status=status).splitlines())
    return f'name: "{name}"\nas_of: 2026-12-01\npatient: |\n{body}\n{expectation}\n'


@pytest.fixture
def module(tmp_path: Path) -> Path:
    where = tmp_path / "fever-module"
    (where / "features").mkdir(parents=True)
    (where / "cases").mkdir()
    (where / "module.ttl").write_text(_MODULE)
    (where / "features" / "50-demo-fever.rq").write_text(_FEATURE)
    (where / "cases" / "fever.yaml").write_text(_case_file("fever", "Present", "must: [DEMO-01]"))
    (where / "cases" / "no-fever.yaml").write_text(_case_file("no-fever", "Absent", "must_not: [DEMO-01]"))
    return where


def test_an_authors_module_from_its_own_directory(module: Path, tmp_path: Path) -> None:
    patient = tmp_path / "fever.ttl"
    patient.write_text(_PATIENT.format(name="x", status="Present"))
    runner = CliRunner()
    done = runner.invoke(main, ["recommend", str(patient), "--guideline", str(module), "--format", "json"])
    assert done.exit_code == 0, done.output
    data = json.loads(done.output)
    assert [r["identifier"] for r in data["recommendations"]] == ["DEMO-01"]
    assert data["recommendations"][0]["module_version"] == "https://example.org/demo/2026-12-06"
    assert [g["iri"] for g in data["guidelines"]] == ["https://example.org/demo"]
    tested = runner.invoke(main, ["test", "--guideline", str(module)])
    assert tested.exit_code == 0 and "2 cases: 2 passed" in tested.output, tested.output
    covered = runner.invoke(main, ["coverage", "--guideline", str(module)])
    assert covered.exit_code == 0 and "DEMO-01" in covered.output, covered.output


def test_the_environment_names_the_modules(module: Path, tmp_path: Path) -> None:
    patient = tmp_path / "fever.ttl"
    patient.write_text(_PATIENT.format(name="y", status="Present"))
    runner = CliRunner(env={"REASONER_GUIDELINES": str(module)})
    done = runner.invoke(main, ["recommend", str(patient), "--format", "json"])
    assert done.exit_code == 0, done.output
    assert [r["identifier"] for r in json.loads(done.output)["recommendations"]] == ["DEMO-01"]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("owl:imports <https://w3id.org/guideline-reasoner/vocab>", "owl:imports <https://example.org/nowhere>"),
         r"owl:imports <https://example.org/nowhere>, which no module directory given or bundled declares"),
        (("    gr:partOf <https://example.org/demo> ;\n", ""), r"DEMO-01 needs gr:partOf exactly one loaded guideline"),
        (("demo:FeverPatient a owl:Class", "<https://example.org/x> a gr:Guideline .\ndemo:FeverPatient a owl:Class"),
         r"a module declares one gr:Guideline, its own ontology"),
        (("    gr:eligibility demo:FeverPatient ;\n", "    gr:asksFor demo:FeverPatient ;\n"),
         r"DEMO-01 has gr:asksFor https://example.org/demo#FeverPatient; expected a field a loaded module"),
    ],
    ids=["unresolved-import", "recommendation-without-module", "two-guidelines", "asks-for-no-red-flag"],
)  # fmt: skip
def test_a_broken_module_is_refused_naming_what_is_wrong(module: Path, edit: tuple[str, str], message: str) -> None:
    path = module / "module.ttl"
    path.write_text(path.read_text().replace(*edit))
    with pytest.raises(GuidelineError, match=message):
        load_guideline(module)
    done = CliRunner().invoke(main, ["recommend", "--guideline", str(module)])
    assert done.exit_code == 3 and "error:" in done.output


def test_the_store_keeps_each_recommendations_module_version(both: Guideline, tmp_path: Path) -> None:
    case = load_case(CONFLICT, guideline=both)
    result = _case(CONFLICT, both)
    with open_store(tmp_path / "store") as store:
        write_guideline(store, both)
        write_patients(store, [patient_graphs(case.patient, result)])
        given = query(
            store, "SELECT ?g ?v WHERE { GRAPH ?g { ?n a gr:PatientRecommendation ; gr:guidelineVersion ?v } }"
        )
        catalogued = query(store, "SELECT ?v WHERE { GRAPH ?c { ?v a st:GuidelineGraph } }")
    assert isinstance(given, Rows) and isinstance(catalogued, Rows)
    versions = {m.version_iri for m in both.guidelines}
    assert {str(v) for v in given.column("v")} == versions
    assert {str(v) for v in catalogued.column("v")} == versions, "each module's version has its own graph"
    (graph,) = {str(g) for g in given.column("g")}
    assert graph == derived_graph(str(case.patient.iri), result.versions_key, result.jurisdiction, result.as_of)
    assert all(quote(v, safe="") in graph for v in versions), "the derived graph is named by every version applied"
