"""Statistics: pre/post change per treatment, responders, reliability."""

from .effects import fdr, group_difference, icc, paired_effect, sign_flip_pvalue
from .settings import StatsSettings
from .tables import (
    feature_family,
    prepost_statistics,
    reliability,
    responder_statistics,
)

__all__ = [
    "StatsSettings",
    "fdr",
    "feature_family",
    "group_difference",
    "icc",
    "paired_effect",
    "prepost_statistics",
    "reliability",
    "responder_statistics",
    "sign_flip_pvalue",
]
