"""params.yaml: its schema, loading with validation, and the per-stage view of it."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from fmnist.classes import NUM_CLASSES
from fmnist.errors import PipelineError
from fmnist.names import ARCHS, CLASSIFY_MODELS, ENSEMBLE, FEATURE_SETS, FINE_TUNE_BACKBONES, METHODS
from fmnist.schema import (
    Bool,
    Choice,
    Float,
    Int,
    ListOf,
    MapOf,
    MatrixList,
    Nullable,
    OneOf,
    Overrides,
    Section,
    Spec,
    Str,
)

# Fashion-MNIST's training set holds 6,000 images of every class, and prepare holds out
# round(val_fraction x 6,000) of each (fmnist.data.dataset.stratified_val_indices; Python rounds half to even,
# so 0.5 / 6,000 = 8.33e-05 holds out none). MIN_VAL_FRACTION: the smallest three-digit value holding out one.
TRAIN_IMAGES_PER_CLASS = 6000
MIN_VAL_FRACTION = 8.34e-05
# A classify stage searches and refits on stratified subsets of all the training rows (fmnist.classical's
# stratified_subset). Every fit, in a search fold or the refit, needs more rows than classes: LDA refuses fewer, and an
# MLP's early stopping holds out a tenth of them, which must be at least 2.
TRAIN_ROWS = TRAIN_IMAGES_PER_CLASS * NUM_CLASSES
MIN_FIT_ROWS = NUM_CLASSES + 1
# scikit-learn's LDA solver where the grid names none.
LDA_DEFAULT_SOLVER = "svd"


@dataclass(frozen=True)
class ValFraction(Spec):
    """`data.val_fraction`: in (0, 0.5], and large enough to hold out at least one image of every class (an
    empty validation split would pass prepare and crash train_cnn later, far from its cause)."""

    bounds: Spec = Float(0.0, 0.5, lo_open=True)

    def validate(self, key: str, value: Any) -> None:
        self.bounds.validate(key, value)
        if round(value * TRAIN_IMAGES_PER_CLASS) < 1:
            raise PipelineError(
                f"params.yaml: `{key}` = {value!r} holds out no validation image: {value!r} x "
                f"{TRAIN_IMAGES_PER_CLASS:,} training images per class rounds to 0, so the validation split would "
                f"be empty. Use at least {MIN_VAL_FRACTION:g}, the smallest value that holds out one image of every "
                "class. Fix it in params.yaml (or in your `dvc exp run -S` override)."
            )


def subset_rows_per_class(rows: int | None) -> int:
    """Rows of each class in classify's stratified subset of `rows` training rows, computed as stratified_subset
    draws it: all 6,000 for None or at least every row, else rows / 60,000 of them, rounded (half to even)."""
    if rows is None or rows >= TRAIN_ROWS:
        return TRAIN_IMAGES_PER_CLASS
    return round(rows / TRAIN_ROWS * TRAIN_IMAGES_PER_CLASS)


def smallest_size(enough: Callable[[int], bool]) -> int:
    """The smallest subset size whose stratified subset holds `enough` rows of each class (`enough` grows with them)."""
    return next(rows for rows in range(1, TRAIN_ROWS + 1) if enough(subset_rows_per_class(rows)))


def smallest_training_fold(per_class: int, folds: int) -> int:
    """Rows of the smallest training fold of a stratified `folds`-fold search on `per_class` rows of each class:
    StratifiedKFold deals the rows, sorted by class, round the folds, so the largest test fold holds
    ceil(rows / folds) of them."""
    rows = NUM_CLASSES * per_class
    return rows - -(-rows // folds)  # -(-a // b): a / b rounded up


def search_fits(per_class: int, folds: int) -> bool:
    """Whether a stratified `folds`-fold search on `per_class` rows of each class has a row of every class in each
    fold (StratifiedKFold refuses more folds) and MIN_FIT_ROWS in each training fold."""
    return folds <= per_class and smallest_training_fold(per_class, folds) >= MIN_FIT_ROWS


def refit_bounds(model: str, max_train: int | dict | None) -> list[tuple[str, int]]:
    """The row bounds of `classify.<model>.max_train` (one for every feature set, or one per set) by dotted key."""
    key = f"classify.{model}.max_train"
    bounds = max_train.items() if isinstance(max_train, dict) else [(None, max_train)]
    return [(key if name is None else f"{key}.{name}", rows) for name, rows in bounds if rows is not None]


def _classify_error(problem: str, fix: str) -> PipelineError:
    return PipelineError(
        f"params.yaml: {problem}. {fix}. Fix it in params.yaml (or in your `dvc exp run -S` override)."
    )


def check_matrices_write_apart(classify: dict[str, Any]) -> None:
    """classify@<set>-<model> and classify_wide@<set>-<model> write the same files (metrics/classify/<set>-<model>.json)
    when both matrices hold the set and the model; DVC refuses that with advice that does not apply here."""
    features = [name for name in classify["features"] if name in classify["wide_features"]]
    models = [name for name in classify["models"] if name in classify["wide_models"]]
    if features and models:
        feature, model = features[0], models[0]
        raise _classify_error(
            f"`classify.features` and `classify.wide_features` both list {feature}, and `classify.models` and "
            f"`classify.wide_models` both list {model}: stages classify@{feature}-{model} and "
            f"classify_wide@{feature}-{model} would write the same files (metrics/classify/{feature}-{model}.json)",
            f"Remove {feature} from one of the two feature lists, or {model} from one of the two model lists",
        )


def check_search_rows(search: dict[str, Any]) -> None:
    """The search's stratified subset holds enough rows of each class for `folds` stratified folds."""
    size, folds = search["size"], search["folds"]
    per_class = subset_rows_per_class(size)
    if search_fits(per_class, folds):
        return
    where = f"the search's stratified subset (`classify.search.size` = {size}: {per_class} rows of each class)"
    if folds > per_class:
        problem = (
            f"`classify.search.folds` = {folds} is more than the rows of each class in {where}, and every fold needs "
            "a row of every class"
        )
    else:
        problem = (
            f"`classify.search.folds` = {folds} on {where} leaves {smallest_training_fold(per_class, folds)} rows to "
            f"train on in a fold, and a fit needs more rows than the {NUM_CLASSES} classes"
        )
    valid = [n for n in range(2, per_class + 1) if search_fits(per_class, n)]
    other_folds = f"{valid[0]}{f' to {valid[-1]}' if len(valid) > 1 else ''} folds, or " if valid else ""
    enough = smallest_size(lambda rows_per_class: search_fits(rows_per_class, folds))
    raise _classify_error(problem, f"Use {other_folds}a `classify.search.size` of at least {enough:,}")


