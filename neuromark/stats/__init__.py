"""Statistics: treatment effects, pre/post change, responders, reliability."""

from ..features import feature_family
from .effects import (
    fdr,
    group_difference,
    icc,
    noncentral_t_interval,
    paired_effect,
    sign_flip_pvalue,
    two_stage_fdr,
)
from .settings import StatsSettings
from .tables import (
    prepost_statistics,
    reliability,
    responder_statistics,
)
from .treatment import ancova, control_arm, treatment_effects

__all__ = [
    "StatsSettings",
    "ancova",
    "control_arm",
    "fdr",
    "feature_family",
    "group_difference",
    "icc",
    "noncentral_t_interval",
    "paired_effect",
    "prepost_statistics",
    "reliability",
    "responder_statistics",
    "sign_flip_pvalue",
    "treatment_effects",
    "two_stage_fdr",
]
