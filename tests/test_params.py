import copy
import math
import re
from pathlib import Path

import numpy as np
import pytest
import yaml
from ruamel.yaml import YAML
from sklearn.model_selection import StratifiedKFold

from fmnist.classes import NUM_CLASSES
from fmnist.classical.gridsearch import stratified_subset
from fmnist.data.dataset import stratified_val_indices
from fmnist.errors import PipelineError
from fmnist.params import load_params, read_yaml, select
from fmnist.params_classify import smallest_training_fold, subset_rows_per_class
from fmnist.params_data import MIN_VAL_FRACTION, TRAIN_IMAGES_PER_CLASS

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def params():
    return yaml.safe_load((REPO / "params.yaml").read_text())


def check(tmp_path, params):
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    return load_params(path)


def knn_rows(size, neighbours, max_train=None):
    def edit(p):  # a search of `size` rows in 3 folds, k-NN up to `neighbours`
        p["classify"]["search"].update(size=size, folds=3)
        p["classify"]["knn"].update(max_train=max_train, grid={"n_neighbors": [1, neighbours]})

    return edit


def test_shipped_params_are_valid(tmp_path, params):
    assert check(tmp_path, params) == params


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            lambda p: p["data"].update(val_fractoin=0.2),
            r"unknown key `data.val_fractoin` under `data`; known keys there: seed, val_fraction",
        ),
        (lambda p: p.update(dataa={}), r"unknown key `dataa` under the top level"),
        (
            lambda p: p["data"].update(val_fraction="0.1"),
            r"`data.val_fraction` = '0.1' is invalid: expected a number in \(0.0, 0.5\]",
        ),
        (lambda p: p["data"].update(val_fraction=0.9), r"`data.val_fraction` = 0.9 is invalid"),
        (lambda p: p["data"].update(seed=1.5), r"`data.seed` = 1.5 is invalid: expected an integer"),
        (
            lambda p: p["model"].update(batch_size=1),
            r"`model.batch_size` = 1 is invalid: expected an integer in \[2, 65536\]",
        ),
        (
            lambda p: p["finetune"]["recipe"].update(batch_size=1),
            r"`finetune.recipe.batch_size` = 1 is invalid: expected an integer in \[2, 65536\]",
        ),
        (lambda p: p["download"].update(retries=True), r"`download.retries` = True is invalid: expected an integer"),
        (
            lambda p: p["download"].update(mirrors="/one/folder"),
            r"`download.mirrors` = '/one/folder' is invalid: expected a list",
        ),
        (lambda p: p["data"].pop("seed"), r"missing key `data.seed`"),
        (
            lambda p: p["classify"].update(models=["lda", "svn"]),
            r"`classify.models\[1\]` = 'svn' is invalid: expected one of 'lda'",
        ),
        (
            lambda p: p["classify"].update(wide_features=["scatnet_hog", "raw"]),
            r"`classify.features` and `classify.wide_features` both list raw, and `classify.models` and "
            r"`classify.wide_models` both list svm: stages classify@raw-svm and classify_wide@raw-svm would write the "
            r"same files \(metrics/classify/raw-svm.json\)\. Remove raw from one of the two feature lists, or svm from "
            r"one of the two model lists\.",
        ),
        (
            lambda p: p["classify"].update(wide_models=[]),
            r"`classify.wide_models` = \[\] is invalid: expected a list of at least 1 item\(s\)",
        ),
        (
            lambda p: p["visualize"].update(features=["raw", "raw"]),
            r"`visualize.features` = \['raw', 'raw'\] is invalid",
        ),
        (
            lambda p: p["classify"]["svm"].update(max_train={"scatnet_rihc": 100}),
            r"`classify.svm.max_train` = \{'scatnet_rihc': 100\} is invalid: expected null, "
            r"a number of rows, or a mapping from feature sets \(raw, scatnet",
        ),
        # `dvc exp run -S model.lr=nan` writes `.nan`, which YAML reads as a float; NaN fails no comparison.
        (
            lambda p: p["model"].update(lr=math.nan),
            r"`model.lr` = nan is invalid: expected a finite number in \(0.0, 10.0\]",
        ),
        (
            lambda p: p["data"].update(val_fraction=math.nan),
            r"`data.val_fraction` = nan is invalid: expected a finite number in \(0.0, 0.5\]",
        ),
        (
            lambda p: p["model"].update(weight_decay=math.inf),
            r"`model.weight_decay` = inf is invalid: expected a finite",
        ),
        (
            lambda p: p["cnn"]["mlp"].update(dropout=-math.inf),
            r"`cnn.mlp.dropout` = -inf is invalid: expected a finite",
        ),
        (lambda p: p["model"].update(epochs=math.inf), r"`model.epochs` = inf is invalid: expected an integer"),
        (
            lambda p: p["classify"]["svm"]["grid"].update(C=[3.0, math.nan]),
            r"`classify.svm.grid.C\[1\]` = nan is invalid: expected null, true/false, a finite number",
        ),
        # Open bounds: a learning rate of 0, an empty validation split, momentum 1 (never decays).
        (lambda p: p["model"].update(lr=0), r"`model.lr` = 0 is invalid: expected a number in \(0.0, 10.0\]"),
        (lambda p: p["model"].update(lr=0.0), r"`model.lr` = 0.0 is invalid: expected a number in \(0.0"),
        (
            lambda p: p["data"].update(val_fraction=0.0),
            r"`data.val_fraction` = 0.0 is invalid: expected a number in \(0.0, 0.5\]",
        ),
        (
            lambda p: p["model"].update(momentum=1),
            r"`model.momentum` = 1 is invalid: expected a number in \[0.0, 1.0\)",
        ),
        (lambda p: p["model"].update(momentum=1.0), r"`model.momentum` = 1.0 is invalid: expected a number in \[0.0"),
        (
            lambda p: p["classify"]["search"].update(n_jobs="all"),
            r"`classify.search.n_jobs` = 'all' is invalid: expected auto \(every core this process may use\) or a "
            r"number of workers from 1 to 1024",
        ),
        (lambda p: p["classify"]["search"].update(n_jobs=0), r"`classify.search.n_jobs` = 0 is invalid: expected auto"),
        # A decay of 1 would keep the initial weights for ever; shifts past 4 px leave a 28 x 28 image mostly border.
        (lambda p: p["model"].update(ema=1.0), r"`model.ema` = 1.0 is invalid: expected a number in \[0.0, 1.0\)"),
        (
            lambda p: p["model"].update(tta_shift=5),
            r"`model.tta_shift` = 5 is invalid: expected an integer in \[0, 4\]",
        ),
        (
            lambda p: p["cnn"]["resnet9"].update(channels=[16, 32, 64]),
            r"`cnn.resnet9.channels` = \[16, 32, 64\] is invalid: expected a list of exactly 4 item\(s\)\.",
        ),
        (
            lambda p: p["cnn"]["resnet9"].update(stage1_stride=4),
            r"`cnn.resnet9.stage1_stride` = 4 is invalid: expected an integer in \[1, 2\]",
        ),
        # An arch's own recipe values are checked as the `model` key they replace; its epochs have their own key.
        (
            lambda p: p["cnn"]["resnet9"]["recipe"].update(crop_paddin=2),
            r"unknown key `cnn.resnet9.recipe.crop_paddin`; it may replace these `model` keys: amp, batch_size",
        ),
        (
            lambda p: p["cnn"]["resnet9"]["recipe"].update(epochs=20),
            r"unknown key `cnn.resnet9.recipe.epochs`; it may replace these `model` keys: ",
        ),
        (
            lambda p: p["cnn"]["resnet9"]["recipe"].update(crop_padding=9),
            r"`cnn.resnet9.recipe.crop_padding` = 9 is invalid: expected an integer in \[0, 8\]",
        ),
        (
            lambda p: p["cnn"]["resnet9"]["recipe"].update(random_erasing=math.nan),
            r"`cnn.resnet9.recipe.random_erasing` = nan is invalid: expected a finite number in \[0.0, 1.0\]",
        ),
        (
            lambda p: p["cnn"]["resnet9"].update(recipe=[2]),
            r"`cnn.resnet9.recipe` = \[2\] is invalid: expected a mapping of `model` keys to the values",
        ),
        # Every arch has one, the course reports' small nets included.
        (
            lambda p: p["cnn"]["lenet5_bn"]["recipe"].update(channels_last="no"),
            r"`cnn.lenet5_bn.recipe.channels_last` = 'no' is invalid: expected true or false",
        ),
        (lambda p: p["cnn"]["mlp"].pop("recipe"), r"missing key `cnn.mlp.recipe`"),
        (
            lambda p: p["finetune"].update(runs=["lite0_whole_10;touch pwned"], **{"lite0_whole_10;touch pwned": {}}),
            r"`finetune.runs\[0\]` = 'lite0_whole_10;touch pwned' is not a name: it becomes part of a stage name, a "
            r"shell command and file names, so it is lower case letters, digits and underscores",
        ),
        (
            lambda p: p["finetune"]["runs"].append("lite0_whole_20"),
            r"`finetune.runs` lists 'lite0_whole_20', but `finetune` has no section 'lite0_whole_20'; add "
            r"`finetune.lite0_whole_20`",
        ),
        (
            lambda p: p["finetune"].update(runs=["resnet9"], resnet9=copy.deepcopy(p["finetune"]["lite0_whole_10"])),
            r"`finetune.runs` lists 'resnet9', the name of a train_cnn arch or of the ensemble",
        ),
        (
            lambda p: p["finetune"]["lite0_whole_10"].update(freeze="head"),
            r"`finetune.lite0_whole_10.freeze` = 'head' is invalid: expected one of 'none', 'backbone'",
        ),
        (
            lambda p: p["finetune"]["lite0_last_layer"].update(train_fraction=0.0),
            r"`finetune.lite0_last_layer.train_fraction` = 0.0 is invalid",
        ),
        (
            lambda p: p["finetune"]["lite0_frozen_head"].update(pooled_stages=8),
            r"`finetune.lite0_frozen_head.pooled_stages` = 8 is invalid",
        ),
        (
            lambda p: p["finetune"]["lite0_whole_50"]["recipe"].update(epochs=3),
            r"unknown key `finetune.lite0_whole_50.recipe.epochs`; it may replace these `finetune.recipe` keys",
        ),
        (lambda p: p["finetune"]["recipe"].pop("lr"), r"missing key `finetune.recipe.lr`"),
        (lambda p: p["finetune"]["lite0_whole_100"].pop("head"), r"missing key `finetune.lite0_whole_100.head`"),
        (
            lambda p: p["ensemble"].update(candidates=["resnet9", "lenet5_bn"]),
            r"`ensemble.candidates` lists 'lenet5_bn', which this pipeline does not train: it is in neither "
            r"`train_cnn.archs` nor `finetune.runs`",
        ),
        (lambda p: p["ensemble"].update(max_members=0), r"`ensemble.max_members` = 0 is invalid"),
        # The classify search's folds, its refit's rows and the k-NN grid, against the rows of the stratified subsets.
        (
            lambda p: p["classify"]["search"].update(size=30, folds=4),
            r"`classify.search.folds` = 4 is more than the rows of each class in the search's stratified subset "
            r"\(`classify.search.size` = 30: 3 rows of each class\), and every fold needs a row of every class\. Use 2 "
            r"to 3 folds, or a `classify.search.size` of at least 35\.",
        ),
        (
            lambda p: p["classify"]["search"].update(size=20, folds=2),
            r"`classify.search.folds` = 2 on the search's stratified subset \(`classify.search.size` = 20: 2 rows of "
            r"each class\) leaves 10 rows to train on in a fold, and a fit needs more rows than the 10 classes\. Use a "
            r"`classify.search.size` of at least 26\.",
        ),
        (
            lambda p: p["classify"]["lda"].update(max_train=9),
            r"`classify.lda.max_train` = 9 refits on a stratified subset of 10 rows \(1 of each class: 9 / 60,000 of "
            r"each class's 6,000, rounded\), and a fit needs more rows than the 10 classes\. Use at least 15, or null "
            r"for every row\.",
        ),
        (
            lambda p: p["classify"]["svm"]["max_train"].update(raw=5),
            r"`classify.svm.max_train.raw` = 5 refits on a stratified subset of 0 rows \(0 of each class",
        ),
        (
            knn_rows(30, 21),
            r"`classify.knn.grid.n_neighbors` lists 21, more than the 20 rows of a training fold of the search "
            r"\(`classify.search.size` = 30, `classify.search.folds` = 3\), and k-NN needs at least as many rows as "
            r"neighbours\. Use at most 20 neighbours, or more rows there\.",
        ),
        (
            lambda p: p["classify"]["knn"].update(max_train={"raw": 20}, grid={"n_neighbors": [5, 21]}),
            r"`classify.knn.grid.n_neighbors` lists 21, more than the 20 rows of the refit's subset "
            r"\(`classify.knn.max_train.raw` = 20\)",
        ),
        (
            lambda p: p["classify"]["lda"]["grid"].update(solver=["svd", "lsqr"]),
            r"`classify.lda.grid.shrinkage` lists 0.0001, and `classify.lda.grid.solver` tries 'svd', which has no "
            r"shrinkage: the search would stop with a traceback at that pair\. Shrink with solver lsqr or eigen only "
            r"\(`solver: \[lsqr\]`\), or use `shrinkage: \[null\]` with svd\.",
        ),
        (
            lambda p: p["classify"]["lda"]["grid"].pop("solver"),
            r"`classify.lda.grid.shrinkage` lists 0.0001, and `classify.lda.grid` names no solver, so scikit-learn's "
            r"default 'svd' solves, which has no shrinkage",
        ),
        # `dvc exp run -S classify.models=lda` writes a string, which DVC's matrix cannot iterate.
        (
            lambda p: p["classify"].update(models="lda"),
            r"`classify.models` = 'lda' is not a list: dvc.yaml makes one stage of each of its items, so write a YAML "
            r"list, e.g. `models: \[lda\]`\.",
        ),
        (
            lambda p: p["train_cnn"]["archs"].append("dense2;touch pwned"),
            r"`train_cnn.archs\[7\]` = 'dense2;touch pwned' is not a name: it becomes part of a stage name",
        ),
    ],
    ids=[
        "unknown-leaf",
        "unknown-section",
        "wrong-type",
        "out-of-range",
        "float-for-int",
        "batch-of-one",
        "fine-tune-batch-of-one",
        "bool-for-int",
        "str-for-list",
        "missing",
        "unknown-model",
        "set-in-both-matrices",
        "no-wide-models",
        "repeated-feature-set",
        "max-train-unknown-feature-set",
        "nan-lr",
        "nan-val-fraction",
        "inf-weight-decay",
        "minus-inf-dropout",
        "inf-for-int",
        "nan-in-grid",
        "zero-lr",
        "zero-float-lr",
        "zero-val-fraction",
        "momentum-one",
        "momentum-one-float",
        "n-jobs-word",
        "n-jobs-zero",
        "ema-one",
        "tta-shift-too-far",
        "resnet9-three-widths",
        "resnet9-stride-four",
        "recipe-unknown-key",
        "recipe-epochs-has-its-own-key",
        "recipe-out-of-range",
        "recipe-nan",
        "recipe-not-a-mapping",
        "small-net-recipe-wrong-type",
        "small-net-recipe-missing",
        "finetune-run-name-with-a-shell-command",
        "finetune-run-without-section",
        "finetune-run-named-as-an-arch",
        "finetune-freeze-unknown",
        "finetune-no-training-images",
        "finetune-pooled-stages-too-many",
        "finetune-recipe-epochs-has-its-own-key",
        "finetune-recipe-missing-key",
        "finetune-run-missing-key",
        "ensemble-candidate-not-trained",
        "ensemble-no-members",
        "search-folds-above-rows-per-class",
        "search-training-fold-no-more-rows-than-classes",
        "max-train-fewer-rows-than-classes",
        "max-train-of-a-feature-set-no-rows",
        "knn-neighbours-above-a-search-fold",
        "knn-neighbours-above-the-refit-rows",
        "lda-svd-solver-with-shrinkage",
        "lda-default-svd-solver-with-shrinkage",
        "matrix-list-written-as-a-string",
        "arch-with-a-shell-command",
    ],
)
def test_invalid_params_stop_with_one_message_naming_the_key(tmp_path, params, edit, message):
    bad = copy.deepcopy(params)
    edit(bad)
    with pytest.raises(PipelineError, match=message):
        check(tmp_path, bad)


