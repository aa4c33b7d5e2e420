"""The SPARQL 1.1 Protocol over the cohort store, read-only, and the browser page that uses it.

Routes: `/sparql` the endpoint (GET ?query=, POST form, POST application/sparql-query; with no query, GET gives the
service description), `/` the page, `/queries` the research queries as JSON (the page's examples).

Refused before any worker sees them: update requests (application/sparql-update, an `update` field) with 403;
`default-graph-uri` / `named-graph-uri` and anything reasoner.rdf.sparql_guard refuses with 400. Answers come from the
worker pool (reasoner.serve._pool): 504 when the query ran out of time, 503 when the server is too busy, 500 when
the query crashed its worker. A capped answer carries `X-Reasoner-Truncated: rows=N; cap=rows|bytes` and says so
in its body where the format has room; every answer carries `X-Reasoner-Rows`.

The format is the `format` parameter (a name or a media type; SPARQLWrapper sends both) or else the Accept header:
json, xml, csv, tsv for SELECT and ASK; turtle, ntriples, rdfxml (or xml) for CONSTRUCT and DESCRIBE.
`param=NAME=VALUE` fields bind query variables as `reasoner query --param` does (<...> an IRI, else a string).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import parse_qs

from reasoner.errors import QueryError
from reasoner.rdf.bindings import Value
from reasoner.rdf.sparql_guard import LIMITS, guard
from reasoner.serve._http import Request, Response, Route, text
from reasoner.serve._pool import PoolSettings, WorkerPool
from reasoner.serve._worker import Job, Refusal
from reasoner.store.research import parameter, queries

__all__ = ["Endpoint", "Settings"]

_FORMAT_NAMES = {
    "json": "json",
    "srj": "json",
    "application/sparql-results+json": "json",
    "application/json": "json",
    "xml": "xml",
    "srx": "xml",
    "application/sparql-results+xml": "xml",
    "application/xml": "xml",
    "text/xml": "xml",
    "csv": "csv",
    "text/csv": "csv",
    "tsv": "tsv",
    "text/tab-separated-values": "tsv",
    "turtle": "turtle",
    "ttl": "turtle",
    "n3": "turtle",
    "text/turtle": "turtle",
    "application/turtle": "turtle",
    "application/x-turtle": "turtle",
    "text/n3": "turtle",
    "ntriples": "ntriples",
    "nt": "ntriples",
    "n-triples": "ntriples",
    "application/n-triples": "ntriples",
    "rdfxml": "rdfxml",
    "rdf+xml": "rdfxml",
    "application/rdf+xml": "rdfxml",
}
_UPDATE_FIELDS = ("update", "using-graph-uri", "using-named-graph-uri")
_DATASET_FIELDS = ("default-graph-uri", "named-graph-uri")


@dataclass(frozen=True)
class Settings:
    """How the endpoint runs queries. `timeout`: seconds a query may run (and wait for a worker); `max_rows`: rows
    (or triples) in one answer; `max_bytes`: about how large an answer may be; `workers`: general worker processes
    (one more is reserved for short queries); `quick_timeout`: seconds a query may hold the reserved worker;
    `queue`: queries that may wait; `memory`: bytes of address space per worker (a query needing more crashes
    its worker, answered 500); `max_body`: bytes of a request body. What a query may be is
    reasoner.rdf.sparql_guard.LIMITS."""

    timeout: float = 30.0
    max_rows: int = 10_000
    max_bytes: int = 64 << 20
    workers: int = 2
    quick_timeout: float = 1.0
    queue: int = 32
    memory: int = 2 << 30
    max_body: int = 1 << 20


class Endpoint:
    """The endpoint's routes over the store at `store`, and the worker pool answering them."""

    def __init__(self, store: Path, settings: Settings) -> None:
        self.settings = settings
        pool = PoolSettings(settings.workers, settings.timeout, settings.quick_timeout, settings.queue, settings.memory)
        self.pool = WorkerPool(store, pool)

    def routes(self) -> dict[str, Route]:
        return {"/": self.page, "/sparql": self.sparql, "/queries": self.examples}

    def close(self) -> None:
        self.pool.close()

    def sparql(self, request: Request) -> Response:
        if request.method not in ("GET", "POST"):
            return text(405, "the SPARQL endpoint answers GET and POST only: it is read-only", Allow="GET, POST")
        params = {name: list(values) for name, values in request.params.items()}
        if request.method == "POST":
            refused = _read_body(request, params)
            if refused is not None:
                return refused
        if any(f in params for f in _UPDATE_FIELDS):
            return _update_refused()
        if any(f in params for f in _DATASET_FIELDS):
            return text(
                400,
                "default-graph-uri and named-graph-uri are refused: the dataset is the store's own named graphs "
                "(use GRAPH <name> { ... }); nothing is read from files or URLs",
            )
        found = params.get("query", [])
        if not found:
            if request.method == "GET":
                return Response(200, self._description(), "text/turtle; charset=utf-8")
            return text(400, "no query: send a query field, or a body of type application/sparql-query")
        if len(found) > 1:
            return text(400, "send one query per request")
        try:
            guard(found[0])
            bindings: dict[str, Value] = dict(parameter(p) for p in params.get("param", []))
            formats, explicit = _formats(params.get("format", []), request.headers.get("Accept", ""))
        except QueryError as exc:
            return text(400, f"query refused: {exc}")
        job = Job(found[0], bindings, formats, explicit, self.settings.max_rows, self.settings.max_bytes)
        outcome = self.pool.run(job, client_gone=request.client_gone)
        if outcome is None:
            return text(499, "the client closed the connection; the query was stopped")
        if isinstance(outcome, Refusal):
            return text(outcome.status, outcome.message, **({"Retry-After": "5"} if outcome.status == 503 else {}))
        headers = {"X-Reasoner-Rows": str(outcome.rows)}
        if outcome.truncated:
            headers["X-Reasoner-Truncated"] = f"rows={outcome.rows}; cap={outcome.truncated}"
        return Response(200, outcome.body, outcome.media_type, headers)

    def page(self, request: Request) -> Response:
        if request.method != "GET":
            return text(405, "the page answers GET only", Allow="GET")
        csp = (
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; "
            "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        )
        return Response(200, _page(), "text/html; charset=utf-8", {"Content-Security-Policy": csp})

    def examples(self, request: Request) -> Response:
        listed = [
            {
                "name": q.name,
                "question": q.question,
                "parameters": q.parameters,
                "row": q.row,
                "required": list(q.required),
                "optional": list(q.optional),
                "text": q.text,
            }
            for q in queries().values()
        ]
        return Response(200, json.dumps(listed, indent=1).encode("utf-8"), "application/json")

    def _description(self) -> bytes:
        """The SPARQL 1.1 Service Description; `<>` is the endpoint itself (the document's own URL)."""
        s = self.settings
        refused = (
            "Read-only. Refused: every update form, SERVICE, FROM and FROM NAMED, default-graph-uri and "
            "named-graph-uri. The default graph is empty: query the named graphs with GRAPH patterns."
        )
        return f"""@prefix sd: <http://www.w3.org/ns/sparql-service-description#> .
@prefix formats: <http://www.w3.org/ns/formats/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix ep: <https://w3id.org/guideline-reasoner/endpoint#> .

<> a sd:Service ;
    sd:endpoint <> ;
    sd:supportedLanguage sd:SPARQL11Query ;
    sd:resultFormat formats:SPARQL_Results_JSON, formats:SPARQL_Results_XML, formats:SPARQL_Results_CSV,
        formats:SPARQL_Results_TSV, formats:Turtle, formats:N-Triples, formats:RDF_XML ;
    sd:defaultEntailmentRegime <http://www.w3.org/ns/entailment/Simple> ;
    sd:defaultDataset [ a sd:Dataset ; sd:defaultGraph [ a sd:Graph ] ] ;
    rdfs:comment {json.dumps(refused)} ;
    ep:timeoutSeconds {s.timeout:g} ;
    ep:maxRows {s.max_rows} ;
    ep:maxResponseBytes {s.max_bytes} ;
    ep:maxQueryLength {LIMITS.max_length} ;
    ep:maxNesting {LIMITS.max_depth} ;
    ep:workersWithoutNetwork {"true" if self.pool.isolated else "false"} .
""".encode()


def _read_body(request: Request, params: dict[str, list[str]]) -> Response | None:
    """Add a POST body's fields (a form) or query (a direct body) to `params`; a refusal if the body cannot be."""
    kind = request.headers.get_content_type()
    if kind == "application/sparql-update":
        return _update_refused()
    try:
        body = request.body.decode("utf-8")
    except UnicodeDecodeError:
        return text(400, "the request body is not UTF-8")
    if kind == "application/x-www-form-urlencoded":
        for name, values in parse_qs(body, keep_blank_values=True).items():
            params.setdefault(name, []).extend(values)
    elif kind == "application/sparql-query":
        params.setdefault("query", []).append(body)
    else:
        return text(
            415,
            f"cannot read a body of type {kind}: POST a form (application/x-www-form-urlencoded) or a query "
            "(application/sparql-query)",
        )
    return None


def _update_refused() -> Response:
    return text(403, "updates are refused: this SPARQL endpoint is read-only")


def _formats(asked: list[str], accept: str) -> tuple[tuple[str, ...], bool]:
    """The formats asked for, best first, and whether they were asked by name (the `format` parameter)."""
    if asked:
        names = tuple(_FORMAT_NAMES[a.strip().lower()] for a in asked if a.strip().lower() in _FORMAT_NAMES)
        if not names:
            raise QueryError(f"unknown format {asked[0]!r}; choose one of json, xml, csv, tsv, turtle, ntriples")
        return names, True
    ranked = []
    for position, item in enumerate(accept.split(",")):
        kind, *options = (part.strip() for part in item.split(";"))
        weight = 1.0
        for option in options:
            key, _, value = option.partition("=")
            if key.strip() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if weight > 0 and kind.lower() in _FORMAT_NAMES:
            ranked.append((-weight, position, _FORMAT_NAMES[kind.lower()]))
    return tuple(name for _, _, name in sorted(ranked)), False


@cache
def _page() -> bytes:
    return (Path(__file__).with_name("page.html")).read_bytes()
