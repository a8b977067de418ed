"""The same run on a Dask cluster gives the same numbers as on loky."""

import numpy as np
import pytest

from neuromark.exceptions import ConfigError
from neuromark.pipeline import make_config, run_pipeline
from neuromark.pipeline.engine import DaskSettings, EngineSettings, parallel_engine
from neuromark.predict import make_model, validate

pytest.importorskip("distributed")
DASK = {"backend": "dask", "dask": {"cluster": "local", "n_workers": 2}}


@pytest.mark.slow
def test_pipeline_on_a_local_dask_cluster_equals_loky(study_root, tmp_path):
    steps = ["discover", "check", "eeg"]
    results = {
        name: run_pipeline(
            make_config(
                bids_root=study_root,
                output_dir=tmp_path / name,
                modalities=["eeg"],
                n_jobs=2,
                cache=False,
                engine=engine,
                report={"recording_figures": False},
            ),
            steps=steps,
        )
        for name, engine in (("loky", {"backend": "loky"}), ("dask", DASK))
    }
    assert results["dask"]["provenance"]["engine"] == {"backend": "dask", "n_jobs": -1}
    for name in ("features_long.tsv", "eeg_qc.tsv", "eeg_spectra.tsv"):
        assert (tmp_path / "loky" / name).read_bytes() == (
            tmp_path / "dask" / name
        ).read_bytes()


def test_validation_fits_on_dask_equal_loky():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 6))
    y = np.tile([0, 1], 20)
    X[:, 0] += y
    options = dict(n_splits=4, n_repeats=3, n_permutations=20, n_bootstrap=200)
    runs = {}
    for backend in ("loky", "dask"):
        settings = EngineSettings(backend=backend)
        with parallel_engine(settings, 2) as n_jobs:
            runs[backend] = validate(
                make_model("logistic"), X, y, np.arange(40), n_jobs=n_jobs, **options
            )
    assert runs["loky"]["metrics"] == runs["dask"]["metrics"]
    np.testing.assert_array_equal(runs["loky"]["null_auc"], runs["dask"]["null_auc"])


def test_jobqueue_clusters_are_configured_from_the_yaml():
    jobqueue = pytest.importorskip("dask_jobqueue")
    from neuromark.pipeline.engine import jobqueue_cluster

    settings = DaskSettings(
        cluster="slurm",
        jobs=4,
        cores=8,
        memory="32GB",
        walltime="02:00:00",
        queue="short",
        account="painlab",
        job_extra_directives=("--qos=normal",),
        job_script_prologue=("source /opt/venv/bin/activate",),
    )
    cluster = jobqueue_cluster(settings)
    try:
        assert isinstance(cluster, jobqueue.SLURMCluster)
        script = cluster.job_script()
    finally:
        cluster.close()
    for line in (
        "#SBATCH -p short",
        "#SBATCH -A painlab",
        "#SBATCH -n 1",
        "#SBATCH --cpus-per-task=8",
        "#SBATCH -t 02:00:00",
        "#SBATCH --qos=normal",
        "source /opt/venv/bin/activate",
    ):
        assert line in script, line
    assert "#SBATCH --mem=30G" in script  # dask-jobqueue's GiB rounding of 32GB
    assert "--nthreads 1" in script  # one single-threaded worker per core
    pbs = jobqueue_cluster(settings.model_copy(update={"cluster": "pbs"}))
    try:
        assert "#PBS -l select=1:ncpus=8:mem=30GB" in pbs.job_script()
    finally:
        pbs.close()


def test_engine_settings_are_checked():
    with pytest.raises(ConfigError, match="unknown key 'engine.dask.cpus'"):
        make_config(bids_root=".", output_dir="out", engine={"dask": {"cpus": 4}})
    with pytest.raises(ConfigError, match="needs engine.dask.address"):
        with parallel_engine(
            EngineSettings(backend="dask", dask={"cluster": "address"}), 1
        ):
            pass


