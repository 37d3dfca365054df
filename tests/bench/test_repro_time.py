"""bench/repro_time.py in parts that together make its whole run: its clone of the repository, the summary of a
record and the command it would run. Its timed run builds the suite's tiny pipeline (tests/conftest.py), checked in
tests/pipeline/test_tiny.py."""

import json
import subprocess
import sys

import pytest
import yaml

from bench import repro_time
from bench._repro import timed_stages
from fmnist.params import load_params
from tests.support.stage_workdir import REPO, write_params
from tests.support.tiny_params import tiny_settings

STAND_IN = """
import time
for stage in ("prepare", "extract_features@raw"):
    print(f"Running stage '{stage}':", flush=True)
    time.sleep(0.2)
"""


def test_each_stage_is_timed_from_its_running_line_to_the_next(tmp_path):
    ended = []
    stages, total = timed_stages([sys.executable, "-c", STAND_IN], cwd=tmp_path, on_stage=lambda *s: ended.append(s))
    assert [name for name, _ in stages] == ["prepare", "extract_features@raw"] and ended == stages
    assert all(0.1 < seconds < 5 for _, seconds in stages) and sum(s for _, s in stages) <= total


def test_the_report_sums_each_stage_family(tmp_path, capsys):
    record = {"stages": {"prepare": 3.0, "classify@raw-lda": 10.0, "classify@raw-knn": 20.5}, "total": 60.0, "cpu": "x"}
    (tmp_path / "repro_time.json").write_text(json.dumps(record))
    repro_time.main(["--report-only", "--out", str(tmp_path / "repro_time.json")])
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:3] for line in lines[3:5]] == [["prepare", "(all)", "3.0"], ["classify", "(all)", "30.5"]]
    assert lines[-1].split()[:5] == ["total", "60.0", "s", "=", "1.0"]


def test_a_run_that_fails_keeps_the_stages_it_finished_and_has_no_total(tmp_path, capsys):
    out = tmp_path / "repro_time.json"
    failing = [sys.executable, "-c", STAND_IN + "raise SystemExit(3)"]
    with pytest.raises(SystemExit, match="failed"):
        repro_time.timed_run(tmp_path, failing, out, tiny=True, env={})
    record = json.loads(out.read_text())
    assert list(record["stages"]) == ["prepare", "extract_features@raw"] and record["total"] is None
    repro_time.main(["--report-only", "--out", str(out)])
    assert capsys.readouterr().out.splitlines()[-1].startswith("stopped before its end: 2 stages timed, CPU ")


def test_tiny_params_run_as_dvc_repro_forced(tmp_path):
    write_params(tmp_path, tiny_settings)  # every backbone random or with its installed ImageNet weights
    assert repro_time.repro_command(load_params(tmp_path / "params.yaml")) == ["dvc", "repro", "--force"]
    assert repro_time.REPO == REPO


def test_the_clone_is_the_committed_repository_with_its_own_cache_and_tiny_params_committed(tmp_path):
    workdir = tmp_path / "clone"
    repro_time.clone(workdir, tiny=True)
    git = ["git", "-C", str(workdir)]
    assert subprocess.run([*git, "status", "--porcelain"], capture_output=True, text=True).stdout == ""
    head = subprocess.run([*git, "rev-parse", "HEAD~1"], capture_output=True, text=True).stdout
    assert head == subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True).stdout
    committed = subprocess.run(["git", "-C", str(REPO), "show", "HEAD:params.yaml"], capture_output=True, text=True)
    expected = yaml.safe_load(committed.stdout)
    tiny_settings(expected)
    assert yaml.safe_load((workdir / "params.yaml").read_text()) == expected
    assert (workdir / ".dvc" / "config.local").read_text() == f"[cache]\n    dir = {workdir / '.dvc-cache'}\n"
    assert (workdir / ".venv").resolve() == (REPO / ".venv").resolve()
