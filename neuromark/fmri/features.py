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
from ..utils._logging import logger
from .connectivity import FEATURE, connectivity_matrix, edge_table, fisher_z
from .denoise import censoring_mask, clean_signals, select_confounds
from .rois import read_atlas
from .settings import FMRISettings
from .signals import load_run, read_data, roi_signals

COLUMNS = ["feature", "location", "value", "unit"]


def run_signals(
    img,
    mask,
    confounds,
    tr,
    settings=None,
    *,
    atlas=None,
    source=None,
    confounds_source=None,
):
    """Extract, denoise and censor the ROI time series of one loaded run.

    Parameters
    ----------
    img : nibabel.Nifti1Image
        4D BOLD image.
    mask : ndarray of bool
        Brain mask on its grid.
    confounds : pandas.DataFrame
        fMRIPrep confounds (one row per volume).
    tr : float
        Repetition time (s).
    settings : FMRISettings | None
        Settings (defaults if ``None``).
    atlas : SphereAtlas | ImageAtlas | None
        ROIs (default: from ``settings.rois``).
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
        Per ROI: voxel counts, coverage, status and ``tsnr``.

    Raises
    ------
    DataFileError
        If no ROI centre lies in the image (wrong space or affine), fewer than
        two ROIs have brain voxels, or too little data survives censoring.
    """
    settings = settings or FMRISettings()
    atlas = atlas or read_atlas(settings.rois.atlas, settings.rois.labels)
    source = source or img.get_filename() or "<image>"
    labels, roi_qc = atlas.label_image(
        img.shape[:3],
        img.affine,
        mask,
        min_voxels=settings.rois.min_voxels,
        min_coverage=settings.rois.min_coverage,
    )
    if (roi_qc["n_in_brain"] == 0).all():
        raise DataFileError(
            source,
            "no ROI overlaps the image's brain mask; is it in MNI "
            "space with a correct affine?",
        )
    if settings.smoothing_fwhm:
        from nilearn.image import smooth_img

        data = smooth_img(img, settings.smoothing_fwhm).get_fdata(dtype=np.float32)
        slope, intercept = 1.0, 0.0
    else:
        data, slope, intercept = read_data(img)
    signals, tsnr = roi_signals(
        data, labels, len(atlas.labels), slope=slope, intercept=intercept
    )
    del data
    roi_qc["tsnr"] = tsnr
    used = roi_qc["status"] != "empty"
    for row in roi_qc[~used].itertuples():
        logger.warning(
            "%s: ROI %s has %d brain voxel(s) (needs %d); left out of this run",
            getattr(source, "name", source),
            row.roi,
            row.n_in_brain,
            settings.rois.min_voxels,
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
            "fewer than two ROIs have brain voxels: "
            + ", ".join(f"{r.roi}={r.n_in_brain}" for r in roi_qc.itertuples()),
        )
    regressors = select_confounds(
        confounds, settings.denoising, confounds_source or source
    )
    keep = censoring_mask(confounds, settings.denoising)
    kept_seconds = keep.sum() * tr
    if kept_seconds < settings.denoising.min_remaining_seconds or keep.sum() < 3:
        raise DataFileError(
            source,
            f"only {keep.sum()} of {len(keep)} volumes ({kept_seconds:g} s) remain "
            f"after censoring (FD > {settings.denoising.fd_threshold} mm, std DVARS > "
            f"{settings.denoising.std_dvars_threshold}); minimum is "
            f"{settings.denoising.min_remaining_seconds:g} s",
        )
    cleaned = clean_signals(
        signals[:, used.to_numpy()], regressors, keep, settings.denoising, tr
    )
    names = list(roi_qc.loc[used, "roi"])
    fd = (
        confounds["framewise_displacement"]
        if "framewise_displacement" in confounds
        else pd.Series(dtype=float)
    )
    qc = {
        "n_volumes": int(len(keep)),
        "n_kept": int(keep.sum()),
        "kept_seconds": float(kept_seconds),
        "mean_fd": float(fd.mean()) if len(fd) else np.nan,
        "fd_threshold": settings.denoising.fd_threshold,
        "std_dvars_threshold": settings.denoising.std_dvars_threshold,
        "n_regressors": int(regressors.shape[1]),
        "rois_used": ";".join(names),
        "rois_excluded": ";".join(roi_qc.loc[~used, "roi"]),
    }
    return pd.DataFrame(cleaned, columns=names), qc, roi_qc


def run_features(img, mask, confounds, tr, settings=None, **kwargs):
    """Compute the connectivity features and QC of one loaded run.

    Parameters
    ----------
    img, mask, confounds, tr, settings, **kwargs
        As in :func:`run_signals`.

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
    signals, qc, roi_qc = run_signals(img, mask, confounds, tr, settings, **kwargs)
    names = list(signals.columns)
    features = pd.concat(
        [
            edge_table(
                fisher_z(connectivity_matrix(signals.to_numpy(), kind)),
                names,
                FEATURE[kind],
            )
            for kind in settings.connectivity
        ],
        ignore_index=True,
    )
    return features, qc, roi_qc


def recording_features(recording, settings=None, space=None):
    """Features of one fMRIPrep run found by discovery.

    Parameters
    ----------
    recording : neuromark.io.Recording
        An fMRI recording (BOLD with ``confounds`` and usually ``mask``).
    settings : FMRISettings | None
        Settings.
    space : str | None
        Expected template space.

    Returns
    -------
    features : pandas.DataFrame
        Long rows with ``participant_id``, ``session``, ``modality``.
    qc : dict
        Run QC with the unit's identifiers.
    roi_qc : pandas.DataFrame
        Per-ROI QC with the unit's identifiers.
    """
    img, mask, confounds, tr = load_run(
        recording.path,
        confounds=recording.companions["confounds"],
        mask=recording.companions.get("mask"),
        sidecar=recording.companions.get("sidecar"),
        space=space,
    )
    features, qc, roi_qc = run_features(
        img,
        mask,
        confounds,
        tr,
        settings,
        source=recording.path,
        confounds_source=recording.companions["confounds"],
    )
    ids = {
        "participant_id": recording.participant_id,
        "session": recording.session,
        "modality": "fmri",
    }
    features = features.assign(**ids)[[*ids, *COLUMNS]]
    roi_qc = roi_qc.assign(**ids)[[*ids, *roi_qc.columns]]
    return features, ids | {"tr": tr} | qc, roi_qc
