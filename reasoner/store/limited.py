"""A research query under a time and a memory limit, as the endpoint runs one (`reasoner query`):

    text = run_limited("red-flag-prevalence", "cohort.db", timeout=30.0, memory=2 << 30)

The query runs in a child process (reasoner._process.spawn, the mechanism of the endpoint's workers) that caps its
own address space at `memory` bytes and dies with its parent; the parent kills it `timeout` seconds after handing it
the query. pyoxigraph evaluates in native code that no Python timeout interrupts, and aborts its process when an
allocation fails, so only a separate process can be stopped cleanly. A query over either limit is a QueryLimitError.
"""

from __future__ import annotations

import os
import signal
import sys
from multiprocessing.connection import Connection
from pathlib import Path

from reasoner._process import Child, die_with_parent, limit_memory, spawn
from reasoner.errors import QueryError, QueryLimitError, ReasonerError, StoreError
from reasoner.store.research import run_query

__all__ = ["main", "run_limited"]

_START_TIMEOUT = 60.0  # seconds for the child to import the reasoner, before the query's own clock starts
_OUT_OF_MEMORY = 70  # the child's exit code after a MemoryError (Oxigraph aborts instead: SIGABRT)


def run_limited(
    query: str,
    store_path: str | Path,
    *,
    fmt: str = "table",
    params: tuple[str, ...] = (),
    timeout: float,
    memory: int,
) -> str:
    """reasoner.store.research.run_query in a child process: stopped after `timeout` seconds of work, or when it
    needs more than `memory` bytes of address space (QueryLimitError either way)."""
    child = spawn(__name__, str(os.getpid()), str(memory))
    try:
        if not child.conn.poll(_START_TIMEOUT) or child.conn.recv() != "ready":
            raise StoreError(f"the query process was not ready in {_START_TIMEOUT:g} s")
        child.conn.send((query, str(store_path), fmt, params))
        if not child.conn.poll(timeout):
            raise QueryLimitError(
                "timeout", timeout, f"the query ran for {timeout:g} s, its time limit, and was stopped"
            )
        status, value = child.conn.recv()
    except (EOFError, OSError):
        raise _ended(child, memory) from None
    finally:
        child.kill()
    if status == "error":
        raise value
    return str(value)


def _ended(child: Child, memory: int) -> QueryError:
    """Why the child ended before answering: out of its memory (a MemoryError, or Oxigraph's abort), or a crash."""
    death = child.death()
    if child.process.returncode in (_OUT_OF_MEMORY, -signal.SIGABRT):
        limit = f"{memory / 2**20:g} MiB"
        return QueryLimitError(
            "memory", memory, f"the query needed more than its memory limit of {limit} and was stopped"
        )
    return QueryError(f"the query process crashed ({death}); simplify the query (ask for fewer rows)")


def main() -> None:
    """The child (started by run_limited with: socket fd, parent pid, memory bytes): limit itself, report "ready",
    answer one query with ("done", text) or ("error", the ReasonerError), then exit."""
    fd, parent, memory = sys.argv[1:]
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it kills this process
    conn = Connection(int(fd))
    die_with_parent(int(parent))
    limit_memory(int(memory))
    # Oxigraph prints "memory allocation of N bytes failed" before it aborts: the parent reports it in one message.
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stderr.fileno())
    try:
        conn.send("ready")
        query, store_path, fmt, params = conn.recv()
        try:
            conn.send(("done", run_query(query, store_path, fmt=fmt, params=params)))
        except ReasonerError as exc:
            conn.send(("error", exc))
    except MemoryError:
        os._exit(_OUT_OF_MEMORY)
