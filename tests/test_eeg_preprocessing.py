"""Preprocessing: bad channels, epochs, refusals with clear messages."""

import mne
import numpy as np
import pandas.testing as pd_testing
import pytest
from pydantic import ValidationError

from neuromark.eeg import (
    BandPower,
    EEGSettings,
    PreprocessingSettings,
    SpectralSettings,
    extract_eeg_features,
    preprocess,
)
from neuromark.exceptions import ConfigError, DataFileError
from neuromark.pipeline import make_config
from neuromark.simulation import CHANNELS, simulate_eeg_data

SFREQ = 250.0


def _raw(seconds=40.0, seed=0, noisy=(), sfreq=SFREQ):
    rng = np.random.default_rng(seed)
    data, _ = simulate_eeg_data(
        rng,
        sfreq=sfreq,
        duration=seconds,
        paf=10.0,
        exponent=1.4,
        line_freq=50.0,
        noisy_channels=noisy,
    )
    raw = mne.io.RawArray(
        data, mne.create_info(list(CHANNELS), sfreq, "eeg"), verbose="error"
    )
    return raw


def test_noisy_flat_and_nan_channels_are_found_and_interpolated():
    raw = _raw(noisy=["C3"])
    raw._data[CHANNELS.index("P4")] = 0.0  # flat
    raw._data[CHANNELS.index("F8"), 1000:1010] = np.nan
    epochs, qc = preprocess(raw, PreprocessingSettings(), line_freq=50.0)
    assert qc["bad_channels"] == {"F8": "nan", "C3": "deviation", "P4": "flat"}
    assert np.isfinite(epochs.get_data()).all()
    data = epochs.get_data()
    assert data[:, CHANNELS.index("P4")].std() > 1e-6  # interpolated, no longer flat
    assert qc["notch_hz"] == [50.0, 100.0] and qc["montage"] == "colin27_1020"
    assert qc["n_epochs"] + qc["n_epochs_rejected"] == 10
    # average reference: channels sum to zero at every sample
    np.testing.assert_allclose(data.sum(axis=1), 0.0, atol=1e-12)


def test_clean_recording_has_no_bad_channel():
    _, qc = preprocess(_raw(seed=4), PreprocessingSettings(), line_freq=50.0)
    assert qc["bad_channels"] == {}


def test_unknown_mains_frequency_is_a_warning_and_a_qc_reason(caplog):
    with caplog.at_level("WARNING", logger="neuromark"):
        _, qc = preprocess(_raw(seed=4), PreprocessingSettings(), line_freq=None)
    assert qc["notch_hz"] == []
    assert qc["notch_missing_reason"].startswith("mains frequency unknown")
    assert "no notch filter" in caplog.text
    # a forced notch needs no sidecar, and leaves no reason
    _, qc = preprocess(_raw(seed=4), PreprocessingSettings(notch=60.0), line_freq=None)
    assert qc["notch_hz"] == [60.0, 120.0] and qc["notch_missing_reason"] == ""


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (
            lambda raw: raw.crop(0, 3.0),
            r"recording of 3.0 s is shorter than one 4 s epoch",
        ),
        (
            lambda raw: raw.rename_channels(
                {ch: f"X{k}" for k, ch in enumerate(CHANNELS[1:])}
            ),
            r"1 EEG channel\(s\) after typing EOG/ECG/EMG and off-montage",
        ),
        (lambda raw: raw._data.fill(np.nan), r"every EEG sample is NaN"),
        (lambda raw: raw._data[:12].fill(0.0), r"12 of 32 channels are bad"),
    ],
)
def test_unusable_recordings_are_refused(change, match):
    raw = _raw()
    change(raw)
    with pytest.raises(DataFileError, match=match):
        extract_eeg_features(raw)


def test_too_little_clean_data_is_refused():
    raw = _raw(seconds=40.0)
    with pytest.raises(DataFileError, match=r"only 0 s of clean data \(0 of 10 epochs"):
        preprocess(
            raw,
            PreprocessingSettings(reject_ptp_uv=1.0, artifacts={"autoreject": False}),
        )
    with pytest.raises(DataFileError, match=r"minimum is 60 s"):
        preprocess(raw, PreprocessingSettings(min_clean_seconds=60))


