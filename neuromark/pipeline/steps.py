"""The steps of ``neuromark run``: one small function each, in a registry.

A step reads what it needs from the :class:`RunState` (the study, the
tables earlier steps produced or an earlier run left) and adds its own
tables to it. :func:`neuromark.pipeline.run_pipeline` runs the requested
steps in registry order; adding a step means writing its function here and
decorating it with :func:`step`, which also declares the tables it owns and
the steps whose tables it reads (so a partial run knows what it makes stale).
"""

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from ..eeg import recording_features as eeg_features
from ..eeg.comparability import compare_sessions, mixed_eyes
from ..features import (
    column_name,
    feature_family,
    qc_column,
    sort_long,
    to_wide,
)
from ..fmri import recording_features as fmri_features
from ..fmri import settings_atlas
from ..fmri.features import main_pag_definition
from ..fmri.qcfc import qc_fc
from ..io import check_recording, discover_study
from ..utils._files import file_sha256, relative_path
from ..utils._logging import logger
from .cache import unit_key
from .units import ERROR_COLUMNS, RunContext, run_units

# what each recording step runs per recording (a module attribute, so a test
# can put a failing function in its place)
UNIT_FUNCTIONS = {"eeg": eeg_features, "fmri": fmri_features}


@dataclasses.dataclass
class RunState:
    """What the steps of one run share.

    Attributes
    ----------
    config : PipelineConfig
        The run's configuration.
    study : Study
        Participants, recordings and discovery problems.
    context : RunContext
        Cache, workers, error policy and the units' logs.
    output_dir : Path
        Where this run writes.
    tables : dict of str to pandas.DataFrame
        Every table so far, by output name (``eeg_qc``,
        ``prediction/metrics``...).
    features : dict of str to list of pandas.DataFrame
        Modality -> long feature tables of its recordings.
    errors : list of pandas.DataFrame
        Problems so far (``ERROR_COLUMNS`` plus ``stage``).
    hashes : dict of str to str
        Input file (relative to the study root) -> SHA-256.
    usable : list of Recording
        Recordings that passed the check (all of them when it did not run).
    outcomes : dict of str to (int, int)
        Recording step -> (recordings that succeeded, recordings).
    participant : str | None
        The one participant of a ``--participant`` run.
    """

    config: object
    context: RunContext
    output_dir: Path
    study: object = None
    participant: str | None = None
    tables: dict = dataclasses.field(default_factory=dict)
    features: dict = dataclasses.field(default_factory=dict)
    errors: list = dataclasses.field(default_factory=list)
    hashes: dict = dataclasses.field(default_factory=dict)
    usable: list = dataclasses.field(default_factory=list)
    outcomes: dict = dataclasses.field(default_factory=dict)

    @property
    def sessions(self):
        """The (pre, post) session labels."""
        return (self.config.sessions.pre, self.config.sessions.post)


@dataclasses.dataclass(frozen=True)
class Step:
    """A registered step.

    Attributes
    ----------
    name : str
        Its name on the command line (``--steps``).
    run : callable
        ``run(state)``; adds its tables to ``state``.
    summary : str
        One line for the documentation and ``--help``.
    reads : tuple of str
        Steps whose tables it reads; when one of them runs again, this
        step's earlier tables are stale.
    outputs : tuple of str
        Tables it owns (names in :attr:`RunState.tables`).
    group : bool
        Works on the whole study (left out of ``--participant`` runs).
    """

    name: str
    run: Callable
    summary: str
    reads: tuple = ()
    outputs: tuple = ()
    group: bool = False


STEPS = {}


def step(name, summary, *, reads=(), outputs=(), group=False):
    """Register a step function under ``name`` (registration order is run order).

    Parameters
    ----------
    name : str
        Step name (``--steps``).
    summary : str
        One line saying what it does.
    reads : sequence of str
        Steps whose tables it reads.
    outputs : sequence of str
        Tables it owns.
    group : bool
        Works on the whole study (left out of ``--participant`` runs).
    """

    def register(func):
        STEPS[name] = Step(name, func, summary, tuple(reads), tuple(outputs), group)
        return func

    return register


