"""Figures of response prediction: ROC with CI band, calibration, null distribution."""

import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.metrics import roc_curve

GRID = np.linspace(0, 1, 101)
ROLES = {"primary": 0, "secondary": 1, "reference": 2}


def _bootstrap_samples(y, n_bootstrap, random_state):
    """Participant resamples (with replacement) holding both classes."""
    rng = np.random.default_rng(random_state)
    for _ in range(n_bootstrap):
        index = rng.integers(0, len(y), len(y))
        if len(np.unique(y[index])) == 2:
            yield index


def _fmt(value, digits=2):
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def primary_statement(metrics):
    """State the primary result in one sentence, as a registered report would.

    Parameters
    ----------
    metrics : pandas.DataFrame
        ``prediction/metrics.tsv``.

    Returns
    -------
    text : str
        Plain text: the analysis, its AUC with the interval and its estimand,
        the within-block permutation p, the covariate and clinical baselines
        and the increment over the covariate baseline; or why there is none.
    """
    primary = metrics[:0]
    if "role" in metrics:
        primary = metrics[metrics["role"] == "primary"]
    if primary.empty:
        return (
            "The pre-specified primary analysis could not be validated "
            "(see 'Not validated' below): there is no primary result."
        )
    row = primary.iloc[0]
    scope = metrics[
        (metrics["scope"] == row["scope"]) & (metrics["role"] == "reference")
    ].set_index("model")
    markers = (
        f"{int(row['n_features'])} declared {row['feature_set']} marker columns"
        if row.get("markers") == "pre-specified"
        else f"every {row['feature_set']} marker"
    )
    text = (
        f"Primary analysis, pre-specified ({row['scope']}; {markers} of "
        f"{row['modality']}; {row['model']}; {row['question']}): "
        f"AUC {_fmt(row['auc'])} (95 % CI {_fmt(row['auc_ci_low'])} to "
        f"{_fmt(row['auc_ci_high'])}; estimand: the AUC on new participants of "
        f"the model refitted on all {int(row['n'])} participants), permutation "
        f"p = {_fmt(row['p_permutation'], 3)} (labels permuted within "
        "intervention x site blocks)."
    )
    baselines = [
        f"{name} baseline AUC {_fmt(scope.loc[name, 'auc'])}"
        for name in scope.index
        if name != "dummy" and scope.loc[name, "status"] == "ok"
    ]
    if baselines:
        text += " Beside it: " + ", ".join(baselines) + "."
    if np.isfinite(row.get("auc_increment", np.nan)):
        text += (
            f" Increment over the covariate baseline: {row['auc_increment']:+.2f} "
            f"(95 % CI {row['auc_increment_ci_low']:+.2f} to "
            f"{row['auc_increment_ci_high']:+.2f}), p = {row['p_increment']:.3f}."
        )
    return text


def roc_band(y, scores, *, n_bootstrap=500, confidence=0.95, random_state=0):
    """ROC curve on a false-positive grid with a participant-bootstrap band.

    Parameters
    ----------
    y : ndarray of {0, 1}
        Labels.
    scores : ndarray
        Out-of-fold scores.
    n_bootstrap : int
        Resamples of participants.
    confidence : float
        Band level.
    random_state : int
        Seed.

    Returns
    -------
    tpr, low, high : ndarray, shape (101,)
        True-positive rate at ``GRID`` false-positive rates, and the band.
    """

    def curve(labels, values):
        fpr, tpr, _ = roc_curve(labels, values)
        return np.interp(GRID, fpr, tpr)

    curves = [
        curve(y[index], scores[index])
        for index in _bootstrap_samples(y, n_bootstrap, random_state)
    ]
    tail = (1 - confidence) / 2
    low, high = np.quantile(curves, [tail, 1 - tail], axis=0)
    return curve(y, scores), low, high


def _best_analyses(metrics, scope="pooled"):
    """Select the primary analysis, then the best secondary one per feature set."""
    ok = metrics[(metrics["status"] == "ok") & (metrics["scope"] == scope)]
    baselines = ok[ok["role"] == "reference"]
    models = ok[ok["role"] != "reference"].assign(order=lambda t: t["role"].map(ROLES))
    models = models.sort_values(["order", "auc"], ascending=[True, False])
    best = models.drop_duplicates("feature_set").head(3)
    return list(best.itertuples()), list(baselines.itertuples())


