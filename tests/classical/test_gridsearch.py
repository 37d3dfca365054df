"""The grid search's cross-validation: a seeded, stratified subset of the training rows, split into stratified and
shuffled folds (the same for the same seed, others for another), the fold count the search params give, and the
choice of the setting with the best held-out accuracy (first on ties), never the best fit to its own training rows."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.decomposition import PCA
from sklearn.model_selection import StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_info

from fmnist.classical.classify import tune_and_fit
from fmnist.classical.gridsearch import grid_search, projects, stratified_subset
from fmnist.classical.workers import Workers, local_workers
from tests.support.classifiers import swap_classifier

ONE_CORE = local_workers(1, threads=1)  # folds run in this process, one after another: the recorder sees each fit


def rows_with_ids(labels: np.ndarray) -> np.ndarray:
    """Column 0: the row's index; then ten well-separated Gaussian classes."""
    centres = np.random.default_rng(123).normal(0, 4, size=(10, 4))
    points = centres[labels] + np.random.default_rng(0).normal(0, 0.5, size=(len(labels), 4))
    return np.column_stack([np.arange(len(labels)), points]).astype(np.float64)


class FoldRecorder(ClassifierMixin, BaseEstimator):
    """Nearest class mean on all but column 0 (the row ids), labels moved on by `shift`; `memorize` answers rows it
    was fitted on by their label and every other row wrongly (perfect on its own rows, useless on held-out ones).
    The row ids of every fit go to `fits`."""

    fits: list[np.ndarray] = []

    def __init__(self, shift: int = 0, memorize: bool = False):
        self.shift = shift
        self.memorize = memorize

    def fit(self, x, y):
        FoldRecorder.fits.append(x[:, 0].astype(int))
        self.classes_ = np.unique(y)
        self.means_ = np.stack([x[y == c, 1:].mean(axis=0) for c in self.classes_])
        self.seen_ = dict(zip(x[:, 0].astype(int).tolist(), y.tolist(), strict=True))
        return self

    def predict(self, x):
        nearest = np.argmin(((x[:, None, 1:] - self.means_[None]) ** 2).sum(axis=2), axis=1)
        predicted = self.classes_[(nearest + self.shift) % len(self.classes_)]
        if self.memorize:
            wrong = self.classes_[(nearest + 1) % len(self.classes_)]
            return np.array([self.seen_.get(i, w) for i, w in zip(x[:, 0].astype(int).tolist(), wrong, strict=True)])
        return predicted


def search(labels: np.ndarray, grid: dict, folds: int, seed: int):
    FoldRecorder.fits = []
    pipeline = Pipeline([("clf", FoldRecorder())])
    result = grid_search(
        pipeline, {f"clf__{k}": v for k, v in grid.items()}, rows_with_ids(labels), labels, folds, seed, ONE_CORE
    )
    return result, list(FoldRecorder.fits)


def validation_folds(labels: np.ndarray, folds: int, seed: int) -> list[frozenset[int]]:
    """The rows each fold held out (every row but those its fit saw), in a canonical order."""
    _, fits = search(labels, {"shift": [0]}, folds, seed)
    rows = set(range(len(labels)))
    return sorted((frozenset(rows - set(fit.tolist())) for fit in fits), key=min)