def check_refit_rows(model: str, max_train: int | dict | None) -> None:
    """`classify.<model>.max_train` leaves the refit MIN_FIT_ROWS rows."""
    for key, rows in refit_bounds(model, max_train):
        per_class = subset_rows_per_class(rows)
        if NUM_CLASSES * per_class < MIN_FIT_ROWS:
            raise _classify_error(
                f"`{key}` = {rows} refits on a stratified subset of {NUM_CLASSES * per_class} rows ({per_class} of "
                f"each class: {rows} / {TRAIN_ROWS:,} of each class's {TRAIN_IMAGES_PER_CLASS:,}, rounded), and a fit "
                f"needs more rows than the {NUM_CLASSES} classes",
                f"Use at least {smallest_size(lambda n: NUM_CLASSES * n >= MIN_FIT_ROWS)}, or null for every row",
            )


def check_knn_neighbours(classify: dict[str, Any]) -> None:
    """No `classify.knn.grid.n_neighbors` value exceeds the rows k-NN fits on: a search's training fold, the refit."""
    values = classify["knn"]["grid"].get("n_neighbors", [])
    neighbours = max((v for v in values if isinstance(v, int) and not isinstance(v, bool)), default=0)
    size, folds = classify["search"]["size"], classify["search"]["folds"]
    search = f"a training fold of the search (`classify.search.size` = {size}, `classify.search.folds` = {folds})"
    fits = [(smallest_training_fold(subset_rows_per_class(size), folds), search)] + [
        (NUM_CLASSES * subset_rows_per_class(rows), f"the refit's subset (`{key}` = {rows})")
        for key, rows in refit_bounds("knn", classify["knn"]["max_train"])
    ]
    for rows, where in fits:
        if neighbours > rows:
            raise _classify_error(
                f"`classify.knn.grid.n_neighbors` lists {neighbours}, more than the {rows:,} rows of {where}, and "
                "k-NN needs at least as many rows as neighbours",
                f"Use at most {rows:,} neighbours, or more rows there",
            )


