"""CholeskyLDA: scikit-learn's least-squares LDA, its solve by Cholesky instead of SVD."""

import pickle
import subprocess
import sys

import numpy as np
import pytest
from scipy import linalg
from sklearn.covariance import OAS
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

from fmnist.classical import lda
from fmnist.classical.lda import CholeskyLDA


def blobs(rows: int, features: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, rows)
    x = rng.normal(size=(rows, features)) + y[:, None] * rng.normal(size=features)
    return x, y


@pytest.mark.parametrize(
    "settings",
    [{"shrinkage": 1e-4}, {"shrinkage": 0.3}, {"shrinkage": "auto"}, {"covariance_estimator": OAS()}],
    ids=["1e-4", "0.3", "auto", "oas-estimator"],
)
def test_it_fits_and_predicts_as_the_stock_lsqr_solver(settings):
    x, y = blobs(400, 30)
    ours = CholeskyLDA(solver="lsqr", **settings).fit(x, y)
    stock = LinearDiscriminantAnalysis(solver="lsqr", **settings).fit(x, y)
    np.testing.assert_allclose(ours.coef_, stock.coef_, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(ours.intercept_, stock.intercept_, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(ours.covariance_, stock.covariance_)
    test_x, _ = blobs(200, 30, seed=1)
    assert (ours.predict(test_x) == stock.predict(test_x)).all()


def test_a_positive_definite_covariance_never_takes_the_svd_solve(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("lstsq called for a positive definite covariance")

    monkeypatch.setattr(lda.linalg, "lstsq", refuse)
    x, y = blobs(300, 20)
    CholeskyLDA(solver="lsqr", shrinkage=1e-4).fit(x, y)


def test_a_singular_covariance_falls_back_to_the_svd_solve():
    # 20 rows, 50 features and no shrinkage: the covariance has rank below 50, so Cholesky fails.
    x, y = blobs(20, 50)
    with pytest.raises(linalg.LinAlgError):
        linalg.cholesky(CholeskyLDA(solver="lsqr").fit(x, y).covariance_)
    ours = CholeskyLDA(solver="lsqr").fit(x, y)
    stock = LinearDiscriminantAnalysis(solver="lsqr").fit(x, y)
    np.testing.assert_allclose(ours.coef_, stock.coef_, rtol=1e-6, atol=1e-8)


def test_a_pickled_instance_unpickles_and_predicts_in_a_python_without_this_project(tmp_path):
    """As on a Dask worker, which has scikit-learn and cloudpickle but not this project's code."""
    x, y = blobs(200, 5)
    fitted = CholeskyLDA(solver="lsqr", shrinkage=1e-4).fit(x, y)
    # In this process unpickling gives the class itself, and pickling again still ships the class by value.
    assert type(pickle.loads(pickle.dumps(fitted))) is CholeskyLDA
    unpickle = (
        "import pickle, sys; model = pickle.loads(sys.stdin.buffer.read()); "
        "rows = pickle.loads(bytes.fromhex(sys.argv[1])); assert 'fmnist' not in sys.modules; "
        "sys.stdout.write(repr(model.predict(rows).tolist()))"
    )
    worker = subprocess.run(
        [sys.executable, "-I", "-c", unpickle, pickle.dumps(x[:20]).hex()],
        input=pickle.dumps(fitted),
        capture_output=True,
        cwd=tmp_path,
        check=False,
    )
    assert worker.returncode == 0, worker.stderr.decode()[-2000:]
    assert worker.stdout.decode() == repr(fitted.predict(x[:20]).tolist())
