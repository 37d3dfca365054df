"""bench/classify.py --smoke in a tiny DVC project: DVC runs the first classify stage, the bench times it and prints
the tables from the records."""

import json
import math

import pytest

from bench import classify
from fmnist.layout import Layout
from fmnist.records import load_record


@pytest.mark.e2e  # DVC and a classify stage in fresh processes: about 5 s
def test_the_smoke_run_times_the_first_stage_and_prints_its_accuracy(bench_project, capsys):
    classify.main(["--smoke"])
    times = json.loads(classify.WALL_TIMES.read_text())
    assert set(times) == {"classify@raw-lda", classify.WHOLE_RUN}
    stage, whole = times["classify@raw-lda"]["seconds"], times[classify.WHOLE_RUN]["seconds"]
    assert 0 < stage <= whole < 600 and math.isfinite(whole)
    out = capsys.readouterr().out
    accuracy = load_record(Layout().record("classify", "raw-lda"))["test_accuracy"]
    assert "| raw | " + f"{accuracy:.4f} |" in out  # the accuracy table's first cell
    assert f"for 1 of {len(classify.classify_stages())} stages" in out


def test_the_stages_are_read_from_dvc_yaml_with_their_feature_and_model(bench_project):
    stages = classify.classify_stages()
    assert stages[0] == ("classify@raw-lda", "raw", "lda")
    assert ("classify_wide@efficientnet_lite0-lda", "efficientnet_lite0", "lda") in stages  # the tiny wide matrix
