"""A numpy fast path for the default classifiers inside cross-validation.

Permutation tests refit the default pipelines (median imputation, standard
scaling, ridge or lasso logistic regression) hundreds of thousands of times on a few
dozen participants, where scikit-learn's per-call checks cost ten times the
arithmetic. For exactly that pipeline, :func:`fast_scorer` returns a function
that fits the same model (the same penalised likelihood, solved by Newton's
method to a tighter tolerance than lbfgs) and scores the held-out rows. The
saved and user-facing models stay scikit-learn pipelines; the test suite
checks that both paths give the same out-of-fold scores.
"""

import numpy as np
from scipy.special import expit
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from .classifiers import SparseLogisticRegression


def _default_classifier(estimator):
    """Return the classifier of an impute-scale-classify pipeline, or None."""
    steps = [step for _, step in getattr(estimator, "steps", [])]
    if len(steps) != 3:
        return None
    imputer, scaler, classifier = steps
    default = (
        type(imputer) is SimpleImputer
        and imputer.strategy == "median"
        and imputer.keep_empty_features
        and type(scaler) is StandardScaler
        and scaler.with_mean
        and scaler.with_std
    )
    return classifier if default else None


def _is_ridge(classifier):
    return (
        type(classifier) is LogisticRegression
        and classifier.fit_intercept
        and classifier.class_weight in (None, "balanced")
        and getattr(classifier, "l1_ratio", None) in (None, 0, 0.0)
        and classifier.penalty in ("l2", "deprecated")
        and np.isfinite(classifier.C)
    )


def _impute_scale(train, test):
    """Median imputation then standardisation, fitted on ``train``."""
    observed = ~np.isnan(train)
    counts = observed.sum(axis=0)
    ordered = np.sort(train, axis=0)  # NaN sort last
    columns = np.arange(train.shape[1])
    low = ordered[np.maximum(counts - 1, 0) // 2, columns]
    high = ordered[np.minimum(counts // 2, len(train) - 1), columns]
    with np.errstate(invalid="ignore"):
        median = np.where(counts > 0, (low + high) / 2, 0.0)  # empty column: 0
    train = np.where(observed, train, median)
    test = np.where(np.isnan(test), median, test)
    mean, scale = train.mean(axis=0), train.std(axis=0)
    scale[scale < 10 * np.finfo(float).eps * np.maximum(1, np.abs(mean))] = 1.0
    return (train - mean) / scale, (test - mean) / scale


def fit_logistic(X, y, *, C=1.0, sample_weight=None, tol=1e-10, max_iter=100):
    """L2-penalised logistic regression with an unpenalised intercept.

    Minimises ``C * sum_i w_i log-loss_i + ||coef||^2 / 2``, the objective of
    ``sklearn.linear_model.LogisticRegression``, by Newton's method.

    Returns
    -------
    coef : ndarray, shape (n_features,)
    intercept : float
    """
    n, p = X.shape
    w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
    design = np.column_stack([np.ones(n), X])
    penalty = np.full(p + 1, 1.0 / C)
    penalty[0] = 0.0
    beta = np.zeros(p + 1)
    for _ in range(max_iter):
        prob = expit(design @ beta)
        gradient = design.T @ (w * (prob - y)) + penalty * beta
        hessian = (design * (w * prob * (1 - prob))[:, None]).T @ design
        hessian[np.diag_indices_from(hessian)] += penalty + 1e-12
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.max(np.abs(step)) < tol:
            break
    return beta[1:], beta[0]


def fast_scorer(estimator):
    """Return a fit-and-score function equivalent to ``estimator``, or None.

    Parameters
    ----------
    estimator : sklearn estimator
        A pipeline from :func:`~neuromark.predict.make_model`.

    Returns
    -------
    scorer : callable | None
        ``scorer(X_train, y_train, X_test) -> risks`` for the default
        pipelines (imputation, scaling, then ridge logistic regression,
        solved here, or the lasso, fitted by liblinear on the numpy-scaled
        rows); None for any other estimator, which is then fitted whole by
        scikit-learn.
    """
    classifier = _default_classifier(estimator)
    if type(classifier) is SparseLogisticRegression:

        def lasso(X_train, y_train, X_test):
            train, test = _impute_scale(X_train, X_test)
            model = classifier.solver(len(y_train)).fit(train, y_train)
            return expit(test @ model.coef_[0] + model.intercept_[0])

        return lasso
    if classifier is None or not _is_ridge(classifier):
        return None
    C, balanced = classifier.C, classifier.class_weight == "balanced"

    def scorer(X_train, y_train, X_test):
        train, test = _impute_scale(X_train, X_test)
        weight = None
        if balanced:
            counts = np.bincount(y_train, minlength=2)
            weight = (len(y_train) / (2.0 * counts))[y_train]
        coef, intercept = fit_logistic(train, y_train, C=C, sample_weight=weight)
        return expit(test @ coef + intercept)

    return scorer
