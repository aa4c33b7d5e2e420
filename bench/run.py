"""Benchmarks: every figure beside the naive baseline (owlrl's full closure per patient), measured in the same run.

    python bench/run.py --profile --query-runs 1 --query-timeout 60   # everything, ~45 min; bench/results.json
    python bench/run.py --cohort 1000        # the same with a small cohort store (a few minutes)
    python bench/run.py --cohort-only --cohort 10000 --query-runs 1

Figures: warm end-to-end recommend (validation, features, reasoning, rules, explanation and provenance as JSON)
p50/p95; cold start in a fresh process with and without the compile cache; batch throughput with 1 and 2
processes; peak memory; for each cohort size, the cohort store's batch, load and size and each research query's
latency; and, with --profile, where the warm path spends its time. Patients are synthetic (reasoner.synth.cohort),
generated before timing starts. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import csv
import datetime
import importlib.metadata
import io
import json
import multiprocessing
import os
import platform
import pstats
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pyoxigraph as ox

import reasoner
from reasoner._runtime import settle_heap
from reasoner.store.cohort import EmbeddedStore, open_store
from reasoner.synth.cohort import synthetic_patients

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "examples" / "seed-case.ttl"
SEED_VALUE = 7
COHORT_DATE = datetime.date(2027, 12, 31)  # the whole cohort is evaluated as of one date, after every case's


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _timed(patients: list[reasoner.Patient], engine: str) -> list[float]:
    gl = reasoner.load_guideline()
    out = []
    for patient in patients:
        start = time.perf_counter()
        reasoner.recommend(patient, guideline=gl, engine=engine).to_json()
        out.append(time.perf_counter() - start)
    return out


def warm(count: int, baseline: int) -> dict[str, Any]:
    gl = reasoner.load_guideline()
    patients = list(synthetic_patients(gl, count, seed=SEED_VALUE))
    _timed(patients[:20], "compiled")  # warm-up: compile, caches, first-query parsing
    fast = _timed(patients, "compiled")
    slow = _timed(patients[:baseline], "owlrl")
    return {
        "patients": count,
        "median_triples_per_patient": statistics.median(len(p.graph) for p in patients),
        "compiled_ms": {"p50": _percentile(fast, 0.5) * 1e3, "p95": _percentile(fast, 0.95) * 1e3},
        "baseline_patients": baseline,
        "baseline_ms": {"p50": _percentile(slow, 0.5) * 1e3, "p95": _percentile(slow, 0.95) * 1e3},
        "speedup_p50": _percentile(slow, 0.5) / _percentile(fast, 0.5),
    }


def real_record(runs: int) -> dict[str, Any]:
    """A real public record (HL7's IPS example with every section, 42 resources; tests/suites.py) read from its FHIR
    JSON and evaluated warm in-process: the reader, validation, reasoning and the JSON result together."""
    from reasoner.input.fhir import read_bundle

    sys.path.insert(0, str(ROOT))  # the tests' download of the HL7 packages (run as a script, ROOT is not on the path)
    from tests.suites import fhir_package

    path = fhir_package("hl7.fhir.uv.ips") / "Bundle-bundle-ips-all-sections.json"
    raw, gl = path.read_bytes(), reasoner.load_guideline()
    times = []
    for _ in range(runs + 5):  # the first five warm the caches
        start = time.perf_counter()
        reasoner.recommend(read_bundle(raw, source=path.name, guideline=gl), guideline=gl).to_json()
        times.append(time.perf_counter() - start)
    times = times[5:]
    return {"record": path.name, "runs": runs, "ms": {"p50": _percentile(times, 0.5) * 1e3,
            "p95": _percentile(times, 0.95) * 1e3}}  # fmt: skip


def _cold_once(engine: str, cache_dir: str) -> float:
    code = f"import reasoner; reasoner.recommend({str(SEED)!r}, engine={engine!r})"
    env = {**os.environ, "REASONER_CACHE_DIR": cache_dir}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
    return time.perf_counter() - start


def cold(runs: int) -> dict[str, Any]:
    """Wall time of a fresh interpreter that imports the package and evaluates the seed case."""
    with tempfile.TemporaryDirectory() as warm_dir:
        without = []
        for _ in range(runs):
            with tempfile.TemporaryDirectory() as empty:
                without.append(_cold_once("compiled", empty))
        _cold_once("compiled", warm_dir)
        with_cache = [_cold_once("compiled", warm_dir) for _ in range(runs)]
        baseline = [_cold_once("owlrl", warm_dir) for _ in range(runs)]
    return {
        "runs": runs,
        "with_cache_s": statistics.median(with_cache),
        "without_cache_s": statistics.median(without),
        "baseline_s": statistics.median(baseline),
        "speedup_with_cache": statistics.median(baseline) / statistics.median(with_cache),
    }


def _worker(args: tuple[int, int, int]) -> tuple[int, float]:
    seed, count, offset = args
    gl = reasoner.load_guideline()
    patients = list(synthetic_patients(gl, count, seed=seed, prefix=f"batch{offset}"))
    reasoner.recommend(patients[0], guideline=gl)  # compile in this process before the clock starts
    settle_heap()  # as `reasoner batch` workers do
    start = time.perf_counter()
    done = 0
    for outcome in reasoner.recommend_many(patients, guideline=gl, as_of=COHORT_DATE):
        if isinstance(outcome, reasoner.InputError):
            raise outcome  # synthetic patients are valid: a refusal is a bug worth stopping for
        outcome.to_json()
        done += 1
    return done, time.perf_counter() - start


def batch(count: int, processes: int) -> float:
    """Patients per second over `processes` worker processes, each evaluating count/processes patients with
    recommend_many at one cohort date (a cohort snapshot), results serialised to JSON."""
    share = count // processes
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        results = pool.map(_worker, [(SEED_VALUE + i, share, i) for i in range(processes)])
    return sum(n for n, _ in results) / max(t for _, t in results)


def cohort(
    count: int,
    *,
    processes: int,
    query_runs: int,
    query_timeout: float,
    reload: bool,
    baseline_ms: float | None,
    keep: Path | None = None,
    reuse: bool = False,
) -> dict[str, Any]:
    """Synthesise `count` patients, batch them into a fresh on-disk store, and time every research query there
    as `reasoner query --format csv` answers it (median of `query_runs` runs, each query stopped after
    `query_timeout` s; provenance-chain bound to the first patient), beside two probes of Oxigraph's own costs.
    A listing query with an optional ?patient is also timed bound to that patient: one page of its list.
    The batch and each query run in a fresh process, so each peak RSS is its own. With `reload`, also dump the
    store to N-Quads and time `oxigraph load` of that file into an empty store (the path for a store built
    elsewhere, docs/cluster.md). `baseline_ms`, owlrl's per-patient p50 from this run, estimates the baseline's
    batch time (running it would take days). With `keep`, the patients and the store stay in `keep`/N (to time
    queries again after a rewrite without a new batch); with `reuse` as well, only the queries are timed, over the
    store a run with `keep` left there."""
    from reasoner.synth.cohort import write_cohort

    spawn = multiprocessing.get_context("spawn")
    with contextlib.ExitStack() as stack:
        if keep is None:
            root = Path(stack.enter_context(tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP"))))
        else:
            root = keep / str(count)
            if reuse:
                if not (root / "db").is_dir():
                    raise SystemExit(f"--reuse: no store kept in {root} (run with --keep first)")
                reused = {"patients": count, "reused": str(root), **_cohort_queries(root, query_runs, query_timeout)}
                return {**reused, **(_reload(root) if reload else {})}
            root.mkdir(parents=True)  # an existing directory would mix two cohorts: refused
        start = time.perf_counter()
        write_cohort(reasoner.load_guideline(), count, root / "patients", seed=SEED_VALUE)
        out: dict[str, Any] = {"patients": count, "processes": processes, "synth_s": time.perf_counter() - start}
        with ProcessPoolExecutor(1, mp_context=spawn) as child:
            out.update(child.submit(_cohort_batch, root, processes).result())
        if baseline_ms is not None:
            out["baseline_batch_estimate_s"] = count * baseline_ms / 1e3 / processes
        out["store_mb"] = _size(root / "db") / 1e6
        print(f"cohort store: {json.dumps(out)}", file=sys.stderr, flush=True)  # a long run's figures so far
        out.update(_cohort_queries(root, query_runs, query_timeout))
        if reload:
            out.update(_reload(root))
    return out


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _cohort_batch(root: Path, processes: int) -> dict[str, Any]:
    from reasoner.store.batch import batch as run_batch

    summary = run_batch([root / "patients"], root / "db", processes=processes, as_of=COHORT_DATE)
    assert summary.done == summary.total, summary.invalid[:3]
    with open_store(root / "db", read_only=True) as store:
        assert isinstance(store, EmbeddedStore)
        quads = len(store.oxigraph)
    return {
        "quads": quads,
        "writing_us_per_quad": summary.writing / quads * 1e6,
        "stored": summary.done,
        "batch_into_store_s": summary.elapsed,
        "batch_patients_per_s": summary.patients_per_s,
        "writing_s": summary.writing,
        "compacting_s": summary.compacting,
        "writing_ms_per_patient": summary.writing / summary.done * 1e3,
        "batch_peak_rss_mb": {
            "writer": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "largest_worker": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        },
    }


def _cohort_queries(root: Path, runs: int, timeout: float) -> dict[str, Any]:
    """Each research query in its own process (its own peak RSS), stopped when its runs take more than `timeout`
    seconds each (reported as None: slower than that)."""
    from reasoner.store.research import queries

    spawn = multiprocessing.get_context("spawn")
    latencies: dict[str, float | None] = {}
    rows: dict[str, int] = {}
    peaks: dict[str, float] = {}
    named = queries()
    asked = [(n, q.text, "patient" in q.required) for n, q in named.items()]
    # a listing query that takes a patient is also timed one page at a time: the rows of one patient
    listing = [n for n, q in named.items() if "patient" in q.optional]
    pages = [(f"{n} (one patient)", named[n].text, True) for n in listing]
    for name, text, per_patient in asked + pages + [(n, t, False) for n, t in PROBES.items()]:
        results = spawn.Queue()
        child = spawn.Process(target=_time_query, args=(root, text, per_patient, runs, results))
        child.start()
        assert results.get(timeout=300) == "ready"  # the clock starts once the store is open
        child.join(timeout * runs)
        if child.is_alive():
            child.terminate()
            child.join()
            latencies[name] = None
            continue
        latencies[name], rows[name], peaks[name] = results.get()
    return {
        "whole_lists": listing,
        "query_ms_p50": latencies,
        "query_rows": rows,
        "query_timeout_s": timeout,
        "query_rss_mb": peaks,
        "query_peak_rss_mb": max(peaks.values(), default=0.0),
    }


#: Where query time goes: one triple pattern over every node an evaluation generated (advice given and withheld,
#: conflicts, missing findings: an index scan), and each recommendation given joined from the five patterns that
#: describe it (most research queries start from them).
PROBES = {
    "probe: one pattern, every prov:wasGeneratedBy quad": (
        "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?d { ?node prov:wasGeneratedBy ?run } }"
    ),
    "probe: 5-pattern join per recommendation given": """SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?d {
  ?given a gr:PatientRecommendation ; gr:patient ?p ; gr:recommendation ?r ; gr:guidelineVersion ?v ;
         prov:wasGeneratedBy ?run } }""",
}


def _time_query(root: Path, text: str, per_patient: bool, runs: int, results: Any) -> None:
    from reasoner.store.cohort import serialize_query

    bindings = {"patient": reasoner.load(sorted((root / "patients").iterdir())[0]).iri} if per_patient else {}
    times, answer = [], b""
    with open_store(root / "db", read_only=True) as store:
        results.put("ready")
        for _ in range(runs):
            begin = time.perf_counter()
            answer = serialize_query(store, text, bindings=bindings, format="csv")
            times.append(time.perf_counter() - begin)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    header, *rows = csv.reader(io.StringIO(answer.decode("utf-8")))
    size = int(rows[0][0]) if header == ["n"] else len(rows)  # a probe gives the number of solutions it counted
    results.put((statistics.median(times) * 1e3, size, peak))


def _reload(root: Path) -> dict[str, Any]:
    """Dump the store to N-Quads and time `oxigraph load` of it into an empty store (wall time and peak RSS)."""
    with open_store(root / "db", read_only=True) as store:
        assert isinstance(store, EmbeddedStore)
        store.oxigraph.dump(str(root / "dump.nq"), format=ox.RdfFormat.N_QUADS)
    # the CLI the test extra installs beside this interpreter, even when its environment is not activated
    binary = shutil.which("oxigraph", path=str(Path(sys.executable).parent)) or shutil.which("oxigraph") or "oxigraph"
    command = [binary, "load", "--location", str(root / "reloaded"), "--file",
               str(root / "dump.nq")]  # fmt: skip
    start = time.perf_counter()
    with (root / "load.log").open("wb") as log:
        child = subprocess.Popen(command, stdout=log, stderr=log)
        _, status, usage = os.wait4(child.pid, 0)  # this child's own peak RSS
    elapsed = time.perf_counter() - start
    assert os.waitstatus_to_exitcode(status) == 0, (root / "load.log").read_text()
    dump_mb = (root / "dump.nq").stat().st_size / 1e6
    (root / "dump.nq").unlink()
    reloaded = _size(root / "reloaded") / 1e6
    shutil.rmtree(root / "reloaded")
    return {"reload": {"dump_mb": dump_mb, "oxigraph_load_s": elapsed, "peak_rss_mb": usage.ru_maxrss / 1024,
                       "store_mb": reloaded}}  # fmt: skip


def profile(count: int) -> str:
    gl = reasoner.load_guideline()
    patients = list(synthetic_patients(gl, count, seed=SEED_VALUE + 99))
    _timed(patients[:10], "compiled")
    profiler = cProfile.Profile()
    profiler.enable()
    _timed(patients, "compiled")
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
    return out.getvalue()


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "reasoner": importlib.metadata.version("guideline-reasoner"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=500, help="patients for the warm and batch figures")
    parser.add_argument("--baseline", type=int, default=5, help="patients for the owlrl baseline (~5 s each)")
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results.json")
    parser.add_argument("--profile", action="store_true", help="also print where the warm path spends its time")
    parser.add_argument(
        "--cohort",
        type=_sizes,
        default=[10_000, 100_000],
        help="cohort store sizes, comma-separated (default 10000,100000: most of the run; 0: skip)",
    )
    parser.add_argument("--cohort-only", action="store_true", help="only the cohort store figures")
    parser.add_argument("--query-runs", type=int, default=3, help="runs of each research query (the median is kept)")
    parser.add_argument("--query-timeout", type=float, default=600, help="seconds before a query is stopped")
    parser.add_argument("--reload", action="store_true", help="also time `oxigraph load` of the store's N-Quads dump")
    parser.add_argument("--keep", type=Path, help="keep each cohort's patients and store in KEEP/N (a new directory)")
    parser.add_argument("--reuse", action="store_true", help="with --keep: only time the queries over the kept stores")
    args = parser.parse_args(argv)

    report: dict[str, Any] = {"machine": machine(), "date": time.strftime("%Y-%m-%d")}
    if not args.cohort_only:
        report["warm"] = warm(args.patients, args.baseline)
        report["real_record"] = real_record(50)
        report["cold_start"] = cold(args.cold_runs)
        baseline_rate = 1000 / report["warm"]["baseline_ms"]["p50"]
        report["batch"] = {
            "patients": args.patients,
            "one_process_per_s": batch(args.patients, 1),
            "two_processes_per_s": batch(args.patients, 2),
            "baseline_one_process_per_s": baseline_rate,
        }
        report["batch"]["speedup_two_processes"] = report["batch"]["two_processes_per_s"] / baseline_rate
        report["peak_rss_mb"] = {
            "this_process": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "largest_child": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        }
    baseline_ms = report["warm"]["baseline_ms"]["p50"] if "warm" in report else None
    report["cohort_stores"] = [
        cohort(n, processes=2, query_runs=args.query_runs, query_timeout=args.query_timeout, reload=args.reload,
               baseline_ms=baseline_ms, keep=args.keep, reuse=args.reuse)
        for n in args.cohort if n
    ]  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(table(report))
    if args.profile:
        print(profile(min(args.patients, 200)))
    return 0


def _sizes(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


#: Issue 18's targets at 100,000 patients on two cores: each research query (aggregates, and listing queries one
#: page at a time) within a second, loading the store within five minutes, no query above 2 GB.
QUERY_TARGET_MS, LOAD_TARGET_S, MEMORY_TARGET_MB = 1_000, 300, 2_048


def targets(cs: dict[str, Any]) -> list[str]:
    """Each figure of one cohort store against its target: "met", "missed", or why it has none (a listing query's
    whole list is paged through, not read at once)."""
    lines = []
    if "writing_s" in cs:
        verdict = "met" if cs["writing_s"] <= LOAD_TARGET_S else "missed"
        lines.append(f"loading the store {cs['writing_s']:.0f} s (target {LOAD_TARGET_S} s): {verdict}")
    if "reload" in cs:
        seconds = cs["reload"]["oxigraph_load_s"]
        verdict = "met" if seconds <= LOAD_TARGET_S else "missed"
        lines.append(f"oxigraph load of the dump {seconds:.0f} s (target {LOAD_TARGET_S} s): {verdict}")
    peak = cs["query_peak_rss_mb"]
    verdict = "met" if peak <= MEMORY_TARGET_MB else "missed"
    lines.append(f"largest query peak RSS {peak:.0f} MB (target {MEMORY_TARGET_MB} MB): {verdict}")
    for name, ms in cs["query_ms_p50"].items():
        if name in PROBES:
            continue
        if name in cs.get("whole_lists", ()):
            lines.append(f"{name}: whole list, no target (paged one patient at a time below)")
            continue
        verdict = "missed" if ms is None or ms > QUERY_TARGET_MS else "met"
        shown = f"> {cs['query_timeout_s']:.0f} s" if ms is None else f"{ms:.0f} ms"
        lines.append(f"{name}: {shown} (target {QUERY_TARGET_MS} ms): {verdict}")
    return [f"cohort of {cs['patients']}: {line}" for line in lines]


def table(r: dict[str, Any]) -> str:
    rows = [("figure", "compiled", "owlrl baseline", "ratio")]
    if "warm" in r:
        rows += _engine_rows(r)
    for cs in r.get("cohort_stores", []):
        rows += _cohort_rows(cs)
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) for row in rows]
    lines.insert(1, "  ".join("-" * n for n in widths))
    checks = [line for cs in r.get("cohort_stores", []) for line in targets(cs)]
    return "\n".join(lines + (["", "Targets (issue 18, at 100,000 patients):", *checks] if checks else []))


def _engine_rows(r: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    w, c, b = r["warm"], r["cold_start"], r["batch"]
    return [
        ("warm recommend p50 (ms)", f"{w['compiled_ms']['p50']:.1f}", f"{w['baseline_ms']['p50']:.0f}",
         f"{w['speedup_p50']:.0f}x"),
        ("warm recommend p95 (ms)", f"{w['compiled_ms']['p95']:.1f}", f"{w['baseline_ms']['p95']:.0f}",
         f"{w['baseline_ms']['p95'] / w['compiled_ms']['p95']:.0f}x"),
        ("cold start, cache (s)", f"{c['with_cache_s']:.2f}", f"{c['baseline_s']:.2f}",
         f"{c['speedup_with_cache']:.1f}x"),
        ("cold start, no cache (s)", f"{c['without_cache_s']:.2f}", "", ""),
        ("batch, 1 process (patients/s)", f"{b['one_process_per_s']:.0f}", f"{b['baseline_one_process_per_s']:.2f}",
         f"{b['one_process_per_s'] / b['baseline_one_process_per_s']:.0f}x"),
        ("batch, 2 processes (patients/s)", f"{b['two_processes_per_s']:.0f}", f"{b['baseline_one_process_per_s']:.2f}",
         f"{b['speedup_two_processes']:.0f}x"),
        ("peak RSS, largest process (MB)", f"{max(r['peak_rss_mb'].values()):.0f}", "", ""),
        ("real FHIR record, read + recommend p50 (ms)", f"{r['real_record']['ms']['p50']:.1f}", "", ""),
    ]  # fmt: skip


def _cohort_rows(cs: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    if "reused" in cs:  # queries only, over a kept store
        return [(f"cohort of {cs['patients']}: queries over {cs['reused']}", "", "", ""), *_reload_rows(cs),
                *_query_rows(cs)]  # fmt: skip
    size, batch_s = cs["patients"], cs["batch_into_store_s"]
    estimate = cs.get("baseline_batch_estimate_s")
    baseline = ("", "") if estimate is None else (f"~{estimate:.0f} (estimated)", f"{estimate / batch_s:.0f}x")
    rows = [
        (f"cohort of {size}: batch into store, 2 processes (s)", f"{batch_s:.1f}", *baseline),
        ("  of which loading the store: writing and compacting (s)",
         f"{cs['writing_s']:.1f} ({cs['compacting_s']:.1f} compacting)", "", ""),
        ("  loading per patient (ms), per quad (us)",
         f"{cs['writing_ms_per_patient']:.2f}, {cs['writing_us_per_quad']:.2f}", "", ""),
        ("  peak RSS: writer, largest worker (MB)",
         f"{cs['batch_peak_rss_mb']['writer']:.0f}, {cs['batch_peak_rss_mb']['largest_worker']:.0f}", "", ""),
        ("cohort store: quads, on disk (MB)", f"{cs['quads']}, {cs['store_mb']:.0f}", "", ""),
    ]  # fmt: skip
    return rows + _reload_rows(cs) + _query_rows(cs)


def _reload_rows(cs: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    if "reload" not in cs:
        return []
    r = cs["reload"]
    figures = f"{r['oxigraph_load_s']:.1f}, {r['peak_rss_mb']:.0f}"
    return [("oxigraph load of the N-Quads dump (s), peak RSS (MB)", figures, "", "")]


def _query_rows(cs: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    rows = [("queries: largest peak RSS (MB)", f"{cs['query_peak_rss_mb']:.0f}", "", "")]
    over = f"> {cs['query_timeout_s'] * 1e3:.0f}"
    for name, ms in cs["query_ms_p50"].items():
        unit = "counted" if name in PROBES else "rows"
        answer = "" if ms is None else f" ({cs['query_rows'][name]} {unit}, {cs['query_rss_mb'][name]:.0f} MB)"
        rows.append((f"{name} p50 (ms)", (over if ms is None else f"{ms:.0f}") + answer, "", ""))
    return rows


if __name__ == "__main__":
    sys.exit(main())
