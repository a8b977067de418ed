"""Preprocess a resting EEG recording into clean fixed-length epochs.

Steps, each configurable in :class:`~neuromark.eeg.settings.PreprocessingSettings`
and recorded in the returned QC: EEG channel selection and NaN check, montage,
resampling, band-pass and notch filtering, bad-channel detection (flat,
robust deviation, low correlation; Bigdely-Shamlo et al. 2015) with
spherical-spline interpolation, re-referencing, removal of eye and muscle
components (ICA + ICLabel, :mod:`neuromark.eeg.artifacts`), fixed-length
epochs and peak-to-peak rejection at a data-driven threshold (autoreject),
and a minimum amount of clean data.
"""

from pathlib import Path

import numpy as np

from ..exceptions import DataFileError
from ..io.checks import MIN_EEG_CHANNELS
from ..utils._logging import logger
from .artifacts import (
    component_maps,
    ica_skip_reason,
    rejection_threshold,
    remove_ocular_muscle,
)
from .channels import standardize_channels
from .filtering import filter_band_and_notch

UV = 1e-6


def _source(raw):
    filenames = [f for f in (raw.filenames or []) if f is not None]
    return Path(filenames[0]) if filenames else Path("<in-memory Raw>")


def _set_montage(raw, montage):
    import mne

    positions = np.array([ch["loc"][:3] for ch in raw.info["chs"]])
    if np.isfinite(positions).all() and np.any(positions != 0):
        return "from file"
    known = set(mne.channels.make_standard_montage(montage).ch_names)
    unknown = [ch for ch in raw.ch_names if ch not in known]
    if unknown:
        raise DataFileError(
            _source(raw),
            f"channel(s) {unknown} are not in the {montage!r} montage; rename them to "
            "10-20 names or set eeg.preprocessing.montage",
        )
    raw.set_montage(montage, verbose="error")
    return montage


MIN_LOG_AMPLITUDE_SCALE = 0.15


def channel_amplitude(data, sfreq):
    """Robust amplitude per channel: median over 1-s windows of the window SD.

    Transients (blinks, movement) raise a few windows only, so they do not make
    a good channel look noisy.

    Parameters
    ----------
    data : ndarray, shape (n_channels, n_times)
        EEG (V).
    sfreq : float
        Sampling rate (Hz); windows are 1 s long.
    """
    window = max(int(round(sfreq)), 2)
    n_windows = data.shape[1] // window
    if n_windows == 0:
        return np.std(data, axis=1)
    windows = data[:, : n_windows * window].reshape(data.shape[0], n_windows, window)
    return np.median(windows.std(axis=-1), axis=1)


def find_bad_channels(data, ch_names, settings, sfreq):
    """Detect flat, noisy and uncorrelated channels.

    Parameters
    ----------
    data : ndarray, shape (n_channels, n_times)
        Filtered EEG (V).
    ch_names : list of str
        Channel names.
    settings : BadChannelSettings
        Thresholds.
    sfreq : float
        Sampling rate (Hz).

    Returns
    -------
    bads : dict of str to str
        Bad channel to the criterion that flagged it (``"nan"``, ``"flat"``,
        ``"deviation"`` or ``"correlation"``), in channel order.

    Notes
    -----
    *Deviation*: robust z-score of the log robust amplitude (see
    :func:`channel_amplitude`) across channels, with the robust scale
    (1.4826 x MAD) floored at 0.15 (a 15 % amplitude spread); a deviant
    channel is bad only if its amplitude is not shared with any other channel
    (highest absolute correlation below ``deviation_max_correlation``), so
    strong posterior alpha is not mistaken for noise.
    *Correlation*: the highest absolute correlation of a channel with any
    other channel. Both follow the PREP pipeline (Bigdely-Shamlo et al. 2015,
    Front Neuroinform 9:16).
    """
    bads = {}
    finite = np.isfinite(data).all(axis=1)
    usable = data if finite.all() else np.nan_to_num(data)
    amplitude = np.where(finite, channel_amplitude(usable, sfreq), 0.0)
    for k, name in enumerate(ch_names):
        if not finite[k]:
            bads[name] = "nan"
        elif np.std(data[k]) < settings.flat_uv * UV:
            bads[name] = "flat"
    good = np.array([name not in bads for name in ch_names])
    if good.sum() < 3:
        return bads
    log_amp = np.log(amplitude[good])
    centre = np.median(log_amp)
    scale = max(1.4826 * np.median(np.abs(log_amp - centre)), MIN_LOG_AMPLITUDE_SCALE)
    z = (log_amp - centre) / scale
    corr = np.abs(np.corrcoef(data if good.all() else data[good]))
    np.fill_diagonal(corr, 0.0)
    for name, z_k, c_k in zip(np.asarray(ch_names)[good], z, corr.max(axis=1)):
        if abs(z_k) > settings.deviation_z and c_k < settings.deviation_max_correlation:
            bads[str(name)] = "deviation"
        elif c_k < settings.min_correlation:
            bads[str(name)] = "correlation"
    return {name: bads[name] for name in ch_names if name in bads}


