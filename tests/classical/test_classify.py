"""Grid search, refit and scoring of one classical model, on tiny synthetic feature sets."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.preprocessing import StandardScaler

from fmnist.catalog import CLASSIFY_MODELS
from fmnist.classes import CLASS_NAMES
from fmnist.classical import classify as classify_module
from fmnist.classical import gridsearch
from fmnist.classical.classify import classify, load_feature_set, predict_side_by_side
from fmnist.classical.gridsearch import grid_search, stratified_subset
from fmnist.classical.models import build_pipeline, check_grid, classifier_prefix, pipeline_grid, tuned_classifier
from fmnist.classical.workers import local_workers
from fmnist.errors import PipelineError
from fmnist.evaluation import classification_metrics, write_predictions
from fmnist.layout import Layout
from fmnist.params import load_params
from tests.support.classifiers import swap_classifier

SEARCH = {"size": 120, "folds": 3, "seed": 0, "n_jobs": 1}
ONE_CORE = local_workers(1, threads=1)
TEST_MARK = -1.0  # last feature column of every test row; training rows carry +1


def blobs(count: int, seed: int, mark: float, dim: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """Ten well-separated Gaussian classes (labels cycling 0-9); the last column is `mark`."""
    rng = np.random.default_rng(seed)
    labels = np.arange(count) % 10
    centres = np.random.default_rng(123).normal(0, 4, size=(10, dim - 1))
    x = centres[labels] + rng.normal(0, 0.5, size=(count, dim - 1))
    return np.hstack([x, np.full((count, 1), mark)]).astype(np.float32), labels.astype(np.int64)


class RecordingClassifier(ClassifierMixin, BaseEstimator):
    """Nearest class mean on all but the last column; `shift` > 0 deliberately mislabels.

    Every fit and predict call is logged in `calls` (kind, the marks of the rows it saw).
    """

    calls: list[tuple[str, set]] = []

    def __init__(self, shift: int = 0):
        self.shift = shift

    def fit(self, x, y):
        RecordingClassifier.calls.append(("fit", set(np.unique(x[:, -1]).tolist())))
        self.classes_ = np.unique(y)
        self.means_ = np.stack([x[y == c, :-1].mean(axis=0) for c in self.classes_])
        return self

    def predict(self, x):
        RecordingClassifier.calls.append(("predict", set(np.unique(x[:, -1]).tolist())))
        nearest = np.argmin(((x[:, None, :-1] - self.means_[None]) ** 2).sum(axis=2), axis=1)
        return self.classes_[(nearest + self.shift) % len(self.classes_)]


@pytest.fixture
def recording_model(monkeypatch):
    RecordingClassifier.calls = []
    swap_classifier(monkeypatch, "lda", lambda seed: RecordingClassifier())
    return RecordingClassifier.calls


def test_search_picks_from_the_grid_and_the_test_set_is_only_predicted_once_at_the_end(recording_model):
    train, test = blobs(200, 0, mark=1.0), blobs(50, 1, mark=TEST_MARK)
    metrics, predicted = classify(
        "toy", "lda", {"max_train": None, "grid": {"shift": [3, 0, 1]}}, SEARCH, train, test, ONE_CORE
    )

    assert metrics["best_params"] == {"shift": 0}  # the only setting that is not deliberately wrong
    assert [c["params"]["shift"] for c in metrics["grid"]] == [3, 0, 1]
    assert metrics["cv_accuracy_mean"] == 1.0 and metrics["test_accuracy"] == 1.0
    # 3 settings x 3 folds, then the refit: every fit saw training rows only.
    fits = [marks for kind, marks in recording_model if kind == "fit"]
    assert len(fits) == 3 * 3 + 1 and all(marks == {1.0} for marks in fits)
    # Test rows reach the model exactly once, after every fit, in the final prediction.
    test_calls = [i for i, (kind, marks) in enumerate(recording_model) if TEST_MARK in marks]
    assert test_calls == [len(recording_model) - 1] and recording_model[-1] == ("predict", {TEST_MARK})
    assert predicted.shape == (50,)


def test_search_runs_on_a_stratified_subset_and_refit_respects_max_train(recording_model):
    train, test = blobs(200, 0, mark=1.0), blobs(50, 1, mark=TEST_MARK)
    metrics, _ = classify(
        "toy", "lda", {"max_train": 100, "grid": {"shift": [0]}}, {**SEARCH, "size": 60}, train, test, ONE_CORE
    )
    assert metrics["search_size"] == 60 and metrics["train_size"] == 100
    assert "stratified subset of 100 of 200" in metrics["notes"]


def test_max_train_may_bound_one_feature_set_only(recording_model):
    train, test = blobs(200, 0, mark=1.0), blobs(50, 1, mark=TEST_MARK)
    bounded = {"max_train": {"toy": 100, "other": None}, "grid": {"shift": [0]}}
    metrics, _ = classify("toy", "lda", bounded, SEARCH, train, test, ONE_CORE)
    assert metrics["train_size"] == 100 and "classify.lda.max_train" in metrics["notes"]
    metrics, _ = classify("other", "lda", bounded, SEARCH, train, test, ONE_CORE)
    assert metrics["train_size"] == 200
    metrics, _ = classify("unnamed", "lda", bounded, SEARCH, train, test, ONE_CORE)
    assert metrics["train_size"] == 200


def test_stratified_subset_keeps_class_proportions_and_is_seeded():
    labels = np.repeat(np.arange(10), 30)
    rows = stratified_subset(labels, 100, seed=3)
    assert np.bincount(labels[rows]).tolist() == [10] * 10
    assert np.array_equal(rows, stratified_subset(labels, 100, seed=3))
    assert np.array_equal(stratified_subset(labels, None, seed=3), np.arange(300))
    assert np.array_equal(stratified_subset(labels, 1000, seed=3), np.arange(300))


REQUIRED = {
    "feature": str,
    "model": str,
    "test_accuracy": float,
    "macro_f1": float,
    "per_class": dict,
    "best_params": dict,
    "cv_accuracy_mean": float,
    "cv_accuracy_std": float,
    "fit_seconds": float,
    "predict_seconds": float,
    "train_size": int,
    "notes": str,
    "class_order": list,
    "confusion_matrix": list,
}


def test_real_model_metrics_follow_the_shared_schema():
    train, test = blobs(200, 0, mark=1.0), blobs(50, 1, mark=1.0)
    grid = {"C": [0.01, 1.0], "max_iter": [200]}
    metrics, predicted = classify("toy", "logreg", {"max_train": None, "grid": grid}, SEARCH, train, test, ONE_CORE)
    metrics = json.loads(json.dumps(metrics))  # what the stage writes must survive JSON
    for key, kind in REQUIRED.items():
        assert isinstance(metrics[key], kind), key
    assert (metrics["feature"], metrics["model"]) == ("toy", "logreg")
    assert metrics["best_params"]["C"] in grid["C"] and metrics["best_params"]["max_iter"] == 200
    assert list(metrics["per_class"]) == list(CLASS_NAMES)
    for scores in metrics["per_class"].values():
        assert set(scores) == {"precision", "recall", "f1", "support"}
        assert all(0.0 <= scores[k] <= 1.0 for k in ("precision", "recall", "f1"))
    assert metrics["train_size"] == 200 and metrics["test_accuracy"] == np.mean(predicted == test[1]) >= 0.9


def test_metrics_match_hand_computed_ones_and_the_matrix_has_actual_classes_in_rows(tmp_path):
    actual = np.array([0, 0, 6, 6, 6, 9])
    predicted = np.array([0, 6, 6, 6, 2, 9])
    metrics = classification_metrics(actual, predicted)
    assert metrics["class_order"] == list(CLASS_NAMES)
    expected_matrix = np.zeros((10, 10), dtype=int)  # [actual][predicted]
    for a, p in [(0, 0), (0, 6), (6, 6), (6, 6), (6, 2), (9, 9)]:
        expected_matrix[a, p] += 1
    assert metrics["confusion_matrix"] == expected_matrix.tolist()
    # By hand: T-shirt/top (0): 1 of 2 found, nothing wrongly called one -> precision 1, recall 1/2, F1 2/3.
    # Shirt (6): 2 of 3 found, 1 of its 3 predictions wrong -> 2/3 each. Pullover (2): predicted once, wrongly -> 0.
    # Ankle boot (9): 1 / 1. The other six classes: never seen nor predicted -> 0 (zero_division=0).
    scores = {name: (s["precision"], s["recall"], s["f1"], s["support"]) for name, s in metrics["per_class"].items()}
    expected = {name: (0.0, 0.0, 0.0, 0) for name in CLASS_NAMES}
    expected.update(
        {
            "T-shirt/top": (1.0, 0.5, 2 / 3, 2),
            "Shirt": (2 / 3, 2 / 3, 2 / 3, 3),
            "Pullover": (0.0, 0.0, 0.0, 0),
            "Ankle boot": (1.0, 1.0, 1.0, 1),
        }
    )
    assert list(scores) == list(CLASS_NAMES)
    for name in CLASS_NAMES:
        assert scores[name] == pytest.approx(expected[name]), name
    # Macro F1: the plain mean over all ten classes (not over the four that occur, not weighted by support).
    assert metrics["macro_f1"] == pytest.approx((2 / 3 + 2 / 3 + 1.0) / 10)
    assert metrics["test_accuracy"] == pytest.approx(4 / 6)

    path = tmp_path / "predictions.csv"
    write_predictions(path, actual, predicted)
    lines = path.read_text().splitlines()
    assert lines[0] == "index,actual,predicted" and len(lines) == 7
    assert lines[2] == "1,T-shirt/top,Shirt" and lines[6] == "5,Ankle boot,Ankle boot"


def test_every_model_in_params_has_a_pipeline_and_its_shipped_grid_is_valid():
    params = load_params()["classify"]
    for name in CLASSIFY_MODELS:
        check_grid(name, params[name]["grid"], 0, f"classify.{name}.grid")
        assert build_pipeline(name, 0).steps[-1][0] == "clf"


@pytest.mark.parametrize("name", CLASSIFY_MODELS)
def test_every_seeded_classifier_takes_the_search_seed_and_each_model_its_catalogued_scaling(name):
    """A classifier that draws random numbers (shuffled coordinate descent, bootstraps, initial weights, ...) draws
    them from the seed, so a stage gives the same model twice; the scaling step is the record's."""
    pipeline = build_pipeline(name, 7)
    classifier = tuned_classifier(pipeline)
    if "random_state" in classifier.get_params(deep=False):
        assert classifier.random_state == 7, f"{name}: random_state {classifier.random_state}"
    scaling = {"standard": StandardScaler, "none": str}[CLASSIFY_MODELS[name].scaling]
    assert isinstance(pipeline.named_steps["scale"], scaling)


