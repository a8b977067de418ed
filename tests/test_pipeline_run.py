import json
import re
import shutil

import numpy as np
import pandas as pd
import pytest

from neuromark import __version__
from neuromark.cli import main
from neuromark.exceptions import ConfigError, NeuromarkError, OutputError
from neuromark.pipeline import make_config, run_pipeline
from neuromark.utils._files import file_sha256

OUTPUTS = [
    "participants.tsv",
    "recordings.tsv",
    "dataset_summary.tsv",
    "dataset_description.json",
    "features_long.tsv",
    "features_wide.tsv",
    "eeg_qc.tsv",
    "eeg_spectra.tsv",
    "stats_prepost.tsv",
    "prediction/metrics.tsv",
    "provenance.json",
    "report.html",
    "logs/errors.tsv",
    "logs/neuromark.log",
]


def _run(root, out, **settings):
    return run_pipeline(make_config(bids_root=root, output_dir=out, **settings))


@pytest.fixture(scope="module")
def finished_run(study_root, tmp_path_factory):
    """A full default run of the small study (both modalities, every step)."""
    return _run(study_root, tmp_path_factory.mktemp("finished") / "out", n_jobs=2)


def test_run_writes_outputs_and_provenance(study_root, finished_run):
    out = finished_run["output_dir"]
    for name in OUTPUTS:
        assert (out / name).is_file(), name
    assert not [p for p in out.rglob(".*") if p.is_file()]  # no temporary files left
    provenance = json.loads((out / "provenance.json").read_text())
    config = make_config(bids_root=study_root, output_dir=out, n_jobs=2)
    assert provenance["config_sha256"] == config.hash()
    assert provenance["neuromark_version"] == __version__
    assert provenance["versions"]["mne"] and provenance["versions"]["nilearn"]
    assert set(provenance["timings_s"]) == {
        "discover",
        "check",
        "eeg",
        "fmri",
        "stats",
        "predict",
    }
    edf = "sub-01/ses-pre/eeg/sub-01_ses-pre_task-rest_eeg.edf"
    assert provenance["inputs_sha256"][edf] == file_sha256(study_root / edf)
    # participants.tsv; per participant and session 3 EEG + 4 fMRI files; the
    # CSF map of each participant (shared by its sessions)
    assert len(provenance["inputs_sha256"]) == 1 + 6 * 2 * (3 + 4) + 6
    assert any(
        k.endswith("label-CSF_probseg.nii.gz") for k in provenance["inputs_sha256"]
    )
    recordings = pd.read_csv(out / "recordings.tsv", sep="\t")
    assert len(recordings) == 24 and (recordings["status"] == "ok").all()
    participants = pd.read_csv(out / "participants.tsv", sep="\t")
    assert {"responder", "pain_reduction", "responder_source"} <= set(participants)
    # per-session QC travels with the features (motion, censoring, epochs)
    wide = pd.read_csv(out / "features_wide.tsv", sep="\t").set_index("participant_id")
    fmri_qc = pd.read_csv(out / "fmri_qc.tsv", sep="\t")
    row = fmri_qc[fmri_qc["session"] == "post"].iloc[0]
    assert wide.loc[row["participant_id"], "qc_fmri_mean_fd_post"] == pytest.approx(
        row["mean_fd"]
    )
    for column in ("fraction_censored", "degrees_of_freedom"):
        assert wide[f"qc_fmri_{column}_pre"].notna().all()
    assert wide["qc_eeg_n_epochs_pre"].notna().all()
    # QC-FC of every fc edge and session, summarised in the report
    qcfc = pd.read_csv(out / "fmri_qcfc.tsv", sep="\t")
    assert set(qcfc["session"]) == {"pre", "post"}
    assert len(qcfc) == 2 * 21 and (qcfc["distance_mm"] > 0).all()
    report = (out / "report.html").read_text()
    assert report.count("data:image/png;base64,") == 6  # EEG: 2, fMRI: 4
    # PAG edges under every PAG definition, with their agreement in the report
    sensitivity = pd.read_csv(out / "fmri_pag_sensitivity.tsv", sep="\t")
    assert set(sensitivity["definition"]) == {"traced", "sphere4", "sphere6"}
    assert len(sensitivity) == 12 * 3 * 6  # runs x definitions x PAG edges
    summary = pd.read_csv(out / "stats_pag_sensitivity.tsv", sep="\t")
    traced = summary[summary["definition"] == "traced"]
    assert traced["main"].all() and np.allclose(traced["agreement_r"], 1.0)
    roi_qc = pd.read_csv(out / "fmri_roi_qc.tsv", sep="\t")
    assert (roi_qc["csf_fraction_removed"].notna()).all()
    for section in (
        "EEG quality control",
        "Pre/post change per intervention",
        "Response prediction",
        "EEG spectra and band-power change",
        "Dataset",
        "Responders per intervention",
        "Excluded or missing",
        "fMRI quality control",
        "ROI coverage",
        "PAG-ACC-PFC connectivity",
        "PAG-definition sensitivity",
        "Participant QC pages",
        "Provenance",
    ):
        assert re.search(f"<h2[^>]*>{re.escape(section)}", report)
    assert "http" not in report  # self-contained, opens offline
    assert "QC-FC (Parkes et al. 2018)" in report
    assert "12 of 12 runs have no physiological regressors" in report
    # one responder per arm: a responder comparison would be meaningless
    assert not (out / "stats_responders.tsv").exists()
    prepost = pd.read_csv(out / "stats_prepost.tsv", sep="\t")
    assert set(prepost["intervention"]) == {"TENS", "NIBS", "mindfulness"}
    # partial correlation of 80-volume runs lacks degrees of freedom in some
    # runs, and 60-s EEG recordings hold fewer than the 20 epochs connectivity
    # needs: both are missing, never estimated from too little data
    partial = prepost["feature"] == "fc_partial"
    assert (prepost.loc[~partial, "n"] == 2).all()
    assert (prepost.loc[partial, "n"] <= 2).all()
    assert not prepost["feature"].str.startswith("wpli").any()
    eeg_qc = pd.read_csv(out / "eeg_qc.tsv", sep="\t")
    assert eeg_qc["connectivity_missing_reason"].str.contains("fewer than").all()
    # 60-s recordings are too short for a 32-channel ICA: off, and why
    assert eeg_qc["ica"].str.startswith("off: 60 s of data; ICA of 32 channels").all()
    assert eeg_qc["emg_index"].between(0, 1).all()


