"""EEG: preprocessing and spectral neuromarkers of resting recordings."""

from .features import extract_eeg_features, recording_features, spectral_markers
from .preprocessing import find_bad_channels, preprocess
from .settings import EEGSettings, PreprocessingSettings, SpectralSettings, check_bands
from .spectral import (
    aperiodic_psd,
    asymmetry,
    band_power,
    centre_of_gravity,
    fit_aperiodic,
    peak_frequency,
    periodic_power,
    psd_array,
    relative_power,
)

__all__ = [
    "EEGSettings",
    "PreprocessingSettings",
    "SpectralSettings",
    "aperiodic_psd",
    "asymmetry",
    "band_power",
    "centre_of_gravity",
    "check_bands",
    "extract_eeg_features",
    "find_bad_channels",
    "fit_aperiodic",
    "peak_frequency",
    "periodic_power",
    "preprocess",
    "psd_array",
    "recording_features",
    "relative_power",
    "spectral_markers",
]
