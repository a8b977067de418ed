"""Caching, resume after a kill, one-participant runs, per-participant logs."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import yaml

from neuromark.exceptions import NeuromarkError
from neuromark.pipeline import make_config, run_pipeline
from neuromark.pipeline.cache import UnitCache, unit_key

EEG_STEPS = ["discover", "check", "eeg", "stats", "predict"]
TABLES = [
    "features_long.tsv",
    "features_wide.tsv",
    "eeg_qc.tsv",
    "eeg_spectra.tsv",
    "stats_prepost.tsv",
    "prediction/metrics.tsv",
    "dataset_summary.tsv",
    "logs/errors.tsv",
]


def _config(root, out, **settings):
    # these tests compare tables and cache use: the pages' figures are not read
    settings.setdefault("report", {"recording_figures": False})
    return make_config(bids_root=root, output_dir=out, modalities=["eeg"], **settings)


def _same_tables(first, second):
    for name in TABLES:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


@pytest.fixture(scope="module")
def reference_run(study_root, tmp_path_factory):
    """An uninterrupted EEG run, to compare reruns and resumed runs with."""
    out = tmp_path_factory.mktemp("reference") / "out"
    run_pipeline(_config(study_root, out, n_jobs=2), steps=EEG_STEPS)
    return out


def test_rerun_reads_every_unit_from_the_cache(study_root, reference_run):
    before = {name: (reference_run / name).read_bytes() for name in TABLES}
    result = run_pipeline(_config(study_root, reference_run, n_jobs=2), steps=EEG_STEPS)
    cache = result["provenance"]["cache"]
    assert cache["eeg"] == {"computed": 0, "cached": 12}
    assert cache["predict"] == {"computed": 0, "cached": 1}
    for name, content in before.items():  # rewritten identically (atomic)
        assert (reference_run / name).read_bytes() == content, name


@pytest.mark.slow
def test_a_changed_setting_or_file_recomputes_only_what_it_touches(
    study_copy, tmp_path
):
    out = tmp_path / "out"
    first = run_pipeline(_config(study_copy, out), steps=["discover", "check", "eeg"])
    assert first["provenance"]["cache"]["eeg"] == {"computed": 12, "cached": 0}
    # an EEG setting changes every EEG unit
    changed = run_pipeline(
        _config(study_copy, out, eeg={"preprocessing": {"epoch_length": 3.0}}),
        steps=["discover", "check", "eeg"],
    )
    assert changed["provenance"]["cache"]["eeg"] == {"computed": 12, "cached": 0}
    # a changed input file changes only its unit (key: SHA-256 of the files)
    sidecar = (
        study_copy / "sub-01" / "ses-pre" / "eeg" / "sub-01_ses-pre_task-rest_eeg.json"
    )
    meta = json.loads(sidecar.read_text())
    sidecar.write_text(json.dumps(meta | {"Manufacturer": "edited"}))
    again = run_pipeline(
        _config(study_copy, out, eeg={"preprocessing": {"epoch_length": 3.0}}),
        steps=["discover", "check", "eeg"],
    )
    assert again["provenance"]["cache"]["eeg"] == {"computed": 1, "cached": 11}
    uncached = run_pipeline(
        _config(study_copy, tmp_path / "nocache", cache=False),
        steps=["discover", "check", "eeg"],
    )
    assert not (tmp_path / "nocache" / "cache").exists()
    assert uncached["provenance"]["cache"]["eeg"] == {"computed": 12, "cached": 0}


def test_killed_run_resumes_to_identical_outputs(study_root, reference_run, tmp_path):
    out = tmp_path / "out"
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "bids_root": str(study_root),
                "output_dir": str(out),
                "modalities": ["eeg"],
            }
        )
    )
    command = [
        sys.executable,
        "-c",
        "import sys; from neuromark.cli import main; sys.exit(main(sys.argv[1:]))",
        "run",
        str(config),
        "--steps",
        *EEG_STEPS,
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    while len(list((out / "cache" / "eeg").glob("*.pkl"))) < 4:
        assert process.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    # killed midway: no table was written, no temporary file is taken for a result
    assert not (out / "features_long.tsv").exists()
    done = len(list((out / "cache" / "eeg").glob("*.pkl")))
    assert 4 <= done < 12
    # what a kill during a write would leave; the next run removes it, and
    # only it: a user's own hidden files in the output folder stay
    stale = out / "cache" / "eeg" / ".neuromark-tmp.0123abcd.pkl.k2j4h6g8.pkl"
    stale.write_bytes(b"half")
    users = [out / ".backup.20240101", out / ".notes.k2j4h6g8.tsv"]
    for path in users:
        path.write_text("mine")
    resumed = subprocess.run(command, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    provenance = json.loads((out / "provenance.json").read_text())
    assert provenance["cache"]["eeg"] == {"computed": 12 - done, "cached": done}
    _same_tables(reference_run, out)
    assert not stale.exists()
    assert all(path.read_text() == "mine" for path in users)
    assert {p for p in out.rglob(".*") if p.is_file()} == set(users)


def test_participant_runs_feed_the_group_run(study_root, tmp_path):
    out = tmp_path / "out"
    config = _config(study_root, out)
    one = run_pipeline(config, steps=EEG_STEPS, participant="01")
    part = out / "participants" / "sub-01"
    assert one["output_dir"] == part
    assert one["provenance"]["steps"] == ["discover", "check", "eeg"]  # no group steps
    assert set(one["features_long"]["participant_id"]) == {"sub-01"}
    assert (part / "features_long.tsv").is_file() and (part / "report.html").is_file()
    assert (part / "logs" / "sub-01.log").is_file()
    assert (
        out / "participants" / "sub-01.html"
    ).is_file()  # where the group run puts it
    assert not (out / "features_long.tsv").exists()
    group = run_pipeline(config, steps=["discover", "check", "eeg"])
    assert group["provenance"]["cache"]["eeg"] == {"computed": 10, "cached": 2}
    with pytest.raises(NeuromarkError, match="sub-99 is not in"):
        run_pipeline(config, participant="sub-99")
    assert not (out / "participants" / "sub-99").exists()  # no empty folder left
    fresh = tmp_path / "never"
    with pytest.raises(NeuromarkError, match="sub-98 is not in"):
        run_pipeline(_config(study_root, fresh), participant="98")
    assert not fresh.exists()


def test_bids_app_levels_give_the_tables_of_one_run(
    study_root, reference_run, tmp_path
):
    from neuromark.cli import main

    config = tmp_path / "eeg.yaml"  # every setting but the two folders
    config.write_text("modalities: [eeg]\n")
    out = tmp_path / "derivatives"
    folders = [str(study_root), str(out)]
    labels = ["--participant-label", "01", "sub-02"]
    assert main(["-q", *folders, "participant", *labels, "--config", str(config)]) == 0
    made = sorted(p.name for p in (out / "participants").iterdir() if p.is_dir())
    assert made == ["sub-01", "sub-02"]
    assert not (out / "features_long.tsv").exists()
    assert main(["-q", *folders, "group", "--config", str(config)]) == 0
    provenance = json.loads((out / "provenance.json").read_text())
    assert provenance["cache"]["eeg"] == {"computed": 8, "cached": 4}
    _same_tables(reference_run, out)
    description = json.loads((out / "dataset_description.json").read_text())
    assert description["DatasetType"] == "derivative"
    assert description["GeneratedBy"][0]["Name"] == "neuromark"


def test_per_participant_logs_and_qc_pages(study_copy, tmp_path):
    (
        study_copy / "sub-02" / "ses-post" / "eeg" / "sub-02_ses-post_task-rest_eeg.edf"
    ).write_bytes(b"junk")
    result = run_pipeline(
        _config(
            study_copy, tmp_path / "out", n_jobs=2, report={"recording_figures": True}
        ),
        steps=["discover", "check", "eeg"],
    )
    out = result["output_dir"]
    log = (out / "logs" / "sub-02.log").read_text()
    assert "sub-02 ses-post eeg" in log and "skipped at step check" in log
    assert "sub-01" not in log
    assert "sub-01 ses-pre eeg" in (out / "logs" / "sub-01.log").read_text()
    page = (out / "participants" / "sub-02.html").read_text()
    for heading in (
        "Excluded or missing recordings",
        "EEG quality",
        "Log",
    ):
        assert re.search(f"<h2[^>]*>{re.escape(heading)}", page)
    assert "alt='Spectrum of every channel" in page
    assert "cannot read this EEG file" in page
    report = (out / "report.html").read_text()
    assert "href='participants/sub-02.html'" in report


def test_cache_entries_are_atomic_and_keys_track_content(tmp_path):
    cache = UnitCache(tmp_path)
    data = tmp_path / "input.txt"
    data.write_text("a")
    key = unit_key("eeg", {"l_freq": 1.0}, "sub-01/x", [data])
    assert unit_key("eeg", {"l_freq": 1.0}, "sub-01/x", [data]) == key
    assert unit_key("eeg", {"l_freq": 2.0}, "sub-01/x", [data]) != key
    assert cache.cached("eeg", key, lambda: {"value": 1}) == (False, {"value": 1})
    assert cache.cached("eeg", key, lambda: 1 / 0) == (True, {"value": 1})
    data.write_text("b")
    assert unit_key("eeg", {"l_freq": 1.0}, "sub-01/x", [data]) != key
    assert [p.name for p in (tmp_path / "eeg").iterdir()] == [f"{key}.pkl"]
    (tmp_path / "eeg" / f"{key}.pkl").write_bytes(b"")  # truncated entry: a miss
    assert cache.get("eeg", key) == (False, None)
    assert UnitCache(None).cached("eeg", key, lambda: 2) == (False, 2)


def test_fmriprep_outside_the_bids_root(study_copy, tmp_path):
    import shutil

    external = tmp_path / "elsewhere" / "fmriprep"
    shutil.move(study_copy / "derivatives" / "fmriprep", external)
    config = make_config(
        bids_root=study_copy,
        output_dir=tmp_path / "out",
        modalities=["fmri"],
        fmriprep_dir=external,
    )
    result = run_pipeline(config, participant="sub-01")
    assert result["provenance"]["cache"]["fmri"] == {"computed": 2, "cached": 0}
    assert result["recordings"]["path"].str.startswith(str(external.resolve())).all()
    again = run_pipeline(config, participant="sub-01")
    assert again["provenance"]["cache"]["fmri"] == {"computed": 0, "cached": 2}
