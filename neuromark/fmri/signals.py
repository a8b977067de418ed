"""Load an fMRIPrep run and extract ROI signals with coverage and tSNR QC."""

import os
import re
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd

from ..exceptions import DataFileError
from ..io.checks import (
    load_bold,
    load_mask,
    read_run_confounds,
    repetition_time,
)
from ..utils._logging import logger


def image_space(path):
    """Template space named in a BIDS file name (``space-<label>``), or None.

    Parameters
    ----------
    path : path-like
        A BIDS file name.
    """
    match = re.search(r"_space-([a-zA-Z0-9]+)_", Path(path).name)
    return match.group(1) if match else None


def load_run(bold, *, confounds, mask=None, sidecar=None, space=None):
    """Load a preprocessed BOLD run, its brain mask and confounds, with checks.

    Parameters
    ----------
    bold : path-like
        4D BOLD image.
    confounds : path-like
        fMRIPrep confounds table.
    mask : path-like | None
        Brain mask on the BOLD grid; ``None`` uses every voxel whose signal is
        finite and varies over time (fMRIPrep always provides a mask).
    sidecar : path-like | None
        JSON sidecar (``RepetitionTime``).
    space : str | None
        Expected template space; a file name naming another space is refused.

    Returns
    -------
    img : nibabel.Nifti1Image
        The BOLD image (data not yet read).
    mask : ndarray of bool
        Brain mask.
    confounds : pandas.DataFrame
        One row per volume.
    tr : float
        Repetition time (s).
    """
    bold = Path(bold)
    named = image_space(bold)
    if space is not None and named is not None and named != space:
        raise DataFileError(bold, f"image is in space {named}, expected {space}")
    img = load_bold(bold)
    tr = repetition_time(img, Path(sidecar) if sidecar else None)
    return as_run(img, mask, confounds, tr, source=bold)


def load_recording(recording, space=None):
    """:func:`load_run` of a discovered fMRIPrep run and its companion files.

    Parameters
    ----------
    recording : neuromark.io.Recording
        An fMRI recording (``confounds``, and usually ``mask`` and
        ``sidecar``, among its companions).
    space : str | None
        Expected template space.

    Returns
    -------
    img, mask, confounds, tr
        As :func:`load_run`.
    """
    return load_run(
        recording.path,
        confounds=recording.companions["confounds"],
        mask=recording.companions.get("mask"),
        sidecar=recording.companions.get("sidecar"),
        space=space,
    )


def _is_path(value):
    return isinstance(value, (str, os.PathLike))


def _brain_mask(mask, img, source):
    """Return the mask as booleans on the run's grid (None: varying voxels)."""
    if mask is None:
        data = img.get_fdata(dtype=np.float32)
        mask_data = np.isfinite(data).all(axis=-1) & (data.std(axis=-1) > 0)
        del data
        logger.info(
            "%s: no brain mask given; using the %d voxels with a varying signal",
            Path(source).name,
            int(mask_data.sum()),
        )
        return mask_data
    if _is_path(mask):
        return np.asarray(load_mask(mask, img, source).dataobj) > 0
    if isinstance(mask, nib.spatialimages.SpatialImage):
        if not np.allclose(mask.affine, img.affine, atol=1e-3):
            raise DataFileError(
                source, "the brain mask's affine differs from the run's"
            )
        mask = np.asarray(mask.dataobj)
    mask = np.asarray(mask) > 0
    if mask.shape != img.shape[:3]:
        raise DataFileError(
            source,
            f"brain mask of shape {mask.shape} does not match the run's grid "
            f"{img.shape[:3]}",
        )
    return mask


def as_run(img, mask=None, confounds=None, tr=None, *, source=None):
    """Accept a run as nilearn users hold it: files or images, arrays, tables.

    Parameters
    ----------
    img : path-like | nibabel.Nifti1Image
        4D BOLD run.
    mask : path-like | nibabel.Nifti1Image | ndarray | None
        Brain mask on the run's grid; ``None`` uses the voxels whose signal is
        finite and varies over time.
    confounds : path-like | pandas.DataFrame | None
        Confounds with one row per volume (a TSV is read as fMRIPrep's);
        ``None``: no confounds (censoring on FD then needs
        ``fd_threshold: null``).
    tr : float | None
        Repetition time (s); ``None`` reads it from the header.
    source : path-like | None
        File named in errors (default: the image's file name).

    Returns
    -------
    img : nibabel.Nifti1Image
    mask : ndarray of bool
    confounds : pandas.DataFrame
    tr : float

    Raises
    ------
    DataFileError
        If the image is not a 4D series, the mask is on another grid or the
        confounds do not have one row per volume.
    """
    if _is_path(img):
        source = source or img
        img = load_bold(img)
    source = source or img.get_filename() or "<image>"
    if len(img.shape) != 4 or img.shape[3] < 2:
        raise DataFileError(
            source, f"expected a 4D BOLD time series, got shape {img.shape}"
        )
    n_volumes = img.shape[3]
    if _is_path(confounds):
        confounds = read_run_confounds(confounds, img, source)
    elif confounds is None:
        confounds = pd.DataFrame(index=range(n_volumes))
    elif len(confounds) != n_volumes:
        raise DataFileError(
            source,
            f"the confounds have {len(confounds)} rows but the run has "
            f"{n_volumes} volumes; they must have one row per volume",
        )
    mask = _brain_mask(mask, img, source)
    tr = repetition_time(img) if tr is None else float(tr)
    return img, mask, confounds.reset_index(drop=True), tr


