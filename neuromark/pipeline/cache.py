"""Per-unit result cache: rerun only what changed, resume a killed run.

A unit is one step applied to one recording (EEG features of
``sub-01 ses-pre``) or one group-level computation (the prediction). Its key
is the SHA-256 of everything that determines the result: the step, the
neuromark version, the step's settings, the recording's location in the
study and the SHA-256 of each of its input files. A changed setting or
file gives a new key, so the unit is recomputed; everything else is read
back. Entries are pickles written atomically (temporary file, then rename),
so a run killed at any moment leaves only complete entries, and the rerun
picks up where it stopped. Like joblib.Memory's store, the cache is a local
working folder: load only caches you wrote yourself.
"""

import hashlib
import json
import pickle
from pathlib import Path

from .. import __version__
from ..utils._files import atomic_path, file_sha256

# bumped when the layout of stored entries changes, so old entries are ignored
CACHE_FORMAT = 3


def unit_key(step, settings, location, files=None, hashes=None):
    """Cache key of one unit.

    Parameters
    ----------
    step : str
        Pipeline step (``eeg``, ``fmri``, ``predict``...).
    settings : dict
        JSON-serialisable settings that determine the result.
    location : str
        What the unit is about (the recording's path relative to the study).
    files : sequence of path-like | None
        Input files; their SHA-256 enter the key.
    hashes : dict | None
        Precomputed ``{str(path): sha256}`` (from the check step), used
        instead of re-reading those files.

    Returns
    -------
    key : str
        Hex SHA-256.
    """
    hashes = hashes or {}
    contents = [hashes.get(str(f)) or file_sha256(f) for f in files or ()]
    payload = json.dumps(
        [CACHE_FORMAT, step, __version__, settings, location, contents],
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


class UnitCache:
    """Folder of pickled unit results, one file per key.

    Parameters
    ----------
    directory : path-like | None
        Where entries live; ``None`` disables caching (every ``get`` misses,
        ``put`` does nothing).
    """

    def __init__(self, directory):
        self.directory = None if directory is None else Path(directory)

    def _path(self, step, key):
        return self.directory / step / f"{key}.pkl"

    def get(self, step, key):
        """Return ``(True, value)`` for a stored entry, else ``(False, None)``."""
        if self.directory is None:
            return False, None
        path = self._path(step, key)
        try:
            with path.open("rb") as f:
                return True, pickle.load(f)
        except (FileNotFoundError, EOFError, pickle.UnpicklingError):
            return False, None

    def put(self, step, key, value):
        """Store an entry atomically (no-op when caching is disabled)."""
        if self.directory is None:
            return
        with atomic_path(self._path(step, key)) as tmp:
            tmp.write_bytes(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))

    def cached(self, step, key, func, *args, **kwargs):
        """Return ``(hit, func(*args, **kwargs))``, computing and storing on a miss."""
        hit, value = self.get(step, key)
        if not hit:
            value = func(*args, **kwargs)
            self.put(step, key, value)
        return hit, value
