"""Faults the cohort store survives: `reasoner batch` killed with SIGKILL at random points (every patient's graphs
wholly old or wholly new; a rerun gives the identical store), a second writer (refused at once, naming the first),
readers during writes (consistent snapshots), a write that runs out of space (the last committed state stays
readable), and backup/restore (a round trip; a truncated or altered backup is refused).

The 20-run kill loop is marked slow (`pytest -m slow tests/test_faults.py`); CI runs two kills."""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyoxigraph as ox
import pytest

import reasoner
from reasoner.errors import StoreError
from reasoner.store.backup import backup, restore
from reasoner.store.batch import batch
from reasoner.store.cohort import (
    facts_graph,
    open_store,
    patient_graphs,
    write_guideline,
    write_patients,
)
from reasoner.synth.cohort import write_cohort
from tests.conftest import evaluations_of, store_dump

OLD_DAY, NEW_DAY = date(2027, 3, 1), date(2027, 4, 1)  # after the synthetic cohort, whose facts are all of 2026
KEPT, FRESH = 30, 10  # patients stored before the batch and revised by it; patients the batch adds
CLI = [sys.executable, "-m", "reasoner.cli"]

State = tuple[frozenset[str], frozenset[str]]  # one patient's facts graph, and its evaluation graphs' quads


@dataclass(frozen=True)
class Cohort:
    old_inputs: Path  # KEPT patients
    new_inputs: Path  # the KEPT patients revised (one more fact each) and FRESH new ones
    old_store: Path  # old_inputs stored as of OLD_DAY
    new_dump: list[str]  # the old store after a complete batch of new_inputs as of NEW_DAY, sorted
    old_states: dict[str, State]
    new_states: dict[str, State]
    seconds: float  # how long the complete `reasoner batch` took


def _states(path: Path, patients: list[str], version: str) -> dict[str, State]:
    def graph(store: ox.Store, *names: str) -> frozenset[str]:
        return frozenset(str(q) for n in names for q in store.quads_for_pattern(None, None, None, ox.NamedNode(n)))

    with open_store(path, read_only=True) as opened:
        store = opened.oxigraph
        names = {str(g.value) for g in store.named_graphs()}  # type: ignore[union-attr]
        return {p: (graph(store, facts_graph(p)), graph(store, *evaluations_of(names, p))) for p in patients}


def _batch_cli(inputs: Path, store: Path, day: date, *options: str) -> subprocess.Popen[bytes]:
    command = [*CLI, "batch", str(inputs), "--store", str(store), "--as-of", day.isoformat(), *options]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Cohort:
    gl = reasoner.load_guideline()
    root = tmp_path_factory.mktemp("faults")
    old_inputs, new_inputs = root / "old", root / "new"
    write_cohort(gl, KEPT + FRESH, new_inputs, seed=77)
    old_inputs.mkdir()
    files = sorted(new_inputs.glob("*.ttl"))
    patients = [str(reasoner.load(f).iri) for f in files]
    for path, iri in zip(files[:KEPT], patients, strict=False):
        shutil.copy(path, old_inputs / path.name)
        with path.open("a") as out:  # the revision: one more fact
            out.write(f'\n<{iri}> <http://www.w3.org/2000/01/rdf-schema#comment> "revised" .\n')
    old_store = root / "old-store"
    batch([old_inputs], old_store, as_of=OLD_DAY)
    new_store = root / "new-store"
    shutil.copytree(old_store, new_store)
    started = time.perf_counter()
    child = _batch_cli(new_inputs, new_store, NEW_DAY)
    _, err = child.communicate(timeout=600)
    assert child.returncode == 0, err.decode()[-2000:]
    seconds = time.perf_counter() - started
    version = gl.module("https://w3id.org/guideline-reasoner/lbp").version_iri
    return Cohort(
        old_inputs,
        new_inputs,
        old_store,
        store_dump(new_store),
        _states(old_store, patients, version),
        _states(new_store, patients, version),
        seconds,
    )