def preprocess(raw, settings, *, line_freq=None):
    """Preprocess a resting recording into clean epochs.

    Parameters
    ----------
    raw : mne.io.BaseRaw
        The recording (loaded here if needed; not modified).
    settings : PreprocessingSettings
        What to do.
    line_freq : float | None
        Mains frequency (Hz) for ``notch="auto"``; ``None`` skips the notch.

    Returns
    -------
    epochs : mne.Epochs
        Clean epochs, EEG channels only.
    qc : dict
        ``sfreq`` (after resampling), ``recorded_sfreq``, ``n_channels``,
        ``channels`` (EEG channel names), ``bad_channels`` (name: criterion, where
        ``channels.tsv`` marks those the lab declared bad), ``notch_hz`` (and
        ``notch_missing_reason`` when the mains frequency is unknown),
        ``reference``, ``montage``, the artefact removal (``ica``: "applied"
        or why not, ``ica_n_components``, ``ica_removed``,
        ``ica_label_counts``, ``ica_components``: the removed components'
        scalp maps as a table, ``muscle_seconds``; ``ptp_threshold_uv`` and
        its ``ptp_threshold_source``), ``n_epochs`` (kept),
        ``n_epochs_rejected`` (peak-to-peak), ``n_epochs_bad_annotation``
        (overlapping ``BAD_`` annotations), ``clean_seconds`` and the
        channel names and types (``channels_renamed``, ``non_eeg_channels``
        typed by the file, ``channels.tsv`` or their name, and
        ``channels_not_in_montage``).

    Raises
    ------
    DataFileError
        If every channel is unusable, too many channels are bad, the
        recording is shorter than one epoch, or too little clean data remains.
    """
    import mne

    source = _source(raw)
    raw = raw.copy()
    channels = standardize_channels(
        raw,
        mne.channels.make_standard_montage(settings.montage).ch_names,
        rename=settings.rename_channels,
        source=source,
    )
    non_eeg = {
        ch: kind
        for ch, kind in zip(raw.ch_names, raw.get_channel_types())
        if kind != "eeg"
    }
    if non_eeg:  # picking copies the data: only when something goes
        raw.pick("eeg")
    if len(raw.ch_names) < MIN_EEG_CHANNELS:
        raise DataFileError(
            source,
            f"{len(raw.ch_names)} EEG channel(s) after typing EOG/ECG/EMG and "
            f"off-montage channels; at least {MIN_EEG_CHANNELS} are needed",
        )
    # bad channels declared by the lab (channels.tsv status=bad, via mne-bids)
    declared = dict.fromkeys(raw.info["bads"], "channels.tsv")
    raw.info["bads"] = []
    raw.load_data(verbose="error")
    # per-channel finiteness; no full copy of the data is kept alive
    finite = np.isfinite(raw.get_data()).all(axis=1)
    if not finite.any() and not np.isfinite(raw.get_data()).any():
        raise DataFileError(source, "every EEG sample is NaN or infinite")
    duration = raw.n_times / raw.info["sfreq"]
    if duration < settings.epoch_length:
        raise DataFileError(
            source,
            f"recording of {duration:.1f} s is shorter than one "
            f"{settings.epoch_length:g} s epoch",
        )
    nan_channels = [ch for ch, ok in zip(raw.ch_names, finite) if not ok]
    if nan_channels:  # zero them so filters run; they are interpolated below
        raw.apply_function(
            lambda x: np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0),
            picks=nan_channels,
        )
    montage = _set_montage(raw, settings.montage)
    recorded_sfreq = float(raw.info["sfreq"])
    if settings.resample_sfreq is not None:
        raw.resample(settings.resample_sfreq, verbose="error")
    sfreq = raw.info["sfreq"]
    ica_reason = ica_skip_reason(raw, settings.artifacts)
    # ICA and ICLabel see 1-100 Hz: a copy taken before the analysis band-pass
    broad = raw.copy() if not ica_reason else None
    if settings.h_freq is not None and settings.h_freq >= sfreq / 2:
        raise DataFileError(
            source,
            f"low-pass edge {settings.h_freq} Hz is not below the Nyquist "
            f"frequency ({sfreq / 2} Hz) of this {sfreq} Hz recording",
        )
    notch = (
        line_freq
        if settings.notch == "auto"
        else (None if settings.notch == "off" else float(settings.notch))
    )
    notch_hz, notch_reason = [], ""
    if settings.notch == "auto" and line_freq is None:
        notch_reason = (
            "mains frequency unknown (PowerLineFrequency absent or n/a in the "
            "sidecar): no notch filter; set eeg.preprocessing.notch to 50 or 60"
        )
        logger.warning("%s: %s", source.name, notch_reason)
    if notch:
        notch_hz = np.arange(notch, sfreq / 2, notch).tolist()
    filter_band_and_notch(raw, settings.l_freq, settings.h_freq, notch_hz)

    bads = dict(declared)
    if settings.bad_channels.detect:
        detected = find_bad_channels(
            raw.get_data(), raw.ch_names, settings.bad_channels, sfreq
        )
        bads = declared | {ch: why for ch, why in detected.items() if ch not in bads}
        for name in nan_channels:
            bads.setdefault(name, "nan")
        fraction = len(bads) / len(raw.ch_names)
        if fraction > settings.bad_channels.max_fraction:
            raise DataFileError(
                source,
                f"{len(bads)} of {len(raw.ch_names)} channels are bad "
                f"({dict(bads)}); more than the allowed "
                f"{settings.bad_channels.max_fraction:.0%}",
            )
    elif nan_channels:
        raise DataFileError(
            source,
            f"channel(s) {nan_channels} contain NaN and bad-channel detection is off",
        )
    for target in (raw, broad) if broad is not None else (raw,):
        if bads:
            target.info["bads"] = list(bads)
            target.interpolate_bads(reset_bads=True, verbose="error")
        if settings.reference == "average":
            target.set_eeg_reference("average", projection=False, verbose="error")
        elif settings.reference:
            target.set_eeg_reference(list(settings.reference), verbose="error")
    if broad is not None:
        if settings.reference != "average":  # ICLabel's input is average-referenced
            broad.set_eeg_reference("average", projection=False, verbose="error")
        artifacts = remove_ocular_muscle(
            broad, raw, settings.artifacts, notch_hz=notch_hz
        )
        del broad
    else:
        artifacts = {
            "ica": ica_reason,
            "ica_n_components": 0,
            "ica_removed": [],
            "ica_label_counts": {},
            "ica_components": component_maps(raw.ch_names, [], [], [], []),
        }
        if settings.artifacts.ica:
            logger.info("%s: ICA %s", source.name, ica_reason)

    epochs = mne.make_fixed_length_epochs(
        raw, duration=settings.epoch_length, preload=True, verbose="error"
    )
    # segments overlapping BAD_ annotations are dropped when the epochs are made
    n_segments = len(epochs.drop_log)
    n_annotated = n_segments - len(epochs)
    n_total = len(epochs)
    threshold, threshold_source = rejection_threshold(
        epochs, settings.artifacts, settings.reject_ptp_uv, n_channels=len(raw.ch_names)
    )
    if threshold is not None:
        epochs.drop_bad(reject={"eeg": threshold}, verbose="error")
    threshold_uv = None if threshold is None else round(threshold / UV, 1)
    clean_seconds = len(epochs) * settings.epoch_length
    if clean_seconds < settings.min_clean_seconds or len(epochs) == 0:
        raise DataFileError(
            source,
            f"only {clean_seconds:g} s of clean data ({len(epochs)} of {n_segments} "
            f"epochs kept: {n_annotated} in BAD_ annotations, "
            f"{n_total - len(epochs)} over {threshold_uv} µV "
            f"peak-to-peak, {threshold_source} threshold); minimum is "
            f"{settings.min_clean_seconds:g} s",
        )
    qc = {
        "sfreq": float(sfreq),
        "recorded_sfreq": recorded_sfreq,
        "n_channels": len(raw.ch_names),
        "channels": list(raw.ch_names),
        "bad_channels": bads,
        "notch_hz": notch_hz,
        "notch_missing_reason": notch_reason,
        "reference": settings.reference,
        "montage": montage,
        **artifacts,
        "ptp_threshold_uv": threshold_uv,
        "ptp_threshold_source": threshold_source,
        "n_epochs": len(epochs),
        "n_epochs_rejected": n_total - len(epochs),
        "n_epochs_bad_annotation": n_annotated,
        "clean_seconds": clean_seconds,
        "channels_renamed": channels["renamed"],
        "non_eeg_channels": non_eeg,
        "channels_not_in_montage": channels["not_in_montage"],
    }
    logger.debug("%s: %s", source.name, qc)
    return epochs, qc


