"""Where the parallel work runs: local processes (loky) or a Dask cluster.

Every parallel loop of neuromark is a joblib ``Parallel`` call whose tasks
carry their own seeds, so switching the backend changes where the work runs,
never the results. :func:`parallel_engine` sets the backend for a block:

- ``loky`` (default): worker processes on this machine;
- ``dask`` with ``cluster: local``: a ``dask.distributed.LocalCluster``
  (workstations, tests);
- ``dask`` with ``cluster: slurm`` or ``pbs``: batch jobs submitted through
  dask-jobqueue with the cores, memory, walltime, queue and number of jobs of
  the config;
- ``dask`` with ``cluster: address``: an existing scheduler.
"""

import contextlib
import signal
import threading
from typing import Literal

from pydantic import Field

from ..exceptions import ConfigError, RunTerminated
from ..utils._logging import logger
from ..utils._settings import StrictModel


class DaskSettings(StrictModel):
    """Dask cluster used when ``engine.backend`` is ``dask``."""

    cluster: Literal["local", "slurm", "pbs", "address"] = Field(
        "local",
        description="local: LocalCluster on this machine; slurm/pbs: batch jobs "
        "through dask-jobqueue; address: connect to a running scheduler.",
    )
    address: str | None = Field(
        None, description="Scheduler address (tcp://host:8786) for cluster=address."
    )
    n_workers: int = Field(
        2, ge=1, description="LocalCluster workers (one thread each)."
    )
    jobs: int = Field(2, ge=1, description="Batch jobs to submit (slurm/pbs).")
    cores: int = Field(1, ge=1, description="Cores per batch job.")
    processes: int | None = Field(
        None,
        ge=1,
        description="Dask worker processes per batch job; null: one single-threaded "
        "process per core (neuromark's tasks are Python-heavy).",
    )
    memory: str = Field("4GB", description="Memory per batch job (e.g. 16GB).")
    walltime: str = Field("01:00:00", description="Walltime per batch job.")
    queue: str | None = Field(None, description="Partition (SLURM) or queue (PBS).")
    account: str | None = Field(None, description="Account/project to charge.")
    job_extra_directives: tuple[str, ...] = Field(
        (), description="Extra #SBATCH/#PBS lines (e.g. --qos=short)."
    )
    job_script_prologue: tuple[str, ...] = Field(
        (),
        description="Shell lines run before each worker starts (e.g. activating "
        "the environment: source /path/to/.venv/bin/activate).",
    )
    local_directory: str | None = Field(
        None, description="Scratch folder of the workers (node-local disk)."
    )


class EngineSettings(StrictModel):
    """Parallel engine of the pipeline (results never depend on it)."""

    backend: Literal["loky", "dask"] = Field(
        "loky",
        description="joblib backend: loky (local processes) or dask (a cluster; "
        "needs the 'hpc' extra: pip install neuromark[hpc]).",
    )
    dask: DaskSettings = Field(
        default_factory=DaskSettings, description="Dask cluster (backend=dask)."
    )


def _import(module, extra="hpc"):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ConfigError(
            f"engine.backend=dask needs {module}: pip install 'neuromark[{extra}]'"
        ) from None


def make_cluster(settings):
    """Start the Dask cluster described by ``settings`` (None for an address).

    Parameters
    ----------
    settings : DaskSettings

    Returns
    -------
    cluster : distributed.deploy.Cluster | None
    """
    if settings.cluster == "address":
        if not settings.address:
            raise ConfigError("engine.dask.cluster=address needs engine.dask.address")
        return None
    if settings.cluster == "local":
        distributed = _import("distributed")
        return distributed.LocalCluster(
            n_workers=settings.n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            local_directory=settings.local_directory,
        )
    cluster = jobqueue_cluster(settings)
    cluster.scale(jobs=settings.jobs)
    return cluster


def jobqueue_cluster(settings):
    """Configure a dask-jobqueue SLURM or PBS cluster without submitting jobs.

    Parameters
    ----------
    settings : DaskSettings
        ``cluster`` is ``slurm`` or ``pbs``.

    Returns
    -------
    cluster : dask_jobqueue.SLURMCluster | dask_jobqueue.PBSCluster
        Call ``cluster.scale(jobs=n)`` to submit; ``cluster.job_script()``
        shows what would be submitted.
    """
    jobqueue = _import("dask_jobqueue")
    cluster_class = {"slurm": "SLURMCluster", "pbs": "PBSCluster"}[settings.cluster]
    return getattr(jobqueue, cluster_class)(
        cores=settings.cores,
        processes=settings.processes or settings.cores,
        memory=settings.memory,
        walltime=settings.walltime,
        queue=settings.queue,
        account=settings.account,
        job_extra_directives=list(settings.job_extra_directives),
        job_script_prologue=list(settings.job_script_prologue),
        local_directory=settings.local_directory,
    )


def _raise_terminated(signum, frame):
    raise RunTerminated(signal.Signals(signum).name)


@contextlib.contextmanager
def terminate_on_signals(signals=("SIGTERM", "SIGHUP")):
    """Turn termination signals into :class:`RunTerminated` inside the block.

    Without this a terminated run dies at once and leaves its loky worker
    processes running their units, orphaned. Only the main thread can set
    signal handlers; elsewhere the block runs unchanged.

    Parameters
    ----------
    signals : sequence of str
        Signal names handled (those absent on the platform are skipped).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}
    for name in signals:
        if hasattr(signal, name):
            number = getattr(signal, name)
            previous[number] = signal.signal(number, _raise_terminated)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


@contextlib.contextmanager
def parallel_engine(settings, n_jobs):
    """Run the enclosed joblib calls on the configured engine.

    Parameters
    ----------
    settings : EngineSettings
        Backend and cluster.
    n_jobs : int
        Workers for loky; Dask uses every worker of its cluster.

    Yields
    ------
    n_jobs : int
        What the enclosed ``Parallel`` calls should pass (``-1`` on Dask).
    """
    from joblib import parallel_config

    if settings.backend == "loky":
        with parallel_config(backend="loky", inner_max_num_threads=1):
            yield n_jobs
        return
    distributed = _import("distributed")
    cluster = make_cluster(settings.dask)
    address = settings.dask.address if cluster is None else cluster
    with contextlib.ExitStack() as stack:
        if cluster is not None:
            stack.enter_context(cluster)
        client = stack.enter_context(distributed.Client(address))
        logger.info("Dask engine: %s", client)
        with parallel_config(backend="dask"):
            yield -1
