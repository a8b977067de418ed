import pandas as pd
import pytest
import yaml

from neuromark.cli import main


def test_config_prints_documented_defaults(capsys):
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert "responder_threshold: 0.3" in out and "# Fractional pain reduction" in out


def test_errors_are_one_line_without_traceback(tmp_path, capsys):
    config = tmp_path / "c.yaml"
    config.write_text(
        yaml.safe_dump({"bids_root": "x", "output_dir": "o", "taks": "rest"})
    )
    assert main(["run", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("neuromark: error: Invalid configuration")
    assert "Did you mean 'task'?" in err and "Traceback" not in err
    (tmp_path / "study").mkdir()
    config.write_text(yaml.safe_dump({"bids_root": "study", "output_dir": "o"}))
    assert main(["-q", "run", str(config)]) == 2
    assert "participants.tsv not found" in capsys.readouterr().err


def test_simulate_run_and_summary(tmp_path, capsys):
    root = tmp_path / "study"
    assert (
        main(
            [
                "-q",
                "simulate",
                str(root),
                "--participants",
                "6",
                "--modalities",
                "eeg",
                "--eeg-duration",
                "5",
                "--seed",
                "3",
            ]
        )
        == 0
    )
    assert (root / "participants.tsv").is_file()
    config = tmp_path / "c.yaml"
    config.write_text(
        yaml.safe_dump(
            {"bids_root": "study", "output_dir": "out", "modalities": ["eeg"]}
        )
    )
    # 5-s recordings hold less than the 30 s of clean data a recording needs:
    # every unit is skipped, the outputs say why, and the exit status says so
    assert main(["-q", "run", str(config), "--n-jobs", "2"]) == 1
    assert (tmp_path / "out" / "provenance.json").is_file()
    err = capsys.readouterr().err
    assert "nothing usable came out of this run (eeg: 0 of 12 recordings" in err
    assert main(["-q", "summary", str(root)]) == 0
    out = capsys.readouterr().out
    assert "sub-06" in out and "fmri_pre" in out  # fMRI missing is reported


@pytest.mark.slow
def test_demo_leaves_outputs(tmp_path, capsys):
    out = tmp_path / "demo"
    # 90-s EEG: the shortest a 32-channel ICA runs on (its cost dominates);
    # 100 volumes keep 2 minutes of BOLD after censoring
    command = ["-q", "demo", "--output", str(out), "--participants", "8"]
    command += ["--n-jobs", "2", "--eeg-duration", "90", "--fmri-volumes", "100"]
    assert main(command) == 0
    printed = capsys.readouterr().out
    assert str(out / "derivatives") in printed
    for name in (
        "report.html",
        "provenance.json",
        "dataset_summary.tsv",
        "logs/errors.tsv",
    ):
        assert (out / "derivatives" / name).is_file()
    summary = pd.read_csv(out / "derivatives/dataset_summary.tsv", sep="\t")
    assert len(summary) == 8
    # the default pipeline removed eye or muscle components and drew them
    components = pd.read_csv(
        out / "derivatives/eeg_ica_components.tsv", sep="\t", dtype={"label": str}
    )
    assert components["label"].isin(["eye blink", "muscle artifact"]).all()
    assert len(components) > 0


def test_too_small_a_simulated_study_is_one_line(tmp_path, capsys):
    status = main(["simulate", str(tmp_path / "s"), "--participants", "3"])
    err = capsys.readouterr().err
    assert status == 2 and "Traceback" not in err
    assert err.strip().splitlines() == [
        "neuromark: error: n_participants must be at least 2 per intervention "
        "(6 for ['TENS', 'NIBS', 'mindfulness']), got 3"
    ]


def test_simulate_help_states_simulate_studys_defaults(monkeypatch):
    """The CLI passes only the options given; its help quotes the real defaults."""
    import inspect
    import re

    from neuromark import cli
    from neuromark.simulation import simulate_study

    defaults = inspect.signature(simulate_study).parameters
    checked = []
    for flag, options in cli.SIMULATE_OPTIONS.items():
        quoted = re.search(r"\(([0-9.]+)\)$", options.get("help", ""))
        if quoted is None:
            continue
        name = options.get("dest", flag.lstrip("-").replace("-", "_"))
        assert float(quoted.group(1)) == defaults[name].default, flag
        checked.append(flag)
    assert len(checked) == 9
    called = {}
    monkeypatch.setattr(
        "neuromark.simulation.simulate_study",
        lambda output, **kwargs: called.update(kwargs) or output,
    )
    assert main(["simulate", "out", "--participants", "4", "--modalities", "eeg"]) == 0
    assert called == {"n_participants": 4, "modalities": ["eeg"]}


def test_summary_into_a_closed_pipe_is_quiet(tmp_path):
    """`neuromark summary STUDY | head -1`: no BrokenPipeError traceback."""
    import subprocess
    import sys

    from conftest import write_layout

    files = [
        f"sub-{k:02d}/ses-{s}/eeg/sub-{k:02d}_ses-{s}_task-rest_eeg.edf"
        for k in range(1, 400)
        for s in ("pre", "post")
    ]
    write_layout(tmp_path / "study", files)
    result = subprocess.run(
        f"{sys.executable} -m neuromark.cli summary {tmp_path / 'study'} | head -1",
        shell=True,
        capture_output=True,
        text=True,
    )
    assert result.stdout.count("\n") == 1
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr
