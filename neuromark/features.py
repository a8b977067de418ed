"""The tidy feature tables of the output contract.

``features_long.tsv``: one row per participant x session x modality x feature
x location (``participant_id, session, modality, feature, location, value,
unit``). ``features_wide.tsv``: one row per participant with
``<modality>_<feature>_<location>_<pre|post|change>`` columns, change being
post - pre.
"""

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
    stem, _, suffix = name.rpartition("_")
    if suffix not in SUFFIXES or not stem.startswith("fmri_"):
        return None
    rest = stem[len("fmri_") :]
    for feature in sorted(FMRI_FEATURES, key=len, reverse=True):
        if rest.startswith(f"{feature}_"):
            edge = rest[len(feature) + 1 :].split("~")
            return (feature, tuple(edge), suffix) if len(edge) == 2 else None
    return None


def sort_long(long):
    """Sort a long table in a stable, documented order (rows and columns)."""
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
    pre, post = sessions
    long = long[long["session"].isin(sessions)]
    if long.duplicated(
        ["participant_id", "session", "modality", "feature", "location"]
    ).any():
        raise ValueError("long feature table has duplicated rows")
    names = column_name(long["modality"], long["feature"], long["location"])
    table = long.assign(name=names).pivot_table(
        index="participant_id",
        columns=["name", "session"],
        values="value",
        aggfunc="first",
        dropna=False,
    )
    ids = (
        participants
        if participants is not None
        else sorted(long["participant_id"].unique())
    )
    columns = {}
    for name in sorted(names.unique()):
        before = table.get((name, pre), pd.Series(dtype=float)).reindex(ids)
        after = table.get((name, post), pd.Series(dtype=float)).reindex(ids)
        columns[f"{name}_pre"] = before.to_numpy()
        columns[f"{name}_post"] = after.to_numpy()
        columns[f"{name}_change"] = (after - before).to_numpy()
    wide = pd.DataFrame(columns, index=pd.Index(ids, name="participant_id"))
    return wide.reset_index()
