"""Stage scripts run as DVC runs them (`python -m stages.<name>` in a working folder), outside any DVC project."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def write_params(workdir: Path, edit=lambda p: None) -> None:
    """The repository's params.yaml, changed by `edit`, in `workdir`."""
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    edit(params)
    (workdir / "params.yaml").write_text(yaml.safe_dump(params))


def prepared_workdir(tmp_path: Path) -> Path:
    """A working folder with params.yaml and the tiny synthetic dataset prepared in data/prepared."""
    from fmnist.data.dataset import prepare_dataset
    from tests.support.idx_files import write_raw_dir

    work = tmp_path / "work"
    work.mkdir()
    write_params(work)
    write_raw_dir(work / "data" / "raw")
    prepare_dataset(work / "data" / "raw", work / "data" / "prepared", val_fraction=0.1, seed=0)
    return work


def run_module(workdir: Path, module: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    """`python -m <module> <args>` in `workdir`, with `env` added to the environment."""
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **env}
    return subprocess.run(
        [sys.executable, "-m", module, *args], cwd=workdir, env=full_env, capture_output=True, text=True
    )


def error_lines(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


def single_error(result: subprocess.CompletedProcess) -> str:
    """The one `error:` line of a stage that stopped as it should (exit 1, no traceback)."""
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = error_lines(result)
    assert len(lines) == 1, result.stderr
    assert "allow_pickle" not in result.stderr and "weights_only" not in result.stderr
    return lines[0]
