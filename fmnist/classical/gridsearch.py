"""Choosing a model's hyper-parameters by stratified k-fold grid search on a seeded training subset.

Only training rows ever reach this module; the test set is scored once, after the choice, elsewhere.
"""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline

from fmnist.classical.models import THREADED
from fmnist.classical.workers import Workers, fit_threads
from fmnist.data import stratified_val_indices

log = logging.getLogger(__name__)


def stratified_subset(labels: np.ndarray, size: int | None, seed: int) -> np.ndarray:
    """Sorted indices of a seeded subset holding about `size` rows in the class proportions of `labels`.

    `size` None, or at least the number of rows, gives every row.
    """
    if size is None or size >= len(labels):
        return np.arange(len(labels))
    return stratified_val_indices(labels, size / len(labels), seed)


def search_folds(folds: int, seed: int) -> StratifiedKFold:
    """The search's seeded stratified folds (fmnist.classical.fit_limits checks the rows of each before any fit)."""
    return StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)


def projects(param_grid: dict[str, list]) -> bool:
    """Whether some setting of `param_grid` has a `pca` step that projects (not "passthrough")."""
    return any(step != "passthrough" for step in param_grid.get("pca", []))


def set_n_jobs(pipeline: Pipeline, n_jobs: int) -> Pipeline:
    """Give the classifier `n_jobs` workers where it parallelises by that setting (random forest, k-NN)."""
    if isinstance(pipeline.named_steps["clf"], THREADED):
        pipeline.set_params(clf__n_jobs=n_jobs)
    return pipeline


@dataclass(frozen=True)
class SearchResult:
    best_params: dict[str, Any]  # pipeline parameter names, as GridSearchCV reports them
    cv_accuracy_mean: float
    cv_accuracy_std: float
    candidates: list[dict[str, Any]]  # every grid point: params, mean and std of the fold accuracies
    seconds: float


def grid_search(
    pipeline: Pipeline,
    param_grid: dict[str, list],
    features: np.ndarray,
    labels: np.ndarray,
    folds: int,
    seed: int,
    workers: Workers,
) -> SearchResult:
    """Stratified `folds`-fold CV accuracy of every grid point; the best is the highest mean (first on ties).

    Folds run `workers.fit` at a time, each on one thread; a single setting of a classifier that parallelises
    itself (a random forest) runs its folds one after another on `workers.fit` workers each instead (3 folds on 2
    single-threaded workers would leave a core idle for the last one), its BLAS on `workers.threads`.
    GridSearchCV's verbose log shows each fit as it ends: the fold, the setting, its score and its time.
    """
    cv = search_folds(folds, seed)
    inside = isinstance(pipeline.named_steps["clf"], THREADED) and all(
        len(values) == 1 for values in param_grid.values()
    )
    start = time.perf_counter()
    # Each fold's projection is fitted once and read back for the fold's other settings (scikit-learn's transformer
    # cache): the same fitted steps, so the same scores. Only on this machine's workers, which share the folder (in
    # TMPDIR; 454 MB at its fullest for the 4,833-d scatnet_hog SVM search).
    with tempfile.TemporaryDirectory(prefix="fmnist-search-") as cache:
        search = GridSearchCV(
            set_n_jobs(clone(pipeline), workers.fit if inside else 1).set_params(
                memory=cache if workers.local and projects(param_grid) else None
            ),
            param_grid,
            scoring="accuracy",
            cv=cv,
            n_jobs=1 if inside else workers.fit,
            refit=False,
            verbose=3,
            error_score="raise",
        )
        with fit_threads(workers, alone=inside):
            search.fit(features, labels)
    seconds = time.perf_counter() - start
    results = search.cv_results_
    best = int(search.best_index_)
    candidates = [
        {"params": params, "cv_accuracy_mean": float(mean), "cv_accuracy_std": float(std)}
        for params, mean, std in zip(
            results["params"], results["mean_test_score"], results["std_test_score"], strict=True
        )
    ]
    log.info(
        "search: %d settings x %d folds in %.1f s; best %s (CV accuracy %.4f)",
        len(candidates),
        folds,
        seconds,
        search.best_params_,
        results["mean_test_score"][best],
    )
    return SearchResult(
        best_params=dict(search.best_params_),
        cv_accuracy_mean=float(results["mean_test_score"][best]),
        cv_accuracy_std=float(results["std_test_score"][best]),
        candidates=candidates,
        seconds=seconds,
    )
