"""Effect sizes, permutation tests and reliability for pre/post neuromarkers.

Each function works on plain arrays so it can be checked against scipy and
textbook examples; :mod:`neuromark.stats.tables` applies them to the feature
tables.
"""

import itertools

import numpy as np
from scipy import stats
from scipy.optimize import brentq

MAX_EXACT = 14  # up to 2**14 sign patterns are enumerated exactly


def hedges_correction(df):
    """Small-sample correction factor ``J = 1 - 3 / (4 df - 1)`` (Hedges 1981).

    Parameters
    ----------
    df : float | ndarray
        Degrees of freedom.
    """
    return 1.0 - 3.0 / (4.0 * df - 1.0)


def noncentral_t_interval(t, df, *, confidence=0.95):
    """Exact interval of the noncentrality parameter of an observed t.

    The bounds are the noncentralities under which the observed ``t`` is
    the upper and lower ``(1 - confidence) / 2`` quantile of the noncentral
    t distribution (Steiger & Fouladi 1997; Cumming & Finch 2001).

    Parameters
    ----------
    t : float
        Observed t statistic.
    df : float
        Degrees of freedom.
    confidence : float
        Confidence level.

    Returns
    -------
    low, high : float
    """
    if not (np.isfinite(t) and df > 0):
        return np.nan, np.nan
    tail = (1 - confidence) / 2
    # the noncentrality's SD is about sqrt(1 + t^2 / (2 df)); search +-10 SD
    width = 10.0 * np.sqrt(1.0 + t**2 / (2.0 * df)) + 2.0

    def cdf(nc):
        value = stats.nct.cdf(t, df, nc)
        if np.isfinite(value):
            return value
        return 1.0 if nc < t else 0.0  # scipy underflows far in the tails

    def bound(probability):
        return brentq(lambda nc: cdf(nc) - probability, t - width, t + width)

    return bound(1 - tail), bound(tail)


def paired_effect(pre, post, *, confidence=0.95):
    """Paired change statistics of one feature.

    Parameters
    ----------
    pre, post : array-like of float, shape (n,)
        Values before and after treatment, paired by position (NaN pairs dropped).
    confidence : float
        Level of the confidence intervals.

    Returns
    -------
    result : dict
        ``n``, ``mean_pre``, ``mean_post``, ``mean_change`` (post - pre) with
        its t-based ``ci_low``/``ci_high``, ``sd_change``, ``d_z`` (mean change
        / SD of change; Cohen 1988) with an approximate CI (SE
        ``sqrt(1/n + d_z^2 / (2 n))``), ``g_z`` (Hedges-corrected d_z), the
        paired t-test ``t`` and ``p_t`` (scipy.stats.ttest_rel) and the
        Wilcoxon signed-rank ``p_wilcoxon``.
    """
    pre, post = np.asarray(pre, float), np.asarray(post, float)
    keep = np.isfinite(pre) & np.isfinite(post)
    pre, post = pre[keep], post[keep]
    change = post - pre
    n = change.size
    result = {
        "n": n,
        "mean_pre": np.nan,
        "mean_post": np.nan,
        "mean_change": np.nan,
        "ci_low": np.nan,
        "ci_high": np.nan,
        "sd_change": np.nan,
        "r_prepost": np.nan,
        "d_z": np.nan,
        "d_z_ci_low": np.nan,
        "d_z_ci_high": np.nan,
        "d_av": np.nan,
        "d_av_ci_low": np.nan,
        "d_av_ci_high": np.nan,
        "g_z": np.nan,
        "t": np.nan,
        "p_t": np.nan,
        "p_wilcoxon": np.nan,
    }
    if n < 3:
        return result
    mean, sd = change.mean(), change.std(ddof=1)
    critical = stats.t.ppf(0.5 + confidence / 2, n - 1)
    half = critical * sd / np.sqrt(n)
    d_z = mean / sd if sd > 0 else np.nan
    sd_av = (pre.std(ddof=1) + post.std(ddof=1)) / 2
    d_av = mean / sd_av if sd_av > 0 else np.nan
    t_value = d_z * np.sqrt(n)
    nc_low, nc_high = noncentral_t_interval(t_value, n - 1, confidence=confidence)
    to_d_av = sd / sd_av / np.sqrt(n) if sd_av > 0 else np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.corrcoef(pre, post)[0, 1] if pre.std() > 0 and post.std() > 0 else np.nan
    test = stats.ttest_rel(post, pre)
    nonzero = change[change != 0]
    p_wilcoxon = stats.wilcoxon(nonzero).pvalue if nonzero.size >= 1 else np.nan
    result.update(
        mean_pre=pre.mean(),
        mean_post=post.mean(),
        mean_change=mean,
        ci_low=mean - half,
        ci_high=mean + half,
        sd_change=sd,
        r_prepost=r,
        d_z=d_z,
        d_z_ci_low=nc_low / np.sqrt(n),
        d_z_ci_high=nc_high / np.sqrt(n),
        d_av=d_av,
        d_av_ci_low=nc_low * to_d_av,
        d_av_ci_high=nc_high * to_d_av,
        g_z=d_z * hedges_correction(n - 1),
        t=test.statistic,
        p_t=test.pvalue,
        p_wilcoxon=p_wilcoxon,
    )
    return result


