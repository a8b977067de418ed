"""The feature vocabulary: names built and parsed in one place, pairing, families."""

import numpy as np
import pandas as pd
import pytest

from neuromark.features import (
    LONG_COLUMNS,
    column_modality,
    column_name,
    edge_name,
    edge_rois,
    feature_family,
    paired_values,
    parse_fmri_column,
    qc_column,
    split_column,
    to_wide,
)


@pytest.mark.parametrize(
    ("modality", "feature", "location"),
    [
        ("eeg", "alpha_logpower", "occipital"),
        ("eeg", "alpha_asymmetry", "F4-F3"),
        ("eeg", "wpli_alpha", "frontal~parietal"),
        ("fmri", "fc", "PAG~pgACC"),
        ("fmri", "fc_partial", "DLPFC_L~dACC"),
    ],
)
def test_names_round_trip(modality, feature, location):
    for suffix in ("pre", "post", "change"):
        name = column_name(modality, feature, location, suffix)
        assert split_column(name) == (column_name(modality, feature, location), suffix)
        assert column_modality(name) == modality
    parsed = parse_fmri_column(column_name(modality, feature, location, "pre"))
    if modality == "fmri":
        assert parsed == (feature, edge_rois(location), "pre")
    else:
        assert parsed is None


def test_non_feature_columns_are_not_parsed():
    for name in ("participant_id", qc_column("fmri", "mean_fd", "pre"), "pain_pre"):
        assert split_column(name) is None and parse_fmri_column(name) is None
    assert qc_column("eeg", "n_epochs", "post") == "qc_eeg_n_epochs_post"


def test_edges_are_undirected_and_parsed_back():
    assert edge_name("pgACC", "PAG") == edge_name("PAG", "pgACC") == "PAG~pgACC"
    assert edge_rois("PAG~pgACC") == ("PAG", "pgACC")
    assert edge_rois("occipital") is None and edge_rois("a~b~c") is None


def _long():
    rows = []
    for pid, pre, post in [("sub-01", 1.0, 3.0), ("sub-02", 2.0, np.nan)]:
        for session, value in (("pre", pre), ("post", post)):
            rows.append((pid, session, "eeg", "paf", "occipital", value, "Hz"))
            rows.append((pid, session, "eeg", "paf", "O1", value, "Hz"))
            rows.append((pid, session, "fmri", "fc", "PAG~pgACC", value, "Fisher z"))
    return pd.DataFrame(rows, columns=LONG_COLUMNS)


def test_pairing_is_the_same_in_the_wide_table_and_the_statistics():
    long = _long()
    pairs = paired_values(long).loc[("eeg", "paf", "occipital")]
    assert pairs.loc["sub-01"].tolist() == [1.0, 3.0]
    wide = to_wide(long, participants=["sub-01", "sub-02", "sub-03"]).set_index(
        "participant_id"
    )
    stem = column_name("eeg", "paf", "occipital")
    assert wide.loc["sub-01", f"{stem}_change"] == 2.0
    assert np.isnan(wide.loc["sub-02", f"{stem}_change"])
    assert wide.loc["sub-03"].isna().all()  # listed, without features
    # the regional family drops single channels, keeps regions and edges
    kept = set(feature_family(long)["location"])
    assert kept == {"occipital", "PAG~pgACC"}
