"""The DVC pipeline end to end on tiny synthetic data: repro, no-op repro, and what a param change re-runs."""

import pytest

from tests.dvc_project import make_tiny_project


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    project = make_tiny_project(tmp_path_factory.mktemp("tiny"))
    project.dvc("repro")
    project.commit_all("first run")
    return project


def test_repro_then_nothing_to_do(project):
    assert project.stages_that_would_run() == []
    assert "up to date" in project.dvc("status").stdout


def test_changing_the_split_seed_reruns_prepare_and_not_download(project):
    project.edit_params(lambda p: p["data"].update(seed=7))
    try:
        runs = project.stages_that_would_run()
        assert "prepare" in runs and "download" not in runs
    finally:
        project.run("git", "checkout", "params.yaml")
