"""A classify stage's fitted models give the same bytes whatever a CPU changes but the BLAS kernels, which stages pin
(fmnist.cores.pin_blas_kernels): so the same predictions on every AVX2 or AVX-512 CPU."""

from fmnist import cores
from tests.support.another_cpu import ANOTHER_CPU, printed_by

# A stage process (`import stages` pins the kernels) tunes and refits five of params.yaml's models, with their own
# grids, on seeded features with the classes barely apart, and prints the SHA-256 of their test-row scores: floats,
# where a label would hide a change in the last bits.
HASH_SCRIPT = """
import stages
import contextlib, hashlib, io
import numpy as np
from fmnist.classical.classify import tune_and_fit
from fmnist.classical.workers import local_workers
from fmnist.params import load_params

params = load_params("params.yaml")["classify"]
search = {**params["search"], "size": 450, "folds": 3}
rng = np.random.default_rng(0)
labels = np.tile(np.arange(10), 60)
features = (rng.normal(size=(600, 48)) + 0.05 * labels[:, None]).astype(np.float32)
digest = hashlib.sha256()
for model in ("lda", "qda", "logreg", "linear_svc", "mlp"):
    grid = {key: values[:1] for key, values in params[model]["grid"].items()}
    grid["pca"] = [16]
    settings = {**params[model], "grid": grid, "max_train": None}
    with contextlib.redirect_stdout(io.StringIO()):  # the search's log lines carry timings
        fitted = tune_and_fit(model, settings, search, features[:450], labels[:450], local_workers(1, 1))
    pipeline = fitted.pipeline
    scores = (pipeline.predict_proba if hasattr(pipeline, "predict_proba") else pipeline.decision_function)(
        features[450:]
    )
    digest.update(np.ascontiguousarray(scores).tobytes())
print(digest.hexdigest())
"""


def test_the_same_scores_whatever_numpy_mkl_and_aten_choose_for_the_cpu():
    pinned = printed_by(HASH_SCRIPT, {})
    assert printed_by(HASH_SCRIPT, {"OPENBLAS_CORETYPE": cores.BLAS_CORETYPE}) == pinned  # what the pin gives anywhere
    assert printed_by(HASH_SCRIPT, ANOTHER_CPU) == pinned


def test_another_blas_kernel_changes_the_scores_so_the_comparison_can_see_one():
    """The reason for the pin: OpenBLAS's kernels for another core type (Sandy Bridge's: AVX without FMA, which every
    x86-64 machine here runs) round otherwise. An AVX-512 machine's own choice, SkylakeX's, differed the same way."""
    assert printed_by(HASH_SCRIPT, {"OPENBLAS_CORETYPE": "Sandybridge"}) != printed_by(HASH_SCRIPT, {})
