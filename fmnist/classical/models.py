"""The classical models: each a scikit-learn Pipeline (the scaling its catalog record names, then the classifier
its builder below makes).

A model's grid in params.yaml names parameters of the classifier step (`C`, `n_neighbors`, ...),
`scale` to choose the scaling step ("standard" or "none"), or `pca` to project onto the first k
principal components before the classifier (null: no projection; a k at or above the feature
dimension also means none). Entries with one value fix a setting; entries with several are searched.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from sklearn.base import BaseEstimator
from sklearn.decomposition import PCA
from sklearn.discriminant_analysis import QuadraticDiscriminantAnalysis
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, LinearSVC
from sklearn.utils._param_validation import InvalidParameterError

from fmnist.catalog import CLASSIFY_MODELS, resolve
from fmnist.classical.lda import CholeskyLDA
from fmnist.errors import PipelineError

SCALERS: dict[str, Callable[[], Any]] = {"standard": StandardScaler, "none": lambda: "passthrough"}

# Each catalogued model's classifier (fmnist.catalog.CLASSIFY_MODELS names these builders and each one's scaling),
# untuned, from the seed.


def lda(seed: int) -> BaseEstimator:
    """scikit-learn's LDA, its least-squares coefficients solved by Cholesky instead of an SVD (fmnist.classical.lda:
    the same coefficients; the SVD made a 6,667-row fit on the 4,833-d set take 69 s on one core)."""
    return CholeskyLDA()


def qda(seed: int) -> BaseEstimator:
    return QuadraticDiscriminantAnalysis()


def logreg(seed: int) -> BaseEstimator:
    return LogisticRegression(random_state=seed)


def linear_svc(seed: int) -> BaseEstimator:
    """liblinear fits its ten one-vs-rest problems one after another on one core; the wrapper fits the same ten
    problems `n_jobs` at a time (coefficients agree to ~1e-4, raw test accuracy unchanged)."""
    return OneVsRestClassifier(LinearSVC(random_state=seed))


def svm(seed: int) -> BaseEstimator:
    return SVC(random_state=seed, cache_size=1000)


def random_forest(seed: int) -> BaseEstimator:
    return RandomForestClassifier(random_state=seed)


def knn(seed: int) -> BaseEstimator:
    return KNeighborsClassifier()


def mlp(seed: int) -> BaseEstimator:
    return MLPClassifier(random_state=seed)


def hgb(seed: int) -> BaseEstimator:
    return HistGradientBoostingClassifier(random_state=seed)


# Classifiers whose `n_jobs` runs work in parallel: 1 during the search (its folds run in parallel),
# classify.search.n_jobs for the refit.
THREADED = (RandomForestClassifier, KNeighborsClassifier, OneVsRestClassifier)


def classifier_prefix(pipeline: Pipeline) -> str:
    """Where a params.yaml grid key lives in the pipeline: `clf__<key>`, or `clf__estimator__<key>` for
    a classifier inside a wrapper such as OneVsRestClassifier."""
    return "clf__estimator__" if isinstance(pipeline.named_steps["clf"], OneVsRestClassifier) else "clf__"


def tuned_classifier(pipeline: Pipeline) -> BaseEstimator:
    """The estimator whose parameters the grid names (inside a wrapper, the wrapped one)."""
    clf = pipeline.named_steps["clf"]
    return clf.estimator if isinstance(clf, OneVsRestClassifier) else clf


def build_pipeline(name: str, seed: int) -> Pipeline:
    """The untuned pipeline of model `name`: ("scale", scaler), ("pca", none yet), ("clf", classifier)."""
    model = CLASSIFY_MODELS[name]
    classifier = resolve(model.builder)(seed)
    return Pipeline([("scale", SCALERS[model.scaling]()), ("pca", "passthrough"), ("clf", classifier)])


def projection(components: int | None, n_features: int) -> Any:
    """The `pca` step: PCA onto `components` dimensions, or "passthrough" if that would not reduce.

    The exact eigendecomposition of the covariance, not a randomized SVD: PCA.fit_transform returns the SVD's U * S,
    which from a randomized SVD (two power iterations) differed from the projection X V of `transform` by up to 99 % in
    its trailing components (20,000 Lite0 rows, 800 of 2,064 dimensions), so classifiers were fitted in other
    coordinates than they scored in. `covariance_eigh` computes no U: its fit_transform is X V, as `transform` is; on
    60,000 x 4,833 rows it takes 27 s where the randomized SVD took 16. It is scikit-learn's own class, which Dask
    workers can unpickle without this project's code."""
    if components is None or components >= n_features:
        return "passthrough"
    return PCA(n_components=components, svd_solver="covariance_eigh")


