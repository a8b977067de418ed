"""Read and validate ``participants.tsv`` and derive the responder label."""

import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..exceptions import BIDSError, DataFileError
from ..utils._docs import fill_doc
from ..utils._logging import logger, verbose

REQUIRED_COLUMNS = ("participant_id", "intervention", "pain_pre", "pain_post")
PAIN_SCALE = (0.0, 10.0)
_TRUE = {"1", "1.0", "true", "yes", "y", "responder"}
_FALSE = {"0", "0.0", "false", "no", "n", "non-responder", "nonresponder"}
# BIDS labels are alphanumeric; the length cap keeps every derived file name
# (``sub-<label>_ses-<label>_task-rest_..._bold.nii.gz``) under 255 bytes
MAX_LABEL_LENGTH = 64
_PARTICIPANT_ID = re.compile(rf"sub-[A-Za-z0-9]{{1,{MAX_LABEL_LENGTH}}}")


def is_participant_id(value):
    """Whether ``value`` is a valid ``sub-<label>`` (alphanumeric label).

    Parameters
    ----------
    value : object
        Candidate participant ID.

    Returns
    -------
    valid : bool
        True for ``sub-`` followed by 1 to 64 ASCII letters or digits (the
        BIDS label rule). Participant IDs become file and folder names, so
        anything else (``/``, ``..``, spaces, markup) is refused.
    """
    return isinstance(value, str) and _PARTICIPANT_ID.fullmatch(value) is not None


def check_participant_id(value, *, source="participant"):
    """Return ``sub-<label>`` for a label given with or without ``sub-``.

    Parameters
    ----------
    value : str
        ``sub-07`` or ``07``.
    source : str
        Where the value came from, for the error message.

    Returns
    -------
    participant_id : str
        The ID with its ``sub-`` prefix.

    Raises
    ------
    BIDSError
        If the label is not 1 to 64 ASCII letters or digits.
    """
    value = str(value).strip()
    participant_id = value if value.startswith("sub-") else f"sub-{value}"
    if not is_participant_id(participant_id):
        raise BIDSError(
            f"Invalid {source} {_shorten(value)!r}: a BIDS participant label is "
            f"1 to {MAX_LABEL_LENGTH} letters or digits (e.g. sub-07)."
        )
    return participant_id


def _shorten(text, width=40):
    return text if len(text) <= width else text[: width - 1] + "…"


