"""``neuromark run``: drive the steps of a study from one config.

Steps so far:

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
import dataclasses
import html
import logging
from pathlib import Path
from urllib.parse import quote

import pandas as pd
from joblib import Parallel, delayed

from .. import __version__
from ..eeg import recording_features as eeg_features
from ..eeg.comparability import compare_sessions, mixed_eyes
from ..exceptions import ConfigError, NeuromarkError
from ..features import column_name, sort_long, to_wide
from ..fmri import recording_features as fmri_features
from ..fmri import settings_atlas
from ..fmri.features import main_pag_definition
from ..fmri.qcfc import qc_fc
from ..io import check_participant_id, check_recording, discover_study
from ..report import write_report
from ..report.eeg import eeg_sections
from ..report.fmri import fmri_sections
from ..report.stats import prediction_sections, stats_sections
from ..stats.treatment import control_arm
from ..utils._check import suggest
from ..utils._files import (
    check_output_location,
    ensure_output_dir,
    file_sha256,
    relative_path,
    remove_stale_temporaries,
    write_json,
    write_text,
    write_tsv,
)
from ..utils._logging import logger, verbose
from .cache import UnitCache, unit_key
from .engine import parallel_engine
from .provenance import Timer, provenance_record
from .units import (
    ERROR_COLUMNS,
    LOG_FORMAT,
    RunContext,
    failure_reason,
    run_units,
    unit_id,
)

STEPS = ("discover", "check", "eeg", "fmri", "stats", "predict")
GROUP_STEPS = ("stats", "predict")
# modality step -> (unit of work, name of its extra per-unit table; a unit
# returning a dict of tables names them itself)
MODALITY_STEPS = {
    "eeg": (eeg_features, "eeg_spectra"),
    "fmri": (fmri_features, None),
}


def _check_one(recording, root):
    """Header check and file hashes of one recording."""
    info = check_recording(recording)
    files = [recording.path, *recording.companions.values()]
    return info, {relative_path(f, root): file_sha256(f) for f in files}


@contextlib.contextmanager
def _log_to(path):
    handler = logging.FileHandler(path, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        handler.close()


def _context(config, study, n_jobs):
    """Shared state of the units: cache, key settings, engine workers."""
    return RunContext(
        root=study.root,
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


def _select_participant(study, participant):
    """Keep one participant's recordings (``--participant``, job arrays)."""
    known = list(study.participants["participant_id"])
    if participant not in known:
        raise NeuromarkError(
            f"{participant} is not in {study.root / 'participants.tsv'}"
            f"{suggest(participant, known)}"
        )
    keep = study.participants["participant_id"] == participant
    return dataclasses.replace(
        study,
        participants=study.participants[keep].reset_index(drop=True),
        recordings=[r for r in study.recordings if r.participant_id == participant],
        problems=study.problems[study.problems["participant_id"] == participant],
    )


def _input_dirs(config):
    """Folders the run reads besides the BIDS root (fMRIPrep derivatives)."""
    if "fmri" not in config.modalities:
        return ()
    fmriprep = config.fmriprep_dir or Path("derivatives", "fmriprep")
    return (fmriprep if fmriprep.is_absolute() else config.bids_root / fmriprep,)


