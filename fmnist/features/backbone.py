"""ImageNet-backbone image features: the global-average-pool output of a pretrained network
(ResNet-18: 512-d, EfficientNet-Lite0: 1280-d; fmnist.backbones knows each one).

Fashion-MNIST's 28 x 28 grayscale images are resized to `input_size` (the backbone's own interpolation),
replicated to 3 channels and normalised as the backbone's weights expect, and fed in channels-last layout under
inference mode (batch norms folded into the convolutions where torch.fx can trace the network); on CUDA, mixed
precision (`amp`) is an option.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.fx.experimental.optimization import fuse

from fmnist.backbones import BACKBONES, Backbone, PooledStages, build_backbone, pooled_width, provenance, set_head
from fmnist.device import autocast, resolve_device
from fmnist.features.extractor import Extractor


class GrayToBackboneInput(nn.Module):
    """uint8 N x H x W grayscale -> float N x 3 x size x size, normalised for `backbone`, channels-last."""

    def __init__(self, backbone: Backbone, input_size: int) -> None:
        super().__init__()
        self.input_size = input_size
        self.interpolation = backbone.interpolation
        self.register_buffer("mean", torch.tensor(backbone.mean).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(backbone.std).view(1, 3, 1, 1))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = images.float().div_(255.0)[:, None]
        if x.shape[-1] != self.input_size:
            size = (self.input_size, self.input_size)
            x = F.interpolate(x, size=size, mode=self.interpolation, align_corners=False)
        x = (x - self.mean) / self.std
        return x.contiguous(memory_format=torch.channels_last)


def feature_extractor(
    arch: str,
    weights: str,
    weights_file: str | None,
    weights_sha256: str | None,
    param_prefix: str,
    input_size: int,
    seed: int,
    pooled_stages: int = 0,
) -> nn.Sequential:
    """Preprocessing + the backbone up to its global average pool (classifier head removed), in eval mode,
    with the pooled outputs of its last `pooled_stages` block stages in front.

    `seed` fixes the initialisation of `random` weights (and is harmless for ImageNet ones).
    """
    backbone = BACKBONES[arch]
    torch.manual_seed(seed)
    network = build_backbone(arch, weights, weights_file, weights_sha256, param_prefix)
    set_head(network, backbone, nn.Identity())
    network.eval()
    if pooled_stages:
        network = PooledStages(network, backbone, pooled_stages)
    elif backbone.fx_traceable:
        network = fuse(network)  # one pass fewer per layer at inference
    model = nn.Sequential(GrayToBackboneInput(backbone, input_size), network).eval()
    return model.to(memory_format=torch.channels_last)


def build(params: dict, param_prefix: str) -> Extractor:
    """A backbone feature kind (fmnist.catalog.FEATURE_KINDS: one per backbone); `amp` (mixed precision) applies on
    CUDA only."""
    arch = params["kind"]
    device = resolve_device(params["device"], f"{param_prefix}.device")
    model = feature_extractor(
        arch,
        params["weights"],
        params["weights_file"],
        params["weights_sha256"],
        param_prefix,
        params["input_size"],
        params["seed"],
        params.get("pooled_stages", 0),
    ).to(device)
    amp = params["amp"] and device.type == "cuda"

    def featurize(x: torch.Tensor) -> torch.Tensor:
        with autocast(device, amp):
            return model(x).float()

    weights = provenance(arch, params["weights"], params["weights_file"], params["weights_sha256"])
    if params["weights"] == "random":
        weights["note"] = (
            f"randomly initialised (torch seed {params['seed']}): a pipeline smoke run, not ImageNet features"
        )
    dim = pooled_width(BACKBONES[arch], params.get("pooled_stages", 0))
    return Extractor(dim, device, featurize, weights=weights, notes={"amp": amp}, parallel_batches=True)
