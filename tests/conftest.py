import contextlib
import fcntl
import hashlib
import os
import shutil
import sys
import urllib.error
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from bench.repro_time import timed_run
from fmnist.data import download
from fmnist.params_read import forget_stage_params
from tests.support.dvc_project import DvcProject, copy_project, make_tiny_project
from tests.support.idx_files import write_raw_dir
from tests.support.mutation_order import fastest_first, mutmut_seconds, under_a_mutant
from tests.support.tiny_params import tiny_settings

PIPELINE = Path(__file__).parent / "pipeline"
FIRST, LAST = PIPELINE / "test_teamwork.py", (PIPELINE / "test_tiny.py", PIPELINE / "test_tiny_runs.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tiny pipeline's test files at either end of the run (`make test` keeps this order and gives one worker a
    whole file: `--dist loadfile --no-loadscope-reorder`). One worker starts on the teamwork tests, the longest file,
    by building the pipeline while the other runs the unit tests; the two test_tiny files come last, once the build is
    there to copy, one for each worker (as one file, its 100 s ran on one worker while the other stood idle). Under a
    mutant of scripts/mutation.sh, the fastest tests first (tests/support/mutation_order.py)."""
    if under_a_mutant():
        fastest_first(items, mutmut_seconds())
        return
    items.sort(key=lambda item: 0 if item.path == FIRST else 2 if item.path in LAST else 1)


@pytest.fixture(autouse=True)
def no_params_read_by_an_earlier_test() -> Iterator[None]:
    """A stage's `main()` called in-process records the params it read (fmnist.params_read `stage_params`), which every
    later write of outputs in that process checks; each test starts and ends without such a record."""
    forget_stage_params()
    yield
    forget_stage_params()


@pytest.fixture
def raw_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "raw"
    write_raw_dir(folder)
    return folder


@pytest.fixture
def mirror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A mirror folder of tiny synthetic files whose checksums the download code is told to expect."""
    folder = tmp_path / "mirror"
    payloads = write_raw_dir(folder)
    expected = {name: hashlib.sha256(payload).hexdigest() for name, payload in payloads.items()}
    monkeypatch.setattr(download, "PAYLOAD_SHA256", expected)
    return folder


@pytest.fixture(scope="session")
def tiny_pipeline(tmp_path_factory) -> DvcProject:
    """The whole pipeline run once on tiny data and committed, shared by the end-to-end tests.

    Tests may push from it or configure its .dvc/config.local; anything else they change (params,
    outputs) they restore, and tests that run experiments work in a `git clone` of it. Under pytest-xdist the
    first worker to need it builds it once and every worker gets a copy of its own (the build took about two
    minutes with the other worker waiting; the copy's setup was under 2.2 s, below `--durations=30`'s cut-off).
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker is None:
        return build_tiny_pipeline(tmp_path_factory.mktemp("pipeline"))
    built = tmp_path_factory.getbasetemp().parent / "tiny_pipeline"  # every worker's temp folder is in this run's
    with exclusive_lock(built.with_suffix(".lock")):
        if not (built / BUILT).exists():
            shutil.rmtree(built, ignore_errors=True)  # what a failed build on another worker left
            build_tiny_pipeline(built)
            (built / BUILT).touch()
    return copy_project(built, tmp_path_factory.mktemp("pipeline") / worker)


BUILT = ".git/tiny-pipeline-built"  # inside .git: invisible to git and DVC, copied with the project


REPRO_TIME = ".git/repro_time.json"  # the build's stage times (bench.repro_time's record), beside BUILT


def build_tiny_pipeline(root: Path) -> DvcProject:
    """`dvc repro` of a tiny project, run and timed by bench.repro_time (not forced: download's raw files are the
    synthetic ones make_tiny_project committed)."""
    root.mkdir(parents=True, exist_ok=True)
    project = make_tiny_project(root, tiny_params=tiny_settings)
    timed_run(root, [sys.executable, "-m", "dvc", "repro"], root / REPRO_TIME, tiny=True, env=project.env)
    project.commit_all("first run")
    return project


@contextlib.contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created if missing) inside the block; other processes wait for it."""
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """An empty torchvision cache and a network that refuses every download."""
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))

    def refuse(*args, **kwargs):
        raise urllib.error.URLError("network unreachable")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", refuse)
