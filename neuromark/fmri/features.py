"""PAG-ACC-PFC connectivity features of one fMRI run (pipeline unit of work).

Feature vocabulary (``feature``, ``unit``), location ``ROI1~ROI2`` (sorted):

==============  =========  ==============================================
``fc``          Fisher z   correlation of the cleaned ROI signals
``fc_partial``  Fisher z   partial correlation (precision matrix)
==============  =========  ==============================================
"""

import numpy as np
import pandas as pd

from ..exceptions import DataFileError
from ..features import edge_name
from ..utils._logging import logger
from .connectivity import FEATURE, connectivity_matrix, edge_table, fisher_z
from .denoise import (
    MOTION_PARAMETERS,
    censoring_mask,
    clean_signals,
    degrees_of_freedom,
    flagged_volumes,
    framewise_displacement,
    physio_columns,
    select_confounds,
)
from .rois import read_atlas, remove_csf
from .settings import FMRISettings
from .signals import (
    as_run,
    csf_probability,
    load_recording,
    read_data,
    roi_signals,
)

COLUMNS = ["feature", "location", "value", "unit"]
# ROI QC statuses whose signal is used ("empty", "nonfinite", "constant" are not)
USABLE = ("ok", "low_coverage")


def run_signals(
    img,
    mask,
    confounds,
    tr,
    settings=None,
    *,
    atlas=None,
    csf=None,
    source=None,
    confounds_source=None,
):
    """Extract, denoise and censor the ROI time series of one loaded run.

    Parameters
    ----------
    img : path-like | nibabel.Nifti1Image
        4D BOLD run.
    mask : path-like | nibabel.Nifti1Image | ndarray | None
        Brain mask on its grid (None: the voxels with a varying signal).
    confounds : path-like | pandas.DataFrame | None
        fMRIPrep confounds, one row per volume.
    tr : float | None
        Repetition time (s); None reads it from the header.
    settings : FMRISettings | None
        Settings (defaults if ``None``).
    atlas : SphereAtlas | ImageAtlas | None
        ROIs (default: from ``settings.rois``).
    csf : ndarray of float | None
        CSF probability on the BOLD grid (see :func:`csf_probability`); ROI
        voxels above ``settings.rois.max_csf_probability`` are removed.
    source : path-like | None
        File named in error messages (default: the image's file name).
    confounds_source : path-like | None
        Confounds file named in errors about confounds (default: ``source``).

    Returns
    -------
    signals : pandas.DataFrame, shape (n_kept, n_rois_used)
        Cleaned, z-scored time series of the kept volumes, one column per ROI
        with brain voxels (empty ROIs are left out and reported in ``qc``).
    qc : dict
        ``n_volumes``, ``n_kept``, ``kept_seconds``, ``mean_fd``,
        ``fd_threshold``, ``std_dvars_threshold``, ``n_regressors``,
        ``rois_used``, ``rois_excluded``.
    roi_qc : pandas.DataFrame
        Per ROI: voxel counts (``n_voxels`` used, ``n_csf_removed``),
        ``csf_fraction_removed``, coverage, ``status``, ``reason`` and
        ``tsnr``.

    Raises
    ------
    DataFileError
        If no ROI centre lies in the image (wrong space or affine), fewer than
        two ROIs have brain voxels, or too little data survives censoring.
    """
    img, mask, confounds, tr = as_run(img, mask, confounds, tr, source=source)
    signals, _, qc, roi_qc = _extract(
        img,
        mask,
        confounds,
        tr,
        settings,
        atlas=atlas,
        csf=csf,
        source=source,
        confounds_source=confounds_source,
    )
    return signals, qc, roi_qc


