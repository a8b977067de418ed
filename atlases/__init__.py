"""Cited definitions of bands, EEG regions and fMRI regions of interest.

The tables live in the repository's top-level ``atlases/`` folder and ship in
the wheel as this package, so a checkout and an installed copy read the same
files. Each row names the paper it comes from.
"""

from importlib.resources import files

import pandas as pd

from neuromark.exceptions import DataFileError

_REQUIRED = {
    "frequency_bands.tsv": ["band", "fmin", "fmax", "source"],
    "eeg_regions.tsv": ["region", "channels", "source"],
    "pain_modulation_rois.tsv": [
        "label",
        "x",
        "y",
        "z",
        "radius_mm",
        "hemisphere",
        "set",
        "source",
    ],
}


def atlas_path(name):
    """Return the path of a bundled atlas table.

    Parameters
    ----------
    name : str
        File name, e.g. ``"pain_modulation_rois.tsv"``.

    Returns
    -------
    path : pathlib.Path
        Location of the table inside the installed package.
    """
    path = files(__name__) / name
    if not path.is_file():
        available = sorted(
            p.name for p in files(__name__).iterdir() if p.name.endswith(".tsv")
        )
        raise FileNotFoundError(f"No atlas table {name!r}; available: {available}")
    return path


def read_table(path, required):
    """Read a cited TSV table and check it has the ``required`` columns.

    Parameters
    ----------
    path : path-like
        The table (bundled or user-supplied).
    required : list of str
        Columns that must be present.

    Returns
    -------
    table : pandas.DataFrame
        The table, with empty notes as empty strings.
    """
    table = pd.read_csv(
        path, sep="\t", dtype={"note": str}, keep_default_na=False, na_values=[""]
    )
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise DataFileError(
            path, f"missing column(s) {missing}; expected at least {required}"
        )
    if "source" in table.columns and table["source"].isna().any():
        rows = table.index[table["source"].isna()].tolist()
        raise DataFileError(path, f"rows {rows} do not cite a source")
    return table


def _read_bundled(name):
    return read_table(atlas_path(name), _REQUIRED[name])


def read_frequency_bands():
    """Return the default EEG frequency bands.

    Returns
    -------
    bands : pandas.DataFrame
        One row per band with ``band``, ``fmin`` and ``fmax`` in Hz and the
        ``source`` of the definition.
    """
    return _read_bundled("frequency_bands.tsv")


def read_eeg_regions():
    """Return the scalp electrode clusters used for regional EEG markers.

    Returns
    -------
    regions : dict of str to list of str
        Region name to its 10-20 channel names.
    """
    table = _read_bundled("eeg_regions.tsv")
    return {
        row.region: [ch.strip() for ch in row.channels.split(",")]
        for row in table.itertuples()
    }


def read_roi_registry():
    """Return the default PAG-ACC-PFC regions of interest.

    Returns
    -------
    rois : pandas.DataFrame
        One row per ROI: ``label``, centre ``x``, ``y``, ``z`` (mm,
        MNI152NLin2009cAsym), ``radius_mm``, ``hemisphere``, ``structure``,
        ``set`` (``core`` PAG-ACC-PFC circuit or ``companion``), ``source``
        and ``note``.
    """
    return _read_bundled("pain_modulation_rois.tsv")
