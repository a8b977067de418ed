"""Simulated resting EEG with known spectral parameters.

The model, per channel ``c`` (all amplitudes in µV):

* aperiodic background: independent sources with power spectrum
  ``1 / f ** exponent`` (above 1 Hz), mixed across channels by a Gaussian
  kernel of inter-electrode distance (volume conduction);
* posterior alpha: one narrow-band source centred on the peak alpha frequency
  (PAF), spread with an occipital topography;
* frontal alpha: a second narrow-band source at the PAF, frontal topography;
* beta: two narrow-band sources at 20 Hz over left and right central cortex;
* line noise at the site's mains frequency, eye blinks on frontal channels,
  muscle bursts on temporal channels, and optionally noisy channels;
* a gain per electrode (log-normal, 10 %), as contact quality varies.

Narrow-band sources are white noise shaped by a Gaussian in frequency, so the
rhythm waxes and wanes as real alpha does and its power is known exactly.
"""

import numpy as np

CHANNELS = (
    "Fp1",
    "Fp2",
    "AF3",
    "AF4",
    "F7",
    "F3",
    "Fz",
    "F4",
    "F8",
    "FC5",
    "FC1",
    "FCz",
    "FC2",
    "FC6",
    "T7",
    "C3",
    "Cz",
    "C4",
    "T8",
    "CP5",
    "CP1",
    "CP2",
    "CP6",
    "P7",
    "P3",
    "Pz",
    "P4",
    "P8",
    "POz",
    "O1",
    "Oz",
    "O2",
)
MONTAGE = "colin27_1020"

BACKGROUND_RMS_UV = 8.0
ALPHA_RMS_UV = 10.0
FRONTAL_ALPHA_RMS_UV = 4.0
BETA_RMS_UV = 2.5
BETA_CENTER_HZ = 20.0
BETA_SD_HZ = 3.0
ALPHA_SD_HZ = 0.6
LINE_RMS_UV = 1.5
BLINK_PEAK_UV = 120.0
BLINK_RATE_HZ = 0.05  # eyes-closed rest: a few blinks per minute
MUSCLE_RMS_UV = 12.0
NOISY_CHANNEL_RMS_UV = 40.0
VOLUME_CONDUCTION_M = 0.05  # width of the Gaussian mixing kernel of the background
ELECTRODE_GAIN_SD = 0.1  # log-normal spread of electrode gains (impedance, contact)
# plan keys of the realistic preset that are arguments of simulate_eeg_data
REALISTIC_KEYS = (
    "coupling",
    "coupling_lag_s",
    "blink_rate_hz",
    "muscle_bursts_per_min",
    "movement_per_min",
)


def channel_positions(channels=CHANNELS, montage=MONTAGE):
    """Return electrode positions (m, head coordinates) from an MNE montage.

    Parameters
    ----------
    channels : sequence of str
        Channel names present in the montage.
    montage : str
        Name of a built-in MNE montage.

    Returns
    -------
    positions : ndarray, shape (n_channels, 3)
        Cartesian positions in metres.
    """
    import mne

    ch_pos = mne.channels.make_standard_montage(montage).get_positions()["ch_pos"]
    return np.array([ch_pos[ch] for ch in channels])


def _topography(positions, centres, width_m):
    """Gaussian spatial pattern around the mean position of ``centres`` (max 1)."""
    distance = np.linalg.norm(positions - centres.mean(axis=0), axis=1)
    pattern = np.exp(-(distance**2) / (2 * width_m**2))
    return pattern / pattern.max()


def _shaped_noise(rng, n_signals, n_times, sfreq, amplitude):
    """White noise shaped by ``amplitude(freqs)`` and scaled to unit RMS."""
    freqs = np.fft.rfftfreq(n_times, 1.0 / sfreq)
    spectrum = rng.standard_normal((n_signals, freqs.size)) + 1j * rng.standard_normal(
        (n_signals, freqs.size)
    )
    spectrum *= amplitude(freqs)
    spectrum[:, 0] = 0.0
    signal = np.fft.irfft(spectrum, n=n_times, axis=-1)
    return signal / signal.std(axis=-1, keepdims=True)


def aperiodic_noise(rng, n_signals, n_times, sfreq, exponent):
    """Unit-RMS noise whose power spectrum is ``1 / f ** exponent`` above 1 Hz.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random generator.
    n_signals, n_times : int
        Output shape.
    sfreq : float
        Sampling rate (Hz).
    exponent : float
        Aperiodic exponent (slope of the log-log power spectrum, sign flipped).

    Returns
    -------
    noise : ndarray, shape (n_signals, n_times)
    """
    return _shaped_noise(
        rng,
        n_signals,
        n_times,
        sfreq,
        lambda f: np.maximum(f, 1.0) ** (-exponent / 2.0),
    )


