"""Inference of response prediction: design-respecting permutations and folds,
family-wise p-values, the BBC-CV interval, calibration, the arm increment."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from neuromark.predict import (
    block_permutation,
    make_model,
    max_t_pvalues,
    out_of_bag_auc,
    validate,
    validate_analyses,
)
from neuromark.predict.classifiers import SparseLogisticRegression
from neuromark.predict.validation import (
    calibration,
    fold_strata,
    grouped_splits,
    oof_scores,
)

FAST = dict(n_splits=5, n_repeats=2, n_permutations=40, n_bootstrap=300)


def test_labels_never_cross_permutation_blocks():
    rng = np.random.default_rng(0)
    blocks = np.repeat(["TENS|A", "TENS|B", "sham|A", "NIBS|B"], [9, 7, 12, 8])
    y = rng.integers(0, 2, len(blocks))
    seen = set()
    for _ in range(200):
        permuted = block_permutation(y, blocks, rng)
        for block in np.unique(blocks):
            rows = blocks == block
            assert permuted[rows].sum() == y[rows].sum()
        seen.add(permuted.tobytes())
    assert len(seen) > 150  # and it does permute


def test_folds_are_stratified_on_arm_and_label():
    arms = np.repeat(["NIBS", "TENS", "sham"], [20, 20, 20])
    y = np.r_[np.repeat([1, 0], [15, 5]), np.repeat([1, 0], [5, 15]), [1] * 5, [0] * 15]
    strata = fold_strata(y, arms, 5)
    for seed in range(5):
        for _train, test in grouped_splits(strata, np.arange(60), 5, seed):
            for arm in np.unique(arms):
                for label in (0, 1):
                    cell = (arms == arm) & (y == label)
                    # every arm x label cell is spread evenly over the folds
                    assert cell[test].sum() in {
                        cell.sum() // 5,
                        -(-cell.sum() // 5),
                    }
    # a cell smaller than the number of folds falls back to the label
    rare = fold_strata(np.r_[1, 1, [0] * 10], np.array(["A"] * 2 + ["B"] * 10), 5)
    assert list(rare[:2]) == [1, 1]


def _arm_confounded(seed, n_per_arm=30):
    """Response depends on the arm; a feature marks the arm; no within-arm signal."""
    rng = np.random.default_rng(seed)
    arms = np.repeat(["TENS", "sham"], n_per_arm)
    y = np.r_[rng.random(n_per_arm) < 0.8, rng.random(n_per_arm) < 0.15].astype(int)
    X = rng.standard_normal((2 * n_per_arm, 3))
    X[:, 0] += 3.0 * (arms == "TENS")  # the treatment moved it in its whole arm
    return X, y, arms


def test_within_arm_permutations_do_not_reward_arm_information():
    X, y, arms = _arm_confounded(1)
    ids = np.arange(len(y))
    free = validate(make_model("logistic"), X, y, ids, **FAST)["metrics"]
    restricted = validate(
        make_model("logistic"), X, y, ids, arms=arms, blocks=arms, **FAST
    )["metrics"]
    assert free["auc"] > 0.7 and free["p_permutation"] < 0.05
    assert restricted["p_permutation"] > 0.2


def test_increment_over_the_arm_baseline_and_max_t():
    X, y, arms = _arm_confounded(2, n_per_arm=40)
    rng = np.random.default_rng(3)
    X[:, 1] += 2.5 * y  # a real within-arm marker
    arm = (arms == "TENS").astype(float)[:, None]
    with_arm = np.column_stack([X, arm])
    noise = np.column_stack([rng.standard_normal((len(y), 3)), arm])
    results = validate_analyses(
        {
            "dummy": (make_model("dummy"), np.zeros((len(y), 1))),
            "arm": (make_model("logistic"), arm),
            "marker": (make_model("logistic"), with_arm),
            "noise": (make_model("logistic"), noise),
        },
        y,
        np.arange(len(y)),
        arms=arms,
        blocks=arms,
        reference="arm",
        family=["marker", "noise"],
        **FAST,
    )
    marker, noise = results["marker"]["metrics"], results["noise"]["metrics"]
    assert marker["auc_increment"] > 0.1 and marker["auc_increment_ci_low"] > 0
    assert marker["p_increment"] < 0.05 and marker["p_fwer"] < 0.05
    assert noise["auc_increment_ci_low"] < 0 < noise["auc_increment_ci_high"]
    assert noise["p_fwer"] >= noise["p_permutation"]
    # the arm baseline is about as good under arm-preserving permutations
    assert results["arm"]["metrics"]["p_permutation"] > 0.2
    assert results["dummy"]["null_auc"].size == 0
    assert np.isnan(results["dummy"]["metrics"]["p_permutation"])


def test_max_t_matches_brute_force():
    rng = np.random.default_rng(4)
    null = rng.normal(0.5, [0.05, 0.08, 0.1], size=(500, 3))
    observed = np.array([0.62, 0.62, 0.45])
    p = max_t_pvalues(observed, null)
    z_null = (null - null.mean(0)) / null.std(0)
    z_obs = (observed - null.mean(0)) / null.std(0)
    expected = [(1 + np.sum(z_null.max(1) >= z)) / 501 for z in z_obs]
    np.testing.assert_allclose(p, expected)
    marginal = [(1 + np.sum(null[:, k] >= observed[k])) / 501 for k in range(3)]
    assert np.all(p >= np.array(marginal) - 1e-12)


def test_out_of_bag_auc_uses_only_left_out_participants():
    rng = np.random.default_rng(5)
    y = np.repeat([0, 1], 20)
    scores = rng.random((2, 3, 40))
    values = out_of_bag_auc(y, scores, n_bootstrap=50, random_state=7)
    assert values.shape[1] == 2 and 45 <= values.shape[0] <= 50
    # the first resample, rebuilt by hand
    draw = np.random.default_rng(7).integers(0, 40, 40)
    left_out = np.setdiff1d(np.arange(40), draw)
    expected = np.mean([roc_auc_score(y[left_out], s[left_out]) for s in scores[1]])
    assert values[0, 1] == pytest.approx(expected)


def test_calibration_matches_statsmodels():
    import statsmodels.api as sm

    rng = np.random.default_rng(6)
    risk = rng.uniform(0.05, 0.95, 300)
    y = (rng.random(300) < risk**1.5).astype(int)  # miscalibrated on purpose
    slope, intercept = calibration(y, risk)
    lp = np.log(risk / (1 - risk))
    fit = sm.Logit(y, sm.add_constant(lp)).fit(disp=0)
    assert slope == pytest.approx(fit.params[1], rel=1e-6)
    offset = sm.GLM(
        y, np.ones((300, 1)), family=sm.families.Binomial(), offset=lp
    ).fit()
    assert intercept == pytest.approx(offset.params[0], abs=1e-6)


def test_balanced_weights_give_risks_at_the_training_prevalence():
    rng = np.random.default_rng(8)
    y = (rng.random(200) < 0.25).astype(int)
    X = rng.standard_normal((200, 3)) + 0.8 * y[:, None]
    ids = np.arange(200)
    balanced = oof_scores(make_model("logistic"), X, y, ids, n_splits=5, seed=0)
    plain = oof_scores(
        make_model("logistic", class_weight=None), X, y, ids, n_splits=5, seed=0
    )
    # the reweighting is undone: risks average to the prevalence, like unweighted
    assert balanced.mean() == pytest.approx(y.mean(), abs=0.04)
    assert np.corrcoef(balanced, plain)[0, 1] > 0.98
    metrics = validate(make_model("logistic"), X, y, ids, **FAST)["metrics"]
    assert 0.6 < metrics["calibration_slope"] < 1.6
    assert abs(metrics["calibration_intercept"]) < 0.3
    # thresholding at the training prevalence balances the errors
    assert abs(metrics["sensitivity"] - metrics["specificity"]) < 0.25
    assert 0 < metrics["pr_auc"] < 1


def test_deconfounder_passes_covariates_through():
    from neuromark.predict.harmonize import Deconfounder

    rng = np.random.default_rng(9)
    features = rng.standard_normal((30, 2))
    arm = rng.integers(0, 2, (30, 1)).astype(float)
    site = rng.integers(0, 3, (30, 1)).astype(float)
    out = Deconfounder(site=True, n_passthrough=1).fit_transform(
        np.hstack([features, arm, site])
    )
    assert out.shape == (30, 3)
    np.testing.assert_array_equal(out[:, 2], arm[:, 0])


@pytest.mark.parametrize("class_weight", ["balanced", None])
def test_fast_path_equals_scikit_learn(class_weight):
    from sklearn.base import clone

    from neuromark.predict._fast import fast_scorer

    rng = np.random.default_rng(10)
    X = rng.standard_normal((50, 6)) * [1, 10, 0.1, 1, 1, 1] + [0, 5, 0, 0, 0, 0]
    X[rng.random(X.shape) < 0.1] = np.nan
    X[:, 5] = np.nan  # a column nobody has
    X[:, 4] = 3.0  # a constant column
    y = (rng.random(50) < 0.35).astype(int)
    X[y == 1, 0] += 1.0
    model = make_model("logistic", class_weight=class_weight)
    scorer = fast_scorer(model)
    assert scorer is not None
    # the same objective: equal to lbfgs run to a tight tolerance
    exact = clone(model).set_params(logisticregression__tol=1e-10)
    for train, test in grouped_splits(y, np.arange(50), 5, 0):
        expected = exact.fit(X[train], y[train]).predict_proba(X[test])[:, 1]
        np.testing.assert_allclose(
            scorer(X[train], y[train], X[test]), expected, atol=1e-6
        )
    # anything else goes through scikit-learn
    assert fast_scorer(make_model("svm")) is None
    assert fast_scorer(make_model("logistic", tune=True)) is None
    assert fast_scorer(make_model("logistic", n_confounds=1)) is None


@parametrize_with_checks([SparseLogisticRegression()])
def test_sparse_logistic_is_a_scikit_learn_classifier(estimator, check):
    check(estimator)


def test_sparse_logistic_penalty_does_not_depend_on_n():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(11)
    X = rng.standard_normal((200, 10))
    y = (X[:, 0] + rng.standard_normal(200) > 0).astype(int)
    model = SparseLogisticRegression(alpha=0.05).fit(X, y)
    reference = LogisticRegression(
        C=1 / (0.05 * 200),
        l1_ratio=1.0,
        solver="liblinear",
        intercept_scaling=100.0,
        class_weight="balanced",
        tol=1e-6,
        random_state=0,
    ).fit(X, y)
    np.testing.assert_allclose(model.coef_, reference.coef_)
    assert model.coef_[0, 0] > 0.3 and np.sum(model.coef_ != 0) <= 4  # sparse
    # the same data twice over: the same mean loss, the same model
    doubled = SparseLogisticRegression(alpha=0.05).fit(np.vstack([X, X]), np.r_[y, y])
    np.testing.assert_allclose(doubled.coef_, model.coef_, atol=2e-3)
    # the default pipeline's fast path fits the same lasso on numpy-scaled rows
    from sklearn.base import clone

    from neuromark.predict._fast import fast_scorer

    pipeline = make_model("logistic", penalty="l1", alpha=0.05)
    X[rng.random(X.shape) < 0.05] = np.nan
    expected = clone(pipeline).fit(X[:150], y[:150]).predict_proba(X[150:])[:, 1]
    scores = fast_scorer(pipeline)(X[:150], y[:150], X[150:])
    np.testing.assert_allclose(scores, expected, atol=1e-6)  # liblinear's tol
