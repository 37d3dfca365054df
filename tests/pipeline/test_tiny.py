"""The DVC pipeline end to end on tiny synthetic data: no-op repro, what a param change would re-run (dry runs), and
the outputs of the run. The real re-runs are in test_tiny_runs.py (a file of its own, so that pytest-xdist gives the two
files at the end of `make test` one worker each)."""

import itertools
import json
import re
from urllib.parse import unquote

import numpy as np
import pytest

from bench import repro_time
from fmnist.cores import cpu_model
from tests.conftest import REPRO_TIME
from tests.support.tiny_params import FEATURE_DIMS

UPSTREAM_OF_CNN = ("download", "prepare", "extract_features", "classify", "visualize")


@pytest.fixture
def project(tiny_pipeline):
    """The session's tiny pipeline run (tests/conftest.py); tests restore what they change."""
    return tiny_pipeline


def test_repro_then_nothing_to_do(project):
    assert project.stages_that_would_run() == []
    assert "up to date" in project.dvc("status").stdout


def test_changing_the_split_seed_reruns_prepare_and_not_download(project):
    with project.edited_params(lambda p: p["data"].update(seed=7)):
        runs = project.stages_that_would_run()
        assert "prepare" in runs and "download" not in runs


def test_changing_scatnet_params_reruns_only_the_scatnet_extraction(project):
    with project.edited_params(lambda p: p["features"]["scatnet"].update(J=3)):
        assert project.stages_that_would_run() == ["check_params", "extract_features@scatnet"]


def test_cnn_lr_reruns_every_cnn_stage_and_no_feature_or_classify_stage(project):
    with project.edited_params(lambda p: p["model"].update(lr=0.03)):
        runs = project.stages_that_would_run()
        cnn_stages = {f"train_cnn@{arch}" for arch in project.params()["train_cnn"]["archs"]}
        assert cnn_stages <= set(runs)
        assert [stage for stage in runs if stage.startswith(UPSTREAM_OF_CNN)] == []


def test_feature_sets_are_written_for_every_image(project):
    for name, dim in FEATURE_DIMS.items():
        folder = project.root / "features" / name
        assert np.load(folder / "train.npy").shape == (200, dim)
        assert np.load(folder / "test.npy").shape == (50, dim)
        assert json.loads((folder / "info.json").read_text())["dimension"] == dim


def test_changing_one_models_grid_reruns_only_that_models_stages(project):
    features = project.params()["classify"]["features"]
    with project.edited_params(lambda p: p["classify"]["knn"]["grid"].update(n_neighbors=[3])):
        assert sorted(project.stages_that_would_run()) == sorted(
            ["check_params", "check_grids"] + [f"classify@{f}-knn" for f in features]
        )


def test_the_classify_lists_add_stages_without_rerunning_the_others(project):
    with project.edited_params(lambda p: p["classify"].update(models=["lda", "knn", "svm"])):
        runs = project.stages_that_would_run()
        assert sorted(runs) == sorted(
            ["check_params", "check_grids"] + [f"classify@{f}-svm" for f in project.params()["classify"]["features"]]
        )
    with project.edited_params(lambda p: p["classify"].update(wide_models=["lda", "knn"])):
        assert sorted(project.stages_that_would_run()) == [
            "check_grids",
            "check_params",
            "classify_wide@efficientnet_lite0-knn",
        ]


def test_a_model_in_both_matrices_reruns_its_stages_in_both(project):
    params = project.params()["classify"]
    with project.edited_params(lambda p: p["classify"]["lda"]["grid"].update(shrinkage=[0.001])):
        assert sorted(project.stages_that_would_run()) == sorted(
            ["check_params", "check_grids"]
            + [f"classify@{f}-lda" for f in params["features"]]
            + [f"classify_wide@{f}-lda" for f in params["wide_features"]]
        )