def check_lda_grid(grid: dict[str, list]) -> None:
    """The LDA grid tries no shrinkage with the svd solver, which scikit-learn refuses (a grid tries every pair)."""
    shrunk = [v for v in grid.get("shrinkage", []) if v is not None]
    if LDA_DEFAULT_SOLVER in grid.get("solver", [LDA_DEFAULT_SOLVER]) and shrunk:
        svd = (
            f"`classify.lda.grid.solver` tries {LDA_DEFAULT_SOLVER!r}"
            if "solver" in grid
            else f"`classify.lda.grid` names no solver, so scikit-learn's default {LDA_DEFAULT_SOLVER!r} solves"
        )
        raise _classify_error(
            f"`classify.lda.grid.shrinkage` lists {shrunk[0]!r}, and {svd}, which has no shrinkage: the search would "
            "stop with a traceback at that pair",
            "Shrink with solver lsqr or eigen only (`solver: [lsqr]`), or use `shrinkage: [null]` with svd",
        )


@dataclass(frozen=True)
class ClassifySection(Section):
    """`classify`: its keys, then what they must agree on for every classify stage to run to its end: two stage
    matrices that write apart, enough rows of every class in each fit, and a valid LDA grid."""

    def validate(self, key: str, value: Any) -> None:
        super().validate(key, value)
        check_matrices_write_apart(value)
        check_search_rows(value["search"])
        for model in CLASSIFY_MODELS:
            check_refit_rows(model, value[model]["max_train"])
        check_knn_neighbours(value)
        check_lda_grid(value["lda"]["grid"])


DEVICE = Choice("auto", "cpu", "cuda")
# Workers of a classify stage, threads of a CNN stage (fmnist/cores.py): every core this process may use, or a number.
JOBS = OneOf(
    (Choice("auto"), Int(1, 1024)), "auto (every core this process may use) or a number of workers from 1 to 1024"
)

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

# The rich scattering set's settings and a HOG descriptor beside them (features.scatnet_hog, fmnist/features/hog.py).
SCATTERING_HOG = Section(
    {
        **SCATTERING.fields,
        "kind": Choice("scattering_hog"),
        "hog": Section({"orientations": Int(2, 36), "pixels_per_cell": Int(2, 14), "cells_per_block": Int(1, 14)}),
    }
)

