"""What a reviewer looks at for one fMRI run: its images, ROIs and motion.

:func:`run_overview` loads a run the way :func:`recording_features` does
(same checks, same ROI definition without CSF voxels, same censoring), so a
participant page shows exactly the voxels and volumes the markers used.
"""

import dataclasses

import nibabel as nib
import numpy as np
import pandas as pd

from .denoise import censoring_mask
from .features import _roi_labels, _with_framewise_displacement, settings_atlas
from .settings import FMRISettings
from .signals import csf_probability, load_recording

# rows of the carpet plot: evenly spread brain voxels (a screen shows no more)
CARPET_VOXELS = 1500


@dataclasses.dataclass
class RunOverview:
    """One fMRI run as the markers saw it.

    Attributes
    ----------
    mean_img : nibabel.Nifti1Image
        The run's mean over time.
    carpet : ndarray, shape (n_rows, n_volumes)
        The rows of its carpet plot (:func:`carpet`).
    mask_img : nibabel.Nifti1Image
        Its brain mask.
    labels_img : nibabel.Nifti1Image
        ROI labels on the run's grid (``k + 1`` for ``roi_names[k]``), CSF
        voxels removed.
    roi_names : list of str
        The ROIs, in label order.
    motion : pandas.DataFrame
        One row per volume: ``framewise_displacement`` (mm), ``std_dvars``
        (NaN when the confounds lack it) and ``kept`` (False: censored).
    tr : float
        Repetition time (s).
    fd_threshold, std_dvars_threshold : float | None
        The censoring thresholds.
    """

    mean_img: object
    carpet: np.ndarray
    mask_img: object
    labels_img: object
    roi_names: list
    motion: pd.DataFrame
    tr: float
    fd_threshold: float | None
    std_dvars_threshold: float | None


def carpet(data, mask, n_voxels=1500):
    """Return the rows of a carpet plot: detrended, standardised signals.

    Parameters
    ----------
    data : ndarray, shape (x, y, z, n_volumes)
        The run's data.
    mask : ndarray of bool, shape (x, y, z)
        Brain mask.
    n_voxels : int
        About this many voxels, every k-th voxel of the mask in memory order
        (so the rows run from the bottom slice to the top).

    Returns
    -------
    rows : ndarray, shape (n_rows, n_volumes)
        Each voxel's signal with its linear trend removed, in standard
        deviations (a constant voxel gives zeros).
    """
    from scipy.signal import detrend

    inside = np.flatnonzero(np.asarray(mask, bool).ravel(order="F"))
    chosen = inside[:: max(1, len(inside) // n_voxels)]
    rows = data.reshape(-1, data.shape[-1], order="F")[chosen].astype(float)
    rows = detrend(rows, axis=1)
    scale = rows.std(axis=1, ddof=1, keepdims=True)
    return np.divide(rows, scale, out=np.zeros_like(rows), where=scale > 0)


def run_overview(recording, settings=None, space=None):
    """Load an fMRI run with its ROIs and per-volume motion and censoring.

    Parameters
    ----------
    recording : neuromark.io.Recording
        An fMRI recording (BOLD with ``confounds``, usually ``mask`` and
        ``csf``).
    settings : FMRISettings | None
        Settings (ROIs, CSF exclusion, censoring thresholds).
    space : str | None
        Expected template space.

    Returns
    -------
    overview : RunOverview
    """
    settings = settings or FMRISettings()
    img, mask, confounds, tr = load_recording(recording, space)
    csf_path = recording.companions.get("csf")
    csf = csf_probability(csf_path, img) if csf_path else None
    atlas = settings_atlas(settings)
    labels, _ = _roi_labels(atlas, img, mask, csf, settings)
    denoising = settings.denoising
    confounds, _ = _with_framewise_displacement(
        confounds, denoising, recording.companions["confounds"]
    )
    nan = np.full(len(confounds), np.nan)
    motion = pd.DataFrame(
        {
            "framewise_displacement": confounds.get("framewise_displacement", nan),
            "std_dvars": confounds.get("std_dvars", nan),
            "kept": censoring_mask(confounds, denoising),
        }
    )
    # the data are read once, for the mean image and the carpet plot
    data = img.get_fdata(dtype=np.float32)
    return RunOverview(
        mean_img=nib.Nifti1Image(data.mean(axis=-1), img.affine, img.header),
        carpet=carpet(data, mask, CARPET_VOXELS),
        mask_img=nib.Nifti1Image(mask.astype(np.uint8), img.affine),
        labels_img=nib.Nifti1Image(labels.astype(np.int16), img.affine),
        roi_names=list(atlas.labels),
        motion=motion,
        tr=tr,
        fd_threshold=denoising.fd_threshold,
        std_dvars_threshold=denoising.std_dvars_threshold,
    )
