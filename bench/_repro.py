"""What the bench scripts that time pipeline stages share: `dvc repro` timed stage by stage, and their results files.

Every bench script works on the project in the current directory (params.yaml, data/, features/, the records), as
the stages do, so its test can run it in a tiny project of synthetic data (tests/bench/).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fmnist.cores import cpuinfo

RUNNING = re.compile(r"Running stage '([^']+)'")
RESULTS = Path("bench") / "results"


def dvc_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "dvc", *args]


def forced_repro(stages: list[str]) -> list[str]:
    """`dvc repro` of exactly `stages`, each re-run even when up to date (dvc.lock records the run)."""
    return dvc_command("repro", "--force", "--single-item", *stages)


def timed_stages(
    command: list[str],
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    on_stage: Callable[[str, float], None] = lambda name, seconds: None,
) -> tuple[list[tuple[str, float]], float]:
    """Run `command` (a `dvc repro` or `dvc exp run`) in `cwd` (default: here), echoing its output to stderr: the
    seconds of each stage in the order DVC ran them, and of the whole process.

    A stage's time runs from DVC's "Running stage" line for it to the next stage's (the last one's: to the end of the
    process), so it includes the stage's process start and DVC caching its outputs. `on_stage` is called as each
    stage ends, so that the caller keeps its figure if a later stage fails.
    """
    begin = time.perf_counter()
    stages: list[tuple[str, float]] = []
    running: tuple[str, float] | None = None

    def end_running() -> None:
        if running:
            stages.append((running[0], time.perf_counter() - running[1]))
            on_stage(*stages[-1])

    with subprocess.Popen(
        command, cwd=cwd, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        for line in process.stdout:
            sys.stderr.write(line)
            if match := RUNNING.search(line):
                end_running()
                running = (match[1], time.perf_counter())
    end_running()
    if process.returncode != 0:
        raise SystemExit(f"`{' '.join(command)}` failed (exit {process.returncode}); its output is above")
    return stages, time.perf_counter() - begin


def instruction_set() -> str:
    """The widest vector instructions the CPU has (`avx512`, `avx2`, else `other`): the records' CPU model name alone
    ("AMD EPYC") does not tell one generation from another."""
    flags = set((cpuinfo("flags") or "").split())
    return "avx512" if "avx512f" in flags else "avx2" if "avx2" in flags else "other"


def verdict(seconds: float, budget_s: float) -> str:
    return f"{'within' if seconds <= budget_s else 'OVER'} the {budget_s:.0f} s budget"


def read_results(path: Path, default: dict[str, Any]) -> dict[str, Any]:
    """A results file as the last run left it (a run of some stages keeps the others' figures), else `default`."""
    return json.loads(path.read_text()) if path.is_file() else default


def write_results(path: Path, results: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1) + "\n")
