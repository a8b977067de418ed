"""``neuromark run``: drive the steps of a study from one config.

The steps live in :mod:`neuromark.pipeline.steps` (one function each, in a
registry); this module plans which run, loops over them and writes the
outputs. Steps:

``discover``
    Find participants and recordings (:func:`neuromark.io.discover_study`),
    label responders.
``check``
    Read every recording's header in parallel (:func:`neuromark.io.check_recording`)
    and hash its files.
``eeg``
    Preprocess every EEG recording and extract its spectral neuromarkers in
    parallel (:func:`neuromark.eeg.recording_features`).
``fmri``
    Denoise every fMRIPrep run and compute PAG-ACC-PFC connectivity in
    parallel (:func:`neuromark.fmri.recording_features`).
``stats``
    Paired pre/post change per treatment, responders versus non-responders,
    and test-retest reliability in control arms (:mod:`neuromark.stats`).
``predict``
    Leakage-safe validation of responder classifiers per modality, feature
    set and scope, with chance and clinical baselines (:mod:`neuromark.predict`).

A run of some steps on a folder an earlier run filled reads back the tables
of the steps it leaves out (``--steps predict`` predicts from the earlier
features and rewrites the report with every section), and removes those
computed from tables it replaces (see :mod:`neuromark.pipeline.outputs`).

In every step a bad recording is logged with its file and the reason and
skipped (or aborts the run with ``on_error="abort"``); the others complete.

Outputs, each written atomically: ``participants.tsv``, ``recordings.tsv``,
``dataset_summary.tsv``, ``features_long.tsv``, ``features_wide.tsv``,
``eeg_qc.tsv``, ``eeg_spectra.tsv``, ``fmri_qc.tsv``, ``fmri_roi_qc.tsv``,
``fmri_pag_sensitivity.tsv``, ``fmri_qcfc.tsv``,
``stats_treatment.tsv``, ``stats_prepost.tsv``, ``stats_responders.tsv``,
``stats_reliability.tsv``, ``stats_pag_sensitivity.tsv``,
``prediction/metrics.tsv``, ``prediction/oof_predictions.tsv``,
``prediction/permutation_null.tsv``, ``prediction/importance.tsv``,
``prediction/models/*.skops``,
``dataset_description.json``, ``logs/errors.tsv``,
``logs/neuromark.log``, ``provenance.json`` and ``report.html``.
"""

import contextlib
import logging
from pathlib import Path

import pandas as pd

from .. import __version__
from ..exceptions import ConfigError, NeuromarkError
from ..fmri import settings_atlas
from ..io import check_participant_id
from ..io.participants import read_participants
from ..report.study import write_study_report
from ..stats.treatment import control_arm
from ..utils._check import suggest
from ..utils._files import (
    check_output_location,
    ensure_output_dir,
    remove_stale_temporaries,
    write_json,
)
from ..utils._logging import logger, verbose
from .cache import UnitCache
from .engine import parallel_engine, terminate_on_signals
from .outputs import (
    plan_partial_run,
    read_json,
    reuse_earlier_outputs,
    table_path,
    write_outputs,
    write_participant_pages,
)
from .provenance import Timer, provenance_record
from .steps import STEPS as REGISTRY
from .steps import RunState
from .units import ERROR_COLUMNS, LOG_FORMAT, RunContext, failure_reason

STEPS = tuple(REGISTRY)
GROUP_STEPS = tuple(name for name, step in REGISTRY.items() if step.group)


@contextlib.contextmanager
def _log_to(path):
    """Append the run's log lines to ``path`` (earlier runs' lines are kept)."""
    handler = logging.FileHandler(path, mode="a", encoding="utf-8")
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        handler.close()


def _context(config, n_jobs):
    """Shared state of the units: cache, key settings, engine workers."""
    return RunContext(
        root=config.bids_root,
        cache=UnitCache(config.output_dir / "cache" if config.cache else None),
        key_settings={
            "eeg": config.eeg.model_dump(mode="json"),
            "fmri": config.fmri.model_dump(mode="json") | {"space": config.space},
        },
        n_jobs=n_jobs,
        level=min(logger.getEffectiveLevel(), logging.INFO),
        progress=config.progress,
        on_error=config.on_error,
    )


def _input_dirs(config):
    """Folders the run reads besides the BIDS root (fMRIPrep derivatives)."""
    if "fmri" not in config.modalities:
        return ()
    fmriprep = config.fmriprep_dir or Path("derivatives", "fmriprep")
    return (fmriprep if fmriprep.is_absolute() else config.bids_root / fmriprep,)


