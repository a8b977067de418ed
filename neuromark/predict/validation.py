"""Honest validation of response classifiers.

Every fit runs on training folds only: imputation, scaling and any selection
live inside the scikit-learn ``Pipeline`` being validated. Splits are
stratified and grouped by participant (``StratifiedKFold`` when each
participant is one row, else ``StratifiedGroupKFold``). All fits —
repeats x folds for the observed labels and for every permutation — are
independent joblib tasks whose seeds are fixed before dispatch, so results do
not depend on ``n_jobs`` or the joblib backend (loky, threads, Dask).
"""

import numpy as np
import sklearn
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.metrics import balanced_accuracy_score, brier_score_loss, roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

from ..exceptions import NeuromarkError
from ..utils._progress import progress_bar


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


def _scores(model, X):
    if hasattr(model, "predict_proba"):
        return model.predict_proba(X)[:, 1]
    return model.decision_function(X)


def oof_scores(estimator, X, y, groups, *, n_splits, seed):
    """Out-of-fold scores of one repetition of grouped, stratified K-fold.

    Returns
    -------
    scores : ndarray, shape (n_samples,)
        Probability of response (or decision value) of each sample, predicted
        by a model that never saw its participant.
    """
    scores = np.full(len(y), np.nan)
    # inputs were validated once by validate(); skip sklearn's per-fit checks
    with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
        for train, test in grouped_splits(y, groups, n_splits, seed):
            if set(groups[train]) & set(groups[test]):  # guarded by construction
                raise RuntimeError("a participant is in both the train and test folds")
            model = clone(estimator).fit(X[train], y[train])
            scores[test] = _scores(model, X[test])
    return scores


def grouped_splits(y, groups, n_splits, seed):
    """Stratified K-fold splits that never separate a participant's rows.

    With one row per participant (the usual design) this is
    ``StratifiedKFold``; otherwise ``StratifiedGroupKFold``, whose search for
    balanced groups is much slower.
    """
    rows = np.zeros((len(y), 1))
    if len(np.unique(groups)) == len(groups):
        cv = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
        return cv.split(rows, y)
    cv = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return cv.split(rows, y, groups)


def classification_metrics(y, scores, *, probabilistic=True):
    """AUC, balanced accuracy, sensitivity, specificity and Brier score.

    Scores at or above 0.5 (probabilities) or 0 (decision values) are
    predicted responders; the Brier score needs probabilities.
    """
    predicted = (scores >= (0.5 if probabilistic else 0.0)).astype(int)
    positive, negative = y == 1, y == 0
    return {
        "auc": roc_auc_score(y, scores),
        "balanced_accuracy": balanced_accuracy_score(y, predicted),
        "sensitivity": predicted[positive].mean(),
        "specificity": 1 - predicted[negative].mean(),
        "brier": brier_score_loss(y, np.clip(scores, 0, 1))
        if probabilistic
        else np.nan,
    }


def bootstrap_samples(y, n_bootstrap, random_state=0):
    """Yield participant resamples (with replacement) holding both classes."""
    rng = np.random.default_rng(random_state)
    for _ in range(n_bootstrap):
        index = rng.integers(0, len(y), len(y))
        if len(np.unique(y[index])) == 2:
            yield index


