"""``neuromark run --dry-run``: what a run would do, and the batch scripts, unsubmitted.

Nothing is written and nothing is submitted: the plan is read from the study
(discovery reads file names and ``participants.tsv`` only) and the config.
"""

import shlex
from pathlib import Path

from .engine import jobqueue_cluster
from .steps import STEPS as REGISTRY
from .steps import discover_configured


def describe_plan(config, steps):
    """Say what a run of ``steps`` would do on the configured study.

    Parameters
    ----------
    config : PipelineConfig
        The run's configuration.
    steps : list of str
        Steps the run would run (validated, in order).

    Returns
    -------
    text : str
        One line per fact: study, participants, recordings per modality and
        session, steps with their units, engine, cache and outputs.
    participants : list of str
        The participants a job array would cover.
    """
    study = discover_configured(config)
    participants = list(study.participants["participant_id"])
    counts = {}
    for recording in study.recordings:
        key = (recording.modality, recording.session)
        counts[key] = counts.get(key, 0) + 1
    lines = [
        f"study: {study.root}",
        f"participants: {len(participants)} "
        f"({', '.join(participants[:5])}{', ...' if len(participants) > 5 else ''})",
        "recordings: "
        + (
            ", ".join(f"{m} {s}: {n}" for (m, s), n in sorted(counts.items()))
            or "none found"
        ),
        f"problems found by discovery: {len(study.problems)}",
        "steps:",
    ]
    for name in steps:
        step = REGISTRY[name]
        units = ""
        if name in config.modalities:
            units = f" ({sum(n for (m, _), n in counts.items() if m == name)} units)"
        elif name == "check":
            units = f" ({len(study.recordings)} units)"
        lines.append(f"  {name}: {step.summary}{units}")
    cache = config.output_dir / "cache"
    entries = len(list(cache.rglob("*.pkl"))) if cache.is_dir() else 0
    lines += [
        f"engine: {config.engine.backend}, n_jobs {config.n_jobs}",
        f"cache: {cache if config.cache else 'off'}"
        + (f" ({entries} cached results)" if config.cache else ""),
        f"outputs: {config.output_dir}"
        + (" (exists; a partial run reuses it)" if config.output_dir.is_dir() else ""),
    ]
    return "\n".join(lines) + "\n", participants


def dask_job_script(config):
    """Show the batch script dask-jobqueue would submit per worker job.

    Parameters
    ----------
    config : PipelineConfig
        With ``engine.backend: dask`` and ``engine.dask.cluster`` ``slurm`` or
        ``pbs``.

    Returns
    -------
    script : str
    """
    cluster = jobqueue_cluster(config.engine.dask)
    try:
        return cluster.job_script()
    finally:
        cluster.close()


def slurm_array_script(
    config_path, participants, *, cpus=2, memory="8G", time="01:00:00"
):
    """Write a SLURM job array over participants, then the group job, as a script.

    Parameters
    ----------
    config_path : path-like
        The config both jobs run.
    participants : list of str
        One array task each.
    cpus : int
        CPUs per array task (its ``--n-jobs``).
    memory : str
        Memory per array task.
    time : str
        Time limit per array task.

    Returns
    -------
    script : str
        A shell script that submits the array and a group job depending on
        it (``afterany``: failed participants are listed, not fatal). A
        preempted task is resumed by resubmitting it: finished units are
        read from the cache.
    """
    config = shlex.quote(str(Path(config_path).resolve()))
    ids = " ".join(shlex.quote(p) for p in participants)
    # the wrapped command runs under /bin/sh: positional parameters, no arrays
    task = (
        f"set -- {ids}; shift \\$((SLURM_ARRAY_TASK_ID - 1)); "
        f"neuromark run {config} --n-jobs {cpus} --participant \\$1"
    )
    return f"""#!/bin/bash
# neuromark: {len(participants)} participants as a SLURM job array, then the
# group job. Review, then run this script to submit (nothing was submitted).
set -euo pipefail
ARRAY=$(sbatch --parsable --job-name=neuromark-participant \\
  --array=1-{len(participants)} --cpus-per-task={cpus} --mem={memory} \\
  --time={time} --requeue \\
  --wrap "{task}")
sbatch --dependency=afterany:$ARRAY --job-name=neuromark-group \\
  --cpus-per-task=8 --mem=32G --time=02:00:00 \\
  --wrap "neuromark run {config} --n-jobs 8"
"""
