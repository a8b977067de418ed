"""Header-level checks of recordings: readable, right shape, consistent.

They read headers (and the small confounds table), never the full data, so a
whole study can be checked in seconds before any heavy computation.
"""

import json
import re
import warnings
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd

from ..exceptions import DataFileError
from ..utils._logging import logger

MIN_EEG_CHANNELS = 2
# plausible repetition times of a BOLD run (s) and mains frequencies (Hz)
TR_RANGE = (0.1, 10.0)
LINE_FREQUENCY_RANGE = (40.0, 70.0)
# MNE's warning for EDF/BDF files with fewer data records than the header lists
_TRUNCATED = re.compile(r"does not match the file size|truncat", re.IGNORECASE)


def read_eeg_header(path):
    """Open an EEG file lazily with MNE and check its header.

    Parameters
    ----------
    path : pathlib.Path
        EEG file (``.edf .bdf .vhdr .set .fif``).

    Returns
    -------
    raw : mne.io.BaseRaw
        The recording, not preloaded.

    Raises
    ------
    DataFileError
        If MNE cannot read the file, or it has no EEG channel, no samples or a
        non-positive sampling rate.
    """
    import mne

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            raw = mne.io.read_raw(path, preload=False, verbose="warning")
    except Exception as err:  # MNE raises many types for corrupt files
        reason = str(err).strip().splitlines()[0] if str(err).strip() else ""
        raise DataFileError(
            path, f"MNE cannot read this EEG file ({type(err).__name__}: {reason})"
        ) from None
    for warning in caught:
        if _TRUNCATED.search(str(warning.message)):
            raise DataFileError(
                path,
                "the file is shorter than its header says (truncated or an "
                f"unfinished recording: {raw.n_times / raw.info['sfreq']:.1f} s of "
                "data present); re-export it or fix the header",
            )
    sfreq = raw.info["sfreq"]
    if not np.isfinite(sfreq) or sfreq <= 0:
        raise DataFileError(path, f"sampling rate {sfreq} Hz in header")
    if raw.n_times == 0:
        raise DataFileError(path, "header lists no samples")
    n_eeg = raw.get_channel_types().count("eeg")
    if n_eeg < MIN_EEG_CHANNELS:
        raise DataFileError(
            path,
            f"{n_eeg} EEG channel(s); the average reference and regional "
            f"markers need at least {MIN_EEG_CHANNELS}",
        )
    return raw


def read_eeg_recording(recording):
    """Open a BIDS EEG recording with mne-bids (not preloaded).

    mne-bids applies what the lab wrote beside the data: channel types and
    ``status=bad`` from ``channels.tsv`` (bad channels land in
    ``raw.info["bads"]``), electrode positions from ``electrodes.tsv``,
    events and ``BAD_`` segments from ``events.tsv`` as annotations, and the
    sidecar's mains frequency, with sidecars inherited from parent folders.

    Parameters
    ----------
    recording : neuromark.io.Recording
        An EEG recording found by discovery.

    Returns
    -------
    raw : mne.io.BaseRaw

    Raises
    ------
    DataFileError
        If mne-bids cannot read it (the reason is its first line); its
        warnings are logged.
    """
    import mne_bids

    path = recording.path
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            bids_path = mne_bids.get_bids_path_from_fname(path)
            raw = mne_bids.read_raw_bids(bids_path, verbose="error")
    except Exception as err:  # mne-bids and MNE raise many types
        reason = str(err).strip().splitlines()[0] if str(err).strip() else ""
        raise DataFileError(
            path,
            f"mne-bids cannot read this recording ({type(err).__name__}: {reason})",
        ) from None
    for warning in caught:
        logger.info("%s: mne-bids: %s", path.name, str(warning.message).strip())
    return raw


