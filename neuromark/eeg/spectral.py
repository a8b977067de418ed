"""Spectral markers from power spectra: band power, PAF, aperiodic, asymmetry.

All functions work on arrays: a power spectral density ``psd`` of shape
``(..., n_freqs)`` in µV²/Hz on the frequency grid ``freqs`` (Hz). Bands are
half-open ``[fmin, fmax)`` so adjacent bands never count a bin twice; band
power is the rectangle-rule integral ``sum(psd[band]) * df`` in µV².
"""

import warnings

import numpy as np
from joblib import effective_n_jobs

from ..exceptions import NeuromarkError


def psd_array(
    data,
    sfreq,
    *,
    method="welch",
    window_seconds=2.0,
    overlap=0.5,
    fmin=0.0,
    fmax=np.inf,
    average=True,
    scaling=1e6,
):
    """Power spectral density of epochs in µV²/Hz (averaged over epochs by default).

    Parameters
    ----------
    data : ndarray, shape (n_epochs, n_channels, n_times)
        EEG in volts.
    sfreq : float
        Sampling rate (Hz).
    method : "welch" | "multitaper"
        Welch's method with Hann windows (``scipy.signal.welch`` with
        ``detrend="constant"``), or DPSS multitaper
        (:func:`mne.time_frequency.psd_array_multitaper`, adaptive off).
    window_seconds : float
        Welch segment length (s).
    overlap : float
        Welch segment overlap (fraction of a segment).
    fmin, fmax : float
        Frequency range kept (Hz).
    average : bool
        Average over epochs (one spectrum per channel) or keep each epoch's.
    scaling : float
        Factor applied to ``data`` before squaring (1e6: volts to µV).

    Returns
    -------
    psd : ndarray, shape (n_channels, n_freqs) or (n_epochs, n_channels, n_freqs)
        PSD (µV²/Hz with the default scaling), averaged over epochs if ``average``.
    freqs : ndarray, shape (n_freqs,)
        Frequencies (Hz).
    """
    from mne.time_frequency import psd_array_multitaper, psd_array_welch

    data = np.asarray(data, dtype=float)
    if data.ndim != 3:
        raise ValueError(
            f"data must be (n_epochs, n_channels, n_times), got {data.shape}"
        )
    if method == "welch":
        n_per_seg = int(round(window_seconds * sfreq))
        if n_per_seg > data.shape[-1]:
            raise ValueError(
                f"Welch window of {window_seconds} s ({n_per_seg} samples) is longer "
                f"than an epoch ({data.shape[-1]} samples)"
            )
        psd, freqs = psd_array_welch(
            data,
            sfreq,
            fmin=fmin,
            fmax=fmax,
            n_fft=n_per_seg,
            n_per_seg=n_per_seg,
            n_overlap=int(round(overlap * n_per_seg)),
            window="hann",
            verbose="error",
        )
    elif method == "multitaper":
        psd, freqs = psd_array_multitaper(
            data,
            sfreq,
            fmin=fmin,
            fmax=fmax,
            adaptive=False,
            normalization="full",
            verbose="error",
        )
    else:
        raise ValueError(f"method must be 'welch' or 'multitaper', got {method!r}")
    psd = psd * scaling**2
    return (psd.mean(axis=0) if average else psd), freqs


def _band_mask(freqs, fmin, fmax):
    mask = (freqs >= fmin) & (freqs < fmax)
    if not mask.any():
        raise NeuromarkError(
            f"no frequency bin in [{fmin}, {fmax}) Hz on a grid of resolution "
            f"{freqs[1] - freqs[0]:.3g} Hz from {freqs[0]:g} to {freqs[-1]:g} Hz"
        )
    return mask


def band_power(psd, freqs, fmin, fmax):
    """Absolute power in ``[fmin, fmax)``: the PSD integrated over the band.

    Parameters
    ----------
    psd : ndarray, shape (..., n_freqs)
        PSD (µV²/Hz) on a uniform grid.
    freqs : ndarray, shape (n_freqs,)
        Frequencies (Hz).
    fmin, fmax : float
        Band edges (Hz).

    Returns
    -------
    power : ndarray, shape (...)
        Band power (µV²).
    """
    df = freqs[1] - freqs[0]
    return psd[..., _band_mask(freqs, fmin, fmax)].sum(axis=-1) * df


def relative_power(psd, freqs, fmin, fmax, total_range):
    """Band power divided by the power in ``total_range`` (a fraction in [0, 1])."""
    return band_power(psd, freqs, fmin, fmax) / band_power(psd, freqs, *total_range)


