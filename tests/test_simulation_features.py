"""Feature-level simulation: the pipeline's vocabulary, planted sizes, calibration."""

import numpy as np
import pytest

from neuromark.features import LONG_COLUMNS, feature_family, paired_values, to_wide
from neuromark.simulation import simulate_features
from neuromark.stats import prepost_statistics
from neuromark.stats.settings import StatsSettings


def test_vocabulary_matches_the_pipeline():
    long, participants = simulate_features(16, seed=0)
    assert list(long.columns) == LONG_COLUMNS
    # every simulated marker is in the statistics' regional family
    assert len(feature_family(long)) == len(long)
    wide = to_wide(long, participants=list(participants["participant_id"]))
    assert "eeg_alpha_logpower_occipital_change" in wide.columns
    assert "fmri_fc_PAG~pgACC_pre" in wide.columns
    assert set(participants["intervention"]) == {"TENS", "NIBS", "mindfulness", "sham"}
    again, _ = simulate_features(16, seed=0)
    assert long.equals(again)


def test_planted_changes_reach_the_markers():
    long, participants = simulate_features(4000, seed=1)
    pairs = paired_values(long)
    change = (pairs["post"] - pairs["pre"]).rename("change").reset_index()
    arms = participants.set_index("participant_id")["intervention"]
    change["arm"] = change["participant_id"].map(arms)
    alpha = change[change["location"] == "occipital"]
    alpha = alpha[alpha["feature"] == "alpha_logpower"].groupby("arm")["change"]
    dz = alpha.mean() / alpha.std()
    # arm-level d_z: 45 % responders at 0.45 and the others at 40 % of it,
    # diluted by the estimation noise and the participants without a peak
    assert 0.15 < dz["TENS"] < 0.4
    assert abs(dz["sham"]) < 0.1  # 3 SE of d with 1000 participants
    paf = long[(long["feature"] == "paf")]["value"]
    assert 0.08 < paf.isna().mean() < 0.16  # no alpha peak: missing, not wrong


def test_small_calibration_of_the_paired_tests():
    """A fixed-seed slice of validation/calibrate.py's table 1."""
    rates = []
    for seed in range(30):
        long, participants = simulate_features(
            40, seed=seed, effect_size=0.0, baseline_effect=0.0
        )
        table = prepost_statistics(
            long, participants, StatsSettings(n_permutations=500), random_state=seed
        )
        rates.append((table[["p_t", "p_signflip"]] < 0.05).mean())
    rates = np.array(rates)
    assert rates.mean(axis=0) == pytest.approx([0.05, 0.05], abs=0.025)
