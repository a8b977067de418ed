"""``neuromark run``: drive the steps of a study from one config.

Steps so far:

``discover``
    Find participants and recordings (:func:`neuromark.io.discover_study`),
    label responders.
``check``
    Read every recording's header in parallel (:func:`neuromark.io.check_recording`)
    and hash its files; a bad recording is logged and skipped (or aborts the
    run with ``on_error="abort"``).

Outputs, each written atomically: ``participants.tsv``, ``recordings.tsv``,
``dataset_summary.tsv``, ``dataset_description.json``, ``logs/errors.tsv``,
``logs/neuromark.log``, ``provenance.json`` and ``report.html``.
"""

import contextlib
import logging
from pathlib import Path

import pandas as pd
from joblib import Parallel, delayed

from .. import __version__
from ..exceptions import NeuromarkError
from ..io import check_recording, discover_study
from ..report import write_report
from ..utils._files import ensure_output_dir, file_sha256, write_json, write_tsv
from ..utils._logging import logger, verbose
from .provenance import Timer, provenance_record

STEPS = ("discover", "check")
ERROR_COLUMNS = ["participant_id", "session", "modality", "path", "problem"]


def _check_one(recording, root):
    """Check one recording and hash its files; return a result row (never raises)."""
    files = [recording.path, *recording.companions.values()]
    row = {
        "participant_id": recording.participant_id,
        "session": recording.session,
        "modality": recording.modality,
        "path": str(recording.path.relative_to(root)),
    }
    try:
        info = check_recording(recording)
    except NeuromarkError as err:
        return row | {"status": "error", "problem": str(err)}, {}
    hashes = {str(f.relative_to(root)): file_sha256(f) for f in files}
    return row | {"status": "ok", "problem": ""} | info, hashes


@contextlib.contextmanager
def _log_to(path):
    handler = logging.FileHandler(path, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        handler.close()


@verbose
def run_pipeline(config, *, steps=None, verbose=None):
    """Run the configured study through the pipeline steps.

    Parameters
    ----------
    config : neuromark.pipeline.PipelineConfig
        Validated configuration (see :func:`neuromark.pipeline.load_config`).
    steps : sequence of str | None
        Steps to run, in pipeline order; ``None`` runs all of
        ``("discover", "check")``.
    verbose : bool | str | int | None
        Logger level for this call.

    Returns
    -------
    result : dict
        ``output_dir`` and the ``participants``, ``recordings``,
        ``summary`` and ``errors`` tables (pandas DataFrames).
    """
    steps = list(STEPS if steps is None else steps)
    unknown = [s for s in steps if s not in STEPS]
    if unknown:
        raise ValueError(f"Unknown step(s) {unknown}; available: {list(STEPS)}")
    output_dir = ensure_output_dir(config.output_dir)
    logs = output_dir / "logs"
    logs.mkdir(exist_ok=True)
    timer = Timer()
    with _log_to(logs / "neuromark.log"):
        logger.info(
            "neuromark %s: study %s -> %s", __version__, config.bids_root, output_dir
        )
        with timer("discover"):
            study = discover_study(
                config.bids_root,
                task=config.task,
                sessions=(config.sessions.pre, config.sessions.post),
                modalities=config.modalities,
                fmriprep_dir=config.fmriprep_dir,
                space=config.space,
                interventions=config.interventions,
                responder_threshold=config.responder_threshold,
            )
        errors = study.problems.assign(stage="discover")
        checked = pd.DataFrame()
        hashes = {"participants.tsv": file_sha256(study.root / "participants.tsv")}
        if "check" in steps:
            with timer("check"):
                results = Parallel(n_jobs=config.n_jobs)(
                    delayed(_check_one)(rec, study.root) for rec in study.recordings
                )
            checked = pd.DataFrame([row for row, _ in results])
            for _, file_hashes in results:
                hashes.update(file_hashes)
            bad = checked[checked["status"] == "error"] if len(checked) else checked
            for row in bad.itertuples():
                logger.error(
                    "%s ses-%s %s skipped: %s",
                    row.participant_id,
                    row.session,
                    row.modality,
                    row.problem,
                )
            errors = pd.concat(
                [errors, bad[ERROR_COLUMNS].assign(stage="check")], ignore_index=True
            )
            if config.on_error == "abort" and len(bad):
                first = bad.iloc[0]
                raise NeuromarkError(
                    f"Aborting (on_error='abort'): {first.participant_id} "
                    f"ses-{first.session} {first.modality}: {first.problem}"
                )
        summary = _summary(study, checked)
        _write_outputs(output_dir, study, checked, summary, errors)
        record = provenance_record(
            config, input_hashes=hashes, timer=timer, steps=steps
        )
        write_json(output_dir / "provenance.json", record)
        write_report(
            output_dir / "report.html",
            participants=study.participants,
            summary=summary,
            errors=errors,
            provenance=record,
        )
        n_ok = (
            int((checked["status"] == "ok").sum())
            if len(checked)
            else len(study.recordings)
        )
        logger.info(
            "%d usable recordings, %d problems; outputs in %s",
            n_ok,
            len(errors),
            output_dir,
        )
    return {
        "output_dir": output_dir,
        "participants": study.participants,
        "recordings": checked,
        "summary": summary,
        "errors": errors,
    }


def _summary(study, checked):
    """Dataset summary with header-check failures marked ``"error"``."""
    summary = study.summary()
    if len(checked):
        for row in checked[checked["status"] == "error"].itertuples():
            column = f"{row.modality}_{row.session}"
            summary.loc[summary["participant_id"] == row.participant_id, column] = (
                "error"
            )
            summary.loc[
                summary["participant_id"] == row.participant_id, "n_recordings"
            ] -= 1
    return summary


def _write_outputs(output_dir, study, checked, summary, errors):
    columns = [
        c
        for c in (
            "participant_id",
            "intervention",
            "site",
            "age",
            "sex",
            "pain_pre",
            "pain_post",
            "pain_reduction",
            "responder",
            "responder_source",
        )
        if c in study.participants.columns
    ]
    write_tsv(output_dir / "participants.tsv", study.participants[columns], index=False)
    if len(checked):
        write_tsv(output_dir / "recordings.tsv", checked, index=False)
    write_tsv(output_dir / "dataset_summary.tsv", summary, index=False)
    write_tsv(output_dir / "logs" / "errors.tsv", errors, index=False)
    write_json(
        output_dir / "dataset_description.json",
        {
            "Name": "neuromark derivatives",
            "BIDSVersion": "1.9.0",
            "DatasetType": "derivative",
            "GeneratedBy": [{"Name": "neuromark", "Version": __version__}],
            "SourceDatasets": [{"URL": Path(study.root).as_uri()}],
        },
    )
