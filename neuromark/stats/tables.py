"""Pre/post statistics of the long feature table, per treatment and feature."""

import pandas as pd
from joblib import Parallel, delayed

from ..features import MARKER_KEYS as KEYS
from ..features import feature_family, paired_values
from ..utils._logging import logger
from .effects import fdr, group_difference, icc, paired_effect, sign_flip_pvalue
from .settings import StatsSettings
from .treatment import family_of


def prepost_statistics(
    long, participants, settings=None, *, sessions=("pre", "post"), random_state=0
):
    """Paired pre/post change of every feature, per intervention, FDR-corrected.

    Parameters
    ----------
    long : pandas.DataFrame
        Long feature table.
    participants : pandas.DataFrame
        ``participant_id``, ``intervention`` and ``responder``.
    settings : StatsSettings | None
        Family, permutations, confidence, control arms.
    sessions : (str, str)
        Pre and post labels.
    random_state : int
        Seed of the permutations.

    Returns
    -------
    results : pandas.DataFrame
        One row per intervention x feature: the columns of
        :func:`~neuromark.stats.effects.paired_effect`, ``p_signflip``,
        Benjamini-Hochberg ``q_t`` and ``q_signflip`` within each intervention,
        ``analysis`` (``descriptive (within-arm)``: the change includes time,
        placebo, retest and regression to the mean; the treatment effect is
        :func:`~neuromark.stats.treatment_effects`) and ``family``
        (``confirmatory`` or ``exploratory``, from ``settings.confirmatory``).
    """
    settings = settings or StatsSettings()
    pairs = paired_values(feature_family(long, settings.family), sessions=sessions)
    arms = participants.set_index("participant_id")["intervention"]
    rows = []
    for keys, group in pairs.groupby(level=KEYS, sort=True):
        ids = group.index.get_level_values("participant_id")
        for arm in sorted(arms.unique()):
            member = ids.isin(arms.index[arms == arm])
            pre, post = (
                group["pre"].to_numpy()[member],
                group["post"].to_numpy()[member],
            )
            effect = paired_effect(pre, post, confidence=settings.confidence)
            effect["p_signflip"] = sign_flip_pvalue(
                post - pre,
                n_permutations=settings.n_permutations,
                random_state=random_state,
            )
            rows.append(dict(zip(["intervention", *KEYS], [arm, *keys])) | effect)
    results = pd.DataFrame(rows)
    for column, source in (("q_t", "p_t"), ("q_signflip", "p_signflip")):
        results[column] = results.groupby("intervention")[source].transform(
            lambda p: pd.Series(fdr(p.to_numpy()), index=p.index)
        )
    results["analysis"] = "descriptive (within-arm)"
    results["family"] = family_of(results, settings.confirmatory)
    logger.info(
        "pre/post statistics: %d features x %d interventions",
        results[KEYS].drop_duplicates().shape[0],
        results["intervention"].nunique(),
    )
    return results


def responder_statistics(
    long,
    participants,
    settings=None,
    *,
    sessions=("pre", "post"),
    random_state=0,
    n_jobs=1,
):
    """Responders' versus non-responders' change, per intervention, FDR-corrected.

    ``n_jobs`` runs the per-feature permutation tests in parallel (joblib);
    every test has the same seed, so results do not depend on it.

    Parameters
    ----------
    long : pandas.DataFrame
        Long feature table.
    participants : pandas.DataFrame
        ``participant_id``, ``intervention`` and ``responder``.
    settings : StatsSettings | None
        Family and permutations.
    sessions : (str, str)
        Pre and post labels.
    random_state : int
        Seed of the permutations.
    n_jobs : int
        Parallel workers.

    Returns
    -------
    results : pandas.DataFrame
        One row per intervention x feature with at least two participants in
        each group: the columns of
        :func:`~neuromark.stats.effects.group_difference` (group a =
        responders) and ``q_welch`` / ``q_permutation`` within intervention.
    """
    settings = settings or StatsSettings()
    pairs = paired_values(feature_family(long, settings.family), sessions=sessions)
    change = (pairs["post"] - pairs["pre"]).rename("change").reset_index()
    info = participants.set_index("participant_id")
    change["intervention"] = change["participant_id"].map(info["intervention"])
    change["responder"] = change["participant_id"].map(info["responder"])
    change = change[change["responder"].notna()]
    labels, comparisons = [], []
    for (arm, *keys), group in change.groupby(["intervention", *KEYS], sort=True):
        responders = group.loc[group["responder"].astype(bool), "change"]
        others = group.loc[~group["responder"].astype(bool), "change"]
        if min(responders.notna().sum(), others.notna().sum()) < 2:
            continue
        labels.append(dict(zip(["intervention", *KEYS], [arm, *keys])))
        comparisons.append((responders.to_numpy(), others.to_numpy()))
    tests = Parallel(n_jobs=n_jobs)(
        delayed(group_difference)(
            a, b, n_permutations=settings.n_permutations, random_state=random_state
        )
        for a, b in comparisons
    )
    results = pd.DataFrame([label | test for label, test in zip(labels, tests)])
    if results.empty:
        return results
    for column, source in (("q_welch", "p_welch"), ("q_permutation", "p_permutation")):
        results[column] = results.groupby("intervention")[source].transform(
            lambda p: pd.Series(fdr(p.to_numpy()), index=p.index)
        )
    return results


def reliability(long, participants, settings=None, *, sessions=("pre", "post")):
    """Test-retest reliability (ICC) of every feature in the control arms.

    Parameters
    ----------
    long : pandas.DataFrame
        Long feature table.
    participants : pandas.DataFrame
        ``participant_id`` and ``intervention``.
    settings : StatsSettings | None
        Family and control arms.
    sessions : (str, str)
        Pre and post labels.

    Returns
    -------
    results : pandas.DataFrame
        One row per feature: ``n`` and the ICC forms of
        :func:`~neuromark.stats.effects.icc` over pre/post of participants in
        ``settings.control_arms`` (ICC(2,1) with its F-based CI is the figure
        to report) and ``family``; empty if no control arm exists.
    """
    settings = settings or StatsSettings()
    arms = participants.set_index("participant_id")["intervention"]
    wanted = {arm.lower() for arm in settings.control_arms}
    controls = arms.index[arms.astype(str).str.lower().isin(wanted)]
    if len(controls) < 2:
        return pd.DataFrame()
    pairs = paired_values(feature_family(long, settings.family), sessions=sessions)
    pairs = pairs[pairs.index.get_level_values("participant_id").isin(controls)]
    rows = [
        dict(zip(KEYS, keys))
        | icc(group[["pre", "post"]].to_numpy(), confidence=settings.confidence)
        for keys, group in pairs.groupby(level=KEYS, sort=True)
    ]
    results = pd.DataFrame(rows)
    results["family"] = family_of(results, settings.confirmatory)
    return results


def summarise(results, *, top=10, q="q_t"):
    """Most significant rows per intervention (for the report).

    Parameters
    ----------
    results : pandas.DataFrame
        A statistics table with ``intervention``.
    top : int
        Rows kept per intervention.
    q : str
        Column to sort by.
    """
    if results.empty:
        return results
    ordered = results.sort_values(["intervention", q, "p_t" if q == "q_t" else q])
    return ordered.groupby("intervention").head(top).reset_index(drop=True)
