"""Spectral markers against independent references and analytic truths."""

import mne
import numpy as np
import pytest
from scipy.signal import welch

from neuromark.eeg import (
    EEGSettings,
    asymmetry,
    band_power,
    centre_of_gravity,
    extract_eeg_features,
    fit_aperiodic,
    peak_frequency,
    periodic_power,
    psd_array,
    relative_power,
)
from neuromark.simulation import CHANNELS, aperiodic_noise, narrowband_noise

SFREQ = 250.0
RAW_SETTINGS = {  # preprocessing off: epochs are plain segments of the data
    "preprocessing": {
        "l_freq": None,
        "h_freq": None,
        "notch": "off",
        "reference": None,
        "bad_channels": {"detect": False},
        "reject_ptp_uv": None,
        "min_clean_seconds": 0,
    },
}


def _raw(data_uv, ch_names=CHANNELS[:4], sfreq=SFREQ):
    info = mne.create_info(list(ch_names), sfreq, "eeg")
    raw = mne.io.RawArray(np.asarray(data_uv) * 1e-6, info, verbose="error")
    raw.set_montage("colin27_1020")
    return raw


def _sinusoid(freq, amplitude_uv, noise_uv, seconds=60.0, n_channels=4, seed=0):
    rng = np.random.default_rng(seed)
    times = np.arange(int(seconds * SFREQ)) / SFREQ
    signal = amplitude_uv * np.sin(2 * np.pi * freq * times)
    return signal + noise_uv * rng.standard_normal((n_channels, times.size))


def test_band_power_equals_scipy_and_mne_when_preprocessing_is_off():
    rng = np.random.default_rng(1)
    data = 10 * aperiodic_noise(rng, 4, int(64 * SFREQ), SFREQ, exponent=1.2)
    raw = _raw(data)
    settings = EEGSettings(**RAW_SETTINGS)
    features, qc = extract_eeg_features(raw, settings)
    assert qc["n_epochs"] == 16 and qc["bad_channels"] == {}

    # scipy: Welch (2 s Hann windows, 50 % overlap) per 4-s epoch, averaged
    epochs = data.reshape(4, 16, int(4 * SFREQ)).transpose(1, 0, 2)
    freqs, psd = welch(
        epochs, fs=SFREQ, nperseg=500, noverlap=250, window="hann", detrend="constant"
    )
    psd = psd.mean(axis=0)
    # MNE: Epochs.compute_psd with the same parameters
    mne_epochs = mne.make_fixed_length_epochs(
        raw, duration=4.0, preload=True, verbose="error"
    )
    spectrum = mne_epochs.compute_psd(
        method="welch",
        n_fft=500,
        n_per_seg=500,
        n_overlap=250,
        window="hann",
        verbose="error",
    )
    mne_psd = spectrum.get_data().mean(axis=0) * 1e12
    np.testing.assert_allclose(mne_psd, psd[:, : mne_psd.shape[1]], rtol=1e-10)

    values = features.set_index(["feature", "location"])["value"]
    for band, (fmin, fmax) in settings.spectral.bands.items():
        in_band = (freqs >= fmin) & (freqs < fmax)
        expected = psd[:, in_band].sum(axis=1) * (freqs[1] - freqs[0])
        got = np.array([values[f"{band}_power", ch] for ch in CHANNELS[:4]])
        np.testing.assert_allclose(got, expected, rtol=1e-6)
        total = (freqs >= 1) & (freqs < 45)
        np.testing.assert_allclose(
            [values[f"{band}_relpower", ch] for ch in CHANNELS[:4]],
            expected / (psd[:, total].sum(axis=1) * (freqs[1] - freqs[0])),
            rtol=1e-6,
        )
        np.testing.assert_allclose(
            [values[f"{band}_logpower", ch] for ch in CHANNELS[:4]],
            np.log10(expected),
            rtol=1e-6,
        )


