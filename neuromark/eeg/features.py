"""EEG neuromarkers of one recording as rows of the long feature table.

Feature vocabulary (``feature``, ``unit``), per channel and per region of
``atlases/eeg_regions.tsv`` unless noted:

====================================  ==============  ==========================
feature                               unit            definition
====================================  ==============  ==========================
``<band>_power``                      µV²             PSD integrated over band
``<band>_relpower``                   fraction        band / total-range power
``<band>_logpower``                   log10(µV²)      log10 of ``<band>_power``
``paf``                               Hz              alpha peak (parabolic)
``paf_cog``                           Hz              alpha centre of gravity
``aperiodic_exponent``                1               FOOOF 1/f exponent
``aperiodic_offset``                  log10(µV²/Hz)   FOOOF 1/f offset
``<band>_periodic_power``             µV²             power above the 1/f fit
``alpha_asymmetry`` (pair ``R-L``)    ln ratio        ln P_R - ln P_L (alpha)
``<wpli|coh|plv>_<band>`` (``A~B``)   1               region-pair connectivity
====================================  ==============  ==========================
"""

import numpy as np
import pandas as pd

from ..atlases import read_eeg_regions
from ..exceptions import DataFileError
from ..io.checks import line_frequency, read_metadata
from ..utils._logging import logger
from . import spectral
from .connectivity import region_connectivity
from .preprocessing import _source, preprocess
from .settings import EEGSettings, check_bands

COLUMNS = ["feature", "location", "value", "unit"]


def _rows(feature, locations, values, unit):
    return [
        (feature, loc, float(v), unit)
        for loc, v in zip(locations, np.atleast_1d(values))
    ]


def region_spectra(psd, ch_names, regions):
    """Average channel spectra within each region.

    Parameters
    ----------
    psd : ndarray, shape (n_channels, n_freqs)
        Channel PSDs.
    ch_names : list of str
        Channel names of ``psd`` rows.
    regions : dict of str to list of str
        Region name to its channels.

    Returns
    -------
    names : list of str
        Regions with at least one channel present.
    region_psd : ndarray, shape (n_regions, n_freqs)
        Mean PSD over the region's channels that are present.
    """
    index = {name: k for k, name in enumerate(ch_names)}
    names, spectra = [], []
    for region, channels in regions.items():
        present = [index[ch] for ch in channels if ch in index]
        if not present:
            logger.warning(
                "EEG region %r: none of %s recorded; skipped", region, channels
            )
            continue
        if len(present) < len(channels):
            missing = [ch for ch in channels if ch not in index]
            logger.info(
                "EEG region %r: %s not recorded; using the others", region, missing
            )
        names.append(region)
        spectra.append(psd[present].mean(axis=0))
    return names, np.array(spectra).reshape(len(spectra), psd.shape[1])


def spectral_markers(psd, freqs, locations, settings, ch_names=None, n_jobs=1):
    """Compute every spectral marker of a set of spectra.

    Parameters
    ----------
    psd : ndarray, shape (n_locations, n_freqs)
        PSD (µV²/Hz) per location.
    freqs : ndarray, shape (n_freqs,)
        Frequencies (Hz).
    locations : list of str
        Location (channel or region) name of each row.
    settings : SpectralSettings
        Bands, ranges and asymmetry pairs.
    ch_names : list of str | None
        Channel names, when the rows include channels (for asymmetry pairs).
    n_jobs : int
        Parallel workers of the aperiodic fits.

    Returns
    -------
    features : pandas.DataFrame
        Columns ``feature``, ``location``, ``value``, ``unit``.
    """
    rows = []
    total = spectral.band_power(psd, freqs, *settings.relative_range)
    alpha_power = None
    for band, (fmin, fmax) in settings.bands.items():
        power = spectral.band_power(psd, freqs, fmin, fmax)
        if band == "alpha":
            alpha_power = power
        rows += _rows(f"{band}_power", locations, power, "µV²")
        rows += _rows(f"{band}_relpower", locations, power / total, "fraction")
        rows += _rows(f"{band}_logpower", locations, np.log10(power), "log10(µV²)")
    rows += _rows(
        "paf", locations, spectral.peak_frequency(psd, freqs, *settings.paf_range), "Hz"
    )
    rows += _rows(
        "paf_cog",
        locations,
        spectral.centre_of_gravity(psd, freqs, *settings.cog_range),
        "Hz",
    )
    offset, exponent, _ = spectral.fit_aperiodic(
        psd, freqs, settings.aperiodic_range, n_jobs=n_jobs
    )
    rows += _rows("aperiodic_exponent", locations, exponent, "1")
    rows += _rows("aperiodic_offset", locations, offset, "log10(µV²/Hz)")
    for band in settings.periodic_bands:
        fmin, fmax = settings.bands[band]
        rows += _rows(
            f"{band}_periodic_power",
            locations,
            spectral.periodic_power(psd, freqs, fmin, fmax, offset, exponent),
            "µV²",
        )
    if ch_names is not None and alpha_power is not None:
        channels = set(ch_names)
        index = {name: k for k, name in enumerate(locations) if name in channels}
        for right, left in settings.asymmetry_pairs:
            if right in index and left in index:
                value = spectral.asymmetry(
                    alpha_power[index[right]], alpha_power[index[left]]
                )
                rows.append(
                    ("alpha_asymmetry", f"{right}-{left}", float(value), "ln ratio")
                )
            else:
                logger.warning(
                    "alpha asymmetry %s-%s: channel not recorded; skipped", right, left
                )
    return pd.DataFrame(rows, columns=COLUMNS)


