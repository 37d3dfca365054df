"""The grid checks before any stage: every model's grid in params.yaml's `classify` section (check_grids), each key
and value against what its model takes (check_grid), a mistake being one message with the grid's params key and what
is allowed."""

import copy

import pytest

from fmnist.catalog import CLASSIFY_MODELS
from fmnist.classical.models import check_grid, check_grids
from fmnist.errors import PipelineError
from fmnist.params import load_params
from tests.support.stage_workdir import REPO


@pytest.fixture(scope="module")
def shipped() -> dict:
    return load_params(REPO / "params.yaml")["classify"]


def test_the_shipped_grids_pass(shipped):
    check_grids(shipped)


@pytest.mark.parametrize("name", CLASSIFY_MODELS)
def test_a_mistyped_key_in_any_model_s_grid_stops_with_its_params_key(shipped, name):
    classify = copy.deepcopy(shipped)
    classify[name]["grid"]["no_such_setting"] = [1]
    with pytest.raises(PipelineError, match=rf"^params\.yaml: `classify\.{name}\.grid\.no_such_setting` is not a "):
        check_grids(classify)


@pytest.mark.parametrize(
    ("name", "grid", "message"),
    [
        (
            "nope",
            {},
            "unknown model `nope`; known models: lda, qda, logreg, linear_svc, svm, random_forest, knn, mlp, hgb",
        ),
        (
            "svm",
            {"scale": ["standard", "minmax"]},
            "params.yaml: `classify.svm.grid.scale` has 'minmax'; allowed: standard, none. Fix it in params.yaml.",
        ),
        (
            "knn",
            {"k": [1]},
            "params.yaml: `classify.svm.grid.k` is not a parameter of KNeighborsClassifier; known: algorithm, "
            "leaf_size, metric, metric_params, n_jobs, n_neighbors, p, weights. Fix the name in params.yaml.",
        ),
    ],
    ids=["unknown-model", "unknown-scaling", "unknown-key"],
)
def test_a_wrong_grid_is_one_message_with_what_is_allowed(name, grid, message):
    with pytest.raises(PipelineError) as error:
        check_grid(name, grid, 0, "classify.svm.grid")
    assert str(error.value) == message


@pytest.mark.parametrize("components", [True, 2.5, 0, -3, "8"])
def test_pca_takes_only_a_positive_whole_number_of_components(components):
    with pytest.raises(PipelineError) as error:
        check_grid("svm", {"pca": [None, components]}, 0, "classify.svm.grid")
    assert str(error.value) == (
        f"params.yaml: `classify.svm.grid.pca` has {components!r}; allowed: null or a positive number of components. "
        "Fix it in params.yaml."
    )


def test_pca_may_keep_a_single_component():
    check_grid("svm", {"pca": [None, 1, 2]}, 0, "classify.svm.grid")
