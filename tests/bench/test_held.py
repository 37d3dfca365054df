"""bench/_held.py: which outputs of a forced run kept the committed dvc.lock's bytes (bench.repro_time's `held`; on a
tiny DVC project: tests/pipeline/test_tiny.py, test_tiny_runs.py)."""

import json
import subprocess

import yaml

from bench import _held, _repro, repro_time


def lock(**stages: dict[str, str]) -> dict:
    return {
        "schema": "2.0",
        "stages": {name: {"outs": [{"path": p, "md5": m} for p, m in outs.items()]} for name, outs in stages.items()},
    }


COMMITTED = lock(
    **{
        "extract_features@raw": {"features/raw": "a.dir", "features/raw/info.json": "i1"},
        "classify@raw-lda": {"details/classify/raw-lda.json": "d1", "metrics/classify/raw-lda.json": "m1"},
        "train_cnn@mlp": {"models/cnn/mlp.pt": "w1", "plots/cnn/mlp/live/plots/metrics": "c1.dir"},
    }
)


def test_results_that_moved_are_named_and_records_are_counted_apart():
    ran = lock(
        **{
            "extract_features@raw": {"features/raw": "a.dir", "features/raw/info.json": "i2"},
            "classify@raw-lda": {"details/classify/raw-lda.json": "d1", "metrics/classify/raw-lda.json": "m2"},
            "train_cnn@mlp": {"models/cnn/mlp.pt": "w2", "plots/cnn/mlp/live/plots/metrics": "c2.dir"},
        }
    )
    held = _held.compare(COMMITTED, ran, ["extract_features@raw", "classify@raw-lda"])
    assert held == {
        "same": ["features/raw"],
        "differ": ["metrics/classify/raw-lda.json"],  # train_cnn@mlp did not run: not compared
        "records_same": 1,
        "records_differ": 1,
    }
    held = _held.compare(COMMITTED, ran, ["train_cnn@mlp"])
    assert held == {"same": [], "differ": ["models/cnn/mlp.pt"], "records_same": 0, "records_differ": 1}  # curves


def test_an_output_or_stage_the_commit_lacks_has_moved():
    ran = lock(
        **{"train_cnn@mlp": {"models/cnn/mlp.pt": "w1", "plots/cnn/mlp/predictions.csv": "p"}, "new": {"x": "y"}}
    )
    held = _held.compare(COMMITTED, ran, ["train_cnn@mlp", "new"])
    assert held["same"] == ["models/cnn/mlp.pt"] and held["differ"] == ["plots/cnn/mlp/predictions.csv", "x"]


def git_workdir(tmp_path, committed: dict | None):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "README").write_text("x")
    if committed is not None:
        (tmp_path / "dvc.lock").write_text(yaml.safe_dump(committed))
    identity = ["-c", "user.name=t", "-c", "user.email=t@localhost"]
    subprocess.run(["git", "-C", str(tmp_path), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(tmp_path), *identity, "commit", "-qm", "run"], check=True)


def test_the_run_is_compared_with_its_commit_and_the_answer_stored_in_its_record(tmp_path, capsys):
    git_workdir(tmp_path, COMMITTED)
    ran = json.loads(json.dumps(COMMITTED))
    ran["stages"]["train_cnn@mlp"]["outs"][0]["md5"] = "w2"
    (tmp_path / "dvc.lock").write_text(yaml.safe_dump(ran))
    record = tmp_path / "repro_time.json"
    record.write_text(json.dumps({"stages": {"prepare": None, "train_cnn@mlp": 9.0}, "total": 9.5, "cpu": "x"}))
    repro_time.main(["--held-only", "--workdir", str(tmp_path), "--out", str(record)])
    stored = json.loads(record.read_text())
    assert stored["total"] == 9.5 and stored["held"]["differ"] == ["models/cnn/mlp.pt"] and stored["held"]["same"] == []
    assert capsys.readouterr().out.splitlines() == [
        "prepare                                         not timed",
        "train_cnn@mlp                                      9.0 s",
        "train_cnn (all)                                    9.0 s",
        "total                                              9.5 s = 0.2 min, CPU x (None)",
        "results with the committed bytes: 0 of 1",
        "  differs: models/cnn/mlp.pt",
        "records (timings, machine): 1 of 1 the same",
    ]


def test_a_commit_without_a_dvc_lock_has_nothing_to_compare_with(tmp_path):
    git_workdir(tmp_path, None)
    (tmp_path / "dvc.lock").write_text(yaml.safe_dump(COMMITTED))
    assert _held.held_bytes(tmp_path, ["train_cnn@mlp"]) is None


def test_the_instruction_set_tells_cpu_generations_apart(monkeypatch):
    for flags, expected in (
        ("fpu avx avx2 avx512f avx512bw", "avx512"),
        ("fpu avx avx2 fma", "avx2"),
        ("fpu sse2", "other"),
    ):
        monkeypatch.setattr(_repro, "cpuinfo", lambda field, flags=flags: flags if field == "flags" else None)
        assert _repro.instruction_set() == expected
    monkeypatch.setattr(_repro, "cpuinfo", lambda field: None)
    assert _repro.instruction_set() == "other"
