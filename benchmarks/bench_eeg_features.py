"""Benchmark the full EEG feature set against the straightforward MNE script.

Recording: 64 channels, 500 Hz, 10 minutes (simulated, 50 Hz mains).
Reference: what a researcher writes for the same numbers with MNE alone —
``raw.filter`` + notch + average reference -> fixed-length epochs with
peak-to-peak rejection -> ``Epochs.compute_psd`` (Welch) -> band powers ->
one ``FOOOF`` fit per channel and region -> ``spectral_connectivity_epochs``
(debiased wPLI on 20 evenly spaced clean epochs, the default) over all channel
pairs, then averaged into region pairs. neuromark also
detects bad channels (extra work the reference skips); it filters in one FIR
pass whose kernel is the convolution of MNE's band-pass and notch designs
(the same numbers as the two passes) and computes Welch spectra from strided
segments.

The script checks that both give the same numbers (band power, exponent,
connectivity) before printing the speed-up and peak memory ratio. Both skip
artefact removal there (the reference script has none); the ICA step is timed
on its own line against the straightforward MNE + mne-icalabel script (ICA by
picard on a 1-100 Hz average-referenced copy, ICLabel, removal of eye and
muscle components).

Run: ``python benchmarks/bench_eeg_features.py [--minutes 10]``
"""

import argparse
import warnings

import mne
import numpy as np
from _harness import measure, report
from neuromark.atlases import read_eeg_regions

from neuromark.eeg import EEGSettings, extract_eeg_features
from neuromark.eeg.connectivity import region_pairs
from neuromark.simulation._eeg import simulate_eeg_data

CHANNELS_64 = (
    "Fp1 Fpz Fp2 AF7 AF3 AFz AF4 AF8 F7 F5 F3 F1 Fz F2 F4 F6 F8 FT7 FC5 FC3 FC1 FCz "
    "FC2 FC4 FC6 FT8 T7 C5 C3 C1 Cz C2 C4 C6 T8 TP7 CP5 CP3 CP1 CPz CP2 CP4 CP6 TP8 "
    "P7 P5 P3 P1 Pz P2 P4 P6 P8 PO7 PO3 POz PO4 PO8 O1 Oz O2 Iz TP9 TP10"
).split()
# the reference has no artefact removal and a fixed 150 µV threshold
SETTINGS = EEGSettings(
    preprocessing={
        "bad_channels": {"detect": True},
        "artifacts": {"ica": False, "autoreject": False},
    }
)
NOTCH = [50.0, 100.0, 150.0, 200.0]


def make_raw(minutes):
    """A 64-channel, 500 Hz simulated resting recording."""
    rng = np.random.default_rng(0)
    data, _ = simulate_eeg_data(
        rng,
        sfreq=500.0,
        duration=60.0 * minutes,
        paf=10.0,
        exponent=1.4,
        line_freq=50.0,
        channels=CHANNELS_64,
    )
    raw = mne.io.RawArray(
        data, mne.create_info(CHANNELS_64, 500.0, "eeg"), verbose="error"
    )
    raw.set_montage("colin27_1020")
    return raw


def reference_script(raw):
    """The straightforward MNE + FOOOF + mne-connectivity script."""
    with warnings.catch_warnings(record=True):
        from fooof import FOOOF
    from mne_connectivity import spectral_connectivity_epochs

    raw = raw.copy().load_data()
    raw.filter(1.0, 45.0, verbose="error")
    raw.notch_filter([50.0, 100.0, 150.0, 200.0], verbose="error")
    raw.set_eeg_reference("average", verbose="error")
    epochs = mne.make_fixed_length_epochs(
        raw, duration=4.0, preload=True, verbose="error"
    )
    epochs.drop_bad(reject={"eeg": 150e-6}, verbose="error")
    spectrum = epochs.compute_psd(
        method="welch",
        n_fft=1000,
        n_per_seg=1000,
        n_overlap=500,
        window="hann",
        fmax=45.0,
        verbose="error",
    )
    psd, freqs = spectrum.get_data().mean(axis=0) * 1e12, spectrum.freqs
    regions = read_eeg_regions()
    index = {ch: k for k, ch in enumerate(epochs.ch_names)}
    region_psd = np.array(
        [
            psd[[index[c] for c in chans if c in index]].mean(axis=0)
            for chans in regions.values()
        ]
    )
    alpha = (freqs >= 8) & (freqs < 13)
    band = psd[:, alpha].sum(axis=1) * (freqs[1] - freqs[0])
    exponents = []
    for spectrum_row in np.vstack([psd, region_psd]):
        model = FOOOF(peak_width_limits=[1, 8], max_n_peaks=6, verbose=False)
        model.fit(freqs, spectrum_row, [2, 40])
        exponents.append(model.get_params("aperiodic_params")[1])
    # the default: debiased wPLI on 20 clean epochs evenly spaced in time
    chosen_epochs = np.round(np.linspace(0, len(epochs) - 1, 20)).astype(int)
    con = spectral_connectivity_epochs(
        epochs[chosen_epochs],
        method="wpli2_debiased",
        fmin=(8.0, 13.0),
        fmax=(13.0, 30.0),
        faverage=True,
        mode="multitaper",
        verbose="error",
    )
    wpli = con.get_data(output="dense")[..., 0]
    pairs = region_pairs(epochs.ch_names, regions)
    wpli_regions = {
        edge: np.mean([wpli[j, i] for i, j in chosen]) for edge, chosen in pairs.items()
    }
    return band, np.array(exponents), wpli_regions


