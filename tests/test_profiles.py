"""Profiles (fmnist/profiles.py, profiles/*.yaml): what `make repro-gpu` passes to `dvc exp run`."""

import shutil

import pytest
import torch
from dvc.utils.hydra import apply_overrides

from fmnist.errors import PipelineError
from fmnist.params import load_params, read_yaml
from fmnist.profiles import apply_profile, load_profile, set_args, values_named
from scripts.repro_args import repro_args
from tests.support.stage_workdir import REPO


@pytest.fixture
def params():
    return load_params(REPO / "params.yaml")


def write_profile(root, text):
    (root / "profiles").mkdir(exist_ok=True)
    (root / "profiles" / "try.yaml").write_text(text)


def test_dvc_applies_the_gpu_profile_args_as_the_profile_says(params, tmp_path):
    profile = load_profile("gpu", params, REPO)
    shutil.copy(REPO / "params.yaml", tmp_path / "params.yaml")
    args = set_args(profile, params)
    apply_overrides(tmp_path / "params.yaml", [arg for arg in args if arg != "-S"])  # what `dvc exp run -S` does
    assert read_yaml(tmp_path / "params.yaml") == apply_profile(params, profile)


def test_a_key_params_yaml_lacks_is_added_with_a_plus(params):
    assert set_args({"cnn": {"resnet9": {"recipe": {"ema": 0.999}}}}, params) == ["-S", "+cnn.resnet9.recipe.ema=0.999"]
    assert set_args({"model": {"ema": 0.5}}, params) == ["-S", "model.ema=0.5"]


def test_every_device_the_gpu_profile_leaves_is_cuda(params):
    """Never chosen by the hardware: `auto` would give the CPU defaults' device on any machine."""
    profiled = apply_profile(params, load_profile("gpu", params, REPO))
    devices = values_named(profiled, "device")
    assert "model.device" in devices and "features.scatnet.device" in devices
    assert len(devices) >= 7 and set(devices.values()) == {"cuda"}, devices


def test_the_gpu_profile_sets_the_course_reports_resolution(params):
    profiled = apply_profile(params, load_profile("gpu", params, REPO))
    assert {profiled["finetune"][run]["input_size"] for run in profiled["finetune"]["runs"]} == {224}
    assert profiled["features"]["efficientnet_lite0"]["input_size"] == 224


def test_apply_merges_mappings_and_replaces_lists(params):
    merged = apply_profile(params, {"cnn": {"resnet9": {"channels": [8, 8, 8, 8]}}})
    assert merged["cnn"]["resnet9"]["channels"] == [8, 8, 8, 8]
    assert merged["cnn"]["resnet9"]["recipe"] == params["cnn"]["resnet9"]["recipe"]
    assert params["cnn"]["resnet9"]["channels"] != [8, 8, 8, 8]  # the input is left as it was


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("model: {lrr: 0.1}\n", "`model.lrr` is not in params.yaml"),
        ("modle: {lr: 0.1}\n", "`modle` is not in params.yaml"),
        ("model: {lr: -1}\n", "model.lr"),
        ("model: {lr: .nan}\n", "model.lr"),
        ("[1, 2]\n", "a profile is a mapping"),
        ("model: {optimizer: 'sgd x'}\n", "model.optimizer"),
    ],
)
def test_a_wrong_profile_is_refused_naming_the_key(params, tmp_path, text, message):
    write_profile(tmp_path, text)
    with pytest.raises(PipelineError, match="profiles/try.yaml") as raised:
        set_args(load_profile("try", params, tmp_path), params)
    assert message in str(raised.value)


def test_a_string_a_shell_would_split_is_refused(params):
    with pytest.raises(PipelineError, match="`download.urls` = 'http://a b'"):
        set_args({"download": {"urls": ["http://a b"]}}, params)


def test_an_unknown_profile_names_the_ones_there_are(params):
    with pytest.raises(PipelineError, match="no such profile; the profiles are gpu"):
        load_profile("tpu", params, REPO)


def test_repro_args_are_the_profile_then_random_weights_where_imagenet_is_missing(monkeypatch, params):
    monkeypatch.chdir(REPO)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    args, weights = repro_args("gpu"), repro_args(None)  # weights: what this machine lacks (ResNet-18's, here)
    assert args == set_args(load_profile("gpu", params), params) + weights
    assert "+cnn.resnet9.recipe.random_erasing=0.5" in args
    assert not any(set(arg) & set(" '\"*?") for arg in args)


def test_the_gpu_profile_stops_before_dvc_starts_on_a_machine_without_cuda(monkeypatch):
    monkeypatch.chdir(REPO)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(
        PipelineError, match=r"profiles/gpu.yaml sets `features.scatnet.device` \(and \d+ more\) to cuda"
    ):
        repro_args("gpu")
    assert repro_args(None) is not None  # the CPU run needs no GPU
