"""Calibration of neuromark's tests and intervals on realistic simulated studies.

Four tables, each over many seeded studies of the ``realistic`` preset
(:mod:`neuromark.simulation.presets`):

1. false-positive rate of every reported test on null studies, including the
   arm-confounded null (response rate depends on the arm, and the treatment
   moves the markers of everyone in its arm, responder or not);
2. coverage of every reported interval for its named estimand;
3. power for the planted effects at n = 40, 80 and 160;
4. recovery of planted markers by the whole pipeline from simulated
   recordings (artefacts, missing alpha peaks, a noisy PAG).

Tables 1-3 use :func:`neuromark.simulation.simulate_features` (the same
planted parameters as the recordings, with the pipeline's measurement noise),
so hundreds of studies run in minutes; table 4 simulates and processes
recordings. Not part of the test suite: run it after changing a test, an
interval or a default, and paste its output into the README::

    python validation/calibrate.py              # about 30 min on 2 cores
    python validation/calibrate.py --quick      # a few minutes, wider MC error

Every study has its own seed (``--seed`` + study number), so the tables are
reproducible.
"""

import argparse
import dataclasses
import platform
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from neuromark.features import to_wide
from neuromark.predict.design import feature_columns
from neuromark.predict.models import make_model
from neuromark.predict.validation import validate
from neuromark.simulation import REALISTIC, simulate_features
from neuromark.stats import prepost_statistics, responder_statistics
from neuromark.stats.settings import StatsSettings

ALPHA = 0.05
STATS = StatsSettings(n_permutations=2000)
# the treatment moves markers in its whole arm; response carries no signal
ARM_CONFOUNDED = dataclasses.replace(
    REALISTIC, nonresponder_fraction=1.0, baseline_paf=0.0, baseline_fc={}
)
PLANTED = {  # (arm, modality, feature, location) of the planted changes
    "TENS occipital alpha": ("TENS", "eeg", "alpha_logpower", "occipital"),
    "NIBS PAF": ("NIBS", "eeg", "paf", "occipital"),
    "mindfulness frontal alpha": ("mindfulness", "eeg", "alpha_logpower", "frontal"),
    "TENS PAG~pgACC": ("TENS", "fmri", "fc", "PAG~pgACC"),
}


def _rate(hits):
    """Mean of per-study rates with a normal 95 % Monte-Carlo interval."""
    hits = np.asarray(hits, float)
    hits = hits[np.isfinite(hits)]
    mean = hits.mean()
    half = 1.96 * hits.std(ddof=1) / np.sqrt(len(hits)) if len(hits) > 1 else np.nan
    return mean, half


def _prediction_p(long, participants, feature_set, seed, n_permutations):
    """Pooled EEG+fMRI logistic analysis: AUC, its CI and permutation p."""
    wide = to_wide(long, participants=list(participants["participant_id"]))
    wide = wide.merge(participants[["participant_id"]], on="participant_id")
    columns = feature_columns(wide, "combined", feature_set)
    labelled = participants["responder"].notna().to_numpy()
    X = wide.loc[labelled, columns].to_numpy(float)
    y = participants.loc[labelled, "responder"].astype(int).to_numpy()
    result = validate(
        make_model("logistic", random_state=seed),
        X,
        y,
        np.arange(len(y)),
        n_splits=5,
        n_repeats=1,
        n_permutations=n_permutations,
        n_bootstrap=500,
        random_state=seed,
    )
    return result["metrics"]


def null_study(seed, n, n_permutations):
    """Rejections of every test on a plain null and an arm-confounded null."""
    out = {}
    long, participants = simulate_features(
        n, seed=seed, effect_size=0.0, baseline_effect=0.0
    )
    prepost = prepost_statistics(long, participants, STATS, random_state=seed)
    for column in ("p_t", "p_wilcoxon", "p_signflip"):
        out[f"pre/post {column} (null)"] = (prepost[column] < ALPHA).mean()
    out["pre/post any q_t < 0.05 per arm (null)"] = (
        prepost.groupby("intervention")["q_t"].min() < ALPHA
    ).mean()
    responders = responder_statistics(long, participants, STATS, random_state=seed)
    for column in ("p_welch", "p_permutation"):
        out[f"responders {column} (null)"] = (responders[column] < ALPHA).mean()
    metrics = _prediction_p(long, participants, "baseline", seed, n_permutations)
    out["prediction pooled baseline p (null)"] = metrics["p_permutation"] < ALPHA
    out["AUC CI covers 0.5 (null)"] = (
        metrics["auc_ci_low"] <= 0.5 <= (metrics["auc_ci_high"])
    )

    long, participants = simulate_features(n, seed=seed, preset=ARM_CONFOUNDED)
    responders = responder_statistics(long, participants, STATS, random_state=seed)
    for column in ("p_welch", "p_permutation"):
        out[f"responders {column} (arm-confounded)"] = (
            responders[column] < ALPHA
        ).mean()
    for feature_set in ("baseline", "change"):
        metrics = _prediction_p(long, participants, feature_set, seed, n_permutations)
        out[f"prediction pooled {feature_set} p (arm-confounded)"] = (
            metrics["p_permutation"] < ALPHA
        )
    out["AUC CI covers 0.5 (arm-confounded, change)"] = (
        metrics["auc_ci_low"] <= 0.5 <= metrics["auc_ci_high"]
    )
    return out