def test_sampling_rate_must_resolve_the_bands():
    raw = _raw(seconds=20.0, sfreq=250.0).resample(80.0, verbose="error")
    with pytest.raises(
        DataFileError, match=r"band 'gamma' reaches 45.0 Hz.*below 40.0 Hz"
    ):
        extract_eeg_features(raw)


@pytest.mark.parametrize(
    ("bands", "match"),
    [
        ({"alpha": (13, 8)}, r"band 'alpha' has inverted or empty edges \(13.0, 8.0\)"),
        ({"alpha": (8, 13), "beta": (12, 30)}, r"bands 'alpha' and 'beta' overlap"),
        ({}, r"at least one frequency band"),
    ],
)
def test_bad_band_lists_are_refused(bands, match):
    with pytest.raises(ValidationError, match=match):
        SpectralSettings(bands=bands, periodic_bands=())
    with pytest.raises(ConfigError, match=match):
        make_config(
            bids_root="/d",
            output_dir="/o",
            eeg={"spectral": {"bands": bands, "periodic_bands": []}},
        )


def test_inconsistent_settings_are_refused():
    with pytest.raises(ValidationError, match="l_freq .* must be below h_freq"):
        PreprocessingSettings(l_freq=40, h_freq=30)
    with pytest.raises(ValidationError, match="window_seconds .* exceeds"):
        EEGSettings(spectral={"window_seconds": 8.0})
    with pytest.raises(ValidationError, match=r"periodic_bands \['mu'\]"):
        SpectralSettings(periodic_bands=("mu",))
    with pytest.raises(
        ConfigError,
        match=r"'eeg.preprocessing.epoch_lenght'. Did you mean "
        r"'epoch_length'\?",
    ):
        make_config(
            bids_root="/d", output_dir="/o", eeg={"preprocessing": {"epoch_lenght": 2}}
        )


def test_montage_must_be_an_mne_montage():
    with pytest.raises(
        ConfigError, match=r"'montage' parameter.*Did you mean 'biosemi64'"
    ):
        make_config(
            bids_root="/d",
            output_dir="/o",
            eeg={"preprocessing": {"montage": "biosemi-64"}},
        )
    assert PreprocessingSettings(montage="easycap-M1").montage == "easycap-M1"


def test_resampling_keeps_spectral_markers():
    raw = _raw(seconds=40.0, seed=5)
    settings = EEGSettings(preprocessing={"resample_sfreq": 125.0})
    features, qc = extract_eeg_features(raw, settings, line_freq=50.0)
    assert qc["sfreq"] == 125.0 and qc["notch_hz"] == [50.0]
    original, _ = extract_eeg_features(raw, EEGSettings(), line_freq=50.0)
    ours = features.set_index(["feature", "location"])["value"]
    reference = original.set_index(["feature", "location"])["value"]
    # alpha lies far below the new Nyquist: power and peak are unchanged
    assert ours["alpha_power", "occipital"] == pytest.approx(
        reference["alpha_power", "occipital"], rel=0.05
    )
    assert ours["paf", "occipital"] == pytest.approx(
        reference["paf", "occipital"], abs=0.1
    )


def test_channel_names_as_labs_write_them():
    """Upper case, prefixes and reference suffixes map onto the montage."""
    raw = _raw(seed=4)
    reference, _ = preprocess(raw, PreprocessingSettings(), line_freq=50.0)
    names = {
        "Fp1": "FP1",
        "Pz": "PZ",
        "O1": "EEG O1-REF",
        "Cz": "EEG:Cz",
        "T7": "t7-LE",
        "F8": "EXG1",
    }
    raw.rename_channels(names)
    settings = PreprocessingSettings(rename_channels={"EXG1": "F8"})
    epochs, qc = preprocess(raw, settings, line_freq=50.0)
    assert epochs.ch_names == reference.ch_names
    np.testing.assert_allclose(epochs.get_data(), reference.get_data())
    renamed = {old: new for new, old in names.items()}
    assert qc["channels_renamed"] == {"EXG1": "F8"} | {
        k: v for k, v in renamed.items() if k != "EXG1"
    }
    assert qc["non_eeg_channels"] == {} and qc["channels_not_in_montage"] == []


