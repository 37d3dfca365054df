"""The tiny pipeline re-run for real (test_tiny.py has the dry runs): a changed param runs its stage and every stage
that reads what it changed, and a forced re-run of an unchanged stage reproduces its metrics byte for byte."""

import numpy as np
import pytest

from bench import _held
from tests.support.dvc_project import stages_run


@pytest.fixture
def project(tiny_pipeline):
    """The session's tiny pipeline run (tests/conftest.py); tests restore what they change."""
    return tiny_pipeline


def test_a_real_repro_after_a_scatnet_change_runs_its_feature_set_and_what_reads_it_and_nothing_else(project):
    # Unlike the dry runs here, a real run sees that the new features differ, so the stages reading them run too.
    params = project.params()
    readers = [f"classify@scatnet-{model}" for model in params["classify"]["models"]]
    if "scatnet" in params["visualize"]["features"]:  # not in the tiny project (its pictures are of raw only)
        readers += [f"visualize@scatnet-{method}" for method in params["visualize"]["methods"]]
    try:
        project.edit_params(lambda p: p["features"]["scatnet"].update(J=3))
        # --no-run-cache: every stage that must run does, rather than being restored from an earlier run's cache.
        ran = stages_run(project.dvc("repro", "--no-run-cache").stdout)
        assert sorted(ran) == sorted(["check_params", "extract_features@scatnet", *readers, "gallery", "report"])
        assert np.load(project.root / "features" / "scatnet" / "test.npy").shape[1] != 176  # J=3 was used
    finally:  # back to the committed run: params, lock file, metrics and reports from git, the rest from the cache
        project.run("git", "checkout", "--", "params.yaml", "dvc.lock", "metrics", "reports")
        project.run("git", "clean", "-fdq", "--", "reports")  # pictures of the new run's best models
        project.dvc("checkout", "--force")
    assert project.run("git", "status", "--porcelain").stdout == ""


def test_metrics_are_headline_numbers_in_git_and_a_reproducing_rerun_diffs_nothing(project):
    tracked = project.run("git", "ls-files", "metrics").stdout.split()
    assert "metrics/classify/raw-lda.json" in tracked and "metrics/cnn/lenet5.json" in tracked
    show = project.dvc("metrics", "show", "--md").stdout
    assert "test_accuracy" in show and not any(word in show for word in ("seconds", "per_class", "device"))
    try:
        project.dvc("repro", "--force", "--single-item", "classify@raw-lda")
        assert project.dvc("metrics", "diff").stdout.strip() == ""  # same predictions, same metrics
        assert _held.held_bytes(project.root, ["classify@raw-lda"]) == {
            "same": ["metrics/classify/raw-lda.json", "plots/classify/raw-lda.csv"],
            "differ": [],
            "records_same": 0,
            "records_differ": 1,  # the details: their timings
        }
    finally:  # the forced run re-wrote the details (their timings): back to the committed run
        project.run("git", "checkout", "dvc.lock")
        project.dvc("checkout", "--force")
    assert project.stages_that_would_run() == []