def sign_flip_pvalue(change, *, n_permutations=10000, random_state=0):
    """Two-sided sign-flip permutation p-value of the mean change.

    Under the null of a symmetric change distribution around 0, every sign
    pattern is equally likely. Up to ``2**14`` patterns are enumerated exactly;
    beyond, ``n_permutations`` random patterns are drawn and
    ``p = (1 + #{|mean*| >= |mean|}) / (1 + n_permutations)``.

    Parameters
    ----------
    change : array-like of float
        Post - pre differences (NaN dropped).
    n_permutations : int
        Random sign patterns when exact enumeration is too large.
    random_state : int
        Seed of the random patterns.

    Returns
    -------
    p : float
    """
    change = np.asarray(change, float)
    change = change[np.isfinite(change)]
    n = change.size
    if n == 0:
        return np.nan
    observed = abs(change.mean()) - 1e-12
    if n <= MAX_EXACT:
        signs = np.array(list(itertools.product([1.0, -1.0], repeat=n)))
        return float(np.mean(np.abs(signs @ change / n) >= observed))
    rng = np.random.default_rng(random_state)
    signs = rng.choice([1.0, -1.0], size=(n_permutations, n))
    extreme = np.sum(np.abs(signs @ change / n) >= observed)
    return float((1 + extreme) / (1 + n_permutations))


