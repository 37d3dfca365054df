"""Every CNN stage reads its device and CPU kernels from its own params keys, and names that key: a `cuda` device
without a GPU stops before any work, and a `cpu_kernels` setting the process lacks starts the stage again."""

import logging
import os
import re
from pathlib import Path

import pytest
import torch
import yaml

from fmnist.cnn.ensemble import build_ensemble
from fmnist.cnn.finetune import train_finetune
from fmnist.cnn.sweep import run_sweep
from fmnist.cnn.train import train_architecture
from fmnist.errors import PipelineError
from fmnist.kernels import CPU_KERNELS
from fmnist.layout import Layout
from tests.support.tiny_params import tiny_cnn, tiny_sweeps

REPO = Path(__file__).resolve().parents[2]


def sweep(params, prepared, layout):
    settings = params["sweeps"]["hidden_units"]
    return run_sweep("hidden_units", params["model"], settings, params["cnn"]["dense2"], prepared, layout.sweep("x"))


def train_cnn(params, prepared, layout):
    return train_architecture("mlp", params["model"], params["cnn"]["mlp"], prepared, layout.cnn("mlp"))


def finetune(params, prepared, layout):
    settings = params["finetune"]["lite0_last_layer"]
    return train_finetune("lite0_last_layer", params["finetune"]["recipe"], settings, prepared, layout.cnn("ft"))


def ensemble(params, prepared, layout):
    return build_ensemble(params, layout, layout.ensemble())


# stage -> what runs it, and the params section whose `device` and `cpu_kernels` it reads
STAGES = {
    "sweeps": (sweep, ("model",)),
    "train_cnn": (train_cnn, ("model",)),
    "finetune": (finetune, ("finetune", "recipe")),
    "ensemble": (ensemble, ("model",)),
}


def with_setting(section, key, value):
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    tiny_cnn(params)
    tiny_sweeps(params)
    settings = params
    for part in section:
        settings = settings[part]
    settings[key] = value
    return params


@pytest.mark.parametrize("stage", STAGES)
def test_a_cuda_device_without_a_gpu_names_the_stages_key(stage, prepared, tmp_path, monkeypatch):
    run, section = STAGES[stage]
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    key = ".".join((*section, "device"))
    with pytest.raises(PipelineError, match=re.escape(f"`{key}` = cuda but no CUDA GPU")):
        run(with_setting(section, "device", "cuda"), prepared, Layout(tmp_path))
    assert not any(tmp_path.iterdir())


class Restarted(Exception):
    pass


@pytest.mark.parametrize("stage", STAGES)
def test_cpu_kernels_start_the_stage_again_naming_its_key(stage, prepared, tmp_path, monkeypatch, caplog):
    run, section = STAGES[stage]
    for name in CPU_KERNELS["avx2"]:
        monkeypatch.delenv(name, raising=False)

    def execve(*args):
        raise Restarted

    monkeypatch.setattr(os, "execve", execve)
    params = with_setting(section, "cpu_kernels", "avx2")
    with caplog.at_level(logging.INFO, logger="fmnist.kernels"), pytest.raises(Restarted):
        run(params, prepared, Layout(tmp_path))
    key = ".".join((*section, "cpu_kernels"))
    assert any(message.startswith(f"`{key}` = avx2: starting again") for message in caplog.messages)
