"""Comunica (the JavaScript SPARQL engine, from npm) against `reasoner serve`: it sees the store's triples through the
default graph, round-trips SELECT, ASK, CONSTRUCT and DESCRIBE in each format it reads (JSON and XML results,
Turtle and N-Triples graphs), identifies the endpoint from its service description, gets an answer over the row cap
as an error (never a shorter answer), and federates a query over two endpoints into the union of their answers.

Comunica is installed with `npm ci` from tests/clients/comunica/package-lock.json into the test cache, once
(tests/clients/README.md). Without npm the tests are skipped, except under CI=true, where they fail."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from rdflib.compare import isomorphic
from rdflib.plugins.stores.sparqlstore import SPARQLStore

from reasoner.serve import Server
from reasoner.store.cohort import Rows, open_store, query
from tests.suites import cache_dir
from tests.test_serve import GR, build_store, serving

CLIENT = Path(__file__).parent / "clients" / "comunica"
MAX_ROWS = 300
RESULTS = {"Comunica's own (JSON, then XML)": None, "XML": "application/sparql-results+xml"}
GRAPHS = {"Comunica's own (Turtle)": None, "N-Triples": "application/n-triples"}
# Each pair: a SELECT over the endpoint, whose default graph is the union of the named graphs, and the same over the
# store itself (each pattern matched in any graph). Every patient with its age; the least literal of each datatype
# and language, so each kind of term the store holds makes the round trip.
SELECTS = {
    "patients": (
        GR + "SELECT ?patient ?age WHERE { ?patient a gr:Patient OPTIONAL { ?patient gr:ageYears ?age } }",
        GR + "SELECT ?patient ?age WHERE { GRAPH ?a { ?patient a gr:Patient } "
        "OPTIONAL { GRAPH ?b { ?patient gr:ageYears ?age } } }",
    ),
    "literals": (
        "SELECT ?type ?lang (MIN(?o) AS ?least) WHERE { ?s ?p ?o FILTER(isLiteral(?o)) } "
        "GROUP BY (DATATYPE(?o) AS ?type) (LANG(?o) AS ?lang)",
        "SELECT ?type ?lang (MIN(?o) AS ?least) WHERE { GRAPH ?g { ?s ?p ?o FILTER(isLiteral(?o)) } } "
        "GROUP BY (DATATYPE(?o) AS ?type) (LANG(?o) AS ?lang)",
    ),
}


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        reason = f"{name} is not installed: the Comunica client tests need Node.js and npm (Debian: nodejs, npm)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return found


def install_comunica() -> Path:
    """The folder Comunica is installed in: `npm ci` of tests/clients/comunica's lock file, kept in the test cache
    under the lock file's hash (a changed lock file is a new install)."""
    npm = _tool("npm")
    lock = (CLIENT / "package-lock.json").read_bytes()
    root = cache_dir() / f"comunica-{hashlib.sha256(lock).hexdigest()[:16]}"
    if (root / "node_modules" / "@comunica" / "query-sparql" / "package.json").is_file():
        return root
    staging = Path(tempfile.mkdtemp(dir=root.parent, prefix=".staging-"))
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(CLIENT / name, staging / name)
    command = [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"]
    done = subprocess.run(command, cwd=staging, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        shutil.rmtree(staging)
        pytest.fail(f"`npm ci` of {CLIENT / 'package-lock.json'} failed: {done.stderr.strip()}")
    try:
        staging.rename(root)  # whole or not at all
    except OSError:  # a concurrent run got there first: keep its copy
        shutil.rmtree(staging)
    return root


@pytest.fixture(scope="module")
def comunica() -> Path:
    return install_comunica()


def run(comunica: Path, text: str, *sources: str, accept: str | None = None) -> subprocess.CompletedProcess[str]:
    """Comunica's answer to `text` over `sources` (`sparql@URL` or a URL for Comunica to identify)."""
    options = ["--accept", accept] if accept else []
    command = [_tool("node"), str(CLIENT / "query.mjs"), str(comunica), *options, text, *sources]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def answers(comunica: Path, texts: list[str], *sources: str, accept: str | None = None) -> list[str]:
    """Comunica's answers to `texts`, asked at once (each run is mostly Node starting up)."""
    with ThreadPoolExecutor(len(texts)) as pool:
        return list(pool.map(lambda text: answer(comunica, text, *sources, accept=accept), texts))


def answer(comunica: Path, text: str, *sources: str, accept: str | None = None) -> str:
    done = run(comunica, text, *sources, accept=accept)
    assert done.returncode == 0, done.stderr
    return done.stdout


Solutions = list[tuple[tuple[str, str], ...]]


def solutions(comunica: Path, text: str, *sources: str, accept: str | None = None) -> Solutions:
    """The rows of a SELECT, sorted, each its bound variables with their terms in N-Triples syntax."""
    return sorted(tuple(sorted(row.items())) for row in json.loads(answer(comunica, text, *sources, accept=accept)))


def on_disk(store: Path, text: str) -> Rows | bool | Graph:
    with open_store(store, read_only=True) as opened:
        return query(opened, text)


def stored(store: Path, text: str) -> Solutions:
    """`solutions` of a SELECT over the store itself."""
    rows = on_disk(store, text)
    assert isinstance(rows, Rows)
    return sorted(tuple(sorted((k, v.n3()) for k, v in row.items() if v is not None)) for row in rows)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_store(tmp_path_factory.mktemp("comunica"), count=5)


@pytest.fixture(scope="module")
def server(store: Path) -> Iterator[Server]:
    with serving(store, timeout=20, max_rows=MAX_ROWS, workers=1) as started:
        yield started


@pytest.fixture(scope="module")
def patient(store: Path) -> URIRef:
    return URIRef(dict(stored(store, SELECTS["patients"][1])[0])["patient"].strip("<>"))


@pytest.mark.parametrize("accept", RESULTS.values(), ids=RESULTS.keys())
@pytest.mark.parametrize("select", SELECTS.values(), ids=SELECTS.keys())
def test_select_as_over_the_store(
    comunica: Path, server: Server, store: Path, select: tuple[str, str], accept: str | None
) -> None:
    over_endpoint, over_graphs = select
    expected = stored(store, over_graphs)
    assert solutions(comunica, over_endpoint, f"sparql@{server.url}sparql", accept=accept) == expected


def test_the_selects_see_every_patient_and_every_kind_of_literal(store: Path) -> None:
    patients = stored(store, SELECTS["patients"][1])
    assert len(patients) == 5 and all(len(row) == 2 for row in patients)  # each with an age
    kinds = {(dict(row)["type"], dict(row)["lang"]) for row in stored(store, SELECTS["literals"][1])}
    english = ("<http://www.w3.org/1999/02/22-rdf-syntax-ns#langString>", '"en"')
    assert len(kinds) >= 5 and english in kinds and ("<http://www.w3.org/2001/XMLSchema#integer>", '""') in kinds


def test_comunica_identifies_the_endpoint_from_its_service_description(
    comunica: Path, server: Server, store: Path
) -> None:
    patients, over_graphs = SELECTS["patients"]
    assert solutions(comunica, patients, f"{server.url}sparql") == stored(store, over_graphs)


@pytest.mark.parametrize("accept", RESULTS.values(), ids=RESULTS.keys())
def test_ask(comunica: Path, server: Server, patient: URIRef, accept: str | None) -> None:
    asked = [GR + f"ASK {{ <{patient}> a gr:Patient }}", GR + f"ASK {{ <{patient}x> a gr:Patient }}"]
    assert answers(comunica, asked, f"sparql@{server.url}sparql", accept=accept) == ["true\n", "false\n"]


@pytest.mark.parametrize("accept", GRAPHS.values(), ids=GRAPHS.keys())
def test_construct_and_describe_as_rdflib_gets_them(
    comunica: Path, server: Server, store: Path, patient: URIRef, accept: str | None
) -> None:
    rdflib = Graph(store=SPARQLStore(server.url + "sparql"))
    built = f"CONSTRUCT {{ <{patient}> ?p ?o }} WHERE {{ <{patient}> ?p ?o }}"
    on_store = on_disk(store, f"CONSTRUCT {{ <{patient}> ?p ?o }} WHERE {{ GRAPH ?g {{ <{patient}> ?p ?o }} }}")
    assert isinstance(on_store, Graph) and len(on_store) > 5
    constructed, described = (
        Graph().parse(data=text, format="nt")
        for text in answers(comunica, [built, f"DESCRIBE <{patient}>"], f"sparql@{server.url}sparql", accept=accept)
    )
    assert set(constructed) == set(on_store) == set(rdflib.query(built).graph or ())
    by_rdflib = rdflib.query(f"DESCRIBE <{patient}>").graph
    assert by_rdflib is not None and isomorphic(described, by_rdflib) and set(on_store) <= set(described)


@pytest.fixture(scope="module")
def other_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_store(tmp_path_factory.mktemp("comunica-other"), count=2, seed=12)


@pytest.fixture(scope="module")
def other_server(other_store: Path) -> Iterator[Server]:
    with serving(other_store, timeout=20, max_rows=MAX_ROWS, workers=1) as started:
        yield started


def test_federation_over_two_endpoints_answers_the_union(
    comunica: Path, server: Server, other_server: Server, store: Path, other_store: Path
) -> None:
    patients, over_graphs = SELECTS["patients"]
    union = sorted(stored(store, over_graphs) + stored(other_store, over_graphs))
    assert len({dict(row)["patient"] for row in union}) == 7
    sources = (f"sparql@{server.url}sparql", f"sparql@{other_server.url}sparql")
    assert solutions(comunica, patients, *sources) == union


@pytest.mark.parametrize(
    ("text", "unit", "federated"),
    [
        ("SELECT * WHERE { ?s ?p ?o }", "rows", False),
        ("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", "triples", False),
        ("SELECT * WHERE { ?s ?p ?o }", "rows", True),
    ],
    ids=["select", "construct", "federated select"],
)
def test_an_answer_over_the_cap_is_an_error_not_a_shorter_answer(
    comunica: Path, server: Server, other_server: Server, text: str, unit: str, federated: bool
) -> None:
    sources = [f"sparql@{server.url}sparql"] + ([f"sparql@{other_server.url}sparql"] if federated else [])
    done = run(comunica, text, *sources)
    assert done.returncode == 1 and done.stdout == ""
    assert "HTTP status 422" in done.stderr and f"more than {MAX_ROWS:,} {unit}" in done.stderr
