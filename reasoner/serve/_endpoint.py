"""The SPARQL 1.1 Protocol over the cohort store, read-only, and the page that uses it.

Routes: `/sparql` the endpoint (GET ?query=, POST form, POST application/sparql-query; HEAD as GET without the body;
with no query, the service description in Turtle, JSON-LD or RDF/XML), `/` the page, `/queries` the research
queries as JSON (the page's gallery), `/static/...` the page's scripts and styles.

The dataset: the default graph is the union of the store's named graphs (`Settings.union_default_graph`; off, it is
the store's own default graph, which is empty); `default-graph-uri` and `named-graph-uri` name graphs of the store
and make the dataset exactly those (a graph the store lacks is a 400: nothing is ever fetched).

Refused before any worker sees them: update requests (application/sparql-update, an `update` field) with 403; a
query using a prefix it does not declare, and anything reasoner.rdf.sparql_guard refuses, with 400. Answers come
from the worker pool (reasoner.serve._pool): 504 when the query ran out of time, 503 (with Retry-After) when the
server is too busy, 500 when the query crashed its worker, 422 when the answer is larger than the cap (never cut).
Every answer carries `X-Reasoner-Rows`.

The format is chosen by the Accept header; the `format` parameter (a name or a media type; SPARQLWrapper sends
both) only when Accept names no format this endpoint writes: json, xml, csv, tsv for SELECT and ASK; turtle,
ntriples, rdfxml (or xml) for CONSTRUCT and DESCRIBE. `param=NAME=VALUE` fields bind query variables as
`reasoner query --param` does (<...> an IRI, else a string).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import anyio
import anyio.to_thread
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, RDFS, XSD
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from reasoner.errors import QueryError
from reasoner.rdf.bindings import Value
from reasoner.rdf.sparql_guard import LIMITS, guard
from reasoner.serve._pool import Answer, PoolSettings, WorkerPool
from reasoner.serve._prefixes import declare, undeclared
from reasoner.serve._worker import STORE, HookCall, Job, Refusal
from reasoner.store.backends import PREFIXES
from reasoner.store.lock import hold_serve_lock
from reasoner.store.research import parameter, queries

__all__ = ["Endpoint", "Settings", "run_in_pool", "text"]

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
    "text/plain": "ntriples",
    "rdfxml": "rdfxml",
    "rdf+xml": "rdfxml",
    "application/rdf+xml": "rdfxml",
    "jsonld": "jsonld",
    "json-ld": "jsonld",
    "application/ld+json": "jsonld",
}
_DESCRIPTION_FORMATS = {
    "turtle": ("turtle", "text/turtle; charset=utf-8"),
    "jsonld": ("json-ld", "application/ld+json"),
    "rdfxml": ("xml", "application/rdf+xml"),
    "xml": ("xml", "application/rdf+xml"),
}
_UPDATE_FIELDS = ("update", "using-graph-uri", "using-named-graph-uri")
_SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
_FORMATS = Namespace("http://www.w3.org/ns/formats/")
_EP = Namespace("https://w3id.org/guideline-reasoner/endpoint#")
_STATIC = Path(__file__).with_name("static")


@dataclass(frozen=True)
class Settings:
    """How the server runs. Queries: `timeout` seconds a query may run (and wait for a worker); `max_rows` rows (or
    triples) in one answer, `max_bytes` about how large it may be (larger answers are refused, never cut);
    `workers` general worker processes (one more is reserved for short queries, which may hold it
    `quick_timeout` seconds); `queue` requests that may wait; `memory` bytes of address space per worker (a request
    needing more crashes its worker, answered 500); `union_default_graph`: the default graph is the union of the
    named graphs. CDS Hooks: `hook_workers` processes, `hook_timeout` seconds per call, `hook_queue` waiting calls.
    Connections (reasoner.serve._server): `head_timeout` seconds to send a request head, `body_timeout` to send
    the body and to take each part of the answer, `keep_alive` seconds an idle connection is kept,
    `max_connections` open at once (past it a request is answered 503), `backlog` connections waiting to be
    accepted, `max_body` / `max_hook_body` bytes of a request body, `max_head` bytes of a request head, `grace`
    seconds running requests get at shutdown. What a query may be is reasoner.rdf.sparql_guard.LIMITS."""

    timeout: float = 30.0
    max_rows: int = 10_000
    max_bytes: int = 64 << 20
    workers: int = 2
    quick_timeout: float = 1.0
    queue: int = 256
    memory: int = 2 << 30
    union_default_graph: bool = True
    hook_workers: int = 1
    hook_timeout: float = 30.0
    hook_queue: int = 16
    head_timeout: float = 10.0
    body_timeout: float = 30.0
    keep_alive: int = 5
    max_connections: int = 2048
    backlog: int = 2048
    max_body: int = 1 << 20
    max_hook_body: int = 5 << 20
    max_head: int = 128 << 10  # a GET carrying a query of the guard's longest, percent-encoded
    grace: int = 10


def text(status: int, message: str, **headers: str) -> Response:
    """A plain-text response: the message, one line."""
    return PlainTextResponse(message.rstrip("\n") + "\n", status, headers=headers or None)


async def run_in_pool(pool: WorkerPool, limiter: anyio.CapacityLimiter, job: Job | HookCall, request: Request) -> Any:
    """`pool.run(job)` in a thread (the pool blocks), watching for the client hanging up meanwhile; None if it did.
    A 503 at once when every place in the queue is taken."""
    if limiter.available_tokens < 1:
        return Refusal(503, f"the server is busy: {limiter.total_tokens:g} requests are running or waiting")
    gone = threading.Event()
    outcome: Answer | None = None

    async def watch() -> None:
        while (await request.receive())["type"] != "http.disconnect":
            pass
        gone.set()

    async with anyio.create_task_group() as group:
        group.start_soon(watch)
        outcome = await anyio.to_thread.run_sync(partial(pool.run, job, client_gone=gone.is_set), limiter=limiter)
        group.cancel_scope.cancel()
    return outcome


def refusal(outcome: Refusal) -> Response:
    return text(outcome.status, outcome.message, **({"Retry-After": "5"} if outcome.status == 503 else {}))


class Endpoint:
    """The endpoint's routes over the store at `store`, and the worker pool answering them. While it is open, the
    store is held against writers (reasoner.store.lock.hold_serve_lock): every query sees the same state."""

    def __init__(self, store: Path, settings: Settings) -> None:
        self.settings = settings
        self._lock = hold_serve_lock(store)
        pool = PoolSettings(settings.workers, settings.timeout, settings.quick_timeout, settings.queue, settings.memory)
        try:
            self.pool = WorkerPool(STORE, (str(store),), f"the store {store}", pool)
        except BaseException:
            self._lock.release()
            raise
        self.limiter = anyio.CapacityLimiter(settings.queue + settings.workers + 1)

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/", self.page, methods=["GET"]),
            Route("/sparql", self.sparql, methods=["GET", "POST"]),
            Route("/queries", self.examples, methods=["GET"]),
            Mount("/static", app=StaticFiles(directory=_STATIC), name="static"),
        ]

    def close(self) -> None:
        self.pool.close()
        self._lock.release()

    async def sparql(self, request: Request) -> Response:
        params: dict[str, list[str]] = {}
        for name, value in request.query_params.multi_items():
            params.setdefault(name, []).append(value)
        if request.method == "POST":
            refused = await _read_body(request, params)
            if refused is not None:
                return refused
        if any(f in params for f in _UPDATE_FIELDS):
            return _update_refused()
        found = params.get("query", [])
        accept = request.headers.get("accept", "")
        if not found:
            if request.method in ("GET", "HEAD"):
                return self._description(str(request.url.replace(query="")), accept, params.get("format", []))
            return text(400, "no query: send a query field, or a body of type application/sparql-query")
        if len(found) > 1:
            return text(400, "send one query per request")
        try:
            guard(found[0])
            lacking = undeclared(found[0])
            if lacking:
                known = [p for p in lacking if p in PREFIXES]
                hint = "".join(f" PREFIX {p}: <{PREFIXES[p]}>" for p in known)
                raise QueryError(
                    f"undeclared prefix{'es' if len(lacking) > 1 else ''} {', '.join(p + ':' for p in lacking)}: "
                    f"declare {'them' if len(lacking) > 1 else 'it'} at the top of the query"
                    + (f" ({hint.strip()})" if hint else "")
                )
            bindings: dict[str, Value] = dict(parameter(p) for p in params.get("param", []))
            formats, explicit = _formats(accept, params.get("format", []))
        except QueryError as exc:
            return text(400, f"query refused: {exc}")
        job = Job(
            found[0],
            bindings,
            formats,
            explicit,
            self.settings.max_rows,
            self.settings.max_bytes,
            self.settings.union_default_graph,
            tuple(params.get("default-graph-uri", [])),
            tuple(params.get("named-graph-uri", [])),
        )
        outcome = await run_in_pool(self.pool, self.limiter, job, request)
        if outcome is None:
            return text(499, "the client closed the connection; the query was stopped")
        if isinstance(outcome, Refusal):
            return refusal(outcome)
        return Response(outcome.body, 200, {"X-Reasoner-Rows": str(outcome.rows)}, outcome.media_type)

    async def page(self, request: Request) -> Response:
        csp = (
            "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
            "connect-src 'self'; img-src 'self' data:; font-src 'self' data:; base-uri 'none'; form-action 'none'; "
            "frame-ancestors 'none'"
        )
        return Response(_page(), 200, {"Content-Security-Policy": csp}, "text/html; charset=utf-8")

    async def examples(self, request: Request) -> Response:
        listed = [
            {
                "name": q.name,
                "question": q.question,
                "parameters": q.parameters,
                "row": q.row,
                "required": list(q.required),
                "optional": list(q.optional),
                "text": declare(q.text),
            }
            for q in queries().values()
        ]
        return Response(json.dumps(listed, indent=1), 200, media_type="application/json")

    def _description(self, url: str, accept: str, asked: list[str]) -> Response:
        """The SPARQL 1.1 Service Description of the endpoint at `url`, in the format asked for."""
        try:
            names, _ = _formats(accept, asked)
        except QueryError as exc:
            return text(400, str(exc))
        fmt, media = next((_DESCRIPTION_FORMATS[n] for n in names if n in _DESCRIPTION_FORMATS), ("turtle", ""))
        media = media or _DESCRIPTION_FORMATS["turtle"][1]
        s = self.settings
        graph = Graph()
        graph.bind("sd", _SD)
        graph.bind("ep", _EP)
        me, dataset, default = URIRef(url), BNode(), BNode()
        graph.add((me, RDF.type, _SD.Service))
        graph.add((me, _SD.endpoint, me))
        graph.add((me, _SD.supportedLanguage, _SD.SPARQL11Query))
        for name in ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV"):
            graph.add((me, _SD.resultFormat, _FORMATS[name]))
        for name in ("Turtle", "N-Triples", "RDF_XML"):
            graph.add((me, _SD.resultFormat, _FORMATS[name]))
        graph.add((me, _SD.defaultEntailmentRegime, URIRef("http://www.w3.org/ns/entailment/Simple")))
        graph.add((me, _SD.defaultDataset, dataset))
        graph.add((dataset, RDF.type, _SD.Dataset))
        graph.add((dataset, _SD.defaultGraph, default))
        graph.add((default, RDF.type, _SD.Graph))
        if s.union_default_graph:
            graph.add((me, _SD.feature, _SD.UnionDefaultGraph))
        comment = (
            "Read-only. Refused: every update form, SERVICE, FROM and FROM NAMED (use default-graph-uri and "
            "named-graph-uri, which name graphs of this store), and prefixes a query does not declare. "
            + (
                "The default graph is the union of the named graphs."
                if s.union_default_graph
                else "The default graph is empty: query the named graphs with GRAPH patterns."
            )
            + " An answer larger than the caps is refused (HTTP 422), never cut."
        )
        graph.add((me, RDFS.comment, Literal(comment)))
        for prop, value, kind in (
            (_EP.timeoutSeconds, s.timeout, XSD.decimal),
            (_EP.maxRows, s.max_rows, XSD.integer),
            (_EP.maxResponseBytes, s.max_bytes, XSD.integer),
            (_EP.maxQueryLength, LIMITS.max_length, XSD.integer),
            (_EP.maxNesting, LIMITS.max_depth, XSD.integer),
        ):
            graph.add((me, prop, Literal(value, datatype=kind)))
        graph.add((me, _EP.workersWithoutNetwork, Literal(self.pool.isolated)))
        return Response(graph.serialize(format=fmt, encoding="utf-8"), 200, media_type=media)


async def _read_body(request: Request, params: dict[str, list[str]]) -> Response | None:
    """Add a POST body's fields (a form) or query (a direct body) to `params`; a refusal if the body cannot be."""
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind == "application/sparql-update":
        return _update_refused()
    try:
        body = (await request.body()).decode("utf-8")
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
            f"cannot read a body of type {kind or '(none)'}: POST a form (application/x-www-form-urlencoded) or a "
            "query (application/sparql-query)",
        )
    return None


def _update_refused() -> Response:
    return text(403, "updates are refused: this SPARQL endpoint is read-only")


def _formats(accept: str, asked: list[str]) -> tuple[tuple[str, ...], bool]:
    """The formats the client accepts, best first, and whether they were named by the `format` parameter (used only
    when the Accept header names none this endpoint writes)."""
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
    if ranked:
        return tuple(name for _, _, name in sorted(ranked)), False
    if asked:
        names = tuple(_FORMAT_NAMES[a.strip().lower()] for a in asked if a.strip().lower() in _FORMAT_NAMES)
        if not names:
            raise QueryError(f"unknown format {asked[0]!r}; choose one of json, xml, csv, tsv, turtle, ntriples")
        return names, True
    return (), False


@cache
def _page() -> bytes:
    """The page, with the prefixes of the store's guideline modules (their vann declarations) filled in."""
    page = Path(__file__).with_name("page.html").read_bytes()
    return page.replace(b"__PREFIXES__", json.dumps(PREFIXES, sort_keys=True).encode())
