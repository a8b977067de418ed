"""Provenance: what produced an output (config, versions, inputs, timings)."""

import contextlib
import platform
import sys
import time
from datetime import datetime, timezone
from importlib import metadata

PACKAGES = (
    "neuromark",
    "mne",
    "nilearn",
    "nibabel",
    "numpy",
    "scipy",
    "pandas",
    "scikit-learn",
    "joblib",
    "pydantic",
    "edfio",
    "fooof",
    "mne-connectivity",
    "skops",
    "dask",
    "distributed",
    "dask-jobqueue",
)


def package_versions(packages=PACKAGES):
    """Installed versions of the packages neuromark's numbers depend on.

    Parameters
    ----------
    packages : sequence of str
        Distribution names to look up.

    Returns
    -------
    versions : dict of str to str
        Package name to version (``"not installed"`` when absent), plus
        ``python`` and ``platform``.
    """
    versions = {"python": sys.version.split()[0], "platform": platform.platform()}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


class Timer:
    """Collect wall-clock timings of named steps.

    Examples
    --------
    >>> timer = Timer()
    >>> with timer("discover"):
    ...     pass
    >>> sorted(timer.seconds)
    ['discover']
    """

    def __init__(self):
        self.seconds = {}
        self.started = datetime.now(timezone.utc).isoformat(timespec="seconds")

    @contextlib.contextmanager
    def __call__(self, step):
        """Time the ``with`` block under the name ``step``."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[step] = round(time.perf_counter() - start, 3)


def provenance_record(config, *, input_hashes, timer, steps):
    """Assemble the ``provenance.json`` content.

    Parameters
    ----------
    config : neuromark.pipeline.PipelineConfig
        The validated configuration (defaults included).
    input_hashes : dict of str to str
        Input file (relative to the BIDS root) to SHA-256.
    timer : Timer
        Step timings.
    steps : list of str
        Steps that ran.

    Returns
    -------
    record : dict
    """
    return {
        "neuromark_version": package_versions(("neuromark",))["neuromark"],
        "command": " ".join(sys.argv),
        "started": timer.started,
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "steps": steps,
        "timings_s": timer.seconds,
        "config": config.to_dict(),
        "config_sha256": config.hash(),
        "versions": package_versions(),
        "inputs_sha256": dict(sorted(input_hashes.items())),
    }
