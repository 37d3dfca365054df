"""fmnist.cnn.curves: learning curves appear complete or not at all, a killed run's leftovers go away, and the
series of a real training run are indexed by epoch and by batch."""

import csv
import math
from pathlib import Path

import torch
import yaml

from fmnist.cnn.curves import LiveCurves
from fmnist.cnn.loop import fit, seed_everything
from fmnist.cnn.nets import build_net
from fmnist.recipe import Recipe
from tests.cnn.test_loop import tiny_data
from tests.support.dvc_project import DvcProject
from tests.support.tiny_params import tiny_cnn

REPO = Path(__file__).resolve().parents[2]


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_curves_are_published_in_place_of_the_old_ones(tmp_path):
    live = tmp_path / "plots" / "cnn" / "mlp" / "live"
    (live / "plots" / "metrics").mkdir(parents=True)
    (live / "plots" / "metrics" / "old.tsv").write_text("from the previous run\n")
    curves = LiveCurves(live)
    curves.scope().epoch(1, {"val/acc": 0.5})
    assert files_under(live) == ["plots/metrics/old.tsv"]  # untouched until publish
    curves.publish()
    assert "plots/metrics/val/acc.tsv" in files_under(live) and "plots/metrics/old.tsv" not in files_under(live)
    assert sorted(p.name for p in live.parent.iterdir()) == ["live"]


def test_a_killed_runs_partial_curves_are_removed_by_the_next_run(tmp_path):
    live = tmp_path / "live"
    stale = tmp_path / ".live.partial"  # what `kill -9` of train_cnn@<arch> mid-training leaves
    (stale / "plots" / "metrics" / "net3" / "train").mkdir(parents=True)
    (stale / "plots" / "metrics" / "net3" / "train" / "loss.tsv").write_text("step\tloss\n1\t2.3\n")
    (stale / "metrics.json").write_text("{}")
    curves = LiveCurves(live)
    assert not (stale / "plots" / "metrics" / "net3").exists()
    curves.scope().epoch(1, {"val/acc": 0.5})
    curves.publish()
    assert not stale.exists()
    assert not any("net3" in name for name in files_under(live))


def test_a_failed_run_leaves_no_partial_curves(tmp_path):
    curves = LiveCurves(tmp_path / "live")
    curves.scope().batch(1, 2.3)
    curves.discard()
    assert list(tmp_path.iterdir()) == []


def series(folder: Path, name: str) -> tuple[list[int], list[float]]:
    """The steps and values of one published dvclive series (a TSV: timestamp, step, value)."""
    with open(folder / f"{name}.tsv", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return [int(row["step"]) for row in rows], [float(row[name.rsplit("/", 1)[-1]]) for row in rows]


def test_epoch_values_are_indexed_by_epoch_and_batch_losses_by_batch(tmp_path):
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    tiny_cnn(params)
    # 40 training images in batches of 32: 2 batches per epoch; 3 epochs, patience never reached.
    recipe = Recipe.from_params({**params["model"], "epochs": 3, "patience": 3})
    seed_everything(0)
    curves = LiveCurves(tmp_path / "live")
    net = build_net("mlp", params["cnn"]["mlp"])
    fit(net, tiny_data(recipe), recipe, torch.device("cpu"), curves.scope("net2/"), "mlp net 2")
    curves.publish()
    metrics = tmp_path / "live" / "plots" / "metrics" / "net2"
    for name in ("train/loss", "train/acc", "val/loss", "val/acc", "lr"):
        steps, values = series(metrics, name)
        assert steps == [1, 2, 3], name
        assert all(math.isfinite(v) and v >= 0 for v in values), name
    steps, losses = series(metrics, "train/batch_loss")
    assert steps == [1, 2, 3, 4, 5, 6] and all(loss > 0 for loss in losses)


def test_curves_leave_the_projects_dvc_yaml_and_experiments_alone(tmp_path, monkeypatch):
    """Run from a git + DVC project with a commit, as a stage is: dvclive must not add its own dvc.yaml entries
    (the plots are declared in the project's dvc.yaml) nor start an experiment of its own (DVC runs the stage)."""
    project = DvcProject(tmp_path)
    project.run("git", "init", "-q")
    project.dvc("init", "-q")
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    project.run("git", "add", "-A")
    project.run("git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "project")
    monkeypatch.chdir(tmp_path)
    before = files_under(tmp_path)
    curves = LiveCurves(tmp_path / "plots" / "live")
    curves.scope().epoch(1, {"val/acc": 0.5})
    curves.publish()
    added = set(files_under(tmp_path)) - set(before)
    assert (tmp_path / "dvc.yaml").read_text() == "stages: {}\n"
    assert added and all(name.startswith("plots/live/plots/metrics/") for name in added), sorted(added)
