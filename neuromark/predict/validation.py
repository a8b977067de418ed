"""Honest validation of response classifiers.

Every fit runs on training folds only: imputation, scaling and any selection
live inside the scikit-learn ``Pipeline`` being validated. Splits are grouped
by participant and stratified on arm x label, so that every fold sees each
arm's responders and non-responders in their study proportions.

The analyses of one scope (the chance and covariate baselines, every neural
model) are validated together on the same splits and the same label
permutations: the permutation p of each, the family-wise (max-T) p across the
secondary ones and the increment over the covariate baseline all come from
one shared set of permuted studies. Permutations are restricted within
intervention x site blocks, so an arm that responds more often than another
carries no signal under the null. Observed and permuted labels are validated
with the same number of repeats. All fits are independent joblib tasks whose
seeds are fixed before dispatch, so results do not depend on ``n_jobs`` or the
joblib backend (loky, threads, Dask).

The AUC interval is the out-of-bag bootstrap of the out-of-fold predictions
of BBC-CV (Tsamardinos, Greasidou & Borboudakis 2018, Mach Learn 107:1895,
without a configuration to select: the analysis is pre-specified and any
tuning is nested). Its estimand is the AUC, on new participants of the same
population, of the model refitted on all participants of the scope (the
saved model); its coverage is measured in ``validation/calibrate.py``.
"""

import warnings

import numpy as np
import sklearn
from joblib import Parallel, delayed
from scipy.optimize import brentq
from scipy.special import expit, logit
from scipy.stats import rankdata
from sklearn.base import clone
from sklearn.dummy import DummyClassifier
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

from ..exceptions import NeuromarkError
from ..utils._progress import progress_bar
from ._fast import fast_scorer

PERMUTATIONS_PER_TASK = 8  # fixed, so that results do not depend on n_jobs


class DesignError(NeuromarkError, ValueError):
    """The data cannot support the requested validation (too few per class...)."""


def check_design(y, n_splits):
    """Refuse designs that cannot be cross-validated.

    Parameters
    ----------
    y : array-like of {0, 1}
        Labels (1 = responder).
    n_splits : int
        Folds.
    """
    y = np.asarray(y)
    counts = {int(c): int((y == c).sum()) for c in (0, 1)}
    if min(counts.values()) < n_splits:
        raise DesignError(
            f"{counts[1]} responders and {counts[0]} non-responders: each class "
            f"needs at least {n_splits} participants for {n_splits}-fold "
            "cross-validation (lower predict.n_splits or add participants)"
        )


def is_probabilistic(estimator):
    """Whether the estimator scores with probabilities (else decision values).

    Parameters
    ----------
    estimator : estimator
        A classifier or pipeline.
    """
    return hasattr(clone(estimator), "predict_proba")


def is_balanced(estimator):
    """Whether the estimator reweights classes (``class_weight="balanced"``).

    Parameters
    ----------
    estimator : estimator
        A classifier or pipeline.
    """
    return any(
        key.endswith("class_weight") and value == "balanced"
        for key, value in estimator.get_params().items()
    )


def is_chance(estimator):
    """Whether the estimator is a chance baseline (a dummy classifier).

    Parameters
    ----------
    estimator : estimator
        A classifier or pipeline.
    """
    last = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    return isinstance(last, DummyClassifier)


def _scores(model, X):
    if hasattr(model, "predict_proba"):
        return model.predict_proba(X)[:, 1]
    return model.decision_function(X)


def fold_strata(y, arms=None, n_splits=5):
    """Stratification codes of arm x label.

    An arm x label cell with fewer than ``n_splits`` participants cannot be
    spread over the folds; its participants are stratified on the label only.

    Parameters
    ----------
    y : ndarray, shape (n_samples,)
        Labels.
    arms : ndarray, shape (n_samples,) | None
        Intervention of each sample (None: the label only).
    n_splits : int
        Folds.
    """
    y = np.asarray(y, int)
    if arms is None:
        return y
    _, arm_codes = np.unique(np.asarray(arms), return_inverse=True)
    strata = 2 * (arm_codes + 1) + y
    values, counts = np.unique(strata, return_counts=True)
    rare = np.isin(strata, values[counts < n_splits])
    strata[rare] = y[rare]
    return strata


