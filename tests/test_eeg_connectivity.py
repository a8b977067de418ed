"""Region connectivity: phase-lag semantics and region averaging."""

import numpy as np
import pytest
from mne_connectivity import spectral_connectivity_epochs

from neuromark.eeg import region_connectivity, region_pairs

SFREQ = 250.0
BANDS = {"alpha": (8.0, 13.0), "beta": (13.0, 30.0)}


def _epochs(lag, *, zero_lag_copy=False, n_epochs=30, seed=0):
    """Channels A1, A2 (region A) and B1, B2 (region B) sharing a 10 Hz rhythm."""
    rng = np.random.default_rng(seed)
    times = np.arange(int(2 * SFREQ)) / SFREQ
    phase = rng.uniform(0, 2 * np.pi, (n_epochs, 1))
    source = np.sin(2 * np.pi * 10 * times + phase)
    lagged = np.sin(2 * np.pi * 10 * times + phase - lag)
    other = source if zero_lag_copy else lagged
    channels = [source, source, other, other]
    return (
        np.stack(
            [c + 0.5 * rng.standard_normal((n_epochs, times.size)) for c in channels],
            axis=1,
        )
        * 1e-6
    )


REGIONS = {"A": ["A1", "A2"], "B": ["B1", "B2"]}
NAMES = ["A1", "A2", "B1", "B2"]


def _values(data):
    table = region_connectivity(data, SFREQ, NAMES, REGIONS, BANDS)
    return table.set_index(["feature", "location"])["value"]


def test_lagged_coupling_gives_phase_lag_index():
    values = _values(_epochs(lag=np.pi / 2))
    assert values["wpli_alpha", "A~B"] > 0.5
    assert values["plv_alpha", "A~B"] > 0.5 and values["coh_alpha", "A~B"] > 0.4
    assert abs(values["wpli_beta", "A~B"]) < 0.1  # no coupling outside the rhythm


def test_zero_lag_mixing_is_ignored_by_wpli_but_not_coherence():
    values = _values(_epochs(lag=0.0, zero_lag_copy=True))
    assert abs(values["wpli_alpha", "A~B"]) < 0.1  # volume conduction
    assert values["coh_alpha", "A~B"] > 0.4


def test_region_value_is_the_mean_of_channel_pairs():
    data = _epochs(lag=np.pi / 3, seed=2)
    pairs = region_pairs(NAMES, REGIONS)
    assert pairs == {"A~B": [(0, 2), (0, 3), (1, 2), (1, 3)]}
    direct = spectral_connectivity_epochs(
        data,
        method="coh",
        sfreq=SFREQ,
        fmin=8.0,
        fmax=13.0,
        faverage=True,
        mode="multitaper",
        verbose="error",
    ).get_data(output="dense")[..., 0]
    expected = np.mean([direct[j, i] for i, j in pairs["A~B"]])
    assert _values(data)["coh_alpha", "A~B"] == pytest.approx(expected, rel=1e-10)


def test_shared_channels_and_naming():
    pairs = region_pairs(
        ["Fz", "FCz", "F3", "Fp1"],
        {"frontal_midline": ["Fz", "FCz"], "frontal": ["F3", "Fz"], "empty": ["O1"]},
    )
    # Fz belongs to both regions: never paired with itself; names sorted
    assert pairs == {"frontal~frontal_midline": [(0, 1), (0, 2), (1, 2)]}
