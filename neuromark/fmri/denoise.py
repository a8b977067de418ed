"""Confound selection, censoring and cleaning of ROI time series.

Cleaning is linear (regression, cosine high-pass), so it is applied to the
ROI mean signals rather than to every voxel: the mean of cleaned voxels equals
the cleaned mean, at a fraction of the cost (nilearn's label maskers do the same).
"""

from pathlib import Path

import numpy as np

from ..exceptions import DataFileError
from ..utils._signal import cosine_basis

MOTION = ["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"]


def _expand(names, full):
    """Return base names plus (if ``full``) derivatives and squares of both."""
    if not full:
        return list(names)
    return [
        f"{n}{suffix}"
        for n in names
        for suffix in ("", "_derivative1", "_power2", "_derivative1_power2")
    ]


# CompCor decompositions of each mode: (column prefix, JSON Mask or None), in
# nilearn's order; fMRIPrep < 21 names every anatomical component a_comp_cor
# and tells them apart by Mask, later versions name them w_/c_comp_cor
COMPCOR_SOURCES = {
    "anat_combined": [("a", "combined")],
    "anat_separated": [("a", "WM"), ("a", "CSF"), ("w", None), ("c", None)],
}


def compcor_columns(metadata, mode, n_components, source):
    """CompCor columns of a mode, chosen by the confounds JSON (as nilearn).

    Parameters
    ----------
    metadata : dict | None
        The confounds JSON (``{"a_comp_cor_00": {"Mask": "CSF", ...}}``).
    mode : "anat_combined" | "anat_separated"
        Top components of the combined mask, or of the WM and CSF masks.
    n_components : int
        Components per mask.
    source : pathlib.Path
        The confounds file, for error messages.

    Returns
    -------
    columns : list of str

    Raises
    ------
    DataFileError
        Without a JSON, or when no component of the mode is listed: the
        columns' order alone does not say which mask they come from.
    """
    if n_components == 0:
        return []
    source = source or Path("confounds")
    if metadata is None:
        raise DataFileError(
            source,
            "CompCor needs the confounds JSON next to this table (it says "
            "which mask each component comes from); it is missing. Set "
            "fmri.denoising.compcor: 0 to denoise without CompCor",
        )
    columns = []
    for prefix, mask in COMPCOR_SOURCES[mode]:
        names = sorted(
            (name for name in metadata if name.startswith(f"{prefix}_comp_cor_")),
            key=lambda name: int(name.rsplit("_", 1)[1]),  # 99 before 100
        )
        if mask is not None:
            names = [n for n in names if metadata[n].get("Mask") == mask]
        columns += names[:n_components]
    if not columns:
        raise DataFileError(
            source,
            f"the confounds JSON lists no CompCor component for {mode}",
        )
    return columns


def confound_columns(settings, metadata=None, source=None):
    """Names of the confound columns a denoising strategy regresses out.

    Parameters
    ----------
    settings : DenoisingSettings
        The strategy.
    metadata : dict | None
        The confounds JSON, which CompCor needs (:func:`compcor_columns`).
    source : pathlib.Path | None
        The confounds file, for error messages.

    Returns
    -------
    columns : list of str
        fMRIPrep confound column names.
    """
    columns = []
    if settings.motion != "none":
        columns += _expand(MOTION, settings.motion == "24P")
    if settings.wm_csf != "none":
        columns += _expand(["white_matter", "csf"], settings.wm_csf == "full")
    if settings.global_signal != "none":
        columns += _expand(["global_signal"], settings.global_signal == "full")
    columns += compcor_columns(
        metadata, settings.compcor_mode, settings.compcor, source
    )
    return columns


PHYSIO_PREFIXES = (
    "retroicor",
    "cardiac",
    "respiratory",
    "resp_",
    "card_",
    "rvt",
    "hrv",
    "physio",
)


