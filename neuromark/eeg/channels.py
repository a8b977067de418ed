"""EEG channel names and types as labs write them.

Files name the same electrode ``Fp1``, ``FP1``, ``EEG Fp1-REF`` or
``Fp1-A1``; some carry eye, heart or muscle channels typed as EEG. Before a
montage is applied, names are mapped onto the montage's own spelling and
non-EEG channels get their type; every change is returned for the QC table.
"""

import re

from ..exceptions import DataFileError
from ..utils._logging import logger

# "EEG Fp1-REF", "EEG:Cz", "Pz-LE", "O1_Avg": a prefix and a reference suffix
_DECORATED = re.compile(
    r"^(?:EEG[\s_:\-]*)?(?P<name>.+?)"
    r"(?:[\s_\-](?:REF|LE|RE|AVG|CAR|A1|A2|M1|M2|A1A2|M1M2|LM|RM))?$",
    re.IGNORECASE,
)
# channel names that are not scalp EEG whatever the file says
_NON_EEG = {
    "eog": re.compile(r"^(?:[VH]?EOG|EOG[LRVH]?\d*|[LR]?[VH]EOG\d*)$", re.IGNORECASE),
    "ecg": re.compile(r"^(?:ECG|EKG)\d*$", re.IGNORECASE),
    "emg": re.compile(r"^EMG\d*$", re.IGNORECASE),
}


def bare_name(name):
    """Channel name without an ``EEG`` prefix or a reference suffix.

    Parameters
    ----------
    name : str
        Name as stored in the file.

    Returns
    -------
    bare : str
        E.g. ``"Fp1"`` for ``"EEG Fp1-REF"``.
    """
    return _DECORATED.fullmatch(name.strip())["name"]


def standardize_channels(raw, montage_names, *, rename=None, source=None):
    """Rename EEG channels to the montage's spelling and type non-EEG channels.

    Operates in place on ``raw``: the user's renames first, then each EEG
    channel whose bare name (:func:`bare_name`) matches a montage channel
    case-insensitively takes the montage's spelling; EEG-typed channels named
    like EOG/ECG/EMG get that type; remaining EEG channels the montage lacks
    become ``misc`` (left out of the markers) unless the file carries
    electrode positions.

    Parameters
    ----------
    raw : mne.io.BaseRaw
        The recording.
    montage_names : sequence of str
        Channel names of the montage.
    rename : dict of str to str | None
        Explicit renames (``eeg.preprocessing.rename_channels``).
    source : path-like | None
        File named in messages.

    Returns
    -------
    changes : dict
        ``renamed`` (old: new), ``retyped`` (name: type) and
        ``not_in_montage`` (names set to ``misc``).

    Raises
    ------
    DataFileError
        If a rename names a channel the file lacks, or two channels map to
        the same montage name.
    """
    name = getattr(source, "name", source) or "recording"
    rename = dict(rename or {})
    absent = sorted(set(rename) - set(raw.ch_names))
    if absent:
        raise DataFileError(
            source or "<recording>",
            f"rename_channels names channel(s) {absent} that the file does not "
            f"have (channels: {raw.ch_names[:8]}...)",
        )
    canonical = {ch.upper(): ch for ch in montage_names}
    types = dict(zip(raw.ch_names, raw.get_channel_types()))
    mapping = dict(rename)
    for ch in raw.ch_names:
        if ch in rename or types[ch] != "eeg":
            continue
        bare = bare_name(ch)
        target = canonical.get(bare.upper(), bare)
        if target != ch:
            mapping[ch] = target
    targets = [mapping.get(ch, ch) for ch in raw.ch_names]
    clashes = sorted({t for t in targets if targets.count(t) > 1})
    if clashes:
        raise DataFileError(
            source or "<recording>",
            f"several channels map to {clashes}; set eeg.preprocessing."
            "rename_channels to say which is which",
        )
    if mapping:
        raw.rename_channels(mapping)
        logger.info("%s: renamed %d channel(s): %s", name, len(mapping), mapping)
    retyped = {}
    for ch, kind in zip(raw.ch_names, raw.get_channel_types()):
        if kind != "eeg":
            continue
        for new_type, pattern in _NON_EEG.items():
            if pattern.fullmatch(ch):
                retyped[ch] = new_type
    not_in_montage = []
    if not _has_positions(raw):
        not_in_montage = [
            ch
            for ch, kind in zip(raw.ch_names, raw.get_channel_types())
            if kind == "eeg" and ch not in retyped and ch.upper() not in canonical
        ]
        retyped |= dict.fromkeys(not_in_montage, "misc")
    if retyped:
        raw.set_channel_types(retyped, on_unit_change="ignore", verbose="error")
        logger.info("%s: channel types set: %s", name, retyped)
    if not_in_montage:
        logger.warning(
            "%s: channel(s) %s are not in the montage and have no position; left "
            "out of the EEG markers (rename them with eeg.preprocessing."
            "rename_channels if they are scalp electrodes)",
            name,
            not_in_montage,
        )
    return {
        "renamed": mapping,
        "retyped": {ch: t for ch, t in retyped.items() if ch not in not_in_montage},
        "not_in_montage": not_in_montage,
    }


def _has_positions(raw):
    import numpy as np

    eeg = [ch for ch in raw.info["chs"] if ch["kind"] == 2]  # FIFFV_EEG_CH
    positions = np.array([ch["loc"][:3] for ch in eeg]) if eeg else np.zeros((0, 3))
    return (
        bool(len(positions))
        and np.isfinite(positions).all()
        and (np.any(positions != 0))
    )
