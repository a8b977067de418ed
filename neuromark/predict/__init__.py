"""Prediction: leakage-safe, repeated, grouped validation of response classifiers."""

from .design import (
    FEATURE_SETS,
    build_design,
    clinical_matrix,
    covariate_matrix,
    feature_columns,
)
from .models import MODELS, make_model
from .tangent import TangentSpace
from .validation import (
    DesignError,
    block_permutation,
    check_design,
    classification_metrics,
    fold_importance,
    max_t_pvalues,
    oof_scores,
    out_of_bag_auc,
    validate,
    validate_analyses,
)

__all__ = [
    "FEATURE_SETS",
    "MODELS",
    "DesignError",
    "TangentSpace",
    "block_permutation",
    "build_design",
    "check_design",
    "classification_metrics",
    "clinical_matrix",
    "covariate_matrix",
    "feature_columns",
    "fold_importance",
    "make_model",
    "max_t_pvalues",
    "oof_scores",
    "out_of_bag_auc",
    "validate",
    "validate_analyses",
]