def plan_steps(steps=None, participant=None):
    """Validate the requested steps and put them in pipeline order.

    Parameters
    ----------
    steps : sequence of str | None
        Requested steps; ``None`` is every step.
    participant : str | None
        A ``--participant`` run leaves out the group steps.

    Returns
    -------
    steps : list of str
        Steps to run, ``discover`` first (it always runs).
    """
    requested = list(STEPS if steps is None else steps)
    unknown = [s for s in requested if s not in REGISTRY]
    if unknown:
        raise ConfigError(
            f"unknown step(s) {unknown}; available: {list(STEPS)}"
            f"{suggest(unknown[0], STEPS)}"
        )
    return [
        name
        for name, step in REGISTRY.items()
        if name == "discover"
        or (name in requested and not (participant is not None and step.group))
    ]


@verbose
def run_pipeline(config, *, steps=None, participant=None, verbose=None):
    """Run the configured study through the pipeline steps.

    Parameters
    ----------
    config : neuromark.pipeline.PipelineConfig
        Validated configuration (see :func:`neuromark.pipeline.load_config`).
    steps : sequence of str | None
        Steps to run, in pipeline order; ``None`` runs them all. The tables
        of the steps left out are read back from an earlier run in the same
        folder when they are still valid, and removed when they are not.
    participant : str | None
        Run only this participant's recordings (``sub-01`` or ``01``) up to
        their features, for one task of a cluster job array: outputs go to
        ``participants/<id>/`` and the units to the shared cache, so a later
        run of the whole study reads them instead of recomputing. Group
        steps (``stats``, ``predict``) are skipped.
    verbose : bool | str | int | None
        Logger level for this call.

    Returns
    -------
    result : dict
        ``output_dir``, ``failed_steps``, ``provenance`` and the
        ``participants``, ``recordings``, ``summary`` and ``errors`` tables
        (pandas DataFrames), plus every table written.
    """
    steps = plan_steps(steps, participant)
    if participant is not None:  # checked before any folder is made
        participant = _known_participant(config, participant)
    check_output_location(
        config.output_dir, config.bids_root, input_dirs=_input_dirs(config)
    )
    output_dir = ensure_output_dir(config.output_dir)
    for path in remove_stale_temporaries(output_dir):
        logger.info("removed %s, left by an interrupted run", path)
    if participant is not None:
        output_dir = ensure_output_dir(output_dir / "participants" / participant)
    (output_dir / "logs").mkdir(exist_ok=True)
    timer = Timer()
    with (
        _log_to(output_dir / "logs" / "neuromark.log"),
        terminate_on_signals(),
        parallel_engine(config.engine, config.n_jobs) as n_jobs,
    ):
        logger.info(
            "neuromark %s: study %s -> %s (steps: %s)",
            __version__,
            config.bids_root,
            output_dir,
            ", ".join(steps),
        )
        state = RunState(
            config=config,
            context=_context(config, n_jobs),
            output_dir=output_dir,
            participant=participant,
        )
        with timer("discover"):
            REGISTRY["discover"].run(state)
        kept, stale = plan_partial_run(steps, REGISTRY)
        reused = (
            reuse_earlier_outputs(state, kept, stale) if participant is None else []
        )
        for name in steps[1:]:
            _run_step(REGISTRY[name], state, timer, steps)
        return _finish(state, timer, steps, reused)


def _known_participant(config, participant):
    """Check a ``--participant`` label and that participants.tsv lists it."""
    participant = check_participant_id(participant, source="--participant")
    path = Path(config.bids_root) / "participants.tsv"
    known = list(read_participants(path, verbose="error")["participant_id"])
    if participant not in known:
        raise NeuromarkError(
            f"{participant} is not in {path}{suggest(participant, known)}"
        )
    return participant


def _run_step(step, state, timer, steps):
    """Run one step, timed, with a progress line; group steps fail softly."""
    if step.group and "features_long" not in state.tables:
        if not set(step.reads) & set(steps):
            raise NeuromarkError(
                f"step {step.name} needs the features of an earlier run: "
                f"{table_path(state.output_dir, 'features_long')} does not exist; "
                f"run the {'/'.join(step.reads)} step(s) first or add them to --steps"
            )
        logger.warning("step %s skipped: no features were computed", step.name)
        return
    logger.info("step %s: %s", step.name, step.summary)
    guard = (
        _group_step(step.name, state.errors, state.config.on_error)
        if step.group
        else contextlib.nullcontext()
    )
    with timer(step.name), guard:
        step.run(state)
    done = state.outcomes.get(step.name)
    counts = f"{done[0]} of {done[1]} recordings, " if done else ""
    logger.info(
        "step %s finished: %s%.1f s", step.name, counts, timer.seconds[step.name]
    )


