"""What every feature kind builds: a function from a batch of images to rows of features, and what to record."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch


@dataclass
class Extractor:
    """A batch of uint8 N x 28 x 28 images (torch, on `device`) -> float32 N x dim features."""

    dim: int
    device: torch.device
    featurize: Callable[[torch.Tensor], torch.Tensor]
    weights: dict | None = None  # for learned features: which weights, from where
    notes: dict = field(default_factory=dict)
    # On the CPU, run whole batches side by side, one core each, instead of splitting every operation
    # across the cores: no core waits for the other at the end of every operation (measured faster
    # for the scattering's many small FFTs and products, and for ResNet-18's convolutions: docs/BENCHMARKS.md).
    parallel_batches: bool = False