@pytest.mark.parametrize(
    "grid, message",
    [
        ({"C": [1.0], "gama": [0.1]}, r"`classify.svm.grid.gama` is not a parameter of SVC; known: .*gamma"),
        ({"kernel": ["rbf", "sigmoidal"]}, r"`classify.svm.grid` gives an invalid setting \{'kernel': 'sigmoidal'\}"),
        ({"scale": ["minmax"]}, r"`classify.svm.grid.scale` has 'minmax'; allowed: standard, none"),
        ({"pca": [64, 0]}, r"`classify.svm.grid.pca` has 0; allowed: null or a positive number of components"),
    ],
    ids=["unknown-parameter", "bad-value", "bad-scaler", "bad-pca"],
)
def test_bad_grid_is_reported_before_any_work(grid, message):
    with pytest.raises(PipelineError, match=message):
        check_grid("svm", grid, 0, "classify.svm.grid")


def test_pca_axis_projects_only_when_it_reduces_the_dimension():
    grid = pipeline_grid({"pca": [None, 2, 6, 50], "scale": ["none"], "C": [1.0]}, n_features=6)
    assert grid["pca"][0] == "passthrough" and grid["pca"][1].n_components == 2
    assert grid["pca"][2:] == ["passthrough", "passthrough"]
    assert grid["scale"] == ["passthrough"] and grid["clf__C"] == [1.0]
    train, test = blobs(200, 0, mark=1.0), blobs(50, 1, mark=1.0)
    metrics, _ = classify(
        "toy", "knn", {"max_train": None, "grid": {"pca": [3], "n_neighbors": [1, 3]}}, SEARCH, train, test, ONE_CORE
    )
    assert metrics["best_params"]["pca"] == 3 and metrics["test_accuracy"] >= 0.9


