"""The worker pool: worker processes (reasoner.serve._worker: SPARQL over the store, or CDS Hooks calls), a bounded
queue, wall-clock timeouts, and a reserved lane for short queries.

`workers` general processes take requests in arrival order, each for up to `timeout` seconds. When `quick_timeout`
is above zero, one more process is reserved for short queries: while every general worker is busy, it takes the
earliest waiting query known to be short (one answered within `quick_timeout` before), else the earliest not known
to be long, for at most `quick_timeout` seconds. A query that outgrows it is stopped there and put back in the queue
in its place. The pool remembers queries (by text and parameters) as long when they outgrow the reserved lane or the
timeout, and as short when answered within `quick_timeout`: so long queries hold up short ones for at most
`quick_timeout` each, once, and a short query asked again goes ahead of new unknown ones. General workers run at a
lower CPU priority than the reserved one, so a short query is not starved of CPU either.

A worker that overruns its time, crashes (a segfault, an abort, out of memory) or whose client hung up is killed
and replaced in the background; the server itself never runs a query. At most `queue` queries wait; one that waits
longer than `timeout` is turned away. Every outcome is a Written answer or a Refusal with an HTTP status.
"""

from __future__ import annotations

import hashlib
import itertools
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from reasoner._process import Child, spawn
from reasoner.errors import ReasonerError
from reasoner.serve._results import Written
from reasoner.serve._worker import HookAnswer, HookCall, Job, Refusal

__all__ = ["PoolSettings", "WorkerPool"]

_GENERAL, _QUICK = "general", "quick"
_NICE = {_GENERAL: 10, _QUICK: 0}
_REMEMBERED = 4096  # queries remembered as long, and as short
_START_TIMEOUT = 60.0
_RETRY_FIRST, _RETRY_MAX = 0.5, 30.0  # seconds between attempts to replace a worker


@dataclass(frozen=True)
class PoolSettings:
    """`quick_timeout` 0: no reserved lane."""

    workers: int = 2
    timeout: float = 30.0
    quick_timeout: float = 1.0
    queue: int = 32
    memory: int = 2 << 30  # bytes of address space per worker


@dataclass(eq=False)
class _Worker(Child):
    lane: str


@dataclass(eq=False)
class _Ticket:
    seq: int
    key: str
    deadline: float


Answer = Written | HookAnswer | Refusal


