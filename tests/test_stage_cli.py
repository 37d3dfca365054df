"""Stage scripts as DVC runs them: a bad param or input ends in one `error:` line and no output."""

import hashlib
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from fmnist.errors import PipelineError

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


def assert_one_error(result: subprocess.CompletedProcess, *parts: str) -> None:
    assert result.returncode == 1
    assert len(error_lines(result)) == 1, result.stderr
    assert all(part in result.stderr for part in parts), result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda p: p["data"].update(val_fraction=math.nan), "`data.val_fraction` = nan is invalid: expected a finite"),
        (lambda p: p["model"].update(lr=math.inf), "`model.lr` = inf is invalid: expected a finite number"),
        (lambda p: p["data"].update(val_fraction=1e-5), "`data.val_fraction` = 1e-05 holds out no validation image"),
    ],
    ids=["nan", "inf-elsewhere", "empty-validation-split"],
)
def test_non_finite_or_useless_params_stop_prepare_before_any_work(tmp_path, edit, message):
    write_params(tmp_path, edit)
    result = run_stage(tmp_path, "stages.prepare")
    assert_one_error(result, message)
    assert not (tmp_path / "data").exists()


def test_duplicate_key_stops_the_stage_as_dvc_would(tmp_path):
    write_params(tmp_path)
    text = (tmp_path / "params.yaml").read_text()
    (tmp_path / "params.yaml").write_text(text.replace("  seed: 42\n", "  seed: 42\n  seed: 7\n", 1))
    result = run_stage(tmp_path, "stages.prepare")
    assert_one_error(result, "params.yaml: duplicate key `data.seed` on line")
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


def test_matrix_flags_accept_only_their_choices():
    from stages.classify import parse_args

    assert vars(parse_args(["--feature", "scatnet_rich", "--model", "svm"])) == {
        "feature": "scatnet_rich",
        "model": "svm",
    }
    with pytest.raises(PipelineError, match="invalid choice: 'scatnet_rihc'"):
        parse_args(["--feature", "scatnet_rihc", "--model", "svm"])


def test_an_unknown_feature_set_name_is_one_message_and_exit_code_1(tmp_path):
    write_params(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-m", "stages.extract_features", "--name", "rawx"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert error_lines(result) == [
        "error: extract_features.py: argument --name: invalid choice: 'rawx' (choose from 'raw', 'scatnet', "
        "'scatnet_rich', 'resnet18', 'efficientnet_lite0'); the stage matrix in dvc.yaml passes the valid values"
    ]


# --- damaged inputs, a full disk, a read-only checkout (issue 15) -----------------------------------------