def test_feature_files_are_checked(tmp_path):
    layout = Layout(tmp_path)
    folder = layout.features("raw")
    folder.mkdir(parents=True)
    np.save(folder / "train.npy", np.zeros((4, 3), dtype=np.float32))
    with pytest.raises(
        PipelineError,
        match=r"raw/test\.npy: not found; run its feature stage first \(`dvc repro extract_features@raw`\)",
    ):
        load_feature_set(layout, "raw", 4, 2)
    np.save(folder / "test.npy", np.zeros((3, 3), dtype=np.float32))
    with pytest.raises(PipelineError, match=r"test\.npy: expected a float32 array of 2 rows"):
        load_feature_set(layout, "raw", 4, 2)
    np.save(folder / "test.npy", np.full((2, 3), np.nan, dtype=np.float32))
    with pytest.raises(PipelineError, match="NaN or infinite"):
        load_feature_set(layout, "raw", 4, 2)


def test_linear_svc_grid_keys_reach_the_wrapped_liblinear_model():
    pipeline = build_pipeline("linear_svc", 0)
    assert pipeline_grid({"C": [0.5]}, 6, classifier_prefix(pipeline)) == {"clf__estimator__C": [0.5]}
    check_grid("linear_svc", {"C": [0.5]}, 0, "classify.linear_svc.grid")
    with pytest.raises(PipelineError, match="`classify.linear_svc.grid.gamma` is not a parameter of LinearSVC"):
        check_grid("linear_svc", {"gamma": [1.0]}, 0, "classify.linear_svc.grid")
    train, test = blobs(200, 0, mark=1.0), blobs(50, 1, mark=1.0)
    grid = {"scale": ["none"], "C": [0.001, 1.0]}
    metrics, _ = classify(
        "toy", "linear_svc", {"max_train": None, "grid": grid}, SEARCH, train, test, local_workers(2, threads=1)
    )
    assert metrics["best_params"] == {"scale": "none", "C": 1.0} and metrics["test_accuracy"] >= 0.9