def test_one_arch_setting_reruns_only_that_arch(project):
    # and the ensemble, which reads every net's section to rebuild its candidates (a 2-minute stage on the full data)
    with project.edited_params(lambda p: p["cnn"]["mlp"].update(dropout=0.2)):
        assert sorted(project.stages_that_would_run()) == ["check_params", "ensemble", "train_cnn@mlp"]


def test_classify_outputs_for_every_feature_and_model_of_both_matrices(project):
    params = project.params()["classify"]
    # tests/support/tiny_params.py: two sets with two models, and a wide set with one of them
    assert (params["features"], params["models"]) == (["raw", "scatnet"], ["lda", "knn"])
    assert (params["wide_features"], params["wide_models"]) == (["efficientnet_lite0"], ["lda"])
    pairs = [*itertools.product(params["features"], params["models"]), ("efficientnet_lite0", "lda")]
    for feature, model in pairs:
        metrics = json.loads((project.root / "metrics" / "classify" / f"{feature}-{model}.json").read_text())
        assert sorted(metrics) == ["cv_accuracy_mean", "macro_f1", "test_accuracy"]
        details = json.loads((project.root / "details" / "classify" / f"{feature}-{model}.json").read_text())
        assert (details["feature"], details["model"], details["train_size"]) == (feature, model, 200)
        assert {"per_class", "confusion_matrix", "best_params", "fit_seconds"} <= set(details)
        assert not set(details) & set(metrics)
        lines = (project.root / "plots" / "classify" / f"{feature}-{model}.csv").read_text().splitlines()
        assert lines[0] == "index,actual,predicted" and len(lines) == 51
    assert not (project.root / "metrics" / "classify" / "efficientnet_lite0-knn.json").exists()  # not a wide model


def test_dvc_plots_show_draws_the_cnn_learning_curves(project, tmp_path):
    project.dvc("plots", "show", "-o", str(tmp_path / "plots"))
    page = (tmp_path / "plots" / "index.html").read_text()
    for curve in ("train/batch_loss.tsv", "train/loss.tsv", "val/loss.tsv", "val/acc.tsv"):
        assert f"plots/cnn/lenet5/live/plots/metrics/{curve}" in page
    assert "plots/cnn/lenet5/predictions.csv" in page
    for name in ("hidden_units", "filters", "kernel_size"):  # titled in dvc.yaml, so found by their titles
        assert f"{name} sweep, validation accuracy" in page and f"{name} sweep, test accuracy against" in page


def test_report_003s_sweeps_ran_and_one_sweeps_values_rerun_only_that_sweep(project):
    sweeps = project.params()["sweeps"]
    for name, sweep in sweeps.items():
        final = (project.root / f"plots/sweeps/{name}/final.csv").read_text().splitlines()
        assert (
            final[0] == "value,val_acc,test_acc" and [int(line.split(",")[0]) for line in final[1:]] == sweep["values"]
        )
        metrics = json.loads((project.root / f"metrics/sweeps/{name}.json").read_text())
        assert sorted(metrics) == ["best_value", "test_accuracy", "val_accuracy"]
    report = (project.root / "reports/report.md").read_text()
    assert "## Report 003's sweeps" in report and report.count("figures/sweep-") == len(sweeps)
    with project.edited_params(lambda p: p["sweeps"]["filters"].update(values=[2, 4, 6])):
        assert project.stages_that_would_run() == ["check_params", "sweep@filters"]


def test_pictures_and_report_from_the_tiny_run(project):
    root = project.root
    methods = project.params()["visualize"]["methods"]
    assert methods == ["pca", "tsne"]  # tests/support/tiny_params.py
    for method in methods:
        assert sorted(json.loads((root / f"metrics/visualize/raw-{method}.json").read_text())) == ["knn5_accuracy_2d"]
        info = json.loads((root / f"details/visualize/raw-{method}.json").read_text())
        assert info["n_points"] == 200 and (root / info["png"]).is_file()
        assert len((root / f"plots/visualize/raw-{method}.csv").read_text().splitlines()) == 201
    assert (root / "figures/samples/classes.png").is_file()
    galleries = json.loads((root / "figures/gallery/gallery.json").read_text())["galleries"]
    assert [g["kind"] for g in galleries] == ["classify", "cnn"]  # the best classifier's and the best CNN's
    assert all((root / g["png"]).is_file() for g in galleries)
    report = (root / "reports/report.md").read_text()
    assert "## Embeddings" in report and "| **raw** |" in report
    assert (root / "reports/report.html").read_text().count("data:image/png;base64,") >= 5


