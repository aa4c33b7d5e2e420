"""The cohort store on a SPARQL 1.1 server: a real Oxigraph server (the `oxigraph` package's CLI) on 127.0.0.1,
started and stopped here. A batch written to it holds exactly what the same batch writes to an embedded store (read
back through the server's Graph Store Protocol endpoint, not through our client), reruns are idempotent, research
queries give the same rows, and a server that is down or refuses a request is an error naming its URL."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from rdflib import Graph

import reasoner
from reasoner.cli import main
from reasoner.errors import QueryError, StoreError
from reasoner.knowledge.guideline import Guideline
from reasoner.namespaces import GR
from reasoner.store.batch import batch
from reasoner.store.cohort import (
    RemoteStore,
    Rows,
    derived_graph,
    facts_graph,
    open_store,
    query,
    serialize_query,
    write_patient,
)
from reasoner.store.counts import COUNTS
from reasoner.store.research import queries
from reasoner.synth.cohort import synthetic_patients, write_cohort
from tests.conftest import store_dump

SEED = 515
COUNT = 8


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _oxigraph() -> str:
    found = shutil.which("oxigraph") or shutil.which("oxigraph", path=str(Path(sys.executable).parent))
    assert found, "the oxigraph CLI is missing: pip install -e '.[test]' installs it"
    return found


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[str]:
    """An empty Oxigraph server on 127.0.0.1; its base URL."""
    port = _free_port()
    log = (tmp_path / "server.log").open("wb")
    child = subprocess.Popen(
        [_oxigraph(), "serve", "--location", str(tmp_path / "server"), "--bind", f"127.0.0.1:{port}"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{url}/query?query=ASK%7B%7D", timeout=1).close()
                break
            except OSError:
                assert child.poll() is None, (tmp_path / "server.log").read_text()
                assert time.monotonic() < deadline, "the Oxigraph server did not start within 30 s"
                time.sleep(0.1)
        yield url
    finally:
        child.terminate()
        child.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def guideline() -> Guideline:
    return reasoner.load_guideline()


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory, guideline: Guideline) -> Path:
    root = tmp_path_factory.mktemp("cohort")
    write_cohort(guideline, COUNT, root, seed=SEED)
    (root / "zz-unreadable.ttl").write_text("not turtle <")
    return root


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory, cohort: Path) -> Path:
    path = tmp_path_factory.mktemp("embedded") / "store"
    summary = batch([cohort], path)
    assert summary.done == COUNT and len(summary.invalid) == 1
    return path


def _server_dump(url: str) -> list[str]:
    """Every quad on the server, read with a Graph Store Protocol GET of the whole dataset."""
    request = urllib.request.Request(f"{url}/store", headers={"Accept": "application/n-quads"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return sorted(str(q) for q in ox.parse(response.read(), format=ox.RdfFormat.N_QUADS))


def test_a_batch_to_a_server_stores_exactly_what_an_embedded_store_holds(
    server: str, cohort: Path, embedded: Path
) -> None:
    summary = batch([cohort], server, chunk_size=3)
    assert summary.done == COUNT and [Path(i.source).name for i in summary.invalid] == ["zz-unreadable.ttl"]
    assert summary.store == server
    dump = _server_dump(server)
    assert len(dump) > 1000
    assert dump == store_dump(embedded)
    batch([cohort], server, chunk_size=5)  # a rerun, chunked differently: idempotent
    assert _server_dump(server) == dump


def test_research_queries_give_the_same_rows_on_the_server(server: str, cohort: Path, embedded: Path) -> None:
    batch([cohort], server)
    first = next(iter(synthetic_patients(reasoner.load_guideline(), 1, seed=SEED))).iri
    with open_store(server, read_only=True) as remote, open_store(embedded, read_only=True) as local:
        assert isinstance(remote, RemoteStore)
        count = 1 + 2 * len(reasoner.load_guideline().guidelines) + 2 * COUNT  # and the cohort counts' graphs
        assert remote.graphs() == local.graphs()
        assert len([g for g in remote.graphs() if not g.startswith(COUNTS)]) == count
        answered = 0
        for name, q in queries().items():
            bindings = {"patient": first} if "patient" in q.required else {}
            here, there = query(local, q.text, bindings=bindings), query(remote, q.text, bindings=bindings)
            assert isinstance(here, Rows) and isinstance(there, Rows)
            assert there.variables == here.variables, name
            assert sorted(map(str, there.rows)) == sorted(map(str, here.rows)), name
            answered += len(here) > 0
        # one evaluation per patient: the two comparisons (versions, jurisdictions) have nothing to compare
        assert answered >= len(queries()) - 4, "most research queries have answers on this cohort"
        # A projected parameter: substituted by Oxigraph locally, bound by VALUES on the server.
        text = "SELECT ?p ?sex WHERE { GRAPH ?g { ?p a gr:Patient ; gr:sex ?sex } }"
        here, there = query(local, text, bindings={"sex": GR.Female}), query(remote, text, bindings={"sex": GR.Female})
        assert isinstance(here, Rows) and isinstance(there, Rows) and len(here) > 0
        assert sorted(map(str, there.rows)) == sorted(map(str, here.rows))
        built = "CONSTRUCT { ?p a gr:Patient } WHERE { GRAPH ?g { ?p a gr:Patient } }"
        graph = query(remote, built)
        assert isinstance(graph, Graph) and len(graph) == COUNT
        assert serialize_query(remote, built, format="ntriples") == serialize_query(local, built, format="ntriples")
        assert query(remote, "ASK { GRAPH ?g { ?p a gr:Patient } }") is True
    cli = CliRunner()
    over_http = cli.invoke(main, ["query", "red-flag-prevalence", "--store", server, "--format", "csv"])
    on_disk = cli.invoke(main, ["query", "red-flag-prevalence", "--store", str(embedded), "--format", "csv"])
    assert over_http.exit_code == 0, over_http.output
    assert sorted(over_http.output.splitlines()) == sorted(on_disk.output.splitlines())


def test_writing_a_patient_replaces_exactly_its_graphs_on_the_server(
    server: str, cohort: Path, guideline: Guideline
) -> None:
    batch([cohort], server)
    before = _server_dump(server)
    patient = reasoner.input.patient.skolemize(list(synthetic_patients(guideline, 3, seed=SEED))[2])
    changed = reasoner.Patient(Graph() + patient.graph, patient.iri, "changed")
    sex = GR.Male if (patient.iri, GR.sex, GR.Female) in patient.graph else GR.Female
    changed.graph.set((patient.iri, GR.sex, sex))
    result = reasoner.recommend(changed, guideline=guideline)
    with open_store(server) as store:
        write_patient(store, changed, result)
    after = _server_dump(server)
    facts = facts_graph(str(patient.iri))
    mine = (
        f"<{facts}>",
        f"<{derived_graph(str(patient.iri), result.versions_key, result.jurisdiction, result.as_of)}>",
    )
    assert [q for q in after if not q.endswith(mine)] == [q for q in before if not q.endswith(mine)]
    fact = f"<{patient.iri}> <{GR.sex}> <{sex}> <{facts}>"
    assert fact in after and fact not in before
    assert len([q for q in after if q.endswith(f"<{facts}>")]) == len(changed.graph), "replaced, not merged"


def test_a_server_that_is_down_or_refuses_is_an_error_naming_it(server: str) -> None:
    down = f"http://127.0.0.1:{_free_port()}"
    with pytest.raises(StoreError, match=f"cannot reach the SPARQL server {down}/query"):
        query(open_store(down), "ASK { ?s ?p ?o }")
    with pytest.raises(StoreError, match=f"{down}/update"):
        open_store(down).update("INSERT DATA { <urn:a> <urn:b> <urn:c> }")
    with pytest.raises(StoreError, match=rf"{server}/update refused the update: HTTP 400"):
        open_store(server).update("INSERT DATA { <urn:a> <urn:b> ")
    with pytest.raises(QueryError, match="syntax"):  # caught before it is sent
        query(open_store(server), "SELECT WHERE {")
    with pytest.raises(StoreError, match="read-only"):
        open_store(server, read_only=True).update("INSERT DATA { <urn:a> <urn:b> <urn:c> }")
    assert _server_dump(server) == []
    result = CliRunner().invoke(main, ["query", "never-fired", "--store", down])
    assert result.exit_code == 4 and down in result.output