def test_welch_in_blocks_equals_mne_psd_array_welch(monkeypatch):
    from mne.time_frequency import psd_array_welch

    from neuromark.eeg import spectral

    rng = np.random.default_rng(4)
    data = rng.standard_normal((7, 5, 1000)) * 1e-5 + 2e-5
    # a few rows per block, so the blocks' seams are exercised
    monkeypatch.setattr(spectral, "WELCH_BLOCK_BYTES", 3 * 16 * 3 * 251)
    psd, freqs = psd_array(data, SFREQ, fmin=1.0, fmax=45.0, average=False)
    reference, reference_freqs = psd_array_welch(
        data,
        SFREQ,
        fmin=1.0,
        fmax=45.0,
        n_fft=500,
        n_per_seg=500,
        n_overlap=250,
        window="hann",
        verbose="error",
    )
    np.testing.assert_array_equal(freqs, reference_freqs)
    np.testing.assert_allclose(psd, reference * 1e12, rtol=1e-12)


def test_injected_sinusoid_gives_analytic_band_power_and_paf():
    amplitude, noise, freq = 10.0, 5.0, 10.3
    psd, freqs = psd_array(
        _sinusoid(freq, amplitude, noise)[None] * 1e-6, SFREQ, window_seconds=4.0
    )
    # sinusoid power A^2/2 plus white noise density 2 sigma^2 / fs over 5 Hz
    analytic = amplitude**2 / 2 + noise**2 * 2 / SFREQ * 5.0
    np.testing.assert_allclose(band_power(psd, freqs, 8, 13), analytic, rtol=0.05)
    np.testing.assert_allclose(peak_frequency(psd, freqs, 7, 14), freq, atol=0.25)
    np.testing.assert_allclose(centre_of_gravity(psd, freqs, 8, 12), freq, atol=0.25)
    # no alpha power leaks into beta: only the white noise remains there
    np.testing.assert_allclose(
        band_power(psd, freqs, 13, 30), noise**2 * 2 / SFREQ * 17.0, rtol=0.1
    )
    assert relative_power(psd, freqs, 8, 13, (1, 45)).min() > 0.85


def test_multitaper_agrees_with_welch_on_band_power():
    data = _sinusoid(11.0, 8.0, 4.0, seconds=40.0)[None] * 1e-6
    welch_psd, welch_f = psd_array(data, SFREQ)
    mt_psd, mt_f = psd_array(
        data[:, :, : int(4 * SFREQ)].repeat(10, axis=0), SFREQ, method="multitaper"
    )
    np.testing.assert_allclose(
        band_power(mt_psd, mt_f, 8, 13), band_power(welch_psd, welch_f, 8, 13), rtol=0.1
    )


@pytest.mark.parametrize("exponent", [0.8, 1.5, 2.2])
def test_aperiodic_exponent_is_recovered(exponent):
    rng = np.random.default_rng(int(exponent * 10))
    n = int(120 * SFREQ)
    data = 10 * aperiodic_noise(rng, 3, n, SFREQ, exponent)
    data += 6 * narrowband_noise(rng, 3, n, SFREQ, centre=10.0, sd=0.8)
    psd, freqs = psd_array(data.reshape(3, 30, -1).transpose(1, 0, 2) * 1e-6, SFREQ)
    offset, fitted, r_squared = fit_aperiodic(psd, freqs, (2, 40))
    np.testing.assert_allclose(fitted, exponent, atol=0.1)
    assert r_squared.min() > 0.95
    # the periodic (aperiodic-corrected) alpha power is the rhythm's power
    alpha = periodic_power(psd, freqs, 8, 13, offset, fitted)
    np.testing.assert_allclose(alpha, 36.0, rtol=0.2)
    # and a band without a rhythm has almost none
    assert (periodic_power(psd, freqs, 20, 30, offset, fitted) < 0.1 * alpha).all()


