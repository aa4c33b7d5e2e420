"""A worker: a separate process that answers one request at a time, either SPARQL queries over the cohort store
(opened read-only) or CDS Hooks calls (the guideline loaded once).

The server never runs a query or reasons itself: pyoxigraph can abort or segfault its process, or run for ever in
native code that no Python timeout interrupts, and a hook call reasons over input an EHR sent; so the work runs here
and the parent kills this process when it must. Before starting the worker gives itself what the parent cannot
enforce from outside: a lower CPU priority (the reserved worker keeps the normal one), an address-space limit (a
request that asks for more memory aborts this process, not the machine), no core dumps, and — where Linux lets it —
a network namespace of its own with no interfaces, so even a query that slipped past the guard could not reach any
host, loopback included.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import pyoxigraph as ox

from reasoner._process import limit_memory, watch_parent
from reasoner.errors import QueryError, ReasonerError
from reasoner.rdf.bindings import Value, bind
from reasoner.serve._results import (
    RDF_FORMATS,
    RESULT_FORMATS,
    TooLarge,
    Written,
    write_boolean,
    write_solutions,
    write_triples,
)
from reasoner.store.backends import EmbeddedStore
from reasoner.store.cohort import open_store

__all__ = ["HOOKS", "STORE", "HookAnswer", "HookCall", "Job", "Refusal", "main"]

STORE, HOOKS = "store", "hooks"
_CLONE_NEWUSER, _CLONE_NEWNET = 0x10000000, 0x40000000


@dataclass(frozen=True)
class Job:
    """One query to answer: its text and parameters, the formats the client accepts in order of preference
    (`explicit`: asked for by name, so a format that does not fit the query is an error), the caps, and the dataset:
    the default graph is the union of the named graphs when `union`, else the store's default graph; given
    `default_graphs` or `named_graphs` (SPARQL Protocol's default-graph-uri and named-graph-uri) the dataset is
    exactly those graphs of the store."""

    text: str
    bindings: dict[str, Value] = field(default_factory=dict)
    formats: tuple[str, ...] = ()
    explicit: bool = False
    max_rows: int = 10_000
    max_bytes: int = 64 << 20
    union: bool = True
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()


@dataclass(frozen=True)
class HookCall:
    """One CDS Hooks request: the service id (None for discovery), the request body, and whether it is the
    service's feedback."""

    service: str | None
    body: bytes = b""
    feedback: bool = False


@dataclass(frozen=True)
class HookAnswer:
    """A CDS Hooks answer: the HTTP status, the JSON body, and the records the server logs (feedback)."""

    status: int
    body: dict[str, Any]
    log: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class Refusal:
    """The request was not answered: the HTTP status and a message for the client."""

    status: int
    message: str


def main() -> None:
    """The worker process (started by reasoner.serve._pool with: socket fd, nice, memory bytes, kind, then the
    kind's arguments: the store directory, or the jurisdiction and evaluation date of the CDS services): isolate,
    get ready, report ("ready", isolated) or ("failed", why), then answer each request received until None arrives
    or the socket closes."""
    fd, nice, memory, kind, *args = sys.argv[1:]
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in a terminal is the server's to handle
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    conn = Connection(int(fd))
    isolated = _isolate(int(nice), int(memory))
    try:
        answer = _store_answerer(args[0]) if kind == STORE else _hook_answerer(args[0], args[1] or None)
    except ReasonerError as exc:
        conn.send(("failed", str(exc)))
        return
    conn.send(("ready", isolated))
    watch_parent(os.getppid())  # end this worker when the server is gone, even mid-request
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        conn.send(answer(job))


# -- SPARQL ---------------------------------------------------------------------------------------------------


def _store_answerer(location: str) -> Any:
    cohort = open_store(location, read_only=True)
    assert isinstance(cohort, EmbeddedStore)
    return lambda job: _answer(cohort, job)


def _answer(cohort: EmbeddedStore, job: Job) -> Written | Refusal:
    try:
        result = _run(cohort, job)
        if isinstance(result, ox.QuerySolutions):
            fmt = _pick(job, RESULT_FORMATS, "SELECT")
            return write_solutions(result, fmt, max_rows=job.max_rows, max_bytes=job.max_bytes)
        if isinstance(result, ox.QueryBoolean):
            return write_boolean(result, _pick(job, RESULT_FORMATS, "ASK"))
        fmt = _pick(job, RDF_FORMATS, "CONSTRUCT or DESCRIBE")
        return write_triples(result, fmt, max_rows=job.max_rows, max_bytes=job.max_bytes)
    except TooLarge as exc:
        return Refusal(422, str(exc))
    except ReasonerError as exc:
        return Refusal(400, str(exc))
    except (OSError, RuntimeError, ValueError) as exc:  # raised while the answer is read
        return Refusal(500, f"the query failed: {exc}")


def _run(cohort: EmbeddedStore, job: Job) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
    """Run the job's query (already guarded, its prefixes declared) over its dataset, parameters bound as terms."""
    store = cohort.oxigraph
    try:
        probe = ox.Store().query(job.text)  # a syntax error is reported before anything runs
    except SyntaxError as exc:
        raise QueryError(f"syntax error: {exc}") from exc
    projected = {v.value for v in probe.variables} if isinstance(probe, ox.QuerySolutions) else set()
    bound = bind(job.text, job.bindings, projected)
    dataset: dict[str, Any] = {"use_default_graph_as_union": job.union}
    if job.default_graphs or job.named_graphs:
        missing = [g for g in (*job.default_graphs, *job.named_graphs) if not store.contains_named_graph(_node(g))]
        if missing:
            raise QueryError(
                f"no graph {', '.join(f'<{g}>' for g in missing)} in this store: default-graph-uri and "
                "named-graph-uri name graphs of the store (nothing is fetched)"
            )
        dataset = {
            "default_graph": [_node(g) for g in job.default_graphs],
            "named_graphs": [_node(g) for g in job.named_graphs],
        }
    try:
        return store.query(bound.text, substitutions=bound.substitutions, **dataset)
    except SyntaxError as exc:
        raise QueryError(f"syntax error: {exc}") from exc
    except (OSError, RuntimeError, ValueError) as exc:
        raise QueryError(f"the query failed: {exc}") from exc


def _node(iri: str) -> ox.NamedNode:
    try:
        return ox.NamedNode(iri)
    except ValueError as exc:
        raise QueryError(f"{iri!r} is not an IRI: {exc}") from exc


def _pick(job: Job, fits: tuple[str, ...], form: str) -> str:
    """The first format the client accepts that fits the answer ("xml" of a graph is RDF/XML), else the default."""
    for name in job.formats:
        name = "rdfxml" if name == "xml" and fits == RDF_FORMATS else name
        if name in fits:
            return name
    if job.explicit:
        raise QueryError(f"format {job.formats[0]!r} does not fit a {form} query; choose one of {', '.join(fits)}")
    return fits[0]


# -- CDS Hooks ------------------------------------------------------------------------------------------------


def _hook_answerer(jurisdiction: str, as_of: str | None) -> Any:
    from datetime import date

    from reasoner._runtime import settle_heap
    from reasoner.serve.cds_hooks import CdsHooks

    hooks = CdsHooks(jurisdiction=jurisdiction, as_of=date.fromisoformat(as_of) if as_of else None)
    settle_heap()  # a long-running process that reasons per request: the guideline is loaded now

    def answer(call: HookCall) -> HookAnswer:
        if call.service is None:
            return HookAnswer(200, hooks.discovery())
        if call.feedback:
            status, body, records = hooks.feedback(call.service, call.body)
            return HookAnswer(status, body, tuple(records))
        status, body = hooks.answer(call.service, call.body)
        return HookAnswer(status, body)

    return answer


# -- the process ----------------------------------------------------------------------------------------------


def _isolate(nice: int, memory: int) -> bool:
    """Lower the priority, cap the address space, forbid core dumps, and leave the network (True if it could)."""
    os.nice(nice)
    limit_memory(memory)
    if sys.platform != "linux":
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    # As root a new network namespace is enough; otherwise a new user namespace grants the right to make one.
    return any(libc.unshare(flags) == 0 for flags in (_CLONE_NEWNET, _CLONE_NEWUSER | _CLONE_NEWNET))
