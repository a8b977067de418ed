"""Fault corpus: damaged inputs as real studies have them.

Every fault ends in one of two honest outcomes: the recording is skipped with
a one-line reason naming the file (``logs/errors.tsv``), or it is used after an
explicit, logged decision recorded in QC. Never a traceback, never a silent
number, never a write outside the output folder, never a change to the input.
"""

import hashlib
import json
import subprocess
import sys

import mne
import nibabel as nib
import numpy as np
import pandas as pd
import pytest
import yaml

from neuromark.cli import main
from neuromark.fmri import read_atlas
from neuromark.simulation import CHANNELS

FMRIPREP = "derivatives/fmriprep"
STEPS = ["discover", "check", "eeg", "fmri"]


def _eeg(root, sub, ses, suffix="eeg.edf"):
    return root / f"{sub}/ses-{ses}/eeg/{sub}_ses-{ses}_task-rest_{suffix}"


def _func(root, sub, ses, suffix):
    prefix = f"{sub}_ses-{ses}_task-rest"
    return root / FMRIPREP / sub / f"ses-{ses}" / "func" / f"{prefix}_{suffix}"


def _bold(root, sub, ses, suffix="desc-preproc_bold.nii.gz"):
    return _func(root, sub, ses, f"space-MNI152NLin2009cAsym_{suffix}")


def _confounds(root, sub, ses):
    return _func(root, sub, ses, "desc-confounds_timeseries.tsv")


def _edit_json(path, **changes):
    path.write_text(json.dumps(json.loads(path.read_text()) | changes))


def _truncate(path, fraction):
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])


def _single_channel(root):
    path = _eeg(root, "sub-02", "pre")
    raw = mne.io.read_raw_edf(path, preload=True, verbose="error").pick([0])
    mne.export.export_raw(path, raw, overwrite=True, verbose="error")


def _zero_bold(root):
    path = _bold(root, "sub-02", "post")
    img = nib.load(path)
    nib.save(nib.Nifti1Image(np.zeros(img.shape, np.int16), img.affine), path)


def _short_run(root):
    """20 volumes: 29 default regressors leave no degrees of freedom."""
    path = _bold(root, "sub-04", "pre")
    nib.save(nib.load(path).slicer[..., :20], path)
    table = pd.read_csv(_confounds(root, "sub-04", "pre"), sep="\t")
    table.iloc[:20].to_csv(
        _confounds(root, "sub-04", "pre"), sep="\t", index=False, na_rep="n/a"
    )


def _no_fd(root):
    path = _confounds(root, "sub-04", "post")
    table = pd.read_csv(path, sep="\t")
    table.drop(columns="framewise_displacement").to_csv(
        path, sep="\t", index=False, na_rep="n/a"
    )


def _nan_voxel(root):
    """NaN at the dACC centre voxel, as a float image."""
    path = _bold(root, "sub-05", "pre")
    img = nib.load(path)
    data = img.get_fdata(dtype=np.float32)
    table = read_atlas("pain_modulation").table.set_index("label")
    centre = table.loc["dACC", ["x", "y", "z"]].to_numpy(dtype=float)
    ijk = np.rint(np.linalg.solve(img.affine, [*centre, 1.0])[:3]).astype(int)
    data[tuple(ijk)] = np.nan
    header = img.header.copy()
    header.set_data_dtype(np.float32)
    nib.save(nib.Nifti1Image(data, img.affine, header), path)


