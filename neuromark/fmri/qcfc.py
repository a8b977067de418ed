"""QC-FC: how much head motion is left in the connectivity edges.

For every edge and session, the correlation across participants between the
edge's connectivity and the run's mean framewise displacement (QC-FC), and
its dependence on the distance between the two ROIs (Power et al. 2012;
Parkes et al. 2018, NeuroImage 171:415-436). Motion that survives denoising
shows as many edges with a significant QC-FC, and as QC-FC that falls with
distance (motion inflates short-range coupling most).
"""

import numpy as np
import pandas as pd
from scipy import stats

from ..features import edge_name, parse_fmri_column

MIN_PARTICIPANTS = 6


def qc_fc(wide, centres=None, *, feature="fc"):
    """QC-FC correlation of every edge, per session.

    Parameters
    ----------
    wide : pandas.DataFrame
        ``features_wide.tsv`` with ``fmri_<feature>_<edge>_<pre|post>`` and
        ``qc_fmri_mean_fd_<pre|post>`` columns.
    centres : dict of str to array-like | None
        ROI centres (mm), for the distance of each edge.
    feature : str
        Connectivity feature (``fc`` or ``fc_partial``).

    Returns
    -------
    table : pandas.DataFrame
        ``session`` (pre/post), ``location`` (edge), ``n``, ``r`` (Pearson,
        edge FC vs mean FD across participants), ``p`` and ``distance_mm``;
        ``r`` is missing with fewer than 6 participants.
    """
    centres = centres or {}
    rows = []
    for name in wide.columns:
        parsed = parse_fmri_column(name)
        fd_column = f"qc_fmri_mean_fd_{parsed[2]}" if parsed else None
        if parsed is None or parsed[0] != feature or fd_column not in wide:
            continue
        _, (a, b), session = parsed
        values = wide[[name, fd_column]].apply(pd.to_numeric, errors="coerce")
        values = values[np.isfinite(values).all(axis=1)]
        r = p = np.nan
        constant = values.nunique().min() < 2 if len(values) else True
        if len(values) >= MIN_PARTICIPANTS and not constant:
            r, p = stats.pearsonr(values[name], values[fd_column])
        distance = (
            float(np.linalg.norm(np.subtract(centres[a], centres[b])))
            if a in centres and b in centres
            else np.nan
        )
        rows.append((session, edge_name(a, b), len(values), r, p, distance))
    return pd.DataFrame(
        rows, columns=["session", "location", "n", "r", "p", "distance_mm"]
    )


def qc_fc_summary(table, *, alpha=0.05):
    """Parkes et al. (2018) benchmarks of a :func:`qc_fc` table, per session.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`qc_fc`.
    alpha : float
        Significance level of the per-edge tests.

    Returns
    -------
    summary : pandas.DataFrame
        ``session``, ``n_edges``, ``percent_significant`` (edges with QC-FC
        p < ``alpha``, uncorrected; about 5 % when motion is gone),
        ``median_abs_r`` and ``distance_dependence`` (Spearman rho between
        QC-FC and edge distance; missing with fewer than 3 edges).
    """
    rows = []
    for session, group in table.dropna(subset=["r"]).groupby("session", sort=False):
        known = group.dropna(subset=["distance_mm"])
        rho = (
            stats.spearmanr(known["r"], known["distance_mm"]).statistic
            if len(known) >= 3 and known["distance_mm"].nunique() > 1
            else np.nan
        )
        rows.append(
            (
                session,
                len(group),
                100 * float((group["p"] < alpha).mean()),
                float(group["r"].abs().median()),
                rho,
            )
        )
    return pd.DataFrame(
        rows,
        columns=[
            "session",
            "n_edges",
            "percent_significant",
            "median_abs_r",
            "distance_dependence",
        ],
    )