def grouped_splits(strata, groups, n_splits, seed):
    """Stratified K-fold splits that never separate a participant's rows.

    Parameters
    ----------
    strata : ndarray of int
        Stratification codes (:func:`fold_strata`).
    groups : ndarray
        Participant of each row.
    n_splits, seed : int
        Folds and the seed of their shuffle.

    Notes
    -----
    With one row per participant (the usual design) this is
    ``StratifiedKFold``; otherwise ``StratifiedGroupKFold``, whose search for
    balanced groups is much slower.
    """
    rows = np.zeros((len(strata), 1))
    with warnings.catch_warnings():
        # a stratum smaller than n_splits is spread as well as it can be
        warnings.filterwarnings("ignore", "The least populated class", UserWarning)
        if len(np.unique(groups)) == len(groups):
            cv = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
            return list(cv.split(rows, strata))
        cv = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
        return list(cv.split(rows, strata, groups))


def block_permutation(y, blocks, rng):
    """Permute labels within blocks (e.g. intervention x site).

    Parameters
    ----------
    y : ndarray
        Labels.
    blocks : ndarray | None
        Block of each row; ``None``: one block.
    rng : numpy.random.Generator
        Source of the permutation.

    Returns
    -------
    permuted : ndarray
        ``y`` with labels exchanged only between rows of the same block, so
        every block keeps its number of responders.
    """
    y = np.asarray(y)
    if blocks is None:
        return rng.permutation(y)
    permuted = y.copy()
    for block in np.unique(blocks):
        rows = np.flatnonzero(blocks == block)
        permuted[rows] = y[rng.permutation(rows)]
    return permuted


def _fold_scores(estimators, Xs, y, groups, arms, n_splits, seed):
    """Out-of-fold scores and decision thresholds of every analysis, one repeat.

    Probabilities of class-reweighted models are mapped back to the training
    prevalence (prior correction, King & Zeng 2001) so that they can be read
    as risks; the decision threshold of probabilities is the training
    prevalence, that of decision values 0 (the reweighted margin).
    """
    scores = np.full((len(estimators), len(y)), np.nan)
    thresholds = np.zeros((len(estimators), len(y)))
    strata = fold_strata(y, arms, n_splits)
    kinds = [(is_probabilistic(e), is_balanced(e)) for e in estimators]
    fast = [fast_scorer(e) for e in estimators]
    # inputs were validated once; skip sklearn's per-fit checks
    with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
        for train, test in grouped_splits(strata, groups, n_splits, seed):
            if set(groups[train]) & set(groups[test]):  # guarded by construction
                raise RuntimeError("a participant is in both the train and test folds")
            prevalence = y[train].mean()
            for k, (estimator, X) in enumerate(zip(estimators, Xs)):
                if fast[k] is not None:
                    fold = fast[k](X[train], y[train], X[test])
                else:
                    model = clone(estimator).fit(X[train], y[train])
                    fold = _scores(model, X[test])
                probabilistic, balanced = kinds[k]
                if probabilistic:
                    if balanced:
                        fold = _prior_corrected(fold, prevalence)
                    thresholds[k, test] = prevalence
                scores[k, test] = fold
    return scores, thresholds


def _prior_corrected(probabilities, prevalence):
    """Shift reweighted (50 : 50) probabilities to the training prevalence."""
    clipped = np.clip(probabilities, 1e-9, 1 - 1e-9)
    return expit(logit(clipped) + logit(prevalence))


def oof_scores(estimator, X, y, groups, *, n_splits, seed, arms=None):
    """Out-of-fold scores of one repetition of grouped, stratified K-fold.

    Parameters
    ----------
    estimator : estimator
        Classifier (cloned for every fold).
    X : ndarray, shape (n_samples, n_features)
        Design.
    y : ndarray, shape (n_samples,)
        Labels.
    groups : ndarray, shape (n_samples,)
        Participant of each sample (never split across folds).
    n_splits : int
        Folds.
    seed : int
        Seed of the fold assignment.
    arms : ndarray, shape (n_samples,) | None
        Intervention of each sample, stratified with the label.

    Returns
    -------
    scores : ndarray, shape (n_samples,)
        Probability of response (or decision value) of each sample, predicted
        by a model that never saw its participant.
    """
    y, groups = np.asarray(y, int), np.asarray(groups)
    X = np.asarray(X, float)
    return _fold_scores([estimator], [X], y, groups, arms, n_splits, seed)[0][0]