# (participant, session, modality, damage, what errors.tsv says) of skips
SKIPPED = {
    "single-channel EDF": ("sub-02", "pre", "eeg", _single_channel, "1 EEG channel"),
    "invalid sidecar JSON": (
        "sub-02",
        "post",
        "eeg",
        lambda r: _eeg(r, "sub-02", "post", "eeg.json").write_text("{not json"),
        "eeg.json: not valid JSON",
    ),
    "PowerLineFrequency 0.05": (
        "sub-03",
        "pre",
        "eeg",
        lambda r: _edit_json(
            _eeg(r, "sub-03", "pre", "eeg.json"), PowerLineFrequency=0.05
        ),
        "PowerLineFrequency 0.05 Hz is outside",
    ),
    "truncated EDF": (
        "sub-03",
        "post",
        "eeg",
        lambda r: _truncate(_eeg(r, "sub-03", "post"), 0.6),
        "shorter than its header says",
    ),
    "sidecar sampling rate disagrees": (
        "sub-04",
        "pre",
        "eeg",
        lambda r: _edit_json(
            _eeg(r, "sub-04", "pre", "eeg.json"), SamplingFrequency=500
        ),
        "SamplingFrequency 500 Hz disagrees with the 250 Hz",
    ),
    "EDF header of random bytes": (
        "sub-04",
        "post",
        "eeg",
        lambda r: _eeg(r, "sub-04", "post").write_bytes(
            np.random.default_rng(0).bytes(4096)
        ),
        "MNE cannot read this EEG file",
    ),
    "BOLD cut in half": (
        "sub-02",
        "pre",
        "fmri",
        lambda r: _truncate(_bold(r, "sub-02", "pre"), 0.5),
        "truncated or corrupt",
    ),
    "BOLD of zeros": ("sub-02", "post", "fmri", _zero_bold, "constant"),
    "RepetitionTime in ms": (
        "sub-03",
        "pre",
        "fmri",
        lambda r: _edit_json(
            _bold(r, "sub-03", "pre", "desc-preproc_bold.json"), RepetitionTime=2000
        ),
        "RepetitionTime 2000 s is outside",
    ),
    "confounds rows != volumes": (
        "sub-03",
        "post",
        "fmri",
        lambda r: _truncate(_confounds(r, "sub-03", "post"), 0.5),
        "one row per volume",
    ),
    "no degrees of freedom": (
        "sub-04",
        "pre",
        "fmri",
        _short_run,
        "temporal degrees of freedom left",
    ),
}
# damages the run handles with a logged decision recorded in QC
DECIDED = {"confounds without FD": _no_fd, "NaN voxel in an ROI": _nan_voxel}


def _tree(root):
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _command(config, *extra):
    return [
        sys.executable,
        "-c",
        "import sys; from neuromark.cli import main; sys.exit(main(sys.argv[1:]))",
        "run",
        str(config),
        *extra,
    ]


@pytest.fixture(scope="module")
def fault_run(study_root, tmp_path_factory):
    """The small study with every fault above, run once (then rerun from cache)."""
    import shutil

    base = tmp_path_factory.mktemp("faults")
    root = shutil.copytree(study_root, base / "study")
    for *_, damage, _ in SKIPPED.values():
        damage(root)
    for damage in DECIDED.values():
        damage(root)
    before = _tree(root)
    config = base / "config.yaml"
    settings = {
        "bids_root": str(root),
        "output_dir": str(base / "out"),
        # the DOF check, not the duration check, must refuse the short run
        "fmri": {"denoising": {"min_remaining_seconds": 0}},
    }
    config.write_text(yaml.safe_dump(settings))
    first = subprocess.run(
        _command(config, "--steps", *STEPS), capture_output=True, text=True
    )
    logs = {p.name: p.read_text() for p in (base / "out" / "logs").glob("sub-*.log")}
    rerun = subprocess.run(
        _command(config, "--steps", *STEPS), capture_output=True, text=True
    )
    return {
        "base": base,
        "root": root,
        "out": base / "out",
        "before": before,
        "first": first,
        "first_logs": logs,
        "rerun": rerun,
    }


def test_batch_completes_without_traceback(fault_run):
    for run in (fault_run["first"], fault_run["rerun"]):
        assert run.returncode == 0, run.stderr
        assert "Traceback" not in run.stderr + run.stdout
    # input untouched, nothing written beside the output folder
    assert _tree(fault_run["root"]) == fault_run["before"]
    assert {p.name for p in fault_run["base"].iterdir()} == {
        "study",
        "out",
        "config.yaml",
    }
    qc = pd.read_csv(fault_run["out"] / "eeg_qc.tsv", sep="\t")
    fmri_qc = pd.read_csv(fault_run["out"] / "fmri_qc.tsv", sep="\t")
    # the healthy participants are complete
    for sub in ("sub-01", "sub-06"):
        assert (qc["participant_id"] == sub).sum() == 2
        assert (fmri_qc["participant_id"] == sub).sum() == 2