GRID_VALUE = Nullable(
    OneOf(
        (Bool(), Float(), Str(), ListOf(Int(1), min_len=1)),
        "null, true/false, a finite number, a string, or a list of positive integers (layer sizes)",
    )
)
CLASSIFY_MODEL = Section(
    {
        # One bound on the refit's rows for every feature set, or one per feature set ({scatnet_rich: 20000}).
        "max_train": OneOf(
            (Nullable(Int(1)), MapOf(Nullable(Int(1)), keys=FEATURE_SETS)),
            f"null, a number of rows, or a mapping from feature sets ({', '.join(FEATURE_SETS)}) to those",
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
# The shared training recipe (`model:`) of every train_cnn stage.
MODEL_FIELDS: dict[str, Spec] = {
    "optimizer": Choice("sgd", "adam", "adamw"),
    "lr": Float(0.0, 10.0, lo_open=True),
    "momentum": Float(0.0, 1.0, hi_open=True),
    "weight_decay": Float(0.0, 1.0),
    "epochs": Int(1, 1000),
    "batch_size": Int(2, 65536),  # a batch of one image stops batch norm in training (one value per channel)
    "patience": Int(1, 1000),
    "schedule": Choice("onecycle", "cosine", "constant"),
    "warmup_fraction": Float(0.0, 0.9),
    "label_smoothing": Float(0.0, 1.0, hi_open=True),
    "crop_padding": Int(0, 8),
    "hflip": Bool(),
    "random_erasing": Float(0.0, 1.0),
    "ema": Float(0.0, 1.0, hi_open=True),
    "tta_hflip": Bool(),
    "tta_shift": Int(0, 4),
    "channels_last": Bool(),
    "compile": Bool(),
    "amp": Bool(),
    "device": DEVICE,
    "cpu_threads": JOBS,
    "seed": Int(0, 2**32 - 1),
}
# An architecture's own values for some of them (cnn.<arch>.recipe; its epochs are cnn.<arch>.epochs).
RECIPE_OVERRIDES = Overrides({k: v for k, v in MODEL_FIELDS.items() if k != "epochs"}, replaces="model")
# Every arch may train for its own number of epochs (null: model.epochs), to fit the CPU budget, may switch
# model.crop_padding / model.hflip augmentation off (dense nets gain nothing from shifts), and may set its own values of
# other `model` keys in `recipe` ({}: none).
ARCH_TRAINING = {"epochs": Nullable(Int(1, 1000)), "augment": Bool(), "recipe": RECIPE_OVERRIDES}
# Report 003's small nets; their sweeps (sweeps.<name>.values) take values of the same ranges.
HIDDEN_UNITS, FILTERS, KERNEL_SIZE = Int(1, 100000), Int(1, 4096), Int(1, 28)
LENET5 = {"activation": Choice("relu", "tanh"), "pool": Choice("avg", "max"), **ARCH_TRAINING}
# Report 001's boosting (fmnist.cnn.boosting): nets 2 and 3 start from scratch or from net 1's weights, and
# train for boost_epochs (null: as many as net 1).
BOOSTING = {"boost_from": Choice("scratch", "net1"), "boost_epochs": Nullable(Int(1, 1000))}
# The ImageNet backbones' own training adjustments: their lr is model.lr x lr_scale.
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

# A fine-tune stage's recipe (`finetune.recipe`): the `model` keys but `epochs`, which each run sets. Complete in
# itself, so that an experiment on the small nets' `model` re-runs no fine-tune.
FINE_TUNE_RECIPE = {k: v for k, v in MODEL_FIELDS.items() if k != "epochs"}
# One fine-tune run (`finetune.<run>`, stage finetune@<run>): a backbone, how much of it trains, on how much data, and
# its new head: `linear` (one layer, the course reports' new last layer) or `mlp` (report 001's new classifier).
FINE_TUNE_RUN = Section(
    {
        "arch": Choice(*FINE_TUNE_BACKBONES),
        **WEIGHTS,
        "input_size": Int(32, 512),
        "crop_scale_min": Float(0.0, 1.0, lo_open=True),
        "augment": Bool(),
        "freeze": Choice("none", "backbone"),
        "train_fraction": Float(0.0, 1.0, lo_open=True),
        "head": Choice("linear", "mlp"),
        "head_hidden": Int(1, 65536),
        "head_dropout": Float(0.0, 1.0, hi_open=True),
        "pooled_stages": Int(0, 7),
        "standardize": Bool(),
        "epochs": Int(1, 1000),
        "recipe": Overrides(FINE_TUNE_RECIPE, replaces="finetune.recipe"),
    }
)
# The runs' names: a stage matrix in dvc.yaml, which may be empty (no fine-tune stage).
RUNS = MatrixList(Str(), min_len=0)


@dataclass(frozen=True)
class FineTuneSection(Spec):
    """`finetune`: the runs `dvc repro` trains (`runs`, the matrix of stage finetune), their shared `recipe`, and one
    FINE_TUNE_RUN section per run, named as every matrix value (schema.MATRIX_NAME)."""

    def validate(self, key: str, value: Any) -> None:
        runs = (
            {name: FINE_TUNE_RUN for name in value if name not in ("runs", "recipe")} if isinstance(value, dict) else {}
        )
        # `runs` first: its names, checked before the sections named after them.
        Section({"runs": RUNS, "recipe": Section(FINE_TUNE_RECIPE), **runs}).validate(key, value)
        for name in value["runs"]:
            if name not in value:
                raise PipelineError(
                    f"params.yaml: `{key}.runs` lists {name!r}, but `{key}` has no section {name!r}; add "
                    f"`{key}.{name}` (copy a run's section) or remove the name from `{key}.runs`."
                )
            if name in ARCHS or name == ENSEMBLE:
                raise PipelineError(
                    f"params.yaml: `{key}.runs` lists {name!r}, the name of a train_cnn arch or of the ensemble, "
                    f"whose outputs (models/cnn/{name}.pt, metrics/cnn/{name}.json) a fine-tune would overwrite. "
                    "Rename the run (and its section)."
                )


def check_ensemble(params: dict[str, Any]) -> None:
    """`ensemble.candidates` names nets that `dvc repro` trains: train_cnn archs or fine-tune runs."""
    trained = [*params["train_cnn"]["archs"], *params["finetune"]["runs"]]
    for name in params["ensemble"]["candidates"]:
        if name not in trained:
            raise PipelineError(
                f"params.yaml: `ensemble.candidates` lists {name!r}, which this pipeline does not train: it is in "
                f"neither `train_cnn.archs` nor `finetune.runs` ({', '.join(trained)}). Add it to one of those, or "
                "remove it from `ensemble.candidates`."
            )


def sweep_of(value: Spec) -> Section:
    """One of report 003's sweeps (fmnist.cnn.sweep): the values its net trains with, for `epochs` epochs each,
    scored on the validation split every `eval_every` training steps."""
    return Section(
        {"values": ListOf(value, min_len=1, unique=True), "epochs": Int(1, 1000), "eval_every": Int(1, 1_000_000)}
    )


def backbone_features(kind: str, stages: int = 0) -> Section:
    """A feature set of a pretrained backbone's global-pool output (fmnist/features/backbone.py); where the backbone
    exposes its `stages` block stages, `pooled_stages` of them may be pooled in front."""
    return Section(
        {
            "kind": Choice(kind),
            **WEIGHTS,
            "seed": Int(0, 2**32 - 1),
            "input_size": Int(32, 1024),
            "batch_size": Int(1, 65536),
            "device": DEVICE,
            "amp": Bool(),
            **({"pooled_stages": Int(0, stages)} if stages else {}),
        }
    )


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
                "val_fraction": ValFraction(),
                "seed": Int(0, 2**32 - 1),
            }
        ),
        "visualize": Section(
            {
                "features": MatrixList(Choice(*FEATURE_SETS)),
                "methods": MatrixList(Choice(*METHODS)),
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
                "scatnet_hog": SCATTERING_HOG,
                "resnet18": backbone_features("resnet18"),
                "efficientnet_lite0": backbone_features("efficientnet_lite0", stages=7),
            }
        ),
        "classify": ClassifySection(
            {
                # The matrices of stages classify and classify_wide (dvc.yaml interpolates these lists).
                "features": MatrixList(Choice(*FEATURE_SETS)),
                "models": MatrixList(Choice(*CLASSIFY_MODELS)),
                "wide_features": MatrixList(Choice(*FEATURE_SETS)),
                "wide_models": MatrixList(Choice(*CLASSIFY_MODELS)),
                "search": Section(
                    {
                        "size": Int(20),
                        "folds": Int(2, 20),
                        "seed": Int(0, 2**32 - 1),
                        "n_jobs": JOBS,
                        "fit_threads": Int(1, 1024),
                    }
                ),
                **{name: CLASSIFY_MODEL for name in CLASSIFY_MODELS},
            }
        ),
        "train_cnn": Section({"archs": MatrixList(Choice(*ARCHS))}),
        "sweeps": Section(
            {"hidden_units": sweep_of(HIDDEN_UNITS), "filters": sweep_of(FILTERS), "kernel_size": sweep_of(KERNEL_SIZE)}
        ),
        "model": Section(MODEL_FIELDS),
        "finetune": FineTuneSection(),
        # Stage ensemble: the mean of the softmax outputs of up to `max_members` of these nets, chosen on the
        # validation split (fmnist/cnn/ensemble.py).
        "ensemble": Section({"candidates": ListOf(Str(), min_len=1, unique=True), "max_members": Int(1, 50)}),
        "cnn": Section(
            {
                "mlp": Section(
                    {
                        "hidden": ListOf(Int(1, 100000), min_len=1),
                        "dropout": Float(0.0, 1.0, hi_open=True),
                        **ARCH_TRAINING,
                    }
                ),
                "dense2": Section({"hidden": HIDDEN_UNITS, **ARCH_TRAINING}),
                "cnn1": Section({"filters": FILTERS, "kernel": KERNEL_SIZE, **ARCH_TRAINING}),
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
                        **ARCH_TRAINING,
                    }
                ),
                "resnet9": Section(
                    {
                        "channels": ListOf(Int(1, 4096), min_len=4, max_len=4),
                        "stage1_stride": Int(1, 2),
                        **ARCH_TRAINING,
                    }
                ),
                "resnet18": FINE_TUNING,
                "vgg16_bn": Section({**WEIGHTS, **BACKBONE_TRAINING}),
                "efficientnet_lite0": FINE_TUNING,
            }
        ),
    }
)