def pipeline_grid(grid: dict[str, list], n_features: int, prefix: str = "clf__") -> dict[str, list]:
    """A params.yaml grid as GridSearchCV's param_grid over the pipeline's steps, for `n_features` inputs
    (classifier keys under `prefix`: see classifier_prefix)."""
    out = {}
    for key, values in grid.items():
        if key == "scale":
            out["scale"] = [SCALERS[v]() for v in values]
        elif key == "pca":
            out["pca"] = [projection(v, n_features) for v in values]
        else:
            out[f"{prefix}{key}"] = [tuple(v) if isinstance(v, list) else v for v in values]
    return out


def grid_size(grid: dict[str, list]) -> int:
    size = 1
    for values in grid.values():
        size *= len(values)
    return size


def readable_params(params: dict[str, Any]) -> dict[str, Any]:
    """Pipeline parameters back in params.yaml's terms (JSON-ready: `scale` by name, tuples as lists)."""
    out = {}
    for key, value in params.items():
        if key == "scale":
            out["scale"] = "none" if value == "passthrough" else "standard"
        elif key == "pca":
            out["pca"] = None if value == "passthrough" else value.n_components
        else:
            out[key.removeprefix("clf__").removeprefix("estimator__")] = (
                list(value) if isinstance(value, tuple) else value
            )
    return out


def check_grids(classify: dict[str, Any]) -> None:
    """check_grid for every model's grid of params.yaml's `classify` section, listed in a matrix or not: run by
    stage check_params and by `make repro` before any stage, so a mistyped grid key stops the run before it starts."""
    for name in CLASSIFY_MODELS:
        check_grid(name, classify[name]["grid"], classify["search"]["seed"], f"classify.{name}.grid")


def check_grid(name: str, grid: dict[str, list], seed: int, where: str) -> None:
    """Raise PipelineError (before any work) if a grid key or value is not valid for model `name`.

    `where` is the dotted params key of the grid, named in the message.
    """
    if name not in CLASSIFY_MODELS:
        raise PipelineError(f"unknown model `{name}`; known models: {', '.join(CLASSIFY_MODELS)}")
    pipeline = build_pipeline(name, seed)
    known = sorted(tuned_classifier(pipeline).get_params(deep=False))
    for key, values in grid.items():
        if key == "scale":
            bad = [v for v in values if v not in SCALERS]
            if bad:
                raise PipelineError(
                    f"params.yaml: `{where}.scale` has {bad[0]!r}; allowed: {', '.join(SCALERS)}. "
                    "Fix it in params.yaml."
                )
        elif key == "pca":
            bad = [v for v in values if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1)]
            if bad:
                raise PipelineError(
                    f"params.yaml: `{where}.pca` has {bad[0]!r}; "
                    "allowed: null or a positive number of components. Fix it in params.yaml."
                )
        elif key not in known:
            raise PipelineError(
                f"params.yaml: `{where}.{key}` is not a parameter of {type(tuned_classifier(pipeline)).__name__}; "
                f"known: {', '.join(known)}. Fix the name in params.yaml."
            )
    search = pipeline_grid({k: v for k, v in grid.items() if k != "pca"}, 1, classifier_prefix(pipeline))
    for combo in itertools.product(*search.values()):
        setting = dict(zip(search, combo, strict=True))
        candidate = build_pipeline(name, seed).set_params(**setting)
        try:
            tuned_classifier(candidate)._validate_params()
        except InvalidParameterError as exc:
            raise PipelineError(
                f"params.yaml: `{where}` gives an invalid setting {readable_params(setting)}: {exc}"
            ) from None
