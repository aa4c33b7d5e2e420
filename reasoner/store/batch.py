"""Batch reasoning into the cohort store: many patients evaluated in worker processes (or on a Dask cluster),
written by one process.

    summary = batch(["cohort/"], "store/", processes=4)
    summary = batch(["cohort/"], "http://127.0.0.1:7878", dask="tcp://scheduler:8786")   # a server, a cluster
    print(summary.done, summary.invalid, summary.patients_per_s)

Inputs are patient files (.ttl, .nt, .jsonld, .json), directories searched recursively for them, or N-Quads (.nq)
and TriG (.trig) files holding one patient per named graph (each graph's quads written together). They are planned
first (a dataset file that cannot be parsed, or splits a graph, fails the whole batch before anything is written),
then dealt in chunks to workers: `evaluate` loads, skolemizes and evaluates a chunk with recommend_many and returns,
per input, the patient's graphs ready to store or the reason it was refused. The parent writes each chunk, in input
order, in one all-or-nothing step (reasoner.store.cohort.write_patients), so the store never holds half a patient
and its contents do not depend on the number of processes. `evaluate` is a plain function of picklable arguments:
a cluster scheduler runs it in place of the local process pool (`dask=ADDRESS`, or any concurrent.futures `executor`).
"""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from datetime import date
from itertools import islice
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from reasoner._process import die_with_parent
from reasoner._runtime import settle_heap
from reasoner.engine.plausibility import check_evaluation_date
from reasoner.errors import InputError, ReasonerError
from reasoner.input.load import load
from reasoner.input.patient import Patient
from reasoner.knowledge.guideline import Guideline, load_guideline
from reasoner.output.result import Recommendations
from reasoner.pipeline import JURISDICTIONS, chunked, recommend_many
from reasoner.store.cohort import PatientGraphs, open_store, patient_graphs, skolemize, write_guideline, write_patients
from reasoner.store.counts import fold

__all__ = ["BatchSummary", "Invalid", "Outcome", "Progress", "WorkItem", "batch", "evaluate", "plan"]

PATIENT_SUFFIXES = (".ttl", ".nt", ".jsonld", ".json")
DATASET_FORMATS = {".nq": ox.RdfFormat.N_QUADS, ".trig": ox.RdfFormat.TRIG}


@dataclass(frozen=True)
class WorkItem:
    """One patient to evaluate: a file, or N-Triples text cut from a dataset file; `error` if already refused."""

    source: str
    path: str | None = None
    data: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What became of one input: the patient's graphs to store, or why it was refused."""

    source: str
    patient: str | None
    graphs: PatientGraphs | None
    error: str | None


@dataclass(frozen=True)
class Invalid:
    source: str
    reason: str


@dataclass(frozen=True)
class Progress:
    """Reported after each input is written or refused."""

    processed: int
    total: int
    done: int
    invalid: int
    source: str


@dataclass
class BatchSummary:
    done: int
    invalid: list[Invalid]
    elapsed: float
    store: str
    guideline_version: str
    processes: int
    total: int = field(default=0)
    writing: float = field(default=0.0)  # seconds of `elapsed` spent writing to the store and compacting it
    compacting: float = field(default=0.0)  # seconds of `writing` spent compacting the store at the end

    @property
    def patients_per_s(self) -> float:
        """Patients evaluated and stored per second of wall time (guideline loading and worker start included)."""
        return self.done / self.elapsed if self.elapsed > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "store": self.store,
            "guideline_version": self.guideline_version,
            "total": self.total,
            "done": self.done,
            "invalid": [{"source": i.source, "reason": i.reason} for i in self.invalid],
            "elapsed_s": round(self.elapsed, 3),
            "writing_s": round(self.writing, 3),
            "compacting_s": round(self.compacting, 3),
            "patients_per_s": round(self.patients_per_s, 2),
            "processes": self.processes,
        }


