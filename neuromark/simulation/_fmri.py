"""Simulated fMRIPrep-style resting BOLD with planted ROI correlations.

Voxel time series (percent of the voxel's baseline intensity) are

``signal = roi_latent + noise + motion @ L + physio @ G + drift + spikes``

* ``roi_latent``: one AR(1) series per region of interest, jointly Gaussian
  with a planted correlation matrix, shared by every voxel of the ROI sphere
  (the PAG: every voxel its hand trace touches, see :func:`pag_anatomy`;
  with partial volume, in proportion to the traced tissue it holds);
* ``pulsation``: with ``pag_pulsation_percent``, one AR(1) series in the
  aqueduct CSF next to the PAG, in proportion to each voxel's CSF share
  (aliased cardiac/respiratory pulsation, absent from the confounds);
* ``noise``: independent per voxel;
* ``motion``: the six rigid-body parameters written to the confounds table,
  with random voxel loadings ``L`` (so motion regression removes them);
* ``physio``: three slow components written as the first ``a_comp_cor_*``
  columns (so CompCor regression removes them exactly); further CompCor
  columns carry no signal, as low-ranked components of real data;
* ``drift``: slow cosines written as ``cosine*`` columns;
* ``spikes``: global intensity jumps at the volumes where framewise
  displacement is high (removed by scrubbing).

After regressing the written confounds and censoring high-motion volumes,
the mean signal of a ROI is its latent series plus averaged voxel noise, so the
planted correlations are recoverable, attenuated only by the known factor
``1 / sqrt((1 + s2 / n1) (1 + s2 / n2))`` with ``s2`` the noise variance and
``n`` the voxel counts.
"""

import functools

import numpy as np
import pandas as pd

from ..fmri.rois import read_pag_trace, trace_fraction
from ..utils._signal import cosine_basis

SIGNAL_PERCENT = 1.0
VOXEL_NOISE_PERCENT = 0.5
MOTION_LOADING_PERCENT = 0.4
PHYSIO_LOADING_PERCENT = 0.6
SPIKE_PERCENT = 2.0
AR_COEFFICIENT = 0.5
HEAD_RADIUS_MM = 50.0  # Power et al. (2012) framewise displacement
N_COMPCOR = 3  # physiological components planted in the data
N_COMPCOR_COLUMNS = 12  # a_comp_cor columns written (the rest carry no signal)


@functools.lru_cache(maxsize=4)
def mni_grid(resolution_mm):
    """Brain mask of the MNI152 template (bundled with nilearn) on an isotropic grid.

    Parameters
    ----------
    resolution_mm : float
        Voxel size (mm). The grid keeps the template's origin and orientation.

    Returns
    -------
    mask : ndarray of bool, shape (nx, ny, nz)
        Brain voxels.
    affine : ndarray, shape (4, 4)
        Voxel-to-MNI-mm affine.
    """
    from nilearn.datasets import load_mni152_brain_mask
    from nilearn.image import resample_img

    template = load_mni152_brain_mask(resolution=2)
    affine = template.affine.copy()
    affine[:3, :3] = np.diag([resolution_mm] * 3)
    extent = np.array(template.shape) * np.abs(np.diag(template.affine)[:3])
    shape = tuple(int(np.ceil(e / resolution_mm)) for e in extent)
    resampled = resample_img(
        template,
        target_affine=affine,
        target_shape=shape,
        interpolation="nearest",
        force_resample=True,
        copy_header=True,
    )
    return np.asarray(resampled.get_fdata() > 0.5), affine


def voxel_coordinates(shape, affine):
    """MNI coordinates (mm) of every voxel centre, shape ``shape + (3,)``."""
    ijk = np.indices(shape).reshape(3, -1).T
    xyz = ijk @ affine[:3, :3].T + affine[:3, 3]
    return xyz.reshape(*shape, 3)


def roi_voxels(rois, mask, affine, min_radius_mm):
    """Assign brain voxels to ROI spheres (nearest centre wins on overlap).

    Parameters
    ----------
    rois : pandas.DataFrame
        ``label``, ``x``, ``y``, ``z``, ``radius_mm``.
    mask : ndarray of bool
        Brain mask.
    affine : ndarray, shape (4, 4)
        Grid affine.
    min_radius_mm : float
        Spheres smaller than this are grown to it, so every ROI holds voxels
        on a coarse grid (the simulator must plant somewhere).

    Returns
    -------
    labels : ndarray of int, shape mask.shape
        0 outside ROIs, ``k + 1`` inside ROI ``k``.
    """
    xyz = voxel_coordinates(mask.shape, affine)
    centres = rois[["x", "y", "z"]].to_numpy(float)
    radii = np.maximum(rois["radius_mm"].to_numpy(float), min_radius_mm)
    distance = np.linalg.norm(xyz[..., None, :] - centres, axis=-1)
    inside = (distance <= radii) & mask[..., None]
    nearest = np.argmin(np.where(inside, distance, np.inf), axis=-1)
    labels = np.where(inside.any(axis=-1), nearest + 1, 0)
    empty = [
        rois["label"].iloc[k] for k in range(len(rois)) if not (labels == k + 1).any()
    ]
    if empty:
        raise ValueError(f"ROIs {empty} hold no brain voxel on this grid")
    return labels


