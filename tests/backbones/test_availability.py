"""The check `make repro` runs first: which sections need ImageNet weights that this machine lacks."""

import difflib

import pytest
import torch
from dvc.utils.hydra import apply_overrides

from fmnist.backbones.availability import (
    backbone_sections,
    banner,
    missing_imagenet_weights,
    offline_overrides,
    random_overrides,
)
from fmnist.params import load_params
from tests.support.stage_workdir import REPO


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
    backbones["classify"] = {"features": ["raw", "resnet18"]}
    return backbones


def test_every_section_with_a_weights_key_is_checked():
    found = [name for name, _ in backbone_sections(params(resnet18="imagenet", vgg16_bn="random"))]
    assert found == ["features.resnet18", "cnn.resnet18", "cnn.vgg16_bn"]


def test_missing_imagenet_weights_become_explicit_random_overrides():
    missing = missing_imagenet_weights(params(resnet18="random", vgg16_bn="imagenet"))
    assert [m.prefix for m in missing] == ["features.resnet18", "cnn.vgg16_bn"]
    assert random_overrides(missing) == ["-S", "features.resnet18.weights=random", "-S", "cnn.vgg16_bn.weights=random"]
    text = banner(params(), missing)
    assert "RANDOM weights" in text and str(missing[1].looked_at) in text and "`cnn.vgg16_bn.weights_file`" in text


def test_features_of_random_weights_are_not_classified_offline():
    p = params(vgg16_bn="imagenet")
    missing = missing_imagenet_weights(p)
    assert offline_overrides(p, missing) == [*random_overrides(missing), "-S", "classify.features=[raw]"]
    assert "classifies no features of random weights (resnet18)" in banner(p, missing)


@pytest.mark.parametrize(
    "listed, dropped",
    [(["resnet18"], []), (["raw", "scatnet"], []), (["resnet18", "raw"], ["-S", "classify.features=[raw]"])],
)
def test_classify_keeps_its_feature_sets_when_none_is_random_or_all_are(listed, dropped):
    p = params()
    p["classify"]["features"] = listed
    missing = missing_imagenet_weights(p)
    assert offline_overrides(p, missing) == ["-S", "features.resnet18.weights=random", *dropped]
    assert ("classifies no features" in banner(p, missing)) == bool(dropped)


def test_dvc_drops_only_the_random_feature_set_line_of_params_yaml(tmp_path):
    """As `make repro` runs offline: the overrides change ResNet-18's weights line and remove its classify line."""
    shipped = load_params(REPO / "params.yaml")
    missing = missing_imagenet_weights(params())
    copy = tmp_path / "params.yaml"
    copy.write_text((REPO / "params.yaml").read_text())
    apply_overrides(copy, [arg for arg in offline_overrides(shipped, missing) if arg != "-S"])
    before, after = (REPO / "params.yaml").read_text().splitlines(), copy.read_text().splitlines()
    changed = [line for line in difflib.ndiff(before, after) if line[:1] in "-+"]
    assert changed == ["-     weights: imagenet", "+     weights: random", "-   - resnet18"]
    assert load_params(copy)["classify"]["features"] == [f for f in shipped["classify"]["features"] if f != "resnet18"]


def test_weights_present_in_a_named_file_need_no_override(tmp_path):
    checkpoint = tmp_path / "r18.pth"
    checkpoint.write_bytes(b"x")
    p = params()
    p["features"]["resnet18"]["weights_file"] = str(checkpoint)
    assert missing_imagenet_weights(p) == []