def peak_frequency(psd, freqs, fmin, fmax):
    """Frequency of the largest PSD value in ``[fmin, fmax]``, refined by a parabola.

    The three bins around the maximum are fitted by a parabola in log power,
    whose vertex gives a sub-bin estimate; a maximum on the range edge is
    returned as is (no peak inside the range).

    Parameters
    ----------
    psd : ndarray, shape (..., n_freqs)
        PSD.
    freqs : ndarray, shape (n_freqs,)
        Frequencies (Hz).
    fmin, fmax : float
        Search range (Hz).

    Returns
    -------
    peak : ndarray, shape (...)
        Peak frequency (Hz).
    """
    inside = np.flatnonzero((freqs >= fmin) & (freqs <= fmax))
    log_psd = np.log(np.maximum(psd[..., inside], np.finfo(float).tiny))
    index = np.argmax(log_psd, axis=-1)
    df = freqs[1] - freqs[0]
    peak = freqs[inside][index].astype(float)
    interior = (index > 0) & (index < inside.size - 1)
    safe = np.clip(index, 1, inside.size - 2)
    left = np.take_along_axis(log_psd, (safe - 1)[..., None], -1)[..., 0]
    centre = np.take_along_axis(log_psd, safe[..., None], -1)[..., 0]
    right = np.take_along_axis(log_psd, (safe + 1)[..., None], -1)[..., 0]
    curvature = left - 2 * centre + right
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(curvature < 0, 0.5 * (left - right) / curvature, 0.0)
    return np.where(interior, peak + shift * df, peak)


def centre_of_gravity(psd, freqs, fmin, fmax):
    """Power-weighted mean frequency in ``[fmin, fmax]`` (Hz).

    The alpha centre of gravity, ``sum(f * P(f)) / sum(P(f))``, is the peak alpha
    frequency estimate of Klimesch (1999) and Furman et al. (2018).
    """
    inside = (freqs >= fmin) & (freqs <= fmax)
    weights = psd[..., inside]
    return (weights * freqs[inside]).sum(axis=-1) / weights.sum(axis=-1)


def _fit_fooof(freqs, psd, freq_range, max_n_peaks, peak_width_limits):
    """Fit one batch of spectra with a FOOOFGroup (runs in a worker)."""
    # fooof 1.1 warns of its rename to specparam and resets the global warning
    # filters on import; record (swallow) both inside this context
    with warnings.catch_warnings(record=True):
        from fooof import FOOOFGroup

    group = FOOOFGroup(
        peak_width_limits=list(peak_width_limits),
        max_n_peaks=max_n_peaks,
        aperiodic_mode="fixed",
        verbose=False,
    )
    group.fit(freqs, psd, list(freq_range))
    aperiodic = group.get_params("aperiodic_params").reshape(-1, 2)
    return aperiodic[:, 0], aperiodic[:, 1], group.get_params("r_squared").ravel()


def fit_aperiodic(
    psd, freqs, freq_range, *, max_n_peaks=6, peak_width_limits=(1.0, 8.0), n_jobs=1
):
    """Fit aperiodic (1/f) and periodic components with FOOOF (specparam).

    Parameters
    ----------
    psd : ndarray, shape (n_spectra, n_freqs)
        PSDs (µV²/Hz).
    freqs : ndarray, shape (n_freqs,)
        Frequencies (Hz).
    freq_range : (float, float)
        Fit range (Hz).
    max_n_peaks : int
        Most Gaussian peaks fitted per spectrum.
    peak_width_limits : (float, float)
        Peak width bounds (Hz).
    n_jobs : int
        Parallel workers over spectra (fits are independent, so results do
        not depend on it).

    Returns
    -------
    offset, exponent : ndarray, shape (n_spectra,)
        Aperiodic fit ``log10 P(f) = offset - exponent * log10 f`` (offset in
        log10 µV²/Hz).
    r_squared : ndarray, shape (n_spectra,)
        Goodness of fit of the full model.

    References
    ----------
    Donoghue T et al. (2020) Parameterizing neural power spectra into periodic
    and aperiodic components. Nat Neurosci 23:1655-1665.
    """
    from joblib import Parallel, delayed

    psd = np.atleast_2d(psd)
    n_chunks = min(len(psd), effective_n_jobs(n_jobs))
    if n_chunks <= 1:
        return _fit_fooof(freqs, psd, freq_range, max_n_peaks, peak_width_limits)
    parts = Parallel(n_jobs=n_chunks)(
        delayed(_fit_fooof)(freqs, chunk, freq_range, max_n_peaks, peak_width_limits)
        for chunk in np.array_split(psd, n_chunks)
    )
    return tuple(np.concatenate(values) for values in zip(*parts))


def aperiodic_psd(freqs, offset, exponent):
    """Aperiodic component ``10 ** (offset - exponent * log10 f)`` (µV²/Hz)."""
    freqs = np.asarray(freqs, dtype=float)
    return 10.0 ** (
        np.asarray(offset)[..., None]
        - np.asarray(exponent)[..., None] * np.log10(freqs)
    )


def periodic_power(psd, freqs, fmin, fmax, offset, exponent):
    """Aperiodic-corrected band power: power above the 1/f fit, in µV².

    ``sum(max(P(f) - A(f), 0)) * df`` over ``[fmin, fmax)`` with ``A`` the
    aperiodic fit; a band with no oscillation above the 1/f background gives 0.
    """
    mask = _band_mask(freqs, fmin, fmax)
    background = aperiodic_psd(freqs[mask], offset, exponent)
    excess = np.clip(psd[..., mask] - background, 0.0, None)
    return excess.sum(axis=-1) * (freqs[1] - freqs[0])


def asymmetry(power_right, power_left):
    """Asymmetry index ``ln(P_right) - ln(P_left)`` (Allen et al. 2004)."""
    return np.log(power_right) - np.log(power_left)
