"""bench.gpu_pipeline: its scheduling on stand-in stages, and the GPU profile's stages on the CPU on tiny data."""

import argparse
import json
import shlex
import shutil
import time

import pytest

from bench import gpu_pipeline
from fmnist.report.pipeline_outputs import DeclaredStage
from tests.support.idx_files import write_raw_dir
from tests.support.stage_workdir import REPO, run_module, write_params
from tests.support.tiny_params import tiny_settings


def stage(name, code="pass", deps=(), outs=()):
    return DeclaredStage(name, f"python -c {shlex.quote(code)}", tuple(deps), tuple(outs))


def run(tmp_path, stages, budget_s=60.0, kill_s=60.0):
    record = gpu_pipeline.Record(tmp_path / "record.json", {})
    options = argparse.Namespace(budget_s=budget_s, kill_s=kill_s, gpu_workers=1, cpu_workers=2)
    gpu_pipeline.execute(stages, tmp_path, record, options)
    return json.loads(record.path.read_text())


def test_a_failed_stage_skips_what_reads_it_and_nothing_else(tmp_path):
    write = "import pathlib; pathlib.Path('a.txt').write_text('1')"
    body = run(
        tmp_path,
        [
            stage("prepare", write, outs=["a.txt"]),
            stage("extract_features@x", "raise SystemExit(3)", deps=["a.txt"], outs=["f/x.npy"]),
            stage("classify@x-lda", deps=["f/x.npy"], outs=["metrics/x.json"]),
            stage("classify@raw-lda", deps=["a.txt"]),
        ],
    )
    status = {name: s["status"] for name, s in body["stages"].items()}
    assert status == {
        "prepare": "ok",
        "extract_features@x": "rc 3",
        "classify@x-lda": "skipped: needs extract_features@x",
        "classify@raw-lda": "ok",
    }
    assert body["stages"]["extract_features@x"]["lane"] == "gpu" and body["stages_ok"] == 2


def writes(path, accuracy):
    return f"import json, pathlib; pathlib.Path('{path}').write_text(json.dumps({{'test_accuracy': {accuracy}}}))"


def test_the_best_test_accuracy_is_read_from_the_metrics_of_the_stages_that_ran(tmp_path):
    (tmp_path / "metrics").mkdir()
    body = run(
        tmp_path,
        [
            stage("train_cnn@a", writes("metrics/a.json", 0.5), outs=["metrics/a.json"]),
            stage("finetune@b", writes("metrics/b.json", 0.9), outs=["metrics/b.json"]),
            stage("finetune@c", writes("c.json", 0.99), outs=["c.json"]),  # not a metrics file
            stage("ensemble", writes("metrics/d.json", 0.999) + "; raise SystemExit(1)", outs=["metrics/d.json"]),
        ],
    )
    assert (body["best_test_accuracy"], body["best_stage"]) == (0.9, "finetune@b")
    assert body["stages"]["finetune@b"]["metrics"] == {"metrics/b.json": {"test_accuracy": 0.9}}


def test_nothing_starts_after_the_budget_and_a_stage_running_at_the_kill_time_is_stopped(tmp_path):
    body = run(tmp_path, [stage("train_cnn@a")], budget_s=-1)
    assert body["stages"]["train_cnn@a"]["status"] == "not started (budget)"
    body = run(tmp_path, [stage("train_cnn@a", "import time; time.sleep(60)")], kill_s=1.0)
    assert body["stages"]["train_cnn@a"]["status"] == "killed at --kill-s"
    assert body["stages"]["train_cnn@a"]["seconds"] < 30


def test_stages_that_wait_on_each_other_end_the_run_at_once(tmp_path):
    """A cycle (dvc.yaml refuses one, a hand-made plan may not) cannot hold the run until its budget."""
    start = time.monotonic()
    body = run(tmp_path, [stage("train_cnn@a", deps=["b"], outs=["a"]), stage("train_cnn@b", deps=["a"], outs=["b"])])
    assert time.monotonic() - start < 30
    assert {s["status"] for s in body["stages"].values()} == {"not started: waits on itself"}


def test_the_gpu_takes_the_fine_tunes_and_the_best_cnn_first():
    names = [
        "train_cnn@mlp",
        "sweep@filters",
        "finetune@lite0_whole_10",
        "train_cnn@resnet9",
        "finetune@lite0_whole_100",
    ]
    ordered = sorted((stage(n) for n in names), key=gpu_pipeline.gpu_rank)
    assert [s.name for s in ordered] == [
        "finetune@lite0_whole_100",
        "train_cnn@resnet9",
        "finetune@lite0_whole_10",
        "train_cnn@mlp",
        "sweep@filters",
    ]
    assert gpu_pipeline.lane_of(stage("classify@raw-lda")) == "cpu"


@pytest.mark.e2e  # the prepare and fine-tune stage scripts in fresh processes: about 20 s
def test_the_gpu_profile_runs_on_the_cpu_on_tiny_data(tmp_path):
    """The profile's own values for a 224-px Lite0 fine-tune with every device set to cpu, one epoch, on 18 images.
    The other stages are left out for the suite's time: the profile's values pass the schema (tests/test_profiles.py),
    and every arch and fine-tune mode trains on tiny data in tests/cnn/."""
    for name in ("dvc.yaml", "profiles"):
        (shutil.copytree if (REPO / name).is_dir() else shutil.copy)(REPO / name, tmp_path / name)

    write_params(tmp_path, tiny_settings)
    write_raw_dir(tmp_path / "data" / "raw", test_count=20)  # 18 images to fine-tune on, 20 to score
    stages = ["prepare", "finetune@*_10"]
    result = run_module(tmp_path, "bench.gpu_pipeline", "--smoke", "--out", str(tmp_path / "out"), "--stages", *stages)
    assert result.returncode == 0, result.stdout + result.stderr
    body = json.loads((tmp_path / "out" / "gpu-pipeline-cpu.json").read_text())
    statuses = {name: s["status"] for name, s in body["stages"].items()}
    assert statuses == dict.fromkeys(["prepare", "finetune@lite0_whole_10"], "ok")
    finetune = json.loads((tmp_path / "details" / "cnn" / "lite0_whole_10.json").read_text())
    assert (finetune["input_size"], finetune["device"].split()[0]) == (224, "cpu")
    assert body["device"] == "cpu" and body["profile"] == "gpu"