def _extract(
    img,
    mask,
    confounds,
    tr,
    settings=None,
    *,
    atlas=None,
    csf=None,
    source=None,
    confounds_source=None,
    alternatives=None,
):
    """:func:`run_signals`, plus the PAG signal under other definitions.

    ``alternatives`` maps a PAG definition to a one-ROI atlas of that PAG.
    Their voxels are averaged, denoised and censored exactly as the main
    ROIs (one regression of all columns), and returned as the second value:
    a frame with one column per usable definition. Their QC rows (``roi``
    PAG, ``definition`` the name) follow the main ROIs' in ``roi_qc``.
    """
    settings = settings or FMRISettings()
    main_definition = main_pag_definition(settings) if atlas is None else "given"
    atlas = atlas or settings_atlas(settings)
    source = source or img.get_filename() or "<image>"
    labels, roi_qc = _roi_labels(atlas, img, mask, csf, settings)
    alternatives = {
        name: _roi_labels(alternative, img, mask, csf, settings)
        for name, alternative in (alternatives or {}).items()
    }
    if (roi_qc["n_in_brain"] == 0).all():
        raise DataFileError(
            source,
            "no ROI overlaps the image's brain mask; is it in MNI "
            "space with a correct affine?",
        )
    try:
        if settings.smoothing_fwhm:
            from nilearn.image import smooth_img

            data = smooth_img(img, settings.smoothing_fwhm).get_fdata(np.float32)
            slope, intercept = 1.0, 0.0
        else:
            data, slope, intercept = read_data(img)
    except Exception as err:  # gzip, zlib, nibabel: many types for a bad file
        raise DataFileError(
            source,
            f"cannot read the image data, the file is truncated or corrupt "
            f"({type(err).__name__}: {err})",
        ) from None
    signals, tsnr, n_nonfinite = roi_signals(
        data, labels, len(atlas.labels), slope=slope, intercept=intercept
    )
    roi_qc["tsnr"] = tsnr
    roi_qc["n_nonfinite"] = n_nonfinite
    _exclude_unusable(roi_qc, signals, settings.rois.min_voxels, source)
    used = roi_qc["status"].isin(USABLE)
    extra, extra_qc = [], []
    for name, (alt_labels, alt_qc) in alternatives.items():
        alt_signal, alt_qc["tsnr"], alt_qc["n_nonfinite"] = roi_signals(
            data, alt_labels, 1, slope=slope, intercept=intercept
        )
        _exclude_unusable(alt_qc, alt_signal, settings.rois.min_voxels, source)
        extra_qc.append(alt_qc.assign(definition=name))
        if alt_qc["status"].isin(USABLE).all():
            extra.append((name, alt_signal[:, 0]))
    del data
    for row in roi_qc[roi_qc["status"] == "empty"].itertuples():
        logger.warning(
            "%s: ROI %s has %d usable voxel(s) (needs %d: %s); left out of this run",
            getattr(source, "name", source),
            row.roi,
            row.n_voxels,
            settings.rois.min_voxels,
            row.reason,
        )
    for row in roi_qc[roi_qc["status"] == "low_coverage"].itertuples():
        logger.warning(
            "%s: ROI %s covers only %.0f%% of its voxels in the brain mask",
            getattr(source, "name", source),
            row.roi,
            100 * row.coverage,
        )
    if used.sum() < 2:
        raise DataFileError(
            source,
            "fewer than two ROIs have a usable signal: "
            + ", ".join(
                f"{r.roi}={r.n_voxels - r.n_nonfinite} voxels ({r.status}"
                + (f": {r.reason}" if r.reason else "")
                + ")"
                for r in roi_qc.itertuples()
            ),
        )
    denoising = settings.denoising
    confounds_source = confounds_source or source
    confounds, fd_source = _with_framewise_displacement(
        confounds, denoising, confounds_source
    )
    if denoising.std_dvars_threshold is not None and "std_dvars" not in confounds:
        logger.warning(
            "%s: no std_dvars column; DVARS censoring is off for this run",
            getattr(confounds_source, "name", confounds_source),
        )
    regressors = select_confounds(confounds, denoising, confounds_source)
    keep = censoring_mask(confounds, denoising)
    kept_seconds = keep.sum() * tr
    if kept_seconds < denoising.min_remaining_seconds or keep.sum() < 3:
        raise DataFileError(
            source,
            f"only {keep.sum()} of {len(keep)} volumes ({kept_seconds:g} s) remain "
            f"after censoring (FD > {denoising.fd_threshold} mm, std DVARS > "
            f"{denoising.std_dvars_threshold}); minimum is "
            f"{denoising.min_remaining_seconds:g} s",
        )
    dof = degrees_of_freedom(
        int(keep.sum()), regressors.shape[1], denoising, len(keep), tr
    )
    if dof < denoising.min_degrees_of_freedom:
        raise DataFileError(
            source,
            f"{dof} temporal degrees of freedom left ({keep.sum()} kept volumes "
            f"minus {regressors.shape[1]} confound regressors, the high-pass terms "
            f"and the trend); minimum is {denoising.min_degrees_of_freedom}: use "
            "fewer regressors (e.g. fmri.denoising.motion: 6P) or a longer run",
        )
    raw = np.column_stack([signals[:, used.to_numpy()], *[s for _, s in extra]])
    cleaned = clean_signals(raw, regressors, keep, denoising, tr)
    if not np.isfinite(cleaned).all():
        raise DataFileError(
            source, "denoised ROI signals are not finite (constant after cleaning?)"
        )
    names = list(roi_qc.loc[used, "roi"])
    alternative_signals = pd.DataFrame(
        cleaned[:, len(names) :], columns=[name for name, _ in extra]
    )
    cleaned = cleaned[:, : len(names)]
    excluded = ";".join(roi_qc.loc[~used, "roi"])
    roi_qc["definition"] = np.where(roi_qc["roi"] == "PAG", main_definition, "")
    roi_qc = pd.concat([roi_qc, *extra_qc], ignore_index=True)
    fd = confounds.get("framewise_displacement", pd.Series(dtype=float))
    qc = {
        "n_volumes": int(len(keep)),
        "n_kept": int(keep.sum()),
        "n_non_steady_state": int(
            flagged_volumes(confounds, ["non_steady_state_outlier"]).sum()
        ),
        "fraction_censored": round(1 - float(keep.mean()), 4),
        "kept_seconds": float(kept_seconds),
        "mean_fd": float(fd.mean()) if len(fd) else np.nan,
        "fd_source": fd_source,
        "fd_threshold": denoising.fd_threshold,
        "std_dvars_threshold": denoising.std_dvars_threshold,
        "n_regressors": int(regressors.shape[1]),
        "n_physio_regressors": len(physio_columns(confounds))
        if denoising.physio
        else 0,
        "degrees_of_freedom": dof,
        "rois_used": ";".join(names),
        "rois_excluded": excluded,
    }
    return pd.DataFrame(cleaned, columns=names), alternative_signals, qc, roi_qc


