"""Benchmark permutation validation: parallel speed-up and cost per fit.

200 participants x 100 features, the default lasso logistic pipeline,
5-fold CV repeated 5 times for the observed labels and for each of 200 label
permutations (the same repeats): 5025 fits. Runs with n_jobs=1 and n_jobs=2,
checks the metrics are identical, and prints the speed-up and the cost per
fit.

Run: ``python benchmarks/bench_predict.py [--permutations 200]``
"""

import argparse
import time

import numpy as np

from neuromark.predict import make_model, validate


def main():
    """Time the validation with one and two workers."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--permutations", type=int, default=200)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 100))
    y = np.repeat([0, 1], 100)
    X[y == 1, :5] += 0.4
    options = dict(
        n_splits=5,
        n_repeats=5,
        n_permutations=args.permutations,
        n_bootstrap=1000,
        random_state=0,
    )
    n_fits = 5 * 5 * (1 + args.permutations)
    timings, results = {}, {}
    for n_jobs in (1, 2):
        start = time.perf_counter()
        results[n_jobs] = validate(
            make_model("logistic", penalty="l1"),
            X,
            y,
            np.arange(200),
            n_jobs=n_jobs,
            **options,
        )
        timings[n_jobs] = time.perf_counter() - start
    assert results[1]["metrics"] == results[2]["metrics"]
    metrics = results[1]["metrics"]
    print(
        f"AUC {metrics['auc']:.3f} [{metrics['auc_ci_low']:.3f}, "
        f"{metrics['auc_ci_high']:.3f}], permutation p {metrics['p_permutation']:.4f}; "
        "identical metrics with 1 and 2 workers"
    )
    per_fit = 1000 * timings[1] / n_fits
    speed_up = timings[1] / timings[2]
    print(
        f"{n_fits} fits: n_jobs=1 {timings[1]:.1f} s ({per_fit:.1f} ms/fit), "
        f"n_jobs=2 {timings[2]:.1f} s -> speed-up x{speed_up:.2f}"
    )


if __name__ == "__main__":
    main()
