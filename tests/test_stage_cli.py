"""Stage scripts as DVC runs them: a bad param or input ends in one `error:` line and no output."""

import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from fmnist.errors import PipelineError
from tests.support.stage_workdir import error_lines, prepared_workdir, run_module, single_error, write_params

REPO = Path(__file__).resolve().parents[1]


def test_invalid_param_stops_before_any_work(tmp_path):
    write_params(tmp_path, lambda p: p["data"].update(val_fraction=2))
    result = run_module(tmp_path, "stages.prepare")
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
    result = run_module(tmp_path, "stages.prepare")
    assert_one_error(result, message)
    assert not (tmp_path / "data").exists()


def test_duplicate_key_stops_the_stage_as_dvc_would(tmp_path):
    write_params(tmp_path)
    text = (tmp_path / "params.yaml").read_text()
    (tmp_path / "params.yaml").write_text(text.replace("  seed: 42\n", "  seed: 42\n  seed: 7\n", 1))
    result = run_module(tmp_path, "stages.prepare")
    assert_one_error(result, "params.yaml: duplicate key `data.seed` on line")
    assert not (tmp_path / "data").exists()


def test_prepare_without_raw_files_names_the_missing_file_and_the_fix(tmp_path):
    write_params(tmp_path)
    result = run_module(tmp_path, "stages.prepare")
    assert result.returncode == 1
    assert "data/raw/train-images-idx3-ubyte.gz: not found; run the download stage first" in result.stderr
    assert not (tmp_path / "data" / "prepared").exists() or not any((tmp_path / "data" / "prepared").iterdir())


def test_download_with_no_usable_source_fails_cleanly(tmp_path):
    write_params(tmp_path, lambda p: p["download"].update(mirrors=[str(tmp_path / "none")], urls=[]))
    result = run_module(tmp_path, "stages.download")
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
        "'scatnet_rich', 'scatnet_hog', 'resnet18', 'efficientnet_lite0'); the values come from the keys of "
        "`extract_features` in dvc.yaml: correct them there"
    ]


def test_dvc_runs_a_matrix_stage_by_its_name_and_no_params_value_reaches_a_shell(monkeypatch):
    """dvc.yaml's matrix commands carry no interpolated value; the instance comes from DVC_STAGE."""
    dvc_yaml = yaml.safe_load((REPO / "dvc.yaml").read_text())
    for name, stage in dvc_yaml["stages"].items():
        if "matrix" in stage:
            assert "${" not in stage["cmd"], name
    from stages.classify import parse_args

    def instance(stage_name: str) -> dict:
        monkeypatch.setenv("DVC_STAGE", stage_name)
        return vars(parse_args([]))

    assert instance("classify@scatnet_rich-svm") == {"feature": "scatnet_rich", "model": "svm"}
    assert instance("sub/dvc.yaml:classify@raw-lda") == {"feature": "raw", "model": "lda"}  # a dvc.yaml in a folder
    with pytest.raises(PipelineError, match=r"expected a matrix instance named <stage>@<feature>-<model>"):
        instance("classify@raw")
    with pytest.raises(PipelineError, match=r"invalid choice: 'raw;touch pwned'.*`classify.features`"):
        instance("classify@raw;touch pwned-lda")
    monkeypatch.delenv("DVC_STAGE")
    with pytest.raises(PipelineError, match=r"pass --feature <value> --model <value>"):
        parse_args([])


def test_an_unknown_arch_names_the_params_key_it_came_from():
    from stages.train_cnn import parse_args

    with pytest.raises(PipelineError, match=r"invalid choice: 'vgg19'.*params.yaml `train_cnn.archs`: correct"):
        parse_args(["--arch", "vgg19"])


# --- damaged inputs, a full disk, a read-only checkout ---------------------------------------------------


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
    message = single_error(run_module(work, "stages.samples"))
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


# --- determinism across processes and core counts ----------------------------------------------------------