def main_pag_definition(settings):
    """Name of the PAG definition the settings use (``atlas`` for a user's).

    Parameters
    ----------
    settings : FMRISettings
        fMRI settings.
    """
    return settings.rois.pag if isinstance(settings.rois.atlas, str) else "atlas"


def settings_atlas(settings, pag=None):
    """Return the ROI atlas of the settings, with the configured (or given) PAG.

    Parameters
    ----------
    settings : FMRISettings
        fMRI settings (``rois``).
    pag : str | None
        PAG definition to use instead of ``settings.rois.pag`` (``traced``,
        ``chain``, ``sphere<r>``).
    """
    rois = settings.rois
    return read_atlas(rois.atlas, rois.labels, pag=pag or rois.pag)


def _roi_labels(atlas, img, mask, csf, settings):
    """ROI labels on the run's grid, without CSF voxels, and their QC."""
    rois = settings.rois
    labels, roi_qc = atlas.label_image(
        img.shape[:3],
        img.affine,
        mask,
        min_voxels=rois.min_voxels,
        min_coverage=rois.min_coverage,
        min_fraction=rois.min_fraction,
    )
    return remove_csf(labels, roi_qc, csf, rois.max_csf_probability, rois.min_voxels)


def _exclude_unusable(roi_qc, signals, min_voxels, source):
    """Mark ROIs without enough finite voxels, or with a constant signal.

    Sets ``roi_qc["status"]`` to ``"nonfinite"`` or ``"constant"`` in place
    and logs each decision; such ROIs are left out like empty ones.
    """
    name = getattr(source, "name", source)
    for k, row in enumerate(roi_qc.itertuples()):
        if row.status == "empty":
            continue
        if row.n_nonfinite:
            logger.warning(
                "%s: %d voxel(s) of ROI %s hold NaN or infinite values; left out",
                name,
                row.n_nonfinite,
                row.roi,
            )
        if row.n_voxels - row.n_nonfinite < min_voxels:
            status, reason = "nonfinite", "too few voxels with finite values"
        elif not np.nanstd(signals[:, k]) > 0:
            status, reason = "constant", "constant signal (an empty image?)"
        else:
            continue
        roi_qc.loc[roi_qc["roi"] == row.roi, ["status", "reason"]] = status, reason
        logger.warning("%s: ROI %s has %s; left out", name, row.roi, reason)