@pytest.mark.parametrize(
    "edit, refused",
    [
        # 30 rows: 3 of each class, 3 folds; 4 are refused.
        (lambda p: p["classify"]["search"].update(size=30, folds=3), None),
        (lambda p: p["classify"]["search"].update(size=30, folds=4), r"`classify.search.folds` = 4 is more than"),
        # 2 folds of 3 rows of each class train on 15 rows; of 2 (25 rows: 2.5 rounds to 2) on 10, no more than classes.
        (lambda p: p["classify"]["search"].update(size=26, folds=2), None),
        (lambda p: p["classify"]["search"].update(size=25, folds=2), r"`classify.search.folds` = 2 .* leaves 10 rows"),
        # The refit: 15 rows hold 2 of each class (1.5 rounds to 2), 20 rows; 14 hold 1 of each, 10 rows.
        (lambda p: p["classify"]["lda"].update(max_train=15), None),
        (lambda p: p["classify"]["lda"].update(max_train=14), r"`classify.lda.max_train` = 14 refits"),
        # k-NN: 30 rows in 3 folds train on 20, 40 rows on 26 (the largest test fold holds 14), a refit on 20 rows.
        (knn_rows(30, 20), None),
        (knn_rows(30, 21), r"lists 21, more than the 20 rows of a training fold"),
        (knn_rows(40, 26), None),
        (knn_rows(40, 27), r"lists 27, more than the 26 rows of a training fold"),
        (knn_rows(10000, 20, max_train=20), None),
        (knn_rows(10000, 21, max_train=20), r"lists 21, more than the 20 rows of the refit's subset"),
        # LDA: svd without shrinkage, shrinkage with the other solvers.
        (lambda p: p["classify"]["lda"].update(grid={"solver": ["svd"], "shrinkage": [None]}), None),
        (lambda p: p["classify"]["lda"].update(grid={"solver": ["lsqr", "eigen"], "shrinkage": ["auto", 0.1]}), None),
        (lambda p: p["classify"]["lda"].update(grid={"shrinkage": [None, 0.1]}), r"`classify.lda.grid` names no"),
        # A feature set in both classify matrices, with no model in both: every stage writes its own files.
        (lambda p: p["classify"].update(wide_features=["scatnet_hog", "raw"], models=["lda", "knn"]), None),
        (lambda p: p["classify"].update(wide_features=["scatnet_hog", "raw"], models=["lda", "mlp"]), r"both list mlp"),
    ],
)
def test_classify_checks_pass_on_their_bound_and_refuse_one_past_it(tmp_path, params, edit, refused):
    edit(params)
    if refused is None:
        check(tmp_path, params)
    else:
        with pytest.raises(PipelineError, match=refused):
            check(tmp_path, params)


