"""The DVC pipeline end to end on tiny synthetic data: repro, no-op repro, and what a param change re-runs."""

import json

import numpy as np
import pytest

from tests.dvc_project import make_tiny_project
from tests.tiny_params import tiny_pipeline


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    project = make_tiny_project(tmp_path_factory.mktemp("tiny"), tiny_params=tiny_pipeline)
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


def test_changing_scatnet_params_reruns_only_the_scatnet_extraction(project):
    project.edit_params(lambda p: p["features"]["scatnet"].update(J=3))
    try:
        assert project.stages_that_would_run() == ["extract_features@scatnet"]
    finally:
        project.run("git", "checkout", "params.yaml")


def test_feature_sets_are_written_for_every_image(project):
    for name, dim in (("raw", 784), ("scatnet", 176), ("scatnet_rich", 3969), ("resnet18", 512)):
        folder = project.root / "features" / name
        assert np.load(folder / "train.npy").shape == (200, dim)
        assert np.load(folder / "test.npy").shape == (50, dim)
        assert json.loads((folder / "info.json").read_text())["dimension"] == dim


def test_pictures_and_report_from_the_tiny_run(project):
    root = project.root
    for method in ("pca", "tsne", "umap", "lle"):
        info = json.loads((root / f"metrics/visualize/raw-{method}.json").read_text())
        assert info["n_points"] == 200 and (root / info["png"]).is_file()
        assert len((root / f"plots/visualize/raw-{method}.csv").read_text().splitlines()) == 201
    assert (root / "figures/samples/classes.png").is_file()
    assert json.loads((root / "figures/gallery/gallery.json").read_text())["galleries"] is not None
    report = (root / "reports/report.md").read_text()
    assert "## Embeddings" in report and "| **raw** |" in report
    assert (root / "reports/report.html").read_text().count("data:image/png;base64,") >= 5


def test_changing_tsne_params_reruns_only_the_tsne_picture(project):
    project.edit_params(lambda p: p["visualize"]["tsne"].update(perplexity=12))
    try:
        assert project.stages_that_would_run() == ["visualize@raw-tsne"]
    finally:
        project.run("git", "checkout", "params.yaml")
