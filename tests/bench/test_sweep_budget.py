"""bench/sweep_budget.py --smoke on the record sweep@hidden_units writes (the stage run in this process); DVC stood
in for, whose timed run bench/_repro.py makes for real in tests/bench/test_classify.py."""

import json

from bench import sweep_budget
from bench._repro import forced_repro
from fmnist.layout import Layout
from fmnist.records import load_record
from fmnist.report.pipeline_outputs import declared_stages
from tests.support.stage_workdir import REPO


def test_the_smoke_run_times_the_first_sweep_and_prints_each_value(tiny_workdir, run_stage_here, dvc_stand_in, capsys):
    run_stage_here("sweep", "--name", "hidden_units")
    commands = dvc_stand_in(sweep_budget, 40.0)
    assert sweep_budget.main(["--smoke"]) == 0
    assert commands == [forced_repro(["sweep@hidden_units"])]
    assert "sweep@hidden_units" in {stage.name for stage in declared_stages(REPO / "dvc.yaml")}
    assert json.loads(sweep_budget.WALL_TIME.read_text())["wall_seconds"] == 41.0
    out = capsys.readouterr().out
    values = load_record(Layout().sweep("hidden_units").record)["values"]
    assert sorted(values, key=int) == ["3", "8"]  # the tiny sweep's values
    for value, run in values.items():
        assert f"| {value} | {run['val_accuracy']:.4f} | {run['test_accuracy']:.4f} |" in out
    assert "filters" not in out  # the other sweeps neither ran nor were reported
