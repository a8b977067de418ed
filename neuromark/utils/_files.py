"""Safe output files: atomic writes, output folders, content hashes."""

import contextlib
import hashlib
import json
import os
import re
import tempfile
from pathlib import Path

from ..exceptions import OutputError

# every temporary file neuromark writes starts with this (and only those are
# ever deleted by a later run)
TEMPORARY_PREFIX = ".neuromark-tmp."


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
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(
            f"Cannot create output folder {path}: {err.strerror}."
        ) from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise OutputError(f"Output folder {path} is not writable.")
    return path


def check_output_location(output_dir, bids_root, *, input_dirs=()):
    """Refuse an output folder that would write onto or around the inputs.

    The output folder may be anywhere outside the study, or inside its
    ``derivatives/`` folder (``derivatives/neuromark``), but never the BIDS
    root itself, a folder inside it elsewhere (a participant's folder), a
    folder that contains it, or any other input folder (fMRIPrep's).

    Parameters
    ----------
    output_dir : path-like
        Where the run will write.
    bids_root : path-like
        The study.
    input_dirs : sequence of path-like
        Further folders that are read and must not be written (fMRIPrep).

    Raises
    ------
    OutputError
        Naming both folders and what to choose instead.
    """
    out = Path(output_dir).expanduser().resolve()
    root = Path(bids_root).expanduser().resolve()
    hint = f"choose a folder outside the study or under {root / 'derivatives'}"
    for folder in (root, *(Path(d).expanduser().resolve() for d in input_dirs)):
        if out == folder or (folder != root and out.is_relative_to(folder)):
            raise OutputError(
                f"output_dir {out} is or is inside the input folder {folder}; {hint}."
            )
        if folder.is_relative_to(out):
            raise OutputError(
                f"output_dir {out} contains the input folder {folder}; {hint}."
            )
    derivatives = root / "derivatives"
    if out.is_relative_to(root) and (
        out == derivatives or not out.is_relative_to(derivatives)
    ):
        raise OutputError(
            f"output_dir {out} is inside the BIDS root {root} outside a pipeline "
            f"folder of derivatives/; {hint} (e.g. {derivatives / 'neuromark'})."
        )


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
    fd, tmp = tempfile.mkstemp(
        prefix=f"{TEMPORARY_PREFIX}{path.name}.", suffix=suffix, dir=path.parent
    )
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        # mkstemp creates 0600; give the file the mode open() would (umask)
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def current_umask():
    """Return the process umask (read without changing it where possible)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


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
    re.escape(TEMPORARY_PREFIX)
    + r"(?P<target>.+)\.[a-z0-9_]{8}(?P<suffix>(?:\.[A-Za-z0-9]+)*)"
)


def _is_temporary(path):
    """Whether ``path`` is an :func:`atomic_path` temporary file."""
    match = _TEMPORARY.fullmatch(path.name)
    return bool(match) and match["suffix"] == "".join(Path(match["target"]).suffixes)


def remove_stale_temporaries(directory):
    """Delete temporary files a killed run left behind in ``directory``.

    :func:`atomic_path` writes ``.neuromark-tmp.<name>.<8 random
    characters><suffixes>`` next to its target; a process killed mid-write
    leaves one behind. Only files with that exact shape are removed: a
    user's own hidden files or backups are never touched.

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