def narrowband_noise(rng, n_signals, n_times, sfreq, centre, sd):
    """Unit-RMS rhythm: white noise shaped by a Gaussian of ``sd`` Hz at ``centre``.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random generator.
    n_signals, n_times : int
        Output shape.
    sfreq : float
        Sampling rate (Hz).
    centre, sd : float
        Centre frequency and spectral width (Hz) of the power spectrum peak.

    Returns
    -------
    noise : ndarray, shape (n_signals, n_times)
    """
    # amplitude is the square root of the Gaussian power profile
    return _shaped_noise(
        rng,
        n_signals,
        n_times,
        sfreq,
        lambda f: np.exp(-((f - centre) ** 2) / (4.0 * sd**2)),
    )


def simulate_eeg_data(
    rng,
    *,
    sfreq,
    duration,
    paf,
    exponent,
    alpha_gain=1.0,
    frontal_alpha_gain=1.0,
    beta_gain=1.0,
    line_freq=50.0,
    noisy_channels=(),
    artifacts=True,
    channels=CHANNELS,
    coupling=0.0,
    coupling_lag_s=0.015,
    blink_rate_hz=None,
    muscle_bursts_per_min=None,
    movement_per_min=0.0,
):
    """Simulate resting EEG data with known spectral parameters.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random generator (the only source of randomness).
    sfreq : float
        Sampling rate (Hz).
    duration : float
        Length (s).
    paf : float
        Peak alpha frequency (Hz) of both alpha sources.
    exponent : float
        Aperiodic exponent of the background.
    alpha_gain, frontal_alpha_gain, beta_gain : float
        Amplitude multipliers of the posterior alpha, frontal alpha and
        central beta rhythms (1 = typical amplitude).
    line_freq : float
        Mains frequency (Hz).
    noisy_channels : sequence of str
        Channels given extra broadband noise (bad channels to detect).
    artifacts : bool
        Add blinks and muscle bursts.
    channels : sequence of str
        10-20/10-10 channel names (must include Fp1, Fp2, Fz, F3, F4, C3, C4,
        T7, T8, O1, Oz and O2, which anchor the topographies).
    coupling : float
        Share (0-1) of the frontal alpha source's variance that is a copy of
        the posterior alpha source delayed by ``coupling_lag_s``: lagged,
        non-zero-phase coupling that volume conduction cannot produce.
    coupling_lag_s : float
        Delay of that copy (s).
    blink_rate_hz : float | None
        Blinks per second (``None``: eyes-closed rate of 0.05 Hz).
    muscle_bursts_per_min : float | None
        Rate of 1-s temporal muscle bursts (``None``: exactly two bursts).
    movement_per_min : float
        Rate of 1-4 s movement artefacts: slow deflections of 150-400 µV with
        a random topography, which peak-to-peak rejection removes.

    Returns
    -------
    data : ndarray, shape (n_channels, n_times)
        EEG in volts, in the order of ``channels``.
    components : dict of str to ndarray, shape (n_channels, n_times)
        Each additive component in µV (``aperiodic``, ``alpha``,
        ``frontal_alpha``, ``beta``, ``line``, ``artifacts``), so tests can
        check any measure against the component that produced it.
    """
    if sfreq < 2 * max(line_freq, BETA_CENTER_HZ + 3 * BETA_SD_HZ):
        raise ValueError(
            f"sfreq={sfreq} Hz is too low to simulate {line_freq} Hz line noise"
        )
    n_times = int(round(duration * sfreq))
    channels = list(channels)
    positions = channel_positions(channels)
    names = np.array(channels)
    n_channels = len(channels)

    def at(*channels):
        return positions[np.isin(names, channels)]

    # aperiodic background mixed by volume conduction (rows of unit norm keep RMS)
    distance = np.linalg.norm(positions[:, None] - positions[None], axis=-1)
    mixing = np.exp(-(distance**2) / (2 * VOLUME_CONDUCTION_M**2))
    mixing /= np.linalg.norm(mixing, axis=1, keepdims=True)
    aperiodic = (
        BACKGROUND_RMS_UV
        * mixing
        @ aperiodic_noise(rng, n_channels, n_times, sfreq, exponent)
    )

    occipital = _topography(positions, at("O1", "Oz", "O2"), 0.05)
    frontal = _topography(positions, at("Fz", "F3", "F4"), 0.04)
    central_l = _topography(positions, at("C3"), 0.035)
    central_r = _topography(positions, at("C4"), 0.035)

    alpha_sources = narrowband_noise(rng, 2, n_times, sfreq, paf, ALPHA_SD_HZ)
    if coupling > 0:
        lagged = np.roll(alpha_sources[0], int(round(coupling_lag_s * sfreq)))
        mixed = np.sqrt(coupling) * lagged + np.sqrt(1 - coupling) * alpha_sources[1]
        alpha_sources[1] = mixed / mixed.std()
    beta_sources = narrowband_noise(rng, 2, n_times, sfreq, BETA_CENTER_HZ, BETA_SD_HZ)
    alpha = ALPHA_RMS_UV * alpha_gain * np.outer(occipital, alpha_sources[0])
    frontal_alpha = (
        FRONTAL_ALPHA_RMS_UV * frontal_alpha_gain * np.outer(frontal, alpha_sources[1])
    )
    beta = (
        BETA_RMS_UV
        * beta_gain
        * (np.outer(central_l, beta_sources[0]) + np.outer(central_r, beta_sources[1]))
    )

    times = np.arange(n_times) / sfreq
    line_amp = LINE_RMS_UV * np.sqrt(2) * rng.uniform(0.5, 1.5, n_channels)
    line_phase = rng.uniform(0, 2 * np.pi, n_channels)
    line = line_amp[:, None] * np.sin(
        2 * np.pi * line_freq * times + line_phase[:, None]
    )

    artifact = np.zeros((n_channels, n_times))
    if artifacts:
        eyes = _topography(positions, at("Fp1", "Fp2"), 0.04)
        rate = BLINK_RATE_HZ if blink_rate_hz is None else blink_rate_hz
        n_blinks = rng.poisson(rate * duration)
        width = int(0.3 * sfreq)
        shape = np.hanning(width)
        for onset in rng.integers(0, max(n_times - width, 1), n_blinks):
            artifact[:, onset : onset + width] += BLINK_PEAK_UV * np.outer(eyes, shape)
        temporal = np.maximum(
            _topography(positions, at("T7"), 0.03),
            _topography(positions, at("T8"), 0.03),
        )
        burst = int(sfreq)
        n_bursts = (
            2
            if muscle_bursts_per_min is None
            else rng.poisson(muscle_bursts_per_min * duration / 60)
        )
        for onset in rng.integers(0, max(n_times - burst, 1), n_bursts):
            emg = _shaped_noise(
                rng, 1, burst, sfreq, lambda f: (f > 25.0).astype(float)
            )[0]
            artifact[:, onset : onset + burst] += MUSCLE_RMS_UV * np.outer(
                temporal, emg
            )
        if movement_per_min:
            for _ in range(rng.poisson(movement_per_min * duration / 60)):
                width = int(rng.uniform(1.0, 4.0) * sfreq)
                onset = int(rng.integers(0, max(n_times - width, 1)))
                topography = rng.normal(0, 1, n_channels)
                topography /= np.abs(topography).max()
                shape = np.hanning(width) * rng.uniform(150.0, 400.0)
                artifact[:, onset : onset + width] += np.outer(topography, shape)
    for channel in noisy_channels:
        index = channels.index(channel)
        artifact[index] += NOISY_CHANNEL_RMS_UV * rng.standard_normal(n_times)

    components = {
        "aperiodic": aperiodic,
        "alpha": alpha,
        "frontal_alpha": frontal_alpha,
        "beta": beta,
        "line": line,
        "artifacts": artifact,
    }
    gains = np.exp(rng.normal(0.0, ELECTRODE_GAIN_SD, n_channels))[:, None]
    components = {name: gains * part for name, part in components.items()}
    data = sum(components.values()) * 1e-6
    return data, components


def make_raw(data, sfreq, line_freq):
    """Wrap simulated data in an MNE Raw with the montage set.

    Parameters
    ----------
    data : ndarray, shape (n_channels, n_times)
        EEG in volts, channels in :data:`CHANNELS` order.
    sfreq : float
        Sampling rate (Hz).
    line_freq : float
        Mains frequency (Hz), stored in ``info["line_freq"]``.

    Returns
    -------
    raw : mne.io.RawArray
    """
    import mne

    info = mne.create_info(list(CHANNELS), sfreq, ch_types="eeg")
    raw = mne.io.RawArray(data, info, verbose="error")
    raw.set_montage(MONTAGE, verbose="error")
    raw.info["line_freq"] = line_freq
    return raw
