"""Connectivity of ROI time series: correlation, partial correlation, tangent.

Per-run measures use the empirical covariance (equal to nilearn's
``ConnectivityMeasure(cov_estimator=EmpiricalCovariance())``) and are reported
as Fisher z. Tangent-space connectivity (Varoquaux et al. 2010) needs a group
reference, so it is an estimator to fit inside cross-validation.
"""

import itertools

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ..features import edge_name
from ..utils._check import check_option

KINDS = ("correlation", "partial correlation")
FEATURE = {"correlation": "fc", "partial correlation": "fc_partial"}


def connectivity_matrix(signals, kind="correlation"):
    """Correlation or partial correlation matrix of time series.

    Parameters
    ----------
    signals : ndarray, shape (n_times, n_rois)
        ROI time series.
    kind : "correlation" | "partial correlation"
        Pearson correlation, or partial correlation ``-P_ij / sqrt(P_ii P_jj)``
        from the precision ``P``, the inverse of the Ledoit-Wolf shrunk
        covariance (nilearn's default; a sample covariance's inverse is
        unstable when time points are not many more than ROIs).

    Returns
    -------
    matrix : ndarray, shape (n_rois, n_rois)
        Unit diagonal.
    """
    check_option("kind", kind, KINDS)
    signals = np.asarray(signals, dtype=float)
    if signals.shape[0] < 3:
        raise ValueError(f"need at least 3 time points, got {signals.shape[0]}")
    correlation = np.corrcoef(signals, rowvar=False)
    if kind == "correlation":
        return correlation
    from sklearn.covariance import LedoitWolf

    covariance = LedoitWolf(store_precision=False).fit(signals).covariance_
    precision = np.linalg.inv(covariance)
    scale = np.sqrt(np.diag(precision))
    partial = -precision / np.outer(scale, scale)
    np.fill_diagonal(partial, 1.0)
    return partial


def fisher_z(r):
    """Fisher transform ``arctanh(r)``, with ``|r|`` capped just below 1.

    Parameters
    ----------
    r : ndarray | float
        Correlations.
    """
    return np.arctanh(np.clip(r, -1 + 1e-12, 1 - 1e-12))


def edge_table(matrix, labels, feature, unit="Fisher z"):
    """Upper-triangle edges of a matrix as long rows, named ``A~B`` (sorted).

    Parameters
    ----------
    matrix : ndarray, shape (n_rois, n_rois)
        Symmetric connectivity matrix.
    labels : list of str
        ROI of each row.
    feature : str
        Feature name of the rows (``fc``, ``fc_partial``).
    unit : str
        Unit of the values.
    """
    rows = [
        (feature, edge_name(labels[i], labels[j]), float(matrix[i, j]), unit)
        for i, j in itertools.combinations(range(len(labels)), 2)
    ]
    return pd.DataFrame(rows, columns=["feature", "location", "value", "unit"])


def _series_list(X, n_rois=None):
    """Validate a list of (n_times, n_rois) time series."""
    X = [np.asarray(x, dtype=float) for x in X]
    expected = n_rois if n_rois is not None else X[0].shape[1] if X else None
    wrong = [x.shape for x in X if x.ndim != 2 or x.shape[1] != expected]
    if not X or wrong:
        raise ValueError(
            f"expected (n_times, {expected}) arrays, got {wrong or 'none'}"
        )
    return X


class _TimeSeriesInput:
    """Mixin declaring the input: a list of ``(n_times, n_rois)`` time series."""

    def __sklearn_tags__(self):
        """Declare the input: a list of time series, not a 2-D array."""
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.requires_fit = True
        return tags


class ConnectivityFeatures(_TimeSeriesInput, TransformerMixin, BaseEstimator):
    """Per-participant connectivity as Fisher-z feature vectors.

    Needs no group statistics, so it can be fitted anywhere; it exists so a
    pipeline can start from ROI time series.

    Parameters
    ----------
    kind : "correlation" | "partial correlation"
        Measure (empirical covariance).

    Attributes
    ----------
    n_rois_ : int
        ROIs seen at fit.
    """

    def __init__(self, kind="correlation"):
        self.kind = kind

    def fit(self, X, y=None):
        """Check the time series and the parameters.

        Parameters
        ----------
        X : list of ndarray, shape (n_times, n_rois) each
            One time series per participant.
        y : None
            Ignored.

        Returns
        -------
        self : ConnectivityFeatures
        """
        check_option("kind", self.kind, KINDS)
        self.n_rois_ = _series_list(X)[0].shape[1]
        return self

    def transform(self, X):
        """Upper-triangle Fisher-z connectivity of each time series.

        Returns
        -------
        features : ndarray, shape (n_participants, n_rois * (n_rois - 1) / 2)
            Edges in ``numpy.triu_indices(n_rois, 1)`` order.
        """
        check_is_fitted(self)
        rows, cols = np.triu_indices(self.n_rois_, 1)
        return np.array(
            [
                fisher_z(connectivity_matrix(x, self.kind))[rows, cols]
                for x in _series_list(X, self.n_rois_)
            ]
        )


class TangentConnectivity(_TimeSeriesInput, TransformerMixin, BaseEstimator):
    """Tangent-space connectivity whose group reference is learned in ``fit``.

    Fit it on training participants only (inside cross-validation): the
    reference (geometric mean of their covariances) is a data-dependent step.

    Parameters
    ----------
    vectorize : bool
        Return the upper triangle (without diagonal) as feature vectors.

    Attributes
    ----------
    measure_ : nilearn.connectome.ConnectivityMeasure
        The fitted nilearn measure (``kind="tangent"``).
    n_rois_ : int
        ROIs seen at fit.
    """

    def __init__(self, vectorize=True):
        self.vectorize = vectorize

    def fit(self, X, y=None):
        """Learn the group reference from training time series.

        Parameters
        ----------
        X : list of ndarray, shape (n_times, n_rois) each
            One time series per participant (lengths may differ).
        y : None
            Ignored.

        Returns
        -------
        self : TangentConnectivity
        """
        from nilearn.connectome import ConnectivityMeasure

        X = _series_list(X)
        self.n_rois_ = X[0].shape[1]
        self.measure_ = ConnectivityMeasure(
            kind="tangent", vectorize=self.vectorize, discard_diagonal=True
        )
        self.measure_.fit(X)
        return self

    def transform(self, X):
        """Project time series into the tangent space at the learned reference."""
        check_is_fitted(self)
        return self.measure_.transform(_series_list(X, self.n_rois_))