@pytest.mark.parametrize("fault", list(SKIPPED))
def test_fault_is_skipped_with_its_reason(fault_run, fault):
    sub, ses, modality, _, reason = SKIPPED[fault]
    errors = pd.read_csv(fault_run["out"] / "logs" / "errors.tsv", sep="\t")
    rows = errors[
        (errors["participant_id"] == sub)
        & (errors["session"] == ses)
        & (errors["modality"] == modality)
    ]
    assert len(rows) == 1, errors
    problem = rows["problem"].iloc[0]
    assert reason in problem
    assert "\n" not in problem
    # never also a result: no features of the skipped recording
    long = pd.read_csv(fault_run["out"] / "features_long.tsv", sep="\t")
    unit = (
        (long["participant_id"] == sub)
        & (long["session"] == ses)
        & (long["modality"] == modality)
    )
    assert not unit.any()
    summary = pd.read_csv(fault_run["out"] / "dataset_summary.tsv", sep="\t")
    assert summary.set_index("participant_id").loc[sub, f"{modality}_{ses}"] == "error"


def test_logged_decisions_are_in_qc_and_survive_the_cache(fault_run):
    out = fault_run["out"]
    fmri_qc = pd.read_csv(out / "fmri_qc.tsv", sep="\t").set_index(
        ["participant_id", "session"]
    )
    assert fmri_qc.loc[("sub-04", "post"), "fd_source"] == "computed"
    assert fmri_qc.loc[("sub-01", "pre"), "fd_source"] == "confounds"
    assert fmri_qc.loc[("sub-04", "post"), "mean_fd"] > 0
    roi_qc = pd.read_csv(out / "fmri_roi_qc.tsv", sep="\t")
    dacc = roi_qc[
        (roi_qc["participant_id"] == "sub-05")
        & (roi_qc["session"] == "pre")
        & (roi_qc["roi"] == "dACC")
    ]
    assert dacc["n_nonfinite"].item() == 1
    long = pd.read_csv(out / "features_long.tsv", sep="\t")
    sub05 = long[
        (long["participant_id"] == "sub-05")
        & (long["session"] == "pre")
        & (long["modality"] == "fmri")
    ]
    # the NaN voxel left out (partial correlation of these short runs may be
    # missing for lack of degrees of freedom: that is another rule)
    correlation = sub05[sub05["feature"] == "fc"]
    assert correlation["value"].notna().all() and len(correlation)
    # the rerun read every unit from the cache and logged the same warnings
    expected = {
        "sub-04.log": "no framewise_displacement column; computed it",
        "sub-05.log": "voxel(s) of ROI dACC hold NaN",
    }
    for name, warning in expected.items():
        first = fault_run["first_logs"][name]
        again = (out / "logs" / name).read_text()
        assert warning in first and warning in again
        assert "read from cache" in again


def test_unexpected_library_error_is_isolated(study_copy, tmp_path, monkeypatch):
    """Any exception in one unit is logged with its traceback and skipped."""
    from neuromark.pipeline import make_config, run_pipeline
    from neuromark.pipeline import steps as steps_module

    real = steps_module.UNIT_FUNCTIONS["eeg"]

    def flaky(recording, *args):
        if recording.key == ("sub-03", "post", "eeg"):
            raise np.linalg.LinAlgError("SVD did not converge")
        return real(recording, *args)

    monkeypatch.setitem(steps_module.UNIT_FUNCTIONS, "eeg", flaky)
    config = make_config(
        bids_root=study_copy, output_dir=tmp_path / "out", modalities=["eeg"]
    )
    result = run_pipeline(config, steps=STEPS[:3])
    errors = result["errors"]
    row = errors[errors["participant_id"] == "sub-03"]
    assert row["problem"].tolist() == ["LinAlgError: SVD did not converge"]
    assert result["failed_steps"] == {}
    log = (tmp_path / "out" / "logs" / "sub-03.log").read_text()
    assert "Traceback" in log and "LinAlgError" in log
    assert len(result["features_long"]["participant_id"].unique()) == 6


def test_every_recording_failing_exits_non_zero(study_copy, tmp_path, capsys):
    for path in study_copy.rglob("*_eeg.json"):
        path.write_text("{")
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "bids_root": str(study_copy),
                "output_dir": str(tmp_path / "out"),
                "modalities": ["eeg"],
            }
        )
    )
    assert main(["run", str(config), "--steps", *STEPS[:3]]) == 1
    err = capsys.readouterr().err
    assert "nothing usable" in err and "check: 0 of 12 recordings" in err
    assert "Traceback" not in err


# ---------------------------------------------------------------------------
# Study-level faults: refused before anything is written


def _participants(root, ids):
    table = pd.read_csv(root / "participants.tsv", sep="\t", dtype=str)
    table.loc[: len(ids) - 1, "participant_id"] = ids
    table.to_csv(root / "participants.tsv", sep="\t", index=False)