def test_every_table_has_a_sidecar_describing_each_column(finished_run):
    from neuromark.pipeline.sidecars import describe_column

    out = finished_run["output_dir"]
    tables = [p for p in out.rglob("*.tsv") if "participants" not in p.parts[-2:-1]]
    assert len(tables) >= 15
    for path in tables:
        name = path.relative_to(out).with_suffix("").as_posix()
        sidecar = json.loads(path.with_suffix(".json").read_text())
        columns = pd.read_csv(path, sep="\t", nrows=0).columns
        assert list(sidecar) == list(columns), name
        unknown = [c for c in columns if describe_column(name, c) is None]
        assert not unknown, (name, unknown)


def _sections(report):
    return re.findall(r"<h2[^>]*>([^<]+)", report.read_text())


def test_partial_runs_keep_the_output_consistent(study_root, finished_run, tmp_path):
    out = shutil.copytree(finished_run["output_dir"], tmp_path / "out")
    config = make_config(bids_root=study_root, output_dir=out, n_jobs=2)
    before = {p: p.read_bytes() for p in out.glob("*.tsv")}
    sections = _sections(out / "report.html")
    log = (out / "logs/neuromark.log").read_text()
    # --steps predict: predicts from the earlier features; the report keeps
    # every section; the other tables are untouched; the log is appended
    result = run_pipeline(config, steps=["predict"])
    assert result["provenance"]["steps"] == ["discover", "predict"]
    assert {"eeg_qc", "fmri_qc", "stats_prepost"} <= set(
        result["provenance"]["reused"]["tables"]
    )
    pd.testing.assert_frame_equal(
        result["prediction/metrics"], finished_run["prediction/metrics"]
    )
    assert _sections(out / "report.html") == sections
    for path, content in before.items():
        assert path.read_bytes() == content, path.name
    assert (out / "logs/neuromark.log").read_text().startswith(log)
    # --steps eeg: the statistics and models computed from the old features
    # are removed, the fMRI tables and features are kept
    result = run_pipeline(config, steps=["eeg"])
    assert not list(out.glob("stats_*.tsv"))
    assert not list((out / "prediction").glob("*.tsv"))
    assert (out / "fmri_qc.tsv").read_bytes() == before[out / "fmri_qc.tsv"]
    # fMRI rows read back and EEG rows recomputed give the same tables
    for name in ("features_long.tsv", "features_wide.tsv"):
        assert (out / name).read_bytes() == before[out / name], name
    assert "Response prediction" not in _sections(out / "report.html")
    assert "fMRI quality control" in _sections(out / "report.html")
    # a group step on a folder without features: one clear error
    with pytest.raises(NeuromarkError, match="needs the features of an earlier run"):
        run_pipeline(
            make_config(bids_root=study_root, output_dir=tmp_path / "empty"),
            steps=["stats"],
        )