@pytest.mark.parametrize("size", [5, 9, 14, 15, 20, 25, 26, 30, 34, 35, 40, 10000, 59999, 60000, 70000, None])
def test_the_rows_checked_are_those_classify_searches_and_refits_on(size):
    """subset_rows_per_class and smallest_training_fold (which fmnist.params_classify computes without scikit-learn)
    agree with classify's stratified_subset and StratifiedKFold on Fashion-MNIST's 6,000 training images of each
    class."""
    labels = np.repeat(np.arange(NUM_CLASSES), TRAIN_IMAGES_PER_CLASS)
    subset = labels[stratified_subset(labels, size, seed=0)]
    per_class = subset_rows_per_class(size)
    assert np.array_equal(np.bincount(subset, minlength=NUM_CLASSES), np.full(NUM_CLASSES, per_class))
    for folds in range(2, min(per_class, 7) + 1):
        splits = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0).split(subset, subset)
        assert min(len(train) for train, _ in splits) == smallest_training_fold(per_class, folds)


def matrix_lists() -> list[str]:
    """The params.yaml lists dvc.yaml's `matrix:` sections interpolate (`${classify.models}`)."""
    stages = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    values = [value for stage in stages.values() for value in stage.get("matrix", {}).values()]
    assert values and all(re.fullmatch(r"\$\{[a-z_.]+\}", value) for value in values)
    return sorted({value[2:-1] for value in values})


