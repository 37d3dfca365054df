"""The rows each fit of a classify stage gets, checked against the model's grid before any fit.

fmnist.params checks what params.yaml alone decides; what also depends on the feature set's width and the training
labels is checked here, once they are loaded: PCA finds at most as many components as a fit has rows, and
scikit-learn's QDA, one covariance per class, needs more rows of every class than dimensions. Either would otherwise
stop the search with a traceback after the settings before it had run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from fmnist.classical.gridsearch import search_folds, stratified_subset
from fmnist.params_classify import classify_error


@dataclass(frozen=True)
class Fit:
    """One fit of a classify stage: where it is and how to give it more rows (for messages), its rows, and the fewest
    rows of any one class in it."""

    where: str
    more_rows: str
    rows: int
    rows_per_class: int


def fit_of(where: str, more_rows: str, labels: np.ndarray) -> Fit:
    return Fit(where, more_rows, len(labels), int(np.unique(labels, return_counts=True)[1].min()))


def classify_fits(labels: np.ndarray, search: dict[str, Any], refit_key: str, refit_bound: int | None) -> list[Fit]:
    """The search's training folds and the refit on `refit_bound` rows (`refit_key`), drawn from the training `labels`
    as tune_and_fit draws them."""
    size, folds, seed = search["size"], search["folds"], search["seed"]
    subset = labels[stratified_subset(labels, size, seed)]
    fold = f"a training fold of the search (`classify.search.size` = {size}, `classify.search.folds` = {folds})"
    more = "a larger `classify.search.size` or more `classify.search.folds`"
    fits = [fit_of(fold, more, subset[train]) for train, _ in search_folds(folds, seed).split(subset, subset)]
    refit = (
        f"the refit's subset (`{refit_key}` = {refit_bound})" if refit_bound is not None else "the refit (every row)"
    )
    refit_labels = labels[stratified_subset(labels, refit_bound, seed)]
    return [*fits, fit_of(refit, f"a larger `{refit_key}` (or null: every row)", refit_labels)]


def check_fit_limits(model: str, grid: dict[str, list], feature: str, width: int, fits: list[Fit]) -> None:
    """Each `pca` value of `grid` leaves every fit at least as many rows as components, and QDA more rows of every
    class than the dimensions it fits on (the components, or all `width` columns of `feature` unprojected)."""
    smallest = min(fits, key=lambda fit: fit.rows)
    thinnest = min(fits, key=lambda fit: fit.rows_per_class)
    key = f"classify.{model}.grid.pca"
    for components in grid.get("pca", [None]):
        projected = components is not None and components < width  # else no projection (models.projection)
        setting = f"`{key}` lists {components!r}" if "pca" in grid else f"`classify.{model}.grid` names no `pca`"
        if projected and components > smallest.rows:
            raise classify_error(
                f"{setting}, more than the {smallest.rows:,} rows of {smallest.where}, and PCA finds at most as "
                "many components as rows",
                f"Use at most {smallest.rows:,} components, or {smallest.more_rows}",
            )
        dims = components if projected else width
        if model == "qda" and thinnest.rows_per_class <= dims:
            raise classify_error(
                f"{setting}, so QDA fits a {dims:,}-dimensional covariance per class (feature set {feature} has "
                f"{width:,} columns), but {thinnest.where} holds {thinnest.rows_per_class:,} rows of one class, and "
                "QDA needs more rows of every class than dimensions",
                f"Use `pca` of at most {thinnest.rows_per_class - 1:,} components, or {thinnest.more_rows}",
            )
