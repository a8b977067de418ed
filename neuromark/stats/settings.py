"""Typed settings of the pre/post statistics."""

from typing import Literal

from pydantic import Field

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
        description="Interventions whose "
        "pre/post pairs estimate test-retest reliability (ICC).",
    )
