"""Sensor-level functional connectivity between electrode regions.

Connectivity is estimated across the epochs of a resting recording with
:func:`mne_connectivity.spectral_connectivity_epochs` (multitaper), averaged
over the frequencies of each band, for every pair of distinct channels that
belong to two regions; a region pair's value is the mean over its channel
pairs. Edges are named ``regionA~regionB`` with the names sorted. The
frontal-midline ~ prefrontal edges are sensor proxies of ACC-PFC coupling.

Methods: debiased squared weighted phase-lag index (``wpli``; Vinck et al.
2011, NeuroImage 55:1548-1565), insensitive to zero-lag volume conduction;
coherence (``coh``); phase-locking value (``plv``; Lachaux et al. 1999).
"""

import itertools
import warnings

import numpy as np
import pandas as pd

FEATURE_PREFIX = {"wpli2_debiased": "wpli", "coh": "coh", "plv": "plv"}


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
            pairs[f"{a}~{b}"] = chosen
    return pairs


def region_connectivity(
    data, sfreq, ch_names, regions, bands, *, methods=tuple(FEATURE_PREFIX)
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
        Any of ``"wpli2_debiased"``, ``"coh"``, ``"plv"``.

    Returns
    -------
    features : pandas.DataFrame
        ``feature`` (``<wpli|coh|plv>_<band>``), ``location`` (``A~B``),
        ``value`` (unitless, 0-1), ``unit`` (``"1"``).
    """
    from mne_connectivity import spectral_connectivity_epochs

    pairs = region_pairs(ch_names, regions)
    if not pairs:
        return pd.DataFrame(columns=["feature", "location", "value", "unit"])
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