def _finish(state, timer, steps, reused):
    """Write the tables, participant pages, provenance and the report."""
    config, study, context = state.config, state.study, state.context
    output_dir = state.output_dir
    errors = pd.concat(state.errors, ignore_index=True)
    summary = _summary(study, errors)
    earlier = read_json(output_dir / "provenance.json") if reused else {}
    record = provenance_record(
        config, input_hashes=state.hashes, timer=timer, steps=steps
    ) | {
        "participant": state.participant,
        "engine": {"backend": config.engine.backend, "n_jobs": context.n_jobs},
        "cache": {step: dict(counts) for step, counts in context.cache_stats.items()},
        "unit_seconds": {
            step: round(seconds, 3) for step, seconds in context.unit_seconds.items()
        },
    }
    if reused:
        record["reused"] = {
            "tables": reused,
            "from_run_started": earlier.get("started"),
            "steps_of_that_run": earlier.get("steps"),
        }
    steps_run = [REGISTRY[name] for name in steps]
    write_outputs(state, summary, errors, steps_run)
    per_recording = any(not s.group for s in steps_run[1:])
    page_dir = config.output_dir / "participants"
    if per_recording or not page_dir.is_dir():
        write_participant_pages(state, errors, page_dir, logs=per_recording)
    write_json(output_dir / "provenance.json", record)
    report = output_dir / "report.html"
    write_study_report(
        report,
        state.tables,
        study.participants,
        summary=summary,
        errors=errors,
        provenance=record,
        sessions=state.sessions,
        montage=config.eeg.preprocessing.montage,
        atlas=settings_atlas(config.fmri) if "fmri_qc" in state.tables else None,
        control=control_arm(
            study.participants["intervention"], config.stats.control_arms
        ),
        predict_settings=config.predict,
    )
    checked = state.tables.get("recordings", pd.DataFrame())
    n_ok = int((checked["status"] == "ok").sum()) if len(checked) else None
    logger.info(
        "%s usable recordings, %d problems; report: %s",
        len(study.recordings) if n_ok is None else n_ok,
        len(errors),
        report,
    )
    return {
        "output_dir": output_dir,
        "report": report,
        "failed_steps": _failed_steps(state.outcomes),
        "participants": study.participants,
        "summary": summary,
        "errors": errors,
        "provenance": record,
        **state.tables,
        "recordings": checked,
    }


@contextlib.contextmanager
def _group_step(step, errors, on_error):
    """Turn an unexpected failure of a group step into a row of ``errors``.

    Features already computed are still written, with the report; the
    traceback goes to the run log.
    """
    try:
        yield
    except Exception as err:
        if on_error == "abort":
            raise
        reason = failure_reason(err)
        logger.error("step %s failed: %s", step, reason, exc_info=True)
        row = dict.fromkeys(ERROR_COLUMNS, "n/a") | {"problem": reason}
        errors.append(pd.DataFrame([row | {"stage": step}]))


def _failed_steps(outcomes):
    """List the steps over recordings in which no unit succeeded.

    Returns
    -------
    failed : dict of str to str
        ``{"eeg": "0 of 24 recordings"}``; empty when every step that had
        units produced at least one result. A run whose steps found no
        recording at all fails as ``{"recordings": "none found"}``.
    """
    if outcomes and all(total == 0 for _, total in outcomes.values()):
        return {"recordings": "none found"}
    return {
        step: f"0 of {total} recordings"
        for step, (done, total) in outcomes.items()
        if total and not done
    }


def _summary(study, errors):
    """Dataset summary with recordings that failed a step marked ``"error"``."""
    summary = study.summary()
    failed = errors[~errors["stage"].isin(["discover", *GROUP_STEPS])].drop_duplicates(
        ["participant_id", "session", "modality"]
    )
    for row in failed.itertuples():
        rows = summary["participant_id"] == row.participant_id
        summary.loc[rows, f"{row.modality}_{row.session}"] = "error"
        summary.loc[rows, "n_recordings"] -= 1
    return summary
