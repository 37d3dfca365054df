"""bench/cnn_budget.py --smoke on the record train_cnn@mlp writes (the stage run in this process); DVC stood in for,
whose timed run bench/_repro.py makes for real in tests/bench/test_classify.py."""

import json

from bench import cnn_budget
from bench._repro import forced_repro
from fmnist.layout import Layout
from fmnist.records import load_record
from fmnist.report.pipeline_outputs import declared_stages
from tests.support.stage_workdir import REPO


def test_the_smoke_run_times_the_first_arch_and_prints_its_row(tiny_workdir, run_stage_here, dvc_stand_in, capsys):
    run_stage_here("train_cnn", "--arch", "mlp")  # the tiny params' first arch
    commands = dvc_stand_in(cnn_budget, 30.0)
    assert cnn_budget.main(["--smoke"]) == 0
    assert commands == [forced_repro(["train_cnn@mlp"])]
    assert "train_cnn@mlp" in {stage.name for stage in declared_stages(REPO / "dvc.yaml")}
    assert json.loads(cnn_budget.WALL_TIME.read_text())["archs"] == ["mlp"]
    out = capsys.readouterr().out
    record = load_record(Layout().record("cnn", "mlp"))
    assert (
        f"| mlp | {record['test_accuracy']:.4f} | 0.8812 | {record['macro_f1']:.4f} | {record['best_epoch']} |" in out
    )
    assert "wall clock of `dvc repro` of all 1 stages: 31 s, within the 1800 s budget" in out