class WorkerPool:
    """Worker processes of one `kind` (reasoner.serve._worker.STORE or HOOKS, started with `args`; `what` names
    what they serve, for errors); `run` answers one Job or HookCall."""

    def __init__(self, kind: str, args: tuple[str, ...], what: str, settings: PoolSettings) -> None:
        self.kind, self.args, self.what, self.settings = kind, args, what, settings
        self._cond = threading.Condition()
        self._idle: dict[str, list[_Worker]] = {_GENERAL: [], _QUICK: []}
        self._live: set[_Worker] = set()
        self._waiting: list[_Ticket] = []
        self._long: OrderedDict[str, None] = OrderedDict()
        self._short: OrderedDict[str, None] = OrderedDict()
        self._seq = itertools.count()
        self._spawners: set[threading.Thread] = set()
        self._closed = False
        lanes = [_GENERAL] * settings.workers + ([_QUICK] if settings.quick_timeout > 0 else [])
        started = [self._start(lane) for lane in lanes]
        try:
            ready = [(worker, self._ready(worker)) for worker in started]
        except ReasonerError:
            for worker in started:
                worker.kill()
            raise
        #: Whether the workers run without network access (a network namespace of their own).
        self.isolated = all(isolated for _, isolated in ready)
        for worker, _ in ready:
            self._live.add(worker)
            self._idle[worker.lane].append(worker)

    # -- answering ----------------------------------------------------------------------------------------------

    def run(self, job: Job | HookCall, *, client_gone: Callable[[], bool]) -> Answer | None:
        """Answer `job` on a worker; None if the client hung up first (its worker, if any, is killed)."""
        key = hashlib.sha256(repr(job).encode("utf-8")).hexdigest()
        with self._cond:
            if len(self._waiting) >= self.settings.queue:
                return Refusal(503, f"the server is busy: {len(self._waiting)} requests are waiting; retry later")
            ticket = _Ticket(next(self._seq), key, time.monotonic() + self.settings.timeout)
            self._waiting.append(ticket)
        while True:
            taken = self._take(ticket, client_gone)
            if not isinstance(taken, _Worker):
                return taken
            started = time.monotonic()
            outcome = self._run_on(taken, job, client_gone)
            with self._cond:
                if isinstance(outcome, _Moved) or (isinstance(outcome, Refusal) and outcome.status == 504):
                    self._short.pop(key, None)
                    _remember(self._long, key)
                elif not isinstance(outcome, Refusal) and time.monotonic() - started <= self.settings.quick_timeout:
                    _remember(self._short, key)
                if not isinstance(outcome, _Moved):
                    return outcome
                self._waiting.append(ticket)  # outgrew the reserved lane: back into the queue, in its place
                self._waiting.sort(key=lambda t: t.seq)

    def _take(self, ticket: _Ticket, client_gone: Callable[[], bool]) -> _Worker | Refusal | None:
        with self._cond:
            while True:
                worker = self._free_worker(ticket)
                if worker is not None:
                    self._waiting.remove(ticket)
                    return worker
                refusal: Refusal | None = None
                if self._closed:
                    refusal = Refusal(503, "the server is shutting down")
                elif time.monotonic() > ticket.deadline:
                    refusal = Refusal(
                        503, f"the server is busy: no worker was free for {self.settings.timeout:g} s; retry later"
                    )
                if refusal is not None or client_gone():
                    self._waiting.remove(ticket)
                    return refusal
                self._cond.wait(0.1)

    def _free_worker(self, ticket: _Ticket) -> _Worker | None:
        if self._idle[_GENERAL] and self._waiting[0] is ticket:
            return self._idle[_GENERAL].pop()
        if self._idle[_QUICK] and self._quick_next() is ticket:
            return self._idle[_QUICK].pop()
        return None

    def _quick_next(self) -> _Ticket | None:
        """The query the reserved lane takes next: the earliest known to be short, else the earliest not known to
        be long."""
        short = (t for t in self._waiting if t.key in self._short)
        unknown = (t for t in self._waiting if t.key not in self._long)
        return next(short, None) or next(unknown, None)

    def _run_on(self, worker: _Worker, job: Job | HookCall, client_gone: Callable[[], bool]) -> Answer | _Moved | None:
        budget = self.settings.timeout
        if worker.lane == _QUICK:
            budget = min(self.settings.quick_timeout, budget)
        deadline = time.monotonic() + budget
        try:
            worker.conn.send(job)
            while True:
                if worker.conn.poll(max(0.0, min(0.1, deadline - time.monotonic()))):
                    reply: Answer = worker.conn.recv()
                    self._release(worker)
                    return reply
                if client_gone():
                    self._replace(worker)
                    return None
                if time.monotonic() >= deadline:
                    self._replace(worker)
                    if worker.lane == _QUICK:
                        return _MOVED
                    return Refusal(504, f"the request ran for {budget:g} s, the time limit, and was stopped")
        except (EOFError, OSError):
            death = worker.death()
            self._replace(worker)
            if self._closed:
                return Refusal(503, "the server is shutting down")
            return Refusal(
                500,
                f"the request crashed its worker process ({death}); the server is unharmed and the worker was "
                "replaced: simplify the request (a query: ask for fewer rows)",
            )

    # -- the processes ------------------------------------------------------------------------------------------

    def _start(self, lane: str) -> _Worker:
        """Start a worker (reasoner._process.spawn: a fresh interpreter talking over a socket pair)."""
        child = spawn("reasoner.serve._worker", str(_NICE[lane]), str(self.settings.memory), self.kind, *self.args)
        return _Worker(child.process, child.conn, lane)

    def _ready(self, worker: _Worker) -> bool:
        """Wait until `worker` is ready; whether it runs without network access."""
        try:
            if not worker.conn.poll(_START_TIMEOUT):
                worker.kill()
                raise ReasonerError(f"a worker for {self.what} was not ready in {_START_TIMEOUT:g} s")
            status, detail = worker.conn.recv()
        except (EOFError, OSError):
            status, detail = "failed", f"the worker process ended ({worker.death()})"
        if status != "ready":
            worker.kill()
            raise ReasonerError(f"a worker cannot serve {self.what}: {detail}")
        return bool(detail)

    def _release(self, worker: _Worker) -> None:
        with self._cond:
            self._idle[worker.lane].append(worker)
            self._cond.notify_all()

    def _replace(self, worker: _Worker) -> None:
        """Kill `worker` and start another in its lane, in the background."""
        worker.kill()
        with self._cond:
            self._live.discard(worker)
            if self._closed:
                return
            spawner = threading.Thread(target=self._respawn, args=(worker.lane,), daemon=True)
            self._spawners.add(spawner)
        spawner.start()

    def _respawn(self, lane: str) -> None:
        """Start a worker for `lane`, retrying with a growing pause until one is ready or the pool closes: a start
        can fail for a passing reason (no memory or threads to spare on a loaded machine), and a pool that gave up
        would serve with one worker fewer for good."""
        try:
            pause = _RETRY_FIRST
            while True:
                try:
                    worker = self._start(lane)
                    self._ready(worker)
                    break
                except (ReasonerError, OSError) as exc:  # OSError: no process could be started
                    print(f"reasoner serve: cannot replace a worker: {exc}; retrying in {pause:g} s", file=sys.stderr)
                with self._cond:
                    if self._closed or self._cond.wait_for(lambda: self._closed, pause):
                        return
                pause = min(pause * 2, _RETRY_MAX)
        finally:
            with self._cond:
                self._spawners.discard(threading.current_thread())
        with self._cond:
            if not self._closed:
                self._live.add(worker)
                self._idle[lane].append(worker)
                self._cond.notify_all()
                return
        worker.kill()

    def close(self) -> None:
        """Stop every worker (queries running are killed) and wait for them to exit."""
        with self._cond:
            self._closed = True
            workers, spawners = list(self._live), list(self._spawners)
            self._live.clear()
            self._cond.notify_all()
        for spawner in spawners:
            spawner.join()
        for worker in workers:
            worker.kill()


def _remember(memory: OrderedDict[str, None], key: str) -> None:
    memory[key] = None
    memory.move_to_end(key)
    while len(memory) > _REMEMBERED:
        memory.popitem(last=False)


class _Moved:
    """The query outgrew the reserved lane and goes back to the queue."""


_MOVED = _Moved()