def _config(tmp_path, bids_root, output_dir, **settings):
    path = tmp_path / "config.yaml"
    settings = {"bids_root": str(bids_root), "output_dir": str(output_dir)} | settings
    path.write_text(yaml.safe_dump(settings))
    return path


@pytest.mark.parametrize(
    "bad_id",
    [
        "sub-../../evil",
        "sub-<img src=x onerror=alert(1)>",
        "sub-a/b",
        "sub-with space",
        "sub-" + "x" * 300,
        "sub-",
        "subject01",
    ],
)
def test_participant_ids_that_are_not_bids_labels_are_refused(
    study_copy, tmp_path, capsys, bad_id
):
    _participants(study_copy, [bad_id])
    before = _tree(study_copy)
    config = _config(tmp_path, study_copy, tmp_path / "out")
    assert main(["-q", "run", str(config), "--steps", "discover"]) == 2
    err = capsys.readouterr().err
    assert "participants.tsv" in err and "letters or digits" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert len(err) < 600  # a 300-character ID is shortened in the message
    assert not list(tmp_path.parent.rglob("evil*"))
    assert _tree(study_copy) == before


@pytest.mark.parametrize("label", ["../escape", "01/../../x", "0 1", "<b>"])
def test_participant_option_is_checked_before_any_folder(
    study_root, tmp_path, capsys, label
):
    out = tmp_path / "deep" / "out"
    config = _config(tmp_path, study_root, out)
    assert main(["-q", "run", str(config), "--participant", label]) == 2
    assert "Invalid --participant" in capsys.readouterr().err
    assert not (tmp_path / "deep").exists()
    assert not list(tmp_path.parent.rglob("escape*"))


def test_folder_with_markup_is_reported_escaped(study_copy, tmp_path):
    from neuromark.pipeline import make_config, run_pipeline

    (study_copy / "sub-<img src=x onerror=alert(1)>").mkdir()
    result = run_pipeline(
        make_config(bids_root=study_copy, output_dir=tmp_path / "out"),
        steps=["discover"],
    )
    problems = result["errors"]
    assert "not a BIDS participant label" in " ".join(problems["problem"])
    report = (tmp_path / "out" / "report.html").read_text()
    assert "<img src=x" not in report
    assert "&lt;img src=x onerror=alert(1)&gt;" in report


@pytest.mark.parametrize(
    "where",
    [
        "root",
        "participant folder",
        "inside root",
        "derivatives",
        "fmriprep",
        "parent of root",
    ],
)
def test_output_onto_the_input_is_refused(study_copy, tmp_path, capsys, where):
    output = {
        "root": study_copy,
        "participant folder": study_copy / "sub-01" / "out",
        "inside root": study_copy / "results",
        "derivatives": study_copy / "derivatives",
        "fmriprep": study_copy / FMRIPREP / "neuromark",
        "parent of root": study_copy.parent,
    }[where]
    before = _tree(study_copy)
    config = _config(tmp_path, study_copy, output)
    assert main(["-q", "run", str(config), "--steps", "discover"]) == 2
    err = capsys.readouterr().err
    assert "output_dir" in err and "Traceback" not in err
    assert _tree(study_copy) == before
    assert not (study_copy / "sub-01" / "out").exists()
    assert not (study_copy / "results").exists()


def test_output_under_derivatives_is_accepted(study_copy, tmp_path):
    config = _config(tmp_path, study_copy, study_copy / "derivatives" / "neuromark")
    before = _tree(study_copy)
    assert main(["run", str(config), "--steps", "discover"]) == 0
    after = _tree(study_copy)
    assert {k: v for k, v in after.items() if "derivatives/neuromark" not in k} == (
        before
    )


def test_outputs_respect_the_umask(study_root, tmp_path):
    import os
    import stat

    config = _config(tmp_path, study_root, tmp_path / "out")
    old = os.umask(0o022)
    try:
        assert main(["run", str(config), "--steps", "discover", "check"]) == 0
    finally:
        os.umask(old)
    files = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert len(files) > 5
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path


def test_disk_full_is_one_line(study_root, tmp_path, capsys, monkeypatch):
    import errno
    import os

    from neuromark.utils import _files

    def full(src, dst):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(dst))

    monkeypatch.setattr(_files.os, "replace", full)
    config = _config(tmp_path, study_root, tmp_path / "out")
    assert main(["-q", "run", str(config), "--steps", "discover"]) == 2
    err = capsys.readouterr().err
    assert "No space left on device" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    # no table and no temporary file: only the streamed run log
    written = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert [p.name for p in written] == ["neuromark.log"]


