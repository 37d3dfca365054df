"""bench/transfer_budget.py --smoke on a stand-in record: a tiny Lite0 fine-tune costs about 10 s of CPU, over the
suite's share for this check (every fine-tune mode trains on tiny data in tests/cnn/). DVC stood in for, whose timed
run bench/_repro.py makes for real in tests/bench/test_classify.py."""

import json

from bench import transfer_budget
from bench._repro import forced_repro
from fmnist.layout import Layout


def test_the_smoke_run_times_the_first_fine_tune_alone_and_prints_it_against_its_report(
    tiny_workdir, dvc_stand_in, capsys
):
    commands = dvc_stand_in(transfer_budget, 12.0)
    metrics = Layout().record("cnn", "lite0_whole_10").metrics
    metrics.parent.mkdir(parents=True)
    metrics.write_text(json.dumps({"test_accuracy": 0.9, "val_accuracy": 0.91}))
    assert transfer_budget.main(["--smoke"]) == 0
    assert commands == [forced_repro(["finetune@lite0_whole_10"])]  # the tiny params' first run, one DVC process
    assert json.loads(transfer_budget.WALL_TIMES.read_text())["seconds"] == {"lite0_whole_10": 13.0}
    out = capsys.readouterr().out
    assert (
        "| finetune@lite0_whole_10 | 0.9000 | 001: ResNet-18, 10 % of the data | 0.9069 | -0.0069 | 0.9100 | 13 |"
        in out
    )
    assert "wall clock of these stages: 13 s, within the 1500 s budget" in out


def test_a_run_of_some_stages_keeps_the_others_figures(tiny_workdir, dvc_stand_in):
    transfer_budget.WALL_TIMES.parent.mkdir(parents=True)
    transfer_budget.WALL_TIMES.write_text(json.dumps({"seconds": {"ensemble": 140.0}}))
    dvc_stand_in(transfer_budget, 29.0)
    for run in ("lite0_whole_10", "ensemble"):
        metrics = Layout().record("cnn", run).metrics
        metrics.parent.mkdir(parents=True, exist_ok=True)
        metrics.write_text(json.dumps({"test_accuracy": 0.95, "val_accuracy": 0.95}))
    transfer_budget.main(["--stages", "lite0_whole_10"])
    assert json.loads(transfer_budget.WALL_TIMES.read_text())["seconds"] == {"ensemble": 140.0, "lite0_whole_10": 30.0}