def physio_columns(confounds):
    """Physiological noise regressors of a confounds table (RETROICOR, RVT...).

    Parameters
    ----------
    confounds : pandas.DataFrame
        fMRIPrep confounds table.
    """
    return [c for c in confounds.columns if c.lower().startswith(PHYSIO_PREFIXES)]


def select_confounds(confounds, settings, source):
    """Regressor matrix of a strategy, with clear errors for missing or NaN columns.

    Parameters
    ----------
    confounds : pandas.DataFrame
        fMRIPrep confounds table (one row per volume), with the confounds
        JSON in ``attrs["metadata"]`` (:func:`~neuromark.io.read_confounds`).
    settings : DenoisingSettings
        The strategy.
    source : pathlib.Path
        The confounds file, for error messages.

    Returns
    -------
    regressors : ndarray, shape (n_volumes, n_regressors)
        The undefined first row of derivative columns (``n/a``) takes the
        second row's value (nilearn's ``load_confounds`` convention).
    """
    columns = confound_columns(settings, confounds.attrs.get("metadata"), source)
    if settings.physio:
        columns += physio_columns(confounds)
    missing = [c for c in columns if c not in confounds.columns]
    if missing:
        raise DataFileError(
            source,
            f"confound column(s) {missing} required by the "
            "denoising strategy are missing",
        )
    table = confounds[columns].astype(float)
    all_nan = [c for c in columns if table[c].isna().all()]
    if all_nan:
        raise DataFileError(source, f"confound column(s) {all_nan} contain only NaN")
    inner_nan = [c for c in columns if table[c].iloc[1:].isna().any()]
    if inner_nan:
        raise DataFileError(
            source, f"confound column(s) {inner_nan} contain NaN after the first volume"
        )
    # derivatives are undefined at the first volume: take the second volume's
    # value, as nilearn's load_confounds does
    table.iloc[0] = table.iloc[0].fillna(table.iloc[1])
    return table.to_numpy()


def flagged_volumes(confounds, prefixes):
    """Volumes marked 1 in any one-hot outlier column with one of ``prefixes``.

    Parameters
    ----------
    confounds : pandas.DataFrame
        fMRIPrep confounds table.
    prefixes : sequence of str
        Column prefixes of one-hot outlier regressors
        (``non_steady_state_outlier``, ``motion_outlier``).
    """
    flags = [c for c in confounds.columns if c.startswith(tuple(prefixes))]
    if not flags:
        return np.zeros(len(confounds), dtype=bool)
    return confounds[flags].fillna(0).to_numpy(float).sum(axis=1) > 0


def censoring_mask(confounds, settings):
    """Volumes kept after motion censoring (scrubbing).

    A volume is censored when fMRIPrep flags it as non-steady-state
    (``non_steady_state_outlier_XX`` columns: the first volumes, before the
    magnetisation settles), when framewise displacement exceeds
    ``fd_threshold`` or standardised DVARS exceeds ``std_dvars_threshold``
    (the first volume's undefined FD/DVARS count as 0, as in nilearn), or,
    with ``censor_motion_outliers``, when a ``motion_outlier_XX`` column
    flags it; kept stretches shorter than ``min_segment`` volumes are
    censored too (Power et al. 2014).

    Parameters
    ----------
    confounds : pandas.DataFrame
        fMRIPrep confounds table.
    settings : DenoisingSettings
        Thresholds.

    Returns
    -------
    keep : ndarray of bool, shape (n_volumes,)
    """
    n = len(confounds)
    bad = np.zeros(n, dtype=bool)
    if settings.fd_threshold is not None and "framewise_displacement" in confounds:
        bad |= (
            confounds["framewise_displacement"].fillna(0).to_numpy()
            > settings.fd_threshold
        )
    if settings.std_dvars_threshold is not None and "std_dvars" in confounds:
        bad |= (
            confounds["std_dvars"].fillna(0).to_numpy() > settings.std_dvars_threshold
        )
    prefixes = ("non_steady_state_outlier",) + (
        ("motion_outlier",) if settings.censor_motion_outliers else ()
    )
    bad |= flagged_volumes(confounds, prefixes)
    keep = ~bad
    # drop short kept segments
    start = None
    for t in range(n + 1):
        inside = t < n and keep[t]
        if inside and start is None:
            start = t
        elif not inside and start is not None:
            if t - start < settings.min_segment:
                keep[start:t] = False
            start = None
    return keep