def test_the_matrix_lists_are_those_of_dvc_yaml():
    assert matrix_lists() == [
        "classify.features",
        "classify.models",
        "classify.wide_features",
        "classify.wide_models",
        "finetune.runs",
        "train_cnn.archs",
        "visualize.features",
        "visualize.methods",
    ]


@pytest.mark.parametrize("key", matrix_lists())
def test_every_matrix_list_is_a_yaml_list_of_names(tmp_path, params, key):
    section, name = key.split(".")
    first = params[section][name][0]
    params[section][name] = first  # `dvc exp run -S classify.models=lda`: DVC's "'Value' object is not iterable"
    with pytest.raises(PipelineError, match=rf"`{key}` = '{first}' is not a list: .* e\.g\. `{name}: \[{first}\]`"):
        check(tmp_path, params)
    params[section][name] = [first, f"{first};touch pwned"]  # refused by name, before any other check of the list
    with pytest.raises(PipelineError, match=rf"`{key}\[1\]` = '{first};touch pwned' is not a name: "):
        check(tmp_path, params)


def test_val_fraction_too_small_for_one_validation_image_per_class_is_rejected(tmp_path, params):
    # 5e-5 x 6,000 images per class rounds to 0: prepare would write an empty split and train_cnn crash later.
    params["data"]["val_fraction"] = 5e-5
    with pytest.raises(PipelineError) as error:
        check(tmp_path, params)
    message = str(error.value)
    assert "`data.val_fraction` = 5e-05" in message
    assert "no validation image" in message and "6,000 training images per class" in message
    assert f"at least {MIN_VAL_FRACTION:g}" in message and "Fix it in params.yaml" in message


