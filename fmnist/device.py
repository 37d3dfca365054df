"""Choosing the torch device a stage runs on from its `device` param."""

from __future__ import annotations

import torch

from fmnist.errors import PipelineError

def resolve_device(name: str, param_key: str) -> torch.device:
    """`auto` gives CUDA when a GPU is visible, else the CPU; `cuda` without a GPU is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise PipelineError(f"`{param_key}` = cuda but no CUDA GPU is visible to torch; set it to auto or cpu.")
    return torch.device(name)


def describe(device: torch.device) -> str:
    """A short record of where a computation ran, for info/metrics files."""
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return f"cpu ({torch.get_num_threads()} threads)"
