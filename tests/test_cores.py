"""`n_jobs: auto`: every core this process may run on, which a container or `taskset` may limit."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fmnist.cores import available_cores, resolve_jobs

REPO = Path(__file__).resolve().parents[1]


def test_auto_is_every_core_this_process_may_use_and_a_number_stays_a_number():
    assert resolve_jobs("auto") == available_cores() == len(os.sched_getaffinity(0))
    assert resolve_jobs(3) == 3


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two cores to restrict a process to one")
def test_auto_follows_the_affinity_not_the_machine():
    one_core = {min(os.sched_getaffinity(0))}
    result = subprocess.run(
        [sys.executable, "-c", "from fmnist.cores import resolve_jobs; print(resolve_jobs('auto'))"],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        preexec_fn=lambda: os.sched_setaffinity(0, one_core),
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "1"


def test_cnn_stages_give_torch_the_threads_they_are_told():
    """`model.cpu_threads` (fixed, since the weights' bits follow it: tests/test_stage_cli.py) or `auto`."""
    import torch

    from fmnist.device import use_cpu_threads

    before = torch.get_num_threads()
    try:
        assert use_cpu_threads(1) == 1 and torch.get_num_threads() == 1
        assert use_cpu_threads("auto") == available_cores() == torch.get_num_threads()
    finally:
        torch.set_num_threads(before)
