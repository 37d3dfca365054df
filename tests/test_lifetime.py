"""Processes end with the process that started them: a classify stage's joblib workers with the stage (the stage
with its DVC: tests/pipeline/test_kill.py)."""

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.support.dvc_team import pid_alive, wait_for

REPO = Path(__file__).resolve().parents[1]

# A classify stage's set-up of side-by-side fits (fmnist.classical.workers), two jobs; prints the workers' pids.
STAGE = """
import os, time
from joblib import Parallel, delayed
from fmnist.classical.workers import fit_threads, local_workers

with fit_threads(local_workers(2, 1), alone=False):
    pids = set(Parallel(n_jobs=2)(delayed(os.getpid)() for _ in range(8)))
print(" ".join(map(str, sorted(pids - {os.getpid()}))), flush=True)
time.sleep(120)
"""


def test_a_stage_killed_outright_takes_its_joblib_workers_with_it():
    """SIGKILL of a classify stage (the OOM killer): its workers, idle in joblib's reusable pool, would otherwise
    live on for minutes (loky keeps them 300 s; a fit in progress runs to its end)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    stage = subprocess.Popen([sys.executable, "-c", STAGE], stdout=subprocess.PIPE, text=True, env=env)
    try:
        workers = [int(pid) for pid in stage.stdout.readline().split()]
        assert workers, "no worker process was started"
        assert all(pid_alive(pid) for pid in workers)
        stage.send_signal(signal.SIGKILL)
        stage.wait(timeout=10)
        wait_for(lambda: not any(pid_alive(pid) for pid in workers), 10, "the workers to exit")
    finally:
        stage.kill()
        stage.wait()
