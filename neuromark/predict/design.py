"""Design matrices for response prediction from the wide feature table."""

import pandas as pd

from ..exceptions import NeuromarkError
from ..utils._check import check_option

FEATURE_SETS = ("baseline", "change", "both")
SUFFIXES = {"baseline": ("_pre",), "change": ("_change",), "both": ("_pre", "_change")}
CLINICAL = ("pain_pre", "age", "sex")


def feature_columns(wide, modality, feature_set, *, family=None):
    """Columns of the wide table for a modality and feature set.

    Parameters
    ----------
    wide : pandas.DataFrame
        Wide feature table.
    modality : "eeg" | "fmri" | "combined"
        Which modality's columns.
    feature_set : "baseline" | "change" | "both"
        Pre-treatment values (prognostic), post - pre changes, or both.
    family : set of str | None
        Keep only columns whose ``<modality>_<feature>_<location>`` stem is
        in this set (e.g. the regional family of the statistics).

    Returns
    -------
    columns : list of str
    """
    check_option("feature_set", feature_set, FEATURE_SETS)
    check_option("modality", modality, ("eeg", "fmri", "combined"))
    prefixes = ("eeg_", "fmri_") if modality == "combined" else (f"{modality}_",)
    columns = []
    for column in wide.columns:
        if not column.startswith(prefixes):
            continue
        for suffix in SUFFIXES[feature_set]:
            if column.endswith(suffix) and (
                family is None or column[: -len(suffix)] in family
            ):
                columns.append(column)
    return columns


def clinical_matrix(participants):
    """Clinical covariates: baseline pain, age, sex (1 = female) when present."""
    table = pd.DataFrame(index=participants["participant_id"])
    for column in CLINICAL:
        if column not in participants:
            continue
        values = participants.set_index("participant_id")[column]
        if column == "sex":
            values = values.astype(str).str.upper().str[0].map({"F": 1.0, "M": 0.0})
        table[column] = pd.to_numeric(values, errors="coerce")
    return table


def build_design(wide, participants, columns, *, clinical=False):
    """Labelled design matrix.

    Parameters
    ----------
    wide : pandas.DataFrame
        Wide feature table (``participant_id`` column).
    participants : pandas.DataFrame
        ``participant_id``, ``responder`` (nullable boolean) and clinical columns.
    columns : list of str
        Feature columns (may be empty when ``clinical``).
    clinical : bool
        Append the clinical covariates.

    Returns
    -------
    X : ndarray, shape (n_labelled, n_features)
    y : ndarray of int
        1 for responders.
    ids : ndarray of str
        Participant of each row (the CV groups).
    names : list of str
        Feature names.
    """
    labelled = participants[participants["responder"].notna()]
    table = wide.set_index("participant_id").reindex(labelled["participant_id"])[
        columns
    ]
    table = table.loc[:, table.notna().any()]  # a column nobody has carries nothing
    if clinical:
        table = table.join(clinical_matrix(labelled))
    if table.shape[1] == 0:
        raise NeuromarkError(
            "no feature to predict from (no column of this modality "
            "and feature set has a value)"
        )
    y = labelled["responder"].astype(bool).to_numpy(dtype=int)
    return table.to_numpy(float), y, table.index.to_numpy(), list(table.columns)
