"""The default run on a 60-participant EEG-only study: time per step.

Simulates a realistic EEG-only study (60 participants, 4 arms, 2 sites), runs
``run_pipeline`` with the default configuration and 2 workers (cache off),
and prints the wall time of every step from ``provenance.json``. Then reruns
the prediction step alone twice in this process: with the numpy fast path of
the default pipelines, and with every fit through scikit-learn (the reference
a straightforward implementation would use); it checks the two give the same
metrics and reports the speed-up.

Usage::

    .venv/bin/python benchmarks/bench_default_run.py [--participants 60]
"""

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from neuromark.pipeline import make_config, run_pipeline
from neuromark.predict import validation
from neuromark.predict.study import predict_responders
from neuromark.simulation import simulate_study
from neuromark.stats import feature_family


def _prediction(result, config):
    stems = {
        "_".join(key)
        for key in feature_family(result["features_long"], config.stats.family)[
            ["modality", "feature", "location"]
        ].itertuples(index=False)
    }
    start = time.perf_counter()
    metrics, *_ = predict_responders(
        result["features_wide"],
        result["participants"],
        config.predict,
        family=stems,
        random_state=config.random_state,
        n_jobs=2,
    )
    return time.perf_counter() - start, metrics


def main():
    """Time the default run and its prediction step against scikit-learn fits."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = simulate_study(
            Path(tmp) / "study",
            n_participants=args.participants,
            seed=7,
            preset="realistic",
            modalities=["eeg"],
        )
        config = make_config(
            bids_root=root, output_dir=Path(tmp) / "out", n_jobs=2, cache=False
        )
        start = time.perf_counter()
        result = run_pipeline(config, verbose="error")
        total = time.perf_counter() - start
        provenance = json.loads((Path(tmp) / "out" / "provenance.json").read_text())
        print(
            f"default run, {args.participants} participants, EEG only, 2 workers: "
            f"{total:.0f} s"
        )
        for step, seconds in provenance["timings_s"].items():
            print(f"  {step:<12} {seconds:7.1f} s")
        fast, metrics = _prediction(result, config)
        scorer = validation.fast_scorer
        validation.fast_scorer = lambda estimator: None  # every fit by scikit-learn
        try:
            slow, reference = _prediction(result, config)
        finally:
            validation.fast_scorer = scorer
        close = np.allclose(
            metrics["auc"].to_numpy(float),
            reference["auc"].to_numpy(float),
            atol=1e-3,
            equal_nan=True,
        )
        print(
            f"prediction step: fast path {fast:.1f} s, scikit-learn fits {slow:.1f} s "
            f"(speed-up x{slow / fast:.1f}); AUCs equal within 1e-3: {close}"
        )


if __name__ == "__main__":
    main()
