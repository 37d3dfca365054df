"""One model on one feature set: grid search on a training subset, refit, a single test-set score.

`tune_and_fit` sees only training rows; `classify` scores the test set once, after the choice.
"""

from __future__ import annotations

import logging
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_info

from fmnist.atomic import load_npy
from fmnist.classical.fit_limits import check_fit_limits, classify_fits
from fmnist.classical.gridsearch import grid_search, set_n_jobs, stratified_subset
from fmnist.classical.models import (
    THREADED,
    build_pipeline,
    classifier_prefix,
    grid_size,
    pipeline_grid,
    readable_params,
)
from fmnist.classical.workers import Workers, fit_threads
from fmnist.cores import cpu_model
from fmnist.errors import PipelineError
from fmnist.evaluation import classification_metrics
from fmnist.layout import Layout

log = logging.getLogger(__name__)

# The numbers of a classify run that `dvc metrics` shows; the rest of its record goes to its details.
HEADLINE = ("test_accuracy", "macro_f1", "cv_accuracy_mean")


def load_feature_set(layout: Layout, name: str, train_rows: int, test_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """features/<name>/{train,test}.npy, checked: 2-D float32, one row per image, all values finite."""
    arrays = []
    for split, rows in (("train", train_rows), ("test", test_rows)):
        path = layout.feature_array(name, split)
        try:
            array = load_npy(
                path,
                f"restore it with `dvc checkout {path}` or re-create it with `dvc repro extract_features@{name}`",
            )
        except FileNotFoundError:
            raise PipelineError(
                f"{path}: not found; run its feature stage first (`dvc repro extract_features@{name}`)"
            ) from None
        if array.ndim != 2 or array.shape[0] != rows or array.dtype != np.float32:
            raise PipelineError(
                f"{path}: expected a float32 array of {rows} rows x features, "
                f"found {array.dtype} of shape {array.shape}; re-run `dvc repro extract_features@{name}`"
            )
        if not np.isfinite(array).all():
            raise PipelineError(f"{path}: contains NaN or infinite values; re-run `dvc repro extract_features@{name}`")
        arrays.append(array)
    return arrays[0], arrays[1]


@dataclass
class FittedModel:
    pipeline: Pipeline
    best_params: dict[str, Any]  # in params.yaml's terms
    cv_accuracy_mean: float
    cv_accuracy_std: float
    grid: list[dict[str, Any]]
    search_size: int
    search_seconds: float
    train_size: int
    fit_seconds: float
    notes: list[str]


def edge_notes(grid: dict[str, list], best: dict[str, Any]) -> list[str]:
    """Say where the chosen value of a searched numeric axis is the grid's smallest or largest."""
    notes = []
    for key, values in grid.items():
        numeric = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if len(numeric) > 1 and best.get(key) in (min(numeric), max(numeric)):
            notes.append(f"best {key}={best[key]} is at the edge of its grid {values}")
    return notes


def refit_bound(model: str, max_train: int | dict | None, feature: str) -> tuple[str, int | None]:
    """`classify.<model>.max_train` for one feature set, and its dotted key: one bound for all, or a bound per feature
    set (a set it does not name refits on every row)."""
    if isinstance(max_train, dict):
        return f"classify.{model}.max_train.{feature}", max_train.get(feature)
    return f"classify.{model}.max_train", max_train


def tune_and_fit(
    model: str,
    model_params: dict,
    search_params: dict,
    train_x: np.ndarray,
    train_y: np.ndarray,
    workers: Workers,
) -> FittedModel:
    """Grid-search `model` on a stratified subset of the training rows, then refit the best setting.

    The refit uses every training row, or a stratified subset of `max_train` rows when the model sets it.
    """
    seed = search_params["seed"]
    pipeline = build_pipeline(model, seed)
    grid = model_params["grid"]
    search_rows = stratified_subset(train_y, search_params["size"], seed)
    log.info(
        "%s: searching %d settings x %d folds on %d training rows",
        model,
        grid_size(grid),
        search_params["folds"],
        len(search_rows),
    )
    search = grid_search(
        pipeline,
        pipeline_grid(grid, train_x.shape[1], classifier_prefix(pipeline)),
        train_x[search_rows],
        train_y[search_rows],
        search_params["folds"],
        seed,
        workers,
    )
    best = readable_params(search.best_params)

    notes = edge_notes(grid, best)
    fit_rows = stratified_subset(train_y, model_params["max_train"], seed)
    if len(fit_rows) < len(train_y):
        notes.append(
            f"refit on a stratified subset of {len(fit_rows)} of {len(train_y)} training rows "
            f"(classify.{model}.max_train) to keep the stage within the time budget"
        )
    final = set_n_jobs(pipeline.set_params(**search.best_params), workers.fit)
    log.info("%s: refitting %s on %d rows", model, best, len(fit_rows))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        start = time.perf_counter()
        with fit_threads(workers, alone=True):
            if len(fit_rows) == len(train_y):  # every row: no 1 GB copy of the 3,969-d set
                final.fit(train_x, train_y)
            else:
                final.fit(train_x[fit_rows], train_y[fit_rows])
        fit_seconds = time.perf_counter() - start
    for warning in caught:
        if issubclass(warning.category, ConvergenceWarning):
            notes.append(f"refit: {str(warning.message).splitlines()[0]}")
            break
    log.info("%s: refit in %.1f s", model, fit_seconds)
    return FittedModel(
        pipeline=final,
        best_params=best,
        cv_accuracy_mean=search.cv_accuracy_mean,
        cv_accuracy_std=search.cv_accuracy_std,
        grid=[
            {
                "params": readable_params(c["params"]),
                "cv_accuracy_mean": c["cv_accuracy_mean"],
                "cv_accuracy_std": c["cv_accuracy_std"],
            }
            for c in search.candidates
        ],
        search_size=len(search_rows),
        search_seconds=search.seconds,
        train_size=len(fit_rows),
        fit_seconds=fit_seconds,
        notes=notes,
    )


def predict_side_by_side(pipeline: Pipeline, features: np.ndarray, n_jobs: int) -> np.ndarray:
    """`pipeline.predict` on `n_jobs` chunks of rows in threads (libsvm, liblinear and BLAS release the
    GIL; an SVC predicts on one core otherwise). Rows are scored independently, so the predictions are
    those of one call. Classifiers that parallelise themselves (THREADED) predict in one call."""
    if n_jobs == 1 or isinstance(pipeline.named_steps["clf"], THREADED):
        return pipeline.predict(features)
    with ThreadPoolExecutor(n_jobs) as pool:
        return np.concatenate(list(pool.map(pipeline.predict, np.array_split(features, n_jobs))))


def blas_kernels() -> list[str]:
    """The BLAS libraries this process loaded and the kernels each took (`openblas Haswell`: fmnist.cores)."""
    found = {f"{i['internal_api']} {i.get('architecture') or ''}".strip() for i in threadpool_info()}
    return sorted(k for k in found if not k.startswith("openmp"))


def classify(
    feature: str,
    model: str,
    model_params: dict,
    search_params: dict,
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    workers: Workers,
) -> tuple[dict, np.ndarray]:
    """Tune and fit on `train` (features, labels) with `workers`, then score once on `test`: the run's record
    (HEADLINE metrics and details) and the test predictions. Settings the fits' rows cannot take stop first."""
    key, bound = refit_bound(model, model_params["max_train"], feature)
    train_x, train_y = train
    check_fit_limits(
        model, model_params["grid"], feature, train_x.shape[1], classify_fits(train_y, search_params, key, bound)
    )
    bounded = {**model_params, "max_train": bound}
    fitted = tune_and_fit(model, bounded, search_params, train_x, train_y, workers)
    test_x, test_y = test
    start = time.perf_counter()
    with fit_threads(workers, alone=True):  # rows are scored independently: chunks change nothing
        predicted = predict_side_by_side(set_n_jobs(fitted.pipeline, workers.predict), test_x, workers.predict)
    predict_seconds = time.perf_counter() - start
    metrics = {
        "feature": feature,
        "model": model,
        **classification_metrics(test_y, predicted),
        "best_params": fitted.best_params,
        "cv_accuracy_mean": fitted.cv_accuracy_mean,
        "cv_accuracy_std": fitted.cv_accuracy_std,
        "cv_folds": search_params["folds"],
        "search_size": fitted.search_size,
        "search_seconds": round(fitted.search_seconds, 3),
        "grid": fitted.grid,
        "train_size": fitted.train_size,
        "fit_seconds": round(fitted.fit_seconds, 3),
        "predict_seconds": round(predict_seconds, 3),
        "feature_dim": int(test_x.shape[1]),
        "cpu": cpu_model(),
        "blas": blas_kernels(),
        "notes": "; ".join(fitted.notes),
    }
    log.info(
        "%s on %s: test accuracy %.4f, macro F1 %.4f", model, feature, metrics["test_accuracy"], metrics["macro_f1"]
    )
    return metrics, predicted
