"""Typed settings of the pre/post statistics."""

from typing import Literal

from pydantic import Field

from ..features import PRESPECIFIED_MARKERS
from ..utils._settings import StrictModel


class StatsSettings(StrictModel):
    """Pre/post statistics per treatment."""

    family: Literal["regions", "all"] = Field(
        "regions",
        description="Features tested and FDR-corrected together: 'regions' "
        "(EEG regions, asymmetry, connectivity edges, all fMRI edges) or 'all' (also "
        "every EEG channel).",
    )
    n_permutations: int = Field(
        10000,
        ge=100,
        description="Random permutations of the sign-flip (beyond exact "
        "enumeration) and responder label tests.",
    )
    confidence: float = Field(0.95, gt=0, lt=1, description="Confidence level of CIs.")
    control_arms: tuple[str, ...] = Field(
        ("sham", "control", "placebo", "waitlist"),
        description="Interventions (case-insensitive) that are the control of "
        "the treatment effects (the first one present) and whose pre/post pairs "
        "estimate test-retest reliability (ICC).",
    )
    confirmatory: tuple[str, ...] = Field(
        PRESPECIFIED_MARKERS,
        description="The confirmatory family, as <modality>_<feature>_<location> "
        "(the stems of features_wide.tsv): tested as arm x time against the "
        "control arm with Benjamini-Hochberg inside the family. Every other "
        "feature is exploratory, under a two-stage FDR across marker groups.",
    )
    motion_covariate: bool = Field(
        True,
        description="fMRI treatment effects (ANCOVA) also adjust for the "
        "change in mean framewise displacement (post - pre): a treatment that "
        "changes how still people lie would otherwise change connectivity.",
    )
    fdr_level: float = Field(
        0.05,
        gt=0,
        lt=1,
        description="False-discovery rate of the 'significant' column.",
    )