def test_side_by_side_prediction_equals_one_call():
    train_x, train_y = blobs(300, 0, mark=1.0)
    test_x, _ = blobs(101, 1, mark=1.0)
    pipeline = build_pipeline("svm", 0).fit(train_x, train_y)
    assert np.array_equal(predict_side_by_side(pipeline, test_x, 2), pipeline.predict(test_x))


def test_a_single_forest_setting_runs_its_folds_one_at_a_time_on_all_workers(monkeypatch):
    seen = {}
    real = gridsearch.GridSearchCV

    def recording(estimator, param_grid, **kwargs):
        seen.update(forest_jobs=estimator.named_steps["clf"].n_jobs, fold_jobs=kwargs["n_jobs"])
        return real(estimator, param_grid, **kwargs)

    monkeypatch.setattr(gridsearch, "GridSearchCV", recording)
    x, y = blobs(90, 0, mark=1.0)
    forest = build_pipeline("random_forest", 0)
    grid_search(forest, pipeline_grid({"n_estimators": [5]}, 6), x, y, 3, 0, local_workers(2, threads=1))
    assert seen == {"forest_jobs": 2, "fold_jobs": 1}
    grid_search(forest, pipeline_grid({"n_estimators": [5, 6]}, 6), x, y, 3, 0, local_workers(2, threads=1))
    assert seen == {"forest_jobs": 1, "fold_jobs": 2}


