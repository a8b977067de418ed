"""The feature vocabulary: the one place that names, parses, pairs and groups features.

``features_long.tsv``: one row per participant x session x modality x feature
x location (``participant_id, session, modality, feature, location, value,
unit``). ``features_wide.tsv``: one row per participant with
``<modality>_<feature>_<location>_<pre|post|change>`` columns, change being
post - pre. Connectivity locations are undirected edges ``A~B`` (labels
sorted), asymmetry locations channel pairs ``R-L``. Every other module builds
and reads these names through the functions here.
"""

import numpy as np
import pandas as pd

LONG_COLUMNS = [
    "participant_id",
    "session",
    "modality",
    "feature",
    "location",
    "value",
    "unit",
]


MODALITIES = ("eeg", "fmri")
# the columns of the long table that name a marker
MARKER_KEYS = ["modality", "feature", "location"]
EDGE_SEPARATOR = "~"

# fMRI features (values of neuromark.fmri.connectivity.FEATURE; a test keeps
# them equal) and the suffixes of the wide table's columns
FMRI_FEATURES = ("fc", "fc_partial")
SUFFIXES = ("pre", "post", "change")

# The markers a pain study pre-specifies by default (stems of the wide table):
# posterior alpha and central beta log-power, peak alpha frequency and the
# PAG-pgACC coupling of the descending pain-modulation circuit. They are the
# confirmatory family of the treatment statistics and the features of the
# primary prediction.
PRESPECIFIED_MARKERS = (
    "eeg_alpha_logpower_occipital",
    "eeg_beta_logpower_central",
    "eeg_paf_occipital",
    "fmri_fc_PAG~pgACC",
)


def column_name(modality, feature, location, suffix=None):
    """Wide-table column (or stem, without ``suffix``) of a marker.

    Parameters
    ----------
    modality, feature, location : str | pandas.Series of str
        As in the long table (``"fmri"``, ``"fc"``, ``"PAG~pgACC"``); Series
        give a Series of names.
    suffix : "pre" | "post" | "change" | None
        Session part; ``None`` gives the stem ``<modality>_<feature>_<location>``.

    Returns
    -------
    name : str | pandas.Series of str
    """
    stem = modality + "_" + feature + "_" + location
    return stem if suffix is None else stem + "_" + suffix


def qc_column(modality, field, suffix):
    """Wide-table column of a per-session QC value (``qc_fmri_mean_fd_pre``).

    The ``qc_`` prefix keeps QC out of the markers (:func:`split_column`
    returns ``None`` for it); statistics may still adjust for it.

    Parameters
    ----------
    modality : str
        ``"eeg"`` or ``"fmri"``.
    field : str
        QC field (``mean_fd``, ``n_epochs``...).
    suffix : str
        ``"pre"`` or ``"post"``.
    """
    return f"qc_{modality}_{field}_{suffix}"


def edge_name(a, b):
    """Name of an undirected edge, ``"A~B"`` with the labels sorted.

    Parameters
    ----------
    a, b : str
        The two labels (ROIs or EEG regions), in any order.
    """
    return EDGE_SEPARATOR.join(sorted((a, b)))


def edge_rois(location):
    """Split an edge location into its two labels (``None`` if not an edge).

    Parameters
    ----------
    location : str
        A ``location`` of the long table.
    """
    parts = location.split(EDGE_SEPARATOR)
    return tuple(parts) if len(parts) == 2 else None


def split_column(name):
    """Split a wide-table feature column into its stem and session suffix.

    Parameters
    ----------
    name : str
        E.g. ``"eeg_alpha_logpower_occipital_pre"``.

    Returns
    -------
    parsed : (str, str) | None
        ``(stem, suffix)`` (``"eeg_alpha_logpower_occipital"``, ``"pre"``),
        or ``None`` for a column that is not a feature (``participant_id``,
        ``qc_eeg_n_epochs_pre``).
    """
    stem, _, suffix = name.rpartition("_")
    if suffix not in SUFFIXES or column_modality(stem) is None:
        return None
    return stem, suffix


def column_modality(name):
    """Modality of a wide-table feature column or stem (``None`` for others).

    Parameters
    ----------
    name : str
        A wide-table column or stem.
    """
    modality = name.partition("_")[0]
    return modality if modality in MODALITIES else None