def aqueduct_points(trace):
    """1 mm voxel centres of the aqueduct: the hole inside each row of the trace.

    Parameters
    ----------
    trace : ndarray, shape (n, 3)
        Centres of the traced PAG's 1 mm voxels (MNI mm).

    Returns
    -------
    points : ndarray, shape (m, 3)
        Voxels between the left and right PAG walls of each (y, z) row that
        the trace leaves out (50 voxels, 2 mm wide, for the bundled trace).
    """
    traced = {tuple(p) for p in np.round(trace).astype(int)}
    rows = {}
    for x, y, z in traced:
        low, high = rows.get((y, z), (x, x))
        rows[(y, z)] = (min(low, x), max(high, x))
    return np.array(
        sorted(
            (x, y, z)
            for (y, z), (low, high) in rows.items()
            for x in range(low, high + 1)
            if (x, y, z) not in traced
        ),
        dtype=float,
    )


@functools.lru_cache(maxsize=4)
def pag_anatomy(resolution_mm):
    """PAG tissue and aqueduct CSF share of each voxel of the simulator's grid.

    The PAG is the hand trace bundled in ``atlases/`` (Fenske et al. 2020)
    and the aqueduct the hole it leaves; both are measured as partial volumes
    of the grid of :func:`mni_grid`.

    Parameters
    ----------
    resolution_mm : float
        Voxel size (mm).

    Returns
    -------
    pag, csf : ndarray of float, shape of the grid
        Fraction of each voxel filled by PAG tissue, and by aqueduct CSF.
    """
    mask, affine = mni_grid(resolution_mm)
    trace = read_pag_trace()
    pag, _ = trace_fraction(trace, mask.shape, affine)
    csf, _ = trace_fraction(aqueduct_points(trace), mask.shape, affine)
    return pag, csf