def _duplicate_key(node: Node, where: str = "") -> tuple[str, int, int] | None:
    """The first key set twice in one mapping under `node`: its dotted name and both (1-based) lines."""
    if isinstance(node, MappingNode):
        first_lines: dict[str, int] = {}
        for key_node, value_node in node.value:
            name = key_node.value if isinstance(key_node, ScalarNode) else "?"
            dotted = f"{where}.{name}" if where else name
            line = key_node.start_mark.line + 1
            if name in first_lines:
                return dotted, first_lines[name], line
            first_lines[name] = line
            if found := _duplicate_key(value_node, dotted):
                return found
    elif isinstance(node, SequenceNode):
        for i, item in enumerate(node.value):
            if found := _duplicate_key(item, f"{where}[{i}]"):
                return found
    return None


def read_yaml(path: str | Path) -> Any:
    """The file's content exactly as DVC reads it (`dvc.utils.serialize.parse_yaml`: ruamel.yaml, YAML 1.2),
    so that the stages and DVC's params records agree: `1e-4` is a number, `yes` a string, and a duplicate
    key (which PyYAML would settle silently, the last one winning) an error."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PipelineError(f"{path}: not found; run the stage from the repository root.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PipelineError(f"{path}: cannot be read as UTF-8 text ({exc}); check the file.") from None
    yaml = YAML(typ="safe")
    try:
        return yaml.load(text)
    except DuplicateKeyError as exc:
        found = _duplicate_key(yaml.compose(text))
        if found is None:  # keys equal as values but written differently (say 1 and 1.0): ruamel.yaml's words
            where = f" on line {exc.problem_mark.line + 1}" if exc.problem_mark is not None else ""
            problem = f"{exc.problem}{where}"
        else:
            dotted, first, line = found
            problem = f"duplicate key `{dotted}` on line {line} (first on line {first})"
        raise PipelineError(f"{path}: {problem}; DVC refuses such a file: keep one of the two lines.") from None
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).strip().splitlines()[-1]
        raise PipelineError(
            f"{path}: not valid YAML: {problem}{where}. Fix it there (`git diff {path}` shows what changed)."
        ) from None


def load_params(path: str | Path = "params.yaml") -> dict[str, Any]:
    """Read (as DVC does) and validate the whole params file; raise PipelineError with one clear message if it
    is wrong."""
    params = read_yaml(path)
    validate(params)
    return params


def validate(params: dict[str, Any]) -> None:
    """Raise PipelineError with one clear message if `params` (the whole file's content) is wrong."""
    SCHEMA.validate("", params)
    check_ensemble(params)


def select(params: dict[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    """The part of `params` named by dotted `keys` (sections or leaves), nested as in the file.

    Stages read only this view, so a key a stage reads but did not declare fails loudly.
    """
    view: dict[str, Any] = {}
    for dotted in keys:
        source, target = params, view
        *parents, leaf = dotted.split(".")
        try:
            for part in parents:
                source = source[part]
                target = target.setdefault(part, {})
            target[leaf] = copy.deepcopy(source[leaf])
        except (KeyError, TypeError):
            raise PipelineError(
                f"params.yaml has no `{dotted}`, which this stage reads; the stage names in dvc.yaml come from "
                "params.yaml's lists: add the section, or remove the name from its list."
            ) from None
    return view
