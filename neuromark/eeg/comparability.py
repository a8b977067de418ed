"""Whether a participant's pre and post EEG recordings were made alike.

A change between sessions recorded at another sampling rate, with another
channel set or reference, or with much less clean data, may be the recording
rather than the treatment. These differences are not errors: they are
logged as warnings and written to ``eeg_qc.tsv`` (``prepost_differences``)
so that a reader can exclude or adjust for them. A different eyes condition
is more than a difference (alpha power differs several-fold between eyes
open and closed): such a pair is refused unless ``eeg.allow_mixed_eyes``.
"""

import re
from pathlib import Path

from ..utils._logging import logger

_CLOSED = re.compile(r"(eyes?closed|closed|^ec$|eyesc$)")
_OPEN = re.compile(r"(eyes?open|open|^eo$|eyeso$)")


def eyes_condition(path, declared="auto"):
    """Eyes condition of a resting recording, and where it came from.

    Parameters
    ----------
    path : path-like
        The BIDS file (its ``acq`` and ``task`` entities are read).
    declared : "auto" | "closed" | "open"
        The configured condition, used when the name does not say.

    Returns
    -------
    eyes : "closed" | "open" | "unknown"
    source : str
        ``"acq"``, ``"task"``, ``"config"`` or ``""``.
    """
    entities = dict(
        part.split("-", 1) for part in Path(path).name.split("_") if "-" in part
    )
    for entity in ("acq", "task"):
        label = entities.get(entity, "").lower()
        if _CLOSED.search(label):
            return "closed", entity
        if _OPEN.search(label):
            return "open", entity
    if declared != "auto":
        return declared, "config"
    return "unknown", ""


def _listed(names, limit=5):
    names = sorted(names)
    more = f", +{len(names) - limit}" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def describe_differences(pre, post, *, max_duration_difference=0.5):
    """Describe how two recordings of one participant differ.

    Parameters
    ----------
    pre, post : dict
        QC of each recording (:func:`~neuromark.eeg.preprocessing.preprocess`
        fields ``recorded_sfreq``, ``channels``, ``clean_seconds``, and
        ``recorded_reference`` from the BIDS sidecar).
    max_duration_difference : float
        Largest tolerated difference of clean duration, as a fraction of the
        longer one.

    Returns
    -------
    differences : list of str
        One sentence per difference; empty when they are comparable.
    """
    out = []
    if pre.get("recorded_sfreq") != post.get("recorded_sfreq"):
        out.append(
            f"sampling rate {pre.get('recorded_sfreq'):g} vs "
            f"{post.get('recorded_sfreq'):g} Hz"
        )
    only_pre = set(pre.get("channels", ())) - set(post.get("channels", ()))
    only_post = set(post.get("channels", ())) - set(pre.get("channels", ()))
    if only_pre or only_post:
        sides = [
            f"{len(names)} only in {label} ({_listed(names)})"
            for label, names in (("pre", only_pre), ("post", only_post))
            if names
        ]
        out.append("channels: " + "; ".join(sides))
    references = pre.get("recorded_reference"), post.get("recorded_reference")
    if references[0] != references[1]:
        out.append(f"reference {references[0]} vs {references[1]}")
    eyes = pre.get("eyes", "unknown"), post.get("eyes", "unknown")
    if "unknown" not in eyes and eyes[0] != eyes[1]:
        out.append(f"eyes {eyes[0]} vs {eyes[1]}")
    durations = pre.get("clean_seconds", 0.0), post.get("clean_seconds", 0.0)
    longer = max(durations)
    if longer > 0 and (longer - min(durations)) / longer > max_duration_difference:
        out.append(
            f"clean duration {durations[0]:g} vs {durations[1]:g} s (differs by "
            f"more than {max_duration_difference:.0%} of the longer)"
        )
    return out


def mixed_eyes(qcs, sessions):
    """Participants whose pre and post recordings differ in eyes condition.

    Parameters
    ----------
    qcs : list of dict
        QC of every recording, with ``participant_id``, ``session``, ``eyes``.
    sessions : (str, str)
        Pre and post labels.

    Returns
    -------
    refused : dict of str to str
        Participant to the reason its pair is refused.
    """
    eyes = {(qc["participant_id"], qc["session"]): qc.get("eyes") for qc in qcs}
    refused = {}
    for participant in dict.fromkeys(qc["participant_id"] for qc in qcs):
        pre, post = (eyes.get((participant, s), "unknown") for s in sessions)
        if "unknown" not in (pre, post) and None not in (pre, post) and pre != post:
            refused[participant] = (
                f"{sessions[0]} EEG recorded with eyes {pre}, {sessions[1]} with "
                f"eyes {post}: not paired (set eeg.allow_mixed_eyes: true to pair "
                "them)"
            )
    return refused


def compare_sessions(qcs, sessions, *, max_duration_difference=0.5):
    """Add ``prepost_differences`` to the QC of every EEG recording.

    Parameters
    ----------
    qcs : list of dict
        QC of every recording, with ``participant_id`` and ``session``.
    sessions : (str, str)
        Pre and post labels.
    max_duration_difference : float
        See :func:`describe_differences`.

    Returns
    -------
    qcs : list of dict
        Copies with ``prepost_differences`` (``"; "``-joined, ``""`` when
        comparable or when the participant lacks a session). Every
        participant with differences gets one warning in the log.
    """
    by_key = {(qc["participant_id"], qc["session"]): qc for qc in qcs}
    found = {}
    for participant in dict.fromkeys(qc["participant_id"] for qc in qcs):
        pair = [by_key.get((participant, session)) for session in sessions]
        if None in pair:
            continue
        differences = describe_differences(
            *pair, max_duration_difference=max_duration_difference
        )
        if differences:
            found[participant] = "; ".join(differences)
            logger.warning(
                "%s: pre and post EEG recorded differently: %s",
                participant,
                found[participant],
            )
    return [
        qc | {"prepost_differences": found.get(qc["participant_id"], "")} for qc in qcs
    ]
