"""The grid's `pca` step: the leading principal components by a randomized SVD of two power iterations (seconds,
not a minute, on 60,000 x 3,969 scattering features), seeded by the search seed so that a run repeats."""

import numpy as np

from fmnist.classical.models import build_pipeline, projection


def test_the_pca_step_is_a_randomized_svd_of_two_power_iterations_under_the_seed():
    step = projection(5, 20, seed=7)
    settings = step.get_params()
    assert {key: settings[key] for key in ("n_components", "svd_solver", "iterated_power", "random_state")} == {
        "n_components": 5,
        "svd_solver": "randomized",
        "iterated_power": 2,
        "random_state": 7,
    }


def test_the_same_seed_gives_the_same_projection_bit_for_bit():
    rows = np.random.default_rng(0).normal(size=(200, 20))
    first, again = (projection(5, 20, seed=7).fit_transform(rows) for _ in range(2))
    assert np.array_equal(first, again)


def test_the_rows_it_fitted_are_projected_as_any_other_rows_are():
    """A randomized SVD's U * S (scikit-learn's fit_transform) is not the projection X V that scores the test rows:
    the classifier must see the training rows in the same coordinates."""
    rows = np.random.default_rng(0).normal(size=(300, 40)).astype(np.float32)
    step = projection(20, 40, seed=7)
    fitted = step.fit_transform(rows)
    assert np.allclose(fitted, step.transform(rows), rtol=0, atol=1e-5)
    assert np.allclose(fitted, (rows - step.mean_) @ step.components_.T, rtol=0, atol=1e-5)


def test_a_pipeline_trains_its_classifier_on_the_coordinates_it_scores_rows_in():
    rows = np.random.default_rng(1).normal(size=(300, 40)).astype(np.float32)
    pipeline = build_pipeline("knn", seed=0).set_params(pca=projection(20, 40, seed=7), clf__n_neighbors=1)
    pipeline.fit(rows, np.arange(300) % 3)
    remembered = pipeline.named_steps["clf"]._fit_X  # a nearest-neighbour classifier keeps its training rows
    assert np.allclose(remembered, pipeline[:-1].transform(rows), rtol=0, atol=1e-5)