def rank_auc(y, scores):
    """ROC AUC of many samples at once (Mann-Whitney U with mid-ranks for ties).

    Parameters
    ----------
    y : ndarray of {0, 1}, shape (n_samples,) or (n_sets, n_samples)
        Labels; every set needs both classes.
    scores : ndarray, same shape
        Scores.

    Returns
    -------
    auc : float or ndarray, shape (n_sets,)
        Equal to ``sklearn.metrics.roc_auc_score`` of each set.
    """
    from scipy.stats import rankdata

    y, scores = np.asarray(y), np.asarray(scores)
    ranks = rankdata(scores, axis=-1)
    n_pos = y.sum(axis=-1)
    n_neg = y.shape[-1] - n_pos
    auc = ((ranks * y).sum(axis=-1) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    return float(auc) if y.ndim == 1 else auc


def bootstrap_auc_ci(y, scores, *, n_bootstrap=2000, confidence=0.95, random_state=0):
    """Percentile CI of the AUC by resampling participants with replacement."""
    index = np.array(list(bootstrap_samples(y, n_bootstrap, random_state)))
    values = rank_auc(y[index], scores[index])
    tail = (1 - confidence) / 2
    return tuple(np.quantile(values, [tail, 1 - tail]))


MIN_NULL_FOR_CI = 10


def _widen_to_null(auc, low, high, null_auc, confidence):
    """Widen a bootstrap CI to at least the spread of the permutation null.

    The participant bootstrap of out-of-fold scores holds the fitted models
    fixed, so it misses the variability of refitting on other training
    participants; on null data its 95 % interval covered 0.5 in only about
    75 % of studies. Each permutation reruns the whole cross-validation, so
    the null distribution carries that variability: the interval is widened
    to at least the null's percentile spread about chance, shifted to the
    observed AUC. It then excludes 0.5 exactly when the observed AUC falls
    outside the null's central interval (a two-sided permutation test at the
    same level), which keeps CI and p-value consistent.
    """
    tail = (1 - confidence) / 2
    q_low, q_high = np.quantile(null_auc, [tail, 1 - tail])
    return (
        max(0.0, min(low, auc - (q_high - 0.5))),
        min(1.0, max(high, auc + (0.5 - q_low))),
    )


def validate(
    estimator,
    X,
    y,
    groups,
    *,
    n_splits=5,
    n_repeats=5,
    n_permutations=100,
    n_bootstrap=2000,
    confidence=0.95,
    random_state=0,
    n_jobs=1,
    progress=False,
):
    """Repeated grouped CV with bootstrap CI and permutation p of the AUC.

    Parameters
    ----------
    estimator : sklearn estimator
        The full pipeline (imputation, scaling, model).
    X : ndarray, shape (n_samples, n_features)
        Features (NaN allowed if the pipeline imputes).
    y : ndarray of {0, 1}
        Labels.
    groups : ndarray
        Participant of each sample; a participant never spans train and test.
    n_splits, n_repeats : int
        K and repetitions of stratified grouped K-fold.
    n_permutations : int
        Label permutations; each is validated with one K-fold repetition, so
        its null AUC is more variable than the repeat-averaged observed AUC
        and the p-value is conservative.
    n_bootstrap : int
        Participant resamples of the AUC CI.
    confidence : float
        CI level.
    random_state : int
        Seed of splits, permutations and bootstrap.
    n_jobs : int
        Parallel joblib tasks (results do not depend on it).
    progress : bool | "auto"
        Progress bar over the fits (``"auto"``: on a terminal only).

    Returns
    -------
    result : dict
        ``metrics`` (mean over repeats of :func:`classification_metrics`,
        plus ``auc_ci_low``/``auc_ci_high`` — participant-bootstrap
        percentiles, widened to the permutation null's spread when there are
        at least 10 permutations — and ``p_permutation``),
        ``oof`` (mean out-of-fold score per sample), ``null_auc`` (array).
    """
    X, y, groups = np.asarray(X, float), np.asarray(y, int), np.asarray(groups)
    check_design(y, n_splits)
    seeds = np.random.SeedSequence(random_state).generate_state(
        n_repeats + 2 * n_permutations + 1
    )
    repeat_seeds, perm_seeds = seeds[:n_repeats], seeds[n_repeats:-1]
    permuted = [
        np.random.default_rng(perm_seeds[2 * k]).permutation(y)
        for k in range(n_permutations)
    ]
    tasks = [(y, int(seed)) for seed in repeat_seeds]
    tasks += [(labels, int(perm_seeds[2 * k + 1])) for k, labels in enumerate(permuted)]
    outputs = Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(oof_scores)(estimator, X, labels, groups, n_splits=n_splits, seed=seed)
        for labels, seed in tasks
    )
    outputs = list(
        progress_bar(outputs, total=len(tasks), desc="validation", enabled=progress)
    )
    observed, null = outputs[:n_repeats], outputs[n_repeats:]
    probabilistic = hasattr(clone(estimator), "predict_proba")
    per_repeat = [
        classification_metrics(y, s, probabilistic=probabilistic) for s in observed
    ]
    metrics = {
        key: float(np.mean([m[key] for m in per_repeat])) for key in per_repeat[0]
    }
    oof = np.mean(observed, axis=0)
    low, high = bootstrap_auc_ci(
        y,
        oof,
        n_bootstrap=n_bootstrap,
        confidence=confidence,
        random_state=int(seeds[-1]),
    )
    null_auc = rank_auc(np.array(permuted), np.array(null)) if null else np.array([])
    if len(null_auc) >= MIN_NULL_FOR_CI:
        low, high = _widen_to_null(metrics["auc"], low, high, null_auc, confidence)
    metrics |= {
        "auc_ci_low": float(low),
        "auc_ci_high": float(high),
        "p_permutation": float(
            (1 + np.sum(null_auc >= metrics["auc"])) / (1 + n_permutations)
        )
        if n_permutations
        else np.nan,
    }
    return {"metrics": metrics, "oof": oof, "null_auc": null_auc}


def fold_importance(
    estimator,
    X,
    y,
    groups,
    names,
    *,
    feature_groups=None,
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
        Label -> columns permuted together; columns in no group (e.g. site or
        confound columns) are never permuted. Default: every column alone.
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
    splits = grouped_splits(y, groups, n_splits, random_state)
    for fold, (train, test) in enumerate(splits):
        model = clone(estimator).fit(X[train], y[train])
        baseline = roc_auc_score(y[test], _scores(model, X[test]))
        for k, cols in enumerate(columns.values()):
            for _ in range(n_repeats):
                permuted = X[test].copy()
                permuted[:, cols] = permuted[rng.permutation(len(test))][:, cols]
                drops[fold, k] += baseline - roc_auc_score(
                    y[test], _scores(model, permuted)
                )
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