def discover_configured(config):
    """Discover the study a config describes (file names and participants.tsv).

    Parameters
    ----------
    config : PipelineConfig
        Its BIDS root, task, sessions, modalities, fMRIPrep folder, space,
        interventions and responder threshold are used.

    Returns
    -------
    study : Study
    """
    return discover_study(
        config.bids_root,
        task=config.task,
        sessions=(config.sessions.pre, config.sessions.post),
        modalities=config.modalities,
        fmriprep_dir=config.fmriprep_dir,
        space=config.space,
        interventions=config.interventions,
        responder_threshold=config.responder_threshold,
    )


@step("discover", "find participants and recordings, label responders")
def run_discover(state):
    """Find the study's participants and recordings (always runs first).

    Parameters
    ----------
    state : RunState
        The run; receives ``study``, the discovery problems and the hash of
        ``participants.tsv``.
    """
    study = discover_configured(state.config)
    if state.participant is not None:
        study = _select_participant(study, state.participant)
    state.study, state.context.root = study, study.root
    state.usable = list(study.recordings)
    state.errors.append(study.problems.assign(stage="discover"))
    state.hashes["participants.tsv"] = file_sha256(study.root / "participants.tsv")


def _select_participant(study, participant):
    """Keep one participant's recordings (``--participant``, job arrays).

    The label was checked against participants.tsv before any folder was made
    (:func:`neuromark.pipeline.run.run_pipeline`).
    """
    keep = study.participants["participant_id"] == participant
    return dataclasses.replace(
        study,
        participants=study.participants[keep].reset_index(drop=True),
        recordings=[r for r in study.recordings if r.participant_id == participant],
        problems=study.problems[study.problems["participant_id"] == participant],
    )


def _check_one(recording, root):
    """Header check and file hashes of one recording."""
    info = check_recording(recording)
    files = [recording.path, *recording.companions.values()]
    return info, {relative_path(f, root): file_sha256(f) for f in files}


@step(
    "check", "read every recording's header and hash its files", outputs=["recordings"]
)
def run_check(state):
    """Header checks in parallel; only recordings that pass go on.

    Parameters
    ----------
    state : RunState
        The run; receives the ``recordings`` table, file hashes and the
        usable recordings.
    """
    recordings = list(state.study.recordings)
    results, failed = run_units(
        "check", _check_one, recordings, (state.study.root,), context=state.context
    )
    state.tables["recordings"] = _recordings_table(results, failed, state.study.root)
    for _, (_, file_hashes) in results:
        state.hashes.update(file_hashes)
    state.context.hashes.update(
        {str(state.study.root / path): sha for path, sha in state.hashes.items()}
    )
    state.usable = [rec for rec, _ in results]
    state.errors.append(failed)
    state.outcomes["check"] = (len(results), len(recordings))