def test_dry_run_prints_the_plan_and_a_working_job_array(study_root, tmp_path, capsys):
    """Nothing is written or submitted; the script picks each task's participant."""
    import os
    import stat
    import subprocess

    from neuromark.cli import main

    out = tmp_path / "out"
    config = tmp_path / "study.yaml"
    config.write_text(f"bids_root: {study_root}\noutput_dir: {out}\n")
    assert main(["run", str(config), "--dry-run"]) == 0
    printed = capsys.readouterr().out
    assert "participants: 6 (sub-01" in printed
    assert "eeg pre: 6" in printed and "fmri post: 6" in printed
    assert "eeg: preprocess every EEG recording" in printed and "(12 units)" in printed
    assert not out.exists()
    script = printed[printed.index("#!/bin/bash") :]
    # run it with a fake sbatch that records each job and runs array task 3
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls.txt"
    fake = {
        "sbatch": f"""#!/bin/bash
echo "$@" >> {log}
for arg; do last=$arg; done
if [[ "$*" == *--array* ]]; then
  SLURM_ARRAY_TASK_ID=3 sh -c "$last"
fi
echo 4242
""",
        "neuromark": f'#!/bin/sh\necho "neuromark $*" >> {log}\n',
    }
    for name, text in fake.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(stat.S_IRWXU)
    env = os.environ | {"PATH": f"{bin_dir}:{os.environ['PATH']}"}
    subprocess.run(["bash", "-c", script], env=env, check=True)
    calls = log.read_text().splitlines()
    assert "--array=1-6" in calls[0]
    assert calls[1] == f"neuromark run {config} --n-jobs 2 --participant sub-03"
    assert "--dependency=afterany:4242" in calls[2]


def test_dry_run_of_a_dask_slurm_config_prints_the_worker_job(
    study_root, tmp_path, capsys
):
    pytest.importorskip("dask_jobqueue")
    from neuromark.cli import main

    config = tmp_path / "hpc.yaml"
    config.write_text(
        f"bids_root: {study_root}\noutput_dir: {tmp_path / 'out'}\nn_jobs: -1\n"
        "engine:\n  backend: dask\n  dask:\n    cluster: slurm\n    jobs: 3\n"
        "    cores: 4\n    memory: 16GB\n    queue: short\n"
    )
    assert main(["run", str(config), "--dry-run"]) == 0
    printed = capsys.readouterr().out
    assert "the SLURM job script of each of the 3" in printed
    assert "#SBATCH -p short" in printed and "#SBATCH --cpus-per-task=4" in printed
    assert not (tmp_path / "out").exists()


def test_a_terminated_run_leaves_no_worker_running(study_root, tmp_path):
    """SIGTERM (a scheduler ending the job) stops the loky workers too."""
    import signal
    import subprocess
    import sys
    import time

    import psutil

    config = tmp_path / "config.yaml"
    config.write_text(
        f"bids_root: {study_root}\noutput_dir: {tmp_path / 'out'}\n"
        "n_jobs: 2\ncache: false\nmodalities: [eeg]\n"
    )
    run = subprocess.Popen(
        [sys.executable, "-m", "neuromark", "run", str(config)],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        parent = psutil.Process(run.pid)
        workers = []
        deadline = time.monotonic() + 120
        while len(workers) < 2 and time.monotonic() < deadline and run.poll() is None:
            time.sleep(0.5)
            workers = [
                child
                for child in parent.children(recursive=True)
                if "LokyProcess" in " ".join(child.cmdline())
            ]
        assert len(workers) == 2, "the run finished before its workers were seen"
        run.send_signal(signal.SIGTERM)
        _, stderr = run.communicate(timeout=60)
    finally:
        run.kill()
        run.communicate()
    assert run.returncode == 143
    assert "terminated by SIGTERM" in stderr and "Traceback" not in stderr
    _, alive = psutil.wait_procs(workers, timeout=10)
    assert not alive, alive
