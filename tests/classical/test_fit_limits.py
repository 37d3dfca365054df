"""The rows of each fit of a classify stage, and the one-line refusal of a `pca` or QDA setting they cannot take:
what is wrong, where, and the fix."""

import numpy as np
import pytest

from fmnist.classical.classify import classify
from fmnist.classical.fit_limits import Fit, check_fit_limits, classify_fits
from fmnist.classical.workers import local_workers
from fmnist.errors import PipelineError

LABELS = np.arange(200) % 10  # 20 rows of each class
SEARCH = {"size": 60, "folds": 3, "seed": 0}  # 6 of each class searched; each training fold 40 rows, 4 of each
FOLD = Fit(
    "a training fold of the search (`classify.search.size` = 60, `classify.search.folds` = 3)",
    "a larger `classify.search.size` or more `classify.search.folds`",
    40,
    4,
)
MORE_REFIT_ROWS = "a larger `classify.qda.max_train` (or null: every row)"
FIX_IT = "Fix it in params.yaml (or in your `dvc exp run -S` override)."


@pytest.mark.parametrize(
    ("bound", "refit"),
    [
        (30, Fit("the refit's subset (`classify.qda.max_train` = 30)", MORE_REFIT_ROWS, 30, 3)),
        (None, Fit("the refit (every row)", MORE_REFIT_ROWS, 200, 20)),
    ],
    ids=["bounded-refit", "refit-on-every-row"],
)
def test_the_fits_are_the_search_s_training_folds_then_the_refit(bound, refit):
    assert classify_fits(LABELS, SEARCH, "classify.qda.max_train", bound) == [FOLD, FOLD, FOLD, refit]


def refusal(model: str, grid: dict, width: int = 50) -> str:
    fits = classify_fits(LABELS, SEARCH, f"classify.{model}.max_train", 30)
    with pytest.raises(PipelineError) as error:
        check_fit_limits(model, grid, "toy", width, fits)
    return str(error.value)


def test_more_components_than_a_fit_has_rows_is_refused_with_the_most_it_can_take():
    assert refusal("logreg", {"pca": [31]}) == (
        "params.yaml: `classify.logreg.grid.pca` lists 31, more than the 30 rows of the refit's subset "
        "(`classify.logreg.max_train` = 30), and PCA finds at most as many components as rows. Use at most 30 "
        f"components, or a larger `classify.logreg.max_train` (or null: every row). {FIX_IT}"
    )


@pytest.mark.parametrize(("components", "dims"), [(3, "3-dimensional"), (None, "50-dimensional")])
def test_qda_with_no_more_rows_of_a_class_than_dimensions_is_refused_with_the_most_it_can_take(components, dims):
    assert refusal("qda", {"pca": [components]}) == (
        f"params.yaml: `classify.qda.grid.pca` lists {components!r}, so QDA fits a {dims} covariance per class "
        "(feature set toy has 50 columns), but the refit's subset (`classify.qda.max_train` = 30) holds 3 rows of one "
        f"class, and QDA needs more rows of every class than dimensions. Use `pca` of at most 2 components, or "
        f"{MORE_REFIT_ROWS}. {FIX_IT}"
    )


def test_qda_may_fit_one_dimension_fewer_than_the_rows_of_its_thinnest_class():
    check_fit_limits("qda", {"pca": [2]}, "toy", 50, classify_fits(LABELS, SEARCH, "classify.qda.max_train", 30))


def test_a_classify_run_refused_names_its_feature_set():
    train = (np.zeros((200, 50), dtype=np.float32), LABELS)
    test = (np.zeros((10, 50), dtype=np.float32), LABELS[:10])
    model = {"max_train": None, "grid": {"reg_param": [0.1]}}
    with pytest.raises(PipelineError, match=r"\(feature set scatnet has 50 columns\)"):
        classify("scatnet", "qda", model, SEARCH, train, test, local_workers(1, threads=1))
