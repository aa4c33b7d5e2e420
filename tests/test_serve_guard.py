"""The query guard (reasoner.rdf.sparql_guard) on its own and behind `reasoner query`: every SERVICE spelling, update
form, FROM, oversized, deep and explosive query is refused with a clear reason, no request leaves the process (a
loopback canary server counts them), and none of the project's own queries is refused."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from reasoner._paths import data_dir
from reasoner.cli import main
from reasoner.errors import QueryError
from reasoner.rdf.sparql_guard import LIMITS, Limits, guard
from reasoner.store.cohort import open_store, query
from tests.canary import Canary, canary_fixture

SPARQL_EMPTY = b'{"head":{"vars":[]},"results":{"bindings":[]}}'  # what the canary answers a query
canary = canary_fixture(body=SPARQL_EMPTY, content_type="application/sparql-results+json", path="/sparql")


def attacks(url: str) -> dict[str, tuple[str, str]]:
    """Hostile queries by name: (query text, a word the refusal must name). `url` is where a fetch would go."""
    nested = "SELECT * WHERE " + "{" * 5000 + "?s ?p ?o" + "}" * 5000
    doubling = " ".join(f"BIND(CONCAT(?x{i}, ?x{i}) AS ?x{i + 1})" for i in range(30))
    return {
        "service": (f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}", "SERVICE"),
        "service lowercase": (f"select * where {{ service <{url}> {{ ?s ?p ?o }} }}", "SERVICE"),
        "service silent": (f"SELECT * WHERE {{ SeRvIcE SILENT <{url}> {{ ?s ?p ?o }} }}", "SERVICE"),
        "service \\u escape": (f"SELECT * WHERE {{ \\u0053ERVICE <{url}> {{ ?s ?p ?o }} }}", "SERVICE"),
        "service \\U escape": (f"SELECT * WHERE {{ \\U00000053\\u0045RVICE <{url}> {{ ?s ?p ?o }} }}", "SERVICE"),
        "service in optional": (f"SELECT * WHERE {{ OPTIONAL {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }}", "SERVICE"),
        "service in union": (
            f"SELECT * WHERE {{ {{ BIND(1 AS ?z) }} UNION {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }}",
            "SERVICE",
        ),
        "service in subquery": (
            f"SELECT * WHERE {{ {{ SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }} }}",
            "SERVICE",
        ),
        "service variable": (f"SELECT * WHERE {{ VALUES ?at {{ <{url}> }} SERVICE ?at {{ ?s ?p ?o }} }}", "SERVICE"),
        "service glued": (f"SELECT * WHERE {{ SERVICE<{url}>{{?s ?p ?o}} }}", "SERVICE"),
        "service glued to a prefixed name": (
            f"PREFIX : <{url}#> SELECT * WHERE {{ SERVICE:x {{ ?s ?p ?o }} }}",
            "SERVICE",
        ),
        "service after a comment ended by CR": (
            f"SELECT * WHERE {{ BIND(1 AS ?x) # a comment\r SERVICE <{url}> {{ ?s ?p ?o }} }}",
            "SERVICE",
        ),
        "from": (f"SELECT * FROM <{url}> WHERE {{ ?s ?p ?o }}", "FROM"),
        "from named file": ("SELECT * FROM NAMED <file:///etc/passwd> WHERE { GRAPH ?g { ?s ?p ?o } }", "FROM"),
        "from dev zero": ("ASK FROM <file:///dev/zero> { ?s ?p ?o }", "FROM"),
        "insert data": ("INSERT DATA { GRAPH <urn:g> { <urn:s> <urn:p> <urn:o> } }", "INSERT"),
        "delete where": ("DELETE WHERE { GRAPH ?g { ?s ?p ?o } }", "DELETE"),
        "load": (f"LOAD <{url}> INTO GRAPH <urn:g>", "LOAD"),
        "clear": ("CLEAR ALL", "CLEAR"),
        "create": ("CREATE GRAPH <urn:g>", "CREATE"),
        "drop": ("DROP ALL", "DROP"),
        "copy": ("COPY DEFAULT TO <urn:g>", "COPY"),
        "move": ("MOVE <urn:a> TO <urn:b>", "MOVE"),
        "add": ("ADD <urn:a> TO <urn:b>", "ADD"),
        "with": ("WITH <urn:g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", "WITH"),
        "update after a query": ("SELECT * WHERE { ?s ?p ?o } ; DROP ALL", "DROP"),
        "escaped update": ("\\u0044ROP ALL", "DROP"),
        "deep nesting": (nested, "nests"),
        "oversized": ("SELECT * WHERE { ?s ?p ?o } #" + "x" * LIMITS.max_length, "characters"),
        "string bomb": (
            f'SELECT (STRLEN(?x30) AS ?n) WHERE {{ BIND("xxxxxxxxxxxxxxxx" AS ?x0) {doubling} }}',
            "CONCAT",
        ),
        "optional explosion": ("SELECT * WHERE { ?s ?p ?o " + "OPTIONAL { ?s ?p ?o } " * 1000 + "}", "OPTIONAL"),
        "path explosion": ("SELECT * WHERE { ?s " + "/".join(["<urn:p>"] * 1000) + " ?o }", "path"),
    }


@pytest.mark.parametrize("name", list(attacks("http://127.0.0.1:9/")))
def test_every_hostile_query_is_refused_with_its_reason(name: str) -> None:
    text, reason = attacks("http://127.0.0.1:9/")[name]
    with pytest.raises(QueryError, match=reason):
        guard(text)


def test_the_canary_sees_what_an_unguarded_engine_fetches(canary: Canary) -> None:
    """Without the guard pyoxigraph does fetch SERVICE (so a silent canary below means something)."""
    before = len(canary.requests)
    text, _ = attacks(canary.url)["service silent"]
    list(ox.Store().query(text))  # type: ignore[arg-type]
    assert len(canary.requests) > before


def test_reasoner_query_refuses_them_and_nothing_leaves(
    canary: Canary, tmp_path_factory: pytest.TempPathFactory
) -> None:
    db = tmp_path_factory.mktemp("guard") / "db"
    open_store(db).close()
    before = list(canary.requests)
    for name, (text, reason) in attacks(canary.url).items():
        with open_store(db, read_only=True) as store, pytest.raises(QueryError, match=reason):
            query(store, text)
        out = CliRunner().invoke(main, ["query", text, "--store", str(db)])
        assert out.exit_code == 2 and reason in out.output, (name, out.output)
    assert canary.requests == before


@pytest.mark.parametrize(
    "text",
    [
        'SELECT ?s WHERE { ?s <urn:says> "SERVICE, LOAD and DROP ALL are words in a string" }',
        "SELECT ?s WHERE { ?s <urn:p> <http://example.org/service/insert#from> }  # SERVICE in a comment",
        "PREFIX ex: <urn:x#> SELECT ?service ?from WHERE { ?service ex:SERVICE ?from . ?from ex:load ex:drop }",
        "SELECT ?s WHERE { ?s <urn:p> ?o FILTER(?o < 3 && ?o > 1) }",
        "SELECT ?s WHERE { ?s <urn:p> '''it's a ''long'' string with SERVICE''' }",
        'SELECT (CONCAT(?a, "-", ?b) AS ?c) WHERE { ?x <urn:a> ?a ; <urn:b> ?b }',
    ],
)
def test_keywords_inside_strings_iris_comments_and_names_are_not_refused(text: str) -> None:
    guard(text)
    ox.Store().query(text)  # and the engine agrees it is a plain query


def test_the_projects_own_queries_pass() -> None:
    files = sorted((data_dir("queries")).rglob("*.rq"))
    assert len(files) > 20
    for path in files:
        guard(path.read_text(encoding="utf-8"))


def test_limits_can_be_changed() -> None:
    text = "SELECT * WHERE " + "{" * 10 + "?s ?p ?o" + "}" * 10
    guard(text)
    with pytest.raises(QueryError, match="nests 10 brackets deep; at most 5"):
        guard(text, limits=Limits(max_depth=5))