def population_truth(n=40000, seed=10**6):
    """Compute the estimands: population mean change and d_z per arm x marker."""
    long, participants = simulate_features(n, seed=seed)
    pairs = long.pivot_table(
        index=["modality", "feature", "location", "participant_id"],
        columns="session",
        values="value",
    )
    change = (pairs["post"] - pairs["pre"]).rename("change").reset_index()
    arms = participants.set_index("participant_id")["intervention"]
    change["intervention"] = change["participant_id"].map(arms)
    keys = ["intervention", "modality", "feature", "location"]
    grouped = change.groupby(keys)["change"]
    return pd.DataFrame(
        {"true_mean": grouped.mean(), "true_d_z": grouped.mean() / grouped.std()}
    )


def coverage_study(seed, n, truth):
    """Check whether each pre/post interval covers its population value."""
    long, participants = simulate_features(n, seed=seed)
    prepost = prepost_statistics(long, participants, STATS, random_state=seed)
    keys = ["intervention", "modality", "feature", "location"]
    merged = prepost.merge(truth.reset_index(), on=keys)
    mean_ok = (merged["ci_low"] <= merged["true_mean"]) & (
        merged["true_mean"] <= merged["ci_high"]
    )
    dz_ok = (merged["d_z_ci_low"] <= merged["true_d_z"]) & (
        merged["true_d_z"] <= merged["d_z_ci_high"]
    )
    return {
        "mean change, t CI (per arm x marker)": mean_ok.mean(),
        "d_z, normal-approximation CI": dz_ok.mean(),
    }


def power_study(seed, n, n_permutations):
    """Detect the planted effects in one realistic study."""
    long, participants = simulate_features(n, seed=seed)
    prepost = prepost_statistics(long, participants, STATS, random_state=seed)
    index = prepost.set_index(["intervention", "modality", "feature", "location"])
    out = {}
    for name, key in PLANTED.items():
        out[f"pre/post {name} (q_t < 0.05)"] = index.loc[key, "q_t"] < ALPHA
    responders = responder_statistics(long, participants, STATS, random_state=seed)
    tens = responders.set_index(["intervention", "modality", "feature", "location"])
    key = PLANTED["TENS occipital alpha"]
    out["responders vs non-responders, TENS alpha (p_welch)"] = (
        tens.loc[key, "p_welch"] < ALPHA if key in tens.index else np.nan
    )
    metrics = _prediction_p(long, participants, "baseline", seed, n_permutations)
    out["prediction pooled baseline, prognostic PAF d 0.5 (p)"] = (
        metrics["p_permutation"] < ALPHA
    )
    return out


def recovery_study(seed, n, workdir):
    """Whole pipeline on simulated recordings: measured vs planted markers."""
    from neuromark.pipeline import make_config, run_pipeline
    from neuromark.simulation import read_ground_truth, simulate_study

    root = simulate_study(
        Path(workdir) / f"study-{seed}",
        n_participants=n,
        seed=seed,
        preset="realistic",
        fmri_resolution=3.0,
        fmri_volumes=150,
        overwrite=True,
    )
    result = run_pipeline(
        make_config(bids_root=root, output_dir=Path(workdir) / f"out-{seed}"),
        steps=["discover", "check", "eeg", "fmri"],
        verbose="error",
    )
    truth = read_ground_truth(root)["participants"]
    long = result["features_long"].set_index(
        ["participant_id", "session", "modality", "feature", "location"]
    )["value"]
    rows = []
    for pid, entry in truth.items():
        for session, planted in entry["sessions"].items():

            def measured(modality, feature, location, pid=pid, session=session):
                key = (pid, session, modality, feature, location)
                return long.get(key, np.nan)

            eeg = planted["eeg"]
            rows.append(
                {
                    "peak": not eeg["no_alpha_peak"],
                    "planted_alpha": 2 * np.log10(eeg["alpha_gain"]),
                    "alpha": measured("eeg", "alpha_logpower", "occipital"),
                    "planted_paf": eeg["paf_hz"],
                    "paf": measured("eeg", "paf", "occipital"),
                    "planted_pag": planted["fmri"]["planted_correlation"]["PAG~pgACC"],
                    "pag": np.tanh(measured("fmri", "fc", "PAG~pgACC")),
                    "planted_cortex": planted["fmri"]["planted_correlation"][
                        "mPFC~pgACC"
                    ],
                    "cortex": np.tanh(measured("fmri", "fc", "mPFC~pgACC")),
                    "epochs": result["eeg_qc"]
                    .set_index(["participant_id", "session"])
                    .get("n_epochs", pd.Series(dtype=float))
                    .get((pid, session), np.nan),
                }
            )
    return pd.DataFrame(rows)


