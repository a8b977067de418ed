"""Prediction: leakage-safe, repeated, grouped validation of response classifiers."""

from .design import FEATURE_SETS, build_design, clinical_matrix, feature_columns
from .models import MODELS, make_model
from .validation import (
    DesignError,
    bootstrap_auc_ci,
    check_design,
    classification_metrics,
    fold_importance,
    oof_scores,
    validate,
)

__all__ = [
    "FEATURE_SETS",
    "MODELS",
    "DesignError",
    "bootstrap_auc_ci",
    "build_design",
    "check_design",
    "classification_metrics",
    "clinical_matrix",
    "feature_columns",
    "fold_importance",
    "make_model",
    "oof_scores",
    "validate",
]
