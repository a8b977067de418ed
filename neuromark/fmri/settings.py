"""Typed settings of fMRI denoising, ROI extraction and connectivity."""

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from ..utils._settings import StrictModel


class DenoisingSettings(StrictModel):
    """Confound regression and censoring of the fMRIPrep confounds.

    The motion/tissue vocabulary follows nilearn's ``load_confounds``:
    ``6P`` = 6 motion parameters; ``24P`` = motion, derivatives, squares and
    squared derivatives (Friston et al. 1996); ``36P`` = 24P plus WM, CSF and
    global signal with the same expansions (Satterthwaite et al. 2013).
    """

    motion: Literal["none", "6P", "24P"] = Field(
        "24P", description="Motion regressors: none, 6P or 24P."
    )
    wm_csf: Literal["none", "basic", "full"] = Field(
        "none",
        description="Mean white-matter and CSF signals: none, basic (2) or "
        "full (with derivatives and squares, 8).",
    )
    global_signal: Literal["none", "basic", "full"] = Field(
        "none", description="Global signal regression: none, basic (1) or full (4)."
    )
    compcor: int = Field(
        5,
        ge=0,
        description="Number of anatomical CompCor components regressed out "
        "(Behzadi et al. 2007), chosen by the Mask of each component in the "
        "confounds JSON (as nilearn's load_confounds); 0 for none.",
    )
    compcor_mode: Literal["anat_combined", "anat_separated"] = Field(
        "anat_combined",
        description="anat_combined: the top components of the combined WM+CSF "
        "mask; anat_separated: the top ones of the WM mask and of the CSF mask "
        "(twice as many regressors).",
    )
    high_pass: float | None = Field(
        0.008,
        gt=0,
        description="High-pass cut-off (Hz) applied by nilearn's "
        "signal.clean; null for none.",
    )
    low_pass: float | None = Field(
        None,
        gt=0,
        description="Low-pass cut-off (Hz); null for none (recommended "
        "with censoring).",
    )
    fd_threshold: float | None = Field(
        0.5,
        gt=0,
        description="Censor volumes with framewise displacement above this "
        "(mm; Power et al. 2012); null for no censoring.",
    )
    std_dvars_threshold: float | None = Field(
        1.5,
        gt=0,
        description="Censor volumes with standardised DVARS above this; null "
        "to ignore DVARS.",
    )
    physio: bool = Field(
        True,
        description="Regress out physiological noise regressors when the "
        "confounds table has them (columns starting with retroicor, cardiac, "
        "respiratory, resp_, card_, rvt, hrv or physio, as RETROICOR/PhysIO "
        "tools write them): the PAG sits next to pulsating CSF. Runs without "
        "them are counted in the report, whose PAG edges are then not "
        "protected from cardiac and respiratory noise.",
    )
    censor_motion_outliers: bool = Field(
        False,
        description="Also censor the volumes fMRIPrep flags in its "
        "motion_outlier_XX columns (its own FD/DVARS thresholds). Volumes "
        "flagged in non_steady_state_outlier_XX are always censored, as "
        "nilearn's load_confounds does.",
    )
    min_segment: int = Field(
        5,
        ge=1,
        description="Also censor runs of fewer than this many contiguous kept "
        "volumes (Power et al. 2014).",
    )
    min_remaining_seconds: float = Field(
        120.0,
        ge=0,
        description="Refuse a run with less than this much data left after "
        "censoring (s).",
    )
    min_degrees_of_freedom: int = Field(
        20,
        ge=1,
        description="Refuse a run whose kept volumes minus regressors (confounds, "
        "cosine high-pass terms, constant and linear trend) fall below this: "
        "correlations of over-fitted residuals are not connectivity.",
    )


class ROISettings(StrictModel):
    """Regions of interest and their coverage checks."""

    atlas: (
        Literal["pain_modulation", "pain_modulation_extended", "pag_chain"] | Path
    ) = Field(
        "pain_modulation",
        description="'pain_modulation' (core PAG-ACC-PFC circuit of "
        "atlases/pain_modulation_rois.tsv), 'pain_modulation_extended' (plus RVM, "
        "insula, thalamus, NAc), 'pag_chain' (PAG as a chain of spheres along the "
        "aqueduct), a TSV of spheres (label, x, y, z, radius_mm) or a label NIfTI "
        "with a lookup TSV of the same name (index, label).",
    )
    labels: tuple[str, ...] | None = Field(
        None, description="Use only these ROIs of the atlas (null: all)."
    )
    pag: str = Field(
        "traced",
        description="PAG of the bundled circuit: 'traced' (the hand trace of "
        "Fenske et al. 2020 in atlases/pag_fenske2020_trace.tsv, the aqueduct "
        "left out), 'chain' (small spheres along the aqueduct) or "
        "'sphere<r>' (an r mm sphere on the PAG centre, e.g. sphere4).",
    )
    pag_alternatives: tuple[str, ...] = Field(
        ("sphere4", "sphere6"),
        description="Further PAG definitions whose PAG edges are computed "
        "beside the main ones for the ROI-definition sensitivity table "
        "(fmri_pag_sensitivity.tsv; never model features); empty to skip.",
    )
    min_fraction: float = Field(
        0.5,
        gt=0,
        le=1,
        description="A traced ROI (the PAG) keeps the BOLD voxels it fills by at "
        "least this fraction (partial volume of its 1 mm trace).",
    )
    max_csf_probability: float | None = Field(
        0.5,
        gt=0,
        le=1,
        description="Remove ROI voxels whose CSF probability (fMRIPrep's "
        "label-CSF_probseg in the run's space, resampled to the BOLD grid) "
        "exceeds this; null to keep them. Runs without the map keep them "
        "and fmri_roi_qc.tsv says so.",
    )
    min_voxels: int = Field(
        10,
        ge=1,
        description="A ROI with fewer usable voxels than this (in the brain, "
        "not CSF, finite) is left out of the run and its edges are missing; "
        "fmri_roi_qc.tsv gives the reason.",
    )
    min_coverage: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Flag a ROI whose fraction of sphere voxels inside "
        "the brain mask is below this.",
    )

    @field_validator("pag", "pag_alternatives")
    @classmethod
    def _known_pag(cls, value):
        from .rois import PAG_DEFINITION, PAG_DEFINITIONS

        for name in (value,) if isinstance(value, str) else value:
            if not PAG_DEFINITION.match(name):
                raise ValueError(
                    f"unknown PAG definition {name!r}; expected {PAG_DEFINITIONS}"
                )
        return value


class FMRISettings(StrictModel):
    """fMRI settings of the pipeline."""

    denoising: DenoisingSettings = Field(
        default_factory=DenoisingSettings, description="Confounds and censoring."
    )
    rois: ROISettings = Field(default_factory=ROISettings, description="ROIs.")
    smoothing_fwhm: float | None = Field(
        None,
        gt=0,
        description="Spatial smoothing (mm FWHM) before ROI averaging; null for none.",
    )
    connectivity: tuple[Literal["correlation", "partial correlation"], ...] = Field(
        ("correlation", "partial correlation"),
        min_length=1,
        description="Per-run connectivity kinds, reported as Fisher z (features fc and "
        "fc_partial; partial correlation from the Ledoit-Wolf covariance). "
        "Tangent-space connectivity needs a group reference and is fitted "
        "inside the prediction's cross-validation instead.",
    )
    partial_min_dof_per_roi: float = Field(
        5.0,
        gt=0,
        description="Partial correlation needs at least this many temporal "
        "degrees of freedom (after censoring and regression) per ROI; below, "
        "its edges are missing and fmri_qc.tsv says why.",
    )