@pytest.mark.parametrize("folds", [3, 4])
def test_the_search_holds_out_each_row_once_in_folds_stratified_by_class(folds):
    labels = np.arange(120) % 10  # 12 rows a class
    held_out = validation_folds(labels, folds, seed=0)
    assert len(held_out) == folds
    assert sorted(row for fold in held_out for row in fold) == list(range(120))  # a partition of the rows
    for fold in held_out:
        assert np.bincount(labels[sorted(fold)], minlength=10).tolist() == [12 // folds] * 10


def test_the_folds_are_shuffled_under_the_search_seed():
    labels = np.arange(120) % 10
    folds = validation_folds(labels, 3, seed=0)
    assert validation_folds(labels, 3, seed=0) == folds  # the same seed, the same folds
    assert validation_folds(labels, 3, seed=1) != folds  # another seed, other folds
    # Unshuffled, stratified folds are blocks of consecutive rows (here each class's first, second, last 4 rows).
    blocks = [frozenset(range(start, start + 40)) for start in (0, 40, 80)]
    assert not set(folds) & set(blocks)
    assert all(max(fold) - min(fold) > 100 for fold in folds)


def test_the_chosen_setting_is_the_best_on_held_out_folds_not_on_its_own_training_rows():
    labels = np.arange(120) % 10
    # Memorizing is perfect on the rows it was fitted on and wrong on every other: held out, it scores 0.
    result, _ = search(labels, {"memorize": [True, False]}, 3, 0)
    assert result.best_params == {"clf__memorize": False}
    scores = {c["params"]["clf__memorize"]: c["cv_accuracy_mean"] for c in result.candidates}
    assert scores == {True: 0.0, False: 1.0} and result.cv_accuracy_mean == 1.0


@pytest.mark.parametrize("grid", [[0, 10], [10, 0]])
def test_on_a_tie_the_first_setting_of_the_grid_is_chosen(grid):
    labels = np.arange(120) % 10
    result, _ = search(labels, {"shift": grid}, 3, 0)  # a shift of 10 classes is no shift: both score 1.0
    assert [c["cv_accuracy_mean"] for c in result.candidates] == [1.0, 1.0]
    assert result.best_params == {"clf__shift": grid[0]}


def test_the_search_subset_keeps_each_class_share_and_follows_the_seed():
    labels = np.repeat(np.arange(10), np.arange(10, 110, 10))  # 10, 20, ..., 100 rows: 550 in all
    rows = stratified_subset(labels, 110, seed=4)  # a fifth of each class
    assert np.bincount(labels[rows]).tolist() == list(range(2, 22, 2))
    assert len(set(rows.tolist())) == 110 and np.all(np.diff(rows) > 0)
    assert np.array_equal(stratified_subset(labels, 110, seed=4), rows)
    assert not np.array_equal(stratified_subset(labels, 110, seed=5), rows)


@pytest.fixture
def recorder_as_lda(monkeypatch):
    swap_classifier(monkeypatch, "lda", lambda seed: FoldRecorder())


@pytest.mark.parametrize("max_train", [None, 100])
def test_tune_and_fit_searches_the_seeded_subset_in_the_search_params_folds_then_refits(recorder_as_lda, max_train):
    labels = np.arange(200) % 10
    x = rows_with_ids(labels)
    model_params = {"max_train": max_train, "grid": {"shift": [0]}}
    searches = {}
    for seed in (5, 6):
        FoldRecorder.fits = []
        fitted = tune_and_fit("lda", model_params, {"size": 60, "folds": 4, "seed": seed}, x, labels, ONE_CORE)
        assert len(FoldRecorder.fits) == 5 and fitted.search_size == 60  # 4 folds, then the refit
        *folds, refit = FoldRecorder.fits
        searched = stratified_subset(labels, 60, seed)  # the seeded subset, every row of it
        assert sorted({row for fold in folds for row in fold.tolist()}) == searched.tolist()
        assert np.bincount(labels[searched]).tolist() == [6] * 10
        shuffled = StratifiedKFold(4, shuffle=True, random_state=seed).split(searched, labels[searched])
        assert sorted(sorted(fold.tolist()) for fold in folds) == sorted(
            sorted(searched[train].tolist()) for train, _ in shuffled
        )  # each fold trains on 3/4 of the 60 rows, shuffled under the seed
        assert sorted(refit.tolist()) == stratified_subset(labels, max_train, seed).tolist()
        assert fitted.train_size == len(refit)
        searches[seed] = searched.tolist()
    assert searches[5] != searches[6]


def test_the_refit_pipeline_is_seeded_by_the_search_seed_and_its_pca_step_is_exact():
    labels = np.arange(200) % 10
    grid = {"pca": [2], "C": [1.0]}
    search = {"size": 60, "folds": 3, "seed": 7}
    fitted = tune_and_fit("logreg", {"max_train": None, "grid": grid}, search, rows_with_ids(labels), labels, ONE_CORE)
    assert fitted.pipeline.named_steps["clf"].random_state == 7
    assert fitted.pipeline.named_steps["pca"].svd_solver == "covariance_eigh"


class FailsOnShiftOne(FoldRecorder):
    def fit(self, x, y):
        if self.shift == 1:
            raise ValueError("a shift of 1 cannot be fitted")
        return super().fit(x, y)


def test_a_setting_that_cannot_be_fitted_stops_the_search_with_its_error():
    """Not a silent NaN score for it while the other settings go on."""
    labels = np.arange(120) % 10
    pipeline = Pipeline([("clf", FailsOnShiftOne())])
    with pytest.raises(ValueError, match="a shift of 1 cannot be fitted"):
        grid_search(pipeline, {"clf__shift": [0, 1]}, rows_with_ids(labels), labels, 3, 0, ONE_CORE)


def test_each_fit_of_the_search_is_shown_with_its_fold_setting_score_and_time(capsys):
    search(np.arange(120) % 10, {"shift": [0, 3]}, 3, 0)
    shown = [line for line in capsys.readouterr().out.splitlines() if line.startswith("[CV ")]
    assert len(shown) == 2 * 3
    for fold in (1, 2, 3):
        for shift, score in ((0, "1.000"), (3, "0.000")):
            assert any(
                line.startswith(f"[CV {fold}/3] END") and f"clf__shift={shift};, score={score} total time=" in line
                for line in shown
            ), (fold, shift)


class ThreadsKNN(KNeighborsClassifier):
    """k-NN, noting the BLAS threads of each fit."""

    threads: list[set[int]] = []

    def fit(self, x, y):
        ThreadsKNN.threads.append({pool["num_threads"] for pool in threadpool_info()})
        return super().fit(x, y)


@pytest.mark.parametrize(("neighbours", "threads"), [([1], {3}), ([1, 3], {1})], ids=["one-setting", "two-settings"])
def test_a_single_setting_of_a_self_parallel_classifier_fits_on_the_fixed_threads_settings_side_by_side_on_one(
    neighbours, threads
):
    ThreadsKNN.threads = []
    labels = np.arange(120) % 10
    pipeline = Pipeline([("clf", ThreadsKNN())])
    workers = Workers(fit=1, predict=1, threads=3, local=True, where="this test")
    grid_search(pipeline, {"clf__n_neighbors": neighbours}, rows_with_ids(labels), labels, 3, 0, workers)
    assert len(ThreadsKNN.threads) == 3 * len(neighbours)
    assert set.union(*ThreadsKNN.threads) == threads


def projected_search(monkeypatch, workers: Workers) -> tuple[list[float], list[int]]:
    """A k-NN search, 3 settings of k x (none and 2 projections) in 3 folds: its scores and each PCA fit's width."""
    widths = []
    fit_transform = PCA.fit_transform

    def counted(self, x, y=None):
        widths.append(self.n_components)
        return fit_transform(self, x, y)

    monkeypatch.setattr(PCA, "fit_transform", counted)
    labels = np.arange(240) % 10
    features = np.random.default_rng(4).normal(size=(240, 12)) + labels[:, None] * 0.3
    pipeline = Pipeline([("scale", "passthrough"), ("pca", "passthrough"), ("clf", KNeighborsClassifier())])
    projections = ["passthrough", PCA(2, svd_solver="covariance_eigh"), PCA(4, svd_solver="full")]
    grid = {"clf__n_neighbors": [1, 3, 5], "pca": projections}
    result = grid_search(pipeline, grid, features, labels, 3, 0, workers)
    return [c["cv_accuracy_mean"] for c in result.candidates], widths


def test_each_fold_is_projected_once_for_all_settings_with_the_scores_of_projecting_for_each(monkeypatch, tmp_path):
    """The projection of a fold is read back for the fold's other settings; on a Dask cluster (whose workers share
    no folder) every fit projects for itself, and the scores are the same either way."""
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    cached, widths = projected_search(monkeypatch, ONE_CORE)
    assert sorted(widths) == [2, 2, 2, 4, 4, 4]  # 3 folds x 2 projections, not x 3 settings of k
    assert list(tmp_path.iterdir()) == []  # the cache goes with the search
    cluster = Workers(fit=1, predict=1, threads=1, local=False, where="a Dask cluster")
    uncached, widths = projected_search(monkeypatch, cluster)
    assert sorted(widths) == [2] * 9 + [4] * 9
    assert cached == uncached
    assert len(set(cached)) > 1  # the settings differ, so equal lists compare real scores


@pytest.mark.parametrize(
    ("projections", "cached"),
    [([], False), (["passthrough"], False), ([PCA(2)], True), (["passthrough", PCA(2)], True)],
    ids=["no-pca-key", "none", "one", "none-and-one"],
)
def test_only_a_grid_with_a_projection_caches_its_folds(projections, cached):
    grid = {"clf__C": [1.0, 2.0]} | ({"pca": projections} if projections else {})
    assert projects(grid) is cached
