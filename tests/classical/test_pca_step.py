"""The grid's `pca` step: the leading principal components by a randomized SVD of two power iterations (seconds,
not a minute, on 60,000 x 3,969 scattering features), seeded by the search seed so that a run repeats."""

import numpy as np

from fmnist.classical.models import projection


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