def epochs_psd(data, sfreq, settings):
    """PSD of clean epochs ``(n_epochs, n_channels, n_times)`` in µV²/Hz."""
    top = max(fmax for _, fmax in settings.bands.values())
    fmax = max(top, settings.relative_range[1], settings.aperiodic_range[1])
    return spectral.psd_array(
        data,
        sfreq,
        method=settings.method,
        window_seconds=settings.window_seconds,
        overlap=settings.overlap,
        fmin=0.0,
        fmax=fmax,
    )


def extract_eeg_features(
    raw, settings=None, *, line_freq=None, return_spectra=False, n_jobs=1
):
    """Preprocess a recording and compute all its spectral neuromarkers.

    Parameters
    ----------
    raw : mne.io.BaseRaw
        Resting EEG.
    settings : EEGSettings | None
        Preprocessing and spectral settings (defaults if ``None``).
    line_freq : float | None
        Mains frequency (Hz) for the automatic notch.
    return_spectra : bool
        Also return the regional spectra.
    n_jobs : int
        Parallel workers of the aperiodic (FOOOF) fits. Keep 1 when
        recordings already run in parallel (as in ``neuromark run``).

    Returns
    -------
    features : pandas.DataFrame
        Long table: ``feature``, ``location``, ``value``, ``unit``.
    qc : dict
        Preprocessing QC (see :func:`neuromark.eeg.preprocessing.preprocess`).
    spectra : pandas.DataFrame
        Only if ``return_spectra``: ``location`` (region), ``freq`` (Hz) and
        ``psd`` (µV²/Hz), for frequencies up to the relative-power range's top.
    """
    settings = settings or EEGSettings()
    sfreq = (
        raw.info["sfreq"]
        if settings.preprocessing.resample_sfreq is None
        else settings.preprocessing.resample_sfreq
    )
    try:
        check_bands(settings.spectral.bands, sfreq=sfreq)
    except ValueError as err:
        raise DataFileError(_source(raw), str(err)) from None
    epochs, qc = preprocess(raw, settings.preprocessing, line_freq=line_freq)
    data, sfreq = epochs.get_data(copy=False), epochs.info["sfreq"]
    psd, freqs = epochs_psd(data, sfreq, settings.spectral)
    ch_names = list(epochs.ch_names)
    regions = read_eeg_regions()
    names, region_psd = region_spectra(psd, ch_names, regions)
    # channels and regions in one batch: one set of parallel aperiodic fits
    locations, spectra = ch_names, psd
    if settings.spectral.regions and names:
        locations, spectra = ch_names + names, np.vstack([psd, region_psd])
    parts = [
        spectral_markers(
            spectra,
            freqs,
            locations,
            settings.spectral,
            ch_names=ch_names,
            n_jobs=n_jobs,
        )
    ]
    if settings.connectivity.enabled:
        bands = {b: settings.spectral.bands[b] for b in settings.connectivity.bands}
        parts.append(
            region_connectivity(
                data,
                sfreq,
                ch_names,
                regions,
                bands,
                methods=settings.connectivity.methods,
            )
        )
    features = pd.concat(parts, ignore_index=True)
    if not return_spectra:
        return features, qc
    keep = freqs <= settings.spectral.relative_range[1]
    spectra = pd.DataFrame(
        {
            "location": np.repeat(names, keep.sum()),
            "freq": np.tile(freqs[keep], len(names)),
            "psd": region_psd[:, keep].ravel(),
        }
    )
    return features, qc, spectra


def read_line_frequency(recording):
    """Mains frequency from the EEG sidecar (``PowerLineFrequency``), or None."""
    return line_frequency(read_metadata(recording))


def recording_features(recording, settings=None):
    """Read one EEG recording and extract its features (pipeline unit of work).

    Parameters
    ----------
    recording : neuromark.io.Recording
        An EEG recording.
    settings : EEGSettings | None
        Settings.

    Returns
    -------
    features : pandas.DataFrame
        Long table with ``participant_id``, ``session`` and ``modality`` added.
    qc : dict
        Preprocessing QC with the unit's identifiers.
    spectra : pandas.DataFrame
        Regional spectra with the unit's identifiers.
    """
    from ..io import read_eeg_recording

    raw = read_eeg_recording(recording)
    features, qc, spectra = extract_eeg_features(
        raw, settings, line_freq=read_line_frequency(recording), return_spectra=True
    )
    ids = {
        "participant_id": recording.participant_id,
        "session": recording.session,
        "modality": "eeg",
    }
    features = features.assign(**ids)[list(ids) + COLUMNS]
    spectra = spectra.assign(**ids)[[*ids, "location", "freq", "psd"]]
    return features, ids | qc, spectra
