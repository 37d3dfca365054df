"""What the bench scripts that train nets share: the recipe a stage would use, and training on a subset of the
images with the pipeline's own loop (fmnist.cnn.loop.fit), without its curves."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from fmnist.cnn.loop import FitResult, TrainingData, fit, seed_everything
from fmnist.cnn.nets import build_net
from fmnist.cnn.recipes import effective_recipe, input_pipeline
from fmnist.data.dataset import Dataset
from fmnist.recipe import Recipe


class Quiet:
    """A training logger that keeps nothing: the benches time and score the nets, not their curves."""

    def batch(self, step, loss):
        pass

    def epoch(self, epoch, values):
        pass


def recipe_for(arch: str, params: dict, settings: dict, **changes: Any) -> Recipe:
    """The recipe train_cnn@<arch> would train `settings` with (params.yaml `model:` and the arch's own recipe), with
    `changes` on top."""
    return Recipe.from_params(effective_recipe(arch, params["model"], settings).__dict__ | changes)


def train_subset(
    arch: str,
    settings: dict,
    recipe: Recipe,
    dataset: Dataset,
    train_idx: np.ndarray,
    val_idx: np.ndarray,
    device: torch.device,
    name: str | None = None,
) -> tuple[torch.nn.Module, FitResult]:
    """A net of `arch` trained on `dataset`'s training images `train_idx` and validated on `val_idx`: the net (in its
    best state) and the loop's result. `name` (default: the arch) names it in progress bars and messages."""
    seed_everything(recipe.seed)
    net = build_net(arch, settings)
    images, labels = torch.from_numpy(dataset.train_images), torch.from_numpy(dataset.train_labels)
    data = TrainingData(images, labels, train_idx, val_idx, input_pipeline(arch, settings, recipe))
    return net, fit(net, data, recipe, device, Quiet(), name or arch)