# ---------------------------------------------------------------------------
# Model application: one clear line per bad file


@pytest.fixture
def saved_model(tmp_path):
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from neuromark.predict.persist import save_model

    rng = np.random.default_rng(0)
    names = [f"eeg_f{k}_occipital_pre" for k in range(5)]
    X = rng.normal(size=(30, 5))
    y = (X[:, 0] + rng.normal(size=30) > 0).astype(int)
    model = make_pipeline(SimpleImputer(), LogisticRegression()).fit(X, y)
    path = tmp_path / "model.skops"
    save_model(model, path, feature_names=names, metadata={"model": "logistic"})
    wide = pd.DataFrame(X[:3], columns=names).assign(
        participant_id=["sub-01", "sub-02", "sub-03"]
    )
    features = tmp_path / "features_wide.tsv"
    wide.to_csv(features, sep="\t", index=False)
    return path, features, wide


def _damage_model(path, features, how):
    import pickle

    if how == "pickle":
        path.write_bytes(pickle.dumps({"a": 1}))
    elif how == "corrupt skops":
        _truncate(path, 0.5)
    elif how == "truncated json":
        _truncate(path.with_suffix(".json"), 0.5)
    elif how == "json of another model":
        other = json.loads(path.with_suffix(".json").read_text())
        other["model_sha256"] = "0" * 64
        path.with_suffix(".json").write_text(json.dumps(other))
    elif how == "text features":
        table = pd.read_csv(features, sep="\t", dtype=str)
        table.loc[1, "eeg_f2_occipital_pre"] = "high"
        table.to_csv(features, sep="\t", index=False)
    elif how == "binary features":
        features.write_bytes(bytes(range(256)) * 8)
    elif how == "no model":
        path.unlink()


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("pickle", "not a skops model written by neuromark"),
        ("corrupt skops", "not a skops model written by neuromark"),
        ("truncated json", "model.json: not valid JSON"),
        ("json of another model", "describes another model"),
        ("text features", "non-numeric values in feature column(s)"),
        ("binary features", "not a readable tab-separated table"),
        ("no model", "model.skops: model file or its .json sidecar does not exist"),
    ],
)
def test_bad_model_files_give_one_line(saved_model, capsys, how, message):
    path, features, _ = saved_model
    _damage_model(path, features, how)
    assert main(["-q", "predict", str(path), str(features)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_missing_features_imputed_up_to_a_fraction(saved_model, caplog):
    from neuromark.predict.persist import apply_model, load_model

    path, _, wide = saved_model
    model, metadata = load_model(path)
    full = apply_model(model, metadata, wide)
    assert (full["status"] == "ok").all() and full["score"].between(0, 1).all()
    gaps = wide.copy()
    gaps.loc[0, "eeg_f1_occipital_pre"] = np.nan  # 1 of 5: imputed
    gaps.loc[1, ["eeg_f1_occipital_pre", "eeg_f2_occipital_pre"]] = np.nan  # 2 of 5
    with caplog.at_level("WARNING", logger="neuromark"):
        scored = apply_model(model, metadata, gaps, max_missing=0.2)
    assert scored["status"].tolist()[0] == "imputed"
    assert scored["status"].tolist()[1].startswith("refused: 2 of 5 features")
    assert np.isnan(scored["score"].iloc[1]) and scored["score"].iloc[0] > 0
    assert scored["score"].iloc[2] == full["score"].iloc[2]
    assert "sub-01: 1 of 5 features missing, imputed by the model: eeg_f1" in (
        caplog.text
    )
    dropped = apply_model(model, metadata, wide.drop(columns="eeg_f4_occipital_pre"))
    assert (dropped["n_missing_features"] == 1).all()
    assert (dropped["status"] == "imputed").all()


# ---------------------------------------------------------------------------
# A study as labs write it: four formats, inherited sidecars, typed channels


def _convert(root, sub, ses, extension):
    """Rewrite one EDF recording in another format (same data, same entities)."""
    edf = _eeg(root, sub, ses)
    raw = mne.io.read_raw_edf(edf, preload=True, verbose="error")
    target = edf.with_suffix(extension)
    if extension == ".fif":
        target = edf.with_name(edf.name.replace("_eeg.edf", "_eeg.fif"))
        raw.save(target, fmt="double", verbose="error")
    else:
        mne.export.export_raw(target, raw, verbose="error")
    edf.unlink()
    return target


def _labs_study(root):
    """Damage-free variations that real studies have; returns what to expect."""
    _convert(root, "sub-01", "pre", ".vhdr")
    _convert(root, "sub-02", "pre", ".set")
    _convert(root, "sub-03", "pre", ".fif")
    # sub-04 inherits its sidecar (60 Hz mains) from the study root
    for ses in ("pre", "post"):
        sidecar = _eeg(root, "sub-04", ses, "eeg.json")
        inherited = json.loads(sidecar.read_text())
        sidecar.unlink()
    (root / "task-rest_eeg.json").write_text(
        json.dumps(inherited | {"PowerLineFrequency": 60.0})
    )
    # sub-05 pre: channels.tsv types Fp1 as EOG and declares AF3 bad
    channels = _eeg(root, "sub-05", "pre", "channels.tsv")
    table = pd.read_csv(channels, sep="\t", dtype=str)
    table.loc[table["name"] == "Fp1", "type"] = "EOG"
    table.loc[table["name"] == "AF3", "status"] = "bad"
    table.to_csv(channels, sep="\t", index=False)
    # sub-06 pre: upper-case names in the file and in channels.tsv
    edf = _eeg(root, "sub-06", "pre")
    raw = mne.io.read_raw_edf(edf, preload=True, verbose="error")
    raw.rename_channels(str.upper)
    mne.export.export_raw(edf, raw, overwrite=True, verbose="error")
    channels = _eeg(root, "sub-06", "pre", "channels.tsv")
    table = pd.read_csv(channels, sep="\t", dtype=str)
    table["name"] = table["name"].str.upper()
    table.to_csv(channels, sep="\t", index=False)
    # sub-01 post: a BAD_ segment in events.tsv (12 s: at least 3 epochs)
    pd.DataFrame(
        {"onset": [10.0], "duration": [12.0], "trial_type": ["BAD_movement"]}
    ).to_csv(_eeg(root, "sub-01", "post", "events.tsv"), sep="\t", index=False)


def test_study_as_labs_write_it(study_copy, tmp_path):
    from neuromark.pipeline import make_config, run_pipeline

    reference = run_pipeline(
        make_config(
            bids_root=study_copy, output_dir=tmp_path / "ref", modalities=["eeg"]
        ),
        steps=STEPS[:3],
    )["features_long"]
    _labs_study(study_copy)
    result = run_pipeline(
        make_config(
            bids_root=study_copy, output_dir=tmp_path / "out", modalities=["eeg"]
        ),
        steps=STEPS[:3],
    )
    assert result["errors"].empty, result["errors"]
    recordings = result["recordings"]
    suffixes = {p.rsplit(".", 1)[1] for p in recordings["path"]}
    assert suffixes == {"vhdr", "set", "fif", "edf"}
    qc = result["eeg_qc"].set_index(["participant_id", "session"])
    assert len(qc) == 12
    assert qc.loc[("sub-04", "pre"), "notch_hz"] == "60;120"
    assert qc.loc[("sub-03", "pre"), "notch_hz"] == "50;100"
    assert "AF3:channels.tsv" in qc.loc[("sub-05", "pre"), "bad_channels"]
    assert qc.loc[("sub-05", "pre"), "non_eeg_channels"] == "Fp1:eog"
    assert qc.loc[("sub-05", "pre"), "n_channels"] == 31
    assert qc.loc[("sub-06", "pre"), "channels_renamed"].split(";") == [
        f"{ch.upper()}:{ch}" for ch in CHANNELS if ch != ch.upper()
    ]
    assert qc.loc[("sub-01", "post"), "n_epochs_bad_annotation"] >= 3
    assert qc.loc[("sub-01", "pre"), "n_epochs_bad_annotation"] == 0
    # the same data in another format or spelling gives the same markers
    long = result["features_long"]
    for sub in ("sub-01", "sub-02", "sub-03", "sub-06"):
        ours = long[(long["participant_id"] == sub) & (long["session"] == "pre")]
        theirs = reference[
            (reference["participant_id"] == sub) & (reference["session"] == "pre")
        ]
        merged = ours.merge(theirs, on=["feature", "location"])
        assert len(merged) == len(theirs)
        np.testing.assert_allclose(
            merged["value_x"], merged["value_y"], rtol=2e-3, atol=1e-6
        )
