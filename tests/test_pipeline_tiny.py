"""The DVC pipeline end to end on tiny synthetic data: repro, no-op repro, and what a param change re-runs."""

import pytest

from tests.cnn_params import tiny_cnn_params
from tests.dvc_project import make_tiny_project

UPSTREAM_OF_CNN = ("download", "prepare", "extract_features", "classify", "visualize")


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    project = make_tiny_project(tmp_path_factory.mktemp("tiny"), tiny_params=tiny_cnn_params)
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


def test_cnn_lr_reruns_every_cnn_stage_and_no_feature_or_classify_stage(project):
    project.edit_params(lambda p: p["model"].update(lr=0.03))
    try:
        runs = project.stages_that_would_run()
        cnn_stages = {f"train_cnn@{arch}" for arch in project.params()["train_cnn"]["archs"]}
        assert cnn_stages <= set(runs)
        assert [stage for stage in runs if stage.startswith(UPSTREAM_OF_CNN)] == []
    finally:
        project.run("git", "checkout", "params.yaml")


def test_one_arch_setting_reruns_only_that_arch(project):
    project.edit_params(lambda p: p["cnn"]["dense2"].update(hidden=7))
    try:
        assert [s for s in project.stages_that_would_run() if s.startswith("train_cnn")] == ["train_cnn@dense2"]
    finally:
        project.run("git", "checkout", "params.yaml")


def test_dvc_plots_show_draws_the_cnn_learning_curves(project, tmp_path):
    project.dvc("plots", "show", "-o", str(tmp_path / "plots"))
    page = (tmp_path / "plots" / "index.html").read_text()
    for curve in ("train/batch_loss.tsv", "train/loss.tsv", "val/loss.tsv", "val/acc.tsv"):
        assert f"plots/cnn/lenet5/live/plots/metrics/{curve}" in page
    assert "plots/cnn/lenet5/predictions.csv" in page
