"""Input: BIDS discovery, participants table, header checks."""

from .bids import (
    CONFOUNDS_SUFFIXES,
    EEG_EXTENSIONS,
    Recording,
    Study,
    discover_study,
    find_bold,
    find_eeg,
    fmri_companions,
)
from .checks import (
    check_eeg,
    check_fmri,
    check_recording,
    read_confounds,
    read_eeg_header,
    read_eeg_recording,
    read_metadata,
)
from .participants import (
    check_participant_id,
    is_participant_id,
    label_responders,
    pain_reduction,
    read_participants,
)

__all__ = [
    "CONFOUNDS_SUFFIXES",
    "EEG_EXTENSIONS",
    "Recording",
    "Study",
    "check_eeg",
    "check_fmri",
    "check_participant_id",
    "check_recording",
    "discover_study",
    "find_bold",
    "find_eeg",
    "fmri_companions",
    "is_participant_id",
    "label_responders",
    "pain_reduction",
    "read_confounds",
    "read_eeg_header",
    "read_eeg_recording",
    "read_metadata",
    "read_participants",
]
