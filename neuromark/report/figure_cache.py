"""Figures of the participant pages, kept between runs.

A page's figures are drawn from a recording's tables or files. Drawing them
again on every rerun (or partial run) of a large study would cost minutes, so
each figure's HTML is stored under a key made of everything it was drawn
from: the table rows, the settings, the input files' SHA-256 and the
neuromark version. A figure that could not be drawn is not stored.
"""

import hashlib
import json
from pathlib import Path

import pandas as pd

from .. import __version__
from ..utils._files import write_text


def _feed(digest, part):
    if isinstance(part, pd.DataFrame):
        digest.update(json.dumps(list(map(str, part.columns))).encode())
        digest.update(pd.util.hash_pandas_object(part, index=False).to_numpy())
    elif isinstance(part, (list, tuple)):
        for item in part:
            _feed(digest, item)
    elif isinstance(part, dict):
        digest.update(json.dumps(part, sort_keys=True, default=str).encode())
    else:
        digest.update(repr(part).encode())
    digest.update(b"\x00")


def figure_key(*parts):
    """Return the SHA-256 key of a figure drawn from ``parts``.

    Parameters
    ----------
    *parts : object
        What the figure is drawn from: DataFrames (hashed by content),
        dicts (as JSON), sequences and anything with a stable ``repr``.
    """
    digest = hashlib.sha256(__version__.encode())
    _feed(digest, parts)
    return digest.hexdigest()


class FigureCache:
    """HTML of drawn figures by key (a disabled cache when ``directory`` is None).

    Parameters
    ----------
    directory : path-like | None
        Where the entries live (``<output_dir>/cache/figures``).
    """

    def __init__(self, directory=None):
        self.directory = None if directory is None else Path(directory)

    def html(self, key, draw):
        """Return the stored HTML of ``key``, or draw it (and store it if drawn).

        Parameters
        ----------
        key : str
            :func:`figure_key` of the figure.
        draw : callable
            Returns ``(html, drawn)``; only drawn figures are stored.
        """
        path = None if self.directory is None else self.directory / f"{key}.html"
        if path is not None and path.is_file():
            return path.read_text(encoding="utf-8")
        fragment, drawn = draw()
        if path is not None and drawn:
            write_text(path, fragment)
        return fragment
