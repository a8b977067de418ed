"""How close EEG markers stay to the artefact-free truth after preprocessing.

Each seeded recording (32 channels, 120 s at 250 Hz, the simulator's
spectra) gets eye blinks (0.3 Hz, frontal) and temporal muscle bursts
(6 per minute), the realistic preset's highest rates. The same recording
without them is the truth (the simulator returns every component
separately). Both go through neuromark's preprocessing; band power is read
from the clean epochs: frontal delta (Fp1, Fp2, F3, Fz, F4; 1-4 Hz), temporal
beta (T7, T8; 13-30 Hz), posterior alpha (O1, Oz, O2; 8-13 Hz). Rows compare
the default preprocessing (ICA + ICLabel, residual muscle bursts marked,
autoreject threshold) with peak-to-peak rejection at 150 µV only. Not part of
the test suite; its table is in the README::

    python validation/eeg_artifacts.py            # about 4 minutes on 2 cores
"""

import argparse
import time

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from neuromark.eeg.preprocessing import preprocess
from neuromark.eeg.settings import PreprocessingSettings
from neuromark.simulation._eeg import make_raw, simulate_eeg_data

SFREQ, DURATION, LINE = 250.0, 120.0, 50.0
MEASURES = {
    "frontal delta": (["Fp1", "Fp2", "F3", "Fz", "F4"], (1.0, 4.0)),
    "temporal beta": (["T7", "T8"], (13.0, 30.0)),
    "posterior alpha": (["O1", "Oz", "O2"], (8.0, 13.0)),
}
TOLERANCE = {"frontal delta": 0.10, "temporal beta": 0.10, "posterior alpha": 0.05}
SETTINGS = {
    "default (ICA + ICLabel)": PreprocessingSettings(),
    "peak-to-peak 150 µV only": PreprocessingSettings(
        artifacts={"ica": False, "autoreject": False}
    ),
}


def band_powers(epochs):
    """Mean band power of each measure (V²) over its channels and epochs."""
    out = {}
    for name, (channels, (fmin, fmax)) in MEASURES.items():
        spectrum = (
            epochs.copy()
            .pick(channels)
            .compute_psd(
                method="welch",
                fmin=fmin,
                fmax=fmax,
                n_fft=int(2 * SFREQ),
                verbose="error",
            )
        )
        out[name] = float(spectrum.get_data().mean(axis=0).sum())
    return out


def one_recording(seed):
    """Relative error of every measure under each preprocessing, one seed."""
    rng = np.random.default_rng(seed)
    data, components = simulate_eeg_data(
        rng,
        sfreq=SFREQ,
        duration=DURATION,
        paf=rng.uniform(9.0, 11.0),
        exponent=rng.uniform(1.2, 1.8),
        blink_rate_hz=0.3,
        muscle_bursts_per_min=6.0,
        line_freq=LINE,
    )
    clean = data - components["artifacts"] * 1e-6
    rows = []
    for name, settings in SETTINGS.items():
        truth, _ = preprocess(make_raw(clean, SFREQ, LINE), settings, line_freq=LINE)
        epochs, qc = preprocess(make_raw(data, SFREQ, LINE), settings, line_freq=LINE)
        expected, measured = band_powers(truth), band_powers(epochs)
        for measure in MEASURES:
            rows.append(
                {
                    "seed": seed,
                    "preprocessing": name,
                    "measure": measure,
                    "error": measured[measure] / expected[measure] - 1,
                    "epochs": len(epochs),
                    "removed": len(qc["ica_removed"]),
                }
            )
    return rows


def main():
    """Print the table over seeded recordings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=24)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args()
    start = time.time()
    rows = Parallel(n_jobs=args.n_jobs)(
        delayed(one_recording)(args.seed + k) for k in range(args.n)
    )
    table = pd.DataFrame([row for run in rows for row in run])
    table["within"] = table["error"].abs() <= table["measure"].map(TOLERANCE)
    summary = (
        table.groupby(["preprocessing", "measure"], sort=False)
        .agg(
            median_error=("error", "median"),
            median_abs_error=("error", lambda e: e.abs().median()),
            p90_abs_error=("error", lambda e: e.abs().quantile(0.9)),
            within_tolerance=("within", "mean"),
            epochs=("epochs", "median"),
        )
        .reset_index()
    )
    summary["tolerance"] = summary["measure"].map(TOLERANCE)
    print(summary.round(3).to_markdown(index=False))
    print(
        f"\n{args.n} recordings (seeds {args.seed}-{args.seed + args.n - 1}), "
        f"{DURATION:g} s at {SFREQ:g} Hz; {time.time() - start:.0f} s"
    )


if __name__ == "__main__":
    main()
