"""Stage scripts as DVC runs them: a bad param or input ends in one `error:` line and no output."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]


def run_stage(workdir: Path, module: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", module], cwd=workdir, env=env, capture_output=True, text=True)


def write_params(workdir: Path, edit=lambda p: None) -> None:
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    edit(params)
    (workdir / "params.yaml").write_text(yaml.safe_dump(params))


def error_lines(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


def test_invalid_param_stops_before_any_work(tmp_path):
    write_params(tmp_path, lambda p: p["data"].update(val_fraction=2))
    result = run_stage(tmp_path, "stages.prepare")
    assert result.returncode == 1
    assert len(error_lines(result)) == 1 and "`data.val_fraction` = 2 is invalid" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data").exists()


def test_prepare_without_raw_files_names_the_missing_file_and_the_fix(tmp_path):
    write_params(tmp_path)
    result = run_stage(tmp_path, "stages.prepare")
    assert result.returncode == 1
    assert "data/raw/train-images-idx3-ubyte.gz: not found; run the download stage first" in result.stderr
    assert not (tmp_path / "data" / "prepared").exists() or not any((tmp_path / "data" / "prepared").iterdir())


def test_download_with_no_usable_source_fails_cleanly(tmp_path):
    write_params(tmp_path, lambda p: p["download"].update(mirrors=[str(tmp_path / "none")], urls=[]))
    result = run_stage(tmp_path, "stages.download")
    assert result.returncode == 1
    assert "could not get a verified copy of train-images-idx3-ubyte.gz" in result.stderr
    assert not (tmp_path / "data" / "raw").exists() or not any((tmp_path / "data" / "raw").iterdir())


def test_matrix_flags_accept_only_their_choices(capsys):
    from stages.classify import parse_args

    assert vars(parse_args(["--feature", "scatnet_rich", "--model", "svm"])) == {
        "feature": "scatnet_rich",
        "model": "svm",
    }
    with pytest.raises(SystemExit):
        parse_args(["--feature", "scatnet_rihc", "--model", "svm"])
    assert "invalid choice: 'scatnet_rihc'" in capsys.readouterr().err