@pytest.mark.parametrize(
    "damage",
    [lambda data: b"garbage" * 10, lambda data: data[: len(data) // 2], lambda data: b""],
    ids=["garbage", "truncated", "empty"],
)
def test_a_corrupt_feature_file_names_the_file_and_the_fix(tmp_path, damage):
    layout = Layout(tmp_path)
    folder = layout.features("scatnet")
    folder.mkdir(parents=True)
    np.save(folder / "train.npy", np.zeros((4, 3), dtype=np.float32))
    np.save(folder / "test.npy", np.zeros((2, 3), dtype=np.float32))
    target = folder / "test.npy"
    target.write_bytes(damage(target.read_bytes()))
    with pytest.raises(PipelineError) as caught:
        load_feature_set(layout, "scatnet", 4, 2)
    message = str(caught.value)
    assert message.startswith(f"{target}: ")
    assert f"`dvc checkout {target}`" in message and "`dvc repro extract_features@scatnet`" in message
    assert "allow_pickle" not in message


def test_the_setting_follows_the_cross_validation_where_the_test_set_disagrees(recording_model):
    """Test labels one class on from the truth: shifting the predictions by one would score 1.0 on the test set and
    0.0 in every fold. The search keeps the setting that is right on the training rows, and the test set, scored
    once, says what that setting is worth there."""
    train, (test_x, test_y) = blobs(200, 0, mark=1.0), blobs(50, 1, mark=TEST_MARK)
    wrong_test = (test_x, (test_y + 1) % 10)
    metrics, predicted = classify(
        "toy", "lda", {"max_train": None, "grid": {"shift": [1, 0]}}, SEARCH, train, wrong_test, ONE_CORE
    )
    assert metrics["best_params"] == {"shift": 0}
    assert [c["cv_accuracy_mean"] for c in metrics["grid"]] == [0.0, 1.0] and metrics["cv_accuracy_mean"] == 1.0
    assert metrics["test_accuracy"] == 0.0 and np.array_equal(predicted, test_y)
    assert [marks for kind, marks in recording_model].count({TEST_MARK}) == 1


# 200 training rows of 50 columns (20 of each class); a search on 60 of them (6 of each class) in 3 folds trains on
# 40 rows (4 of each class), a refit bounded by max_train 30 on 30 rows (3 of each class).
NARROW_SEARCH = {**SEARCH, "size": 60}
FIT_LIMITS = [
    (
        "logreg",
        None,
        {"pca": [40, 41]},
        r"`classify.logreg.grid.pca` lists 41, more than the 40 rows of a training fold",
    ),
    (
        "logreg",
        30,
        {"pca": [31]},
        r"lists 31, more than the 30 rows of the refit's subset \(`classify.logreg.max_train`",
    ),
    ("logreg", {"toy": 30}, {"pca": [31]}, r"the refit's subset \(`classify.logreg.max_train.toy` = 30\)"),
    (
        "qda",
        None,
        {"pca": [3, 4]},
        r"`classify.qda.grid.pca` lists 4, so QDA fits a 4-dimensional covariance .* holds 4",
    ),
    ("qda", 30, {"pca": [3]}, r"lists 3, so QDA .* the refit's subset \(`classify.qda.max_train` = 30\) holds 3 rows"),
    ("qda", None, {"reg_param": [0.1]}, r"`classify.qda.grid` names no `pca`, so QDA fits a 50-dimensional"),
    ("qda", None, {"pca": [50]}, r"`classify.qda.grid.pca` lists 50, so QDA fits a 50-dimensional"),
]


@pytest.mark.parametrize("model, max_train, grid, message", FIT_LIMITS)
def test_a_setting_the_fits_rows_cannot_take_stops_before_any_fit(monkeypatch, model, max_train, grid, message):
    def no_fit(*args, **kwargs):
        raise AssertionError("the search started before the setting was refused")

    monkeypatch.setattr(classify_module, "grid_search", no_fit)
    train, test = blobs(200, 0, mark=1.0, dim=50), blobs(50, 1, mark=1.0, dim=50)
    with pytest.raises(PipelineError, match=message):
        classify("toy", model, {"max_train": max_train, "grid": grid}, NARROW_SEARCH, train, test, ONE_CORE)


@pytest.mark.parametrize(
    "model, max_train, grid",
    [
        ("logreg", None, {"pca": [40]}),  # as many components as a fold's rows
        ("logreg", 30, {"pca": [30]}),  # as many as the refit's rows
        ("logreg", 30, {"pca": [50, 60]}),  # at or above the 50 columns: no projection
        ("qda", None, {"pca": [3], "reg_param": [0.1]}),  # one row of every class more than dimensions
        ("qda", 30, {"pca": [2], "reg_param": [0.1]}),
    ],
)
def test_a_setting_on_the_fits_limits_runs(model, max_train, grid):
    train, test = blobs(200, 0, mark=1.0, dim=50), blobs(50, 1, mark=1.0, dim=50)
    metrics, _ = classify("toy", model, {"max_train": max_train, "grid": grid}, NARROW_SEARCH, train, test, ONE_CORE)
    assert metrics["search_size"] == 60 and metrics["train_size"] == (max_train or 200)