def test_asymmetry_is_log_ratio():
    assert asymmetry(np.e**2, np.e) == pytest.approx(1.0)


def test_region_and_asymmetry_features():
    rng = np.random.default_rng(3)
    channels = ["F3", "F4", "Fz", "O1", "Oz", "O2"]
    data = 5 * rng.standard_normal((6, int(40 * SFREQ)))
    data[1] *= 2.0  # F4 has 4x the power of F3
    features, _ = extract_eeg_features(
        _raw(data, channels), EEGSettings(**RAW_SETTINGS)
    )
    values = features.set_index(["feature", "location"])["value"]
    assert values["alpha_asymmetry", "F4-F3"] == pytest.approx(np.log(4), abs=0.15)
    # region value = band power of the mean PSD of its recorded channels
    occipital = np.mean([values["alpha_power", ch] for ch in ("O1", "Oz", "O2")])
    assert values["alpha_power", "occipital"] == pytest.approx(occipital, rel=1e-9)
    assert ("alpha_power", "central") not in values.index  # no central channel recorded
    assert set(features["unit"]) == {
        "µV²",
        "fraction",
        "log10(µV²)",
        "Hz",
        "1",
        "log10(µV²/Hz)",
        "log10 ratio",
        "ln ratio",
    }


@pytest.mark.parametrize("seconds", [32.0, 120.0])  # 8 and 30 clean 4-s epochs
def test_no_alpha_peak_gives_missing_paf_with_a_reason(seconds):
    # pure 1/f noise: there is no alpha rhythm, so there is no PAF to report
    rng = np.random.default_rng(int(seconds))
    n = int(seconds * SFREQ)
    channels = ["O1", "Oz", "O2", "Pz", "P3", "P4"]
    data = 10 * aperiodic_noise(rng, 6, n, SFREQ, 1.5)
    features, qc = extract_eeg_features(
        _raw(data, channels), EEGSettings(**RAW_SETTINGS)
    )
    values = features.set_index(["feature", "location"])["value"]
    assert values["paf"].isna().all() and values["paf_cog"].isna().all()
    assert qc["n_channels_alpha_peak"] == 0
    assert qc["paf_missing_reason"] == "no alpha peak above the noise in any channel"
    assert "occipital" in qc["regions_without_alpha_peak"]
    # the aperiodic fit is still good: its markers are reported
    assert values["aperiodic_exponent"].notna().all()
    # and nothing rides on it: no peak height, a flattened power about 0
    assert (values["alpha_peak_height"] == 0).all()
    assert values["alpha_flattened"].abs().max() < 0.1  # chance wobble only
    # the same background with a modest 10.4 Hz rhythm: every PAF is measured
    data += 4 * narrowband_noise(rng, 6, n, SFREQ, centre=10.4, sd=0.4)
    features, qc = extract_eeg_features(
        _raw(data, channels), EEGSettings(**RAW_SETTINGS)
    )
    values = features.set_index(["feature", "location"])["value"]
    np.testing.assert_allclose(values["paf"], 10.4, atol=0.3)
    np.testing.assert_allclose(values["paf_cog"], 10.4, atol=0.4)
    assert (values["alpha_peak_height"] > 0.2).all()
    assert (values["alpha_flattened"] > 0.05).all()
    assert qc["n_channels_alpha_peak"] == 6 and qc["paf_missing_reason"] == ""


