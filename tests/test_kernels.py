"""The recipe's `cpu_kernels` (fmnist/kernels.py): a net's bytes follow the setting, not the environment its stage
was started in."""

import hashlib
import os
import sys

import pytest

from fmnist.kernels import CPU_KERNELS, use_cpu_kernels
from fmnist.params import load_params
from fmnist.recipe import RECIPE_SPECS
from tests.support.stage_workdir import REPO, prepared_workdir, run_module, write_params

# What a CPU without AVX would give the stage's libraries (bench/cpu_spread.py's `sse4`).
NO_AVX = {"ONEDNN_MAX_CPU_ISA": "SSE41", "ATEN_CPU_CAPABILITY": "default", "MKL_ENABLE_INSTRUCTIONS": "SSE4_2"}


class Restarted(Exception):
    pass


@pytest.fixture
def execve(monkeypatch):
    """os.execve recorded instead of run; the kernels' variables cleared from the environment."""
    calls = []

    def record(*args):
        calls.append(args)
        raise Restarted

    monkeypatch.setattr(os, "execve", record)
    for name in {name for env in CPU_KERNELS.values() for name in env}:
        monkeypatch.delenv(name, raising=False)
    return calls


def test_the_recipe_accepts_exactly_the_tables_settings():
    assert RECIPE_SPECS["cpu_kernels"].options == tuple(CPU_KERNELS)


def test_native_leaves_the_process_and_its_environment_alone(execve, monkeypatch):
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "SSE41")  # a setting of your own stays
    use_cpu_kernels("native", "model.cpu_kernels")
    assert execve == [] and os.environ["ONEDNN_MAX_CPU_ISA"] == "SSE41"


@pytest.mark.parametrize("setting", [s for s in CPU_KERNELS if s != "native"])
def test_a_setting_starts_the_process_again_once_with_its_environment(execve, monkeypatch, setting):
    monkeypatch.setenv("FMNIST_SOMETHING_ELSE", "kept")
    first, *others = CPU_KERNELS[setting]
    monkeypatch.setenv(first, "SSE41")  # another CPU's value is replaced, though the last one may be right already
    if others:
        monkeypatch.setenv(others[-1], CPU_KERNELS[setting][others[-1]])
    with pytest.raises(Restarted):
        use_cpu_kernels(setting, "model.cpu_kernels")
    [(executable, argv, env)] = execve
    assert executable == sys.executable and argv == [sys.executable, *sys.orig_argv[1:]]
    assert env == {**os.environ, **CPU_KERNELS[setting]} and env["FMNIST_SOMETHING_ELSE"] == "kept"
    for name, value in CPU_KERNELS[setting].items():
        monkeypatch.setenv(name, value)
    use_cpu_kernels(setting, "model.cpu_kernels")  # started again: it runs on
    assert len(execve) == 1


def entry_points(params: dict) -> dict:
    """What each stage that trains or runs nets calls, with the param key of its setting, before any work."""
    from fmnist.cnn import ensemble, finetune, sweep, train

    cnn, runs = params["cnn"], params["finetune"]
    return {
        "train_cnn": (
            train,
            "model",
            lambda: train.train_architecture("cnn1", params["model"], cnn["cnn1"], None, None),
        ),
        "finetune": (
            finetune,
            "finetune.recipe",
            lambda: finetune.train_finetune("lite0_whole_10", runs["recipe"], runs["lite0_whole_10"], None, None),
        ),
        "sweep": (
            sweep,
            "model",
            lambda: sweep.run_sweep("filters", params["model"], params["sweeps"]["filters"], cnn["cnn1"], None, None),
        ),
        "ensemble": (ensemble, "model", lambda: ensemble.build_ensemble(params, None, None)),
    }


@pytest.mark.parametrize("stage", ["train_cnn", "finetune", "sweep", "ensemble"])
def test_every_stage_that_runs_nets_takes_its_recipes_setting_first(monkeypatch, stage):
    params = load_params(REPO / "params.yaml")
    params["model"]["cpu_kernels"] = params["finetune"]["recipe"]["cpu_kernels"] = "mkl_compatible"
    module, section, call = entry_points(params)[stage]

    def stop(setting, key):
        raise Restarted(setting, key)

    monkeypatch.setattr(module, "use_cpu_kernels", stop)
    with pytest.raises(Restarted) as started:
        call()
    assert started.value.args == ("mkl_compatible", f"{section}.cpu_kernels")


@pytest.mark.e2e  # four tiny trainings in fresh interpreters: about 30 s, mostly importing torch
def test_a_nets_bytes_follow_cpu_kernels_not_the_environment_it_started_in(tmp_path):
    """With `avx2` the stage trains as an AVX2 CPU would, whatever it was started with; `native` follows the
    environment (so the comparison can see a change)."""
    from tests.support.tiny_params import tiny_cnn

    work = prepared_workdir(tmp_path)

    def checkpoint_hash(setting: str, env: dict[str, str]) -> str:
        write_params(work, lambda p: (tiny_cnn(p), p["model"].update(cpu_kernels=setting)))
        result = run_module(work, "stages.train_cnn", "--arch", "cnn1", **env)
        assert result.returncode == 0, result.stderr
        assert (f"`model.cpu_kernels` = {setting}: starting again" in result.stderr) == (setting != "native")
        return hashlib.sha256((work / "models/cnn/cnn1.pt").read_bytes()).hexdigest()

    assert checkpoint_hash("avx2", {}) == checkpoint_hash("avx2", NO_AVX)
    assert checkpoint_hash("native", {}) != checkpoint_hash("native", NO_AVX)
