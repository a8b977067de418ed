"""Eye and muscle artefacts: ICA + ICLabel, residual bursts, epoch threshold."""

import numpy as np
import pytest

from neuromark.eeg.artifacts import emg_index, ica_skip_reason, rejection_threshold
from neuromark.eeg.preprocessing import preprocess
from neuromark.eeg.settings import ArtifactSettings, PreprocessingSettings
from neuromark.simulation._eeg import make_raw, simulate_eeg_data

SFREQ, LINE = 250.0, 50.0
FRONTAL = ["Fp1", "Fp2", "F3", "Fz", "F4"]


def _band_power(epochs, channels, band):
    spectrum = (
        epochs.copy()
        .pick(channels)
        .compute_psd(
            method="welch", fmin=band[0], fmax=band[1], n_fft=500, verbose="error"
        )
    )
    return float(spectrum.get_data().mean(axis=0).sum())


def _recording(seed, duration=120.0):
    """Blinks (0.3 Hz) and temporal muscle bursts (6/min), and the same without."""
    rng = np.random.default_rng(seed)
    data, components = simulate_eeg_data(
        rng,
        sfreq=SFREQ,
        duration=duration,
        paf=10.0,
        exponent=1.5,
        blink_rate_hz=0.3,
        muscle_bursts_per_min=6.0,
        line_freq=LINE,
    )
    return data, data - components["artifacts"] * 1e-6


@pytest.fixture(scope="module")
def cleaned():
    """Relative errors against the artefact-free truth, three recordings."""
    errors, qcs = [], []
    for seed in range(3):
        data, clean = _recording(seed)
        truth, _ = preprocess(
            make_raw(clean, SFREQ, LINE), PreprocessingSettings(), line_freq=LINE
        )
        epochs, qc = preprocess(
            make_raw(data, SFREQ, LINE), PreprocessingSettings(), line_freq=LINE
        )
        qcs.append(qc)
        errors.append(
            [
                _band_power(epochs, ch, band) / _band_power(truth, ch, band) - 1
                for ch, band in (
                    (FRONTAL, (1.0, 4.0)),
                    (["T7", "T8"], (13.0, 30.0)),
                    (["O1", "Oz", "O2"], (8.0, 13.0)),
                )
            ]
        )
    return np.array(errors), qcs


@pytest.mark.slow
def test_blinks_and_muscle_are_removed_to_within_tolerance(cleaned):
    errors, qcs = cleaned
    delta, beta, alpha = np.median(np.abs(errors), axis=0)
    assert delta < 0.10 and beta < 0.10 and alpha < 0.05
    for qc in qcs:
        assert qc["ica"] == "applied" and qc["ptp_threshold_source"] == "autoreject"
        assert any(" eye blink " in c for c in qc["ica_removed"])
        assert qc["ica_label_counts"]["brain"] >= 10
        assert qc["n_epochs"] >= 15
        # the removed components' scalp maps: one row per channel each, and
        # the surest blink component peaks where the blinks were planted
        maps = qc["ica_components"]
        assert len(maps) == len(qc["ica_removed"]) * qc["n_channels"]
        blinks = maps[maps["label"] == "eye blink"]
        surest = blinks[blinks["probability"] == blinks["probability"].max()]
        weight = surest.groupby("channel")["weight"].first().abs()
        assert weight.idxmax() in {"Fp1", "Fp2", "AF3", "AF4"}


def test_without_ica_the_artefacts_dominate():
    data, clean = _recording(0)
    plain = PreprocessingSettings(artifacts={"ica": False, "autoreject": False})
    truth, _ = preprocess(make_raw(clean, SFREQ, LINE), plain)
    epochs, qc = preprocess(make_raw(data, SFREQ, LINE), plain)
    assert qc["ica"] == "off (eeg.preprocessing.artifacts.ica)"
    assert qc["ptp_threshold_source"] == "fixed" and qc["ptp_threshold_uv"] == 150.0
    # blinks below 150 µV survive peak-to-peak rejection and swamp frontal delta
    ratio = _band_power(epochs, FRONTAL, (1.0, 4.0)) / _band_power(
        truth, FRONTAL, (1.0, 4.0)
    )
    assert ratio > 1.5


def test_ica_is_reproducible():
    data, _ = _recording(4, duration=90.0)
    first = preprocess(make_raw(data, SFREQ, LINE), PreprocessingSettings())
    second = preprocess(make_raw(data, SFREQ, LINE), PreprocessingSettings())
    assert first[1]["ica_removed"] == second[1]["ica_removed"]
    assert first[1]["ica_components"].equals(second[1]["ica_components"])
    np.testing.assert_array_equal(first[0].get_data(), second[0].get_data())


def test_ica_is_off_with_a_reason_where_it_cannot_run():
    settings = ArtifactSettings()
    data, _ = _recording(0, duration=20.0)
    raw = make_raw(data, SFREQ, LINE)
    assert ica_skip_reason(raw, settings) == (
        "off: 20 s of data; ICA of 32 channels needs 82 s (20 samples per weight)"
    )
    assert (
        ica_skip_reason(make_raw(_recording(0, 90.0)[0], SFREQ, LINE), settings) == ""
    )
    few = raw.copy().pick(["Fp1", "Fp2", "F3", "F4", "C3", "C4", "O1", "O2"])
    assert ica_skip_reason(few, settings) == (
        "off: 8 EEG channels, fewer than 16 (artifacts.ica_min_channels)"
    )
    slow = raw.copy().resample(160.0, verbose="error")
    assert "cannot hold ICLabel's 1-100 Hz band" in ica_skip_reason(slow, settings)
    epochs, qc = preprocess(few, PreprocessingSettings(min_clean_seconds=0))
    assert qc["ica"].startswith("off: 8 EEG channels") and qc["ica_removed"] == []
    # below the channel minimum, the fixed threshold is used
    assert qc["ptp_threshold_source"] == "fixed"


def test_rejection_threshold_and_emg_index():
    data, _ = _recording(1, duration=60.0)
    epochs, _ = preprocess(make_raw(data, SFREQ, LINE), PreprocessingSettings())
    threshold, source = rejection_threshold(
        epochs, ArtifactSettings(autoreject=False), None, n_channels=32
    )
    assert threshold is None and source == "none"
    threshold, source = rejection_threshold(
        epochs, ArtifactSettings(), 150.0, n_channels=32
    )
    assert source == "autoreject" and 20e-6 < threshold < 300e-6
    # the index is the share of 30-45 Hz power: 1/f gives a few percent, a
    # 40 Hz line on top raises it, and a spectrum low-passed below 45 Hz has none
    freqs = np.arange(0.0, 45.5, 0.5)
    one_over_f = np.tile(1.0 / np.maximum(freqs, 0.5), (4, 1))
    base = emg_index(one_over_f, freqs, lowpass=45.0)
    high, whole = (freqs >= 30) & (freqs <= 45), (freqs >= 1) & (freqs <= 45)
    expected = one_over_f[0, high].sum() / one_over_f[0, whole].sum()
    assert base == pytest.approx(expected) and 0.05 < base < 0.15
    peaked = one_over_f.copy()
    peaked[:, freqs == 40.0] += 5.0
    assert emg_index(peaked, freqs, lowpass=45.0) > base + 0.3
    assert np.isnan(emg_index(one_over_f, freqs, lowpass=25.0))