def csf_probability(path, img):
    """FMRIPrep's CSF probability map on the grid of a BOLD image.

    Parameters
    ----------
    path : path-like
        ``*_label-CSF_probseg.nii[.gz]`` in the BOLD's template space.
    img : nibabel.Nifti1Image
        The BOLD run (its grid).

    Returns
    -------
    csf : ndarray of float, shape ``img.shape[:3]``
        The map, linearly resampled when its grid differs (partial volume at
        the BOLD resolution); 0 outside its field of view.
    """
    path = Path(path)
    try:
        probseg = nib.load(path)
        if probseg.ndim != 3:
            raise ValueError(f"expected a 3D map, got shape {probseg.shape}")
        same_grid = probseg.shape == img.shape[:3] and np.allclose(
            probseg.affine, img.affine, atol=1e-3
        )
        if not same_grid:
            from nilearn.image import resample_img

            probseg = resample_img(
                probseg,
                target_affine=img.affine,
                target_shape=img.shape[:3],
                interpolation="linear",
                force_resample=True,
                copy_header=True,
            )
        csf = np.asarray(probseg.get_fdata(dtype=np.float32))
    except Exception as err:
        raise DataFileError(
            path, f"cannot read this CSF probability map ({err})"
        ) from None
    return np.nan_to_num(csf, nan=0.0)


def read_data(img):
    """Read the stored data of an image without converting it to float.

    Parameters
    ----------
    img : nibabel.Nifti1Image
        Image whose data are on disk.

    Returns
    -------
    data : ndarray
        Stored values (e.g. int16), in the file's (Fortran) order.
    slope, intercept : float
        Scaling to apply to stored values (``value = slope * stored + intercept``).

    Notes
    -----
    Scaling is linear, so ROI means and tSNR are computed on the few ROI voxels
    after scaling them; converting the whole 4D image to float (what
    ``get_fdata`` does) costs more than decompressing it.
    """
    proxy = img.dataobj
    if hasattr(proxy, "get_unscaled"):
        slope = 1.0 if proxy.slope is None else float(proxy.slope)
        intercept = 0.0 if proxy.inter is None else float(proxy.inter)
        return np.asanyarray(proxy.get_unscaled()), slope, intercept
    return np.asanyarray(proxy), 1.0, 0.0


def roi_signals(data, labels, n_rois, *, slope=1.0, intercept=0.0):
    """Mean time series and mean voxel tSNR of each labelled ROI.

    Parameters
    ----------
    data : ndarray, shape (nx, ny, nz, n_volumes)
        BOLD data (stored values; see ``slope`` and ``intercept``).
    labels : ndarray of int, shape (nx, ny, nz)
        0 outside ROIs, ``k + 1`` in ROI ``k``.
    n_rois : int
        Number of ROIs.
    slope, intercept : float
        Scaling of the stored values.

    Returns
    -------
    signals : ndarray, shape (n_volumes, n_rois)
        Mean over each ROI's voxels with finite values (NaN columns for empty
        ROIs, which callers drop and report; they are never returned as
        features).
    tsnr : ndarray, shape (n_rois,)
        Mean over the ROI's voxels of temporal mean / temporal SD.
    n_nonfinite : ndarray of int, shape (n_rois,)
        Voxels of each ROI left out because they hold NaN or infinite values
        at some volume.
    """
    # a view, not a copy, whatever the memory order of the 4D array
    order = "F" if data.flags.f_contiguous and not data.flags.c_contiguous else "C"
    flat = data.reshape(-1, data.shape[-1], order=order)
    label_flat = labels.ravel(order=order)
    signals = np.full((data.shape[-1], n_rois), np.nan)
    tsnr = np.full(n_rois, np.nan)
    n_nonfinite = np.zeros(n_rois, dtype=int)
    for k in range(n_rois):
        voxels = flat[np.flatnonzero(label_flat == k + 1)].astype(np.float64)
        finite = np.isfinite(voxels).all(axis=1)
        n_nonfinite[k] = int((~finite).sum())
        voxels = voxels[finite]
        if len(voxels):
            voxels = voxels * slope + intercept
            signals[:, k] = voxels.mean(axis=0)
            sd = voxels.std(axis=1)
            varying = sd > 0
            if varying.any():
                tsnr[k] = np.mean(voxels[varying].mean(axis=1) / sd[varying])
    return signals, tsnr, n_nonfinite
