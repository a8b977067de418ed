"""The whole pipeline on a small realistic study: modest numbers, honest intervals."""

import numpy as np
import pandas as pd
import pytest

from neuromark.pipeline import make_config, run_pipeline
from neuromark.simulation import read_ground_truth, simulate_study

pytestmark = pytest.mark.slow  # `make test-fast` skips these


@pytest.fixture(scope="module")
def realistic(tmp_path_factory):
    base = tmp_path_factory.mktemp("realistic")
    root = simulate_study(
        base / "study",
        n_participants=16,
        seed=11,
        preset="realistic",
        modalities=["eeg"],
        eeg_duration=80.0,  # below the 32-channel ICA minimum: fast, ICA off
        n_jobs=2,
    )
    config = make_config(
        bids_root=root,
        output_dir=base / "out",
        modalities=["eeg"],
        n_jobs=2,
        report={"recording_figures": False},
        predict={"n_permutations": 20, "n_repeats": 1, "n_bootstrap": 200},
    )
    return root, run_pipeline(config, verbose="error")


def test_intervals_are_honest_and_small_designs_refused(realistic):
    _, result = realistic
    metrics = result["prediction/metrics"]
    validated = metrics[(metrics["status"] == "ok") & (metrics["model"] == "logistic")]
    # the default: baseline features only (prognostic); combined = eeg runs once,
    # the primary on the pre-specified markers, a secondary on every marker
    assert list(validated["feature_set"]) == ["baseline", "baseline"]
    assert list(validated["markers"]) == ["pre-specified", "all"]
    assert list(validated["question"]) == ["prognostic", "prognostic"]
    # 16 participants cannot pin an AUC down: every interval is wide
    width = validated["auc_ci_high"] - validated["auc_ci_low"]
    assert (width >= 0.2).all(), validated
    per_arm = metrics[metrics["scope"] != "pooled"]
    assert set(per_arm["scope"]) == {"TENS", "NIBS", "mindfulness", "sham"}
    assert per_arm["status"].str.startswith("skipped: ").all()


def test_realistic_nuisance_reaches_qc_and_statistics(realistic):
    root, result = realistic
    qc = result["eeg_qc"]
    assert qc["n_epochs"].max() - qc["n_epochs"].min() >= 3  # artefacts vary
    # pre and post were recorded alike in the simulator; only the clean
    # duration can differ (artefact rates are drawn per session)
    differences = qc["prepost_differences"].fillna("")
    assert differences.isin([""]).any()
    assert (differences.eq("") | differences.str.startswith("clean duration")).all()
    assert set(qc["recorded_sfreq"]) == {250.0}
    # connectivity from 20 epochs everywhere; fewer clean ones: missing, with why
    short = qc["n_epochs"] < 20
    assert short.any() and (~short).any()
    assert (qc.loc[short, "connectivity_missing_reason"].str.contains("fewer")).all()
    assert (qc.loc[~short, "n_epochs_connectivity"] == 20).all()
    long = result["features_long"]
    wpli = long[long["feature"].str.startswith("wpli")].merge(
        qc[["participant_id", "session", "n_epochs"]]
    )
    assert wpli.loc[wpli["n_epochs"] < 20, "value"].isna().all()
    assert wpli.loc[wpli["n_epochs"] >= 20, "value"].notna().all()
    # every session's clean-epoch count travels with the wide table
    wide = result["features_wide"].set_index("participant_id")
    counts = qc.set_index(["participant_id", "session"])["n_epochs"]
    for (pid, session), count in counts.items():
        assert wide.loc[pid, f"qc_eeg_n_epochs_{session}"] == count
    reliability = result["stats_reliability"]  # the sham arm gives test-retest
    assert {"alpha_logpower", "paf"} <= set(reliability["feature"])
    prepost = result["stats_prepost"]
    assert "sham" in set(prepost["intervention"])
    assert set(prepost["analysis"]) == {"descriptive (within-arm)"}
    # the confirmatory test is against sham; the report states it first
    treatment = result["stats_treatment"]
    assert set(treatment["control"]) == {"sham"}
    assert set(treatment["intervention"]) == {"TENS", "NIBS", "mindfulness"}
    confirmatory = treatment[treatment["family"] == "confirmatory"]
    assert {"alpha_logpower", "beta_logpower", "paf"} == set(confirmatory["feature"])
    report = (result["output_dir"] / "report.html").read_text(encoding="utf-8")
    assert report.index("Treatment effects against control") < report.index(
        "Pre/post change per intervention (descriptive)"
    )
    assert (
        "Primary analysis, pre-specified (pooled; 3 declared baseline marker "
        "columns of eeg; logistic; prognostic)" in report
    )
    assert "fewer than connectivity.n_epochs (20)" in report  # QC says why
    # the planted within-arm change is small: the measured TENS change in
    # occipital alpha follows the planted one, and is far from the idealised d_z
    truth = read_ground_truth(root)["participants"]
    planted = pd.Series(
        {
            pid: 2
            * np.log10(
                entry["sessions"]["post"]["eeg"]["alpha_gain"]
                / entry["sessions"]["pre"]["eeg"]["alpha_gain"]
            )
            for pid, entry in truth.items()
            if not entry["sessions"]["pre"]["eeg"]["no_alpha_peak"]
        }
    )
    long = result["features_long"]
    alpha = long[
        (long["feature"] == "alpha_logpower") & (long["location"] == "occipital")
    ].pivot(index="participant_id", columns="session", values="value")
    measured = alpha["post"] - alpha["pre"]
    both = pd.concat([measured, planted], axis=1, join="inner").dropna()
    # per-session error of log10 alpha power is about 0.05 (validation table 4)
    assert both.corr().iloc[0, 1] > 0.3
    assert (both.iloc[:, 0] - both.iloc[:, 1]).abs().median() < 0.1
    assert planted.abs().max() < 0.5  # log10 units: at most about x3 in power