# One process of a repro on tiny data, each stage as `python -m stages.<name>` runs it: a feature stage with seeded
# random weights, a CNN with convolutions and batch norm, and two classify stages that use their cores differently
# (an SVM's grid of four settings fitted side by side, a forest's trees built side by side).
STAGES = """
import runpy
import sys

for argv in (
    ["extract_features", "--name", "resnet18"],
    ["train_cnn", "--arch", "lenet5_bn"],
    ["classify", "--feature", "resnet18", "--model", "svm"],
    ["classify", "--feature", "resnet18", "--model", "random_forest"],
):
    sys.argv = argv
    runpy.run_module(f"stages.{argv[0]}", run_name="__main__")
"""
SAME_BYTES = (
    "features/resnet18/train.npy",
    "features/resnet18/test.npy",
    "models/cnn/lenet5_bn.pt",
    "metrics/cnn/lenet5_bn.json",
    "plots/cnn/lenet5_bn/predictions.csv",
    "metrics/classify/resnet18-svm.json",
    "plots/classify/resnet18-svm.csv",
    "metrics/classify/resnet18-random_forest.json",
    "plots/classify/resnet18-random_forest.csv",
)
TIMINGS = ("search_seconds", "fit_seconds", "predict_seconds")


def one_core() -> set[int]:
    return {min(os.sched_getaffinity(0))}


def without_timings(path: Path) -> dict:
    record = json.loads(path.read_text())
    return {key: value for key, value in record.items() if key not in TIMINGS}


@pytest.mark.e2e  # four stages end to end in fresh interpreters: 10-30 s, mostly importing torch
@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="compares one core with two")
def test_stages_give_the_same_bytes_in_separate_processes_on_one_core_or_two(tmp_path):
    """`n_jobs: auto` and torch's fixed `model.cpu_threads`: nothing may depend on the cores, the string-hash seed
    or the scheduling of parallel work (fmnist/cores.py)."""
    from tests.support.tiny_params import tiny_classify, tiny_cnn, tiny_features

    def tiny(params: dict) -> None:
        tiny_features(params)
        tiny_cnn(params)
        tiny_classify(params)
        params["classify"]["search"]["n_jobs"] = "auto"

    first = prepared_workdir(tmp_path)
    write_params(first, tiny)
    second = tmp_path / "second"
    shutil.copytree(first, second)
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", STAGES],
            cwd=work,
            env={**os.environ, "PYTHONPATH": str(REPO), "PYTHONHASHSEED": hash_seed},
            preexec_fn=(lambda cores=cores: os.sched_setaffinity(0, cores)),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for work, hash_seed, cores in ((first, "1", one_core()), (second, "2", os.sched_getaffinity(0)))
    ]
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert "this machine (1 of 1 available cores, n_jobs=auto)" in outputs[0]
    assert f"this machine ({len(os.sched_getaffinity(0))} of" in outputs[1]
    for name in SAME_BYTES:
        digests = [hashlib.sha256((work / name).read_bytes()).hexdigest() for work in (first, second)]
        assert digests[0] == digests[1], name
    for run in ("resnet18-svm", "resnet18-random_forest"):
        details = [without_timings(work / "details" / "classify" / f"{run}.json") for work in (first, second)]
        assert details[0] == details[1], run
    details = [json.loads((work / "details/cnn/lenet5_bn.json").read_text()) for work in (first, second)]
    threads = [record["torch_threads"] for record in details]
    assert threads == [2, 2]  # model.cpu_threads, on one core as on two
    curve = "plots/cnn/lenet5_bn/live/plots/metrics/val/loss.tsv"  # rows carry a timestamp: compare steps and values
    rows = [[line.split("\t")[1:] for line in (work / curve).read_text().splitlines()] for work in (first, second)]
    assert rows[0] == rows[1] and len(rows[0]) == 3  # header + 2 epochs


# --- params.yaml rewritten while a stage runs (a second `dvc exp run -S ...`) ---------------------------------


def test_a_stage_writes_nothing_when_the_params_it_read_changed_while_it_ran(tmp_path, monkeypatch):
    from fmnist.atomic import staged_outputs
    from fmnist.params_read import stage_params

    write_params(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert stage_params(("model", "cnn.{arch}"), arch="mlp")["model"]["epochs"] >= 1
    write_params(tmp_path, lambda p: p["data"].update(seed=7))  # a key the stage did not read: no harm
    with staged_outputs() as staged:
        staged.path(tmp_path / "kept.json").write_text("{}")
    write_params(tmp_path, lambda p: (p["model"].update(epochs=p["model"]["epochs"] + 1), p["cnn"].pop("mlp")))
    changed = r"params.yaml changed while this stage ran \(`model`, `cnn.mlp`\)"
    with pytest.raises(PipelineError, match=changed), staged_outputs() as staged:
        staged.path(tmp_path / "refused.json").write_text("{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.json", "params.yaml"]
