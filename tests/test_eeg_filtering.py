"""One FIR pass gives MNE's band-pass then notch, to rounding."""

import mne
import numpy as np
import pytest

from neuromark.eeg.filtering import filter_band_and_notch, fir_kernel


def _raw(seconds, sfreq, n_channels=3, seed=0):
    rng = np.random.default_rng(seed)
    times = np.arange(int(seconds * sfreq)) / sfreq
    data = rng.standard_normal((n_channels, len(times))) * 1e-5
    data += 3e-5 * np.sin(2 * np.pi * 50.0 * times) + 2e-5  # mains and an offset
    info = mne.create_info([f"EEG{k}" for k in range(n_channels)], sfreq, "eeg")
    return mne.io.RawArray(data, info, verbose="error")


def _mne_cascade(raw, l_freq, h_freq, notch_hz):
    raw = raw.copy()
    if l_freq is not None or h_freq is not None:
        raw.filter(l_freq, h_freq, verbose="error")
    if notch_hz:
        raw.notch_filter(notch_hz, verbose="error")
    return raw


@pytest.mark.parametrize(
    "seconds, sfreq, l_freq, h_freq, notch_hz",
    [
        (20.0, 500.0, 1.0, 45.0, [50.0, 100.0, 150.0, 200.0]),  # the defaults
        (20.0, 250.0, None, 40.0, [60.0, 120.0]),  # low-pass only
        (20.0, 250.0, 0.5, None, [50.0]),  # high-pass only
        (20.0, 250.0, 1.0, 100.0, [50.0]),  # the ICA copy's band
        (3.0, 250.0, 1.0, 45.0, [50.0, 100.0]),  # shorter than the kernel
        (6.7, 250.0, 1.0, 45.0, [50.0, 100.0]),  # just longer (1651 taps)
        (20.0, 250.0, 1.0, 45.0, []),  # no notch: MNE's own filter
    ],
)
def test_one_pass_equals_mnes_band_pass_then_notch(
    seconds, sfreq, l_freq, h_freq, notch_hz
):
    raw = _raw(seconds, sfreq)
    expected = _mne_cascade(raw, l_freq, h_freq, notch_hz)
    ours = filter_band_and_notch(raw.copy(), l_freq, h_freq, notch_hz)
    scale = np.abs(expected.get_data()).max()
    np.testing.assert_allclose(
        ours.get_data(), expected.get_data(), rtol=0, atol=1e-12 * scale
    )
    assert ours.info["highpass"] == expected.info["highpass"]
    assert ours.info["lowpass"] == expected.info["lowpass"]


def test_kernel_response_is_the_product_of_the_two_designs():
    sfreq = 500.0
    kernel = fir_kernel(sfreq, 1.0, 45.0, [50.0])
    assert len(kernel) % 2 == 1
    np.testing.assert_allclose(kernel, kernel[::-1], atol=1e-15)  # linear phase
    freqs = np.fft.rfftfreq(8192, 1 / sfreq)
    gain = np.abs(np.fft.rfft(kernel, 8192))
    # pass band flat, 50 Hz and the band's outside removed
    assert np.all(np.abs(gain[(freqs > 3) & (freqs < 43)] - 1) < 0.01)
    assert gain[np.argmin(np.abs(freqs - 50.0))] < 1e-3
    assert np.all(gain[freqs > 60] < 1e-2)


def test_segmented_recording_is_filtered_by_mne_piece_by_piece():
    raw = _raw(20.0, 250.0)
    raw.set_annotations(mne.Annotations([10.0], [0.0], ["edge"]))
    expected = _mne_cascade(raw, 1.0, 45.0, [50.0])
    ours = filter_band_and_notch(raw.copy(), 1.0, 45.0, [50.0])
    np.testing.assert_array_equal(ours.get_data(), expected.get_data())