def test_eog_ecg_channels_and_unknown_names_are_typed_not_refused(caplog):
    raw = _raw(seed=4)
    extra = mne.io.RawArray(
        np.random.default_rng(1).normal(0, 20e-6, (3, raw.n_times)),
        mne.create_info(["VEOG", "EKG", "Photic"], SFREQ, "eeg"),
        verbose="error",
    )
    raw.add_channels([extra])
    with caplog.at_level("WARNING", logger="neuromark"):
        epochs, qc = preprocess(raw, PreprocessingSettings(), line_freq=50.0)
    assert epochs.ch_names == list(CHANNELS)
    assert qc["non_eeg_channels"] == {"VEOG": "eog", "EKG": "ecg", "Photic": "misc"}
    assert qc["channels_not_in_montage"] == ["Photic"]
    assert "Photic" in caplog.text
    with pytest.raises(DataFileError, match=r"names channel\(s\) \['Nope'\]"):
        preprocess(raw, PreprocessingSettings(rename_channels={"Nope": "Cz"}))
    raw.rename_channels({"Fz": "FZ-REF", "Photic": "Fz"})
    with pytest.raises(DataFileError, match=r"several channels map to \['Fz'\]"):
        preprocess(raw, PreprocessingSettings())


def test_epochs_in_bad_annotations_are_counted():
    raw = _raw(seconds=48.0, seed=4)  # 12 epochs of 4 s
    raw.set_annotations(mne.Annotations([2.0, 20.0], [10.0, 3.0], ["BAD_move"] * 2))
    settings = PreprocessingSettings(min_clean_seconds=8.0)
    epochs, qc = preprocess(raw, settings, line_freq=50.0)
    # [2, 12) touches epochs 0-2, [20, 23) touches epoch 5: 4 of 12 dropped
    assert qc["n_epochs_bad_annotation"] == 4
    assert qc["n_epochs"] + qc["n_epochs_rejected"] == 8
    assert qc["clean_seconds"] == 4.0 * qc["n_epochs"]
    short = PreprocessingSettings(min_clean_seconds=40.0)
    with pytest.raises(DataFileError, match=r"of 12 epochs kept: 4 in BAD_"):
        preprocess(raw, short, line_freq=50.0)


def test_epochs_a_user_cleaned_give_the_markers_of_the_same_epochs():
    """mne.Epochs in, analysed as they are: the markers of neuromark's own
    preprocessing are reproduced when it is handed its own clean epochs."""
    raw = _raw(seconds=60.0, seed=3)
    raw.set_montage("colin27_1020", match_case=False)
    settings = EEGSettings()
    from_raw, _ = extract_eeg_features(raw, settings, line_freq=50.0)
    epochs, _ = preprocess(raw, settings.preprocessing, line_freq=50.0)
    from_epochs, qc = extract_eeg_features(epochs, settings)
    pd_testing.assert_frame_equal(from_epochs, from_raw)
    assert qc["preprocessing"].startswith("none: epochs given")
    assert qc["n_epochs"] == len(epochs) and qc["ica"] == "not run: epochs given"

    # bad channels are left out; too little data or short epochs are refused
    epochs.info["bads"] = ["O1"]
    _, qc = extract_eeg_features(epochs, settings)
    assert "O1" not in qc["channels"] and qc["bad_channels"] == {"O1": "given"}
    with pytest.raises(DataFileError, match=r"only 8 s of epochs .* minimum is 30 s"):
        extract_eeg_features(epochs[:2], settings)
    short = mne.make_fixed_length_epochs(raw, duration=1.0, verbose="error")
    with pytest.raises(DataFileError, match="shorter than the spectral window"):
        extract_eeg_features(short, settings)


def test_band_power_estimator_takes_epochs():
    raw = _raw(seconds=20.0, seed=4)
    epochs = mne.make_fixed_length_epochs(raw, duration=4.0, verbose="error")
    estimator = BandPower(sfreq=SFREQ)
    np.testing.assert_array_equal(
        estimator.fit_transform(epochs),
        BandPower(sfreq=SFREQ).fit_transform(epochs.get_data()),
    )
    with pytest.raises(ValueError, match="sampled at 250 Hz but sfreq=500"):
        BandPower(sfreq=500.0).fit(epochs)
