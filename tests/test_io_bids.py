import logging

import pandas as pd
import pytest
from conftest import write_layout

from neuromark.exceptions import BIDSError
from neuromark.io import discover_study

FMRIPREP = "derivatives/fmriprep"
SPACE = "space-MNI152NLin2009cAsym"


def _fmri(pid, ses, confounds="_desc-confounds_timeseries.tsv", space=SPACE):
    func = f"{FMRIPREP}/{pid}/ses-{ses}/func/{pid}_ses-{ses}_task-rest"
    return [
        f"{func}_{space}_desc-preproc_bold.nii.gz",
        f"{func}_{space}_desc-brain_mask.nii.gz",
        f"{func}{confounds}",
    ]


def _eeg(pid, ses, ext=".edf"):
    return [f"{pid}/ses-{ses}/eeg/{pid}_ses-{ses}_task-rest_eeg{ext}"]


def test_discovers_simulated_study(study_root):
    study = discover_study(study_root)
    assert len(study.participants) == 6
    assert len(study.recordings) == 24
    assert study.problems.empty
    summary = study.summary()
    assert (
        (summary[["eeg_pre", "eeg_post", "fmri_pre", "fmri_post"]] == "ok").all().all()
    )
    rec = study.get("sub-01", "pre", "fmri")
    assert set(rec.companions) == {"confounds", "mask", "sidecar", "csf"}
    assert set(study.get("sub-01", "post", "eeg").companions) == {"channels", "sidecar"}


@pytest.mark.parametrize(
    "suffix",
    [
        "_desc-confounds_timeseries.tsv",
        "_desc-confounds_regressors.tsv",
        "_bold_confounds.tsv",
    ],
)
def test_all_fmriprep_confounds_names(tmp_path, suffix):
    write_layout(tmp_path, _fmri("sub-01", "pre", confounds=suffix))
    study = discover_study(tmp_path, modalities=["fmri"])
    rec = study.get("sub-01", "pre", "fmri")
    assert rec.companions["confounds"].name.endswith(suffix)


@pytest.mark.parametrize("ext", [".edf", ".bdf", ".vhdr", ".set", ".fif"])
def test_all_eeg_formats(tmp_path, ext):
    write_layout(tmp_path, _eeg("sub-01", "pre", ext))
    study = discover_study(tmp_path, modalities=["eeg"])
    assert study.get("sub-01", "pre", "eeg").path.suffix == ext


def test_missing_session_and_modality_are_reported(tmp_path):
    files = _eeg("sub-01", "pre") + _eeg("sub-01", "post") + _fmri("sub-01", "pre")
    write_layout(tmp_path, files)
    study = discover_study(tmp_path)
    assert len(study.recordings) == 3
    problem = study.problems.set_index(["session", "modality"]).loc[("post", "fmri")]
    assert problem["problem"] == "no preprocessed BOLD image"
    assert study.summary().loc[0, "fmri_post"] == "missing"


def test_participant_without_data_is_logged(tmp_path, caplog):
    write_layout(tmp_path, _eeg("sub-01", "pre"))
    (tmp_path / "sub-02").mkdir()
    participants = pd.DataFrame(
        {
            "participant_id": ["sub-01", "sub-02"],
            "intervention": "TENS",
            "pain_pre": 6,
            "pain_post": 2,
        }
    )
    participants.to_csv(tmp_path / "participants.tsv", sep="\t", index=False)
    with caplog.at_level(logging.WARNING, logger="neuromark"):
        study = discover_study(tmp_path)
    assert "sub-02: no resting eeg/fmri data found" in caplog.text
    assert (
        study.summary().set_index("participant_id").loc["sub-02", "n_recordings"] == 0
    )


def test_unlisted_folder_and_wrong_space_and_missing_confounds(tmp_path):
    files = (
        _eeg("sub-01", "pre")
        + _eeg("sub-99", "pre")
        + _fmri("sub-01", "pre", space="space-T1w")
        + _fmri("sub-01", "post")[:2]  # no confounds table
    )
    participants = pd.DataFrame(
        {
            "participant_id": ["sub-01"],
            "intervention": "TENS",
            "pain_pre": 6,
            "pain_post": 2,
        }
    )
    write_layout(tmp_path, files, participants)
    problems = discover_study(tmp_path).problems.set_index(
        ["participant_id", "session", "modality"]
    )["problem"]
    assert "not listed in participants.tsv" in problems[("sub-99", "n/a", "n/a")]
    assert (
        "no BOLD image in space MNI152NLin2009cAsym; found spaces ['T1w']"
        == problems[("sub-01", "pre", "fmri")]
    )
    assert "no confounds table" in problems[("sub-01", "post", "fmri")]


def test_ambiguous_eeg_is_not_guessed(tmp_path):
    files = _eeg("sub-01", "pre", ".edf") + [
        "sub-01/ses-pre/eeg/sub-01_ses-pre_task-rest_run-2_eeg.edf"
    ]
    write_layout(tmp_path, files)
    study = discover_study(tmp_path, modalities=["eeg"])
    assert study.get("sub-01", "pre", "eeg") is None
    assert "several resting EEG files" in study.problems.loc[0, "problem"]


def test_custom_sessions_task_and_intervention_filter(tmp_path):
    files = [
        "sub-01/ses-baseline/eeg/sub-01_ses-baseline_task-eyesclosed_eeg.vhdr",
        "sub-02/ses-baseline/eeg/sub-02_ses-baseline_task-eyesclosed_eeg.vhdr",
    ]
    participants = pd.DataFrame(
        {
            "participant_id": ["sub-01", "sub-02"],
            "intervention": ["NIBS", "sham"],
            "pain_pre": 6,
            "pain_post": 2,
        }
    )
    write_layout(tmp_path, files, participants)
    study = discover_study(
        tmp_path,
        task="eyesclosed",
        sessions=("baseline", "week4"),
        modalities=["eeg"],
        interventions=["NIBS"],
    )
    assert list(study.participants["participant_id"]) == ["sub-01"]
    assert [r.key for r in study.recordings] == [("sub-01", "baseline", "eeg")]
    with pytest.raises(BIDSError, match="intervention in"):
        discover_study(tmp_path, interventions=["TENS"])


def test_bad_arguments(tmp_path):
    with pytest.raises(BIDSError, match="is not a folder"):
        discover_study(tmp_path / "nope")
    write_layout(tmp_path, _eeg("sub-01", "pre"))
    with pytest.raises(
        ValueError, match="Allowed values are 'eeg' and 'fmri'.*Did you mean 'eeg'"
    ):
        discover_study(tmp_path, modalities=["EEG"])
    with pytest.raises(ValueError, match="two different labels"):
        discover_study(tmp_path, sessions=("pre", "pre"))
