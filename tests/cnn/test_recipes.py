"""What one architecture trains with: the shared `model` recipe, overridden by the arch's own `recipe` and epochs."""

from pathlib import Path

import numpy as np
import pytest
import yaml

from fmnist.backbones import BACKBONES
from fmnist.cnn.augment import ImageNetInput, SmallNetInput
from fmnist.cnn.recipes import (
    LearningRate,
    arch_learning_rate,
    effective_recipe,
    input_pipeline,
    learning_rate,
    training_indices,
)
from fmnist.data import Dataset

REPO = Path(__file__).resolve().parents[2]


def shipped_params() -> dict:
    return yaml.safe_load((REPO / "params.yaml").read_text())


def test_an_archs_own_recipe_replaces_the_shared_values_it_names_and_only_those():
    params = shipped_params()
    model = {**params["model"], "crop_padding": 0, "random_erasing": 0.0, "tta_shift": 0, "lr": 0.002}
    settings = {**params["cnn"]["resnet9"], "recipe": {"crop_padding": 2, "random_erasing": 0.25, "tta_shift": 1}}
    recipe = effective_recipe("resnet9", model, settings)
    assert (recipe.crop_padding, recipe.random_erasing, recipe.tta_shift) == (2, 0.25, 1)
    assert recipe.lr == 0.002 and recipe.label_smoothing == model["label_smoothing"]
    # The shared section is read, not changed: the next arch still trains with it.
    other = effective_recipe("convnet_bn", model, params["cnn"]["convnet_bn"])
    assert (other.crop_padding, other.random_erasing, other.tta_shift) == (0, 0.0, 0)


def test_the_archs_epochs_and_its_recipe_apply_together():
    params = shipped_params()
    settings = {**params["cnn"]["resnet9"], "epochs": 7, "recipe": {"lr": 0.004}}
    recipe = effective_recipe("resnet9", params["model"], settings)
    assert (recipe.epochs, recipe.lr) == (7, 0.004)


def test_the_input_pipeline_augments_as_the_archs_recipe_says():
    params = shipped_params()
    model = {**params["model"], "crop_padding": 0, "random_erasing": 0.0}
    settings = {**params["cnn"]["resnet9"], "augment": True, "recipe": {"crop_padding": 2, "random_erasing": 0.5}}
    recipe = effective_recipe("resnet9", model, settings)
    assert input_pipeline("resnet9", settings, recipe) == SmallNetInput(2, model["hflip"], 0.5)
    # `augment: false` still turns every augmentation off, the arch's own included.
    assert input_pipeline("resnet9", {**settings, "augment": False}, recipe) == SmallNetInput(0, False)


@pytest.mark.parametrize("arch", ["resnet18", "efficientnet_lite0"])
def test_a_backbones_input_is_its_size_its_crops_and_its_normalisation_and_augment_false_turns_them_off(arch):
    params = shipped_params()
    model = {**params["model"], "hflip": True, "random_erasing": 0.25}
    settings = {**params["cnn"][arch], "augment": True, "input_size": 48, "crop_scale_min": 0.3}
    recipe = effective_recipe(arch, model, settings)
    mean, std = BACKBONES[arch].mean, BACKBONES[arch].std
    assert input_pipeline(arch, settings, recipe) == ImageNetInput(48, 0.3, True, mean, std, 0.25)
    assert input_pipeline(arch, {**settings, "augment": False}, recipe) == ImageNetInput(48, 1.0, False, mean, std)
    no_flips = effective_recipe(arch, {**model, "hflip": False}, settings)
    assert input_pipeline(arch, settings, no_flips).hflip is False


def test_every_arch_has_its_own_recipe_and_a_backbones_lr_scale_applies_to_its_recipes_lr():
    params = shipped_params()
    assert all("recipe" in settings for settings in params["cnn"].values())
    settings = {**params["cnn"]["efficientnet_lite0"], "lr_scale": 0.5, "recipe": {"lr": 0.004, "channels_last": False}}
    recipe = effective_recipe("efficientnet_lite0", params["model"], settings)
    assert (recipe.lr, recipe.channels_last) == (0.002, False)


def test_the_learning_rate_names_the_keys_it_comes_from_and_is_the_recipes():
    params = shipped_params()
    model = {**params["model"], "lr": 0.1}
    small, backbone = params["cnn"]["resnet9"], params["cnn"]["efficientnet_lite0"]
    cases = [
        ("resnet9", {**small, "recipe": {}}, LearningRate(0.1, {"model.lr": 0.1})),
        ("resnet9", {**small, "recipe": {"lr": 0.4}}, LearningRate(0.4, {"cnn.resnet9.recipe.lr": 0.4})),
        (
            "efficientnet_lite0",
            {**backbone, "lr_scale": 0.5, "recipe": {}},
            LearningRate(0.05, {"model.lr": 0.1, "cnn.efficientnet_lite0.lr_scale": 0.5}),
        ),
        (
            "efficientnet_lite0",
            {**backbone, "lr_scale": 0.5, "recipe": {"lr": 0.004}},
            LearningRate(0.002, {"cnn.efficientnet_lite0.recipe.lr": 0.004, "cnn.efficientnet_lite0.lr_scale": 0.5}),
        ),
    ]
    for arch, settings, expected in cases:
        assert arch_learning_rate(arch, model, settings) == expected
        assert effective_recipe(arch, model, settings).lr == expected.value
    # Any other shared recipe and settings: a fine-tune run's.
    run = learning_rate("finetune.recipe", model, "finetune.head", {"recipe": {"lr": 0.2}})
    assert run == LearningRate(0.2, {"finetune.head.recipe.lr": 0.2})


def test_train_fraction_draws_that_share_of_every_class_the_same_indices_twice():
    labels = np.repeat(np.arange(10), 60)
    dataset = Dataset(np.zeros((600, 28, 28), np.uint8), labels, labels[:0], labels[:0], np.arange(0, 600, 10))
    fit = dataset.fit_indices()
    chosen = training_indices(dataset, {"train_fraction": 0.1}, seed=0)
    assert set(chosen) <= set(fit) and not set(chosen) & set(dataset.val_indices)
    assert np.bincount(labels[chosen], minlength=10).tolist() == [round(0.1 * 54)] * 10
    assert np.array_equal(chosen, training_indices(dataset, {"train_fraction": 0.1}, seed=0))
    assert not np.array_equal(chosen, training_indices(dataset, {"train_fraction": 0.1}, seed=1))
    assert np.array_equal(training_indices(dataset, {"train_fraction": 1.0}, seed=0), fit)
