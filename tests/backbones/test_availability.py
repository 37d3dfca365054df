"""The check `make repro` runs first: which sections need ImageNet weights that this machine lacks."""

import difflib
import shutil

import networkx
import pytest
import torch
from dvc.repo import Repo
from dvc.utils.hydra import apply_overrides

from fmnist.backbones.availability import (
    END_STAGES,
    backbone_sections,
    banner,
    missing_imagenet_weights,
    offline_run_args,
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
    backbones["visualize"] = {"features": ["raw", "resnet18"]}
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


def test_features_of_random_weights_are_not_classified_drawn_or_extracted_offline():
    p = params(vgg16_bn="imagenet")
    missing = missing_imagenet_weights(p)
    lists = ["-S", "classify.features=[raw]", "-S", "visualize.features=[raw]"]
    assert offline_run_args(p, missing) == [*random_overrides(missing), *lists, *END_STAGES]
    text = banner(p, missing)
    assert (
        "classifies, draws and extracts no features of random weights where nothing else needs them\n(resnet18)" in text
    )


@pytest.mark.parametrize(
    "classified, drawn, dropped",
    [
        (["resnet18"], ["raw"], []),
        (["raw", "scatnet"], ["resnet18"], []),
        (["resnet18", "raw"], ["resnet18"], ["-S", "classify.features=[raw]"]),
        (["raw"], ["scatnet", "resnet18"], ["-S", "visualize.features=[scatnet]"]),
    ],
)
def test_each_list_keeps_its_feature_sets_when_none_is_random_or_all_are(classified, drawn, dropped):
    p = params()
    p["classify"]["features"], p["visualize"]["features"] = classified, drawn
    missing = missing_imagenet_weights(p)
    assert offline_run_args(p, missing) == ["-S", "features.resnet18.weights=random", *dropped, *END_STAGES]
    assert ("classifies, draws and extracts no features" in banner(p, missing)) == bool(dropped)


def offline_params_yaml(tmp_path):
    """params.yaml as `make repro` offline rewrites it (DVC's writer), and the shipped params."""
    shipped = load_params(REPO / "params.yaml")
    args = offline_run_args(shipped, missing_imagenet_weights(params()))
    copy = tmp_path / "params.yaml"
    copy.write_text((REPO / "params.yaml").read_text())
    apply_overrides(copy, [arg for arg in args if arg.count("=")])
    return copy, shipped


def test_dvc_drops_only_the_random_feature_set_lines_of_params_yaml(tmp_path):
    """As `make repro` runs offline: the overrides change ResNet-18's weights line and remove its list lines."""
    copy, shipped = offline_params_yaml(tmp_path)
    before, after = (REPO / "params.yaml").read_text().splitlines(), copy.read_text().splitlines()
    changed = [line for line in difflib.ndiff(before, after) if line[:1] in "-+"]
    assert changed == ["-     weights: imagenet", "+     weights: random", "-   - resnet18", "-   - resnet18"]
    for section in ("classify", "visualize"):
        kept = [f for f in shipped[section]["features"] if f != "resnet18"]
        assert load_params(copy)[section]["features"] == kept


def stages_not_reproduced(tmp_path, params_yaml):
    """The stages of the repository's dvc.yaml that `dvc exp run <END_STAGES>` would not run, with `params_yaml`."""
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(REPO / "dvc.yaml", project / "dvc.yaml")
    shutil.copy(params_yaml, project / "params.yaml")
    Repo.init(str(project), no_scm=True)
    graph = Repo(str(project)).index.graph
    ends = [stage for stage in graph if stage.name in END_STAGES]
    assert sorted(stage.name for stage in ends) == sorted(END_STAGES)
    reproduced = set(ends).union(*(networkx.descendants(graph, stage) for stage in ends))
    return sorted(stage.name for stage in set(graph) - reproduced)


def test_the_end_stages_reproduce_every_stage_of_the_shipped_pipeline(tmp_path):
    assert stages_not_reproduced(tmp_path, REPO / "params.yaml") == []


def test_offline_the_end_stages_leave_out_only_the_extraction_of_random_weights(tmp_path):
    copy, _ = offline_params_yaml(tmp_path)
    assert stages_not_reproduced(tmp_path, copy) == ["extract_features@resnet18"]


def test_weights_present_in_a_named_file_need_no_override(tmp_path):
    checkpoint = tmp_path / "r18.pth"
    checkpoint.write_bytes(b"x")
    p = params()
    p["features"]["resnet18"]["weights_file"] = str(checkpoint)
    assert missing_imagenet_weights(p) == []
