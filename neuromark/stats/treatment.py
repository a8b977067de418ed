"""Treatment effects against the control arm: ANCOVA of post on pre and arm.

Within-arm pre/post change mixes the treatment with time, placebo, retest
and regression to the mean. The confirmatory test compares each active arm
with the control (sham) arm at post, adjusted for the baseline value: the
analysis of covariance recommended for randomised pre/post trials (Vickers &
Altman 2001, BMJ 323:1123; EMA guideline on baseline covariates, 2015),
fitted with statsmodels.
"""

import numpy as np
import pandas as pd

from ..features import MARKER_KEYS as KEYS
from ..utils._logging import logger
from .effects import fdr, two_stage_fdr
from .settings import StatsSettings


def control_arm(interventions, control_arms):
    """Find the control arm of a study: the first of ``control_arms`` present.

    Matching is case-insensitive; returns the study's spelling, or None.

    Parameters
    ----------
    interventions : array-like of str
        The study's interventions.
    control_arms : sequence of str
        Names of control arms, in order of preference.
    """
    present = {str(arm).lower(): arm for arm in pd.unique(pd.Series(interventions))}
    for name in control_arms:
        if name.lower() in present:
            return present[name.lower()]
    return None


def ancova(pre, post, arms, *, control, sites=None, covariates=None, confidence=0.95):
    """Estimate every active arm's adjusted difference from the control at post.

    Fits ``post ~ pre + arm [+ site] [+ covariates]`` by ordinary least
    squares on all arms (one residual variance) and reads one contrast per
    active arm.

    Parameters
    ----------
    pre, post : array-like of float
        Values of one feature before and after treatment (NaN pairs dropped).
    arms : array-like of str
        Arm of each participant.
    control : str
        The reference arm.
    sites : array-like | None
        Site of each participant, adjusted for when there are several.
    covariates : dict of str to array-like | None
        Further numeric covariates per participant (e.g. the change in mean
        framewise displacement); participants missing one are left out.
    confidence : float
        Level of the intervals.

    Returns
    -------
    rows : list of dict
        Per active arm with at least 2 participants: ``intervention``,
        ``control``, ``n``, ``n_control``, ``estimate`` (adjusted mean
        difference at post, feature units), ``ci_low``, ``ci_high``, ``t``,
        ``p`` (two-sided), ``d`` (estimate / pooled within-arm SD at
        baseline) and ``df`` (residual degrees of freedom).
    """
    import statsmodels.api as sm

    pre, post = np.asarray(pre, float), np.asarray(post, float)
    arms = np.asarray(arms, dtype=object)
    covariates = {
        name: np.asarray(values, float) for name, values in (covariates or {}).items()
    }
    keep = np.isfinite(pre) & np.isfinite(post)
    for values in covariates.values():
        keep &= np.isfinite(values)
    pre, post, arms = pre[keep], post[keep], arms[keep]
    covariates = {name: values[keep] for name, values in covariates.items()}
    counts = pd.Series(arms).value_counts()
    active = [a for a in sorted(counts.index) if a != control and counts[a] >= 2]
    if counts.get(control, 0) < 2 or not active:
        return []
    used = np.isin(arms, [control, *active])
    pre, post, arms = pre[used], post[used], arms[used]
    columns = {"const": np.ones(len(pre)), "pre": pre - pre.mean()}
    columns |= {arm: (arms == arm).astype(float) for arm in active}
    for name, values in covariates.items():
        columns[name] = values[used] - values[used].mean()
    if sites is not None:
        site = np.asarray(sites, dtype=object)[keep][used].astype(str)
        for level in sorted(set(site))[1:]:
            columns[f"site[{level}]"] = (site == level).astype(float)
    design = pd.DataFrame(columns)
    for optional in ("site[", *covariates):  # dropped when they are collinear
        if np.linalg.matrix_rank(design.to_numpy()) < design.shape[1]:
            design = design.loc[:, ~design.columns.str.startswith(optional)]
    if np.linalg.matrix_rank(design.to_numpy()) < design.shape[1]:
        return []  # e.g. a constant baseline (a peak height of 0 throughout)
    fit = sm.OLS(post, design).fit()
    if fit.df_resid < 2:
        return []
    interval = fit.conf_int(alpha=1 - confidence)
    pooled_sd = np.sqrt(
        sum(
            ((pre[arms == a] - pre[arms == a].mean()) ** 2).sum()
            for a in [control, *active]  # arms of fewer than 2 are not in the fit
        )
        / max(len(pre) - len(active) - 1, 1)
    )
    return [
        {
            "intervention": arm,
            "control": control,
            "n": int(counts[arm]),
            "n_control": int(counts[control]),
            "estimate": fit.params[arm],
            "ci_low": interval.loc[arm, 0],
            "ci_high": interval.loc[arm, 1],
            "t": fit.tvalues[arm],
            "p": fit.pvalues[arm],
            "d": fit.params[arm] / pooled_sd if pooled_sd > 0 else np.nan,
            "df": fit.df_resid,
        }
        for arm in active
    ]


