"""ResNet-18 image features: the 512-d output of the global average pool of torchvision's ResNet-18.

Fashion-MNIST's 28 x 28 grayscale images are resized (bilinear) to `input_size`, normalised with the
ImageNet mean/std of each colour channel (the grayscale value replicated to 3 channels), and fed in
channels-last layout under inference mode, batch norms folded into the convolutions; on CUDA, mixed precision
(`amp`) is an option.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.fx.experimental.optimization import fuse

from fmnist.backbones import build_backbone
from fmnist.device import autocast, resolve_device
from fmnist.features.extractor import Extractor

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
FEATURE_DIM = 512


class GrayToImageNet(nn.Module):
    """uint8 N x H x W grayscale -> float N x 3 x size x size, ImageNet-normalised, channels-last."""

    def __init__(self, input_size: int) -> None:
        super().__init__()
        self.input_size = input_size
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = images.float().div_(255.0)[:, None]
        if x.shape[-1] != self.input_size:
            x = F.interpolate(x, size=(self.input_size, self.input_size), mode="bilinear", align_corners=False)
        x = (x - self.mean) / self.std
        return x.contiguous(memory_format=torch.channels_last)


def feature_extractor(
    weights: str, weights_file: str | None, weights_sha256: str | None, param_prefix: str, input_size: int, seed: int
) -> nn.Sequential:
    """Preprocessing + ResNet-18 up to its global average pool (classifier head removed), in eval mode.

    `seed` fixes the initialisation of `random` weights (and is harmless for ImageNet ones).
    """
    torch.manual_seed(seed)
    backbone = build_backbone("resnet18", weights, weights_file, weights_sha256, param_prefix)
    backbone.fc = nn.Identity()
    # Folding each batch norm into the convolution before it: one pass fewer per layer at inference.
    model = nn.Sequential(GrayToImageNet(input_size), fuse(backbone.eval())).eval()
    return model.to(memory_format=torch.channels_last)


def build(params: dict, param_prefix: str) -> Extractor:
    """The `resnet18` feature kind; `amp` (mixed precision) applies on CUDA only."""
    device = resolve_device(params["device"], f"{param_prefix}.device")
    model = feature_extractor(
        params["weights"],
        params["weights_file"],
        params["weights_sha256"],
        param_prefix,
        params["input_size"],
        params["seed"],
    ).to(device)
    amp = params["amp"] and device.type == "cuda"

    def featurize(x: torch.Tensor) -> torch.Tensor:
        with autocast(device, amp):
            return model(x).float()

    weights = {"source": params["weights"], "file": params["weights_file"], "sha256": params["weights_sha256"]}
    if params["weights"] == "random":
        weights["note"] = (
            f"randomly initialised (torch seed {params['seed']}): a pipeline smoke run, not ImageNet features"
        )
    return Extractor(FEATURE_DIM, device, featurize, weights=weights, notes={"amp": amp}, parallel_batches=True)