def check_epochs(epochs, settings):
    """Accept epochs a user cleaned with their own pipeline, with checks.

    The epochs are analysed as they are: no filtering, re-referencing, ICA or
    rejection is added. Channels marked bad in ``epochs.info["bads"]`` and
    non-EEG channels are left out.

    Parameters
    ----------
    epochs : mne.BaseEpochs
        Clean epochs (V).
    settings : PreprocessingSettings
        ``min_clean_seconds`` is enforced.

    Returns
    -------
    epochs : mne.BaseEpochs
        A copy with the usable EEG channels.
    qc : dict
        The keys :func:`preprocess` returns, describing the given epochs
        (``preprocessing`` says they were given).

    Raises
    ------
    DataFileError
        If no EEG channel is usable, a value is not finite or the epochs hold
        less clean data than ``settings.min_clean_seconds``.
    """
    source = Path(epochs.filename) if epochs.filename else Path("<mne.Epochs>")
    bads = dict.fromkeys(epochs.info["bads"], "given")
    epochs = epochs.copy().load_data().pick("eeg", exclude="bads")
    if not epochs.ch_names:
        raise DataFileError(source, "no usable EEG channel in the epochs")
    data = epochs.get_data(copy=False)
    if not np.isfinite(data).all():
        raise DataFileError(source, "the epochs contain NaN or infinite values")
    length = data.shape[-1] / epochs.info["sfreq"]
    clean_seconds = len(epochs) * length
    if clean_seconds < settings.min_clean_seconds:
        raise DataFileError(
            source,
            f"only {clean_seconds:g} s of epochs ({len(epochs)} of {length:g} s); "
            f"minimum is {settings.min_clean_seconds:g} s",
        )
    qc = {
        "preprocessing": "none: epochs given, analysed as they are",
        "sfreq": float(epochs.info["sfreq"]),
        "recorded_sfreq": float(epochs.info["sfreq"]),
        "n_channels": len(epochs.ch_names),
        "channels": list(epochs.ch_names),
        "bad_channels": bads,
        "ica": "not run: epochs given",
        "ica_n_components": 0,
        "ica_removed": [],
        "ica_label_counts": {},
        "ica_components": component_maps(epochs.ch_names, [], [], [], []),
        "n_epochs": len(epochs),
        "clean_seconds": clean_seconds,
    }
    return epochs, qc