def _with_framewise_displacement(confounds, denoising, source):
    """Confounds with a ``framewise_displacement`` column for FD censoring.

    Returns
    -------
    confounds : pandas.DataFrame
        The table, with FD computed from the motion parameters when the column
        is missing and FD censoring is on (logged).
    fd_source : str
        ``"confounds"``, ``"computed"`` or ``"none"`` (censoring off).
    """
    if "framewise_displacement" in confounds:
        return confounds, "confounds"
    if denoising.fd_threshold is None:
        return confounds, "none"
    missing = [c for c in MOTION_PARAMETERS if c not in confounds]
    if missing:
        raise DataFileError(
            source,
            "no framewise_displacement column and no motion parameters "
            f"{missing} to compute it; FD censoring needs one of them (set "
            "fmri.denoising.fd_threshold: null to run without it)",
        )
    logger.warning(
        "%s: no framewise_displacement column; computed it from the six motion "
        "parameters (Power et al. 2012, 50 mm head radius) for FD censoring",
        getattr(source, "name", source),
    )
    return confounds.assign(framewise_displacement=framewise_displacement(confounds)), (
        "computed"
    )


def run_features(img, mask, confounds, tr, settings=None, **options):
    """Compute the connectivity features and QC of one loaded run.

    Parameters
    ----------
    img, mask, confounds, tr, settings
        As in :func:`run_signals`.
    **options
        ``atlas``, ``csf``, ``source`` and ``confounds_source`` of
        :func:`run_signals`.

    Returns
    -------
    features : pandas.DataFrame
        ``feature`` (``fc``, ``fc_partial``), ``location`` (``A~B``),
        ``value`` (Fisher z), ``unit``.
    qc : dict
        Run QC (see :func:`run_signals`).
    roi_qc : pandas.DataFrame
        Per-ROI QC.
    """
    settings = settings or FMRISettings()
    img, mask, confounds, tr = as_run(
        img, mask, confounds, tr, source=options.get("source")
    )
    signals, _, qc, roi_qc = _extract(img, mask, confounds, tr, settings, **options)
    return _edges(signals, qc, settings), qc, roi_qc


def _edges(signals, qc, settings):
    """Return the edges of the cleaned signals (partial: NaN with a reason)."""
    names = list(signals.columns)
    needed = settings.partial_min_dof_per_roi * len(names)
    qc["partial_missing_reason"] = ""
    if "partial correlation" in settings.connectivity and qc["degrees_of_freedom"] < (
        needed
    ):
        qc["partial_missing_reason"] = (
            f"{qc['degrees_of_freedom']} temporal degrees of freedom for "
            f"{len(names)} ROIs; partial correlation needs {needed:g} "
            "(fmri.partial_min_dof_per_roi)"
        )
    tables = []
    for kind in settings.connectivity:
        if kind == "partial correlation" and qc["partial_missing_reason"]:
            matrix = np.full((len(names), len(names)), np.nan)
        else:
            matrix = fisher_z(connectivity_matrix(signals.to_numpy(), kind))
        tables.append(edge_table(matrix, names, FEATURE[kind]))
    return pd.concat(tables, ignore_index=True)


SENSITIVITY_COLUMNS = ["definition", "location", "value", "n_voxels"]