def family_of(table, confirmatory):
    """``confirmatory`` or ``exploratory`` for every row of a statistics table.

    Parameters
    ----------
    table : pandas.DataFrame
        Rows with ``modality``, ``feature`` and ``location``.
    confirmatory : sequence of str
        Stems of the confirmatory family.
    """
    stems = table["modality"] + "_" + table["feature"] + "_" + table["location"]
    return np.where(stems.isin(list(confirmatory)), "confirmatory", "exploratory")


def add_family_inference(table, settings, *, p="p"):
    """Family, q and hierarchical significance of a table of tests.

    Confirmatory rows get Benjamini-Hochberg ``q`` within the confirmatory
    family; exploratory rows ``q`` within the exploratory family and a
    ``significant`` flag from the two-stage FDR over marker groups
    (:func:`~neuromark.stats.effects.two_stage_fdr`).

    Parameters
    ----------
    table : pandas.DataFrame
        One row per test.
    settings : StatsSettings
        Confirmatory family.
    p : str
        Column of the p-values.
    """
    table = table.assign(family=family_of(table, settings.confirmatory))
    table["q"] = np.nan
    table["significant"] = False
    for family, rows in table.groupby("family").groups.items():
        pvalues = table.loc[rows, p].to_numpy(float)
        table.loc[rows, "q"] = fdr(pvalues)
        if family == "confirmatory":
            table.loc[rows, "significant"] = table.loc[rows, "q"] <= settings.fdr_level
        else:
            groups = table.loc[rows, "modality"] + " " + table.loc[rows, "feature"]
            table.loc[rows, "significant"] = two_stage_fdr(
                pvalues, groups.to_numpy(), alpha=settings.fdr_level
            )
    return table


def treatment_effects(
    long, participants, settings=None, *, sessions=("pre", "post"), covariates=None
):
    """Arm x time effect of every feature against the control arm (ANCOVA).

    Parameters
    ----------
    long : pandas.DataFrame
        Long feature table.
    participants : pandas.DataFrame
        ``participant_id``, ``intervention`` and optionally ``site``.
    settings : StatsSettings | None
        Control arms, confirmatory family, FDR level, confidence.
    sessions : (str, str)
        Pre and post labels.
    covariates : dict of str to dict of str to pandas.Series | None
        Per modality, further covariates indexed by participant (e.g.
        ``{"fmri": {"delta_mean_fd": ...}}``), added to that modality's
        models.

    Returns
    -------
    results : pandas.DataFrame
        One row per active arm x feature: the columns of :func:`ancova`,
        ``covariates`` (names of the further covariates, ``+``-joined),
        ``family``, ``q`` and ``significant``. Empty, with
        ``attrs["reason"]``, when the study has no control arm.
    """
    from ..features import feature_family, paired_values

    settings = settings or StatsSettings()
    covariates = covariates if covariates is not None else {}
    info = participants.set_index("participant_id")
    control = control_arm(info["intervention"], settings.control_arms)
    if control is None:
        results = pd.DataFrame()
        results.attrs["reason"] = (
            f"no control arm (none of {list(settings.control_arms)} among the "
            "interventions): pre/post changes are descriptive only"
        )
        logger.info("treatment effects: %s", results.attrs["reason"])
        return results
    pairs = paired_values(feature_family(long, settings.family), sessions=sessions)
    sites = info["site"] if "site" in info and info["site"].nunique() > 1 else None
    rows = []
    for keys, group in pairs.groupby(level=KEYS, sort=True):
        ids = group.index.get_level_values("participant_id")
        modality = dict(zip(KEYS, keys))["modality"]
        extra = {
            name: values.reindex(ids).to_numpy()
            for name, values in covariates.get(modality, {}).items()
        }
        for row in ancova(
            group["pre"].to_numpy(),
            group["post"].to_numpy(),
            info["intervention"].reindex(ids).to_numpy(),
            control=control,
            sites=None if sites is None else sites.reindex(ids).to_numpy(),
            covariates=extra,
            confidence=settings.confidence,
        ):
            rows.append(
                dict(zip(KEYS, keys))
                | row
                | {"covariates": "+".join(extra) if extra else ""}
            )
    if not rows:
        results = pd.DataFrame()
        results.attrs["reason"] = (
            f"fewer than two participants with both sessions in {control!r} or "
            "in every active arm"
        )
        return results
    first = ["intervention", *KEYS]
    results = pd.DataFrame(rows)
    results = results[first + [c for c in results if c not in first]]
    return add_family_inference(results, settings)
