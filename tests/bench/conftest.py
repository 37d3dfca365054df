"""The folders the bench scripts' tests run them in, as each script runs in the project's folder: tiny synthetic
data, the tests' tiny params (tests/support/tiny_params.py)."""

from __future__ import annotations

import importlib
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest
import torch

from fmnist.data import load_dataset
from fmnist.data.dataset import prepare_dataset
from fmnist.features.extract import build_extractor, extract_feature_set
from fmnist.layout import Layout
from fmnist.params import load_params
from tests.support.dvc_project import DvcProject, copy_project, make_tiny_project
from tests.support.stage_workdir import prepared_workdir, write_params
from tests.support.tiny_params import tiny_settings


@pytest.fixture(autouse=True)
def torch_threads_kept() -> Iterator[None]:
    """A bench run in this process sets torch's thread count (fmnist.device.use_cpu_threads, use_all_cores): the
    tests after it start with the count they would have had."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def extract_raw_features(root: Path) -> None:
    """features/raw of the prepared data under `root`, as extract_features@raw writes it."""
    layout = Layout(root)
    params = load_params(root / "params.yaml")["features"]["raw"]
    extract_feature_set("raw", params, load_dataset(layout.prepared), layout, build_extractor(params, "features.raw"))


@pytest.fixture
def tiny_workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The current folder for the test: the tiny params, 200 + 50 synthetic images prepared in data/prepared and
    their `raw` feature set in features/raw."""
    work = prepared_workdir(tmp_path)
    write_params(work, tiny_settings)
    extract_raw_features(work)
    monkeypatch.chdir(work)
    return work


@pytest.fixture
def run_stage_here(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Run a stage's `main()` in this process, in the current folder, with the command line given: the outputs a
    bench reads after DVC ran the stage, at no process's start-up cost."""

    def run(stage: str, *args: str) -> None:
        monkeypatch.setattr(sys, "argv", [stage, *args])
        importlib.import_module(f"stages.{stage}").main()

    return run


@pytest.fixture
def dvc_stand_in(monkeypatch: pytest.MonkeyPatch) -> Callable[[ModuleType, float], list[list[str]]]:
    """Stand in for a bench module's timed DVC run (its `timed_stages`), every stage taking `seconds` and DVC one
    second more; returns the list of the commands the bench asked DVC to run."""

    def stand_in(bench: ModuleType, seconds: float) -> list[list[str]]:
        commands: list[list[str]] = []

        def timed_stages(command: list[str]) -> tuple[list[tuple[str, float]], float]:
            commands.append(command)
            stages = [(word, seconds) for word in command if "@" in word]
            return stages, seconds * len(stages) + 1.0

        monkeypatch.setattr(bench, "timed_stages", timed_stages)
        return commands

    return stand_in


@pytest.fixture(scope="session")
def bench_project_template(tmp_path_factory: pytest.TempPathFactory) -> DvcProject:
    """A tiny DVC project with its data prepared and its `raw` features extracted (by the library, here: the benches
    re-run single stages, which only need their inputs on disk), without the repository's bench/results, so that a
    test sees only what its run writes. Built once per test process."""
    project = make_tiny_project(tmp_path_factory.mktemp("bench-project"), tiny_params=tiny_settings)
    data = load_params(project.root / "params.yaml")["data"]
    prepare_dataset(project.root / "data" / "raw", Layout(project.root).prepared, data["val_fraction"], data["seed"])
    extract_raw_features(project.root)
    shutil.rmtree(project.root / "bench" / "results")
    return project


@pytest.fixture
def bench_project(bench_project_template: DvcProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DvcProject:
    """A copy of the template of its own, as the current folder (a bench run there re-runs stages in it)."""
    project = copy_project(bench_project_template.root, tmp_path / "project")
    monkeypatch.chdir(project.root)
    monkeypatch.setenv("PATH", project.env["PATH"])  # DVC runs the stages' `python` from the virtual environment
    monkeypatch.setenv("PYTHONPATH", project.env["PYTHONPATH"])
    return project
