"""Linear discriminant analysis whose least-squares solve uses the covariance's Cholesky factor.

scikit-learn's `lsqr` solver finds the coefficients with `scipy.linalg.lstsq`, an SVD-based solve, although the
shrunk within-class covariance is symmetric positive definite. On the 4,833-d scatnet_hog set a 6,667-row fit took
69 s on one core, most of it that solve; a Cholesky solve needs a third of d^3 multiply-adds, a fraction of an SVD's,
and gives the same coefficients (to rounding). A covariance that is not positive definite (no shrinkage, fewer rows
than features) falls back to scikit-learn's solve.

A Dask worker has scikit-learn but not this project, so the class travels with each pickled instance (cloudpickle, by
value): a grid search on a cluster unpickles it there as it does scikit-learn's own estimators.
"""

from __future__ import annotations

import sys

import cloudpickle
import numpy as np
from scipy import linalg
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis, _class_cov, _class_means

cloudpickle.register_pickle_by_value(sys.modules[__name__])


class _ByValue:
    """Stands for a class of this module in a pickle: unpickled, it is the class (cloudpickle rebuilds it)."""

    def __init__(self, cls: type) -> None:
        self.cls = cls

    def __reduce__(self):
        return cloudpickle.loads, (cloudpickle.dumps(self.cls),)


class CholeskyLDA(LinearDiscriminantAnalysis):
    """`LinearDiscriminantAnalysis` with `solver="lsqr"` solved by Cholesky (other solvers unchanged).

    It overrides the private `_solve_lstsq` of the pinned scikit-learn (requirements.txt); tests/classical/
    test_lda.py checks it against the stock estimator, so an upgrade that changes that method fails there.
    """

    def __reduce__(self):
        """Pickled as `object.__new__(<the class, by value>)` and its state: unpickling it needs cloudpickle (a
        dependency of Dask and joblib), not this module. Dask pickles tasks with the standard pickle, which names a
        class by its module; a worker without that module could not unpickle the task, and the search waited forever.
        """
        return object.__new__, (_ByValue(type(self)),), self.__getstate__()

    def _solve_lstsq(self, X, y, shrinkage, covariance_estimator):
        self.means_ = _class_means(X, y)
        self.covariance_ = _class_cov(X, y, self.priors_, shrinkage, covariance_estimator)
        try:
            coef = linalg.solve(self.covariance_, self.means_.T, assume_a="pos")
        except linalg.LinAlgError:  # not positive definite: the SVD-based solve copes
            coef = linalg.lstsq(self.covariance_, self.means_.T)[0]
        self.coef_ = coef.T
        self.intercept_ = -0.5 * np.diag(self.means_ @ self.coef_.T) + np.log(self.priors_)
