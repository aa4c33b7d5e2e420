"""Third-party SPARQL clients against `reasoner serve`: rdflib's SPARQLStore sees the store's triples through the
default graph (the union of the named graphs) and round-trips SELECT, ASK, CONSTRUCT and DESCRIBE; SPARQLWrapper
gets DESCRIBE as a graph; `reasoner query --store http://.../sparql` (RemoteStore) answers what it answers over the
directory, and a refusal (an answer over the cap) reaches it as an error, never as a shorter answer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from rdflib import RDF, Graph, URIRef
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from rdflib.term import Node
from SPARQLWrapper import TURTLE, SPARQLWrapper

from reasoner.cli import main
from reasoner.errors import StoreError
from reasoner.serve import Server
from reasoner.store.cohort import open_store, query
from tests.test_serve import GR, build_store, serving

MAX_ROWS = 5000
GR_PATIENT = URIRef("https://w3id.org/guideline-reasoner/core#Patient")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_store(tmp_path_factory.mktemp("clients"), count=8)


@pytest.fixture(scope="module")
def server(store: Path) -> Iterator[Server]:
    with serving(store, timeout=20, max_rows=MAX_ROWS, workers=1) as started:
        yield started


@pytest.fixture(scope="module")
def quads(store: Path) -> set[tuple[Node, Node, Node]]:
    """Every distinct triple of the store's named graphs, as rdflib terms."""
    with open_store(store, read_only=True) as opened:
        rows = query(opened, "SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }")
    return {(s, p, o) for s, p, o in rows.rows if s is not None and p is not None and o is not None}


def test_rdflib_sparqlstore_sees_the_stores_triples_in_the_default_graph(
    server: Server, store: Path, quads: set[tuple[Node, Node, Node]]
) -> None:
    with open_store(store, read_only=True) as opened:
        stored = sum(1 for _ in opened.oxigraph)  # type: ignore[attr-defined]
    graph = Graph(store=SPARQLStore(server.url + "sparql", returnFormat="json"))
    # A COUNT: one row, whatever the cap. Oxigraph's union matches a triple once per graph holding it (the guideline
    # and its closure share a few), so it counts the store's quads, not its distinct triples.
    assert len(graph) == stored > len(quads) > MAX_ROWS
    patients = sorted(s for s, p, o in quads if p == RDF.type and o == GR_PATIENT)
    patient = patients[0]
    about = set(graph.predicate_objects(patient))
    assert about == {(p, o) for s, p, o in quads if s == patient} and about
    rows = list(graph.query(GR + "SELECT ?p WHERE { ?p a gr:Patient } ORDER BY ?p"))
    assert [r[0] for r in rows] == patients  # type: ignore[index]
    assert graph.query(GR + f"ASK {{ <{patient}> a gr:Patient }}").askAnswer is True
    built = graph.query(f"CONSTRUCT {{ <{patient}> ?p ?o }} WHERE {{ <{patient}> ?p ?o }}").graph
    assert built is not None and set(built.predicate_objects(patient)) == about
    described = graph.query(f"DESCRIBE <{patient}>").graph
    assert described is not None and about <= set(described.predicate_objects(patient))


def test_sparqlwrapper_describes_a_patient(server: Server, quads: set[tuple[Node, Node, Node]]) -> None:
    patient = min(s for s, p, o in quads if p == RDF.type and o == GR_PATIENT)
    wrapper = SPARQLWrapper(server.url + "sparql")
    wrapper.setQuery(f"DESCRIBE <{patient}>")
    wrapper.setReturnFormat(TURTLE)
    described = Graph().parse(data=wrapper.query().convert().decode(), format="turtle")
    assert {(p, o) for s, p, o in quads if s == patient} <= set(described.predicate_objects(patient))


def test_reasoner_query_over_the_endpoint_answers_as_over_the_directory(server: Server, store: Path) -> None:
    cli = CliRunner()
    for name in ("red-flag-prevalence", "urgent-advice"):
        over_http = cli.invoke(main, ["query", name, "--store", server.url + "sparql", "--format", "csv"])
        on_disk = cli.invoke(main, ["query", name, "--store", str(store), "--format", "csv"])
        assert over_http.exit_code == 0, over_http.output
        assert sorted(over_http.output.splitlines()) == sorted(on_disk.output.splitlines())
        assert name != "red-flag-prevalence" or len(on_disk.output.splitlines()) > 1  # urgent advice may be none
    table = cli.invoke(main, ["query", "urgent-advice", "--store", server.url + "sparql"])
    assert table.exit_code == 0 and "rows)" in table.output
    everything = "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }"
    with pytest.raises(StoreError, match=f"HTTP 422.*more than {MAX_ROWS:,} rows"):
        query(open_store(server.url + "sparql", read_only=True), everything)
