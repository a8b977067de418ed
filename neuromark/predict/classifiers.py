"""Classifiers neuromark adds to scikit-learn's."""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data


class SparseLogisticRegression(ClassifierMixin, BaseEstimator):
    """L1-penalised (lasso) logistic regression with a sample-size-free penalty.

    Minimises ``mean_i w_i log-loss_i + alpha * ||coef||_1`` (Tibshirani
    1996), solved by liblinear with ``C = 1 / (alpha * n_samples)`` and an
    effectively unpenalised intercept. Because the penalty is on the scale of
    the mean loss, the same ``alpha`` regularises a training fold and the
    refit on all participants alike. With tens of candidate markers and a few
    dozen participants, the L1 penalty lets the few informative markers carry
    the model instead of spreading weight over all of them.

    Parameters
    ----------
    alpha : float
        Penalty per unit of mean log-loss (larger: sparser).
    class_weight : "balanced" | None
        Reweight classes to equal total weight.
    tol : float
        Solver tolerance.

    Attributes
    ----------
    classes_, coef_, intercept_ : ndarray
        As in :class:`sklearn.linear_model.LogisticRegression`.
    """

    def __init__(self, alpha=0.1, class_weight="balanced", tol=1e-6):
        self.alpha = alpha
        self.class_weight = class_weight
        self.tol = tol

    def __sklearn_tags__(self):
        """Binary classification only (responder or not)."""
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags

    def solver(self, n_samples):
        """Build the liblinear problem this model solves for ``n_samples`` rows.

        Returns
        -------
        model : sklearn.linear_model.LogisticRegression
            Unfitted; ``C = 1 / (alpha * n_samples)``.
        """
        return LogisticRegression(
            C=1.0 / (self.alpha * n_samples),
            l1_ratio=1.0,
            solver="liblinear",
            intercept_scaling=100.0,
            class_weight=self.class_weight,
            tol=self.tol,
            random_state=0,  # liblinear shuffles: fixed for identical reruns
        )

    def fit(self, X, y):
        """Fit on training rows.

        Parameters
        ----------
        X : array-like, shape (n_samples, n_features)
            Standardised features.
        y : array-like of {0, 1}
            Labels.

        Returns
        -------
        self : SparseLogisticRegression
        """
        X, y = validate_data(self, X, y)
        check_classification_targets(y)
        target = type_of_target(y, input_name="y", raise_unknown=True)
        if target != "binary":
            raise ValueError(
                "Only binary classification is supported. The type of the target "
                f"is {target}."
            )
        if len(np.unique(y)) < 2:
            raise ValueError("y has 1 class: both responders and others are needed")
        model = self.solver(len(y)).fit(X, y)
        self.classes_ = model.classes_
        self.coef_, self.intercept_ = model.coef_, model.intercept_
        return self

    def decision_function(self, X):
        """Linear predictor (log-odds) of each row."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        return X @ self.coef_[0] + self.intercept_[0]

    def predict_proba(self, X):
        """Probabilities of both classes."""
        risk = 1.0 / (1.0 + np.exp(-self.decision_function(X)))
        return np.column_stack([1 - risk, risk])

    def predict(self, X):
        """Most probable class."""
        check_is_fitted(self)
        return self.classes_[(self.decision_function(X) > 0).astype(int)]