@verbose
def run_pipeline(config, *, steps=None, participant=None, verbose=None):
    """Run the configured study through the pipeline steps.

    Parameters
    ----------
    config : neuromark.pipeline.PipelineConfig
        Validated configuration (see :func:`neuromark.pipeline.load_config`).
    steps : sequence of str | None
        Steps to run, in pipeline order; ``None`` runs them all.
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
        ``output_dir`` and the ``participants``, ``recordings``,
        ``summary`` and ``errors`` tables (pandas DataFrames), plus every
        table written.
    """
    steps = list(STEPS if steps is None else steps)
    unknown = [s for s in steps if s not in STEPS]
    if unknown:
        raise ConfigError(
            f"unknown step(s) {unknown}; available: {list(STEPS)}"
            f"{suggest(unknown[0], STEPS)}"
        )
    if participant is not None:
        participant = check_participant_id(participant, source="--participant")
    check_output_location(
        config.output_dir, config.bids_root, input_dirs=_input_dirs(config)
    )
    ensure_output_dir(config.output_dir)
    output_dir = config.output_dir
    for path in remove_stale_temporaries(output_dir):
        logger.info("removed %s, left by an interrupted run", path)
    if participant is not None:
        steps = [s for s in steps if s not in GROUP_STEPS]
        output_dir = ensure_output_dir(output_dir / "participants" / participant)
    logs = output_dir / "logs"
    logs.mkdir(exist_ok=True)
    timer = Timer()
    with (
        _log_to(logs / "neuromark.log"),
        parallel_engine(config.engine, config.n_jobs) as n_jobs,
    ):
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
            if participant is not None:
                study = _select_participant(study, participant)
        context = _context(config, study, n_jobs)
        errors = [study.problems.assign(stage="discover")]
        hashes = {"participants.tsv": file_sha256(study.root / "participants.tsv")}
        usable = list(study.recordings)
        checked = pd.DataFrame()
        outcomes = {}  # step -> (units that succeeded, units)
        if "check" in steps:
            with timer("check"):
                results, failed = run_units(
                    "check", _check_one, usable, (study.root,), context=context
                )
            checked = _recordings_table(results, failed, study.root)
            for _, (_, file_hashes) in results:
                hashes.update(file_hashes)
            context.hashes.update(
                {str(study.root / path): sha for path, sha in hashes.items()}
            )
            usable = [rec for rec, _ in results]
            errors.append(failed)
            outcomes["check"] = (len(results), len(study.recordings))
        tables, features = {}, []
        for modality, (func, extra_name) in MODALITY_STEPS.items():
            if modality not in steps or modality not in config.modalities:
                continue
            with timer(modality):
                units = [rec for rec in usable if rec.modality == modality]
                args = (
                    (config.eeg,) if modality == "eeg" else (config.fmri, config.space)
                )
                results, failed = run_units(
                    modality, func, units, args, context=context
                )
            errors.append(failed)
            outcomes[modality] = (len(results), len(units))
            features += [table for _, (table, _, _) in results]
            qcs = [qc for _, (_, qc, _) in results]
            if modality == "eeg":
                qcs = compare_sessions(
                    qcs,
                    (config.sessions.pre, config.sessions.post),
                    max_duration_difference=(
                        config.eeg.preprocessing.max_clean_duration_difference
                    ),
                )
                features, refused = _refuse_mixed_eyes(features, qcs, config)
                errors.append(refused)
            extras = [extra for _, (_, _, extra) in results]
            tables.update(_modality_tables(modality, extra_name, qcs, extras))
        if features:
            tables.update(_feature_tables(features, study, config, tables))
        if "fmri_qc" in tables and "features_wide" in tables:
            atlas = settings_atlas(config.fmri)
            tables["fmri_qcfc"] = qc_fc(tables["features_wide"], atlas.centres())
        if "stats" in steps and "features_long" in tables:
            with timer("stats"), _group_step("stats", errors, config.on_error):
                tables.update(_stats_tables(tables, study, config, n_jobs))
        if "predict" in steps and "features_wide" in tables:
            with timer("predict"), _group_step("predict", errors, config.on_error):
                tables.update(
                    _prediction_tables(tables, study, config, output_dir, context)
                )
        errors = pd.concat(errors, ignore_index=True)
        summary = _summary(study, errors)
        record = provenance_record(
            config, input_hashes=hashes, timer=timer, steps=steps
        ) | {
            "participant": participant,
            "engine": {"backend": config.engine.backend, "n_jobs": n_jobs},
            "cache": {
                step: dict(counts) for step, counts in context.cache_stats.items()
            },
            "unit_seconds": {
                step: round(seconds, 3)
                for step, seconds in context.unit_seconds.items()
            },
        }
        _write_outputs(output_dir, study, checked, summary, errors, tables)
        _write_participant_pages(
            output_dir / "logs",
            config.output_dir / "participants",
            study,
            tables,
            errors,
            context,
        )
        write_json(output_dir / "provenance.json", record)
        write_report(
            output_dir / "report.html",
            participants=study.participants,
            summary=summary,
            errors=errors,
            provenance=record,
            sections=_report_sections(tables, study, config),
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
        "failed_steps": _failed_steps(outcomes),
        "participants": study.participants,
        "recordings": checked,
        "summary": summary,
        "errors": errors,
        "provenance": record,
        **tables,
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


def _recordings_table(results, failed, root):
    """One row per checked recording: header facts, or the error."""
    rows = [
        unit_id(rec) | {"path": relative_path(rec.path, root), "status": "ok"} | info
        for rec, (info, _) in results
    ]
    rows += [
        row | {"path": relative_path(row["path"], root), "status": "error"}
        for row in failed.to_dict("records")
    ]
    return (
        pd.DataFrame(rows)
        .drop(columns=["stage"], errors="ignore")
        .sort_values(["participant_id", "session", "modality"], kind="stable")
        .reset_index(drop=True)
    )


def _write_participant_pages(log_dir, page_dir, study, tables, errors, context):
    """Per participant: the log of their units and a QC page (in parallel).

    Pages always go to ``<output_dir>/participants/``, also from a
    ``--participant`` run, so the group report links to them.
    """
    from ..report.participant import QC_TABLES, write_participant_page

    ids = list(study.participants["participant_id"])
    for participant_id in ids:
        lines = context.logs.get(participant_id, [])
        write_text(log_dir / f"{participant_id}.log", "\n".join(lines) + "\n")
    qc = {name: tables[name] for name in (*QC_TABLES, "eeg_spectra") if name in tables}
    Parallel(n_jobs=context.n_jobs)(
        delayed(write_participant_page)(
            page_dir / f"{participant_id}.html",
            participant_id,
            tables={
                name: table[table["participant_id"] == participant_id]
                for name, table in qc.items()
            },
            errors=errors[errors["participant_id"] == participant_id],
            log_lines=context.logs.get(participant_id, []),
        )
        for participant_id in ids
    )


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


def _motion_covariates(wide, config):
    """Change of mean FD per participant, for the fMRI treatment effects."""
    columns = ("qc_fmri_mean_fd_pre", "qc_fmri_mean_fd_post")
    if not config.stats.motion_covariate or not set(columns) <= set(wide):
        return {}
    change = wide.set_index("participant_id")
    return {"fmri": {"delta_mean_fd": change[columns[1]] - change[columns[0]]}}


def _stats_tables(tables, study, config, n_jobs):
    """Treatment, pre/post, responder and reliability statistics."""
    from ..stats import (
        prepost_statistics,
        reliability,
        responder_statistics,
        treatment_effects,
    )
    from ..stats.sensitivity import pag_definition_sensitivity

    long = tables["features_long"]
    kwargs = {"sessions": (config.sessions.pre, config.sessions.post)}
    seeded = kwargs | {"random_state": config.random_state}
    covariates = _motion_covariates(tables["features_wide"], config)
    out = {
        "stats_treatment": treatment_effects(
            long, study.participants, config.stats, covariates=covariates, **kwargs
        ),
        "stats_prepost": prepost_statistics(
            long, study.participants, config.stats, **seeded
        ),
        "stats_responders": responder_statistics(
            long, study.participants, config.stats, n_jobs=n_jobs, **seeded
        ),
        "stats_reliability": reliability(
            long, study.participants, config.stats, **kwargs
        ),
    }
    sensitivity = tables.get("fmri_pag_sensitivity")
    if sensitivity is not None and sensitivity["definition"].nunique() > 1:
        out["stats_pag_sensitivity"] = pag_definition_sensitivity(
            sensitivity,
            study.participants,
            config.stats,
            main=main_pag_definition(config.fmri),
            covariates=covariates,
            **kwargs,
        )
    return {name: table for name, table in out.items() if not table.empty}


def _prediction_tables(tables, study, config, output_dir, context):
    """Validate responder classifiers (metrics, out-of-fold scores, models).

    The validation is one cached unit keyed on the feature table, the
    participants, the prediction settings and the seed; saved models are
    rewritten from the cached fits' tables only when recomputed.
    """
    from ..predict.study import predict_responders
    from ..stats import feature_family

    family = feature_family(tables["features_long"], config.predict.family)
    stems = dict(
        zip(
            column_name(family["modality"], family["feature"], family["location"]),
            family["modality"] + " " + family["feature"],
        )
    )
    key = unit_key(
        "predict",
        {
            "settings": config.predict.model_dump(mode="json"),
            "seed": config.random_state,
            "features": pd.util.hash_pandas_object(tables["features_wide"]).tolist(),
            "participants": pd.util.hash_pandas_object(study.participants).tolist(),
        },
        "study",
    )
    model_dir = output_dir / "prediction" / "models"
    cached, (metrics, oof, null, importance) = context.cache.cached(
        "predict",
        key,
        predict_responders,
        tables["features_wide"],
        study.participants,
        config.predict,
        family=stems,
        random_state=config.random_state,
        n_jobs=context.n_jobs,
        model_dir=model_dir,
        config_hash=config.hash(),
        progress=context.progress,
    )
    context.cache_stats["predict"]["cached" if cached else "computed"] += 1
    if cached and config.predict.save_models and not model_dir.is_dir():
        logger.warning(
            "prediction read from cache; %s is missing (delete the cache to refit)",
            model_dir,
        )
    out = {"prediction/metrics": metrics}
    if not oof.empty:
        out["prediction/oof_predictions"] = oof
        out["prediction/permutation_null"] = null
    if not importance.empty:
        out["prediction/importance"] = importance
    return out


def _report_sections(tables, study, config):
    """Report sections of the modality steps that produced tables."""
    sessions = (config.sessions.pre, config.sessions.post)
    links = " ".join(
        f"<a href='participants/{html.escape(quote(pid))}.html'>{html.escape(pid)}</a>"
        for pid in study.participants["participant_id"]
    )
    sections = [("Participant QC pages", f"<p>{links}</p>")]
    if "eeg_qc" in tables:
        sections += eeg_sections(tables, study.participants, sessions=sessions)
    if "fmri_qc" in tables:
        atlas = settings_atlas(config.fmri)
        sections += fmri_sections(tables, study.participants, atlas, sessions=sessions)
    if "stats_prepost" in tables:
        sections += stats_sections(
            tables,
            control=control_arm(
                study.participants["intervention"], config.stats.control_arms
            ),
        )
    if "prediction/metrics" in tables:
        sections += prediction_sections(
            tables["prediction/metrics"],
            tables.get("prediction/oof_predictions"),
            tables.get("prediction/permutation_null"),
            tables.get("prediction/importance"),
            settings=config.predict,
        )
    return sections


def _format_cell(value):
    """QC values as TSV text: dicts as ``key:value;...``, lists joined by ``;``."""
    if isinstance(value, dict):
        return ";".join(f"{k}:{v}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ";".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value)
    return value


def _refuse_mixed_eyes(features, qcs, config):
    """Leave out post EEG features of participants whose eyes condition changed.

    Returns
    -------
    features : list of pandas.DataFrame
        The unit tables without the refused post recordings.
    errors : pandas.DataFrame
        One row per refused recording (stage ``eeg``).
    """
    sessions = (config.sessions.pre, config.sessions.post)
    refused = {} if config.eeg.allow_mixed_eyes else mixed_eyes(qcs, sessions)
    rows = []
    for participant, reason in refused.items():
        logger.warning("%s: %s", participant, reason)
        rows.append([participant, sessions[1], "eeg", "n/a", reason, "eeg"])

    def kept(table):
        first = table.iloc[0] if len(table) else None
        return first is None or not (
            first["modality"] == "eeg"
            and first["participant_id"] in refused
            and first["session"] == sessions[1]
        )

    return [t for t in features if kept(t)], pd.DataFrame(
        rows, columns=[*ERROR_COLUMNS, "stage"]
    )


def _modality_tables(modality, extra_name, qcs, extras):
    """Build the QC table and the extra tables (spectra, ROI QC) of one step."""
    if not qcs:
        return {}
    tables = {f"{modality}_qc": pd.DataFrame(qcs).map(_format_cell)}
    extras = [e if isinstance(e, dict) else {extra_name: e} for e in extras]
    for name in extras[0]:
        tables[name] = pd.concat([e[name] for e in extras], ignore_index=True)
    return tables


# per-session QC carried into the wide table (statistics may adjust for them;
# the qc_ prefix keeps them out of the markers models are offered)
WIDE_QC = {
    "eeg_qc": ("n_epochs",),
    "fmri_qc": ("mean_fd", "fraction_censored", "degrees_of_freedom"),
}


def _feature_tables(features, study, config, qc_tables):
    """Build the long and wide feature tables of every modality.

    The wide table also carries, per session, the QC of :data:`WIDE_QC`
    (``qc_eeg_n_epochs_pre``, ``qc_fmri_mean_fd_post``...; the mean over a
    session's runs).
    """
    long = sort_long(pd.concat(features, ignore_index=True))
    sessions = (config.sessions.pre, config.sessions.post)
    wide = to_wide(
        long, sessions=sessions, participants=list(study.participants["participant_id"])
    )
    for table_name, fields in WIDE_QC.items():
        qc = qc_tables.get(table_name)
        modality = table_name.removesuffix("_qc")
        for field in fields:
            if qc is None or field not in qc:
                continue
            values = qc.assign(**{field: pd.to_numeric(qc[field], errors="coerce")})
            per_session = values.pivot_table(
                index="participant_id", columns="session", values=field
            )
            for label, suffix in zip(sessions, ("pre", "post")):
                if label in per_session:
                    wide[f"qc_{modality}_{field}_{suffix}"] = wide[
                        "participant_id"
                    ].map(per_session[label])
    return {"features_long": long, "features_wide": wide}


def _write_outputs(output_dir, study, checked, summary, errors, tables):
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
    for name, table in tables.items():
        write_tsv(output_dir / f"{name}.tsv", table, index=False)
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
