"""How much PAG results depend on the definition of the PAG.

Fenske et al. (2020) showed that the PAG seed (sphere, traced mask, aqueduct
based) changes its functional connectivity. The fMRI step measures every PAG
edge under the main definition and each alternative
(``fmri.rois.pag_alternatives``, table ``fmri_pag_sensitivity``); this module
asks, per edge and alternative, whether the numbers and the conclusions
agree with the main definition's:

* agreement across participant-sessions: Pearson r and ICC(2,1) (absolute
  agreement) with the main definition's values;
* the pre/post treatment effect against the control arm (the ANCOVA of
  :func:`~neuromark.stats.treatment_effects`, same covariates), and whether
  its sign and its significance (uncorrected p below 1 - confidence, one
  edge at a time) match the main definition's;
* the prognostic signal of the baseline edge for responders (AUC, pooled
  over arms, with the two-sided Mann-Whitney p).
"""

import numpy as np
import pandas as pd
from scipy.stats import mannwhitneyu

from ..features import LONG_COLUMNS
from .effects import icc
from .settings import StatsSettings
from .treatment import treatment_effects

COLUMNS = [
    "location",
    "definition",
    "main",
    "n_runs",
    "median_voxels",
    "agreement_r",
    "agreement_icc",
    "intervention",
    "estimate",
    "ci_low",
    "ci_high",
    "p",
    "significant",
    "same_conclusion",
    "baseline_auc",
    "baseline_p",
]


def _as_long(table):
    """Sensitivity rows of one definition as the feature table's long rows."""
    return table.assign(modality="fmri", feature="fc", unit="Fisher z")[LONG_COLUMNS]


def _baseline_auc(values, participants, session):
    """AUC (and Mann-Whitney p) of the baseline edge for responders."""
    responder = participants.set_index("participant_id")["responder"]
    pre = values[values["session"] == session].set_index("participant_id")["value"]
    pre = pre[pre.notna()]
    labels = pd.Series(pre.index.map(responder), index=pre.index)
    known = labels.notna().to_numpy()
    pre, labels = pre[known], labels[known].astype(bool).to_numpy()
    if min(labels.sum(), (~labels).sum()) < 2:
        return np.nan, np.nan
    test = mannwhitneyu(pre[labels], pre[~labels], alternative="two-sided")
    return test.statistic / (labels.sum() * (~labels).sum()), test.pvalue


def pag_definition_sensitivity(
    sensitivity,
    participants,
    settings=None,
    *,
    main,
    sessions=("pre", "post"),
    covariates=None,
):
    """Agreement and conclusions of every PAG edge under each PAG definition.

    Parameters
    ----------
    sensitivity : pandas.DataFrame
        ``participant_id``, ``session``, ``definition``, ``location``,
        ``value`` (Fisher z) and ``n_voxels`` (table ``fmri_pag_sensitivity``).
    participants : pandas.DataFrame
        ``participant_id``, ``intervention``, ``responder`` and optionally
        ``site``.
    settings : StatsSettings | None
        Control arms, FDR level and confidence of the treatment effects.
    main : str
        The main definition (the one the features use).
    sessions : (str, str)
        Pre and post labels.
    covariates : dict | None
        As in :func:`~neuromark.stats.treatment_effects`.

    Returns
    -------
    table : pandas.DataFrame
        One row per edge x definition x active arm (:data:`COLUMNS`); an
        edge without a treatment effect (no control arm) has one row per
        definition with empty effect columns.
    """
    settings = settings or StatsSettings()
    rows = []
    for location, edge in sensitivity.groupby("location", sort=True):
        values = edge.pivot_table(
            index=["participant_id", "session"],
            columns="definition",
            values="value",
            dropna=False,
        )
        if main not in values:
            continue
        effects = {}
        for definition, table in edge.groupby("definition", sort=False):
            result = treatment_effects(
                _as_long(table),
                participants,
                settings,
                sessions=sessions,
                covariates=covariates,
            )
            effects[definition] = (
                result.set_index("intervention") if len(result) else None
            )
        reference = effects.get(main)
        for definition, table in edge.groupby("definition", sort=False):
            agreement = values[[main, definition]].dropna()
            auc, auc_p = _baseline_auc(table, participants, sessions[0])
            common = {
                "location": location,
                "definition": definition,
                "main": definition == main,
                "n_runs": int(table["value"].notna().sum()),
                "median_voxels": float(table["n_voxels"].median()),
                "agreement_r": (
                    float(np.corrcoef(agreement.T.to_numpy())[0, 1])
                    if len(agreement) > 2 and agreement.std().gt(0).all()
                    else np.nan
                ),
                "agreement_icc": icc(agreement.to_numpy())["icc_2_1"],
                "baseline_auc": auc,
                "baseline_p": auc_p,
            }
            effect = effects[definition]
            if effect is None:
                rows.append(common)
                continue
            alpha = 1 - settings.confidence
            for arm, result in effect.iterrows():
                same = np.nan
                if reference is not None and arm in reference.index:
                    theirs = reference.loc[arm]
                    same = bool(
                        (result["p"] < alpha) == (theirs["p"] < alpha)
                        and np.sign(result["estimate"]) == np.sign(theirs["estimate"])
                    )
                rows.append(
                    common
                    | {
                        "intervention": arm,
                        "estimate": result["estimate"],
                        "ci_low": result["ci_low"],
                        "ci_high": result["ci_high"],
                        "p": result["p"],
                        "significant": bool(result["p"] < alpha),
                        "same_conclusion": same,
                    }
                )
    return pd.DataFrame(rows, columns=COLUMNS)
