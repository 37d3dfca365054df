"""fmnist.cnn.curves: learning curves appear complete or not at all, and a killed run's leftovers go away."""

from pathlib import Path

from fmnist.cnn.curves import LiveCurves


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
