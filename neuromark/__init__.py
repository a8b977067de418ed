"""neuromark: EEG and fMRI neuromarkers of non-drug chronic-pain treatments.

neuromark turns a BIDS study of a pain trial (TENS, NIBS, mindfulness; resting
EEG and/or fMRI before and after treatment) into neuromarkers, pre/post
statistics and treatment-response predictions.

Importing the package has no side effects and imports no heavy dependency;
sub-modules are imported on first use.
"""

import importlib

from .exceptions import (
    BIDSError,
    ConfigError,
    DataFileError,
    NeuromarkError,
    OutputError,
)
from .utils._logging import logger, set_log_level

__version__ = "0.1.0"

__all__ = [
    "BIDSError",
    "ConfigError",
    "DataFileError",
    "NeuromarkError",
    "OutputError",
    "__version__",
    "atlases",
    "eeg",
    "features",
    "fmri",
    "io",
    "logger",
    "pipeline",
    "predict",
    "report",
    "set_log_level",
    "simulation",
    "stats",
]

_SUBMODULES = {
    "atlases",
    "eeg",
    "features",
    "fmri",
    "io",
    "pipeline",
    "predict",
    "report",
    "simulation",
    "stats",
}


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'neuromark' has no attribute {name!r}")