def pag_sensitivity(signals, alternative_signals, roi_qc, main_definition):
    """PAG correlation edges (Fisher z) under every PAG definition of a run.

    Parameters
    ----------
    signals : pandas.DataFrame
        Cleaned ROI signals with the main PAG (column ``PAG`` if usable).
    alternative_signals : pandas.DataFrame
        Cleaned PAG signals under other definitions, one column each.
    roi_qc : pandas.DataFrame
        ROI QC with ``definition`` and ``n_voxels`` rows for each PAG.
    main_definition : str
        Name of the main PAG definition.

    Returns
    -------
    table : pandas.DataFrame
        ``definition``, ``location`` (``PAG~X``, as the features name it),
        ``value`` (Fisher z; NaN when that PAG had too few voxels) and
        ``n_voxels``, for the main and every alternative definition.
    """
    others = [c for c in signals.columns if c != "PAG"]
    pags = {main_definition: signals.get("PAG")} | {
        name: alternative_signals[name] for name in alternative_signals
    }
    voxels = roi_qc[roi_qc["roi"] == "PAG"].set_index("definition")["n_voxels"]
    rows = []
    for name in [main_definition, *voxels.index.drop(main_definition, errors="ignore")]:
        pag = pags.get(name)
        for other in others:
            value = np.nan
            if pag is not None:
                value = fisher_z(np.corrcoef(pag, signals[other])[0, 1])
            location = edge_name("PAG", other)
            rows.append([name, location, value, int(voxels.get(name, 0))])
    return pd.DataFrame(rows, columns=SENSITIVITY_COLUMNS)


def recording_features(recording, settings=None, space=None):
    """Features of one fMRIPrep run found by discovery.

    Parameters
    ----------
    recording : neuromark.io.Recording
        An fMRI recording (BOLD with ``confounds`` and usually ``mask`` and
        ``csf``, fMRIPrep's CSF probability map).
    settings : FMRISettings | None
        Settings.
    space : str | None
        Expected template space.

    Returns
    -------
    features : pandas.DataFrame
        Long rows with ``participant_id``, ``session``, ``modality``.
    qc : dict
        Run QC with the unit's identifiers; ``csf_map`` names the CSF map used
        (empty: none found, CSF voxels kept).
    tables : dict of str to pandas.DataFrame
        ``fmri_roi_qc`` (per ROI and PAG definition) and
        ``fmri_pag_sensitivity`` (:func:`pag_sensitivity`), with the unit's
        identifiers.
    """
    settings = settings or FMRISettings()
    img, mask, confounds, tr = load_recording(recording, space)
    csf_path = recording.companions.get("csf")
    if csf_path is None and settings.rois.max_csf_probability is not None:
        logger.warning(
            "%s: no CSF probability map (label-CSF_probseg) in the subject's anat "
            "folder; CSF voxels stay in the ROIs",
            recording.path.name,
        )
    csf = csf_probability(csf_path, img) if csf_path else None
    atlas = settings_atlas(settings)
    alternatives = {}
    if "PAG" in atlas.labels and isinstance(settings.rois.atlas, str):
        alternatives = {
            name: settings_atlas(settings, pag=name).select(["PAG"])
            for name in settings.rois.pag_alternatives
            if name != settings.rois.pag
        }
    signals, alternative_signals, qc, roi_qc = _extract(
        img,
        mask,
        confounds,
        tr,
        settings,
        csf=csf,
        alternatives=alternatives,
        source=recording.path,
        confounds_source=recording.companions["confounds"],
    )
    features = _edges(signals, qc, settings)
    sensitivity = pag_sensitivity(
        signals, alternative_signals, roi_qc, main_pag_definition(settings)
    )
    ids = recording.ids
    features = features.assign(**ids)[[*ids, *COLUMNS]]
    tables = {
        "fmri_roi_qc": roi_qc.assign(**ids)[[*ids, *roi_qc.columns]],
        "fmri_pag_sensitivity": sensitivity.assign(**ids)[[*ids, *SENSITIVITY_COLUMNS]],
    }
    qc = ids | {"tr": tr, "csf_map": csf_path.name if csf_path else ""} | qc
    return features, qc, tables
