"""The params.yaml schema's shared pieces: the keys several of the catalog's fragments (fmnist.catalog: every arch's
`cnn.<arch>`, every feature kind's `features.<name>`) and the fine-tune runs (fmnist.params_cnn) have in common."""

from __future__ import annotations

from fmnist.recipe import RECIPE_SPECS
from fmnist.schema import DEVICE, WEIGHTS, Bool, Choice, Float, Int, Nullable, Overrides, Section

# The recipe's keys but `epochs`, which every arch (cnn.<arch>.epochs) and fine-tune run (finetune.<run>.epochs) sets.
RECIPE_BUT_EPOCHS = {key: spec for key, spec in RECIPE_SPECS.items() if key != "epochs"}
# Every arch may train for its own number of epochs (null: model.epochs), to fit the CPU budget, may switch
# model.crop_padding / model.hflip augmentation off (dense nets gain nothing from shifts), and may set its own values of
# other `model` keys in `recipe` ({}: none).
ARCH_TRAINING = {
    "epochs": Nullable(Int(1, 1000)),
    "augment": Bool(),
    "recipe": Overrides(RECIPE_BUT_EPOCHS, replaces="model"),
}
# Report 001's boosting (fmnist.cnn.boosting): nets 2 and 3 start from scratch or from net 1's weights, and
# train for boost_epochs (null: as many as net 1).
BOOSTING = {"boost_from": Choice("scratch", "net1"), "boost_epochs": Nullable(Int(1, 1000))}
# The ImageNet backbones' own training adjustments: their learning rate is their recipe's times lr_scale
# (fmnist.cnn.recipes.learning_rate).
BACKBONE_TRAINING = {
    "input_size": Int(32, 512),
    "crop_scale_min": Float(0.0, 1.0, lo_open=True),
    "lr_scale": Float(0.0, 100.0, lo_open=True),
    **ARCH_TRAINING,
}
# Fine-tuning a whole backbone or its new head only (`freeze: backbone`, report 002), on a seeded stratified
# share of the training split (`train_fraction`, report 001's 10% / 50% / 100%).
FINE_TUNING = Section(
    {
        **WEIGHTS,
        **BACKBONE_TRAINING,
        "freeze": Choice("none", "backbone"),
        "train_fraction": Float(0.0, 1.0, lo_open=True),
    }
)

# A kymatio Scattering2D feature set (features.scatnet, features.scatnet_rich): J scales, L angles,
# order 1 or 2, on input_size x input_size images (28 x 28 resized bilinearly or zero-padded).
SCATTERING = {
    "J": Int(1, 8),
    "L": Int(1, 16),
    "max_order": Choice(1, 2),
    "input_size": Int(8, 512),
    "resize": Choice("bilinear", "pad"),
    "batch_size": Int(1, 65536),
    "device": DEVICE,
}


def backbone_features(stages: int = 0) -> dict:
    """The keys of a feature set of a pretrained backbone's global-pool output (fmnist/features/backbone.py); where
    the backbone exposes its `stages` block stages, `pooled_stages` of them may be pooled in front."""
    return {
        **WEIGHTS,
        "seed": Int(0, 2**32 - 1),
        "input_size": Int(32, 1024),
        "batch_size": Int(1, 65536),
        "device": DEVICE,
        "amp": Bool(),
        **({"pooled_stages": Int(0, stages)} if stages else {}),
    }
