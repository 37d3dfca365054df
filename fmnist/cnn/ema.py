"""An exponential moving average (EMA) of a network's weights, kept beside the network as it trains.

The averaged copy is what gets validated and saved when `model.ema` is set: late in a run the raw weights
jitter from batch to batch, and their average generalises a little better (Polyak averaging; the CIFAR-10 speed
records use it). Batch-norm statistics are averaged too, so the copy is a network of its own (the timm
`ModelEmaV2` convention). Early updates use a smaller decay, min(decay, (1 + n) / (10 + n)) after n updates, so
the average does not keep the random initial weights for thousands of steps (TensorFlow's
`ExponentialMovingAverage` with `num_updates`).
"""

from __future__ import annotations

import copy

import torch
from torch import nn


class WeightAverage:
    """The averaged copy of `source`: `update()` after each optimizer step, then use `.model` (eval, save)."""

    def __init__(self, source: nn.Module, decay: float) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"EMA decay must be in (0, 1), got {decay!r}")
        self.source, self.decay, self.updates = source, decay, 0
        self.model = copy.deepcopy(source).eval().requires_grad_(False)
        # The tensors to update, paired once: state_dict values share storage with the modules, which change them
        # in place (optimizer steps, batch-norm statistics), so the pairs stay valid for the whole run.
        pairs = list(zip(self.model.state_dict().values(), source.state_dict().values(), strict=True))
        self.averaged = [mine for mine, _ in pairs if mine.is_floating_point()]
        self.current = [theirs for mine, theirs in pairs if mine.is_floating_point()]
        self.counters = [(mine, theirs) for mine, theirs in pairs if not mine.is_floating_point()]

    def current_decay(self) -> float:
        return min(self.decay, (1 + self.updates) / (10 + self.updates))

    @torch.no_grad()
    def update(self) -> None:
        """Move every floating-point tensor of the average towards the source's by (1 - decay); copy the others
        (batch-norm step counters)."""
        self.updates += 1
        torch._foreach_lerp_(self.averaged, self.current, 1.0 - self.current_decay())
        for mine, theirs in self.counters:
            mine.copy_(theirs)
