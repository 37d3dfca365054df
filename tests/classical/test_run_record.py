"""The record of one classify run beside its scores: its settings, its timings in seconds, the machine and BLAS it ran
on, its notes, and a log line; and the workers and BLAS threads its fits and predictions get."""

import logging
import types

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.neighbors import KNeighborsClassifier, NearestCentroid
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_info

from fmnist.classical import classify as classify_module
from fmnist.classical import gridsearch
from fmnist.classical.classify import blas_kernels, classify, edge_notes
from fmnist.classical.models import readable_params
from fmnist.classical.workers import Workers
from fmnist.cores import cpu_model
from tests.support.classifiers import swap_classifier

SEARCH = {"size": 120, "folds": 3, "seed": 0}
TICK_S = 1.23456  # what a ticking clock advances between two readings


def blobs(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Ten well-separated classes in four dimensions, labels cycling 0-9."""
    labels = np.arange(count) % 10
    centres = np.random.default_rng(123).normal(0, 4, size=(10, 4))
    rows = centres[labels] + np.random.default_rng(seed).normal(0, 0.5, size=(count, 4))
    return rows.astype(np.float32), labels


def workers(fit: int = 1, predict: int = 1, threads: int = 1) -> Workers:
    return Workers(fit, predict, threads, True, "this test")


def ticking_clock() -> types.SimpleNamespace:
    readings = iter(1000 + np.arange(1000) * TICK_S)  # a clock reads the time since some start, never 0
    return types.SimpleNamespace(perf_counter=lambda: float(next(readings)))


def test_the_record_holds_the_settings_timings_machine_and_notes(monkeypatch, caplog):
    monkeypatch.setattr(classify_module, "time", ticking_clock())
    monkeypatch.setattr(gridsearch, "time", ticking_clock())
    grid = {"tol": [1e-4, 1e-3], "solver": ["lsqr"]}  # 2 x 1 settings
    with caplog.at_level(logging.INFO):
        metrics, _ = classify(
            "toy", "lda", {"max_train": 100, "grid": grid}, SEARCH, blobs(200, 0), blobs(50, 1), workers()
        )
    best = metrics["best_params"]["tol"]
    assert {key: metrics[key] for key in ("cv_folds", "feature_dim", "cpu", "blas", "notes")} == {
        "cv_folds": 3,
        "feature_dim": 4,
        "cpu": cpu_model(),
        "blas": blas_kernels(),
        "notes": f"best tol={best} is at the edge of its grid {grid['tol']}; refit on a stratified subset of 100 of "
        "200 training rows (classify.lda.max_train) to keep the stage within the time budget",
    }
    assert [sorted(setting) for setting in metrics["grid"]] == [["cv_accuracy_mean", "cv_accuracy_std", "params"]] * 2
    # each timing one tick of the clock, in seconds to the millisecond
    assert [metrics[key] for key in ("search_seconds", "fit_seconds", "predict_seconds")] == [1.235] * 3
    logged = [r.getMessage() for r in caplog.records if r.name in (classify_module.__name__, gridsearch.__name__)]
    assert logged == [
        "lda: searching 2 settings x 3 folds on 120 training rows",
        f"search: 2 settings x 3 folds in 1.2 s; best {{'clf__solver': 'lsqr', 'clf__tol': {best}}} "
        f"(CV accuracy {metrics['cv_accuracy_mean']:.4f})",
        f"lda: refitting {{'solver': 'lsqr', 'tol': {best}}} on 100 rows",
        "lda: refit in 1.2 s",
        f"lda on toy: test accuracy {metrics['test_accuracy']:.4f}, macro F1 {metrics['macro_f1']:.4f}",
    ]


def test_a_run_on_every_row_with_one_setting_has_no_notes():
    model = {"max_train": None, "grid": {"tol": [1e-4]}}
    metrics, _ = classify("toy", "lda", model, SEARCH, blobs(200, 0), blobs(50, 1), workers())
    assert metrics["notes"] == ""


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # the search's, not noted
def test_a_refit_that_does_not_converge_is_noted_by_the_first_line_of_its_warning():
    model = {"max_train": None, "grid": {"max_iter": [1]}}
    metrics, _ = classify("toy", "logreg", model, SEARCH, blobs(200, 0), blobs(50, 1), workers())
    assert metrics["notes"] == "refit: lbfgs failed to converge after 1 iteration(s) (status=1):"


@pytest.mark.parametrize(
    ("grid", "best", "notes"),
    [
        ({"C": [0.1, 1, 10]}, {"C": 10}, ["best C=10 is at the edge of its grid [0.1, 1, 10]"]),
        ({"C": [0.1, 1, 10]}, {"C": 0.1}, ["best C=0.1 is at the edge of its grid [0.1, 1, 10]"]),
        ({"C": [0.1, 1, 10]}, {"C": 1}, []),
        ({"C": [1, 10]}, {"C": 1}, ["best C=1 is at the edge of its grid [1, 10]"]),
        ({"C": [10]}, {"C": 10}, []),  # fixed, not searched
        ({"fit_intercept": [True, False]}, {"fit_intercept": True}, []),  # not a numeric axis
        (
            {"kernel": ["rbf", "linear"], "C": [1, 10]},
            {"kernel": "rbf", "C": 10},
            ["best C=10 is at the edge of its grid [1, 10]"],
        ),
    ],
    ids=["largest", "smallest", "inside", "two-values", "one-value", "booleans", "strings-beside"],
)
def test_a_best_value_at_the_edge_of_a_searched_numeric_axis_is_noted(grid, best, notes):
    assert edge_notes(grid, best) == notes


def test_the_best_params_are_recorded_in_params_yaml_s_terms():
    chosen = {
        "scale": StandardScaler(),
        "pca": PCA(n_components=5),
        "clf__C": 1.0,
        "clf__estimator__tol": 0.01,
        "clf__hidden_layer_sizes": (64, 32),
    }
    assert readable_params(chosen) == {
        "scale": "standard",
        "pca": 5,
        "C": 1.0,
        "tol": 0.01,
        "hidden_layer_sizes": [64, 32],
    }
    assert readable_params({"scale": "passthrough", "pca": "passthrough"}) == {"scale": "none", "pca": None}


class ThreadsRecording(NearestCentroid):
    """Nearest class mean, noting the BLAS threads of each fit and prediction."""

    seen: list[tuple[str, set[int]]] = []

    def fit(self, x, y):
        ThreadsRecording.seen.append(("fit", {pool["num_threads"] for pool in threadpool_info()}))
        return super().fit(x, y)

    def predict(self, x):
        ThreadsRecording.seen.append(("predict", {pool["num_threads"] for pool in threadpool_info()}))
        return super().predict(x)


def test_the_search_fits_on_one_blas_thread_the_refit_and_predictions_on_the_fixed_threads(monkeypatch):
    ThreadsRecording.seen = []
    swap_classifier(monkeypatch, "lda", lambda seed: ThreadsRecording())
    model = {"max_train": None, "grid": {"shrink_threshold": [None]}}
    classify("toy", "lda", model, SEARCH, blobs(200, 0), blobs(50, 1), workers(threads=2))
    search, refit, test = ThreadsRecording.seen[:-2], ThreadsRecording.seen[-2], ThreadsRecording.seen[-1]
    assert search and all(threads == {1} for _, threads in search)  # 3 folds: fit, then predict its held-out rows
    assert (refit, test) == (("fit", {2}), ("predict", {2}))


class JobsRecording(KNeighborsClassifier):
    """k-NN, noting its n_jobs at each fit and prediction (and the rows predicted)."""

    seen: list[tuple[str, int | None, int]] = []

    def fit(self, x, y):
        JobsRecording.seen.append(("fit", self.n_jobs, len(x)))
        return super().fit(x, y)

    def predict(self, x):
        JobsRecording.seen.append(("predict", self.n_jobs, len(x)))
        return super().predict(x)


@pytest.mark.parametrize("fit_jobs", [1, 2])
def test_a_classifier_that_parallelises_itself_fits_on_the_fit_workers_and_predicts_on_the_predict_ones(
    monkeypatch, fit_jobs
):
    """One setting of it: the search's folds run one after another, each fit on every fit worker."""
    JobsRecording.seen = []
    swap_classifier(monkeypatch, "knn", lambda seed: JobsRecording())
    model = {"max_train": None, "grid": {"n_neighbors": [1]}}
    classify("toy", "knn", model, SEARCH, blobs(200, 0), blobs(50, 1), workers(fit=fit_jobs, predict=3))
    *search, refit, test = JobsRecording.seen
    assert {jobs for _, jobs, _ in search} == {fit_jobs}
    assert (refit, test) == (("fit", fit_jobs, 200), ("predict", 3, 50))


def test_each_blas_is_named_with_its_kernels_once_and_openmp_is_left_out(monkeypatch):
    libraries = [
        {"internal_api": "openblas", "architecture": "Haswell"},
        {"internal_api": "openblas", "architecture": "Haswell"},  # scipy's copy beside numpy's
        {"internal_api": "openblas", "architecture": "SkylakeX"},
        {"internal_api": "mkl", "threading_layer": "intel"},  # no kernels named
        {"internal_api": "openmp"},
    ]
    monkeypatch.setattr(classify_module, "threadpool_info", lambda: libraries)
    assert blas_kernels() == ["mkl", "openblas Haswell", "openblas SkylakeX"]