def neuromark_script(raw, n_jobs=2):
    """neuromark's one call (aperiodic fits on both cores)."""
    features, _ = extract_eeg_features(raw, SETTINGS, line_freq=50.0, n_jobs=n_jobs)
    return features


def check_equal(raw):
    """Both scripts give the same numbers (no bad channel in this recording)."""
    band, exponents, wpli_regions = reference_script(raw)
    features = neuromark_script(raw).set_index(["feature", "location"])["value"]
    ours = np.array([features["alpha_power", ch] for ch in CHANNELS_64])
    np.testing.assert_allclose(ours, band, rtol=1e-6)
    ours_exp = np.array([features["aperiodic_exponent", ch] for ch in CHANNELS_64])
    np.testing.assert_allclose(ours_exp, exponents[:64], atol=1e-6)
    for edge, value in wpli_regions.items():
        np.testing.assert_allclose(features["wpli_alpha", edge], value, atol=1e-9)
    print("numbers agree: alpha power (1e-6), exponents (1e-6), region wPLI (1e-9)")


def reference_ica(raw):
    """ICA + ICLabel as the mne-icalabel documentation shows it."""
    from mne_icalabel import label_components

    raw = raw.copy().load_data()
    fit = raw.copy().filter(1.0, 100.0, verbose="error")
    fit.notch_filter(NOTCH[:2], verbose="error")
    fit.set_eeg_reference("average", verbose="error")
    ica = mne.preprocessing.ICA(
        method="picard",
        fit_params={"ortho": False, "extended": True},
        random_state=0,
        verbose="error",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ica.fit(fit, verbose="error")
        labels = label_components(fit, ica, method="iclabel")
    exclude = [
        k
        for k, (label, p) in enumerate(zip(labels["labels"], labels["y_pred_proba"]))
        if label in ("eye blink", "muscle artifact") and p >= 0.5
    ]
    ica.apply(raw, exclude=exclude, verbose="error")
    return [labels["labels"][k] for k in exclude]


def neuromark_ica(raw):
    """neuromark's artefact step on the same recording."""
    from neuromark.eeg.artifacts import remove_ocular_muscle
    from neuromark.eeg.settings import ArtifactSettings

    analysed = raw.copy().load_data()
    analysed.set_eeg_reference("average", verbose="error")
    broad = analysed.copy()
    qc = remove_ocular_muscle(broad, analysed, ArtifactSettings(), notch_hz=NOTCH[:2])
    return [entry.split(" ", 1)[1].rsplit(" ", 1)[0] for entry in qc["ica_removed"]]


def main():
    """Run the comparison and print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    raw = make_raw(args.minutes)
    check_equal(raw)
    name = f"EEG features, 64 ch x {args.minutes:g} min at 500 Hz"
    reference = measure(reference_script, raw, repeat=args.repeat)[:2]
    for n_jobs in (1, 2):
        candidate = measure(neuromark_script, raw, n_jobs=n_jobs, repeat=args.repeat)
        report(f"{name}, n_jobs={n_jobs}", candidate[:2], reference)
    reference = measure(reference_ica, raw, repeat=1)
    candidate = measure(neuromark_ica, raw, repeat=1)
    print(f"components removed: reference {reference[2]}, neuromark {candidate[2]}")
    report(
        f"ICA + ICLabel step, 64 ch x {args.minutes:g} min",
        candidate[:2],
        reference[:2],
    )


if __name__ == "__main__":
    main()
