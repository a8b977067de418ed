"""Sensor-level functional connectivity between electrode regions.

Connectivity is estimated across the epochs of a resting recording with
:func:`mne_connectivity.spectral_connectivity_epochs` (multitaper), averaged
over the frequencies of each band, for every pair of distinct channels that
belong to two regions; a region pair's value is the mean over its channel
pairs. Edges are named ``regionA~regionB`` with the names sorted. The
frontal-midline ~ prefrontal edges are sensor proxies of ACC-PFC coupling.

Methods: debiased squared weighted phase-lag index (``wpli``; Vinck et al.
2011, NeuroImage 55:1548-1565), insensitive to zero-lag volume conduction and,
being debiased, near 0 on independent signals whatever the number of epochs
(the default); pairwise phase consistency (``ppc``; Vinck et al. 2010,
NeuroImage 51:112-122), the debiased square of the PLV, which counts zero-lag
mixing as coupling; coherence (``coh``) and phase-locking value (``plv``;
Lachaux et al. 1999), whose values on noise grow as epochs are fewer (about
1/sqrt(n_epochs)).

Every recording's connectivity is estimated from the same number of clean
epochs (``n_epochs``, evenly spaced through the recording), so a session
that lost epochs to artefacts does not look more or less connected.
"""

import itertools
import warnings

import numpy as np
import pandas as pd

from ..features import edge_name

FEATURE_PREFIX = {"wpli2_debiased": "wpli", "ppc": "ppc", "coh": "coh", "plv": "plv"}


def region_pairs(ch_names, regions):
    """Channel pairs between every two regions.

    Parameters
    ----------
    ch_names : list of str
        Recorded channels.
    regions : dict of str to list of str
        Region name to channels.

    Returns
    -------
    pairs : dict of str to list of (int, int)
        ``"A~B"`` (sorted names) to the channel index pairs ``(i, j)`` with
        ``i`` in one region, ``j`` in the other and ``i != j``.
    """
    index = {name: k for k, name in enumerate(ch_names)}
    members = {
        r: [index[c] for c in chans if c in index] for r, chans in regions.items()
    }
    pairs = {}
    for a, b in itertools.combinations(sorted(r for r in members if members[r]), 2):
        chosen = sorted(
            {tuple(sorted((i, j))) for i in members[a] for j in members[b] if i != j}
        )
        if chosen:
            pairs[edge_name(a, b)] = chosen
    return pairs


def evenly_spaced(n_available, n_wanted):
    """Pick ``n_wanted`` epoch indices spread evenly over ``n_available``.

    Deterministic (no seed to carry) and spread over the whole recording, so
    slow drifts of vigilance are sampled alike in every session.

    Parameters
    ----------
    n_available : int
        Clean epochs in the recording.
    n_wanted : int
        Epochs to keep (at most ``n_available``).
    """
    if n_wanted > n_available:
        raise ValueError(f"cannot take {n_wanted} of {n_available} epochs")
    return np.round(np.linspace(0, n_available - 1, n_wanted)).astype(int)


def region_connectivity(
    data,
    sfreq,
    ch_names,
    regions,
    bands,
    *,
    methods=tuple(FEATURE_PREFIX),
    n_epochs=None,
):
    """Compute connectivity between electrode regions in frequency bands.

    Parameters
    ----------
    data : ndarray, shape (n_epochs, n_channels, n_times)
        Clean epochs (V).
    sfreq : float
        Sampling rate (Hz).
    ch_names : list of str
        Channel names.
    regions : dict of str to list of str
        Electrode regions.
    bands : dict of str to (float, float)
        Bands to average over (Hz).
    methods : sequence of str
        Any of ``"wpli2_debiased"``, ``"ppc"``, ``"coh"``, ``"plv"``.
    n_epochs : int | None
        Estimate from this many epochs, evenly spaced through ``data``
        (:func:`evenly_spaced`); with fewer epochs every value is NaN.
        ``None``: all of them (the estimate then depends on their number).

    Returns
    -------
    features : pandas.DataFrame
        ``feature`` (``<wpli|ppc|coh|plv>_<band>``), ``location``
        (``A~B``), ``value`` (unitless; debiased measures can be slightly
        negative), ``unit`` (``"1"``).
    """
    from mne_connectivity import spectral_connectivity_epochs

    pairs = region_pairs(ch_names, regions)
    if not pairs:
        return pd.DataFrame(columns=["feature", "location", "value", "unit"])
    if n_epochs is not None and len(data) < n_epochs:
        return pd.DataFrame(
            [
                (f"{FEATURE_PREFIX[method]}_{band}", edge, np.nan, "1")
                for method in methods
                for edge in pairs
                for band in bands
            ],
            columns=["feature", "location", "value", "unit"],
        )
    if n_epochs is not None:
        data = data[evenly_spaced(len(data), n_epochs)]
    if len(data) < 2:
        raise ValueError("connectivity across epochs needs at least 2 epochs")
    unique = sorted({pair for chosen in pairs.values() for pair in chosen})
    seeds = np.array([i for i, _ in unique])
    targets = np.array([j for _, j in unique])
    names = list(bands)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # few epochs: noisy debiasing
        results = spectral_connectivity_epochs(
            data,
            method=list(methods),
            indices=(seeds, targets),
            sfreq=sfreq,
            fmin=tuple(bands[b][0] for b in names),
            fmax=tuple(bands[b][1] for b in names),
            faverage=True,
            mode="multitaper",
            verbose="error",
        )
    if not isinstance(results, list):
        results = [results]
    position = {pair: k for k, pair in enumerate(unique)}
    rows = []
    for method, result in zip(methods, results):
        values = result.get_data()  # (n_pairs, n_bands)
        for edge, chosen in pairs.items():
            mean = values[[position[p] for p in chosen]].mean(axis=0)
            for band, value in zip(names, mean):
                rows.append(
                    (f"{FEATURE_PREFIX[method]}_{band}", edge, float(value), "1")
                )
    return pd.DataFrame(rows, columns=["feature", "location", "value", "unit"])
