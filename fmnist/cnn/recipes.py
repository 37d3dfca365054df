"""What one architecture trains with: its recipe (the shared `model` section with the arch's own epochs and
learning-rate scale), its input pipeline, and its training images (a `train_fraction` of the training split)."""

from __future__ import annotations

import numpy as np

from fmnist.backbones import BACKBONES
from fmnist.cnn.augment import ImageNetInput, SmallNetInput
from fmnist.cnn.loop import Recipe
from fmnist.cnn.nets import uses_imagenet_input
from fmnist.data import Dataset, stratified_val_indices


def effective_recipe(arch: str, recipe_params: dict, settings: dict) -> Recipe:
    """The shared recipe with the arch's own `recipe` values (cnn.<arch>.recipe: every arch has one, `{}` for none),
    its own `epochs` (when set) and, for ImageNet backbones, `lr_scale`."""
    recipe = {**recipe_params, **settings.get("recipe", {})}
    recipe["epochs"] = settings.get("epochs") or recipe["epochs"]
    if uses_imagenet_input(arch):
        recipe["lr"] = recipe["lr"] * settings["lr_scale"]
    return Recipe.from_params(recipe)


def input_pipeline(arch: str, settings: dict, recipe: Recipe):
    """The arch's input pipeline; `augment: false` in its settings turns crops, flips and erasing off."""
    augment = settings.get("augment", True)
    if uses_imagenet_input(arch):
        backbone = BACKBONES[arch]
        crop_scale_min = settings["crop_scale_min"] if augment else 1.0
        return ImageNetInput(
            settings["input_size"], crop_scale_min, recipe.hflip and augment, backbone.mean, backbone.std
        )
    if not augment:
        return SmallNetInput(0, False)
    return SmallNetInput(recipe.crop_padding, recipe.hflip, recipe.random_erasing)


def training_indices(dataset: Dataset, settings: dict, seed: int) -> np.ndarray:
    """The training split (validation held out), or a seeded stratified `train_fraction` of it."""
    train_idx = dataset.fit_indices()
    fraction = settings.get("train_fraction", 1.0)
    if fraction < 1.0:
        train_idx = train_idx[stratified_val_indices(dataset.train_labels[train_idx], fraction, seed)]
    return train_idx
