"""QC-FC: residual motion in connectivity edges (Parkes et al. 2018)."""

import numpy as np
import pandas as pd
import pytest

from neuromark.fmri.qcfc import qc_fc, qc_fc_summary


def _wide(n=40, seed=0):
    """Mean FD per session; one edge follows it, the others do not."""
    rng = np.random.default_rng(seed)
    columns = {"participant_id": [f"sub-{k:02d}" for k in range(n)]}
    for session in ("pre", "post"):
        fd = rng.gamma(2.0, 0.08, n)
        columns[f"qc_fmri_mean_fd_{session}"] = fd
        columns[f"fmri_fc_A~B_{session}"] = 3 * fd + 0.1 * rng.standard_normal(n)
        for edge in ("A~C", "B~C", "C~D", "A~D", "B~D"):
            columns[f"fmri_fc_{edge}_{session}"] = rng.standard_normal(n)
        columns[f"fmri_fc_partial_A~B_{session}"] = rng.standard_normal(n)
    return pd.DataFrame(columns)


CENTRES = {"A": [0, 0, 0], "B": [10, 0, 0], "C": [0, 80, 0], "D": [0, 0, 60]}


def test_qc_fc_is_the_correlation_of_edge_and_mean_fd():
    wide = _wide()
    table = qc_fc(wide, CENTRES).set_index(["session", "location"])
    assert len(table) == 12  # 6 fc edges x 2 sessions; fc_partial left out
    for session in ("pre", "post"):
        expected = np.corrcoef(
            wide[f"fmri_fc_A~B_{session}"], wide[f"qc_fmri_mean_fd_{session}"]
        )[0, 1]
        assert table.loc[(session, "A~B"), "r"] == pytest.approx(expected)
        assert table.loc[(session, "A~B"), "p"] < 1e-6
    assert table.loc[("pre", "A~C"), "distance_mm"] == pytest.approx(80.0)
    # a participant without FD or without the edge is left out of that edge
    wide.loc[3, "qc_fmri_mean_fd_pre"] = np.nan
    assert qc_fc(wide).set_index(["session", "location"]).loc[("pre", "A~B"), "n"] == 39
    # too few participants: missing, not a correlation of 3 points
    assert qc_fc(_wide(n=4))["r"].isna().all()


def test_summary_counts_significant_edges_and_distance_dependence():
    summary = qc_fc_summary(qc_fc(_wide(), CENTRES)).set_index("session")
    pre = summary.loc["pre"]
    assert pre["n_edges"] == 6
    assert pre["percent_significant"] == pytest.approx(100 / 6)  # the A~B edge
    # the shortest edge carries the motion: QC-FC falls with distance
    assert pre["distance_dependence"] < 0
    assert pre["median_abs_r"] < 0.5
