"""Pre/post comparability of a participant's EEG recordings."""

import logging

from neuromark.eeg.comparability import compare_sessions, describe_differences

CHANNELS = ["Fp1", "Fp2", "Cz", "O1", "O2"]


def _qc(pid, session, **changes):
    return {
        "participant_id": pid,
        "session": session,
        "recorded_sfreq": 500.0,
        "channels": CHANNELS,
        "recorded_reference": "FCz",
        "clean_seconds": 120.0,
    } | changes


def test_every_kind_of_difference_is_described():
    pre = _qc("sub-01", "pre")
    assert describe_differences(pre, _qc("sub-01", "post")) == []
    post = _qc(
        "sub-01",
        "post",
        recorded_sfreq=1000.0,
        channels=["Fp1", "Fp2", "Cz", "O1", "Oz"],
        recorded_reference="average",
        clean_seconds=48.0,
    )
    assert describe_differences(pre, post) == [
        "sampling rate 500 vs 1000 Hz",
        "channels: 1 only in pre (O2); 1 only in post (Oz)",
        "reference FCz vs average",
        "clean duration 120 vs 48 s (differs by more than 50% of the longer)",
    ]
    # the duration tolerance is configurable: 60 % shorter is within 0.7
    short = _qc("sub-01", "post", clean_seconds=48.0)
    assert describe_differences(pre, short, max_duration_difference=0.7) == []


def test_compare_sessions_flags_participants_and_logs_once(caplog):
    qcs = [
        _qc("sub-01", "pre"),
        _qc("sub-01", "post", recorded_sfreq=250.0),
        _qc("sub-02", "pre"),
        _qc("sub-02", "post"),
        _qc("sub-03", "pre"),  # no post: nothing to compare
    ]
    with caplog.at_level(logging.WARNING, logger="neuromark"):
        out = compare_sessions(qcs, ("pre", "post"))
    flagged = {qc["participant_id"]: qc["prepost_differences"] for qc in out}
    assert flagged == {
        "sub-01": "sampling rate 500 vs 250 Hz",
        "sub-02": "",
        "sub-03": "",
    }
    warnings = [r.getMessage() for r in caplog.records]
    assert warnings == [
        "sub-01: pre and post EEG recorded differently: sampling rate 500 vs 250 Hz"
    ]
    assert "prepost_differences" not in qcs[0]  # the input is not modified
