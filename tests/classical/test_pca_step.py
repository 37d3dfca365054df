"""The grid's `pca` step: the exact principal components (the covariance's eigendecomposition), whose fit_transform
projects the rows it fitted as `transform` projects the test rows."""

import pickle

import numpy as np

from fmnist.classical.models import build_pipeline, projection


def test_the_pca_step_is_scikit_learns_pca_by_the_covariance_eigendecomposition():
    step = projection(5, 20)
    assert type(step).__module__.startswith("sklearn.")  # a Dask worker unpickles it without this project's code
    assert step.get_params()["n_components"] == 5 and step.get_params()["svd_solver"] == "covariance_eigh"
    assert type(pickle.loads(pickle.dumps(step))) is type(step)


def test_no_projection_where_it_would_not_reduce():
    assert projection(None, 20) == projection(20, 20) == projection(30, 20) == "passthrough"


def test_the_rows_it_fitted_are_projected_as_any_other_rows_are():
    """A randomized SVD's U * S (what scikit-learn's fit_transform returned) is not the projection X V that scores the
    test rows: the classifier must see the training rows in the same coordinates."""
    rows = np.random.default_rng(0).normal(size=(300, 40)).astype(np.float32)
    step = projection(20, 40)
    fitted = step.fit_transform(rows)
    assert np.allclose(fitted, step.transform(rows), rtol=0, atol=1e-5)
    assert np.allclose(fitted, (rows - step.mean_) @ step.components_.T, rtol=0, atol=1e-5)


def test_a_pipeline_trains_its_classifier_on_the_coordinates_it_scores_rows_in():
    rows = np.random.default_rng(1).normal(size=(300, 40)).astype(np.float32)
    pipeline = build_pipeline("knn", seed=0).set_params(pca=projection(20, 40), clf__n_neighbors=1)
    pipeline.fit(rows, np.arange(300) % 3)
    remembered = pipeline.named_steps["clf"]._fit_X  # a nearest-neighbour classifier keeps its training rows
    assert np.allclose(remembered, pipeline[:-1].transform(rows), rtol=0, atol=1e-5)


def test_the_same_rows_give_the_same_projection_bit_for_bit():
    rows = np.random.default_rng(0).normal(size=(200, 20))
    first, again = (projection(5, 20).fit_transform(rows) for _ in range(2))
    assert np.array_equal(first, again)