def _kill_and_check(cohort: Cohort, work: Path, rng: random.Random) -> str:
    """Start the batch on a copy of the old store, SIGKILL it at a random moment, check every patient, rerun."""
    store = work / "store"
    shutil.copytree(cohort.old_store, store)
    delay = rng.uniform(0.2, 1.05) * cohort.seconds
    child = _batch_cli(cohort.new_inputs, store, NEW_DAY)
    try:
        child.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        child.send_signal(signal.SIGKILL)
        child.wait()
    version = reasoner.load_guideline().module("https://w3id.org/guideline-reasoner/lbp").version_iri
    found = _states(store, list(cohort.old_states), version)
    kinds = []
    for patient, state in found.items():
        assert state in (cohort.old_states[patient], cohort.new_states[patient]), f"{patient} is half-written"
        kinds.append("new" if state == cohort.new_states[patient] else "old")
    summary = batch([cohort.new_inputs], store, as_of=NEW_DAY)
    assert summary.done == KEPT + FRESH and not summary.invalid
    assert store_dump(store) == cohort.new_dump
    return f"killed after {delay:.2f}s: {kinds.count('new')} new, {kinds.count('old')} old"


def test_a_killed_batch_leaves_every_patient_whole_and_a_rerun_gives_the_same_store(
    cohort: Cohort, tmp_path: Path
) -> None:
    rng = random.Random(1)
    for run in range(2):
        (tmp_path / str(run)).mkdir()
        _kill_and_check(cohort, tmp_path / str(run), rng)


@pytest.mark.slow
def test_twenty_random_kills(cohort: Cohort, tmp_path: Path) -> None:
    rng = random.Random(2026)
    outcomes = []
    for run in range(20):
        (tmp_path / str(run)).mkdir()
        outcomes.append(_kill_and_check(cohort, tmp_path / str(run), rng))
        shutil.rmtree(tmp_path / str(run))
    print("\n".join(outcomes))


Process = tuple[int, str]  # a pid and its start time (/proc/PID/stat), so that a reused pid is not taken for it


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state, ppid, ..., start time at index 19)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _children(parent: int) -> dict[Process, str]:
    """The running child processes of `parent`, with their command lines."""
    found = {}
    for entry in Path("/proc").iterdir():
        fields = _stat(int(entry.name)) if entry.name.isdigit() else None
        if fields is not None and int(fields[1]) == parent and fields[0] not in "ZX":
            with contextlib.suppress(OSError):
                found[(int(entry.name), fields[19])] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    return found


def _running(process: Process) -> bool:
    fields = _stat(process[0])
    return fields is not None and fields[19] == process[1] and fields[0] not in "ZX"


def test_a_killed_parallel_batch_leaves_no_worker_running_and_the_next_run_cleans_up(
    cohort: Cohort, tmp_path: Path
) -> None:
    """`reasoner batch --processes 2` is killed with SIGKILL while its workers run: within a few seconds none of its
    child processes is left (they die with it), and the next batch deletes what an unfinished bulk load leaves in
    the store directory (and nothing else) and gives the store a clean run gives."""
    store = tmp_path / "store"
    shutil.copytree(cohort.old_store, store)
    child = _batch_cli(cohort.new_inputs, store, NEW_DAY, "--processes", "2")
    deadline = time.monotonic() + 60
    workers: dict[Process, str] = {}
    while sum("spawn_main" in c for c in workers.values()) < 2 and child.poll() is None:
        assert time.monotonic() < deadline, "the batch started no workers in 60 s"
        time.sleep(0.05)
        workers = _children(child.pid)
    time.sleep(1.0)  # the workers import the reasoner, load the guideline and reason
    assert child.poll() is None, "the batch ended before it could be killed"
    workers = _children(child.pid) | workers  # the multiprocessing resource tracker too
    child.send_signal(signal.SIGKILL)
    child.wait()
    killed = time.monotonic()
    while any(map(_running, workers)) and time.monotonic() < killed + 10:
        time.sleep(0.1)
    left = [workers[w] for w in workers if _running(w)]
    assert not left, f"still running {time.monotonic() - killed:.1f} s after the batch was killed: {left}"

    unfinished = store / f"bulk-{2**127 + 12345}.sst"  # Oxigraph's name for a bulk load's sorted file
    unfinished.write_bytes(b"half a bulk load")
    mine = [store / "bulk-notes.sst", store / "bulk-12.sst.bak", store / "notes.txt"]
    for path in mine:
        path.write_text("not the batch's", encoding="utf-8")
    rerun = _batch_cli(cohort.new_inputs, store, NEW_DAY, "--processes", "2")
    _, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err.decode()[-2000:]
    assert not [p.name for p in store.glob("bulk-*.sst") if p not in mine]
    assert all(p.read_text(encoding="utf-8") == "not the batch's" for p in mine)
    assert store_dump(store) == cohort.new_dump