def pain_reduction(pain_pre, pain_post):
    """Fractional pain reduction ``(pre - post) / pre``.

    Parameters
    ----------
    pain_pre, pain_post : array-like of float
        Pain ratings on the 0-10 numeric rating scale.

    Returns
    -------
    reduction : ndarray of float
        ``(pre - post) / pre``; NaN where either rating is missing or
        ``pain_pre`` is 0 (no pain to reduce).
    """
    pre = np.asarray(pain_pre, dtype=float)
    post = np.asarray(pain_post, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        reduction = (pre - post) / pre
    reduction[~np.isfinite(reduction)] = np.nan
    return reduction


@fill_doc
def label_responders(pain_pre, pain_post, *, threshold=0.30):
    """Label responders by the fractional pain reduction.

    Parameters
    ----------
    pain_pre, pain_post : array-like of float
        Pain ratings on the 0-10 numeric rating scale.
    threshold : float
        Minimal fractional reduction of a responder (default 0.30, the IMMPACT
        "moderately important" change; Dworkin et al. 2008, J Pain 9:105-121).

    Returns
    -------
    responder : pandas.Series of boolean (nullable)
        True for a responder, False for a non-responder, ``<NA>`` when the
        reduction is undefined.
    """
    if not 0.0 < threshold < 1.0:
        raise ValueError(
            f"responder threshold must be a fraction in (0, 1), got {threshold!r}"
        )
    reduction = pain_reduction(pain_pre, pain_post)
    # a tiny tolerance keeps 7 -> 4.9 (exactly 30 %) a responder despite rounding
    labels = pd.array(reduction >= threshold - 1e-9, dtype="boolean")
    labels[np.isnan(reduction)] = pd.NA
    return pd.Series(labels)


def _parse_responder_column(values, path):
    parsed = []
    bad = []
    for pid, value in values.items():
        text = str(value).strip().lower()
        if (
            value is None
            or (isinstance(value, float) and np.isnan(value))
            or text
            in {
                "",
                "n/a",
                "nan",
            }
        ):
            parsed.append(pd.NA)
        elif text in _TRUE:
            parsed.append(True)
        elif text in _FALSE:
            parsed.append(False)
        else:
            parsed.append(pd.NA)
            bad.append(f"{pid}={value!r}")
    if bad:
        raise DataFileError(
            path,
            "column 'responder' must hold 1/0, true/false, yes/no or "
            f"responder/non-responder; got {', '.join(bad)}",
        )
    return pd.array(parsed, dtype="boolean")


@verbose
@fill_doc
def read_participants(path, *, responder_threshold=0.30, verbose=None):
    """Read ``participants.tsv``, validate it and label responders.

    Parameters
    ----------
    path : path-like
        The ``participants.tsv`` file, or the BIDS root that holds it.
    %(responder_threshold)s
    %(verbose)s

    Returns
    -------
    participants : pandas.DataFrame
        One row per participant, in file order, with the file's columns plus
        ``pain_reduction`` (fraction), ``responder`` (nullable boolean) and
        ``responder_source`` (``"pain"``, ``"column"`` or ``"unknown"``).
        An explicit ``responder`` column overrides the pain rule.

    Raises
    ------
    BIDSError
        If the file does not exist.
    DataFileError
        If a required column is missing, participant IDs are malformed or
        duplicated, interventions are missing, or pain ratings are not numbers
        on the 0-10 scale. Missing pain ratings are allowed (the participant
        is then unlabelled) and logged.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "participants.tsv"
    if not path.is_file():
        raise BIDSError(
            f"participants.tsv not found at {path}. A neuromark study needs a "
            "participants.tsv with columns " + ", ".join(REQUIRED_COLUMNS) + "."
        )
    try:
        table = pd.read_csv(
            path, sep="\t", dtype=str, keep_default_na=False, na_values=["n/a", ""]
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise DataFileError(
            path, f"not a readable tab-separated table ({err})"
        ) from None
    table.columns = [c.strip() for c in table.columns]
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        raise DataFileError(
            path,
            f"missing required column(s) {missing}; found {list(table.columns)}",
        )
    if table.empty:
        raise DataFileError(path, "lists no participants")

    ids = table["participant_id"].fillna("").str.strip()
    malformed = [
        _shorten(pid) or "<empty>" for pid in ids if not is_participant_id(pid)
    ]
    if malformed:
        raise DataFileError(
            path,
            "participant_id values must be 'sub-<label>' with a label of 1 to "
            f"{MAX_LABEL_LENGTH} letters or digits (the BIDS rule; IDs become file "
            f"names), got {malformed}",
        )
    duplicated = sorted(set(ids[ids.duplicated()]))
    if duplicated:
        raise DataFileError(path, f"duplicated participant_id {duplicated}")
    table["participant_id"] = ids

    no_intervention = table.loc[table["intervention"].isna(), "participant_id"].tolist()
    if no_intervention:
        raise DataFileError(path, f"no intervention given for {no_intervention}")
    table["intervention"] = table["intervention"].str.strip()

    for column in ("pain_pre", "pain_post"):
        numbers = pd.to_numeric(table[column], errors="coerce")
        not_numbers = table.loc[numbers.isna() & table[column].notna()]
        if not not_numbers.empty:
            listed = [
                f"{r.participant_id}={r[column]!r}" for _, r in not_numbers.iterrows()
            ]
            raise DataFileError(
                path, f"column {column!r} has non-numeric values {listed}"
            )
        low, high = PAIN_SCALE
        outside = table.loc[(numbers < low) | (numbers > high), "participant_id"]
        if not outside.empty:
            listed = [f"{pid}={numbers[i]:g}" for i, pid in outside.items()]
            raise DataFileError(
                path,
                f"column {column!r} must be on the 0-10 numeric rating scale; "
                f"out of range: {listed}",
            )
        table[column] = numbers

    table["pain_reduction"] = pain_reduction(table["pain_pre"], table["pain_post"])
    from_pain = label_responders(
        table["pain_pre"], table["pain_post"], threshold=responder_threshold
    ).to_numpy()
    source = np.where(pd.isna(from_pain), "unknown", "pain").astype(object)
    if "responder" in table.columns:
        explicit = _parse_responder_column(
            table.set_index("participant_id")["responder"], path
        )
        given = ~pd.isna(explicit)
        from_pain = pd.array(from_pain, dtype="boolean")
        from_pain[given] = explicit[given]
        source[np.asarray(given)] = "column"
    table["responder"] = pd.array(from_pain, dtype="boolean")
    table["responder_source"] = source

    unknown = table.loc[table["responder_source"] == "unknown", "participant_id"]
    for pid in unknown:
        logger.warning(
            "%s: %s: pain_pre/pain_post missing or pain_pre is 0; responder "
            "label unknown (kept for features, left out of prediction)",
            path.name,
            pid,
        )
    logger.info(
        "%s: %d participants, %d responders, %d non-responders, %d unlabelled",
        path.name,
        len(table),
        int((table["responder"] == True).sum()),  # noqa: E712 (nullable boolean)
        int((table["responder"] == False).sum()),  # noqa: E712
        len(unknown),
    )
    return table