def read_sidecar(path):
    """Read a BIDS JSON sidecar.

    Parameters
    ----------
    path : pathlib.Path
        The ``.json`` file.

    Returns
    -------
    metadata : dict

    Raises
    ------
    DataFileError
        If the file is not valid JSON or not a JSON object.
    """
    try:
        metadata = json.loads(Path(path).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise DataFileError(path, f"not valid JSON ({err})") from None
    if not isinstance(metadata, dict):
        raise DataFileError(
            path, f"a sidecar must be a JSON object, got {type(metadata).__name__}"
        )
    return metadata


def read_metadata(recording):
    """JSON sidecars of a recording, nearest first (BIDS inheritance).

    Parameters
    ----------
    recording : neuromark.io.Recording
        A recording whose companions include ``sidecar`` and possibly
        inherited levels ``sidecar.1``, ``sidecar.2``... (see
        :func:`neuromark.io.bids.inherited_files`).

    Returns
    -------
    levels : list of (pathlib.Path, dict)
        Each sidecar and its content; a key's value is taken from the first
        level that has it.
    """
    keys = [k for k in recording.companions if k.split(".")[0] == "sidecar"]
    keys.sort(key=lambda k: int(k.split(".")[1]) if "." in k else 0)
    return [
        (recording.companions[k], read_sidecar(recording.companions[k])) for k in keys
    ]


def sidecar_number(levels, key, *, valid, unit, hint=""):
    """Read a numeric sidecar field and check its plausible range.

    Parameters
    ----------
    levels : list of (pathlib.Path, dict)
        Sidecars nearest first (:func:`read_metadata`).
    key : str
        Field name (``PowerLineFrequency``, ``RepetitionTime``...).
    valid : tuple of (float, float)
        Inclusive range of plausible values.
    unit : str
        Unit BIDS prescribes for the field.
    hint : str
        Added to the message when the value is out of range.

    Returns
    -------
    value : float | None
        The value, or ``None`` when absent or ``"n/a"``.

    Raises
    ------
    DataFileError
        Naming the sidecar that holds the value, if it is not a number or
        lies outside ``valid``.
    """
    path, metadata = next(((p, m) for p, m in levels if key in m), (None, {}))
    value = metadata.get(key)
    if value is None or value == "n/a":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise DataFileError(path, f"{key} must be a number, got {value!r}") from None
    low, high = valid
    if not low <= number <= high:
        raise DataFileError(
            path,
            f"{key} {number:g} {unit} is outside the plausible range "
            f"{low:g}-{high:g} {unit}{hint}",
        )
    return number


def check_eeg(recording):
    """Check one EEG recording's header.

    Parameters
    ----------
    recording : neuromark.io.Recording
        An EEG recording.

    Returns
    -------
    info : dict
        ``sfreq`` (Hz), ``n_channels`` (EEG channels), ``duration_s``.
    """
    raw = read_eeg_header(recording.path)
    levels = read_metadata(recording)
    stated = sidecar_number(levels, "SamplingFrequency", valid=(1.0, 1e6), unit="Hz")
    actual = float(raw.info["sfreq"])
    if stated is not None and not np.isclose(stated, actual, rtol=1e-3):
        source = next(p for p, m in levels if "SamplingFrequency" in m)
        raise DataFileError(
            source,
            f"SamplingFrequency {stated:g} Hz disagrees with the "
            f"{actual:g} Hz of {recording.path.name}; correct the sidecar",
        )
    line_frequency(levels)
    return {
        "sfreq": float(raw.info["sfreq"]),
        "n_channels": int(len(raw.get_channel_types(picks="eeg"))),
        "duration_s": float(raw.n_times / raw.info["sfreq"]),
    }


def read_confounds(path):
    """Read an fMRIPrep confounds table.

    Parameters
    ----------
    path : pathlib.Path
        ``*_desc-confounds_timeseries.tsv`` (or an older name).

    Returns
    -------
    confounds : pandas.DataFrame
        One row per volume; ``n/a`` read as NaN. ``attrs["metadata"]`` holds
        the JSON next to it (each CompCor component's ``Mask``...), or
        ``None`` when there is none; ``attrs["source"]`` the path.
    """
    try:
        table = pd.read_csv(path, sep="\t", na_values=["n/a"])
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise DataFileError(
            path, f"not a readable tab-separated table ({err})"
        ) from None
    if table.empty:
        raise DataFileError(path, "confounds table has no rows")
    sidecar = Path(path).with_suffix(".json")
    table.attrs["metadata"] = read_sidecar(sidecar) if sidecar.is_file() else None
    table.attrs["source"] = str(path)
    return table


def repetition_time(bold_img, sidecar=None):
    """Return the repetition time in seconds, from the sidecar or the header.

    Parameters
    ----------
    bold_img : nibabel.Nifti1Image
        The BOLD image.
    sidecar : pathlib.Path | None
        Its JSON sidecar; ``RepetitionTime`` there wins over the header.

    Returns
    -------
    tr : float
        Repetition time (s).
    """
    if sidecar is not None:
        tr = sidecar_number(
            [(sidecar, read_sidecar(sidecar))],
            "RepetitionTime",
            valid=TR_RANGE,
            unit="s",
            hint=" (BIDS gives it in seconds; is it in milliseconds?)",
        )
        if tr is not None:
            return tr
    zooms = bold_img.header.get_zooms()
    tr = float(zooms[3]) if len(zooms) > 3 else 0.0
    units = bold_img.header.get_xyzt_units()[1]
    if units == "msec":
        tr /= 1000.0
    if tr <= 0:
        raise DataFileError(
            bold_img.get_filename(),
            "no repetition time in the header (pixdim[4] is 0) and none in a sidecar",
        )
    if not TR_RANGE[0] <= tr <= TR_RANGE[1]:
        raise DataFileError(
            bold_img.get_filename(),
            f"repetition time {tr:g} s in the header is outside the plausible "
            f"range {TR_RANGE[0]:g}-{TR_RANGE[1]:g} s (wrong time units?)",
        )
    return tr


def line_frequency(levels):
    """``PowerLineFrequency`` of an EEG recording (Hz), checked, or None.

    Parameters
    ----------
    levels : list of (pathlib.Path, dict)
        Its sidecars, nearest first (:func:`read_metadata`).

    Returns
    -------
    frequency : float | None
        Mains frequency in Hz; ``None`` when absent or ``"n/a"``.

    Raises
    ------
    DataFileError
        If the value is not a number between 40 and 70 Hz (mains is 50 or 60).
    """
    return sidecar_number(
        levels,
        "PowerLineFrequency",
        valid=LINE_FREQUENCY_RANGE,
        unit="Hz",
        hint=" (mains is 50 or 60 Hz)",
    )


def load_bold(path):
    """Open a BOLD run's header: a readable, oriented 4D time series.

    Parameters
    ----------
    path : path-like
        The BOLD image.

    Returns
    -------
    img : nibabel.Nifti1Image
        The image (data not read).

    Raises
    ------
    DataFileError
        If nibabel cannot read it, it is not 4D, has fewer than 2 volumes or
        has no spatial orientation (sform and qform codes 0).
    """
    path = Path(path)
    try:
        img = nib.load(path)
        shape = img.shape
    except Exception as err:
        raise DataFileError(path, f"nibabel cannot read this image ({err})") from None
    if len(shape) != 4:
        raise DataFileError(
            path,
            f"expected a 4D BOLD time series, got a {len(shape)}D image "
            f"of shape {shape}",
        )
    if shape[3] < 2:
        raise DataFileError(path, f"only {shape[3]} volume(s); need a time series")
    if int(img.header["sform_code"]) == 0 and int(img.header["qform_code"]) == 0:
        raise DataFileError(
            path,
            "header has no spatial orientation (sform and qform "
            "codes are 0): cannot place MNI coordinates",
        )
    return img


def load_mask(path, img, bold_path):
    """Open a brain mask and check it lies on the BOLD run's grid.

    Parameters
    ----------
    path : path-like
        The mask image.
    img : nibabel.Nifti1Image
        The BOLD run.
    bold_path : path-like
        The BOLD file (named in the error).

    Returns
    -------
    mask_img : nibabel.Nifti1Image

    Raises
    ------
    DataFileError
        If the mask's grid (shape or affine) differs from the BOLD grid.
    """
    mask_img = nib.load(path)
    if mask_img.shape[:3] != img.shape[:3] or not np.allclose(
        mask_img.affine, img.affine, atol=1e-3
    ):
        raise DataFileError(
            path,
            f"brain mask grid {mask_img.shape[:3]} does not match the BOLD grid "
            f"{img.shape[:3]} of {Path(bold_path).name}",
        )
    return mask_img


def read_run_confounds(path, img, bold_path):
    """Read a run's confounds table and check it has one row per volume.

    Parameters
    ----------
    path : path-like
        fMRIPrep confounds TSV.
    img, bold_path
        As in :func:`load_mask`.

    Returns
    -------
    confounds : pandas.DataFrame

    Raises
    ------
    DataFileError
        If the table is unreadable or its row count differs from the volumes.
    """
    confounds = read_confounds(Path(path))
    if len(confounds) != img.shape[3]:
        raise DataFileError(
            path,
            f"has {len(confounds)} rows but {Path(bold_path).name} has "
            f"{img.shape[3]} volumes; confounds must have one row per volume",
        )
    return confounds


def check_fmri(recording):
    """Check one fMRIPrep run: 4D BOLD, mask on the same grid, confounds length.

    Parameters
    ----------
    recording : neuromark.io.Recording
        An fMRI recording with a ``confounds`` companion.

    Returns
    -------
    info : dict
        ``n_volumes``, ``tr`` (s), ``shape`` (3 ints), ``voxel_size_mm``.

    Raises
    ------
    DataFileError
        If the image is unreadable or not 4D, the mask does not match its grid,
        or the confounds table does not have one row per volume.
    """
    path = recording.path
    img = load_bold(path)
    shape = img.shape
    mask = recording.companions.get("mask")
    if mask is not None:
        load_mask(mask, img, path)
    read_run_confounds(recording.companions["confounds"], img, path)
    return {
        "n_volumes": int(shape[3]),
        "tr": repetition_time(img, recording.companions.get("sidecar")),
        "shape": [int(s) for s in shape[:3]],
        "voxel_size_mm": [float(z) for z in img.header.get_zooms()[:3]],
    }


def check_recording(recording):
    """Check a recording's headers (dispatch on modality).

    Parameters
    ----------
    recording : neuromark.io.Recording
        EEG or fMRI recording.

    Returns
    -------
    info : dict
        See :func:`check_eeg` and :func:`check_fmri`.
    """
    if recording.modality == "eeg":
        return check_eeg(recording)
    return check_fmri(recording)
