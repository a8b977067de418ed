"""Safe output files: atomic writes, output folders, content hashes."""

import contextlib
import hashlib
import json
import os
import re
import tempfile
from pathlib import Path

from ..exceptions import OutputError


def ensure_output_dir(path):
    """Create ``path`` (and parents) as a folder; refuse an existing file.

    Parameters
    ----------
    path : path-like
        The folder to create.

    Returns
    -------
    path : Path
        The folder, as an absolute path.
    """
    path = Path(path).expanduser().resolve()
    if path.exists() and not path.is_dir():
        raise OutputError(
            f"Output folder {path} is an existing file; choose a folder path."
        )
    for parent in path.parents:
        if parent.exists() and not parent.is_dir():
            raise OutputError(
                f"Cannot create output folder {path}: {parent} is a file."
            )
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path that replaces ``path`` only if the block succeeds.

    The temporary file lives in the same folder, so the final
    :func:`os.replace` is atomic: readers see either the old file or the
    complete new one, never a half-written file. On error the temporary file
    is removed and ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # keep the full suffix chain (.nii.gz, .tsv) so writers that dispatch on
    # the extension (nibabel, MNE export) recognise the temporary file
    suffix = "".join(path.suffixes)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path, text):
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(path, obj):
    """Write ``obj`` as indented JSON to ``path`` atomically."""
    write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n")


def write_tsv(path, frame, **kwargs):
    """Write a pandas DataFrame as a tab-separated file atomically (``n/a`` for NaN)."""
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, sep="\t", na_rep="n/a", **kwargs)


def file_sha256(path, chunk_size=1 << 20):
    """Return the SHA-256 hex digest of a file's content, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fid:
        for chunk in iter(lambda: fid.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def relative_path(path, root):
    """Return ``path`` relative to ``root`` when inside it, else absolute (str).

    fMRIPrep derivatives may live outside the BIDS root; tables and cache
    keys then name them by absolute path.
    """
    path = Path(path)
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path.resolve())


_TEMPORARY = re.compile(
    r"\.(?P<target>.+)\.[a-z0-9_]{8}(?P<suffix>(?:\.[A-Za-z0-9]+)*)"
)


def _is_temporary(path):
    """Whether ``path`` looks like an :func:`atomic_path` temporary file."""
    match = _TEMPORARY.fullmatch(path.name)
    return bool(match) and match["suffix"] == "".join(Path(match["target"]).suffixes)


def remove_stale_temporaries(directory):
    """Delete temporary files a killed run left behind in ``directory``.

    :func:`atomic_path` writes ``.<name>.<8 random characters><suffixes>``
    next to its target; a process killed mid-write leaves one behind.

    Returns
    -------
    removed : list of Path
    """
    removed = []
    for path in Path(directory).rglob(".*"):
        if path.is_file() and _is_temporary(path):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed
