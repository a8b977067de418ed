"""Run one step over many recordings: parallel, cached, isolated, logged.

Each unit (a step applied to one recording) runs as a joblib task wherever
the engine puts it (a loky process, a Dask worker). The task reads its
result from the cache or computes and stores it, turns a neuromark error
into a logged failure instead of stopping the batch, and returns its own
log lines so the main process can write one log per participant.
"""

import contextlib
import dataclasses
import logging
import time
import traceback
from collections import defaultdict
from pathlib import Path

import pandas as pd
from joblib import Parallel, delayed

from ..exceptions import NeuromarkError
from ..io.bids import UNIT_COLUMNS
from ..utils._files import relative_path
from ..utils._logging import logger
from ..utils._progress import progress_bar
from .cache import UnitCache, unit_key

ERROR_COLUMNS = [*UNIT_COLUMNS, "path", "problem"]
LOG_FORMAT = "%(asctime)s %(levelname)s %(message)s"


@dataclasses.dataclass
class RunContext:
    """What every unit of a run shares, and what the units report back.

    Attributes
    ----------
    root : Path
        Study root (recording locations in cache keys are relative to it).
    cache : UnitCache
        Result cache (a disabled one when caching is off).
    key_settings : dict
        Step -> JSON-serialisable settings that determine its results.
    n_jobs : int
        joblib workers (-1 on Dask).
    level : int
        Log level inside units.
    progress : bool | "auto"
        Progress bars.
    on_error : "continue" | "abort"
        Error policy.
    hashes : dict
        ``{path: sha256}`` of input files hashed by the check step.
    logs : dict
        Participant -> log lines of their units.
    cache_stats : dict
        Step -> ``{"computed": n, "cached": n}``.
    unit_seconds : dict
        Step -> total seconds spent in its units (workers' time).
    """

    root: Path
    cache: UnitCache
    key_settings: dict
    n_jobs: int = 1
    level: int = logging.INFO
    progress: object = "auto"
    on_error: str = "continue"
    hashes: dict = dataclasses.field(default_factory=dict)
    logs: dict = dataclasses.field(default_factory=lambda: defaultdict(list))
    cache_stats: dict = dataclasses.field(
        default_factory=lambda: defaultdict(lambda: {"computed": 0, "cached": 0})
    )
    unit_seconds: dict = dataclasses.field(default_factory=lambda: defaultdict(float))

    def record(self, step, recording, outcome):
        """Keep a finished unit's log lines, cache use and time."""
        self.logs[recording.participant_id] += outcome["log"]
        self.cache_stats[step]["cached" if outcome["cached"] else "computed"] += 1
        self.unit_seconds[step] += outcome["seconds"]


class _ListHandler(logging.Handler):
    def __init__(self, lines):
        super().__init__()
        self.lines = lines
        self.setFormatter(logging.Formatter(LOG_FORMAT))

    def emit(self, record):
        self.lines.append(self.format(record))


@contextlib.contextmanager
def capture_log(lines, level):
    """Collect the neuromark log lines emitted in the block into ``lines``.

    Parameters
    ----------
    lines : list of str
        Receives the formatted lines.
    level : int
        Logger level inside the block.
    """
    handler = _ListHandler(lines)
    old_level = logger.level
    logger.setLevel(level)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


def failure_reason(err):
    """One line naming what went wrong, for ``errors.tsv`` and the console.

    neuromark's own errors already name the file and the problem; any other
    exception (a library error on unusual data) is given with its type.

    Parameters
    ----------
    err : BaseException
        The exception a unit raised.
    """
    lines = str(err).strip().splitlines()
    text = lines[0] if lines else ""
    if isinstance(err, NeuromarkError):
        return text
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def _compute(func, recording, args):
    """Run the unit; return its value and the warnings it logged."""
    warnings = []
    handler = _ListHandler(warnings)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("%(levelname)s\x00%(message)s"))
    logger.addHandler(handler)
    try:
        value = func(recording, *args)
    finally:
        logger.removeHandler(handler)
    return {"value": value, "warnings": warnings}


def _unit_task(step, func, recording, args, cache, key, level):
    """Run one unit in a worker: cached, isolated, with its own log lines.

    Any exception a unit raises is caught here: neuromark's own errors are
    logged as one line, anything else with its traceback (in the
    participant's log), and the batch goes on. A cached result carries the
    warnings its computation logged, which are logged again when it is read,
    so a rerun's logs and pages say what the first run said.
    """
    lines = []
    start = time.perf_counter()
    with capture_log(lines, level):
        logger.info("%s: step %s started", recording, step)
        try:
            cached, entry = cache.cached(step, key, _compute, func, recording, args)
            for warning in entry["warnings"]:
                levelname, message = warning.split("\x00", 1)
                if cached:
                    logger.log(logging.getLevelName(levelname), "%s", message)
            ok, value = True, entry["value"]
            logger.info(
                "%s: step %s %s",
                recording,
                step,
                "read from cache" if cached else "done",
            )
        except Exception as err:  # one bad unit never stops the batch
            cached, ok, value = False, False, failure_reason(err)
            logger.error("%s skipped at step %s: %s", recording, step, value)
            if not isinstance(err, NeuromarkError):  # for the participant's log only
                lines.append(traceback.format_exc().rstrip())
    return {
        "ok": ok,
        "value": value,
        "cached": cached,
        "log": lines,
        "seconds": time.perf_counter() - start,
    }


def run_units(step, func, recordings, args, *, context):
    """Run ``func(recording, *args)`` for every recording.

    Parameters
    ----------
    step : str
        Step name (cache folder, log messages).
    func : callable
        The unit of work; raises :class:`~neuromark.NeuromarkError` on bad
        input.
    recordings : list of Recording
        Units.
    args : tuple
        Further arguments of ``func`` (settings).
    context : RunContext
        Cache, hashes, settings of the key, n_jobs, error policy, logs. Steps
        without an entry in ``context.key_settings`` are not cached.

    Returns
    -------
    results : list of (Recording, object)
        Successful units and their value.
    errors : pandas.DataFrame
        Failed units (``ERROR_COLUMNS`` plus ``stage``).
    """
    cache = context.cache if step in context.key_settings else UnitCache(None)
    keys = [
        unit_key(
            step,
            context.key_settings[step],
            relative_path(rec.path, context.root),
            [rec.path, *rec.companions.values()],
            context.hashes,
        )
        if cache.directory is not None
        else None
        for rec in recordings
    ]
    outcomes = Parallel(n_jobs=context.n_jobs, return_as="generator")(
        delayed(_unit_task)(step, func, rec, args, cache, key, context.level)
        for rec, key in zip(recordings, keys)
    )
    outcomes = progress_bar(
        outcomes, total=len(recordings), desc=step, enabled=context.progress
    )
    results, failures = [], []
    for rec, outcome in zip(recordings, outcomes):
        context.record(step, rec, outcome)
        if outcome["ok"]:
            results.append((rec, outcome["value"]))
            continue
        if context.n_jobs != 1:  # sequential units already logged in this process
            logger.error("%s skipped at step %s: %s", rec, step, outcome["value"])
        failures.append(
            rec.ids
            | {"path": str(rec.path), "problem": outcome["value"], "stage": step}
        )
        if context.on_error == "abort":
            raise NeuromarkError(
                f"Aborting (on_error='abort'): {rec}: {outcome['value']}"
            )
    return results, pd.DataFrame(failures, columns=[*ERROR_COLUMNS, "stage"])