def nearest_correlation(matrix, floor=1e-3):
    """Closest valid correlation matrix (eigenvalues clipped, unit diagonal)."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    fixed = vectors @ np.diag(np.maximum(values, floor)) @ vectors.T
    scale = np.sqrt(np.diag(fixed))
    return fixed / np.outer(scale, scale)


def _ar1(rng, n_times, n_series, coefficient, mixing=None):
    """Stationary unit-variance AR(1) series; ``mixing`` correlates innovations."""
    innovations = rng.standard_normal((n_times, n_series))
    if mixing is not None:
        innovations = innovations @ mixing.T
    series = np.empty_like(innovations)
    series[0] = innovations[0]
    scale = np.sqrt(1 - coefficient**2)
    for t in range(1, n_times):
        series[t] = coefficient * series[t - 1] + scale * innovations[t]
    return series


def _motion(rng, n_volumes, n_spikes, step_sd_mm=0.02):
    """Rigid-body motion (mm, rad) as a slow random walk with a few sudden jumps."""
    steps = rng.normal(0, step_sd_mm, (n_volumes, 6))
    steps[:, 3:] /= HEAD_RADIUS_MM  # rotations in radians of similar displacement
    spikes = np.sort(rng.choice(np.arange(5, n_volumes - 1), n_spikes, replace=False))
    steps[spikes] += (
        rng.choice([-1, 1], (n_spikes, 6))
        * rng.uniform(0.2, 0.4, (n_spikes, 6))
        * (np.r_[np.ones(3), np.ones(3) / HEAD_RADIUS_MM])
    )
    return np.cumsum(steps, axis=0), spikes


def framewise_displacement(motion):
    """Framewise displacement (Power et al. 2012), NaN for the first volume.

    Parameters
    ----------
    motion : ndarray, shape (n_volumes, 6)
        trans_x, trans_y, trans_z (mm), rot_x, rot_y, rot_z (rad).

    Returns
    -------
    fd : ndarray, shape (n_volumes,)
        Sum of absolute backward differences, rotations as arc length on a
        50 mm sphere.
    """
    delta = np.abs(np.diff(motion, axis=0))
    fd = delta[:, :3].sum(axis=1) + HEAD_RADIUS_MM * delta[:, 3:].sum(axis=1)
    return np.r_[np.nan, fd]


def simulate_bold(
    rng,
    *,
    correlation,
    roi_labels,
    mask,
    n_volumes,
    tr,
    n_spikes=2,
    affine=None,
    motion_sd_mm=0.02,
    noise_scale=1.0,
    unmodelled_motion=0.0,
    pag_label=None,
    signal_weight=None,
    csf_fraction=None,
    pag_pulsation_percent=0.0,
    brainstem_noise_scale=1.0,
    spatial_smoothness_mm=0.0,
    compcor_layout="combined",
):
    """Simulate one preprocessed resting BOLD run and its confounds.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random generator.
    correlation : ndarray, shape (n_rois, n_rois)
        Planted correlation of the latent ROI signals (valid correlation matrix).
    roi_labels : ndarray of int
        ROI label image (``k + 1`` for ROI ``k``), shape of ``mask``.
    mask : ndarray of bool
        Brain mask; voxels outside are 0.
    n_volumes : int
        Number of volumes.
    tr : float
        Repetition time (s).
    n_spikes : int
        Number of high-motion volumes.
    affine : ndarray, shape (4, 4) | None
        Grid affine (voxel size for ``spatial_smoothness_mm``).
    motion_sd_mm : float
        SD of the volume-to-volume motion steps (mm).
    noise_scale : float
        Multiplier of the voxel noise (a site's scanner).
    unmodelled_motion : float
        Loading (percent) of a spin-history effect of motion: the absolute
        volume-to-volume displacement, which no written confound holds.
    pag_label : int | None
        Label of the PAG in ``roi_labels``.
    signal_weight : ndarray | None
        Share of its ROI's latent signal in each voxel (partial volume), shape
        of ``mask``; ``None``: 1 in every ROI voxel.
    csf_fraction : ndarray | None
        Aqueduct CSF share of each voxel, shape of ``mask`` (where the
        pulsation lives).
    pag_pulsation_percent : float
        Amplitude (SD, percent) of the CSF pulsation in a voxel full of
        aqueduct CSF (aliased cardiac and respiratory noise, absent from the
        confounds).
    brainstem_noise_scale : float
        Multiplier of the voxel noise in the PAG's voxels and the aqueduct's
        (``csf_fraction > 0``): the brainstem's low temporal SNR.
    spatial_smoothness_mm : float
        FWHM of the spatial smoothness of the voxel noise.
    compcor_layout : "combined" | "fmriprep"
        ``combined``: the physiological components are the first
        ``a_comp_cor`` columns, all labelled combined. ``fmriprep``: five
        CSF, five WM, then five combined components (the physiological ones
        first among them), as fMRIPrep orders and labels them.

    Returns
    -------
    bold : ndarray of float32, shape mask.shape + (n_volumes,)
        The BOLD series.
    confounds : pandas.DataFrame
        fMRIPrep-style confounds, one row per volume; ``attrs["metadata"]``
        is its JSON, with each ``a_comp_cor`` column's ``Mask`` (CSF, WM,
        combined).
    latent : ndarray, shape (n_volumes, n_rois)
        The latent ROI signals (percent signal change units).
    """
    n_rois = correlation.shape[0]
    latent = _ar1(
        rng, n_volumes, n_rois, AR_COEFFICIENT, np.linalg.cholesky(correlation)
    )
    motion, spikes = _motion(rng, n_volumes, n_spikes, motion_sd_mm)
    physio = _ar1(rng, n_volumes, N_COMPCOR, 0.8)
    physio = (physio - physio.mean(0)) / physio.std(0)
    cosines = cosine_basis(n_volumes, tr)

    brain = np.flatnonzero(mask)
    n_voxels = brain.size
    motion_z = (motion - motion.mean(0)) / motion.std(0)
    noise = rng.standard_normal((n_volumes, n_voxels))
    if spatial_smoothness_mm:
        noise = _smooth(noise, brain, mask.shape, spatial_smoothness_mm, affine)
    labels = roi_labels.ravel()[brain]
    in_roi = labels > 0
    weight = np.ones(n_voxels)
    if signal_weight is not None:
        weight = np.asarray(signal_weight, float).ravel()[brain]
    csf = np.zeros(n_voxels)
    if csf_fraction is not None:
        csf = np.asarray(csf_fraction, float).ravel()[brain]
    brainstem = (labels == pag_label) | (csf > 0)
    noise[:, brainstem] *= brainstem_noise_scale
    percent = (
        noise_scale * VOXEL_NOISE_PERCENT * noise
        + motion_z @ (MOTION_LOADING_PERCENT * rng.standard_normal((6, n_voxels)))
        + physio @ (PHYSIO_LOADING_PERCENT * rng.standard_normal((N_COMPCOR, n_voxels)))
    )
    if cosines.shape[1]:
        percent += cosines @ (5.0 * rng.standard_normal((cosines.shape[1], n_voxels)))
    percent[:, in_roi] += (
        SIGNAL_PERCENT * weight[in_roi] * latent[:, labels[in_roi] - 1]
    )
    percent[spikes] += SPIKE_PERCENT * rng.choice([-1, 1], (spikes.size, 1))
    if unmodelled_motion:
        shift = np.r_[0.0, np.abs(np.diff(motion[:, :3], axis=0)).sum(axis=1)]
        shift = (shift - shift.mean()) / shift.std()
        percent += np.outer(
            shift, unmodelled_motion * np.abs(rng.standard_normal(n_voxels))
        )
    if pag_pulsation_percent and csf.any():
        pulsation = _ar1(rng, n_volumes, 1, 0.2)[:, 0]
        percent[:, csf > 0] += pag_pulsation_percent * np.outer(pulsation, csf[csf > 0])

    baseline = rng.uniform(600, 1200, n_voxels)
    series = baseline * (1 + percent / 100.0)
    bold = np.zeros((mask.size, n_volumes), dtype=np.float32)
    bold[brain] = series.T
    bold = bold.reshape(*mask.shape, n_volumes)

    names = ["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"]
    columns = {}
    for k, name in enumerate(names):
        columns[name] = motion[:, k]
        derivative = np.r_[np.nan, np.diff(motion[:, k])]
        columns[f"{name}_derivative1"] = derivative
        columns[f"{name}_power2"] = motion[:, k] ** 2
        columns[f"{name}_derivative1_power2"] = derivative**2
    fd = framewise_displacement(motion)
    columns["framewise_displacement"] = fd
    columns["global_signal"] = series.mean(axis=1)
    columns["csf"] = baseline.mean() * (1 + 0.01 * physio[:, 0])
    columns["white_matter"] = baseline.mean() * (1 + 0.01 * physio[:, 1])
    extra = _ar1(rng, n_volumes, N_COMPCOR_COLUMNS - N_COMPCOR, 0.8)
    components = np.column_stack([physio, (extra - extra.mean(0)) / extra.std(0)])
    masks = ["combined"] * N_COMPCOR_COLUMNS
    if compcor_layout == "fmriprep":
        components, masks = _fmriprep_compcor(rng, physio, components)
    for k in range(components.shape[1]):
        columns[f"a_comp_cor_{k:02d}"] = components[:, k]
    for k in range(cosines.shape[1]):
        columns[f"cosine{k:02d}"] = cosines[:, k]
    dvars = np.r_[np.nan, np.sqrt(np.mean(np.diff(series, axis=0) ** 2, axis=1))]
    columns["dvars"] = dvars
    columns["std_dvars"] = dvars / np.nanmedian(dvars)
    confounds = pd.DataFrame(columns)
    # fMRIPrep's confounds JSON: which mask each CompCor component comes from
    confounds.attrs["metadata"] = {
        f"a_comp_cor_{k:02d}": {"Method": "aCompCor", "Mask": mask, "Retained": True}
        for k, mask in enumerate(masks)
    }
    return bold, confounds, latent


def _fmriprep_compcor(rng, physio, combined, n_per_mask=5):
    """CSF, WM and combined aCompCor columns as fMRIPrep writes them.

    The tissue-specific decompositions see the physiological signals only in
    part (a noisy mixture), the combined one holds them exactly first.
    """
    n_volumes = physio.shape[0]

    def tissue(weights):
        mixed = physio @ weights + 0.7 * rng.standard_normal((n_volumes, n_per_mask))
        return (mixed - mixed.mean(0)) / mixed.std(0)

    csf = tissue(rng.normal(0, 1, (N_COMPCOR, n_per_mask)))
    wm = tissue(rng.normal(0, 0.5, (N_COMPCOR, n_per_mask)))
    columns = np.column_stack([csf, wm, combined[:, :n_per_mask]])
    masks = ["CSF"] * n_per_mask + ["WM"] * n_per_mask + ["combined"] * n_per_mask
    return columns, masks


def _smooth(noise, brain, shape, fwhm_mm, affine):
    """Spatially smooth voxel noise (Gaussian FWHM), keeping unit variance."""
    from scipy.ndimage import gaussian_filter

    voxel_mm = float(np.abs(np.diag(affine)[:3]).mean()) if affine is not None else 1
    sigma = fwhm_mm / np.sqrt(8 * np.log(2)) / voxel_mm
    volume = np.zeros(int(np.prod(shape)))
    out = np.empty_like(noise)
    for t in range(noise.shape[0]):
        volume[brain] = noise[t]
        out[t] = gaussian_filter(volume.reshape(shape), sigma).ravel()[brain]
    return out / out.std(axis=0, keepdims=True)
