"""Figures of response prediction: ROC with CI band, calibration, null distribution."""

import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.metrics import roc_curve

from ..predict.validation import bootstrap_samples

GRID = np.linspace(0, 1, 101)


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
        for index in bootstrap_samples(y, n_bootstrap, random_state)
    ]
    tail = (1 - confidence) / 2
    low, high = np.quantile(curves, [tail, 1 - tail], axis=0)
    return curve(y, scores), low, high


def _best_analyses(metrics, scope="pooled"):
    ok = metrics[(metrics["status"] == "ok") & (metrics["scope"] == scope)]
    baselines = ok[ok["model"].isin(["dummy", "clinical"])]
    models = ok[~ok["model"].isin(["dummy", "clinical"])].sort_values(
        "auc", ascending=False
    )
    best = models.drop_duplicates("feature_set").head(3)
    return list(best.itertuples()), list(baselines.itertuples())


def _select(table, row):
    return table[
        (table["scope"] == row.scope)
        & (table["modality"] == row.modality)
        & (table["feature_set"] == row.feature_set)
        & (table["model"] == row.model)
    ]


def plot_prediction(metrics, oof, null, *, scope="pooled"):
    """ROC curves with bootstrap bands, calibration and permutation null.

    The best model of each feature set in ``scope`` is drawn, with the
    clinical baseline's ROC for comparison.

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
    """Horizontal bars of the best pooled model's most important features."""
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