def test_peak_helpers_against_direct_computation():
    from neuromark.eeg.spectral import (
        flattened_centre_of_gravity,
        log_standard_error,
        parameterize,
        tallest_peak,
    )

    peaks = np.array([[9.0, 0.3, 2, 0], [11.0, 0.5, 2, 0], [20.0, 0.9, 3, 0]])
    centre, height = tallest_peak(peaks, 2, 7, 14)
    assert centre[0] == 11.0 and height[0] == 0.5  # beta peak outside the range
    assert np.isnan(centre[1]) and height[1] == 0.0  # no peak at all
    rng = np.random.default_rng(4)
    epochs = rng.gamma(4.0, size=(20, 3, 50))
    se = log_standard_error(epochs)
    direct = epochs.std(0, ddof=1) / np.sqrt(20) / epochs.mean(0) / np.log(10)
    np.testing.assert_allclose(se, direct)
    assert np.isnan(log_standard_error(epochs[:1])).all()
    # centre of gravity of the power above a flat background of 1: the bump's
    freqs = np.arange(1, 41, 0.25)
    psd = 1.0 + np.exp(-0.5 * ((freqs - 10.2) / 0.7) ** 2)
    cog = flattened_centre_of_gravity(psd[None], freqs, 8, 12, [0.0], [0.0])
    assert cog[0] == pytest.approx(10.2, abs=0.02)
    # chunked fits in parallel give the same peaks, indexed by spectrum
    spectra = np.array(
        [
            1 / freqs + k * np.exp(-0.5 * ((freqs - 10) / 1.0) ** 2)
            for k in (0.05, 0.1, 0.2, 0.4)
        ]
    )
    one = parameterize(spectra, freqs, (2, 40))
    two = parameterize(spectra, freqs, (2, 40), n_jobs=2)
    np.testing.assert_allclose(one["peaks"], two["peaks"])
    np.testing.assert_allclose(one["exponent"], two["exponent"])


def test_knee_model_equals_fooof_and_the_evidence_prefers_it_on_a_bend():
    """A spectrum that flattens below 10 Hz: the knee fit wins, as QC records."""
    import warnings

    from neuromark.eeg.features import _aperiodic_evidence
    from neuromark.eeg.settings import SpectralSettings
    from neuromark.eeg.spectral import aperiodic_psd, parameterize

    with warnings.catch_warnings(record=True):
        from fooof.sim.gen import gen_aperiodic
    freqs = np.arange(1, 46, 0.5)
    offset, knee, exponent = 2.0, 100.0, 2.0  # bend at 100 ** (1/2) = 10 Hz
    expected = 10 ** gen_aperiodic(freqs, np.array([offset, knee, exponent]))
    np.testing.assert_allclose(
        aperiodic_psd(freqs, [offset], [exponent], [knee])[0], expected, rtol=1e-12
    )
    # fixed mode (knee 0) is FOOOF's straight line
    line = 10 ** gen_aperiodic(freqs, np.array([offset, exponent]))
    np.testing.assert_allclose(aperiodic_psd(freqs, [offset], [exponent])[0], line)
    rng = np.random.default_rng(5)
    bent = expected * np.exp(0.02 * rng.standard_normal(freqs.size))
    fit = parameterize(bent, freqs, (2, 40), aperiodic_mode="knee")
    assert fit["knee"][0] ** (1 / fit["exponent"][0]) == pytest.approx(10, rel=0.1)
    assert fit["exponent"][0] == pytest.approx(2.0, abs=0.1)
    settings = SpectralSettings()
    evidence = _aperiodic_evidence(bent, freqs, settings)
    assert evidence["aperiodic_mode"] == "fixed"
    assert evidence["aperiodic_r2_knee"] > 0.999
    assert evidence["aperiodic_r2_knee"] - evidence["aperiodic_r2_fixed"] > 0.005
    assert evidence["aperiodic_knee_hz"] == pytest.approx(10, rel=0.1)
    # a straight 1/f spectrum: both fit, the knee adds nothing
    straight = line * np.exp(0.02 * rng.standard_normal(freqs.size))
    evidence = _aperiodic_evidence(straight, freqs, settings)
    assert evidence["aperiodic_r2_fixed"] > 0.99
    assert evidence["aperiodic_r2_knee"] - evidence["aperiodic_r2_fixed"] < 0.001
    assert evidence["aperiodic_knee_hz"] < 2  # any bend lies below the fit range
