"""bench/cpu_spread.py: its smoke run trains the tiny params' first arch under two settings, each in a folder of its
own, and the spread of an arch's runs says what held."""

import json

import pytest

from bench import cpu_spread
from fmnist.layout import Layout

RUN = {"test_accuracy": 0.9, "seconds": 1.0, "checkpoint_sha256": "a"}


def test_the_smoke_run_trains_the_first_arch_natively_and_as_an_avx2_cpu(tiny_workdir, tmp_path, capsys):
    out = tmp_path / "spread.json"
    cpu_spread.main(["--smoke", "--workdir", str(tmp_path / "runs"), "--out", str(out)])
    record = json.loads(out.read_text())["archs"]["mlp"]  # the tiny params' first arch
    assert list(record["runs"]) == ["native", "avx2"]
    for setting, run in record["runs"].items():
        assert 0.0 <= run["test_accuracy"] <= 1.0 and len(run["checkpoint_sha256"]) == 64
        assert Layout(tmp_path / "runs" / setting).cnn("mlp").checkpoint.is_file()
    assert not (tiny_workdir / "models").exists()  # the project's own outputs are left alone
    assert record["accuracy_spread"] == pytest.approx(
        max(r["test_accuracy"] for r in record["runs"].values())
        - min(r["test_accuracy"] for r in record["runs"].values())
    )
    assert capsys.readouterr().out.splitlines()[-1].startswith("| mlp | ")


def test_a_setting_reaches_the_stage_process_and_its_failure_names_it(tiny_workdir, tmp_path, monkeypatch):
    monkeypatch.setitem(cpu_spread.SETTINGS, "no_project", {"PYTHONPATH": str(tmp_path / "nowhere")})
    with pytest.raises(SystemExit, match="train_cnn@mlp under no_project failed"):
        cpu_spread.train("mlp", "no_project", tiny_workdir, tmp_path / "runs")


def test_the_spread_is_the_accuracy_range_and_bytes_hold_only_if_every_checkpoint_is_the_native_one():
    same = {"native": RUN, "avx2": {**RUN, "test_accuracy": 0.897}}
    assert cpu_spread.spread(same) == {"accuracy_spread": 0.003, "bytes_identical": True}
    assert not cpu_spread.spread({**same, "sse4": {**RUN, "checkpoint_sha256": "b"}})["bytes_identical"]
    assert not cpu_spread.spread({"avx2": RUN})["bytes_identical"]  # nothing to hold to


def test_the_report_of_a_missing_results_file_says_how_to_make_one(tmp_path):
    with pytest.raises(SystemExit, match="no results yet; run `python -m bench.cpu_spread`"):
        cpu_spread.main(["--report-only", "--out", str(tmp_path / "none.json")])
