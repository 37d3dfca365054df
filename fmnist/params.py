"""params.yaml: its schema, loading with validation, and the per-stage view of it."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from fmnist.errors import PipelineError
from fmnist.names import ARCHS, CLASSIFY_MODELS, FEATURE_SETS, METHODS
from fmnist.schema import Bool, Choice, Float, Int, ListOf, MapOf, Nullable, OneOf, Section, Str

DEVICE = Choice("auto", "cpu", "cuda")

# A kymatio Scattering2D feature set (features.scatnet, features.scatnet_rich): J scales, L angles,
# order 1 or 2, on input_size x input_size images (28 x 28 resized bilinearly or zero-padded).
SCATTERING = Section(
    {
        "kind": Choice("scattering"),
        "J": Int(1, 8),
        "L": Int(1, 16),
        "max_order": Choice(1, 2),
        "input_size": Int(8, 512),
        "resize": Choice("bilinear", "pad"),
        "batch_size": Int(1, 65536),
        "device": DEVICE,
    }
)

GRID_VALUE = Nullable(
    OneOf(
        (Bool(), Float(), Str(), ListOf(Int(1), min_len=1)),
        "null, true/false, a number, a string, or a list of positive integers (layer sizes)",
    )
)
CLASSIFY_MODEL = Section(
    {
        # One bound on the refit's rows for every feature set, or one per feature set ({scatnet_rich: 20000}).
        "max_train": OneOf(
            (Nullable(Int(2)), MapOf(Nullable(Int(2)), keys=FEATURE_SETS)),
            f"null, a number of rows (at least 2), or a mapping from feature sets ({', '.join(FEATURE_SETS)}) to those",
        ),
        "grid": MapOf(ListOf(GRID_VALUE, min_len=1)),
    }
)

# Where an ImageNet backbone's weights come from (fmnist/backbones/weights.py).
WEIGHTS = {
    "weights": Choice("imagenet", "random"),
    "weights_file": Nullable(Str()),
    "weights_sha256": Nullable(Str()),
}
# Every arch may train for its own number of epochs (null: model.epochs), to fit the CPU budget, and
# may switch model.crop_padding / model.hflip augmentation off (dense nets gain nothing from shifts).
EPOCHS = {"epochs": Nullable(Int(1, 1000)), "augment": Bool()}
LENET5 = {"activation": Choice("relu", "tanh"), "pool": Choice("avg", "max"), **EPOCHS}
# Report 001's boosting (fmnist.cnn.boosting): nets 2 and 3 start from scratch or from net 1's weights, and
# train for boost_epochs (null: as many as net 1).
BOOSTING = {"boost_from": Choice("scratch", "net1"), "boost_epochs": Nullable(Int(1, 1000))}
# The ImageNet backbones' own training adjustments: their lr is model.lr x lr_scale.
BACKBONE_TRAINING = {
    "input_size": Int(32, 512),
    "crop_scale_min": Float(0.0, 1.0, lo_open=True),
    "lr_scale": Float(0.0, 100.0, lo_open=True),
    **EPOCHS,
}

SCHEMA = Section(
    {
        "download": Section(
            {
                "mirrors": ListOf(Str()),
                "urls": ListOf(Str()),
                "retries": Int(0, 10),
                "timeout_s": Int(1, 3600),
            }
        ),
        "data": Section(
            {
                "val_fraction": Float(0.0, 0.5, lo_open=True),
                "seed": Int(0, 2**32 - 1),
            }
        ),
        "visualize": Section(
            {
                "features": ListOf(Choice(*FEATURE_SETS), min_len=1, unique=True),
                "methods": ListOf(Choice(*METHODS), min_len=1),
                "seed": Int(0, 2**32 - 1),
                "pca": Section({"n_points": Int(10, 70_000)}),
                "tsne": Section(
                    {
                        "n_points": Int(10, 70_000),
                        "pca_dims": Int(2, 1000),
                        "perplexity": Float(1.0, 500.0),
                        "n_iter": Int(50, 10_000),
                        "n_jobs": Int(1, 64),
                    }
                ),
                "umap": Section(
                    {
                        "n_points": Int(10, 70_000),
                        "pca_dims": Int(2, 1000),
                        "n_neighbors": Int(2, 500),
                        "min_dist": Float(0.0, 1.0),
                        "n_epochs": Int(10, 2000),
                    }
                ),
                "lle": Section({"n_points": Int(10, 70_000), "pca_dims": Int(2, 1000), "n_neighbors": Int(3, 500)}),
            }
        ),
        "pictures": Section(
            {
                "seed": Int(0, 2**32 - 1),
                "samples_per_class": Int(1, 50),
                "gallery_images": Int(1, 200),
                "gallery_columns": Int(1, 20),
            }
        ),
        "features": Section(
            {
                "raw": Section({"kind": Choice("raw"), "batch_size": Int(1, 1_000_000)}),
                "scatnet": SCATTERING,
                "scatnet_rich": SCATTERING,
                "resnet18": Section(
                    {
                        "kind": Choice("resnet18"),
                        **WEIGHTS,
                        "seed": Int(0, 2**32 - 1),
                        "input_size": Int(32, 1024),
                        "batch_size": Int(1, 65536),
                        "device": DEVICE,
                        "amp": Bool(),
                    }
                ),
            }
        ),
        "classify": Section(
            {
                # The matrix of stage classify (dvc.yaml interpolates these lists).
                "features": ListOf(Choice(*FEATURE_SETS), min_len=1, unique=True),
                "models": ListOf(Choice(*CLASSIFY_MODELS), min_len=1, unique=True),
                "search": Section(
                    {
                        "size": Int(20),
                        "folds": Int(2, 20),
                        "seed": Int(0, 2**32 - 1),
                        "n_jobs": Int(1, 64),
                    }
                ),
                **{name: CLASSIFY_MODEL for name in CLASSIFY_MODELS},
            }
        ),
        "train_cnn": Section({"archs": ListOf(Choice(*ARCHS), min_len=1, unique=True)}),
        "model": Section(
            {
                "optimizer": Choice("sgd", "adam", "adamw"),
                "lr": Float(0.0, 10.0, lo_open=True),
                "momentum": Float(0.0, 1.0, hi_open=True),
                "weight_decay": Float(0.0, 1.0),
                "epochs": Int(1, 1000),
                "batch_size": Int(1, 65536),
                "patience": Int(1, 1000),
                "schedule": Choice("onecycle", "cosine", "constant"),
                "warmup_fraction": Float(0.0, 0.9),
                "label_smoothing": Float(0.0, 1.0, hi_open=True),
                "crop_padding": Int(0, 8),
                "hflip": Bool(),
                "tta_hflip": Bool(),
                "channels_last": Bool(),
                "compile": Bool(),
                "amp": Bool(),
                "device": DEVICE,
                "seed": Int(0, 2**32 - 1),
            }
        ),
        "cnn": Section(
            {
                "mlp": Section(
                    {"hidden": ListOf(Int(1, 100000), min_len=1), "dropout": Float(0.0, 1.0, hi_open=True), **EPOCHS}
                ),
                "dense2": Section({"hidden": Int(1, 100000), **EPOCHS}),
                "cnn1": Section({"filters": Int(1, 4096), "kernel": Int(1, 28), **EPOCHS}),
                "lenet5": Section(LENET5),
                "lenet5_bn": Section(LENET5),
                "lenet5_boosted": Section({**LENET5, "batch_norm": Bool(), **BOOSTING}),
                "convnet_bn": Section(
                    {
                        "channels": ListOf(Int(1, 4096), min_len=1, max_len=4),
                        "convs_per_block": Int(1, 4),
                        "kernel": Choice(1, 3, 5, 7),
                        "fc": ListOf(Int(1, 100000)),
                        "dropout": Float(0.0, 1.0, hi_open=True),
                        "boost": Bool(),
                        **BOOSTING,
                        **EPOCHS,
                    }
                ),
                "resnet18": Section(
                    {
                        **WEIGHTS,
                        **BACKBONE_TRAINING,
                        "freeze": Choice("none", "backbone"),
                        "train_fraction": Float(0.0, 1.0, lo_open=True),
                    }
                ),
                "vgg16_bn": Section({**WEIGHTS, **BACKBONE_TRAINING}),
            }
        ),
    }
)


def load_params(path: str | Path = "params.yaml") -> dict[str, Any]:
    """Read and validate the whole params file; raise PipelineError with one clear message if it is wrong."""
    path = Path(path)
    try:
        params = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise PipelineError(f"{path}: not found; run the stage from the repository root.") from None
    except yaml.YAMLError as exc:
        raise PipelineError(f"{path}: not valid YAML: {exc}") from None
    SCHEMA.validate("", params)
    return params


def select(params: dict[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    """The part of `params` named by dotted `keys` (sections or leaves), nested as in the file.

    Stages read only this view, so a key a stage reads but did not declare fails loudly.
    """
    view: dict[str, Any] = {}
    for dotted in keys:
        source, target = params, view
        *parents, leaf = dotted.split(".")
        for part in parents:
            source = source[part]
            target = target.setdefault(part, {})
        target[leaf] = copy.deepcopy(source[leaf])
    return view
