"""EEG: preprocessing and spectral neuromarkers of resting recordings."""

from .connectivity import region_connectivity, region_pairs
from .estimators import BandPower
from .features import extract_eeg_features, recording_features, spectral_markers
from .preprocessing import check_epochs, find_bad_channels, preprocess
from .settings import (
    ConnectivitySettings,
    EEGSettings,
    PreprocessingSettings,
    SpectralSettings,
    check_bands,
)
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
    "BandPower",
    "ConnectivitySettings",
    "EEGSettings",
    "PreprocessingSettings",
    "SpectralSettings",
    "aperiodic_psd",
    "asymmetry",
    "band_power",
    "centre_of_gravity",
    "check_bands",
    "check_epochs",
    "extract_eeg_features",
    "find_bad_channels",
    "fit_aperiodic",
    "peak_frequency",
    "periodic_power",
    "preprocess",
    "psd_array",
    "recording_features",
    "region_connectivity",
    "region_pairs",
    "relative_power",
    "spectral_markers",
]
