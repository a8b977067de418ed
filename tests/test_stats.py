"""Pre/post statistics against scipy, exact enumeration and textbook values."""

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from neuromark.features import LONG_COLUMNS
from neuromark.stats import (
    StatsSettings,
    fdr,
    group_difference,
    icc,
    paired_effect,
    prepost_statistics,
    reliability,
    responder_statistics,
    sign_flip_pvalue,
)


def test_paired_effect_matches_scipy():
    rng = np.random.default_rng(0)
    pre = rng.normal(10, 2, 15)
    post = pre + rng.normal(1.0, 1.5, 15)
    out = paired_effect(pre, post)
    change = post - pre
    assert out["n"] == 15 and out["mean_change"] == pytest.approx(change.mean())
    reference = stats.ttest_rel(post, pre)
    assert out["t"] == pytest.approx(reference.statistic)
    assert out["p_t"] == pytest.approx(reference.pvalue)
    assert out["p_wilcoxon"] == pytest.approx(stats.wilcoxon(post, pre).pvalue)
    assert out["d_z"] == pytest.approx(change.mean() / change.std(ddof=1))
    assert out["g_z"] == pytest.approx(out["d_z"] * (1 - 3 / (4 * 14 - 1)))
    ci = stats.t.interval(0.95, 14, loc=change.mean(), scale=stats.sem(change))
    assert (out["ci_low"], out["ci_high"]) == pytest.approx(ci)
    # NaN pairs are dropped, fewer than 3 pairs give NaN, never an error
    assert paired_effect([1, np.nan, 3, 4], [2, 5, np.nan, 6])["n"] == 2
    assert np.isnan(paired_effect([1, 2], [2, 3])["p_t"])


def test_sign_flip_exact_and_random():
    change = np.array([0.5, 1.2, -0.3, 0.8, 0.9, 0.4])
    brute = np.mean(
        [
            abs(np.mean(np.array(s) * change)) >= abs(change.mean()) - 1e-12
            for s in itertools.product([1, -1], repeat=6)
        ]
    )
    assert sign_flip_pvalue(change) == pytest.approx(brute)
    assert sign_flip_pvalue(np.ones(6)) == pytest.approx(2 / 64)  # only all + or all -
    rng = np.random.default_rng(1)
    big = rng.normal(0.5, 1, 40)
    p = sign_flip_pvalue(big, n_permutations=5000, random_state=3)
    assert p == sign_flip_pvalue(big, n_permutations=5000, random_state=3)
    assert abs(p - stats.ttest_1samp(big, 0).pvalue) < 0.02


def test_group_difference_matches_scipy():
    rng = np.random.default_rng(2)
    a, b = rng.normal(1, 1, 12), rng.normal(0, 2, 9)
    out = group_difference(a, b, n_permutations=2000, random_state=0)
    welch = stats.ttest_ind(a, b, equal_var=False)
    assert out["t"] == pytest.approx(welch.statistic)
    assert out["p_welch"] == pytest.approx(welch.pvalue)
    pooled = np.sqrt((11 * a.var(ddof=1) + 8 * b.var(ddof=1)) / 19)
    assert out["hedges_g"] == pytest.approx(
        (a.mean() - b.mean()) / pooled * (1 - 3 / 75)
    )
    assert 0 < out["p_permutation"] <= 1


# six targets rated by four judges (Shrout & Fleiss 1979, Table 2)
SHROUT_FLEISS = np.array(
    [
        [9, 2, 5, 8],
        [6, 1, 3, 2],
        [8, 4, 6, 8],
        [7, 1, 2, 6],
        [10, 5, 6, 9],
        [6, 2, 4, 7],
    ],
    float,
)


def test_icc_reproduces_shrout_fleiss_1979():
    out = icc(SHROUT_FLEISS)
    published = {
        "icc_1_1": 0.17,
        "icc_2_1": 0.29,
        "icc_3_1": 0.71,
        "icc_1_k": 0.44,
        "icc_2_k": 0.62,
        "icc_3_k": 0.91,
    }
    for key, value in published.items():
        assert out[key] == pytest.approx(value, abs=0.005)


def test_icc_of_degenerate_tables_is_missing_without_warnings():
    from neuromark.stats import icc

    # no spread between subjects: zero or negative denominators
    for table in ([[1.0, 2.0], [2.0, 1.0], [1.5, 1.5]], [[1.0, 2.0], [2.0, 1.0]]):
        result = icc(np.array(table))
        values = [result[key] for key in result if key != "n"]
        assert all(np.isnan(v) or v <= 1 for v in values)
        assert np.isnan(result["icc_2_1_ci_low"])
    assert np.isnan(icc(np.array([[1.0, 2.0], [3.0, 5.0]]))["icc_2_1"])  # n = 2