def test_changing_tsne_params_reruns_only_the_tsne_picture(project):
    with project.edited_params(lambda p: p["visualize"]["tsne"].update(perplexity=12)):
        assert project.stages_that_would_run() == ["check_params", "visualize@raw-tsne"]


def test_a_fine_tune_change_reruns_that_fine_tune_and_the_ensemble_only(project):
    with project.edited_params(lambda p: p["finetune"]["lite0_whole_10"].update(epochs=2)):
        assert set(project.stages_that_would_run()) == {"check_params", "finetune@lite0_whole_10", "ensemble"}


def test_the_small_nets_recipe_reruns_no_fine_tune(project):
    with project.edited_params(lambda p: p["model"].update(lr=0.03)):
        assert not [stage for stage in project.stages_that_would_run() if stage.startswith("finetune@")]


def test_the_report_is_in_git_and_a_plain_clone_shows_every_picture(project, tmp_path):
    """reports/ is an uncached output (dvc.yaml), committed with the run (tests/conftest.py): report.md, every picture
    it links (all in reports/figures, the other stages' ones copied there) and report.html; nothing of it git-ignored.
    A `git clone` without `dvc pull` (a newcomer's first look, a web view of the repository) shows them all."""
    tracked = project.run("git", "ls-files", "reports").stdout.split()
    assert {"reports/report.md", "reports/report.html"} <= set(tracked)
    assert project.run("git", "status", "--porcelain").stdout == ""
    assert project.run("git", "check-ignore", "-v", "reports/report.md", check=False).returncode == 1  # none
    report = (project.root / "reports/report.md").read_text()
    linked = sorted({f"reports/{unquote(link)}" for link in re.findall(r"!\[(?:\\.|[^\]\\])*\]\(([^)]*)\)", report)})
    assert linked == sorted(p for p in tracked if p.endswith(".png"))  # each picture tracked, none unshown
    assert all(link.startswith("reports/figures/") for link in linked)
    others = [link for link in linked if (project.root / link.removeprefix("reports/")).is_file()]
    assert {link.split("/")[2] for link in others} == {"visualize", "gallery", "samples"}
    for link in others:  # a copy, byte for byte, of the picture its stage drew
        assert (project.root / link).read_bytes() == (project.root / link.removeprefix("reports/")).read_bytes()
    clone = tmp_path / "clone"
    project.run("git", "clone", "-q", str(project.root), str(clone))
    for path in ["reports/report.md", "reports/report.html", *linked]:
        assert (clone / path).read_bytes() == (project.root / path).read_bytes(), path


def test_the_tiny_pipeline_was_built_by_its_timed_run_and_every_stage_is_timed(project, capsys):
    record = json.loads((project.root / REPRO_TIME).read_text())
    every_stage = [line.split()[0] for line in project.dvc("stage", "list", "--all").stdout.splitlines()]
    # All ran but download, whose synthetic raw files make_tiny_project committed.
    assert sorted(record["stages"]) == sorted(stage for stage in every_stage if stage != "download")
    assert all(seconds > 0 for seconds in record["stages"].values())
    assert sum(record["stages"].values()) <= record["total"]
    assert record["command"][-2:] == ["dvc", "repro"] and record["tiny"] and record["cpu"] == cpu_model()
    assert record["held"] is None  # tiny params: not the committed run's, nothing to compare
    repro_time.main(["--report-only", "--out", str(project.root / REPRO_TIME)])
    assert capsys.readouterr().out.splitlines()[-1].startswith("total")
