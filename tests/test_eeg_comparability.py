"""Pre/post comparability of a participant's EEG recordings."""

import logging

from neuromark.eeg.comparability import (
    compare_sessions,
    describe_differences,
    eyes_condition,
    mixed_eyes,
)
from neuromark.pipeline import make_config, run_pipeline

SESSIONS = ("pre", "post")

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


def test_eyes_condition_from_the_file_name_or_the_config():
    assert eyes_condition("sub-01_ses-pre_task-rest_acq-eyesclosed_eeg.edf") == (
        "closed",
        "acq",
    )
    assert eyes_condition("sub-01_ses-pre_task-restEO_eeg.edf") == ("unknown", "")
    assert eyes_condition("sub-01_ses-pre_task-eyesopen_eeg.edf") == ("open", "task")
    assert eyes_condition("sub-01_ses-pre_task-rest_acq-EC_eeg.vhdr") == (
        "closed",
        "acq",
    )
    assert eyes_condition("sub-01_ses-pre_task-rest_eeg.edf", "closed") == (
        "closed",
        "config",
    )
    # the name wins over the declared default
    assert eyes_condition("sub-01_task-rest_acq-open_eeg.edf", "closed")[0] == "open"
    pre, post = _qc("sub-01", "pre", eyes="closed"), _qc("sub-01", "post", eyes="open")
    assert describe_differences(pre, post) == ["eyes closed vs open"]
    unknown = _qc("sub-01", "post", eyes="unknown")
    assert describe_differences(pre, unknown) == []
    refused = mixed_eyes([pre, post, _qc("sub-02", "pre", eyes="open")], SESSIONS)
    assert refused == {
        "sub-01": "pre EEG recorded with eyes closed, post with eyes open: not "
        "paired (set eeg.allow_mixed_eyes: true to pair them)"
    }


def test_pipeline_refuses_to_pair_different_eyes_conditions(study_copy, tmp_path):
    eeg = study_copy / "sub-01"
    for session, condition in (("pre", "eyesclosed"), ("post", "eyesopen")):
        path = eeg / f"ses-{session}/eeg/sub-01_ses-{session}_task-rest_eeg.edf"
        path.rename(path.with_name(path.name.replace("_eeg", f"_acq-{condition}_eeg")))
    config = dict(
        bids_root=study_copy,
        modalities=["eeg"],
        report={"recording_figures": False},
    )
    steps = ["discover", "check", "eeg"]
    result = run_pipeline(make_config(output_dir=tmp_path / "a", **config), steps=steps)
    qc = result["eeg_qc"].set_index(["participant_id", "session"])
    assert qc.loc[("sub-01", "pre"), "eyes"] == "closed"
    assert qc.loc[("sub-01", "post"), "eyes_source"] == "acq"
    assert "eyes closed vs open" in qc.loc[("sub-01", "post"), "prepost_differences"]
    errors = result["errors"]
    assert errors["problem"].str.contains("not paired").sum() == 1
    long = result["features_long"]
    sub01 = long[(long["participant_id"] == "sub-01") & (long["modality"] == "eeg")]
    assert set(sub01["session"]) == {"pre"}  # baseline kept, no change computed
    allowed = run_pipeline(
        make_config(
            output_dir=tmp_path / "b", eeg={"allow_mixed_eyes": True}, **config
        ),
        steps=steps,
    )
    long = allowed["features_long"]
    assert {"pre", "post"} <= set(
        long.loc[long["participant_id"] == "sub-01", "session"]
    )