def _table(title, rows, columns):
    lines = [f"### {title}", "", "| " + " | ".join(columns) + " |"]
    lines.append("|" + "---|" * len(columns))
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _rates_table(title, outcomes, label):
    frame = pd.DataFrame(outcomes)
    rows = []
    for column in frame.columns:
        mean, half = _rate(frame[column])
        rows.append([column, f"{mean:.3f} ± {half:.3f}", frame[column].notna().sum()])
    return _table(title, rows, ["test or interval", label, "studies"])


def main(argv=None):
    """Run the four calibration tables and print them as markdown."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer studies")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("validation/results.md"))
    parser.add_argument("--workdir", type=Path, default=Path("validation/work"))
    args = parser.parse_args(argv)
    scale = 0.25 if args.quick else 1.0
    n_null, n_cover = int(200 * scale), int(400 * scale)
    n_power, n_perm = int(100 * scale), 100
    run = Parallel(n_jobs=args.n_jobs)
    start = time.perf_counter()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("", encoding="utf-8")
    sections = _Sections(args.out)
    sections.append(
        f"Run {date.today().isoformat()} on {platform.machine()} "
        f"({args.n_jobs} workers), seeds from {args.seed}"
        + (", quick mode" if args.quick else "")
        + ".\n"
    )

    nulls = run(delayed(null_study)(args.seed + k, 40, n_perm) for k in range(n_null))
    sections.append(
        _rates_table(
            f"1. False-positive rate at α = 0.05, n = 40 ({n_perm} permutations)",
            nulls,
            "rejection rate (95 % MC)",
        )
    )

    truth = population_truth()
    covers = run(
        delayed(coverage_study)(args.seed + 10**4 + k, 40, truth)
        for k in range(n_cover)
    )
    sections.append(
        _rates_table(
            "2. Coverage of 95 % intervals for their estimand, n = 40 (realistic)",
            covers,
            "coverage (95 % MC)",
        )
    )

    power_rows = {}
    for n in (40, 80, 160):
        outcomes = run(
            delayed(power_study)(args.seed + 2 * 10**4 + k, n, n_perm)
            for k in range(n_power)
        )
        for column, values in pd.DataFrame(outcomes).items():
            mean, half = _rate(values)
            power_rows.setdefault(column, []).append(f"{mean:.2f} ± {half:.2f}")
    sections.append(
        _table(
            f"3. Power at α = 0.05 (realistic preset, {n_power} studies per n)",
            [[name, *values] for name, values in power_rows.items()],
            ["planted effect", "n = 40", "n = 80", "n = 160"],
        )
    )

    n_recovery = 1 if args.quick else 3
    recovered = pd.concat(
        [
            recovery_study(args.seed + 3 * 10**4 + k, 16, args.workdir)
            for k in range(n_recovery)
        ],
        ignore_index=True,
    )
    peaked = recovered[recovered["peak"]]
    no_peak = recovered[~recovered["peak"]]
    rows = [
        [
            "occipital alpha log-power vs planted 2·log10(gain), r",
            f"{peaked[['alpha', 'planted_alpha']].corr().iloc[0, 1]:.2f}",
            len(peaked),
        ],
        [
            "PAF with a peak: median absolute error (Hz)",
            f"{(peaked['paf'] - peaked['planted_paf']).abs().median():.2f}",
            len(peaked),
        ],
        [
            "PAF without a peak: share reported as a number (should be 0)",
            f"{no_peak['paf'].notna().mean():.2f}" if len(no_peak) else "n/a",
            len(no_peak),
        ],
        [
            "mPFC~pgACC correlation vs planted: r / mean bias",
            f"{recovered[['cortex', 'planted_cortex']].corr().iloc[0, 1]:.2f} / "
            f"{(recovered['cortex'] - recovered['planted_cortex']).mean():+.2f}",
            recovered["cortex"].notna().sum(),
        ],
        [
            "PAG~pgACC correlation vs planted: r / mean bias",
            f"{recovered[['pag', 'planted_pag']].corr().iloc[0, 1]:.2f} / "
            f"{(recovered['pag'] - recovered['planted_pag']).mean():+.2f}",
            recovered["pag"].notna().sum(),
        ],
        [
            "clean 4-s epochs per 120-s recording: min-max",
            f"{recovered['epochs'].min():.0f}-{recovered['epochs'].max():.0f}",
            recovered["epochs"].notna().sum(),
        ],
    ]
    sections.append(
        _table(
            f"4. Recovery by the whole pipeline ({n_recovery} realistic studies of "
            "16 participants, recordings simulated and processed)",
            rows,
            ["marker", "value", "recordings"],
        )
    )
    sections.append(f"Total time {time.perf_counter() - start:.0f} s.\n")


class _Sections:
    """Print each finished table and append it to the results file at once."""

    def __init__(self, path):
        self.path = path

    def append(self, text):
        print(text, flush=True)
        with self.path.open("a", encoding="utf-8") as out:
            out.write(text + "\n")


if __name__ == "__main__":
    main()
