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
# Every patient with its age where it has one: over the endpoint the default graph is the union of the named graphs,
# which over the store itself is each pattern matched in any graph.
PATIENTS = GR + "SELECT ?patient ?age WHERE { ?patient a gr:Patient OPTIONAL { ?patient gr:ageYears ?age } }"
PATIENTS_IN_GRAPHS = (
    GR + "SELECT ?patient ?age WHERE { GRAPH ?a { ?patient a gr:Patient } "
    "OPTIONAL { GRAPH ?b { ?patient gr:ageYears ?age } } }"
)


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


def answer(comunica: Path, text: str, *sources: str, accept: str | None = None) -> str:
    done = run(comunica, text, *sources, accept=accept)
    assert done.returncode == 0, done.stderr
    return done.stdout


def solutions(comunica: Path, text: str, *sources: str, accept: str | None = None) -> list[tuple[str, ...]]:
    """SELECT ?patient ?age rows, sorted, each term in N-Triples syntax ("" when unbound)."""
    rows = json.loads(answer(comunica, text, *sources, accept=accept))
    return sorted((row["patient"], row.get("age", "")) for row in rows)


def graph(comunica: Path, text: str, *sources: str, accept: str | None = None) -> Graph:
    return Graph().parse(data=answer(comunica, text, *sources, accept=accept), format="nt")


def on_disk(store: Path, text: str) -> Rows | bool | Graph:
    with open_store(store, read_only=True) as opened:
        return query(opened, text)


def stored_patients(store: Path) -> list[tuple[str, ...]]:
    rows = on_disk(store, PATIENTS_IN_GRAPHS)
    assert isinstance(rows, Rows)
    return sorted((p.n3() if p else "", age.n3() if age else "") for p, age in rows.rows)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_store(tmp_path_factory.mktemp("comunica"), count=5)


@pytest.fixture(scope="module")
def server(store: Path) -> Iterator[Server]:
    with serving(store, timeout=20, max_rows=MAX_ROWS, workers=1) as started:
        yield started


@pytest.fixture(scope="module")
def patient(store: Path) -> URIRef:
    return URIRef(stored_patients(store)[0][0].strip("<>"))


@pytest.mark.parametrize("accept", RESULTS.values(), ids=RESULTS.keys())
def test_select_every_patient_as_over_the_store(comunica: Path, server: Server, store: Path, accept: str) -> None:
    expected = stored_patients(store)
    assert len({p for p, _ in expected}) == 5 and all(age for _, age in expected)
    assert solutions(comunica, PATIENTS, f"sparql@{server.url}sparql", accept=accept) == expected


def test_comunica_identifies_the_endpoint_from_its_service_description(
    comunica: Path, server: Server, store: Path
) -> None:
    assert solutions(comunica, PATIENTS, f"{server.url}sparql") == stored_patients(store)


@pytest.mark.parametrize("accept", RESULTS.values(), ids=RESULTS.keys())
def test_ask(comunica: Path, server: Server, patient: URIRef, accept: str) -> None:
    source = f"sparql@{server.url}sparql"
    assert answer(comunica, GR + f"ASK {{ <{patient}> a gr:Patient }}", source, accept=accept) == "true\n"
    assert answer(comunica, GR + f"ASK {{ <{patient}x> a gr:Patient }}", source, accept=accept) == "false\n"


@pytest.mark.parametrize("accept", GRAPHS.values(), ids=GRAPHS.keys())
def test_construct_and_describe_as_rdflib_gets_them(
    comunica: Path, server: Server, store: Path, patient: URIRef, accept: str
) -> None:
    source = f"sparql@{server.url}sparql"
    rdflib = Graph(store=SPARQLStore(server.url + "sparql"))
    built = f"CONSTRUCT {{ <{patient}> ?p ?o }} WHERE {{ <{patient}> ?p ?o }}"
    stored = on_disk(store, f"CONSTRUCT {{ <{patient}> ?p ?o }} WHERE {{ GRAPH ?g {{ <{patient}> ?p ?o }} }}")
    assert isinstance(stored, Graph) and len(stored) > 5
    constructed = graph(comunica, built, source, accept=accept)
    assert set(constructed) == set(stored) == set(rdflib.query(built).graph or ())
    described = graph(comunica, f"DESCRIBE <{patient}>", source, accept=accept)
    by_rdflib = rdflib.query(f"DESCRIBE <{patient}>").graph
    assert by_rdflib is not None and isomorphic(described, by_rdflib) and set(stored) <= set(described)


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
    union = sorted(stored_patients(store) + stored_patients(other_store))
    assert len({p for p, _ in union}) == 7
    sources = (f"sparql@{server.url}sparql", f"sparql@{other_server.url}sparql")
    assert solutions(comunica, PATIENTS, *sources) == union


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
