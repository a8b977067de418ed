"""The EEG pipeline recovers the simulator's planted pre->post changes."""

import numpy as np
import pandas as pd
import pytest

from neuromark.pipeline import make_config, run_pipeline
from neuromark.simulation import read_ground_truth, simulate_study

pytestmark = pytest.mark.slow  # `make test-fast` skips these


@pytest.fixture(scope="module")
def eeg_runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("eeg_recovery")
    runs = {}
    for name, effect, baseline in (("effect", 1.0, 0.5), ("null", 0.0, 0.0)):
        # one arm, so half the participants carry the planted TENS change
        root = simulate_study(
            base / name,
            n_participants=12,
            seed=21,
            interventions=["TENS"],
            modalities=["eeg"],
            eeg_duration=40.0,
            effect_size=effect,
            baseline_effect=baseline,
            n_jobs=2,
        )
        # 40-s recordings: accept 16 s of clean data (the default asks 30 s)
        result = run_pipeline(
            make_config(
                bids_root=root,
                output_dir=base / f"{name}_out",
                modalities=["eeg"],
                n_jobs=2,
                # recovery of planted effects: the pages' figures are not read
                report={"recording_figures": False},
                eeg={"preprocessing": {"min_clean_seconds": 16}},
            ),
            steps=["discover", "check", "eeg"],
        )
        assert result["errors"].empty
        wide = pd.read_csv(base / f"{name}_out" / "features_wide.tsv", sep="\t")
        runs[name] = (read_ground_truth(root), wide.set_index("participant_id"))
    return runs


def _planted(truth, key):
    return pd.Series(
        {
            pid: np.log(
                e["sessions"]["post"]["eeg"][key] / e["sessions"]["pre"]["eeg"][key]
            )
            for pid, e in truth["participants"].items()
        }
    )


def test_alpha_change_has_planted_sign_and_magnitude(eeg_runs):
    truth, wide = eeg_runs["effect"]
    planted = 2 * _planted(truth, "alpha_gain")  # log power ratio = 2 log gain ratio
    measured = np.log(
        wide["eeg_alpha_power_occipital_post"] / wide["eeg_alpha_power_occipital_pre"]
    )
    assert np.corrcoef(planted, measured[planted.index])[0, 1] > 0.9
    slope = np.polyfit(planted, measured[planted.index], 1)[0]
    assert 0.7 < slope < 1.1  # diluted only by the unchanged 1/f background
    responders = [p for p, e in truth["participants"].items() if e["responder"]]
    others = [p for p in planted.index if p not in responders]
    assert measured[responders].mean() > 0.5  # planted log(1.5^2) = 0.81
    assert abs(measured[others].mean()) < 0.25


def test_beta_above_the_aperiodic_fit_rises_in_tens_responders(eeg_runs):
    truth, wide = eeg_runs["effect"]
    planted = 2 * _planted(truth, "beta_gain")
    for feature in ("beta_flattened", "beta_peak_height"):
        measured = (
            wide[f"eeg_{feature}_central_post"] - wide[f"eeg_{feature}_central_pre"]
        )
        assert np.corrcoef(planted, measured[planted.index])[0, 1] > 0.7, feature


def test_paf_change_follows_planted_paf(eeg_runs):
    truth, wide = eeg_runs["effect"]
    for session in ("pre", "post"):
        planted = pd.Series(
            {
                pid: e["sessions"][session]["eeg"]["paf_hz"]
                for pid, e in truth["participants"].items()
            }
        )
        measured = wide[f"eeg_paf_occipital_{session}"][planted.index]
        assert np.abs(measured - planted).mean() < 0.15
    exponent = pd.Series(
        {
            pid: e["sessions"]["pre"]["eeg"]["aperiodic_exponent"]
            for pid, e in truth["participants"].items()
        }
    )
    measured = wide["eeg_aperiodic_exponent_parietal_pre"][exponent.index]
    assert np.abs(measured - exponent).mean() < 0.15


def test_null_study_shows_no_change(eeg_runs):
    truth, wide = eeg_runs["null"]
    measured = np.log(
        wide["eeg_alpha_power_occipital_post"] / wide["eeg_alpha_power_occipital_pre"]
    )
    responders = [p for p, e in truth["participants"].items() if e["responder"]]
    others = [p for p in measured.index if p not in responders]
    assert abs(measured.mean()) < 0.2
    assert abs(measured[responders].mean() - measured[others].mean()) < 0.3
