import logging

import numpy as np
import pandas as pd
import pytest

from neuromark.exceptions import BIDSError, DataFileError
from neuromark.io import label_responders, pain_reduction, read_participants


def _write(tmp_path, **columns):
    base = {
        "participant_id": ["sub-01", "sub-02", "sub-03"],
        "intervention": ["TENS", "NIBS", "mindfulness"],
        "pain_pre": ["7", "6", "5"],
        "pain_post": ["4.9", "4.5", "1"],
    }
    base.update(columns)
    pd.DataFrame(base).to_csv(tmp_path / "participants.tsv", sep="\t", index=False)
    return tmp_path / "participants.tsv"


def test_responder_rule_is_thirty_percent_reduction(tmp_path):
    table = read_participants(_write(tmp_path))
    # 7 -> 4.9 is exactly 30 %: a responder; 6 -> 4.5 is 25 %: not
    np.testing.assert_allclose(table["pain_reduction"], [0.3, 0.25, 0.8])
    assert table["responder"].tolist() == [True, False, True]
    assert set(table["responder_source"]) == {"pain"}


def test_threshold_is_configurable(tmp_path):
    table = read_participants(_write(tmp_path), responder_threshold=0.5)
    assert table["responder"].tolist() == [False, False, True]


def test_explicit_responder_column_overrides_pain(tmp_path):
    path = _write(tmp_path, responder=["no", "", "non-responder"])
    table = read_participants(path)
    assert table["responder"].tolist() == [False, False, False]
    assert table["responder_source"].tolist() == ["column", "pain", "column"]


def test_invalid_responder_values_are_named(tmp_path):
    path = _write(tmp_path, responder=["yes", "maybe", "0"])
    with pytest.raises(DataFileError, match=r"sub-02='maybe'"):
        read_participants(path)


def test_missing_pain_leaves_participant_unlabelled(tmp_path, caplog):
    path = _write(tmp_path, pain_post=["4", "n/a", "1"])
    with caplog.at_level(logging.WARNING, logger="neuromark"):
        table = read_participants(path)
    assert pd.isna(table.loc[1, "responder"])
    assert table.loc[1, "responder_source"] == "unknown"
    assert "sub-02" in caplog.text and "responder label unknown" in caplog.text


@pytest.mark.parametrize(
    ("column", "values", "match"),
    [
        ("pain_pre", ["7", "11", "5"], r"0-10 numeric rating scale.*sub-02=11"),
        ("pain_post", ["-1", "2", "1"], r"out of range: \['sub-01=-1'\]"),
        ("pain_pre", ["7", "high", "5"], r"non-numeric values \[\"sub-02='high'\"\]"),
        (
            "participant_id",
            ["sub-01", "02", "sub-03"],
            r"'sub-<label>' with a label of 1 to 64 letters or digits.*'02'",
        ),
        (
            "participant_id",
            ["sub-01", "sub-01", "sub-03"],
            r"duplicated participant_id",
        ),
        (
            "intervention",
            ["TENS", None, "NIBS"],
            r"no intervention given for \['sub-02'\]",
        ),
    ],
)
def test_bad_values_name_file_and_participant(tmp_path, column, values, match):
    path = _write(tmp_path, **{column: values})
    with pytest.raises(DataFileError, match=match) as info:
        read_participants(path)
    assert "participants.tsv" in str(info.value)


def test_missing_required_column(tmp_path):
    path = _write(tmp_path)
    table = pd.read_csv(path, sep="\t").drop(columns="pain_post")
    table.to_csv(path, sep="\t", index=False)
    with pytest.raises(
        DataFileError, match=r"missing required column\(s\) \['pain_post'\]"
    ):
        read_participants(path)


def test_missing_file_is_a_bids_error(tmp_path):
    with pytest.raises(BIDSError, match="participants.tsv not found"):
        read_participants(tmp_path)


def test_pain_reduction_undefined_without_pain():
    reduction = pain_reduction([0, 5, np.nan], [0, 5, 2])
    assert np.isnan(reduction[0]) and reduction[1] == 0 and np.isnan(reduction[2])
    labels = label_responders([0, 5, 4], [0, 5, 2])
    assert pd.isna(labels[0]) and labels[1] is np.False_ or labels[1] == False  # noqa: E712
    with pytest.raises(ValueError, match="fraction"):
        label_responders([5], [2], threshold=30)
