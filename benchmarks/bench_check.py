"""Benchmark the ``check`` step against the straightforward validation script.

The reference is what a researcher writes to be sure every file of a study
opens: load each EEG with ``mne.io.read_raw(preload=True)``, each BOLD with
``nibabel`` ``get_fdata()`` and each confounds table with pandas, then compare
lengths. neuromark reads headers only (and the confounds table).

Run: ``python benchmarks/bench_check.py [--participants 40]``
"""

import argparse
import tempfile
from pathlib import Path

import mne
import nibabel as nib
import pandas as pd
from _harness import measure, report

from neuromark.io import check_recording, discover_study
from neuromark.simulation import simulate_study


def reference_check(study):
    """Load every recording fully and compare BOLD length with confounds rows."""
    for rec in study.recordings:
        if rec.modality == "eeg":
            mne.io.read_raw(rec.path, preload=True, verbose="error")
        else:
            data = nib.load(rec.path).get_fdata()
            rows = len(pd.read_csv(rec.companions["confounds"], sep="\t"))
            assert data.shape[3] == rows


def neuromark_check(study):
    """neuromark's header-level checks of every recording."""
    for rec in study.recordings:
        check_recording(rec)


def main():
    """Simulate a study and compare neuromark's check step with the reference."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--participants", type=int, default=24)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = simulate_study(
            Path(tmp) / "study",
            n_participants=args.participants,
            seed=0,
            eeg_duration=300.0,
            fmri_volumes=200,
            n_jobs=2,
        )
        study = discover_study(root, verbose="WARNING")
        candidate = measure(neuromark_check, study)[:2]
        reference = measure(reference_check, study, repeat=1)[:2]
        report(f"check {len(study.recordings)} recordings", candidate, reference)


if __name__ == "__main__":
    main()
