"""What one architecture trains with: its recipe (the shared `model` section with the arch's own values and epochs),
its learning rate and the params keys it comes from, its input pipeline, and its training images (a `train_fraction`
of the training split)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from fmnist.backbones import BACKBONES
from fmnist.catalog import CNN_ARCHS
from fmnist.cnn.augment import ImageNetInput, SmallNetInput
from fmnist.data import Dataset, stratified_val_indices
from fmnist.recipe import Recipe


@dataclass(frozen=True)
class LearningRate:
    """A net's learning rate, and the params keys it is the product of, each with its value: what a message asking
    for a lower rate names (fmnist.cnn.loop.fit)."""

    value: float
    sources: dict[str, float]


def learning_rate(recipe_key: str, recipe_params: dict, settings_key: str, settings: dict) -> LearningRate:
    """The learning rate a net trains with, from every params key that sets one:

    - `<recipe_key>.lr`, the shared recipe's: `model.lr` for train_cnn's archs (and the sweeps' nets),
      `finetune.recipe.lr` for the fine-tune runs;
    - `<settings_key>.recipe.lr`, the net's own (`cnn.<arch>.recipe.lr`, `finetune.<run>.recipe.lr`), which replaces
      the shared one where it is set;
    - `<settings_key>.lr_scale`, times either: an ImageNet backbone's factor in train_cnn (`cnn.<arch>.lr_scale`;
      the schema gives no other net one).
    """
    own = settings.get("recipe", {})
    sources = {f"{settings_key}.recipe.lr": own["lr"]} if "lr" in own else {f"{recipe_key}.lr": recipe_params["lr"]}
    if "lr_scale" in settings:
        sources[f"{settings_key}.lr_scale"] = settings["lr_scale"]
    return LearningRate(math.prod(sources.values()), sources)


def arch_learning_rate(arch: str, recipe_params: dict, settings: dict) -> LearningRate:
    """learning_rate of train_cnn's `arch` (or of a sweep's net): the shared recipe is `model`, its settings
    `cnn.<arch>`."""
    return learning_rate("model", recipe_params, f"cnn.{arch}", settings)


def effective_recipe(arch: str, recipe_params: dict, settings: dict) -> Recipe:
    """The shared recipe with the arch's own `recipe` values (cnn.<arch>.recipe: every arch has one, `{}` for none),
    its own `epochs` (when set) and its learning rate (arch_learning_rate: `lr_scale` applies to an ImageNet
    backbone's)."""
    recipe = {**recipe_params, **settings.get("recipe", {})}
    recipe["epochs"] = settings.get("epochs") or recipe["epochs"]
    recipe["lr"] = arch_learning_rate(arch, recipe_params, settings).value
    return Recipe.from_params(recipe)


def input_pipeline(arch: str, settings: dict, recipe: Recipe):
    """The input pipeline of an arch or fine-tune run (`settings`: `cnn.<arch>` or `finetune.<run>`); `augment: false`
    turns crops, flips and erasing off."""
    augment = settings.get("augment", True)
    if CNN_ARCHS[arch].imagenet_input:
        backbone = BACKBONES[arch]
        crop_scale_min = settings["crop_scale_min"] if augment else 1.0
        erase = recipe.random_erasing if augment else 0.0
        flip = recipe.hflip and augment
        return ImageNetInput(settings["input_size"], crop_scale_min, flip, backbone.mean, backbone.std, erase)
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