def batch(
    inputs: Iterable[str | Path],
    store_path: str | Path,
    *,
    processes: int = 1,
    as_of: date | None = None,
    jurisdiction: str = "US",
    progress: Callable[[Progress], None] | None = None,
    guidelines: Sequence[Path | str] = (),
    cache_root: Path | None = None,
    chunk_size: int = 256,
    executor: Executor | None = None,
    dask: str | None = None,
) -> BatchSummary:
    """Evaluate every patient in `inputs` against the guideline modules under `guidelines` (default: the bundled ones;
    see load_guideline) in `processes` worker processes (1: in this process), and store each in its named graphs at
    `store_path`: a directory (created if needed) or the URL of a SPARQL 1.1 server (see open_store). Patients are
    evaluated and written in chunks of at most `chunk_size` (fewer when the cohort is small, so that every worker
    gets several), each chunk in one all-or-nothing write; an embedded store is compacted at the end. A patient that
    cannot be read or is invalid is reported in the summary, never stored. `progress`, if given, is called after
    each input (once its chunk is written); an exception it raises stops the batch (everything written until then
    stays whole, and running the batch again completes it). The chunks run on the Dask cluster whose scheduler is at
    `dask` (distributed.Client(dask)), or on `executor`, any concurrent.futures.Executor, instead of local
    processes."""
    if jurisdiction not in JURISDICTIONS:
        raise ReasonerError(f"unknown jurisdiction {jurisdiction!r}; choose one of {', '.join(JURISDICTIONS)}")
    if as_of is not None:
        check_evaluation_date(as_of, what="as-of date")
    if dask is not None and executor is not None:
        raise ReasonerError("give a Dask scheduler address or an executor, not both")
    started = time.perf_counter()
    items, total = plan(inputs)
    gl = load_guideline(*guidelines, cache_root=cache_root)
    done, invalid, writing = 0, [], 0.0
    root = tuple(str(Path(g).resolve()) for g in guidelines)
    cache = str(cache_root) if cache_root is not None else None
    with contextlib.ExitStack() as stack:
        workers = max(1, processes)
        if dask is not None:
            executor, workers = stack.enter_context(_dask_executor(dask))
        size = max(1, min(chunk_size, -(-total // (4 * workers))))  # a small cohort: still several chunks per worker
        outcomes = _outcomes(gl, items, workers, size, (as_of, jurisdiction, root, cache), executor)
        store = stack.enter_context(contextlib.closing(open_store(store_path)))
        stack.enter_context(contextlib.closing(outcomes))
        write_guideline(store, gl)
        first: dict[str, str] = {}  # patient IRI -> the input it was first read from
        for found in outcomes:
            chunk = [_first_of_its_patient(outcome, first) for outcome in found]
            begun = time.perf_counter()
            write_patients(store, [o.graphs for o in chunk if o.graphs is not None])
            writing += time.perf_counter() - begun
            for outcome in chunk:
                if outcome.graphs is not None:
                    done += 1
                else:
                    invalid.append(Invalid(outcome.source, outcome.error or "refused"))
                if progress is not None:
                    progress(Progress(done + len(invalid), total, done, len(invalid), outcome.source))
        begun = time.perf_counter()
        fold(store)  # one count graph: what each chunk's write added, summed
        store.optimize()
        compacting = time.perf_counter() - begun
    elapsed = time.perf_counter() - started
    return BatchSummary(
        done, invalid, elapsed, str(store_path), gl.version_iri, workers, total, writing + compacting, compacting
    )


def _first_of_its_patient(outcome: Outcome, first: dict[str, str]) -> Outcome:
    """`outcome`, or its refusal when an earlier input of the batch held the same patient IRI: one patient is one set
    of named graphs, and a later input must not silently replace an earlier one (the first is kept). An input
    refused for its own reason keeps that reason."""
    if outcome.patient is None:
        return outcome
    earlier = first.get(outcome.patient)
    if earlier is None:
        first[outcome.patient] = outcome.source
    if earlier is None or outcome.graphs is None:
        return outcome
    reason = f"{outcome.source}: patient {outcome.patient} was already read from {earlier}; one input per patient"
    return replace(outcome, graphs=None, error=reason)


@contextlib.contextmanager
def _dask_executor(address: str) -> Iterator[tuple[Executor, int]]:
    """A concurrent.futures view of the Dask cluster at `address`, and how many tasks it runs at once."""
    try:  # an optional dependency, untyped: reached through Any
        distributed: Any = importlib.import_module("distributed")
    except ImportError as exc:
        raise ReasonerError("--dask needs the distributed package: pip install 'guideline-reasoner[dask]'") from exc
    try:
        client = distributed.Client(address, timeout="30s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise ReasonerError(f"cannot reach the Dask scheduler at {address}: {exc}") from exc
    with client:
        yield client.get_executor(), max(1, sum(client.nthreads().values()))


# -- planning -------------------------------------------------------------------------------------------------


def plan(inputs: Iterable[str | Path]) -> tuple[Iterator[WorkItem], int]:
    """The work items for `inputs`, lazily, and how many there are. Raises InputError for an input that does not
    exist, or a dataset file that cannot be parsed or splits a graph."""
    sources: list[tuple[Path, int]] = []  # (file, graphs in it; 0 for a patient file)
    for given in inputs:
        path = Path(given)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in PATIENT_SUFFIXES)
            sources.extend((p, 0) for p in found)
        elif path.is_file():
            suffix = path.suffix.lower()
            sources.append((path, _count_graphs(path) if suffix in DATASET_FORMATS else 0))
        else:
            raise InputError(f"{path}: no such file or directory")
    total = sum(n or 1 for _, n in sources)
    return _items(sources), total


def _items(sources: list[tuple[Path, int]]) -> Iterator[WorkItem]:
    for path, _ in sources:
        if path.suffix.lower() in DATASET_FORMATS:
            yield from _dataset_items(path)
        else:
            yield WorkItem(str(path), path=str(path))


def _graph_runs(path: Path) -> Iterator[tuple[ox.NamedNode | ox.BlankNode | ox.DefaultGraph, list[ox.Triple]]]:
    """Each run of consecutive quads of one graph, in file order."""
    current: ox.NamedNode | ox.BlankNode | ox.DefaultGraph | None = None
    triples: list[ox.Triple] = []
    try:
        for quad in ox.parse(path=str(path), format=DATASET_FORMATS[path.suffix.lower()]):
            if quad.graph_name != current:
                if current is not None:
                    yield current, triples
                current, triples = quad.graph_name, []
            triples.append(quad.triple)
    except (SyntaxError, ValueError, OSError) as exc:
        raise InputError(f"{path}: cannot read the dataset: {exc}") from exc
    if current is not None:
        yield current, triples


def _count_graphs(path: Path) -> int:
    seen: set[str] = set()
    for name, _ in _graph_runs(path):
        key = str(name)
        if key in seen:
            raise InputError(f"{path}: the quads of graph {key} are not written together; group them per graph")
        seen.add(key)
    return len(seen)


def _dataset_items(path: Path) -> Iterator[WorkItem]:
    for name, triples in _graph_runs(path):
        if isinstance(name, ox.DefaultGraph):
            yield WorkItem(f"{path} (default graph)", error=f"{path}: triples outside a named graph are not a patient")
            continue
        text = (ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"").decode("utf-8")
        yield WorkItem(f"{path} graph {name}", data=text)


# -- evaluating -----------------------------------------------------------------------------------------------


def evaluate(
    items: list[WorkItem],
    *,
    as_of: date | None,
    jurisdiction: str,
    guidelines: tuple[str, ...] = (),
    cache_root: str | None = None,
) -> tuple[str, list[Outcome]]:
    """Load, skolemize and evaluate `items` against the guideline modules under `guidelines` (default: the
    bundled ones); return the guideline's content hash and one Outcome per item, in order."""
    gl = load_guideline(*guidelines, cache_root=Path(cache_root) if cache_root else None)
    outcomes: list[Outcome | None] = [None] * len(items)
    loaded: list[tuple[int, Patient]] = []
    for index, item in enumerate(items):
        if item.error is not None:
            outcomes[index] = Outcome(item.source, None, None, item.error)
            continue
        try:
            patient = load(Path(item.path)) if item.path else load(item.data or "", format="nt", name=item.source)
            loaded.append((index, skolemize(patient)))
        except InputError as exc:
            outcomes[index] = Outcome(item.source, None, None, str(exc))
    found = recommend_many([p for _, p in loaded], as_of=as_of, guideline=gl, jurisdiction=jurisdiction)
    for (index, patient), result in zip(loaded, found, strict=True):
        outcomes[index] = _stored(items[index].source, patient, result)
    return gl.content_hash, [o for o in outcomes if o is not None]


def _stored(source: str, patient: Patient, result: Recommendations | InputError) -> Outcome:
    if isinstance(result, InputError):
        return Outcome(source, str(patient.iri), None, str(result))
    try:
        return Outcome(source, str(patient.iri), patient_graphs(patient, result), None)
    except InputError as exc:
        return Outcome(source, str(patient.iri), None, str(exc))


def _outcomes(
    gl: Guideline,
    items: Iterator[WorkItem],
    workers: int,
    chunk_size: int,
    options: tuple[date | None, str, tuple[str, ...], str | None],
    executor: Executor | None,
) -> Generator[list[Outcome], None, None]:
    """Every chunk's outcomes, in input order."""
    as_of, jurisdiction, root, cache = options
    chunks = chunked(items, chunk_size)
    if executor is None and workers <= 1:
        for chunk in chunks:
            yield _checked(
                gl, evaluate(chunk, as_of=as_of, jurisdiction=jurisdiction, guidelines=root, cache_root=cache)
            )
        return
    pool = executor or ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("spawn"), initializer=_start_worker, initargs=(os.getpid(),)
    )
    pending: deque[Future[tuple[str, list[Outcome]]]] = deque()

    def submit(chunk: list[WorkItem]) -> None:
        pending.append(
            pool.submit(evaluate, chunk, as_of=as_of, jurisdiction=jurisdiction, guidelines=root, cache_root=cache)
        )

    try:
        for chunk in islice(chunks, 2 * workers):  # a bounded window: memory stays flat on any cohort size
            submit(chunk)
        while pending:
            try:
                found = pending.popleft().result()
            except BrokenProcessPool as exc:
                raise ReasonerError(
                    f"a worker process died; the store holds every patient written so far: {exc}"
                ) from exc
            except ReasonerError:
                raise
            except Exception as exc:  # a cluster reports a lost worker or task its own way (distributed.KilledWorker)
                raise ReasonerError(
                    f"a worker failed ({type(exc).__name__}: {exc}); the store holds every patient written so far"
                ) from exc
            nxt = next(chunks, None)
            if nxt is not None:
                submit(nxt)
            yield _checked(gl, found)
    finally:
        if executor is None:
            pool.shutdown(wait=True, cancel_futures=True)
        else:
            for future in pending:
                future.cancel()


def _start_worker(parent: int) -> None:
    """A local worker process starts here: it dies with the batch (no orphan goes on reasoning after the batch is
    killed, even by SIGKILL; the pool starts workers from the thread that submits chunks, which runs the whole
    batch) and settles its heap."""
    die_with_parent(parent)
    settle_heap()


def _checked(gl: Guideline, found: tuple[str, list[Outcome]]) -> list[Outcome]:
    content_hash, outcomes = found
    if content_hash != gl.content_hash:
        raise ReasonerError(
            f"a worker evaluated against guideline content {content_hash[:12]}, not {gl.content_hash[:12]}: the "
            "guideline files changed during the batch (run it again), or a worker has another version installed"
        )
    return outcomes
