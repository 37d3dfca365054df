"""ImageNet backbones (ResNet-18, VGG-16-BN) with weights that are either verified or explicitly random.

Weights come from torchvision's weights API (its cache under TORCH_HOME, downloaded where the network
allows; the file name carries a hash prefix that torchvision checks) or from a local file named in
params and verified by SHA-256. When neither can be had, the stage stops before any work and says how
to provide them; `random` is an explicit, recorded choice, never a silent fallback.
"""

from __future__ import annotations

import hashlib
import pickle
import urllib.error
from collections.abc import Callable, Mapping
from pathlib import Path

import torch
from torch import nn
from torchvision import models

from fmnist.errors import PipelineError

WEIGHTS_SOURCES = ("imagenet", "random")

BACKBONES: dict[str, tuple[Callable[..., nn.Module], models.WeightsEnum]] = {
    "resnet18": (models.resnet18, models.ResNet18_Weights.IMAGENET1K_V1),
    "vgg16_bn": (models.vgg16_bn, models.VGG16_BN_Weights.IMAGENET1K_V1),
}


def torchvision_cache_file(arch: str) -> Path:
    """Where torchvision keeps (or would download) the ImageNet checkpoint of `arch`."""
    _, weights = BACKBONES[arch]
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(weights.url).name


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def how_to_provide(arch: str, param_prefix: str) -> str:
    cache = torchvision_cache_file(arch)
    return (
        f"Provide them in one of three ways: (1) put {cache.name} in {cache.parent} (torchvision's cache; "
        f"set TORCH_HOME to use another folder), or let a machine with network access download it there; "
        f"(2) set `{param_prefix}.weights_file` to a local checkpoint (a state_dict saved with torch.save) "
        f"and `{param_prefix}.weights_sha256` to its SHA-256; (3) for a pipeline smoke run, set "
        f"`{param_prefix}.weights: random` (an explicit choice, recorded in dvc.lock and in the metrics)."
    )


def load_weights_file(path: Path, expected_sha256: str | None, param_prefix: str, arch: str) -> dict[str, torch.Tensor]:
    """The state_dict in `path`, verified by its SHA-256, loaded as tensors only (never arbitrary objects)."""
    if not path.is_file():
        raise PipelineError(
            f"{path}: weights file not found (`{param_prefix}.weights_file`); fix the path or set it to null."
        )
    if not expected_sha256:
        raise PipelineError(
            f"{path}: `{param_prefix}.weights_sha256` is not set; set it to the file's SHA-256 "
            f"(`sha256sum {path}`) so the pipeline can verify what it loads."
        )
    actual = sha256_of(path)
    if actual != expected_sha256.lower():
        raise PipelineError(
            f"{path}: checksum mismatch: SHA-256 is {actual}, `{param_prefix}.weights_sha256` says {expected_sha256}. "
            "Replace the file or correct the checksum."
        )
    fix = (
        f"point `{param_prefix}.weights_file` at a state_dict of torchvision's {arch} saved with "
        f"`torch.save(model.state_dict(), path)` (a training checkpoint holding one under a key: save that entry "
        f"alone), and set `{param_prefix}.weights_sha256` to its SHA-256."
    )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, EOFError, RuntimeError, ValueError):
        raise PipelineError(
            f"{path}: not a state_dict of torchvision's {arch}: it cannot be read as a file of named tensors "
            f"(it holds other Python objects, such as a whole model, or it is damaged or truncated); {fix}"
        ) from None
    if not isinstance(state, Mapping) or not all(
        isinstance(key, str) and isinstance(value, torch.Tensor) for key, value in state.items()
    ):
        raise PipelineError(
            f"{path}: not a state_dict of torchvision's {arch}: it holds a {type(state).__name__}, "
            f"not a mapping of parameter names to tensors; {fix}"
        )
    return state


def imagenet_state_dict(arch: str, weights_file: str | None, weights_sha256: str | None, param_prefix: str) -> dict:
    """The ImageNet state_dict of `arch`, from `weights_file` if given, else through torchvision's cache."""
    if weights_file:
        return load_weights_file(Path(weights_file).expanduser(), weights_sha256, param_prefix, arch)
    _, weights = BACKBONES[arch]
    try:
        return weights.get_state_dict(progress=True, check_hash=True)
    except (urllib.error.URLError, OSError, RuntimeError) as exc:
        raise PipelineError(
            f"ImageNet weights for {arch} (`{param_prefix}.weights: imagenet`) could not be had: not in "
            f"{torchvision_cache_file(arch)} and the download failed ({exc}). {how_to_provide(arch, param_prefix)}"
        ) from None


def imagenet_weights_available(arch: str, weights_file: str | None) -> bool:
    """Whether ImageNet weights for `arch` are on this machine already (no download attempted)."""
    return Path(weights_file).expanduser().is_file() if weights_file else torchvision_cache_file(arch).is_file()


def build_backbone(
    arch: str, weights: str, weights_file: str | None, weights_sha256: str | None, param_prefix: str
) -> nn.Module:
    """torchvision's `arch` with its ImageNet head: ImageNet weights loaded, or randomly initialised.

    Random initialisation draws from torch's global generator: seed it first for reproducible weights.
    """
    if weights not in WEIGHTS_SOURCES:
        raise PipelineError(f"`{param_prefix}.weights` = {weights!r}: expected one of {', '.join(WEIGHTS_SOURCES)}.")
    constructor, _ = BACKBONES[arch]
    state = imagenet_state_dict(arch, weights_file, weights_sha256, param_prefix) if weights == "imagenet" else None
    model = constructor(weights=None)
    if state is not None:
        try:
            model.load_state_dict(state)
        except RuntimeError as exc:
            raise PipelineError(f"the {arch} weights do not fit torchvision's {arch}: {str(exc)[:300]}") from None
    return model
