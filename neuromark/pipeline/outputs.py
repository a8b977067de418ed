"""A run's output folder: written atomically, and read back by a partial run.

A run of some steps (``--steps predict``) on a folder an earlier run filled
keeps the output consistent: the tables of steps it does not run are read
back when nothing they were computed from runs again, and removed (with a
warning) when it does, so no table outlives the features it came from.
"""

from pathlib import Path

import pandas as pd
from joblib import Parallel, delayed

from .. import __version__
from ..exceptions import DataFileError
from ..utils._files import write_json, write_text, write_tsv
from ..utils._logging import logger
from .sidecars import column_sidecar
from .steps import UNIT_FUNCTIONS, update_feature_tables

# pandas 3 parses floats exactly by default (and deprecates the option)
_EXACT_FLOATS = (
    {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}
)
PARTICIPANT_COLUMNS = (
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


def read_table(path):
    """Read a table neuromark wrote: ``n/a`` is missing, floats round-trip exactly.

    Parameters
    ----------
    path : path-like
        A ``.tsv`` file of an output folder.

    Returns
    -------
    table : pandas.DataFrame
    """
    try:
        return pd.read_csv(
            path,
            sep="\t",
            na_values=["n/a"],
            keep_default_na=False,
            **_EXACT_FLOATS,
            dtype={"participant_id": str, "session": str},
            encoding="utf-8",
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise DataFileError(path, f"not a readable neuromark table ({err})") from None


def table_path(output_dir, name):
    """Where the table ``name`` (``eeg_qc``, ``prediction/metrics``) is written.

    Parameters
    ----------
    output_dir : path-like
        The run's output folder.
    name : str
        Table name.
    """
    return Path(output_dir) / f"{name}.tsv"


def plan_partial_run(steps, registry):
    """Sort the steps a partial run leaves out into kept and stale.

    Parameters
    ----------
    steps : list of str
        Steps that run now.
    registry : dict of str to Step
        Every step.

    Returns
    -------
    kept : list of Step
        Steps whose earlier tables are still valid (nothing they read runs).
    stale : list of Step
        Steps whose earlier tables were computed from tables this run replaces.
    """
    running = set(steps)
    left_out = [s for s in registry.values() if s.name not in running]
    kept = [s for s in left_out if not running & set(s.reads)]
    stale = [s for s in left_out if running & set(s.reads)]
    return kept, stale


def reuse_earlier_outputs(state, kept, stale):
    """Read the kept steps' tables into ``state``; remove the stale ones.

    Feature rows of kept recording steps come from ``features_long.tsv``
    (their modality's rows); their earlier problems from ``logs/errors.tsv``.

    Parameters
    ----------
    state : RunState
        The run; receives the tables read back.
    kept : list of Step
        Steps whose earlier tables are still valid (:func:`plan_partial_run`).
    stale : list of Step
        Steps whose earlier tables are removed.

    Returns
    -------
    reused : list of str
        Tables read back.
    """
    out = state.output_dir
    reused = []
    for step in kept:
        for name in step.outputs:
            if table_path(out, name).is_file():
                state.tables[name] = read_table(table_path(out, name))
                reused.append(name)
    long_path = table_path(out, "features_long")
    modalities = [s.name for s in kept if s.name in UNIT_FUNCTIONS]
    if modalities and long_path.is_file():
        long = read_table(long_path)
        for modality in modalities:
            rows = long[long["modality"] == modality]
            if len(rows):
                state.features[modality] = [rows]
                reused.append(f"features_long ({modality} rows)")
        update_feature_tables(state)
    errors_path = out / "logs" / "errors.tsv"
    if errors_path.is_file():
        earlier = read_table(errors_path)
        state.errors.append(earlier[earlier["stage"].isin([s.name for s in kept])])
    for step in stale:
        removed = [
            table_path(out, name).name
            for name in step.outputs
            if _remove_table(out, name)
        ]
        if removed:
            logger.warning(
                "removed %s: computed from tables this run replaces; run the %s "
                "step to recompute them",
                ", ".join(removed),
                step.name,
            )
    return reused


def write_table(output_dir, name, frame):
    """Write an output table and its JSON sidecar describing the columns.

    Parameters
    ----------
    output_dir : path-like
        The run's output folder.
    name : str
        Table name (``eeg_qc``, ``prediction/metrics``, ``logs/errors``).
    frame : pandas.DataFrame
        The table.
    """
    path = table_path(output_dir, name)
    write_tsv(path, frame, index=False)
    write_json(path.with_suffix(".json"), column_sidecar(name, frame))


def _remove_table(output_dir, name):
    """Remove a table and its sidecar; whether the table existed."""
    path = table_path(output_dir, name)
    existed = path.is_file()
    for stale in (path, path.with_suffix(".json")):
        stale.unlink(missing_ok=True)
    return existed


def write_outputs(state, summary, errors, steps_run):
    """Write the participants, summary, errors and every table of the run.

    A table a step that ran now owns but did not produce this time (no
    importance, no recordings table) is removed, so none is left stale.

    Parameters
    ----------
    state : RunState
        The run and its tables.
    summary : pandas.DataFrame
        Dataset summary.
    errors : pandas.DataFrame
        Every problem of the run (``logs/errors.tsv``).
    steps_run : list of Step
        Steps that ran now.
    """
    out, study = state.output_dir, state.study
    columns = [c for c in PARTICIPANT_COLUMNS if c in study.participants.columns]
    write_table(out, "participants", study.participants[columns])
    write_table(out, "dataset_summary", summary)
    for name, table in state.tables.items():
        if name != "recordings" or len(table):
            write_table(out, name, table)
    for step in steps_run:
        for name in step.outputs:
            if name not in state.tables:
                _remove_table(out, name)
    write_table(out, "logs/errors", errors)
    write_json(
        out / "dataset_description.json",
        {
            "Name": "neuromark derivatives",
            "BIDSVersion": "1.9.0",
            "DatasetType": "derivative",
            "GeneratedBy": [{"Name": "neuromark", "Version": __version__}],
            "SourceDatasets": [{"URL": Path(study.root).as_uri()}],
        },
    )


def write_participant_pages(state, errors, page_dir, *, logs=True):
    """Per participant: the log of their units and a QC page (in parallel).

    Pages always go to ``<output_dir>/participants/``, also from a
    ``--participant`` run, so the group report links to them. ``logs=False``
    keeps the per-participant logs an earlier run wrote (nothing ran per
    recording now).

    Parameters
    ----------
    state : RunState
        The run, its tables and the units' log lines.
    errors : pandas.DataFrame
        Every problem of the run.
    page_dir : path-like
        Folder of the pages.
    logs : bool
        Also write the per-participant logs.
    """
    from ..report.participant import PAGE_TABLES, write_participant_page

    context, tables = state.context, state.tables
    ids = list(state.study.participants["participant_id"])
    if logs:
        for participant_id in ids:
            lines = context.logs.get(participant_id, [])
            write_text(
                state.output_dir / "logs" / f"{participant_id}.log",
                "\n".join(lines) + "\n",
            )
    shown = {name: tables[name] for name in PAGE_TABLES if name in tables}
    config = state.config
    # drawn figures are kept with the unit cache: reruns draw only what changed
    figures = state.output_dir / "cache" / "figures" if config.cache else None
    Parallel(n_jobs=context.n_jobs)(
        delayed(write_participant_page)(
            page_dir / f"{participant_id}.html",
            participant_id,
            tables={
                name: table[table["participant_id"] == participant_id]
                for name, table in shown.items()
            },
            errors=errors[errors["participant_id"] == participant_id],
            log_lines=context.logs.get(participant_id, []),
            montage=config.eeg.preprocessing.montage,
            figures=config.report.recording_figures,
            fmri_runs=_measured_runs(state, participant_id),
            fmri_settings=config.fmri,
            space=config.space,
            figure_cache=figures,
        )
        for participant_id in ids
    )


def _measured_runs(state, participant_id):
    """Return the participant's fMRI runs that have a row in ``fmri_qc``."""
    qc = state.tables.get("fmri_qc")
    if qc is None:
        return []
    sessions = set(qc.loc[qc["participant_id"] == participant_id, "session"])
    return [
        rec
        for rec in state.usable
        if rec.modality == "fmri"
        and rec.participant_id == participant_id
        and rec.session in sessions
    ]


def read_json(path):
    """Read ``path`` as JSON; an empty dict if it is missing or broken.

    Parameters
    ----------
    path : path-like
        A JSON file.
    """
    import json

    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
