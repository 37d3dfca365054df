"""The check `make repro` runs first: which sections need ImageNet weights that this machine lacks."""

import pytest
import torch

from fmnist.backbones.availability import backbone_sections, banner, missing_imagenet_weights, random_overrides


@pytest.fixture(autouse=True)
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))


def params(**cnn_weights):
    backbones = {
        "features": {
            "raw": {"kind": "raw"},
            "resnet18": {"kind": "resnet18", "weights": "imagenet", "weights_file": None},
        }
    }
    backbones["cnn"] = {arch: {"weights": w, "weights_file": None} for arch, w in cnn_weights.items()}
    return backbones


def test_every_section_with_a_weights_key_is_checked():
    found = [name for name, _ in backbone_sections(params(resnet18="imagenet", vgg16_bn="random"))]
    assert found == ["features.resnet18", "cnn.resnet18", "cnn.vgg16_bn"]


def test_missing_imagenet_weights_become_explicit_random_overrides():
    missing = missing_imagenet_weights(params(resnet18="random", vgg16_bn="imagenet"))
    assert [m.prefix for m in missing] == ["features.resnet18", "cnn.vgg16_bn"]
    assert random_overrides(missing) == ["-S", "features.resnet18.weights=random", "-S", "cnn.vgg16_bn.weights=random"]
    text = banner(missing)
    assert "RANDOM weights" in text and str(missing[1].looked_at) in text and "`cnn.vgg16_bn.weights_file`" in text


def test_weights_present_in_a_named_file_need_no_override(tmp_path):
    checkpoint = tmp_path / "r18.pth"
    checkpoint.write_bytes(b"x")
    p = params()
    p["features"]["resnet18"]["weights_file"] = str(checkpoint)
    assert missing_imagenet_weights(p) == []