@pytest.mark.slow
def test_rerun_gives_identical_tables(study_root, tmp_path):
    # sequential and parallel runs of discovery, checks and the EEG markers
    # (the group steps' determinism is tested with them in test_predict)
    quick = {"report": {"recording_figures": False}, "modalities": ["eeg"]}
    steps = ["discover", "check", "eeg"]
    first = run_pipeline(
        make_config(bids_root=study_root, output_dir=tmp_path / "a", **quick),
        steps=steps,
    )["output_dir"]
    second = run_pipeline(
        make_config(bids_root=study_root, output_dir=tmp_path / "b", n_jobs=2, **quick),
        steps=steps,
    )["output_dir"]
    for name in (
        "participants.tsv",
        "recordings.tsv",
        "dataset_summary.tsv",
        "features_long.tsv",
        "eeg_qc.tsv",
        "eeg_channel_spectra.tsv",
    ):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    prov = [json.loads((d / "provenance.json").read_text()) for d in (first, second)]
    assert prov[0]["inputs_sha256"] == prov[1]["inputs_sha256"]


def test_bad_recordings_are_skipped_and_logged(study_copy, tmp_path):
    eeg = study_copy / "sub-02/ses-post/eeg/sub-02_ses-post_task-rest_eeg.edf"
    eeg.write_bytes(b"\x00garbage" * 100)
    confounds = (
        study_copy / "derivatives/fmriprep/sub-05/ses-pre/func/"
        "sub-05_ses-pre_task-rest_desc-confounds_timeseries.tsv"
    )
    table = pd.read_csv(confounds, sep="\t")
    table.iloc[:-1].to_csv(confounds, sep="\t", index=False)
    result = _run(study_copy, tmp_path / "out", report={"recording_figures": False})
    errors = pd.read_csv(tmp_path / "out/logs/errors.tsv", sep="\t")
    assert len(errors) == 2
    assert set(errors["participant_id"]) == {"sub-02", "sub-05"}
    assert (
        errors["problem"]
        .str.contains("sub-02_ses-post_task-rest_eeg.edf: MNE cannot")
        .any()
    )
    assert errors["problem"].str.contains("has 79 rows but").any()
    summary = result["summary"].set_index("participant_id")
    assert summary.loc["sub-02", "eeg_post"] == "error"
    assert summary.loc["sub-05", "fmri_pre"] == "error"
    assert summary.loc["sub-01", "n_recordings"] == 4  # the others complete
    log = (tmp_path / "out/logs/neuromark.log").read_text()
    assert (
        "sub-02 ses-post eeg (sub-02_ses-post_task-rest_eeg.edf) skipped at step check"
        in log
    )
    # on_error='abort' stops at the first bad recording
    with pytest.raises(NeuromarkError, match="Aborting.*sub-02 ses-post eeg"):
        _run(study_copy, tmp_path / "abort", on_error="abort")
    assert not (tmp_path / "abort/provenance.json").exists()


def test_output_dir_that_is_a_file(study_root, tmp_path):
    target = tmp_path / "taken"
    target.write_text("not a folder")
    with pytest.raises(OutputError, match="is an existing file"):
        _run(study_root, target)
    assert target.read_text() == "not a folder"


def test_steps_can_be_limited(study_root, tmp_path, capsys):
    result = run_pipeline(
        make_config(bids_root=study_root, output_dir=tmp_path / "o"), steps=["discover"]
    )
    assert result["recordings"].empty
    assert not (tmp_path / "o/recordings.tsv").exists()
    with pytest.raises(ConfigError, match="unknown step"):
        run_pipeline(
            make_config(bids_root=study_root, output_dir=tmp_path / "o"),
            steps=["features"],
        )
    # the command line gives one line, with the nearest step
    config = tmp_path / "c.yaml"
    config.write_text(f"bids_root: {study_root}\noutput_dir: {tmp_path / 'o'}\n")
    capsys.readouterr()  # what the runs above logged (their level is the caller's)
    assert main(["run", str(config), "--steps", "eegg"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "Did you mean 'eeg'?" in error
