"""A throw-away copy of this repository, as its own git + DVC project, running on tiny synthetic data.

The real download stage only accepts the real files (their checksums are fixed), so the copy places
synthetic IDX files in data/raw/ and records them with `dvc commit download`: every stage after
download then runs for real, on 200 training and 50 test images, in seconds.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import yaml

from tests.support.idx_files import write_raw_dir

REPO = Path(__file__).resolve().parents[2]


class DvcProject:
    def __init__(self, root: Path) -> None:
        self.root = root
        venv_bin = str(Path(sys.executable).parent)
        self.env = {**os.environ, "PATH": venv_bin + os.pathsep + os.environ["PATH"], "PYTHONPATH": str(root)}
        self.env.pop("PYTHONHASHSEED", None)

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(args, cwd=self.root, env=self.env, capture_output=True, text=True)
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result

    def dvc(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.run(sys.executable, "-m", "dvc", *args, check=check)

    def params(self) -> dict:
        return yaml.safe_load((self.root / "params.yaml").read_text())

    def edit_params(self, edit: Callable[[dict], None]) -> None:
        params = self.params()
        edit(params)
        (self.root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))

    @contextlib.contextmanager
    def edited_params(self, edit: Callable[[dict], None]) -> Iterator[None]:
        """params.yaml changed by `edit` inside the block, restored from git after it."""
        self.edit_params(edit)
        try:
            yield
        finally:
            self.run("git", "checkout", "params.yaml")

    def stages_that_would_run(self, *targets: str) -> list[str]:
        """Names of the stages `dvc repro --dry` would run, in order."""
        return stages_run(self.dvc("repro", "--dry", *targets).stdout)

    def commit_all(self, message: str) -> None:
        self.run("git", "add", "-A")
        self.run("git", "commit", "-qm", message)


def stages_run(output: str) -> list[str]:
    """Names of the stages a `dvc repro` / `dvc exp run` output says it ran, in order."""
    return [line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage '")]


def tracked_files() -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO, capture_output=True, text=True, check=True
    )
    return [
        line
        for line in out.stdout.splitlines()
        if not line.startswith(
            ("dvc.lock", "data/", "features/", "metrics/", "details/", "models/", "plots/", "reports/")
        )
    ]


def copy_project(source: Path, dest: Path) -> DvcProject:
    """A copy of project `source` (its git repository, DVC cache and workspace) at `dest`, a project of its own:
    nothing in a project names its own folder (DVC keeps the state of each folder apart, in its site cache)."""
    shutil.copytree(source, dest, symlinks=True)
    return DvcProject(dest)


def make_tiny_project(root: Path, tiny_params: Callable[[dict], None] | None = None) -> DvcProject:
    """Copy the repository's source files into `root`, make it a git + DVC repo with synthetic raw data."""
    for name in tracked_files():
        source = REPO / name
        if source.is_file():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, root / name)
    project = DvcProject(root)
    project.run("git", "init", "-q")
    project.run("git", "config", "user.email", "test@example.com")
    project.run("git", "config", "user.name", "test")
    if tiny_params is not None:
        project.edit_params(tiny_params)
    write_raw_dir(root / "data" / "raw")
    project.dvc("commit", "-f", "download")
    project.commit_all("tiny project")
    return project
