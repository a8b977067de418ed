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


def _values(data, **options):
    table = region_connectivity(data, SFREQ, NAMES, REGIONS, BANDS, **options)
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


def _noise(n_epochs, seed):
    """Independent white noise in every channel: no coupling at all."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n_epochs, len(NAMES), int(2 * SFREQ))) * 1e-6


def test_debiased_wpli_does_not_depend_on_the_epoch_count():
    """On independent noise: the default estimator is ~0 at 8 and 30 epochs.

    PLV and coherence grow as epochs are fewer (their bias on noise is about
    1/sqrt(n_epochs)); the debiased wPLI and PPC stay near 0.
    """
    methods = ("wpli2_debiased", "ppc", "plv", "coh")
    mean = {}
    for n_epochs in (8, 30):
        tables = [
            _values(_noise(n_epochs, seed), methods=methods) for seed in range(40)
        ]
        mean[n_epochs] = sum(tables) / len(tables)
    for feature in ("wpli_alpha", "wpli_beta", "ppc_alpha", "ppc_beta"):
        assert abs(mean[8][feature, "A~B"] - mean[30][feature, "A~B"]) < 0.02
        assert abs(mean[8][feature, "A~B"]) < 0.02
    assert mean[8]["plv_alpha", "A~B"] - mean[30]["plv_alpha", "A~B"] > 0.1


def test_a_10_to_20_ms_lag_is_coupling_and_zero_lag_mixing_is_not():
    for delay in (0.010, 0.015, 0.020):
        lagged = _values(_epochs(lag=2 * np.pi * 10 * delay, seed=3))
        assert lagged["wpli_alpha", "A~B"] > 0.5, delay
    mixed = _values(_epochs(lag=0.0, zero_lag_copy=True, seed=3))
    assert abs(mixed["wpli_alpha", "A~B"]) < 0.1


def test_a_fixed_number_of_evenly_spaced_epochs():
    from neuromark.eeg.connectivity import evenly_spaced

    assert list(evenly_spaced(30, 4)) == [0, 10, 19, 29]
    assert len(set(evenly_spaced(21, 20))) == 20
    data = _epochs(lag=np.pi / 2, n_epochs=30, seed=4)
    chosen = data[evenly_spaced(30, 20)]
    np.testing.assert_allclose(_values(data, n_epochs=20), _values(chosen))
    # fewer clean epochs than asked: missing, never an estimate from fewer
    short = _values(data[:12], n_epochs=20)
    assert short.isna().all() and len(short) == len(_values(chosen))