MOTION_PARAMETERS = ("trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z")


def framewise_displacement(confounds, *, head_radius_mm=50.0):
    """Framewise displacement from the six motion parameters (Power et al. 2012).

    Parameters
    ----------
    confounds : pandas.DataFrame
        Confounds with ``trans_x/y/z`` (mm) and ``rot_x/y/z`` (radians), as
        fMRIPrep writes them.
    head_radius_mm : float
        Radius of the sphere on which rotations are turned into millimetres
        (50 mm, as fMRIPrep).

    Returns
    -------
    fd : ndarray, shape (n_volumes,)
        Sum of absolute volume-to-volume changes (mm); NaN at the first volume,
        as in fMRIPrep's column.
    """
    motion = confounds[list(MOTION_PARAMETERS)].to_numpy(dtype=float)
    steps = np.abs(np.diff(motion, axis=0))
    steps[:, 3:] *= head_radius_mm
    return np.concatenate([[np.nan], steps.sum(axis=1)])


def degrees_of_freedom(n_kept, n_regressors, settings, n_volumes, tr):
    """Temporal degrees of freedom left after denoising.

    Parameters
    ----------
    n_kept : int
        Volumes kept after censoring.
    n_regressors : int
        Confound regressors.
    settings : DenoisingSettings
        Filters (the DCT high-pass adds regressors).
    n_volumes : int
        Volumes of the run (the DCT basis spans the whole run).
    tr : float
        Repetition time (s).

    Returns
    -------
    dof : int
        ``n_kept - n_regressors - n_cosines - 2`` (constant and linear trend).
    """
    n_cosines = 0
    if settings.high_pass is not None and settings.low_pass is None:
        n_cosines = cosine_basis(n_volumes, tr, 1.0 / settings.high_pass).shape[1]
    return int(n_kept - n_regressors - n_cosines - 2)


def clean_signals(signals, regressors, keep, settings, tr):
    """Regress confounds, high-pass filter and drop censored volumes.

    Parameters
    ----------
    signals : ndarray, shape (n_volumes, n_rois)
        Raw ROI signals.
    regressors : ndarray, shape (n_volumes, n_regressors)
        Confounds to regress out.
    keep : ndarray of bool, shape (n_volumes,)
        Volumes kept by censoring.
    settings : DenoisingSettings
        Filters.
    tr : float
        Repetition time (s).

    Returns
    -------
    cleaned : ndarray, shape (n_kept, n_rois)
        Cleaned, detrended, z-scored signals of the kept volumes
        (:func:`nilearn.signal.clean`). The high-pass is a DCT basis regressed
        with the confounds (as fMRIPrep's cosine columns) when no low-pass is
        set, and a Butterworth band-pass otherwise.
    """
    from nilearn.signal import clean

    if settings.high_pass is not None and settings.low_pass is None:
        # explicit DCT high-pass regressors; nilearn would skip its own cosines
        # whenever a confound (e.g. drifting motion) correlates with them
        drift = cosine_basis(len(signals), tr, cutoff_s=1.0 / settings.high_pass)
        regressors = np.column_stack([regressors, drift])
        filter_kind, high_pass = False, None
    else:
        filter_kind = "butterworth" if settings.low_pass is not None else False
        high_pass = settings.high_pass
    return clean(
        signals,
        confounds=regressors if regressors.shape[1] else None,
        sample_mask=np.flatnonzero(keep),
        t_r=tr,
        detrend=True,
        standardize="zscore_sample",
        standardize_confounds=True,
        filter=filter_kind,
        high_pass=high_pass,
        low_pass=settings.low_pass,
    )
