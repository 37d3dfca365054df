"""Classify stages on a real Dask cluster (a scheduler and two workers on 127.0.0.1), chosen by Dask's own
DASK_SCHEDULER_ADDRESS: the same bytes as on this machine, and one message, within the deadline, when no scheduler
answers there."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from fmnist.data.dataset import load_dataset
from tests.support.dask_cluster import dask_cluster, not_a_scheduler
from tests.support.stage_workdir import REPO, prepared_workdir, single_error, write_params
from tests.support.tiny_params import tiny_classify

pytestmark = pytest.mark.e2e  # a scheduler, two workers and stage processes: about 20 s

# Four settings fitted side by side; one forest's trees built side by side; this project's own estimator (CholeskyLDA),
# which the workers, without this project's code, must unpickle.
RUNS = ("raw-svm", "raw-random_forest", "raw-lda")
ALL_LIMIT_S = 120  # the three stages take about 10 s; a search whose tasks no worker can unpickle waits forever
TIMINGS = ("search_seconds", "fit_seconds", "predict_seconds")
STAGE_LIMIT_S = 60  # a stage stopped by a 2 s deadline ends in well under half of it; a hung one is killed here
ALL_STAGES = """
import runpy
import sys

for model in ("svm", "random_forest", "lda"):
    sys.argv = ["classify", "--feature", "raw", "--model", model]
    runpy.run_module("stages.classify", run_name="__main__")
"""


def classify_workdir(tmp_path: Path) -> Path:
    """Tiny prepared data, its pixels as the `raw` feature set, and tiny classify params with `n_jobs: auto`."""
    work = prepared_workdir(tmp_path)
    write_params(work, lambda p: (tiny_classify(p), p["classify"]["search"].update(n_jobs="auto")))
    data = load_dataset(work / "data" / "prepared")
    folder = work / "features" / "raw"
    folder.mkdir(parents=True)
    for split, images in (("train", data.train_images), ("test", data.test_images)):
        np.save(folder / f"{split}.npy", images.reshape(len(images), -1).astype(np.float32) / 255)
    return work


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """One cluster for this file's tests (starting one takes about 10 s)."""
    with dask_cluster(tmp_path_factory.mktemp("dask")) as client:
        yield client


def run_all(work: Path, **env: str) -> str:
    """The classify stages of RUNS in one process (one interpreter start-up); their log."""
    result = subprocess.run(
        [sys.executable, "-c", ALL_STAGES],
        cwd=work,
        env={**os.environ, "PYTHONPATH": str(REPO), **env},
        capture_output=True,
        text=True,
        timeout=ALL_LIMIT_S,
    )
    assert result.returncode == 0, result.stderr
    return result.stderr


def without_timings(path: Path) -> dict:
    return {key: value for key, value in json.loads(path.read_text()).items() if key not in TIMINGS}


def test_on_a_cluster_the_search_spreads_over_its_threads_and_the_refit_keeps_its_fixed_threads(cluster):
    import dask.config
    from threadpoolctl import threadpool_info

    from fmnist.classical.workers import compute_workers, fit_threads

    with dask.config.set({"scheduler-address": cluster.scheduler.address}), compute_workers("auto", 3) as workers:
        assert (workers.fit, workers.threads, workers.local) == (2, 3, False)
        with fit_threads(workers, alone=True):  # the refit and predictions, in the stage's own process
            assert {pool["num_threads"] for pool in threadpool_info()} == {3}


def test_a_grid_search_on_a_dask_cluster_gives_the_bytes_of_a_local_run(tmp_path, cluster):
    local = classify_workdir(tmp_path)
    remote = tmp_path / "remote"
    shutil.copytree(local, remote)
    address = cluster.scheduler.address

    assert "computing on this machine" in run_all(local)
    log = run_all(remote, DASK_SCHEDULER_ADDRESS=address)
    assert f"computing on the Dask cluster at {address} (2 workers, 2 threads)" in log
    assert all(count > 0 for count in cluster.run(lambda dask_worker: dask_worker.state.executed_count).values())

    for run in RUNS:
        for path in (f"metrics/classify/{run}.json", f"plots/classify/{run}.csv"):
            digests = [hashlib.sha256((work / path).read_bytes()).hexdigest() for work in (local, remote)]
            assert digests[0] == digests[1], path
        details = [without_timings(work / f"details/classify/{run}.json") for work in (local, remote)]
        assert details[0] == details[1], run


def test_the_address_of_a_worker_is_not_taken_for_the_scheduler(cluster):
    import dask.config

    from fmnist.classical.workers import compute_workers
    from fmnist.errors import PipelineError

    worker = next(iter(cluster.scheduler_info()["workers"]))
    with dask.config.set({"scheduler-address": worker}), pytest.raises(PipelineError) as error, compute_workers(2, 1):
        pytest.fail("the block ran on a worker's address")
    assert str(error.value).startswith(
        f"DASK_SCHEDULER_ADDRESS={worker}: no Dask scheduler answers there (a Dask Worker"
    )


@contextlib.contextmanager
def address_of(kind: str) -> Iterator[str]:
    """A DASK_SCHEDULER_ADDRESS where no scheduler answers: nothing listening, a service that never speaks Dask's
    protocol (the dashboard's port by mistake), or no address at all."""
    if kind == "silent service":
        with not_a_scheduler() as address:
            yield address
    else:
        yield {"nothing listening": "tcp://127.0.0.1:9", "garbage": "not an address"}[kind]


@pytest.mark.parametrize("kind", ["nothing listening", "silent service", "garbage"])
def test_an_address_where_no_scheduler_answers_stops_the_stage_before_any_work_with_one_line(tmp_path, kind):
    """Dask's connect timeout, 2 s here, shortens the stage's deadline: it stops in about that, plus its start-up."""
    work = classify_workdir(tmp_path)
    stage = [sys.executable, "-m", "stages.classify", "--feature", "raw", "--model", "svm"]
    with address_of(kind) as address:
        env = {"PYTHONPATH": str(REPO), "DASK_SCHEDULER_ADDRESS": address}
        env["DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT"] = "2s"
        start = time.monotonic()
        result = subprocess.run(
            stage, cwd=work, env={**os.environ, **env}, capture_output=True, text=True, timeout=STAGE_LIMIT_S
        )
        elapsed = time.monotonic() - start
    expected = f"={address!r} is not a Dask scheduler address" if kind == "garbage" else f"={address}: no Dask sch"
    assert single_error(result).startswith(f"error: DASK_SCHEDULER_ADDRESS{expected}")
    assert "Fitting" not in result.stdout + result.stderr  # no fit started
    assert not any((work / folder).exists() for folder in ("metrics", "details", "plots"))
    assert elapsed < STAGE_LIMIT_S / 2, f"{elapsed:.1f} s"  # about 4 s measured with 2 shared cores