def test_a_second_writer_fails_at_once_naming_the_first(cohort: Cohort, tmp_path: Path) -> None:
    store = tmp_path / "store"
    shutil.copytree(cohort.old_store, store)
    with open_store(store):  # this process writes
        started = time.perf_counter()
        child = _batch_cli(cohort.new_inputs, store, NEW_DAY)
        _, err = child.communicate(timeout=120)
        assert child.returncode == 4
        assert f"being written by process {os.getpid()}" in err.decode() and "one writer at a time" in err.decode()
        assert time.perf_counter() - started < 30  # interpreter start-up included; the refusal itself is immediate
        query = subprocess.run([*CLI, "query", "ASK { ?s ?p ?o }", "--store", str(store)], capture_output=True)
        assert query.returncode == 4 and b"being written by" in query.stderr  # reading now would be unsafe
        with pytest.raises(StoreError, match="being written"):
            backup(store, tmp_path / "backup.nq")
    assert store_dump(store) == store_dump(cohort.old_store)
    with open_store(store):  # released on close
        pass


def test_readers_during_writes_see_each_patient_whole(cohort: Cohort) -> None:
    """A reader thread queries the store while the writer replaces every patient again and again (new patients by
    bulk load, stored ones by update): each answer shows each patient absent, wholly old or wholly new."""
    gl = reasoner.load_guideline()
    old = [patient_graphs(p, r) for p, r in _evaluated(cohort.old_inputs, OLD_DAY)]
    new = [patient_graphs(p, r) for p, r in _evaluated(cohort.new_inputs, NEW_DAY)]
    names = {g for record in old + new for g in record.graphs}
    store = open_store()
    write_guideline(store, gl)
    done, answers, failures = threading.Event(), [], []

    def read() -> None:
        while not done.is_set():
            try:
                rows = store.oxigraph.query("SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }")
                answers.append([(r[0].value, f"{r[1]} {r[2]} {r[3]}") for r in rows if r[0].value in names])
            except Exception as exc:  # a failing read is a failure too
                failures.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for _ in range(4):
            write_patients(store, old)
            write_patients(store, new)
    finally:
        done.set()
        reader.join()
    assert not failures and len(answers) >= 2
    # The states each patient's graphs pass through, write after write: one write replaces a patient's facts graph
    # and the one evaluation it carries (the evaluation at the other date stays).
    steps: list[dict[str, set[str]]] = [{}]
    for _ in range(4):
        for records in (old, new):
            step = dict(steps[-1])
            step.update({g: _triples(r.body, g) for r in records for g in r.graphs})
            steps.append(step)
    mine: dict[str, list[str]] = {}
    for record in old + new:
        mine.setdefault(record.patient, []).extend(g for g in record.graphs if g not in mine.get(record.patient, []))
    for answer in answers:
        seen: dict[str, set[str]] = {}
        for graph, triple in answer:
            seen.setdefault(graph, set()).add(triple)
        for patient, graphs in mine.items():
            state = [seen.get(g, set()) for g in graphs]
            allowed = [[step.get(g, set()) for g in graphs] for step in steps]
            assert state in allowed, f"{patient} is half-written in a snapshot"