def parse_fmri_column(name):
    """Split an fMRI wide-table column into feature, edge and suffix.

    Feature names contain underscores (``fc_partial``) and so do ROI labels
    (``DLPFC_L``), so a column is matched against the closed vocabulary of
    fMRI features, longest first, never split on a prefix.

    Parameters
    ----------
    name : str
        E.g. ``"fmri_fc_partial_DLPFC_L~dACC_pre"``.

    Returns
    -------
    parsed : (str, (str, str), str) | None
        ``(feature, (roi_a, roi_b), suffix)``, or ``None`` for any other column.
    """
    parsed = split_column(name)
    if parsed is None or column_modality(parsed[0]) != "fmri":
        return None
    stem, suffix = parsed
    rest = stem[len("fmri_") :]
    for feature in sorted(FMRI_FEATURES, key=len, reverse=True):
        if rest.startswith(f"{feature}_"):
            edge = edge_rois(rest[len(feature) + 1 :])
            return (feature, edge, suffix) if edge is not None else None
    return None


def feature_family(long, family="regions"):
    """Rows of the long table in the tested family.

    Parameters
    ----------
    long : pandas.DataFrame
        Long feature table.
    family : "regions" | "all"
        ``"regions"`` keeps EEG regions, asymmetry pairs and connectivity
        edges (locations that are not single channels) and every fMRI edge;
        ``"all"`` keeps everything.

    Returns
    -------
    long : pandas.DataFrame
        The rows of the family.
    """
    if family == "all":
        return long
    from .atlases import read_eeg_regions

    regional = long["location"].isin(list(read_eeg_regions()))
    pairs = long["location"].str.contains(EDGE_SEPARATOR) | long[
        "location"
    ].str.contains("-")
    return long[(long["modality"] != "eeg") | regional | pairs]


def paired_values(long, *, sessions=("pre", "post"), by=MARKER_KEYS):
    """Pre and post values side by side, one row per marker and participant.

    Parameters
    ----------
    long : pandas.DataFrame
        Long feature table (rows of other sessions are ignored).
    sessions : (str, str)
        Labels of the pre and post sessions.
    by : sequence of str
        Columns naming a marker.

    Returns
    -------
    pairs : pandas.DataFrame
        Index ``(*by, participant_id)``; columns ``pre`` and ``post`` (NaN
        where a session is missing); markers and participants without any
        value are left out.
    """
    table = long[long["session"].isin(sessions)].pivot_table(
        index=[*by, "participant_id"],
        columns="session",
        values="value",
        aggfunc="first",
    )
    return table.reindex(columns=list(sessions)).rename(
        columns=dict(zip(sessions, ("pre", "post")))
    )


def sort_long(long):
    """Sort a long table in a stable, documented order (rows and columns).

    Parameters
    ----------
    long : pandas.DataFrame
        Long feature table with at least :data:`LONG_COLUMNS`.
    """
    missing = [c for c in LONG_COLUMNS if c not in long.columns]
    if missing:
        raise ValueError(f"long feature table lacks columns {missing}")
    keys = ["participant_id", "session", "modality", "feature", "location"]
    return long[LONG_COLUMNS].sort_values(keys, kind="stable").reset_index(drop=True)


def to_wide(long, *, sessions=("pre", "post"), participants=None):
    """Pivot the long table to one row per participant: pre, post and change.

    Parameters
    ----------
    long : pandas.DataFrame
        Long feature table (:data:`LONG_COLUMNS`).
    sessions : (str, str)
        Labels of the pre and post sessions; columns are suffixed ``_pre``
        and ``_post`` whatever the labels.
    participants : list of str | None
        Row order (and rows to include even without features).

    Returns
    -------
    wide : pandas.DataFrame
        ``participant_id`` then, per modality, feature and location,
        ``<modality>_<feature>_<location>_pre``, ``..._post`` and ``..._change``
        (post - pre; NaN when either is missing).
    """
    long = long[long["session"].isin(sessions)]
    if long.duplicated(
        ["participant_id", "session", "modality", "feature", "location"]
    ).any():
        raise ValueError("long feature table has duplicated rows")
    names = column_name(long["modality"], long["feature"], long["location"])
    pairs = paired_values(long.assign(name=names), sessions=sessions, by=["name"])
    by_name = dict(iter(pairs.groupby(level="name", sort=False)))
    ids = (
        participants
        if participants is not None
        else sorted(long["participant_id"].unique())
    )
    missing = pd.DataFrame({"pre": np.nan, "post": np.nan}, index=ids)
    columns = {}
    for name in sorted(names.unique()):
        pair = by_name.get(name)
        pair = missing if pair is None else pair.droplevel("name").reindex(ids)
        columns[f"{name}_pre"] = pair["pre"].to_numpy()
        columns[f"{name}_post"] = pair["post"].to_numpy()
        columns[f"{name}_change"] = (pair["post"] - pair["pre"]).to_numpy()
    wide = pd.DataFrame(columns, index=pd.Index(ids, name="participant_id"))
    return wide.reset_index()
