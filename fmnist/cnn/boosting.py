"""Course report 001's boosting of three networks: which training images nets 2 and 3 see, and their sum.

Net 1 trains on the whole training split. Net 2 trains on an even mixture of images net 1 classifies
right and images it gets wrong. Net 3 trains on the images where nets 1 and 2 disagree. At test time
the three networks' class probabilities are added.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from fmnist.errors import PipelineError

MEMBERS = 3


def second_net_indices(
    train_idx: np.ndarray, net1_correct: np.ndarray, generator: torch.Generator, arch: str
) -> np.ndarray:
    """Half right, half wrong: every image net 1 got wrong (or as many as there are right ones) and as
    many images it got right, drawn at random. Sorted indices into the training set."""
    wrong, right = train_idx[~net1_correct], train_idx[net1_correct]
    count = min(len(wrong), len(right))
    if count == 0:
        raise PipelineError(
            f"boosting {arch}: net 1 classified {'every' if len(wrong) == 0 else 'no'} training image correctly, "
            f"so there is no half-right, half-wrong set for net 2; turn boosting off for this architecture "
            f"or train net 1 differently (`model` params)."
        )
    pick_wrong = wrong[torch.randperm(len(wrong), generator=generator)[:count].numpy()]
    pick_right = right[torch.randperm(len(right), generator=generator)[:count].numpy()]
    return np.sort(np.concatenate([pick_wrong, pick_right]))


def third_net_indices(train_idx: np.ndarray, net1_pred: np.ndarray, net2_pred: np.ndarray, arch: str) -> np.ndarray:
    """The training images on which nets 1 and 2 predict different classes."""
    chosen = train_idx[net1_pred != net2_pred]
    if len(chosen) == 0:
        raise PipelineError(
            f"boosting {arch}: nets 1 and 2 agree on every training image, so net 3 has nothing to train on; "
            "turn boosting off for this architecture."
        )
    return chosen


class Ensemble(nn.Module):
    """Adds its members' class probabilities; returns the log of their mean, usable as logits."""

    def __init__(self, members: list[nn.Module]) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        probabilities = torch.stack([member(x).float().softmax(dim=1) for member in self.members]).mean(dim=0)
        return probabilities.clamp_min(1e-12).log()