def _evaluated(inputs: Path, day: date) -> list[tuple[reasoner.Patient, reasoner.Recommendations]]:
    patients = [reasoner.input.patient.skolemize(reasoner.load(f)) for f in sorted(inputs.glob("*.ttl"))]
    results = reasoner.recommend_many(patients, as_of=day)
    return [(p, r) for p, r in zip(patients, results, strict=True) if isinstance(r, reasoner.Recommendations)]


def _triples(body: str, graph: str) -> set[str]:
    """The triples of `graph` in a PatientGraphs body (TriG `GRAPH <g> { ... }` blocks of N-Triples)."""
    store = ox.Store()
    store.load(body.encode("utf-8"), format=ox.RdfFormat.TRIG)
    return {
        f"{q.subject} {q.predicate} {q.object}" for q in store.quads_for_pattern(None, None, None, ox.NamedNode(graph))
    }


_LIMITED = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a file may not grow past the limit: writes fail as on a full disk
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[1]), resource.RLIM_INFINITY))
from reasoner.cli import main
sys.argv = ["reasoner", *sys.argv[2:]]
main()
"""


def test_a_write_that_runs_out_of_space_leaves_the_last_committed_state_readable(
    cohort: Cohort, tmp_path: Path
) -> None:
    """The batch runs with RLIMIT_FSIZE at 1 MiB: the kernel refuses to grow any file further (EFBIG, as ENOSPC on a
    full disk), so the store's write-ahead log cannot take the batch. The batch fails with a clear error; the store
    still opens, each patient as last committed (wholly old, or wholly new if its write went through before the
    failure); with space again, a rerun completes it."""
    store = tmp_path / "store"
    shutil.copytree(cohort.old_store, store)
    with open_store(store) as settled:  # fold the old write-ahead log into sorted files, as a long-lived store has
        settled.optimize()
    command = [sys.executable, "-c", _LIMITED, str(1 << 20), "batch", str(cohort.new_inputs), "--store", str(store)]
    done = subprocess.run([*command, "--as-of", NEW_DAY.isoformat()], capture_output=True, timeout=600)
    assert done.returncode == 4, done.stderr.decode()[-2000:]
    assert b"File too large" in done.stderr and b"Traceback" not in done.stderr
    version = reasoner.load_guideline().module("https://w3id.org/guideline-reasoner/lbp").version_iri
    for patient, state in _states(store, list(cohort.old_states), version).items():  # it opens, and is whole
        assert state in (cohort.old_states[patient], cohort.new_states[patient]), f"{patient} is half-written"
    batch([cohort.new_inputs], store, as_of=NEW_DAY)
    assert store_dump(store) == cohort.new_dump


def test_backup_and_restore_round_trip_and_refuse_a_damaged_backup(cohort: Cohort, tmp_path: Path) -> None:
    file, restored = tmp_path / "cohort.nq", tmp_path / "restored"
    done = subprocess.run([*CLI, "backup", str(cohort.old_store), str(file)], capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr.decode()
    done = subprocess.run([*CLI, "restore", str(file), str(restored)], capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr.decode()
    assert store_dump(restored) == store_dump(cohort.old_store)
    data = file.read_bytes()
    (tmp_path / "truncated.nq").write_bytes(data[: len(data) // 2])
    (tmp_path / "altered.nq").write_bytes(data.replace(b"revised", b"REVISED").replace(b"<https://", b"<http://", 1))
    for name, reason in (("truncated.nq", "not a complete backup"), ("altered.nq", "damaged")):
        with pytest.raises(StoreError, match=reason):
            restore(tmp_path / name, tmp_path / f"from-{name}")
        assert not (tmp_path / f"from-{name}").exists()
    with pytest.raises(StoreError, match="not empty"):
        restore(file, restored)
    assert store_dump(restored) == store_dump(cohort.old_store)
    assert backup(restored, tmp_path / "again.nq") == len(store_dump(cohort.old_store))
