"""A real Dask cluster on 127.0.0.1, started as the README starts one: `dask scheduler` and `dask worker`s, each a
process of its own (not distributed.LocalCluster, which also sets OMP_NUM_THREADS and its kin to 1 in the process
that creates it, and so in every stage that process starts: not what a user's stage sees)."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

DASK = str(Path(sys.executable).parent / "dask")


@contextlib.contextmanager
def dask_cluster(folder: Path, workers: int = 2) -> Iterator:
    """A scheduler and `workers` single-thread workers; yields a connected distributed.Client."""
    from distributed import Client

    scheduler_file = folder / "scheduler.json"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    scheduler = [DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--scheduler-file", str(scheduler_file)]
    processes = [subprocess.Popen([*scheduler, "--no-dashboard"], **quiet)]
    try:
        for number in range(1, workers + 1):
            worker = [
                DASK,
                "worker",
                "--scheduler-file",
                str(scheduler_file),
                "--nthreads",
                "1",
                "--name",
                f"w{number}",
            ]
            processes.append(subprocess.Popen([*worker, "--no-dashboard"], **quiet))
        with Client(scheduler_file=str(scheduler_file), timeout="60s") as client:
            client.wait_for_workers(workers, timeout=60)
            yield client
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