def _select(table, row):
    return table[
        (table["scope"] == row.scope)
        & (table["modality"] == row.modality)
        & (table["feature_set"] == row.feature_set)
        & (table["markers"] == row.markers)
        & (table["model"] == row.model)
    ]


def plot_prediction(metrics, oof, null, *, scope="pooled"):
    """ROC curves with bootstrap bands, calibration and permutation null.

    The primary analysis and the best secondary analysis of every other
    feature set in ``scope`` are drawn, with the clinical baseline's ROC for
    comparison; the null is the primary analysis'.

    Parameters
    ----------
    metrics : pandas.DataFrame
        ``prediction/metrics``.
    oof : pandas.DataFrame
        ``prediction/oof_predictions``.
    null : pandas.DataFrame
        ``prediction/permutation_null``.
    scope : str
        Scope to draw (``pooled`` or an intervention).

    Returns
    -------
    figure : matplotlib.figure.Figure | None
        Three panels, or None when nothing was validated in ``scope``.
    """
    import matplotlib.pyplot as plt

    best, baselines = _best_analyses(metrics, scope)
    if not best:
        return None
    figure, (roc_ax, cal_ax, null_ax) = plt.subplots(
        1, 3, figsize=(11, 3.4), layout="constrained"
    )
    for k, row in enumerate(best + [b for b in baselines if b.model == "clinical"]):
        part = _select(oof, row)
        y, scores = part["responder"].to_numpy(), part["score"].to_numpy()
        tpr, low, high = roc_band(y, scores)
        colour = plt.get_cmap("tab10")(k)
        label = (
            f"{row.modality} {row.feature_set} {row.model} (AUC {row.auc:.2f})"
            if row.model != "clinical"
            else f"clinical (AUC {row.auc:.2f})"
        )
        roc_ax.plot(GRID, tpr, color=colour, label=label)
        roc_ax.fill_between(GRID, low, high, color=colour, alpha=0.15)
        if scores.min() >= 0 and scores.max() <= 1 and row.model != "clinical":
            observed, predicted = calibration_curve(
                y, scores, n_bins=5, strategy="quantile"
            )
            cal_ax.plot(predicted, observed, "o-", color=colour)
    roc_ax.plot([0, 1], [0, 1], "k:", lw=0.8)
    roc_ax.set(
        xlabel="False-positive rate",
        ylabel="True-positive rate",
        title=f"ROC ({scope}, 95 % bootstrap band)",
    )
    roc_ax.legend(fontsize=7, loc="lower right")
    cal_ax.plot([0, 1], [0, 1], "k:", lw=0.8)
    cal_ax.set(
        xlabel="Predicted probability",
        ylabel="Observed responders",
        title="Calibration (out-of-fold)",
        xlim=(0, 1),
        ylim=(0, 1),
    )
    top = best[0]
    null_ax.hist(_select(null, top)["null_auc"], bins=20, color="0.7")
    null_ax.axvline(top.auc, color="C3", label=f"observed {top.auc:.2f}")
    null_ax.set(
        xlabel="AUC under permuted labels",
        ylabel="Permutations",
        title=f"Null: {top.modality} {top.feature_set} (p={top.p_permutation:.3f})",
    )
    null_ax.legend(fontsize=7)
    return figure


def plot_importance(metrics, importance, *, top=15):
    """Horizontal bars of the primary analysis' most important features.

    Parameters
    ----------
    metrics : pandas.DataFrame
        ``prediction/metrics`` (names the primary analysis).
    importance : pandas.DataFrame
        ``prediction/importance``.
    top : int
        Features shown.
    """
    import matplotlib.pyplot as plt

    best, _ = _best_analyses(metrics)
    if not best:
        return None
    table = _select(importance, best[0]).head(top).iloc[::-1]
    if table.empty:
        return None
    figure, ax = plt.subplots(
        figsize=(6.5, 0.3 * len(table) + 1.2), layout="constrained"
    )
    ax.barh(table["feature"], table["importance"], xerr=table["sd"], color="C0")
    ax.axvline(0, color="k", lw=0.8)
    ax.set(
        xlabel="AUC drop when permuted (held-out folds)",
        title=f"{best[0].modality} {best[0].feature_set} {best[0].model}",
    )
    ax.tick_params(axis="y", labelsize=7)
    return figure