def test_the_smallest_val_fraction_named_holds_out_one_image_of_every_class(tmp_path, params):
    labels = np.repeat(np.arange(10), TRAIN_IMAGES_PER_CLASS)  # Fashion-MNIST's training set: 6,000 per class
    assert len(stratified_val_indices(labels, MIN_VAL_FRACTION, seed=0)) == 10
    just_below = 0.5 / TRAIN_IMAGES_PER_CLASS  # rounds to 0 images (round half to even)
    assert len(stratified_val_indices(labels, just_below, seed=0)) == 0
    params["data"]["val_fraction"] = MIN_VAL_FRACTION
    assert check(tmp_path, params)["data"]["val_fraction"] == MIN_VAL_FRACTION
    params["data"]["val_fraction"] = just_below
    with pytest.raises(PipelineError, match=r"`data.val_fraction` = 8.33\d*e-05 holds out no validation image"):
        check(tmp_path, params)


def shipped_text_with(old: str, new: str) -> str:
    text = (REPO / "params.yaml").read_text()
    assert text.count(old) == 1
    return text.replace(old, new)


@pytest.mark.parametrize(
    "written, value",
    [("1e-4", 0.0001), ("1E-4", 0.0001), ("+1e-3", 0.001), ("1.e-3", 0.001), (".5e-2", 0.005), ("5E0", 5.0)],
)
def test_yaml_1_2_floats_are_numbers_as_for_dvc(tmp_path, written, value):
    # PyYAML (YAML 1.1) reads `1e-4` as a string; DVC (ruamel.yaml, YAML 1.2) as a number.
    path = tmp_path / "params.yaml"
    path.write_text(shipped_text_with("  lr: 0.002 ", f"  lr: {written} "))
    assert load_params(path)["model"]["lr"] == value


