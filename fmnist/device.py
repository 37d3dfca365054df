"""The torch device a stage runs on (its `device` param) and mixed precision on it (its `amp` param)."""

from __future__ import annotations

import torch

from fmnist.cores import resolve_jobs
from fmnist.errors import PipelineError


def resolve_device(name: str, param_key: str) -> torch.device:
    """`auto` gives CUDA when a GPU is visible, else the CPU; `cuda` without a GPU is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise PipelineError(f"`{param_key}` = cuda but no CUDA GPU is visible to torch; set it to auto or cpu.")
    return torch.device(name)


def autocast(device: torch.device, amp: bool) -> torch.autocast:
    """Mixed precision on CUDA when `amp` is set (bfloat16 where the GPU has it, else float16).

    Never on the CPU, so CPU results stay exact float32 and byte-identical run to run.
    """
    enabled = amp and device.type == "cuda"
    dtype = torch.bfloat16 if enabled and torch.cuda.is_bf16_supported() else torch.float16
    return torch.autocast(device_type=device.type, dtype=dtype, enabled=enabled)


def describe(device: torch.device) -> str:
    """A short record of where a computation ran, for info/metrics files."""
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return f"cpu ({torch.get_num_threads()} threads)"


def use_cpu_threads(threads: int | str) -> int:
    """Give torch `threads` threads (`auto`: every core this process may use); return the number."""
    count = resolve_jobs(threads)
    torch.set_num_threads(count)
    return count