def _recordings_table(results, failed, root):
    """One row per checked recording: header facts, or the error."""
    rows = [
        rec.ids | {"path": relative_path(rec.path, root), "status": "ok"} | info
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


def _run_modality(state, modality, args):
    """Run one modality's units; return their QC records and extra tables."""
    units = [rec for rec in state.usable if rec.modality == modality]
    results, failed = run_units(
        modality, UNIT_FUNCTIONS[modality], units, args, context=state.context
    )
    state.errors.append(failed)
    state.outcomes[modality] = (len(results), len(units))
    state.features[modality] = [table for _, (table, _, _) in results]
    qcs = [qc for _, (_, qc, _) in results]
    return qcs, [extra for _, (_, _, extra) in results]


@step(
    "eeg",
    "preprocess every EEG recording and compute its spectral neuromarkers",
    outputs=["eeg_qc", "eeg_spectra", "eeg_channel_spectra", "eeg_ica_components"],
)
def run_eeg(state):
    """EEG features per recording; pre and post compared and paired.

    Parameters
    ----------
    state : RunState
        The run; receives the EEG features, ``eeg_qc``, the spectra of
        regions and channels and the removed ICA components.
    """
    if "eeg" not in state.config.modalities:
        return
    qcs, extras = _run_modality(state, "eeg", (state.config.eeg,))
    qcs = compare_sessions(
        qcs,
        state.sessions,
        max_duration_difference=(
            state.config.eeg.preprocessing.max_clean_duration_difference
        ),
    )
    state.features["eeg"], refused = _refuse_mixed_eyes(
        state.features["eeg"], qcs, state.config
    )
    state.errors.append(refused)
    state.tables.update(_modality_tables("eeg", qcs, extras))
    update_feature_tables(state)


@step(
    "fmri",
    "denoise every fMRIPrep run and compute PAG-ACC-PFC connectivity",
    outputs=["fmri_qc", "fmri_roi_qc", "fmri_pag_sensitivity", "fmri_qcfc"],
)
def run_fmri(state):
    """Compute fMRI connectivity per run, then QC-FC over the study.

    Parameters
    ----------
    state : RunState
        The run; receives the fMRI features and QC tables.
    """
    if "fmri" not in state.config.modalities:
        return
    qcs, extras = _run_modality(state, "fmri", (state.config.fmri, state.config.space))
    state.tables.update(_modality_tables("fmri", qcs, extras))
    update_feature_tables(state)
    if "fmri_qc" in state.tables and "features_wide" in state.tables:
        atlas = settings_atlas(state.config.fmri)
        state.tables["fmri_qcfc"] = qc_fc(
            state.tables["features_wide"], atlas.centres()
        )


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


def format_cell(value):
    """QC values as TSV text: dicts as ``key:value;...``, lists joined by ``;``.

    Parameters
    ----------
    value : object
        A QC value.
    """
    if isinstance(value, dict):
        return ";".join(f"{k}:{v}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ";".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value)
    return value


def _modality_tables(modality, qcs, extras):
    """Build the QC table and the extra tables (spectra, ROI QC) of one step."""
    if not qcs:
        return {}
    tables = {f"{modality}_qc": pd.DataFrame(qcs).map(format_cell)}
    for name in extras[0]:
        tables[name] = pd.concat([e[name] for e in extras], ignore_index=True)
    return tables


# per-session QC carried into the wide table (statistics may adjust for them;
# the qc_ prefix keeps them out of the markers models are offered)
WIDE_QC = {
    "eeg_qc": ("n_epochs",),
    "fmri_qc": ("mean_fd", "fraction_censored", "degrees_of_freedom"),
}


def update_feature_tables(state):
    """Rebuild ``features_long`` and ``features_wide`` from every modality.

    The wide table also carries, per session, the QC of :data:`WIDE_QC`
    (``qc_eeg_n_epochs_pre``, ``qc_fmri_mean_fd_post``...; the mean over a
    session's runs).

    Parameters
    ----------
    state : RunState
        The run; its ``features`` and QC tables are read, the two feature
        tables written into ``state.tables``.
    """
    features = [t for tables in state.features.values() for t in tables]
    if not features:
        return
    long = sort_long(pd.concat(features, ignore_index=True))
    participants = list(state.study.participants["participant_id"])
    wide = to_wide(long, sessions=state.sessions, participants=participants)
    for table_name, fields in WIDE_QC.items():
        qc = state.tables.get(table_name)
        modality = table_name.removesuffix("_qc")
        for field in fields:
            if qc is None or field not in qc:
                continue
            values = qc.assign(**{field: pd.to_numeric(qc[field], errors="coerce")})
            per_session = values.pivot_table(
                index="participant_id", columns="session", values=field
            )
            for label, suffix in zip(state.sessions, ("pre", "post")):
                if label in per_session:
                    wide[qc_column(modality, field, suffix)] = wide[
                        "participant_id"
                    ].map(per_session[label])
    state.tables["features_long"], state.tables["features_wide"] = long, wide


def _motion_covariates(wide, config):
    """Change of mean FD per participant, for the fMRI treatment effects."""
    columns = tuple(qc_column("fmri", "mean_fd", s) for s in ("pre", "post"))
    if not config.stats.motion_covariate or not set(columns) <= set(wide):
        return {}
    change = wide.set_index("participant_id")
    return {"fmri": {"delta_mean_fd": change[columns[1]] - change[columns[0]]}}


@step(
    "stats",
    "pre/post change per treatment, responders, test-retest reliability",
    reads=["eeg", "fmri"],
    outputs=[
        "stats_treatment",
        "stats_prepost",
        "stats_responders",
        "stats_reliability",
        "stats_pag_sensitivity",
    ],
    group=True,
)
def run_stats(state):
    """Treatment, pre/post, responder and reliability statistics.

    Parameters
    ----------
    state : RunState
        The run; reads ``features_long`` (and the PAG sensitivity table),
        receives the ``stats_*`` tables.
    """
    from ..stats import (
        prepost_statistics,
        reliability,
        responder_statistics,
        treatment_effects,
    )
    from ..stats.sensitivity import pag_definition_sensitivity

    config, tables = state.config, state.tables
    participants = state.study.participants
    long = tables["features_long"]
    kwargs = {"sessions": state.sessions}
    seeded = kwargs | {"random_state": config.random_state}
    covariates = _motion_covariates(tables["features_wide"], config)
    out = {
        "stats_treatment": treatment_effects(
            long, participants, config.stats, covariates=covariates, **kwargs
        ),
        "stats_prepost": prepost_statistics(long, participants, config.stats, **seeded),
        "stats_responders": responder_statistics(
            long, participants, config.stats, n_jobs=state.context.n_jobs, **seeded
        ),
        "stats_reliability": reliability(long, participants, config.stats, **kwargs),
    }
    sensitivity = tables.get("fmri_pag_sensitivity")
    if sensitivity is not None and sensitivity["definition"].nunique() > 1:
        out["stats_pag_sensitivity"] = pag_definition_sensitivity(
            sensitivity,
            participants,
            config.stats,
            main=main_pag_definition(config.fmri),
            covariates=covariates,
            **kwargs,
        )
    tables.update({name: table for name, table in out.items() if not table.empty})


@step(
    "predict",
    "leakage-safe validation of responder classifiers, with chance baselines",
    reads=["eeg", "fmri"],
    outputs=[
        "prediction/metrics",
        "prediction/oof_predictions",
        "prediction/permutation_null",
        "prediction/importance",
    ],
    group=True,
)
def run_predict(state):
    """Validate responder classifiers (metrics, out-of-fold scores, models).

    The validation is one cached unit keyed on the feature table, the
    participants, the prediction settings and the seed; saved models are
    rewritten from the cached fits' tables only when recomputed.

    Parameters
    ----------
    state : RunState
        The run; reads ``features_wide``, receives the ``prediction/*``
        tables.
    """
    from ..predict.study import predict_responders

    config, context, tables = state.config, state.context, state.tables
    participants = state.study.participants
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
            "participants": pd.util.hash_pandas_object(participants).tolist(),
        },
        "study",
    )
    model_dir = state.output_dir / "prediction" / "models"
    cached, (metrics, oof, null, importance) = context.cache.cached(
        "predict",
        key,
        predict_responders,
        tables["features_wide"],
        participants,
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
    tables["prediction/metrics"] = metrics
    if not oof.empty:
        tables["prediction/oof_predictions"] = oof
        tables["prediction/permutation_null"] = null
    if not importance.empty:
        tables["prediction/importance"] = importance
