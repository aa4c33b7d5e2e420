"""A query worker: a separate process that opens the cohort store read-only and answers one query at a time.

The server never runs a query itself: pyoxigraph can abort or segfault its process, or run for ever in native code
that no Python timeout interrupts, so a query runs here and the parent kills this process when it must. Before
opening the store the worker gives itself what the parent cannot enforce from outside: a lower CPU priority (the
reserved worker keeps the normal one), an address-space limit (a query that asks for more memory aborts this
process, not the machine), no core dumps, and — where Linux lets it — a network namespace of its own with no
interfaces, so even a query that slipped past the guard could not reach any host, loopback included.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection

import pyoxigraph as ox

from reasoner.errors import QueryError, ReasonerError
from reasoner.rdf.bindings import Value
from reasoner.serve._results import RDF_FORMATS, RESULT_FORMATS, Written, write_boolean, write_solutions, write_triples
from reasoner.store.cohort import CohortStore, answer, open_store

__all__ = ["Job", "Refusal", "main"]

_CLONE_NEWUSER, _CLONE_NEWNET = 0x10000000, 0x40000000


@dataclass(frozen=True)
class Job:
    """One query to answer: its text and parameters, the formats the client accepts in order of preference
    (`explicit`: asked for by name, so a format that does not fit the query is an error), and the caps."""

    text: str
    bindings: dict[str, Value] = field(default_factory=dict)
    formats: tuple[str, ...] = ()
    explicit: bool = False
    max_rows: int = 10_000
    max_bytes: int = 64 << 20


@dataclass(frozen=True)
class Refusal:
    """The query was not answered: the HTTP status and a message for the client."""

    status: int
    message: str


def main() -> None:
    """The worker process (started by reasoner.serve._pool with: socket fd, store directory, nice, memory bytes):
    isolate, open the store, report ("ready", isolated) or ("failed", why), then answer each Job received with a
    Written or a Refusal until None arrives or the socket closes."""
    fd, store, nice, memory = sys.argv[1:5]
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in a terminal is the server's to handle
    conn = Connection(int(fd))
    isolated = _isolate(int(nice), int(memory))
    try:
        cohort = open_store(store, read_only=True)
    except ReasonerError as exc:
        conn.send(("failed", str(exc)))
        return
    conn.send(("ready", isolated))
    threading.Thread(target=_exit_with, args=(os.getppid(),), daemon=True).start()
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        conn.send(_answer(cohort, job))


def _answer(cohort: CohortStore, job: Job) -> Written | Refusal:
    try:
        result = answer(cohort, job.text, bindings=job.bindings)
        if isinstance(result, ox.QuerySolutions):
            fmt = _pick(job, RESULT_FORMATS, "SELECT")
            return write_solutions(result, fmt, max_rows=job.max_rows, max_bytes=job.max_bytes)
        if isinstance(result, ox.QueryBoolean):
            return write_boolean(result, _pick(job, RESULT_FORMATS, "ASK"))
        fmt = _pick(job, RDF_FORMATS, "CONSTRUCT or DESCRIBE")
        return write_triples(result, fmt, max_rows=job.max_rows, max_bytes=job.max_bytes)
    except ReasonerError as exc:
        return Refusal(400, str(exc))
    except (OSError, RuntimeError, ValueError) as exc:  # raised while the answer is read, after `answer` returned
        return Refusal(500, f"the query failed: {exc}")


def _pick(job: Job, fits: tuple[str, ...], form: str) -> str:
    """The first format the client accepts that fits the answer ("xml" of a graph is RDF/XML), else the default."""
    for name in job.formats:
        name = "rdfxml" if name == "xml" and fits == RDF_FORMATS else name
        if name in fits:
            return name
    if job.explicit:
        raise QueryError(f"format {job.formats[0]!r} does not fit a {form} query; choose one of {', '.join(fits)}")
    return fits[0]


def _isolate(nice: int, memory: int) -> bool:
    """Lower the priority, cap the address space, forbid core dumps, and leave the network (True if it could)."""
    os.nice(nice)
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if sys.platform != "linux":
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    # As root a new network namespace is enough; otherwise a new user namespace grants the right to make one.
    return any(libc.unshare(flags) == 0 for flags in (_CLONE_NEWNET, _CLONE_NEWUSER | _CLONE_NEWNET))


def _exit_with(parent: int) -> None:
    """End this worker when the server is gone, even in the middle of a query that would never return."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)
