"""Tangent-space projection of connectivity edges, a step of the prediction model.

The prediction design holds fMRI connectivity as Fisher-z edge columns;
:class:`TangentSpace` rebuilds the matrices from them and projects them at
the training participants' geometric mean (Varoquaux et al. 2010), inside
each cross-validation fold.
"""

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data


def _spd_function(matrices, function):
    """Apply a scalar function to the eigenvalues of symmetric matrices."""
    values, vectors = np.linalg.eigh(matrices)
    return (vectors * function(values)[..., None, :]) @ np.swapaxes(vectors, -1, -2)


def geometric_mean(matrices, *, max_iter=100, tol=1e-10):
    """Riemannian (affine-invariant) mean of SPD matrices.

    Fixed-point iteration of Fletcher & Joshi (2007) from the arithmetic mean:
    map every matrix to the tangent space at the current mean, average there,
    map back; stop when the mean tangent step is below ``tol``.

    Parameters
    ----------
    matrices : ndarray, shape (n_matrices, n, n)
        Symmetric positive definite matrices.
    max_iter : int
        Iterations.
    tol : float
        Frobenius norm of the mean tangent step at convergence.

    Returns
    -------
    mean : ndarray, shape (n, n)
    """
    mean = np.mean(matrices, axis=0)
    for _ in range(max_iter):
        root = _spd_function(mean, np.sqrt)
        inverse_root = _spd_function(mean, lambda v: 1 / np.sqrt(v))
        step = _spd_function(inverse_root @ matrices @ inverse_root, np.log).mean(0)
        mean = root @ _spd_function(step, np.exp) @ root
        if np.linalg.norm(step) < tol:
            break
    return mean


class TangentSpace(TransformerMixin, BaseEstimator):
    """Tangent-space projection of correlation matrices stored as edge columns.

    The prediction design holds connectivity as Fisher-z edges (one column
    per ROI pair). This step rebuilds each participant's correlation matrix
    from those columns, learns the group reference (geometric mean) on the
    training rows and replaces the edges by the off-diagonal tangent
    coordinates ``logm(M^-1/2 C M^-1/2)``; other columns pass through. It
    equals nilearn's ``ConnectivityMeasure(kind="tangent")`` on the same
    correlation matrices.

    Parameters
    ----------
    columns : sequence of int
        Columns of ``X`` holding edges.
    pairs : sequence of (int, int)
        ROI indices ``(i, j)`` of each of those columns (any ROI numbering).
    min_eigenvalue : float
        Eigenvalue floor that keeps rebuilt matrices positive definite (an
        imputed edge may break positive definiteness).

    Attributes
    ----------
    reference_ : ndarray, shape (n_rois, n_rois)
        Geometric mean of the training correlation matrices.
    """

    def __init__(self, columns=(), pairs=(), min_eigenvalue=1e-6):
        self.columns = columns
        self.pairs = pairs
        self.min_eigenvalue = min_eigenvalue

    def _matrices(self, X):
        pairs = np.asarray(self.pairs, dtype=int).reshape(-1, 2)
        n_rois = int(pairs.max()) + 1
        matrices = np.tile(np.eye(n_rois), (len(X), 1, 1))
        r = np.tanh(X[:, list(self.columns)])
        matrices[:, pairs[:, 0], pairs[:, 1]] = r
        matrices[:, pairs[:, 1], pairs[:, 0]] = r
        return _spd_function(
            matrices, lambda v: np.maximum(v, self.min_eigenvalue)
        ), pairs

    def fit(self, X, y=None):
        """Learn the reference from the training rows.

        Parameters
        ----------
        X : array-like, shape (n_samples, n_columns)
            Design with Fisher-z edges in ``columns`` (no NaN: impute first).
        y : None
            Ignored.

        Returns
        -------
        self : TangentSpace
        """
        X = validate_data(self, X)
        if len(self.columns) != len(self.pairs) or not len(self.columns):
            raise ValueError(
                f"{len(self.columns)} columns but {len(self.pairs)} ROI pairs"
            )
        matrices, _ = self._matrices(X)
        self.reference_ = geometric_mean(matrices)
        self.whitening_ = _spd_function(self.reference_, lambda v: 1 / np.sqrt(v))
        return self

    def transform(self, X):
        """Replace the edge columns by tangent coordinates."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        matrices, pairs = self._matrices(X)
        tangent = _spd_function(self.whitening_ @ matrices @ self.whitening_, np.log)
        out = X.copy()
        out[:, list(self.columns)] = tangent[:, pairs[:, 0], pairs[:, 1]]
        return out
