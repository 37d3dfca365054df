"""The backbone feature kinds: grayscale images as the backbone's input, the network in inference mode, the record."""

import contextlib

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from fmnist.backbones import BACKBONES
from fmnist.errors import PipelineError
from fmnist.features import backbone as B

RANDOM_RESNET18 = {
    "kind": "resnet18",
    "weights": "random",
    "weights_file": None,
    "weights_sha256": None,
    "seed": 7,
    "input_size": 32,
    "device": "cpu",
    "amp": True,
}


def images(count: int, side: int = 28, seed: int = 0) -> torch.Tensor:
    return torch.randint(0, 256, (count, side, side), generator=torch.Generator().manual_seed(seed), dtype=torch.uint8)


def normalised(x: torch.Tensor, arch: str) -> torch.Tensor:
    """N x 1 x H x W in [0, 1] -> the backbone's N x 3 x H x W input."""
    mean, std = (torch.tensor(values).view(1, 3, 1, 1) for values in (BACKBONES[arch].mean, BACKBONES[arch].std))
    return (x - mean) / std


@pytest.mark.parametrize("arch", ["resnet18", "efficientnet_lite0"])
def test_pixels_become_three_normalised_channels(arch):
    gray = torch.tensor([[[0, 255], [51, 204]]], dtype=torch.uint8)
    x = B.GrayToBackboneInput(BACKBONES[arch], 2)(gray)
    expected = normalised(torch.tensor([[[[0.0, 1.0], [0.2, 0.8]]]]), arch)
    assert x.shape == (1, 3, 2, 2) and x.dtype == torch.float32
    torch.testing.assert_close(x, expected)


@pytest.mark.parametrize("arch", ["resnet18", "efficientnet_lite0"])
def test_images_are_resized_with_the_backbones_own_interpolation(arch):
    gray = images(2)
    x = B.GrayToBackboneInput(BACKBONES[arch], 40)(gray)
    resized = F.interpolate(gray[:, None].float() / 255, size=(40, 40), mode=BACKBONES[arch].interpolation)
    torch.testing.assert_close(x, normalised(resized, arch))
    assert x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous()


@pytest.mark.parametrize(("arch", "pooled_stages"), [("resnet18", 0), ("efficientnet_lite0", 2)])
def test_the_extractor_is_in_inference_mode(arch, pooled_stages):
    """No module trains (batch norms use their running statistics): an image's features do not depend on its batch."""
    model = B.feature_extractor(arch, "random", None, None, f"features.{arch}", 32, 0, pooled_stages)
    assert not any(module.training for module in model.modules())
    batch = images(4)
    with torch.inference_mode():
        torch.testing.assert_close(model(batch[:1]), model(batch)[:1], rtol=1e-4, atol=1e-5)


def test_by_default_the_extractor_gives_the_pooled_features_alone_from_channels_last_weights():
    arch = "efficientnet_lite0"
    model = B.feature_extractor(arch, "random", None, None, f"features.{arch}", 32, 0)
    with torch.inference_mode():
        assert model(images(2)).shape == (2, BACKBONES[arch].feature_dim)
    kernels = [p for p in model.parameters() if p.dim() == 4]
    assert kernels and all(p.is_contiguous(memory_format=torch.channels_last) for p in kernels)


def test_cpu_extractor_stays_float32_and_records_its_random_weights():
    extractor = B.build(RANDOM_RESNET18, "features.resnet18")
    assert (extractor.dim, extractor.device, extractor.parallel_batches) == (512, torch.device("cpu"), True)
    assert extractor.notes == {"amp": False}  # amp applies on CUDA only
    assert extractor.weights == {
        "source": "random",
        "file": None,
        "sha256": None,
        "note": "randomly initialised (torch seed 7): a pipeline smoke run, not ImageNet features",
    }
    with torch.inference_mode():
        rows = extractor.featurize(images(3))
    assert rows.dtype == torch.float32 and rows.shape == (3, 512)


def test_off_the_cpu_the_network_moves_to_the_device(monkeypatch):
    """The meta device stands in for a GPU (shapes only); torch has no autocast for it, and amp stays off there."""
    monkeypatch.setattr(B, "autocast", lambda device, amp: contextlib.nullcontext())
    extractor = B.build({**RANDOM_RESNET18, "device": "meta"}, "features.resnet18")
    rows = extractor.featurize(torch.zeros(2, 28, 28, dtype=torch.uint8, device="meta"))
    assert rows.shape == (2, 512) and rows.device == torch.device("meta") and extractor.notes == {"amp": False}


@pytest.mark.parametrize("amp", [True, False])
def test_on_cuda_the_features_are_computed_under_amp_as_set(monkeypatch, amp):
    """A CUDA device stood in for (the network a stand-in without tensors, which moves anywhere): `amp` reaches the
    record and the autocast around each batch."""
    used = []
    monkeypatch.setattr(B, "resolve_device", lambda value, key: torch.device("cuda"))
    monkeypatch.setattr(B, "feature_extractor", lambda *args: nn.Flatten())
    monkeypatch.setattr(B, "autocast", lambda device, amp: used.append((device, amp)) or contextlib.nullcontext())
    extractor = B.build({**RANDOM_RESNET18, "amp": amp}, "features.resnet18")
    extractor.featurize(torch.zeros(2, 28, 28, dtype=torch.uint8))
    assert extractor.notes == {"amp": amp} and used == [(torch.device("cuda"), amp)]


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA GPU is visible")
def test_cuda_without_a_gpu_stops_naming_the_device_key():
    with pytest.raises(PipelineError, match=r"^`features.resnet18.device` = cuda but no CUDA GPU is visible"):
        B.build({**RANDOM_RESNET18, "device": "cuda"}, "features.resnet18")