def _repeats(estimators, Xs, y, groups, arms, n_splits, seeds):
    """Scores and thresholds, shape (n_analyses, n_repeats, n_samples)."""
    runs = [_fold_scores(estimators, Xs, y, groups, arms, n_splits, s) for s in seeds]
    return np.stack([r[0] for r in runs], 1), np.stack([r[1] for r in runs], 1)


def _null_aucs(estimators, Xs, label_sets, groups, arms, n_splits, seeds):
    """Repeat-averaged AUC of every analysis for each permuted label vector."""
    out = np.empty((len(label_sets), len(estimators)))
    for k, labels in enumerate(label_sets):
        scores, _ = _repeats(estimators, Xs, labels, groups, arms, n_splits, seeds)
        out[k] = rank_auc(np.broadcast_to(labels, scores.shape), scores).mean(axis=1)
    return out


def rank_auc(y, scores):
    """ROC AUC of many samples at once (Mann-Whitney U with mid-ranks for ties).

    Parameters
    ----------
    y : ndarray of {0, 1}, shape (..., n_samples)
        Labels; every set needs both classes.
    scores : ndarray, same shape
        Scores.

    Returns
    -------
    auc : float or ndarray, shape (...)
        Equal to ``sklearn.metrics.roc_auc_score`` of each set.
    """
    y, scores = np.asarray(y), np.asarray(scores)
    ranks = rankdata(scores, axis=-1)
    n_pos = y.sum(axis=-1)
    n_neg = y.shape[-1] - n_pos
    auc = ((ranks * y).sum(axis=-1) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    return float(auc) if y.ndim == 1 else auc


def calibration(y, probabilities):
    """Calibration slope and intercept (calibration-in-the-large) of risks.

    The slope is that of a logistic regression of the outcome on the logit
    of the predicted risk (ideal 1; below 1: predictions too extreme); the
    intercept is that of the same regression with the slope fixed at 1
    (ideal 0; positive: risks too low on average). Van Calster et al. 2019,
    BMC Medicine 17:230.

    Parameters
    ----------
    y : ndarray, shape (n_samples,)
        Outcomes (0/1).
    probabilities : ndarray, shape (n_samples,)
        Predicted risks.

    Returns
    -------
    slope, intercept : float
        NaN when the regression does not converge (separable outcome).
    """
    y = np.asarray(y, float)
    lp = logit(np.clip(probabilities, 1e-9, 1 - 1e-9))
    intercept = brentq(lambda a: expit(a + lp).mean() - y.mean(), -50, 50)
    design = np.column_stack([np.ones_like(lp), lp])
    beta = np.zeros(2)
    for _ in range(50):  # Newton-Raphson of the two-parameter logistic model
        p = expit(design @ beta)
        hessian = design.T @ (design * (p * (1 - p))[:, None])
        try:
            step = np.linalg.solve(hessian, design.T @ (y - p))
        except np.linalg.LinAlgError:
            return np.nan, intercept
        beta += step
        if np.max(np.abs(step)) < 1e-8:
            return (beta[1] if abs(beta[1]) < 1e3 else np.nan), intercept
    return np.nan, intercept


def classification_metrics(y, scores, thresholds=None, *, probabilistic=True):
    """Discrimination, classification and calibration of one set of scores.

    Parameters
    ----------
    y : ndarray of {0, 1}
        Labels.
    scores : ndarray
        Out-of-fold risks (or decision values).
    thresholds : ndarray | float | None
        Decision threshold of each score (the training prevalence of its
        fold); default 0.5 for risks, 0 for decision values.
    probabilistic : bool
        Whether scores are risks (Brier score and calibration need them).

    Returns
    -------
    metrics : dict
        ``auc``, ``pr_auc`` (average precision), ``balanced_accuracy``,
        ``sensitivity``, ``specificity``, ``brier``, ``calibration_slope``,
        ``calibration_intercept``.
    """
    if thresholds is None:
        thresholds = 0.5 if probabilistic else 0.0
    predicted = scores >= thresholds
    positive, negative = y == 1, y == 0
    sensitivity = predicted[positive].mean()
    specificity = 1 - predicted[negative].mean()
    slope, intercept = calibration(y, scores) if probabilistic else (np.nan, np.nan)
    return {
        "auc": roc_auc_score(y, scores),
        "pr_auc": average_precision_score(y, scores),
        "balanced_accuracy": (sensitivity + specificity) / 2,
        "sensitivity": sensitivity,
        "specificity": specificity,
        "brier": float(np.mean((scores - y) ** 2)) if probabilistic else np.nan,
        "calibration_slope": slope,
        "calibration_intercept": intercept,
    }


def out_of_bag_auc(y, scores, *, n_bootstrap=2000, random_state=0):
    """Out-of-bag bootstrap AUCs of out-of-fold predictions (BBC-CV).

    Parameters
    ----------
    y : ndarray of {0, 1}, shape (n_samples,)
        Labels.
    scores : ndarray, shape (n_analyses, n_repeats, n_samples)
        Out-of-fold scores of each analysis and repeat.
    n_bootstrap : int
        Participant resamples.
    random_state : int
        Seed of the resamples (shared by all analyses, so differences
        between analyses are paired).

    Returns
    -------
    auc : ndarray, shape (n_resamples, n_analyses)
        For each resample with both classes out of the bag, the AUC of the
        participants left out of it, averaged over repeats.
    """
    rng = np.random.default_rng(random_state)
    n_analyses, n_repeats, n = scores.shape
    out = []
    for _ in range(n_bootstrap):
        out_of_bag = np.ones(n, bool)
        out_of_bag[rng.integers(0, n, n)] = False
        labels = y[out_of_bag]
        if labels.min() == labels.max():
            continue
        values = scores[:, :, out_of_bag]
        aucs = rank_auc(np.broadcast_to(labels, values.shape), values)
        out.append(aucs.mean(axis=1))
    return np.array(out).reshape(-1, n_analyses)


def _interval(values, confidence):
    tail = (1 - confidence) / 2
    if len(values) == 0:
        return np.nan, np.nan
    low, high = np.quantile(values, [tail, 1 - tail])
    return float(low), float(high)


def _p_value(null, observed):
    """Permutation p, counting the observed labelling among the permutations."""
    if len(null) == 0 or not np.isfinite(observed):
        return np.nan
    return float((1 + np.sum(null >= observed - 1e-12)) / (1 + len(null)))


def max_t_pvalues(observed, null):
    """Family-wise p-values by the studentised max-T permutation method.

    Parameters
    ----------
    observed : ndarray, shape (n_tests,)
        Observed statistics (e.g. AUCs).
    null : ndarray, shape (n_permutations, n_tests)
        The same statistics on shared permutations.

    Returns
    -------
    p : ndarray, shape (n_tests,)
        ``(1 + #{max_j T*_j >= T_i}) / (1 + n_permutations)`` with each
        statistic standardised by its own null mean and SD (Westfall & Young
        1993), controlling the family-wise error rate across the tests.
    """
    observed, null = np.asarray(observed, float), np.asarray(null, float)
    if null.size == 0:
        return np.full(observed.shape, np.nan)
    centre, spread = null.mean(axis=0), null.std(axis=0)
    spread[spread == 0] = 1.0
    maxima = ((null - centre) / spread).max(axis=1)
    studentised = (observed - centre) / spread
    return np.array([_p_value(maxima, t) for t in studentised])


def validate_analyses(
    analyses,
    y,
    groups,
    *,
    arms=None,
    blocks=None,
    reference=None,
    family=(),
    n_splits=5,
    n_repeats=5,
    n_permutations=200,
    n_bootstrap=2000,
    confidence=0.95,
    random_state=0,
    n_jobs=1,
    progress=False,
):
    """Validate the analyses of one scope on shared splits and permutations.

    Parameters
    ----------
    analyses : dict of str to (estimator, ndarray)
        Name -> (pipeline, design matrix) for the same participants.
    y : ndarray of {0, 1}
        Labels.
    groups : ndarray
        Participant of each row; a participant never spans train and test.
    arms : ndarray | None
        Arm of each row: folds are stratified on arm x label.
    blocks : ndarray | None
        Exchangeability block of each row (intervention x site): labels are
        permuted within blocks only.
    reference : str | None
        The covariate-only analysis (arm, site): every other analysis except
        the chance baseline gets its AUC increment over it, with a paired out-of-bag
        interval and a permutation p.
        Chance baselines (dummy classifiers) are not permuted.
    family : sequence of str
        Analyses whose permutation p-values are also corrected together
        (``p_fwer``, max-T).
    n_splits, n_repeats : int
        Folds and repetitions of the grouped, stratified K-fold (the same
        for observed and permuted labels).
    n_permutations : int
        Within-block label permutations (shared by all analyses).
    n_bootstrap : int
        Out-of-bag resamples of the AUC interval.
    confidence : float
        Interval level.
    random_state : int
        Seed of splits, permutations and resamples.
    n_jobs : int
        Parallel joblib tasks (results do not depend on it).
    progress : bool | "auto"
        Progress bar over the permuted studies.

    Returns
    -------
    results : dict of str to dict
        Per analysis: ``metrics`` (means over repeats of
        :func:`classification_metrics`, computed per repeat; ``auc_ci_low``/
        ``auc_ci_high``, the out-of-bag interval; ``p_permutation``; with a
        reference, ``auc_increment`` with its interval and ``p_increment``;
        in the family, ``p_fwer``), ``oof`` (mean out-of-fold score per
        sample), ``null_auc`` (repeat-averaged AUC per permutation).
    """
    names = list(analyses)
    estimators = [analyses[name][0] for name in names]
    Xs = [np.asarray(analyses[name][1], float) for name in names]
    y, groups = np.asarray(y, int), np.asarray(groups)
    check_design(y, n_splits)
    sequence = np.random.SeedSequence(random_state)
    repeat_seeds = [int(s) for s in sequence.generate_state(n_repeats)]
    permute_seed, bootstrap_seed = (
        int(s) for s in sequence.spawn(1)[0].generate_state(2)
    )
    rng = np.random.default_rng(permute_seed)
    permuted = [block_permutation(y, blocks, rng) for _ in range(n_permutations)]
    # the chance baseline scores everyone alike: its AUC is 0.5 under any labels
    tested = [k for k, e in enumerate(estimators) if not is_chance(e)]
    chunks = [
        permuted[k : k + PERMUTATIONS_PER_TASK]
        for k in range(0, n_permutations, PERMUTATIONS_PER_TASK)
    ]
    common = (groups, arms, n_splits, repeat_seeds)
    tasks = [delayed(_repeats)(estimators, Xs, y, *common)]
    if tested:
        chunk_args = ([estimators[k] for k in tested], [Xs[k] for k in tested])
        tasks += [delayed(_null_aucs)(*chunk_args, chunk, *common) for chunk in chunks]
    outputs = Parallel(n_jobs=n_jobs, return_as="generator")(tasks)
    outputs = list(
        progress_bar(outputs, total=len(tasks), desc="validation", enabled=progress)
    )
    scores, thresholds = outputs[0]
    null = np.full((n_permutations, len(names)), np.nan)
    if tested and n_permutations:
        null[:, tested] = np.concatenate(outputs[1:])
    oob = out_of_bag_auc(
        y, scores, n_bootstrap=n_bootstrap, random_state=bootstrap_seed
    )
    results = {}
    for k, (name, estimator) in enumerate(zip(names, estimators)):
        probabilistic = is_probabilistic(estimator)
        per_repeat = [
            classification_metrics(y, s, t, probabilistic=probabilistic)
            for s, t in zip(scores[k], thresholds[k])
        ]
        metrics = {
            key: float(np.mean([m[key] for m in per_repeat])) for key in per_repeat[0]
        }
        low, high = _interval(oob[:, k], confidence)
        metrics |= {
            "auc_ci_low": low,
            "auc_ci_high": high,
            "p_permutation": _p_value(null[:, k], metrics["auc"])
            if k in tested
            else np.nan,
        }
        results[name] = {
            "metrics": metrics,
            "oof": scores[k].mean(axis=0),
            "null_auc": null[:, k] if k in tested else np.array([]),
        }
    if reference is not None:
        base = names.index(reference)
        for k in tested:
            if k == base:
                continue
            metrics = results[names[k]]["metrics"]
            increment = metrics["auc"] - results[reference]["metrics"]["auc"]
            low, high = _interval(oob[:, k] - oob[:, base], confidence)
            metrics |= {
                "auc_increment": increment,
                "auc_increment_ci_low": low,
                "auc_increment_ci_high": high,
                "p_increment": _p_value(null[:, k] - null[:, base], increment),
            }
    members = [names.index(name) for name in family if name in names]
    if members and n_permutations:
        observed = [results[names[k]]["metrics"]["auc"] for k in members]
        for k, p in zip(members, max_t_pvalues(observed, null[:, members])):
            results[names[k]]["metrics"]["p_fwer"] = p
    return results


def validate(estimator, X, y, groups, *, arms=None, blocks=None, **options):
    """Validate one classifier (:func:`validate_analyses` with one analysis).

    Parameters
    ----------
    estimator : estimator
        Classifier.
    X : ndarray, shape (n_samples, n_features)
        Design.
    y : ndarray, shape (n_samples,)
        Labels.
    groups : ndarray, shape (n_samples,)
        Participant of each sample.
    arms : ndarray, shape (n_samples,) | None
        Intervention of each sample (stratification).
    blocks : ndarray, shape (n_samples,) | None
        Exchangeability blocks of the permutations.
    **options
        Further arguments of :func:`validate_analyses` (``n_splits``,
        ``n_repeats``, ``n_permutations``...).

    Returns
    -------
    result : dict
        ``metrics``, ``oof`` and ``null_auc`` of the analysis.
    """
    return validate_analyses(
        {"model": (estimator, X)}, y, groups, arms=arms, blocks=blocks, **options
    )["model"]


def fold_importance(
    estimator,
    X,
    y,
    groups,
    names,
    *,
    feature_groups=None,
    arms=None,
    n_splits=5,
    n_repeats=5,
    random_state=0,
):
    """Permutation importance measured on held-out folds only.

    Each fold's model is fitted on its training part; permuting a feature (or
    a group of features jointly, rows shuffled together) in the test part,
    the drop in AUC measures how much the model relies on it. Averaging over
    folds keeps the measure out-of-sample. Grouping matters with many
    correlated features, where no single permuted feature moves the AUC.

    Parameters
    ----------
    estimator : sklearn estimator
        The validated pipeline.
    X, y, groups : ndarray
        Design, labels, participants.
    names : list of str
        Column names of ``X``.
    feature_groups : dict of str to list of str | None
        Label -> columns permuted together; columns in no group (e.g. arm,
        site or confound columns) are never permuted. Default: every column
        alone.
    arms : ndarray | None
        Arm of each row (folds stratified on arm x label).
    n_splits : int
        Folds (stratified, grouped).
    n_repeats : int
        Permutations per group and fold.
    random_state : int
        Seed of splits and permutations.

    Returns
    -------
    importance : pandas.DataFrame
        ``feature`` (group label), ``n_features``, ``importance`` (mean AUC
        drop), ``sd`` (over folds), sorted by importance.
    """
    import pandas as pd

    X, y, groups = np.asarray(X, float), np.asarray(y, int), np.asarray(groups)
    if feature_groups is None:
        feature_groups = {name: [name] for name in names}
    index = {name: k for k, name in enumerate(names)}
    columns = {
        label: [index[c] for c in cols] for label, cols in feature_groups.items()
    }
    rng = np.random.default_rng(random_state)
    drops = np.zeros((n_splits, len(columns)))
    strata = fold_strata(y, arms, n_splits)
    for fold, (train, test) in enumerate(
        grouped_splits(strata, groups, n_splits, random_state)
    ):
        model = clone(estimator).fit(X[train], y[train])
        baseline = rank_auc(y[test], _scores(model, X[test]))
        for k, cols in enumerate(columns.values()):
            for _ in range(n_repeats):
                permuted = X[test].copy()
                permuted[:, cols] = permuted[rng.permutation(len(test))][:, cols]
                drops[fold, k] += baseline - rank_auc(y[test], _scores(model, permuted))
    drops /= n_repeats
    table = pd.DataFrame(
        {
            "feature": list(columns),
            "n_features": [len(cols) for cols in columns.values()],
            "importance": drops.mean(axis=0),
            "sd": drops.std(axis=0),
        }
    )
    return table.sort_values("importance", ascending=False, ignore_index=True)
