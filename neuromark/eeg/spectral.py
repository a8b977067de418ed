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

# working memory of one block of Welch segments (complex spectra): a few MB
# stay in cache (x3 faster than 64 MB blocks on a 64-channel recording)
WELCH_BLOCK_BYTES = 4e6


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
    from mne.time_frequency import psd_array_multitaper

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
        psd, freqs = _welch(
            data, sfreq, n_per_seg, int(round(overlap * n_per_seg)), fmin, fmax
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


def _welch(data, sfreq, n_per_seg, n_overlap, fmin, fmax):
    """Welch PSD of every row at once, in blocks of bounded memory.

    The numbers of :func:`scipy.signal.welch` and
    :func:`mne.time_frequency.psd_array_welch` (Hann window, constant detrend
    per segment, one-sided density, mean over segments, ``n_fft =
    n_per_seg``): the segments are strided views of the rows, detrended,
    windowed and transformed by one real FFT per block, and only the kept
    frequencies are squared.
    """
    from numpy.lib.stride_tricks import sliding_window_view
    from scipy.fft import rfft
    from scipy.signal import get_window

    rows = data.reshape(-1, data.shape[-1])
    freqs = np.fft.rfftfreq(n_per_seg, 1.0 / sfreq)
    keep = (freqs >= fmin) & (freqs <= fmax)
    window = get_window("hann", n_per_seg)
    # one-sided density: every bin doubled but 0 Hz and (even n) Nyquist
    scale = np.full(len(freqs), 2.0 / (sfreq * np.sum(window**2)))
    scale[0] /= 2.0
    if n_per_seg % 2 == 0:
        scale[-1] /= 2.0
    step = n_per_seg - n_overlap
    segments = sliding_window_view(rows, n_per_seg, axis=-1)[:, ::step]
    n_segments = segments.shape[1]
    block = max(1, int(WELCH_BLOCK_BYTES // (16 * n_segments * len(freqs))))
    psd = np.empty((len(rows), int(keep.sum())))
    for start in range(0, len(rows), block):
        chunk = segments[start : start + block]
        chunk = (chunk - chunk.mean(axis=-1, keepdims=True)) * window
        spectra = rfft(chunk, axis=-1)[..., keep]
        power = spectra.real**2 + spectra.imag**2
        psd[start : start + block] = power.mean(axis=1) * scale[keep]
    return psd.reshape(data.shape[:-1] + (-1,)), freqs[keep]


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
    """Band power divided by the power in ``total_range`` (a fraction in [0, 1]).

    Parameters
    ----------
    psd : ndarray, shape (..., n_freqs)
        PSD (µV²/Hz).
    freqs : ndarray, shape (n_freqs,)
        Frequencies (Hz).
    fmin, fmax : float
        Band edges (Hz), half-open ``[fmin, fmax)``.
    total_range : (float, float)
        Range of the denominator (Hz).
    """
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

    Parameters
    ----------
    psd : ndarray, shape (..., n_freqs)
        PSD (µV²/Hz).
    freqs : ndarray, shape (n_freqs,)
        Frequencies (Hz).
    fmin, fmax : float
        Closed range ``[fmin, fmax]`` (Hz).
    """
    inside = (freqs >= fmin) & (freqs <= fmax)
    weights = psd[..., inside]
    return (weights * freqs[inside]).sum(axis=-1) / weights.sum(axis=-1)


def _fit_fooof(freqs, psd, freq_range, max_n_peaks, peak_width_limits, mode):
    """Fit one batch of spectra with a FOOOFGroup (runs in a worker)."""
    # fooof 1.1 warns of its rename to specparam and resets the global warning
    # filters on import; record (swallow) both inside this context
    with warnings.catch_warnings(record=True):
        from fooof import FOOOFGroup

    group = FOOOFGroup(
        peak_width_limits=list(peak_width_limits),
        max_n_peaks=max_n_peaks,
        aperiodic_mode=mode,
        verbose=False,
    )
    # the knee model's optimiser tries knees that make log10 undefined: it
    # rejects them itself, numpy need not warn
    with np.errstate(invalid="ignore", divide="ignore"):
        group.fit(freqs, psd, list(freq_range))
    aperiodic = group.get_params("aperiodic_params").reshape(len(psd), -1)
    peaks = np.asarray(group.get_params("peak_params"), dtype=float).reshape(-1, 4)
    return {
        "offset": aperiodic[:, 0],
        "knee": aperiodic[:, 1] if mode == "knee" else np.zeros(len(psd)),
        "exponent": aperiodic[:, -1],
        "r_squared": group.get_params("r_squared").ravel(),
        "error": group.get_params("error").ravel(),
        "peaks": peaks,  # centre (Hz), height (log10 above the fit), width, spectrum
    }


def parameterize(
    psd,
    freqs,
    freq_range,
    *,
    max_n_peaks=6,
    peak_width_limits=(1.0, 8.0),
    aperiodic_mode="fixed",
    n_jobs=1,
):
    """Fit aperiodic (1/f) and periodic components with FOOOF (specparam).

    fooof 1.1 is the released form of the method; its successor specparam
    has only release candidates on PyPI (2.0rc), so neuromark uses fooof's
    stable API (``FOOOFGroup``).

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
    aperiodic_mode : "fixed" | "knee"
        ``log10 P = offset - log10(f ** exponent)`` or, with a bend,
        ``offset - log10(knee + f ** exponent)`` (see :func:`aperiodic_psd`).
    n_jobs : int
        Parallel workers over spectra (fits are independent, so results do
        not depend on it).

    Returns
    -------
    fit : dict
        ``offset``, ``knee`` (0 in fixed mode) and ``exponent`` of the
        aperiodic fit, ``r_squared`` and ``error`` (mean absolute error in
        log10 power) per spectrum, and ``peaks``, shape (n_peaks, 4): centre
        frequency (Hz), height above the aperiodic fit (log10 power),
        bandwidth (Hz) and the index of the spectrum.

    References
    ----------
    Donoghue T et al. (2020) Parameterizing neural power spectra into periodic
    and aperiodic components. Nat Neurosci 23:1655-1665.
    """
    from joblib import Parallel, delayed

    psd = np.atleast_2d(psd)
    n_chunks = min(len(psd), effective_n_jobs(n_jobs))
    options = (max_n_peaks, peak_width_limits, aperiodic_mode)
    if n_chunks <= 1:
        return _fit_fooof(freqs, psd, freq_range, *options)
    chunks = np.array_split(np.arange(len(psd)), n_chunks)
    parts = Parallel(n_jobs=n_chunks)(
        delayed(_fit_fooof)(freqs, psd[rows], freq_range, *options) for rows in chunks
    )
    for rows, part in zip(chunks, parts):
        part["peaks"][:, 3] += rows[0]  # chunk-local to global spectrum index
    return {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}


def fit_aperiodic(psd, freqs, freq_range, **options):
    """Aperiodic fit of :func:`parameterize`: ``offset, exponent, r_squared``.

    Parameters
    ----------
    psd : ndarray, shape (n_spectra, n_freqs)
        PSDs (µV²/Hz).
    freqs : ndarray, shape (n_freqs,)
        Frequencies (Hz).
    freq_range : (float, float)
        Fit range (Hz).
    **options
        Further arguments of :func:`parameterize` (``aperiodic_mode``...).
    """
    fit = parameterize(psd, freqs, freq_range, **options)
    return fit["offset"], fit["exponent"], fit["r_squared"]


def tallest_peak(peaks, n_spectra, fmin, fmax):
    """Centre and height of each spectrum's tallest fitted peak in a range.

    Parameters
    ----------
    peaks : ndarray, shape (n_peaks, 4)
        From :func:`parameterize`.
    n_spectra : int
        Number of spectra fitted.
    fmin, fmax : float
        Range of the centre frequency (Hz), inclusive.

    Returns
    -------
    centre, height : ndarray, shape (n_spectra,)
        NaN and 0 where no peak was fitted in the range.
    """
    centre, height = np.full(n_spectra, np.nan), np.zeros(n_spectra)
    inside = peaks[(peaks[:, 0] >= fmin) & (peaks[:, 0] <= fmax)]
    for cf, pw, _, index in inside:
        k = int(index)
        if pw > height[k]:
            centre[k], height[k] = cf, pw
    return centre, height


def log_standard_error(psd_epochs):
    """Estimate the standard error of log10 of the epoch-averaged PSD.

    Parameters
    ----------
    psd_epochs : ndarray, shape (n_epochs, n_spectra, n_freqs)
        Per-epoch PSDs.

    Returns
    -------
    se : ndarray, shape (n_spectra, n_freqs)
        ``SD_epochs(P) / (sqrt(n_epochs) * mean(P) * ln 10)``; NaN with a
        single epoch. It measures how far the averaged log spectrum wobbles
        by chance, the yardstick of a peak's height.
    """
    n = psd_epochs.shape[0]
    if n < 2:
        return np.full(psd_epochs.shape[1:], np.nan)
    mean = psd_epochs.mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return psd_epochs.std(axis=0, ddof=1) / (np.sqrt(n) * mean * np.log(10))


def flattened_centre_of_gravity(psd, freqs, fmin, fmax, offset, exponent, knee=0.0):
    """Centre of gravity of the power above the aperiodic fit in ``[fmin, fmax]``.

    ``sum(f * E(f)) / sum(E(f))`` with ``E = max(P - A, 0)`` and ``A`` the
    aperiodic fit: the alpha centre of gravity without the 1/f slope, which
    otherwise drags the estimate towards ``fmin`` (Corcoran et al. 2018).

    Parameters
    ----------
    psd : ndarray, shape (n_spectra, n_freqs)
        PSD (µV²/Hz).
    freqs : ndarray, shape (n_freqs,)
        Frequencies (Hz).
    fmin, fmax : float
        Closed range ``[fmin, fmax]`` (Hz).
    offset, exponent, knee : ndarray, shape (n_spectra,) | float
        Aperiodic fit of each spectrum (see :func:`aperiodic_psd`).
    """
    inside = (freqs >= fmin) & (freqs <= fmax)
    excess = np.clip(
        psd[..., inside] - aperiodic_psd(freqs[inside], offset, exponent, knee),
        0,
        None,
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        return (excess * freqs[inside]).sum(axis=-1) / excess.sum(axis=-1)


def aperiodic_psd(freqs, offset, exponent, knee=0.0):
    """Aperiodic component ``10 ** offset / (knee + f ** exponent)`` (µV²/Hz).

    With ``knee = 0`` (FOOOF's fixed mode) a straight line in log-log axes,
    ``10 ** (offset - exponent * log10 f)``.

    Parameters
    ----------
    freqs : ndarray, shape (n_freqs,)
        Frequencies (Hz), above 0.
    offset : ndarray, shape (n_spectra,) | float
        log10 offset.
    exponent : ndarray, shape (n_spectra,) | float
        1/f exponent.
    knee : ndarray, shape (n_spectra,) | float
        Knee parameter (0 in fixed mode).
    """
    freqs = np.asarray(freqs, dtype=float)
    offset = np.asarray(offset)[..., None]
    exponent = np.asarray(exponent)[..., None]
    knee = np.asarray(knee, dtype=float)
    if not knee.any():
        return 10.0 ** (offset - exponent * np.log10(freqs))
    return 10.0**offset / (knee[..., None] + freqs**exponent)


def periodic_power(psd, freqs, fmin, fmax, offset, exponent, knee=0.0):
    """Power above the 1/f fit, in µV² (clipped at 0, so biased upwards).

    ``sum(max(P(f) - A(f), 0)) * df`` over ``[fmin, fmax)`` with ``A`` the
    aperiodic fit. Clipping turns noise into positive power (about 8 % of
    band power on pure 1/f with 30 epochs) that grows with the offset, so the
    pipeline reports :func:`flattened_power` and the fitted peak height
    instead; this stays for scripts that want the linear quantity.

    Parameters
    ----------
    psd : ndarray, shape (n_spectra, n_freqs)
        PSD (µV²/Hz).
    freqs : ndarray, shape (n_freqs,)
        Frequencies (Hz).
    fmin, fmax : float
        Band edges (Hz), half-open.
    offset, exponent, knee : ndarray, shape (n_spectra,) | float
        Aperiodic fit of each spectrum (see :func:`aperiodic_psd`).
    """
    mask = _band_mask(freqs, fmin, fmax)
    background = aperiodic_psd(freqs[mask], offset, exponent, knee)
    excess = np.clip(psd[..., mask] - background, 0.0, None)
    return excess.sum(axis=-1) * (freqs[1] - freqs[0])


def flattened_power(psd, freqs, fmin, fmax, offset, exponent, knee=0.0):
    """Mean of the spectrum above the aperiodic fit over a band, in log10 units.

    ``mean(log10 P(f) - log10 A(f))`` over ``[fmin, fmax)``, not clipped:
    on a spectrum without a rhythm it scatters around 0 instead of being
    biased upwards like clipped power above the fit, and it does not scale
    with the aperiodic offset.

    Parameters
    ----------
    psd, freqs, fmin, fmax, offset, exponent, knee
        As in :func:`periodic_power`.
    """
    mask = _band_mask(freqs, fmin, fmax)
    background = aperiodic_psd(freqs[mask], offset, exponent, knee)
    with np.errstate(divide="ignore"):
        return np.mean(np.log10(psd[..., mask]) - np.log10(background), axis=-1)


def asymmetry(power_right, power_left):
    """Asymmetry index ``ln(P_right) - ln(P_left)`` (Allen et al. 2004).

    Parameters
    ----------
    power_right, power_left : ndarray | float
        Band power (µV²) of the right and left channel of each pair.
    """
    return np.log(power_right) - np.log(power_left)