def test_duplicate_key_is_one_message_naming_the_key_and_its_lines(tmp_path):
    # PyYAML keeps the last value silently; DVC refuses the file.
    path = tmp_path / "params.yaml"
    text = shipped_text_with("  val_fraction: 0.1\n", "  val_fraction: 0.1\n  val_fraction: 0.2\n")
    path.write_text(text)
    first = text.splitlines().index("  val_fraction: 0.1") + 1
    with pytest.raises(PipelineError) as error:
        load_params(path)
    assert str(error.value) == (
        f"{path}: duplicate key `data.val_fraction` on line {first + 1} (first on line {first}); "
        "DVC refuses such a file: keep one of the two lines."
    )


def test_duplicate_key_in_a_nested_mapping_names_its_dotted_key(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("a:\n  b: {c: 1, d: 2}\n  e:\n    - {f: 1, f: 2}\n")
    with pytest.raises(PipelineError, match=r"duplicate key `a.e\[0\].f` on line 4 \(first on line 4\)"):
        load_params(path)


DVC_CASES = [
    "a: 1e-4",
    "a: 1E5",
    "a: .5",
    "a: -.5e+3",
    "a: 1_000",
    "a: 0x1F",
    "a: 0o17",
    "a: 017",
    "a: yes",
    "a: on",
    "a: No",
    "a: 1:20",
    "a: .nan",
    "a: .inf",
    "a: -.Inf",
    "a: nan",
    "a: ~",
    "a: Null",
    "a: TRUE",
    "a: [1, 2.5, x, null]",
    "a: {b: 1e3}",
]


@pytest.mark.parametrize("text", DVC_CASES)
def test_params_are_read_as_dvc_reads_them(tmp_path, text):
    from dvc.utils.serialize import parse_yaml

    path = tmp_path / "params.yaml"
    path.write_text(text)
    ours, dvcs = read_yaml(path), parse_yaml(text, str(path))
    assert repr(ours) == repr(dvcs)  # repr: nan == nan is False, and True == 1
    assert repr(ours) == repr(YAML(typ="safe", pure=True).load(text))  # ruamel's Python parser reads it alike


def test_yaml_is_parsed_by_ruamels_c_parser():
    """DVC parses params.yaml once per stage in every command it runs: with ruamel.yaml.clib's C parser (in
    requirements.txt) `dvc status` of the tiny pipeline takes half the time. ruamel falls back to its Python parser
    without a word when the C one is missing."""
    from ruamel.yaml.main import CParser

    assert CParser is not None and YAML(typ="safe").Parser is CParser


@pytest.mark.parametrize("name", ["params.yaml", "profiles/gpu.yaml", "dvc.yaml", "dvc.lock"])
def test_the_c_parser_reads_the_shipped_yaml_files_as_the_python_one_does(name):
    text = (REPO / name).read_text()
    assert repr(YAML(typ="safe").load(text)) == repr(YAML(typ="safe", pure=True).load(text))


def test_unparsable_yaml_names_the_file(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("data: [unclosed")
    with pytest.raises(PipelineError, match=rf"{path}: not valid YAML"):
        load_params(path)


def test_select_returns_only_the_declared_keys(params):
    view = select(params, ["data.seed", "download"])
    assert view == {"data": {"seed": params["data"]["seed"]}, "download": params["download"]}
    with pytest.raises(KeyError):
        view["data"]["val_fraction"]


def test_select_names_a_key_params_yaml_lacks(params):
    with pytest.raises(PipelineError, match=r"params.yaml has no `finetune.lite0_whole_20`, which this stage reads"):
        select(params, ["finetune.lite0_whole_20"])


def test_params_yaml_is_kept_in_the_layout_dvc_writes_back(tmp_path):
    """`dvc exp run -S` (and `make repro`'s offline-weights override) rewrite params.yaml with DVC's own writer: the
    file is kept in that layout, so an override changes its own line and nothing else in `git diff`."""
    from dvc.utils.hydra import apply_overrides

    shipped = (REPO / "params.yaml").read_text()
    copy = tmp_path / "params.yaml"
    copy.write_text(shipped)
    apply_overrides(copy, [])
    assert copy.read_text() == shipped
    apply_overrides(copy, ["model.lr=0.03", "features.resnet18.weights=random"])
    before, after = shipped.splitlines(), copy.read_text().splitlines()
    assert len(before) == len(after)
    changed = [(old, new) for old, new in zip(before, after, strict=True) if old != new]
    as_values = [(yaml.safe_load(old.split("#")[0]), yaml.safe_load(new.split("#")[0])) for old, new in changed]
    lr = yaml.safe_load(shipped)["model"]["lr"]
    assert sorted(as_values, key=str) == [({"lr": lr}, {"lr": 0.03}), ({"weights": "imagenet"}, {"weights": "random"})]
