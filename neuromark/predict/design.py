"""Design matrices for response prediction from the wide feature table."""

import pandas as pd

from ..exceptions import NeuromarkError
from ..features import MODALITIES, column_modality, split_column
from ..utils._check import check_option
from .validation import DesignError

FEATURE_SETS = ("baseline", "change", "both")
SUFFIXES = {"baseline": ("pre",), "change": ("change",), "both": ("pre", "change")}
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
    modalities = MODALITIES if modality == "combined" else (modality,)
    columns = []
    for column in wide.columns:
        parsed = split_column(column)
        if parsed is None or column_modality(column) not in modalities:
            continue
        stem, suffix = parsed
        if suffix in SUFFIXES[feature_set] and (family is None or stem in family):
            columns.append(column)
    return columns


def _numeric(values, column):
    """Read a participants.tsv column as numbers (sex: 1 = female; site: codes)."""
    if column == "sex":
        return values.astype(str).str.upper().str[0].map({"F": 1.0, "M": 0.0})
    if column == "site":
        codes = {site: float(k) for k, site in enumerate(sorted(set(values.dropna())))}
        return values.map(codes)
    return pd.to_numeric(values, errors="coerce")


def clinical_matrix(participants):
    """Clinical covariates: baseline pain, age, sex (1 = female) when present.

    Parameters
    ----------
    participants : pandas.DataFrame
        ``participant_id`` and the clinical columns present.
    """
    table = pd.DataFrame(index=participants["participant_id"])
    for column in CLINICAL:
        if column in participants:
            values = participants.set_index("participant_id")[column]
            table[column] = _numeric(values, column)
    return table


def _indicators(values, prefix, reference):
    levels = sorted(set(values.dropna().astype(str)) - {reference})
    return {
        f"{prefix}[{level}]": (values.astype(str) == level).astype(float)
        for level in levels
    }


def covariate_matrix(participants, *, control_arms=()):
    """Arm and site indicators of a scope: what a pooled model must adjust for.

    Parameters
    ----------
    participants : pandas.DataFrame
        The scope's participants (``intervention``; ``site`` optional).
    control_arms : sequence of str
        Arms that are the reference level when present (e.g. ``sham``);
        otherwise the first arm alphabetically is.

    Returns
    -------
    table : pandas.DataFrame
        Indexed by ``participant_id``: ``arm[<arm>]`` for every arm but the
        reference when the scope has more than one arm, ``site[<site>]`` for
        every site but the first when it has more than one site. ``attrs
        ["kinds"]`` lists ``"arm"`` and/or ``"site"``.
    """
    indexed = participants.set_index("participant_id")
    columns, kinds = {}, []
    arms = indexed["intervention"].astype(str)
    if arms.nunique() > 1:
        controls = [arm for arm in sorted(arms.unique()) if arm in control_arms]
        reference = controls[0] if controls else sorted(arms.unique())[0]
        columns |= _indicators(arms, "arm", reference)
        kinds.append("arm")
    if "site" in indexed and indexed["site"].dropna().nunique() > 1:
        sites = indexed["site"]
        columns |= _indicators(
            sites, "site", sorted(set(sites.dropna().astype(str)))[0]
        )
        kinds.append("site")
    table = pd.DataFrame(columns, index=indexed.index)
    table.attrs["kinds"] = kinds
    return table


def nuisance_matrix(participants, columns):
    """Site codes and confounds of every participant, for in-fold removal.

    Parameters
    ----------
    participants : pandas.DataFrame
        The participants table (all participants, so that site codes do not
        depend on who is labelled).
    columns : sequence of str
        ``site`` and/or confound columns (``sex`` is coded 1 = female).

    Returns
    -------
    table : pandas.DataFrame
        Indexed by ``participant_id``.
    """
    missing = [c for c in columns if c not in participants]
    if missing:
        raise NeuromarkError(
            f"participants.tsv has no column {missing} needed by "
            "predict.harmonize_site/predict.confounds"
        )
    indexed = participants.set_index("participant_id")
    table = pd.DataFrame(
        {column: _numeric(indexed[column], column) for column in columns},
        index=indexed.index,
    )
    if "site" in table:
        sites = indexed["site"].dropna()
        codes = table.loc[sites.index, "site"]
        table.attrs["site_codes"] = dict(zip(sites.astype(str), codes))
    incomplete = table[table.isna().any(axis=1)]
    if len(incomplete):
        raise NeuromarkError(
            f"{list(columns)} must be known for every participant to be "
            f"regressed out; missing or not numeric for {list(incomplete.index)}"
        )
    return table


def build_design(
    wide, participants, columns, *, clinical=False, covariates=None, nuisance=None
):
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
    covariates : pandas.DataFrame | None
        Arm and site indicators (:func:`covariate_matrix`) appended after the
        features and clinical covariates; harmonisation leaves them alone.
    nuisance : pandas.DataFrame | None
        Site codes and confounds (:func:`nuisance_matrix`) appended last, for
        the in-fold :class:`~neuromark.predict.harmonize.Deconfounder`.

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
    if covariates is not None:
        table = table.join(covariates)
    if table.shape[1] == 0:
        raise DesignError(
            "no feature to predict from (no column of this modality "
            "and feature set has a value)"
        )
    if nuisance is not None:
        clashing = {c: f"{c}_nuisance" for c in nuisance.columns if c in table}
        table = table.join(nuisance.rename(columns=clashing))
    y = labelled["responder"].astype(bool).to_numpy(dtype=int)
    return table.to_numpy(float), y, table.index.to_numpy(), list(table.columns)
