import pickle

import pytest
import torch

from fmnist.backbones import weights as W
from fmnist.errors import PipelineError

PREFIX = "features.resnet18"


@pytest.fixture
def checkpoint(tmp_path):
    """A locally written ResNet-18 state_dict standing in for the ImageNet file, and its SHA-256."""
    torch.manual_seed(0)
    state = W.BACKBONES["resnet18"].construct().state_dict()
    path = tmp_path / "resnet18.pth"
    torch.save(state, path)
    return path, W.sha256_of(path), state


def test_local_checkpoint_verified_by_checksum_is_loaded(checkpoint):
    path, sha, state = checkpoint
    model = W.build_backbone("resnet18", "imagenet", str(path), sha, PREFIX)
    assert torch.equal(model.conv1.weight, state["conv1.weight"])


def test_checksum_mismatch_stops_with_both_checksums(checkpoint):
    path, sha, _ = checkpoint
    wrong = "0" * 64
    with pytest.raises(
        PipelineError, match=rf"{path}: checksum mismatch: SHA-256 is {sha}, `{PREFIX}.weights_sha256` says {wrong}"
    ):
        W.build_backbone("resnet18", "imagenet", str(path), wrong, PREFIX)


def test_checkpoint_without_checksum_is_refused(checkpoint):
    path, _, _ = checkpoint
    with pytest.raises(PipelineError, match=r"weights_sha256` is not set"):
        W.build_backbone("resnet18", "imagenet", str(path), None, PREFIX)


def test_missing_weights_file_names_the_param(tmp_path):
    with pytest.raises(PipelineError, match=rf"weights file not found \(`{PREFIX}.weights_file`\)"):
        W.build_backbone("resnet18", "imagenet", str(tmp_path / "nope.pth"), "0" * 64, PREFIX)


@pytest.mark.parametrize("arch", ["resnet18", "vgg16_bn"])
def test_unavailable_imagenet_weights_say_how_to_provide_them(offline, arch):
    with pytest.raises(PipelineError) as err:
        W.imagenet_state_dict(arch, None, None, f"cnn.{arch}")
    message = str(err.value)
    assert str(W.default_weights_file(arch)) in message
    assert f"`cnn.{arch}.weights_file`" in message and f"`cnn.{arch}.weights: random`" in message
    assert not W.imagenet_weights_available(arch, None)


def test_random_weights_follow_the_callers_seed_and_never_load_a_weights_file(offline, checkpoint):
    # `random` draws from torch's global generator, which the stages seed from params: another seed must give
    # other weights (the builder does not fix its own), and a weights file left in params is not loaded.
    path, sha, state = checkpoint
    drawn = {}
    for seed in (1, 2):
        torch.manual_seed(seed)
        drawn[seed] = W.build_backbone("resnet18", "random", str(path), sha, PREFIX).conv1.weight
    assert not torch.equal(drawn[1], drawn[2])
    assert not torch.equal(drawn[1], state["conv1.weight"]) and not torch.equal(drawn[2], state["conv1.weight"])


def test_state_dict_of_another_architecture_is_rejected(tmp_path):
    path = tmp_path / "small.pth"
    torch.save({"weight": torch.zeros(2)}, path)
    with pytest.raises(PipelineError, match="do not fit torchvision's resnet18"):
        W.build_backbone("resnet18", "imagenet", str(path), W.sha256_of(path), PREFIX)


def test_a_weights_file_under_the_home_folder_may_be_written_with_a_tilde(checkpoint, monkeypatch):
    path, sha, state = checkpoint
    monkeypatch.setenv("HOME", str(path.parent))
    assert W.imagenet_weights_available("resnet18", f"~/{path.name}")
    model = W.build_backbone("resnet18", "imagenet", f"~/{path.name}", sha, PREFIX)
    assert torch.equal(model.conv1.weight, state["conv1.weight"])


def truncated_checkpoint(path):
    torch.save({"conv1.weight": torch.zeros(3)}, path)
    path.write_bytes(path.read_bytes()[:50])


NOT_STATE_DICTS = {
    "whole-module": lambda path: torch.save(W.BACKBONES["resnet18"].construct(), path),
    "a-tensor": lambda path: torch.save(torch.zeros(3), path),
    "a-list": lambda path: torch.save([torch.zeros(3)], path),
    "plain-pickle": lambda path: path.write_bytes(pickle.dumps({"conv1.weight": [0.0, 1.0]}, protocol=2)),
    "truncated": truncated_checkpoint,
    "empty": lambda path: path.write_bytes(b""),
}


@pytest.mark.parametrize("write", NOT_STATE_DICTS.values(), ids=NOT_STATE_DICTS.keys())
def test_a_weights_file_that_is_not_a_state_dict_is_named_without_advising_an_unsafe_load(tmp_path, write):
    path = tmp_path / "resnet18.pth"
    write(path)
    with pytest.raises(PipelineError) as caught:
        W.build_backbone("resnet18", "imagenet", str(path), W.sha256_of(path), PREFIX)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert "not a state_dict of torchvision's resnet18" in message and f"`{PREFIX}.weights_file`" in message
    assert "weights_only" not in message and "pickle" not in message.lower()
