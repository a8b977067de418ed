"""Simulated BIDS pain-trial studies with planted, recoverable ground truth."""

from ..features import edge_name
from ._eeg import CHANNELS, aperiodic_noise, narrowband_noise, simulate_eeg_data
from ._fmri import framewise_displacement, mni_grid, simulate_bold
from .features import simulate_features
from .presets import IDEALISED, PRESETS, REALISTIC, Preset
from .study import read_ground_truth, simulate_study

__all__ = [
    "CHANNELS",
    "IDEALISED",
    "PRESETS",
    "Preset",
    "REALISTIC",
    "aperiodic_noise",
    "edge_name",
    "framewise_displacement",
    "mni_grid",
    "narrowband_noise",
    "read_ground_truth",
    "simulate_bold",
    "simulate_eeg_data",
    "simulate_features",
    "simulate_study",
]
