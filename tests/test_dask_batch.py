"""The batch on a Dask cluster: a real local cluster of two worker processes, started and stopped here, runs the
reasoning; the store it fills holds exactly what a single-process run writes."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from distributed import Client, LocalCluster

import reasoner
from reasoner.cli import main
from reasoner.errors import ReasonerError
from reasoner.store.batch import batch
from reasoner.synth.cohort import write_cohort
from tests.conftest import store_dump

SEED = 8080
COUNT = 10


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    with LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None, silence_logs=logging.ERROR
    ) as running:
        yield running


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cohort")
    write_cohort(reasoner.load_guideline(), COUNT, root, seed=SEED)
    (root / "zz-unreadable.ttl").write_text("not turtle <")
    return root


def test_a_batch_on_a_dask_cluster_stores_what_one_process_stores(
    tmp_path: Path, cohort: Path, cluster: LocalCluster
) -> None:
    single = batch([cohort], tmp_path / "single")
    clustered = batch([cohort], tmp_path / "dask", dask=cluster.scheduler_address, chunk_size=2)
    assert (clustered.done, clustered.total) == (single.done, single.total) == (COUNT, COUNT + 1)
    assert clustered.invalid == single.invalid and len(clustered.invalid) == 1
    assert clustered.processes == 2, "the summary counts the cluster's worker threads"
    dump = store_dump(tmp_path / "single")
    assert len(dump) > 1000 and store_dump(tmp_path / "dask") == dump
    with Client(cluster) as client:  # the chunks ran in the workers, not here
        assert set(client.run(_evaluated).values()) == {True}


def _evaluated() -> bool:
    return "reasoner.store.batch" in sys.modules


def test_the_command_line_runs_a_batch_on_the_cluster(tmp_path: Path, cohort: Path, cluster: LocalCluster) -> None:
    store = tmp_path / "store"
    result = CliRunner().invoke(
        main, ["batch", str(cohort), "--store", str(store), "--dask", cluster.scheduler_address], catch_exceptions=False
    )
    assert result.exit_code == 1, result.output  # the unreadable file is reported
    assert f'"done": {COUNT}' in result.output and '"processes": 2' in result.output
    with pytest.raises(ReasonerError, match="not both"):
        batch([cohort], tmp_path / "never", dask=cluster.scheduler_address, executor=cluster)  # type: ignore[arg-type]