def test_icc_2_1_interval_matches_pingouin():
    ratings = SHROUT_FLEISS
    with warnings.catch_warnings():  # pingouin's own pandas deprecations
        warnings.simplefilter("ignore")
        import pingouin

        long = pd.DataFrame(
            {
                "target": np.repeat(np.arange(6), 4),
                "rater": np.tile(np.arange(4), 6),
                "rating": ratings.ravel(),
            }
        )
        table = pingouin.intraclass_corr(long, "target", "rater", "rating")
    types = table["Type"].astype(str)
    icc2 = table[types.isin(["ICC2", "ICC(A,1)"])].iloc[0]  # names differ by version
    out = icc(ratings)
    assert out["icc_2_1"] == pytest.approx(icc2["ICC"], abs=1e-10)
    low, high = icc2["CI95%"] if "CI95%" in icc2 else icc2["CI95"]
    assert out["icc_2_1_ci_low"] == pytest.approx(low, abs=0.006)  # pingouin rounds
    assert out["icc_2_1_ci_high"] == pytest.approx(high, abs=0.006)


def test_fdr_matches_scipy_and_keeps_nan():
    p = np.array([0.01, 0.04, np.nan, 0.03, 0.2])
    expected = stats.false_discovery_control([0.01, 0.04, 0.03, 0.2])
    np.testing.assert_allclose(fdr(p)[[0, 1, 3, 4]], expected)
    assert np.isnan(fdr(p)[2])


def _study(effect, seed=0, n=10):
    """Long table: TENS responders gain `effect` in occipital alpha; sham none."""
    rng = np.random.default_rng(seed)
    ids = [f"sub-{k:02d}" for k in range(2 * n)]
    arms = ["TENS"] * n + ["sham"] * n
    responder = [k % 2 == 0 for k in range(2 * n)]
    rows = []
    for pid, arm, resp in zip(ids, arms, responder):
        trait = rng.normal(10, 2)
        for session in ("pre", "post"):
            gain = effect if (session == "post" and arm == "TENS" and resp) else 0.0
            for location in ("occipital", "O1"):
                rows.append(
                    (
                        pid,
                        session,
                        "eeg",
                        "alpha_power",
                        location,
                        trait + gain + rng.normal(0, 0.5),
                        "µV²",
                    )
                )
    long = pd.DataFrame(
        rows,
        columns=LONG_COLUMNS,
    )
    participants = pd.DataFrame(
        {"participant_id": ids, "intervention": arms, "responder": responder}
    )
    return long, participants


def test_tables_recover_a_planted_change_per_treatment():
    long, participants = _study(effect=3.0)
    results = prepost_statistics(long, participants, StatsSettings(n_permutations=1000))
    # channel O1 is outside the default 'regions' family
    assert set(results["location"]) == {"occipital"}
    tens = results.set_index("intervention").loc["TENS"]
    sham = results.set_index("intervention").loc["sham"]
    assert tens["mean_change"] == pytest.approx(1.5, abs=0.5)  # half the arm responds
    assert tens["n"] == 10 and tens["q_t"] < 0.05 and sham["p_t"] > 0.05
    groups = responder_statistics(
        long, participants, StatsSettings(n_permutations=1000)
    )
    parallel = responder_statistics(
        long, participants, StatsSettings(n_permutations=1000), n_jobs=2
    )
    pd.testing.assert_frame_equal(parallel, groups)  # n_jobs changes nothing
    tens = groups.set_index("intervention").loc["TENS"]
    assert tens["difference"] == pytest.approx(3.0, abs=0.6)
    assert tens["p_welch"] < 0.001 and tens["p_permutation"] < 0.01
    everything = prepost_statistics(
        long, participants, StatsSettings(family="all", n_permutations=100)
    )
    assert set(everything["location"]) == {"occipital", "O1"}


def test_reliability_uses_control_arms_only():
    long, participants = _study(effect=3.0)
    table = reliability(long, participants)
    assert table.loc[0, "n"] == 10  # the sham arm
    # trait SD 2, noise SD 0.5: ICC about 4 / (4 + 0.25)
    assert 0.8 < table.loc[0, "icc_3_1"] < 1.0
    no_control = participants.assign(intervention="TENS")
    assert reliability(long, no_control).empty