def group_difference(a, b, *, n_permutations=10000, random_state=0):
    """Compare two independent groups (e.g. responders' vs non-responders' change).

    Parameters
    ----------
    a, b : array-like of float
        The two groups (NaN dropped).
    n_permutations : int
        Label permutations of the permutation test.
    random_state : int
        Seed.

    Returns
    -------
    result : dict
        ``n_a``, ``n_b``, ``mean_a``, ``mean_b``, ``difference`` (a - b),
        ``hedges_g`` (pooled-SD standardised difference, corrected), Welch's
        ``t``/``p_welch`` (scipy.stats.ttest_ind, unequal variances) and
        ``p_permutation`` (scipy.stats.permutation_test on the mean difference).
    """
    a, b = np.asarray(a, float), np.asarray(b, float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    result = {
        "n_a": a.size,
        "n_b": b.size,
        "mean_a": np.nan,
        "mean_b": np.nan,
        "difference": np.nan,
        "hedges_g": np.nan,
        "t": np.nan,
        "p_welch": np.nan,
        "p_permutation": np.nan,
    }
    if a.size < 2 or b.size < 2:
        return result
    pooled = np.sqrt(
        ((a.size - 1) * a.var(ddof=1) + (b.size - 1) * b.var(ddof=1))
        / (a.size + b.size - 2)
    )
    welch = stats.ttest_ind(a, b, equal_var=False)
    permutation = stats.permutation_test(
        (a, b),
        lambda x, y, axis: np.mean(x, axis=axis) - np.mean(y, axis=axis),
        n_resamples=n_permutations,
        vectorized=True,
        rng=random_state,
    )
    result.update(
        mean_a=a.mean(),
        mean_b=b.mean(),
        difference=a.mean() - b.mean(),
        hedges_g=(a.mean() - b.mean()) / pooled * hedges_correction(a.size + b.size - 2)
        if pooled > 0
        else np.nan,
        t=welch.statistic,
        p_welch=welch.pvalue,
        p_permutation=permutation.pvalue,
    )
    return result


ICC_KEYS = (
    "icc_1_1",
    "icc_2_1",
    "icc_2_1_ci_low",
    "icc_2_1_ci_high",
    "icc_3_1",
    "icc_1_k",
    "icc_2_k",
    "icc_3_k",
)


def _icc_2_1_interval(value, bms, jms, ems, n, k, confidence):
    """F-based CI of ICC(2,1) (McGraw & Wong 1996, case 2A; Satterthwaite df)."""
    if not np.isfinite(value) or value >= 1 or ems <= 0:
        return np.nan, np.nan
    alpha = 1 - confidence
    a = k * value / (n * (1 - value))
    b = 1 + k * value * (n - 1) / (n * (1 - value))
    shared = k * jms + (k * n - k - n) * ems
    with np.errstate(divide="ignore", invalid="ignore"):  # degenerate tables
        df = (a * jms + b * ems) ** 2 / (
            (a * jms) ** 2 / (k - 1) + (b * ems) ** 2 / ((n - 1) * (k - 1))
        )
        upper_f = stats.f.ppf(1 - alpha / 2, n - 1, df)
        lower_f = stats.f.ppf(1 - alpha / 2, df, n - 1)
        low = n * (bms - upper_f * ems) / (upper_f * shared + n * bms)
        high = n * (lower_f * bms - ems) / (shared + n * lower_f * bms)
    if not (np.isfinite(low) and np.isfinite(high)):
        return np.nan, np.nan
    return low, high


def icc(ratings, *, confidence=0.95):
    """Intraclass correlations of a subjects x sessions (or raters) table.

    Parameters
    ----------
    ratings : array-like of float, shape (n_subjects, k)
        Complete rows only (rows with NaN are dropped); fewer than 3
        complete subjects give missing values.
    confidence : float
        Level of the ICC(2,1) interval.

    Returns
    -------
    result : dict
        ``icc_1_1``, ``icc_2_1`` (two-way random, absolute agreement: the
        test-retest figure to report, Koo & Li 2016) with its F-based
        ``icc_2_1_ci_low``/``icc_2_1_ci_high`` (McGraw & Wong 1996),
        ``icc_3_1`` (two-way mixed, consistency) and their average-measures
        forms ``icc_1_k``, ``icc_2_k``, ``icc_3_k`` (Shrout & Fleiss 1979;
        McGraw & Wong 1996), and ``n``.
    """
    x = np.asarray(ratings, float)
    x = x[np.isfinite(x).all(axis=1)]
    n, k = x.shape
    if n < 3 or k < 2:
        return {key: np.nan for key in ICC_KEYS} | {"n": n}
    grand = x.mean()
    ss_rows = k * np.sum((x.mean(axis=1) - grand) ** 2)
    ss_cols = n * np.sum((x.mean(axis=0) - grand) ** 2)
    ss_total = np.sum((x - grand) ** 2)
    ss_error = ss_total - ss_rows - ss_cols
    bms = ss_rows / (n - 1)
    wms = (ss_cols + ss_error) / (n * (k - 1))
    jms = ss_cols / (k - 1)
    ems = ss_error / ((n - 1) * (k - 1))
    if ss_total <= 0:  # constant ratings (e.g. a peak height of 0 throughout)
        return {key: np.nan for key in ICC_KEYS} | {"n": n}
    # a zero denominator (no spread between subjects, tiny samples) is missing
    with np.errstate(divide="ignore", invalid="ignore"):
        icc_2_1 = (bms - ems) / (bms + (k - 1) * ems + k * (jms - ems) / n)
        values = {
            "icc_1_1": (bms - wms) / (bms + (k - 1) * wms),
            "icc_2_1": icc_2_1,
            "icc_3_1": (bms - ems) / (bms + (k - 1) * ems),
            "icc_1_k": (bms - wms) / bms,
            "icc_2_k": (bms - ems) / (bms + (jms - ems) / n),
            "icc_3_k": (bms - ems) / bms,
        }
    # above 1 only through a negative denominator: degenerate, not agreement
    values = {key: v if v <= 1 else np.nan for key, v in values.items()}
    low, high = _icc_2_1_interval(values["icc_2_1"], bms, jms, ems, n, k, confidence)
    return {"n": n, **values, "icc_2_1_ci_low": low, "icc_2_1_ci_high": high}


def fdr(pvalues):
    """Benjamini-Hochberg adjusted p-values (NaN kept as NaN).

    Parameters
    ----------
    pvalues : array-like
        p-values (NaN allowed).
    """
    p = np.asarray(pvalues, float)
    adjusted = np.full(p.shape, np.nan)
    finite = np.isfinite(p)
    if finite.any():
        adjusted[finite] = stats.false_discovery_control(p[finite], method="bh")
    return adjusted


def two_stage_fdr(pvalues, groups, *, alpha=0.05):
    """Hierarchical FDR over groups of tests (Benjamini & Bogomolov 2014).

    Stage 1 tests every group by the Simes combination of its p-values and
    selects groups by Benjamini-Hochberg at ``alpha``; stage 2 applies
    Benjamini-Hochberg inside each selected group at ``alpha * R / G``
    (``R`` selected of ``G`` groups), which controls the FDR averaged over
    the selected groups.

    Parameters
    ----------
    pvalues : array-like of float
        P-values (NaN: not tested).
    groups : array-like
        Group of each test (e.g. the marker: ``eeg alpha_logpower``).
    alpha : float
        Level.

    Returns
    -------
    rejected : ndarray of bool
    """
    p = np.asarray(pvalues, float)
    groups = np.asarray(groups)
    rejected = np.zeros(p.shape, bool)
    finite = np.isfinite(p)
    labels = np.unique(groups[finite])
    if labels.size == 0:
        return rejected
    simes = []
    for label in labels:
        values = np.sort(p[finite & (groups == label)])
        simes.append(np.min(values * values.size / np.arange(1, values.size + 1)))
    selected = labels[fdr(simes) <= alpha]
    level = alpha * selected.size / labels.size
    for label in selected:
        rows = np.flatnonzero(finite & (groups == label))
        rejected[rows] = fdr(p[rows]) <= level
    return rejected
