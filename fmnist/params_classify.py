"""The params.yaml schema of the classical family (`classify`): its keys, and what they must agree on for every
classify stage to run to its end, computed without scikit-learn (tests/test_params.py checks the two agree)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fmnist.catalog import CLASSIFY_MODELS, FEATURE_SETS
from fmnist.classes import NUM_CLASSES
from fmnist.errors import PipelineError
from fmnist.params_data import TRAIN_IMAGES_PER_CLASS, TRAIN_ROWS
from fmnist.schema import JOBS, Bool, Choice, Float, Int, ListOf, MapOf, MatrixList, Nullable, OneOf, Section, Str

# A classify stage searches and refits on stratified subsets of all the training rows (fmnist.classical's
# stratified_subset). Every fit, in a search fold or the refit, needs more rows than classes: LDA refuses fewer, and an
# MLP's early stopping holds out a tenth of them, which must be at least 2.
MIN_FIT_ROWS = NUM_CLASSES + 1
# scikit-learn's LDA solver where the grid names none.
LDA_DEFAULT_SOLVER = "svd"


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


def classify_error(problem: str, fix: str) -> PipelineError:
    """The one-line message of a `classify` setting that cannot run: the problem, then its fix."""
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
        raise classify_error(
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
    raise classify_error(problem, f"Use {other_folds}a `classify.search.size` of at least {enough:,}")


def check_refit_rows(model: str, max_train: int | dict | None) -> None:
    """`classify.<model>.max_train` leaves the refit MIN_FIT_ROWS rows."""
    for key, rows in refit_bounds(model, max_train):
        per_class = subset_rows_per_class(rows)
        if NUM_CLASSES * per_class < MIN_FIT_ROWS:
            raise classify_error(
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
            raise classify_error(
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
        raise classify_error(
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
            (Nullable(Int(1)), MapOf(Nullable(Int(1)), keys=tuple(FEATURE_SETS))),
            f"null, a number of rows, or a mapping from feature sets ({', '.join(FEATURE_SETS)}) to those",
        ),
        "grid": MapOf(ListOf(GRID_VALUE, min_len=1)),
    }
)

CLASSIFY_SECTION = ClassifySection(
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
)
