"""Treatment effects against control, effect sizes people compare, reliability
with intervals and a declared confirmatory family."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from neuromark.features import LONG_COLUMNS
from neuromark.stats import (
    StatsSettings,
    ancova,
    control_arm,
    icc,
    noncentral_t_interval,
    paired_effect,
    prepost_statistics,
    treatment_effects,
    two_stage_fdr,
)


def _trial(effect=0.0, n=25, seed=0, arms=("TENS", "NIBS", "sham"), site=False):
    """Per participant pre/post of one marker; TENS gains `effect` at post."""
    rng = np.random.default_rng(seed)
    rows, people = [], []
    for arm in arms:
        for k in range(n):
            pid = f"sub-{arm}{k:02d}"
            trait = rng.normal(10, 2)
            pre = trait + rng.normal(0, 1)
            # everyone drifts by 0.5 (time, placebo): only TENS is treated
            post = trait + 0.5 + (effect if arm == "TENS" else 0) + rng.normal(0, 1)
            rows += [
                (pid, "pre", "eeg", "alpha_logpower", "occipital", pre, "log10(µV²)"),
                (pid, "post", "eeg", "alpha_logpower", "occipital", post, "log10(µV²)"),
                (pid, "pre", "eeg", "beta_logpower", "frontal", rng.normal(), "x"),
                (pid, "post", "eeg", "beta_logpower", "frontal", rng.normal(), "x"),
            ]
            people.append(
                {"participant_id": pid, "intervention": arm, "site": "AB"[k % 2]}
            )
    participants = pd.DataFrame(people)
    if not site:
        participants = participants.drop(columns="site")
    return pd.DataFrame(rows, columns=LONG_COLUMNS), participants


def test_ancova_equals_statsmodels_formula():
    import statsmodels.formula.api as smf

    long, participants = _trial(effect=1.0, site=True)
    wide = long[long["feature"] == "alpha_logpower"].pivot(
        index="participant_id", columns="session", values="value"
    )
    data = wide.join(participants.set_index("participant_id"))
    fit = smf.ols(
        "post ~ pre + C(intervention, Treatment('sham')) + C(site)", data=data
    ).fit()
    rows = {
        r["intervention"]: r
        for r in ancova(
            data["pre"],
            data["post"],
            data["intervention"],
            control="sham",
            sites=data["site"],
        )
    }
    for arm in ("TENS", "NIBS"):
        term = f"C(intervention, Treatment('sham'))[T.{arm}]"
        assert rows[arm]["estimate"] == pytest.approx(fit.params[term], rel=1e-10)
        assert rows[arm]["p"] == pytest.approx(fit.pvalues[term], rel=1e-8)
        low, high = fit.conf_int().loc[term]
        assert (rows[arm]["ci_low"], rows[arm]["ci_high"]) == pytest.approx((low, high))
        assert rows[arm]["control"] == "sham" and rows[arm]["n"] == 25


def test_an_arm_without_values_is_left_out_of_the_ancova():
    """An arm left with one value (e.g. missing connectivity) is not in the fit."""
    long, participants = _trial(effect=1.0, seed=3)
    wide = long[long["feature"] == "alpha_logpower"].pivot(
        index="participant_id", columns="session", values="value"
    )
    arms = participants.set_index("participant_id").loc[wide.index, "intervention"]
    post = wide["post"].where(arms != "NIBS")  # NIBS: missing but for one
    post.iloc[list(arms).index("NIBS")] = 10.0
    rows = ancova(wide["pre"], post, arms, control="sham")
    assert [r["intervention"] for r in rows] == ["TENS"]
    assert np.isfinite(rows[0]["d"]) and rows[0]["n_control"] == 25


def test_motion_change_is_adjusted_for_like_statsmodels():
    """A treatment that makes people lie stiller changes FC through motion only."""
    import statsmodels.formula.api as smf

    rng = np.random.default_rng(8)
    n = 40
    arms = np.repeat(["TENS", "sham"], n)
    delta_fd = rng.normal(0, 0.05, 2 * n) - 0.1 * (arms == "TENS")
    pre = rng.normal(0.3, 0.1, 2 * n)
    post = pre + 2.0 * delta_fd + rng.normal(0, 0.05, 2 * n)  # no treatment effect
    naive = ancova(pre, post, arms, control="sham")[0]
    assert naive["p"] < 0.01  # motion passed off as a treatment effect
    adjusted = ancova(
        pre, post, arms, control="sham", covariates={"delta_mean_fd": delta_fd}
    )[0]
    data = pd.DataFrame({"pre": pre, "post": post, "arm": arms, "dfd": delta_fd})
    fit = smf.ols("post ~ pre + C(arm, Treatment('sham')) + dfd", data=data).fit()
    term = "C(arm, Treatment('sham'))[T.TENS]"
    assert adjusted["estimate"] == pytest.approx(fit.params[term], rel=1e-10)
    assert adjusted["p"] == pytest.approx(fit.pvalues[term], rel=1e-8)
    assert adjusted["ci_low"] < 0 < adjusted["ci_high"]
    # treatment_effects passes a modality's covariates to its features only
    long, participants = _trial(effect=0.0, seed=4)
    ids = participants["participant_id"]
    covariates = {"fmri": {"delta_mean_fd": pd.Series(0.0, index=ids)}}
    results = treatment_effects(long, participants, covariates=covariates)
    assert (results["covariates"] == "").all()  # the EEG features: none


def test_planted_arm_by_time_effect_is_found_and_drift_is_not():
    long, participants = _trial(effect=1.2, seed=1)
    results = treatment_effects(long, participants).set_index(
        ["intervention", "feature"]
    )
    tens = results.loc[("TENS", "alpha_logpower")]
    nibs = results.loc[("NIBS", "alpha_logpower")]
    assert tens["ci_low"] < 1.2 < tens["ci_high"] and tens["p"] < 0.001
    assert tens["family"] == "confirmatory" and tens["significant"]
    # the drift every arm shares is not a treatment effect (it is in within-arm change)
    assert nibs["ci_low"] < 0 < nibs["ci_high"]
    within = prepost_statistics(long, participants).set_index(
        ["intervention", "feature"]
    )
    assert within.loc[("NIBS", "alpha_logpower"), "mean_change"] > 0.2
    assert within.loc[("NIBS", "alpha_logpower"), "analysis"].startswith("descriptive")
    assert results.loc[("TENS", "beta_logpower"), "family"] == "exploratory"


def test_no_control_arm_is_said_not_hidden():
    long, participants = _trial(arms=("TENS", "NIBS"))
    results = treatment_effects(long, participants)
    assert results.empty and "no control arm" in results.attrs["reason"]
    assert control_arm(["TENS", "Sham"], ("sham",)) == "Sham"  # case-insensitive


def test_d_av_and_noncentral_intervals():
    rng = np.random.default_rng(2)
    pre = rng.normal(10, 2, 20)
    post = 0.8 * pre + rng.normal(3, 1.5, 20)
    out = paired_effect(pre, post)
    change = post - pre
    sd_av = (pre.std(ddof=1) + post.std(ddof=1)) / 2
    assert out["d_av"] == pytest.approx(change.mean() / sd_av)
    assert out["r_prepost"] == pytest.approx(np.corrcoef(pre, post)[0, 1])
    t = out["t"]
    low, high = noncentral_t_interval(t, 19)
    # the observed t is the 97.5th / 2.5th percentile at the bounds
    assert stats.nct.cdf(t, 19, low) == pytest.approx(0.975, abs=1e-6)
    assert stats.nct.cdf(t, 19, high) == pytest.approx(0.025, abs=1e-6)
    assert out["d_z_ci_low"] == pytest.approx(low / np.sqrt(20))
    scale = change.std(ddof=1) / sd_av / np.sqrt(20)
    assert out["d_av_ci_low"] == pytest.approx(low * scale)
    assert out["d_av_ci_high"] == pytest.approx(high * scale)
    # far in the tails scipy underflows; the interval is still finite
    assert np.isfinite(noncentral_t_interval(25.0, 9)).all()


def test_two_stage_fdr_selects_groups_then_features():
    p = np.array([0.0001, 0.0004, 0.3, 0.2, 0.5, 0.9, 0.04, np.nan])
    groups = np.array(["alpha"] * 3 + ["beta"] * 3 + ["fc", "fc"])
    rejected = two_stage_fdr(p, groups, alpha=0.05)
    assert list(rejected) == [True, True, False, False, False, False, False, False]
    # the confirmatory family of the settings labels rows of every table
    assert "eeg_paf_occipital" in StatsSettings().confirmatory


def test_constant_markers_give_missing_statistics_not_warnings():
    # a peak height of 0 throughout (no peak anywhere) has nothing to test
    zeros = np.zeros(12)
    assert np.isnan(icc(np.zeros((12, 2)))["icc_2_1"])
    arms = np.repeat(["TENS", "sham"], 6)
    assert ancova(zeros, zeros, arms, control="sham") == []