def run_module(workdir: Path, module: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", module, *args], cwd=workdir, env=env, capture_output=True, text=True)


def single_error(result: subprocess.CompletedProcess) -> str:
    """The one `error:` line of a stage that stopped as it should (exit 1, no traceback)."""
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = error_lines(result)
    assert len(lines) == 1, result.stderr
    assert "allow_pickle" not in result.stderr and "weights_only" not in result.stderr
    return lines[0]


def prepared_workdir(tmp_path: Path) -> Path:
    """A working folder with params.yaml and the tiny synthetic dataset prepared in data/prepared."""
    from fmnist.data.dataset import prepare_dataset
    from tests.support.idx_files import write_raw_dir

    work = tmp_path / "work"
    work.mkdir()
    write_params(work)
    write_raw_dir(work / "data" / "raw")
    prepare_dataset(work / "data" / "raw", work / "data" / "prepared", val_fraction=0.1, seed=0)
    return work


def write_raw_features(work: Path) -> None:
    import numpy as np

    folder = work / "features" / "raw"
    folder.mkdir(parents=True)
    np.save(folder / "train.npy", np.zeros((200, 784), dtype=np.float32))
    np.save(folder / "test.npy", np.zeros((50, 784), dtype=np.float32))


def test_labels_of_another_split_are_blamed_on_the_prepared_files_not_the_features(tmp_path):
    work = prepared_workdir(tmp_path)
    write_raw_features(work)
    prepared = work / "data" / "prepared"
    (prepared / "test_labels.npy").write_bytes((prepared / "train_labels.npy").read_bytes())
    message = single_error(run_module(work, "stages.classify", "--feature", "raw", "--model", "lda"))
    assert "data/prepared/test_labels.npy" in message and "data/prepared/test_images.npy" in message
    assert "`dvc repro prepare`" in message
    assert "features" not in message


def test_a_corrupt_feature_file_is_one_message_naming_it_and_the_fix(tmp_path):
    work = prepared_workdir(tmp_path)
    write_raw_features(work)
    train = work / "features" / "raw" / "train.npy"
    train.write_bytes(train.read_bytes()[:1000])  # truncated, as by a copy that was cut short
    message = single_error(run_module(work, "stages.visualize", "--feature", "raw", "--method", "pca"))
    assert message.startswith("error: features/raw/train.npy: ")
    assert "`dvc checkout features/raw/train.npy`" in message and "`dvc repro extract_features@raw`" in message


def test_a_corrupt_prepared_array_is_one_message_naming_it_and_the_fix(tmp_path):
    work = prepared_workdir(tmp_path)
    (work / "data" / "prepared" / "train_images.npy").write_bytes(b"not an array")
    message = single_error(run_stage(work, "stages.samples"))
    assert message.startswith("error: data/prepared/train_images.npy: ")
    assert "`dvc checkout data/prepared`" in message and "`dvc repro prepare`" in message


# Loaded by the stage's interpreter (through PYTHONPATH): makes writing under the working folder fail as a
# full disk (every write of an array) or a read-only file system (creating any file there) does.
FAILING_DISK_HOOK = """
import errno
import os
import tempfile

import numpy as np

FAILURE = os.environ["FMNIST_TEST_DISK"]
if FAILURE == "full":
    def save(file, arr, allow_pickle=True):
        file.write(b"\\x93NUMPY half an array")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    np.save = save
else:
    _mkstemp = tempfile.mkstemp

    def mkstemp(suffix=None, prefix=None, dir=None, text=False):
        code = errno.EROFS if FAILURE == "read-only" else errno.EACCES
        raise OSError(code, os.strerror(code), os.path.join(dir, (prefix or "") + "xxxxxxxx" + (suffix or "")))

    tempfile.mkstemp = mkstemp
"""


@pytest.mark.parametrize(
    "failure, words",
    [
        ("full", ("no space left on the device", "free some disk space")),
        ("read-only", ("the file system is read-only", "make the checkout writable")),
        ("unwritable", ("permission denied", "make the checkout writable")),
    ],
    ids=["full", "read-only", "unwritable"],
)
def test_a_full_disk_or_read_only_checkout_is_one_message_and_leaves_no_temporaries(tmp_path, failure, words):
    from tests.support.idx_files import write_raw_dir

    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(FAILING_DISK_HOOK)
    work = tmp_path / "work"
    work.mkdir()
    write_params(work)
    write_raw_dir(work / "data" / "raw")
    env = {**os.environ, "PYTHONPATH": f"{hook}{os.pathsep}{REPO}", "FMNIST_TEST_DISK": failure}
    result = subprocess.run([sys.executable, "-m", "stages.prepare"], cwd=work, env=env, capture_output=True, text=True)
    message = single_error(result)
    assert message.startswith("error: data/prepared/train_images.npy: cannot write it: ")
    assert all(word in message for word in words) and "`dvc repro`" in message, message
    assert list((work / "data" / "prepared").iterdir()) == []  # the temporaries were removed


def test_an_unwritable_path_outside_staged_outputs_is_one_message(capsys):
    import errno

    from fmnist.cli import run_stage as run_stage_main

    def main():
        raise PermissionError(errno.EACCES, "Permission denied", "plots/cnn/mlp/.live.partial")

    with pytest.raises(SystemExit) as exit_:
        run_stage_main(main)
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("error: plots/cnn/mlp/.live.partial: permission denied; make the checkout writable")
    assert len(err.splitlines()) == 1


# --- determinism across processes ---------------------------------------------------------------------------

# One process of a repro on tiny data: a feature stage with seeded random weights, then a CNN stage, each as
# `python -m stages.<name>` runs it.
TWO_STAGES = """
import runpy
import sys

for argv in (["extract_features", "--name", "resnet18"], ["train_cnn", "--arch", "mlp"]):
    sys.argv = argv
    runpy.run_module(f"stages.{argv[0]}", run_name="__main__")
"""
SAME_BYTES = (
    "features/resnet18/train.npy",
    "features/resnet18/test.npy",
    "models/cnn/mlp.pt",
    "metrics/cnn/mlp.json",
    "plots/cnn/mlp/predictions.csv",
)


@pytest.mark.e2e  # two stages end to end in fresh interpreters: 10-30 s, mostly importing torch
def test_a_feature_stage_and_a_cnn_stage_give_the_same_bytes_in_separate_processes(tmp_path):
    from tests.support.tiny_params import tiny_cnn, tiny_features

    first = prepared_workdir(tmp_path)
    write_params(first, lambda p: (tiny_features(p), tiny_cnn(p)))
    second = tmp_path / "second"
    shutil.copytree(first, second)
    # Two processes at once, with different string-hash seeds: nothing may depend on set order or hash().
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", TWO_STAGES],
            cwd=work,
            env={**os.environ, "PYTHONPATH": str(REPO), "PYTHONHASHSEED": hash_seed},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for work, hash_seed in ((first, "1"), (second, "2"))
    ]
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    for name in SAME_BYTES:
        digests = [hashlib.sha256((work / name).read_bytes()).hexdigest() for work in (first, second)]
        assert digests[0] == digests[1], name
    curve = "plots/cnn/mlp/live/plots/metrics/val/loss.tsv"  # its rows carry a timestamp: compare steps and values
    rows = [[line.split("\t")[1:] for line in (work / curve).read_text().splitlines()] for work in (first, second)]
    assert rows[0] == rows[1] and len(rows[0]) == 3  # header + 2 epochs
