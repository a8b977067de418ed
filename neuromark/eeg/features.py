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
``<band>_peak_height``                log10 ratio     FOOOF peak above the fit
``<band>_flattened``                  log10 ratio     mean log spectrum above fit
``alpha_asymmetry`` (pair ``R-L``)    ln ratio        ln P_R - ln P_L (alpha)
``<wpli|ppc|coh|plv>_<band>`` (A~B)  1               region-pair connectivity
====================================  ==============  ==========================
"""

from pathlib import Path

import numpy as np
import pandas as pd

from ..atlases import read_eeg_regions
from ..exceptions import DataFileError
from ..io.checks import line_frequency, read_metadata
from ..utils._logging import logger
from . import spectral
from .artifacts import emg_index
from .comparability import eyes_condition
from .connectivity import region_connectivity
from .preprocessing import _source, check_epochs, preprocess
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


def spectral_markers(
    psd,
    freqs,
    locations,
    settings,
    ch_names=None,
    n_jobs=1,
    noise=None,
    return_qc=False,
):
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
        Bands, ranges, asymmetry pairs, peak and fit-quality criteria.
    ch_names : list of str | None
        Channel names, when the rows include channels (for asymmetry pairs).
    n_jobs : int
        Parallel workers of the aperiodic fits.
    noise : ndarray, shape (n_locations,) | None
        Chance wobble of each log10 spectrum (median standard error over the
        fit range, :func:`~neuromark.eeg.spectral.log_standard_error`): the
        unit of a peak's height. None: the aperiodic fit's mean absolute
        error, a coarser yardstick.
    return_qc : bool
        Also return what could not be measured and why.

    Returns
    -------
    features : pandas.DataFrame
        Columns ``feature``, ``location``, ``value``, ``unit``. ``paf`` (the
        maximum of the spectrum above the aperiodic fit in ``paf_range``) and
        ``paf_cog``
        (centre of gravity of the power above the aperiodic fit) are NaN
        where no FOOOF peak in ``paf_range`` stands ``paf_min_z`` noise units
        above the fit;
        aperiodic and periodic markers are NaN where the fit's r² is below
        ``min_r_squared``.
    qc : dict
        Only if ``return_qc``: ``n_spectra``, ``n_alpha_peak`` (spectra with
        an alpha peak), ``alpha_peak_locations``, ``n_fit_below_r2``,
        ``fit_below_r2`` (locations), ``paf_missing`` (locations without a
        peak) and ``median_r_squared``.
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
    fit = spectral.parameterize(
        psd,
        freqs,
        settings.aperiodic_range,
        aperiodic_mode=settings.aperiodic_mode,
        n_jobs=n_jobs,
    )
    offset, exponent, knee = fit["offset"], fit["exponent"], fit["knee"]
    good_fit = fit["r_squared"] >= settings.min_r_squared
    noise = fit["error"] if noise is None else np.asarray(noise, float)
    centre, height = spectral.tallest_peak(fit["peaks"], len(psd), *settings.paf_range)
    with np.errstate(invalid="ignore"):
        peaked = good_fit & (height >= settings.paf_min_z * noise)
    # the frequency: the (parabola-refined) maximum of the spectrum above the
    # aperiodic fit, more exact than the Gaussian's centre for skewed peaks
    near = freqs > 0
    flattened = psd[:, near] / spectral.aperiodic_psd(
        freqs[near], offset, exponent, knee
    )
    paf = spectral.peak_frequency(flattened, freqs[near], *settings.paf_range)
    rows += _rows("paf", locations, np.where(peaked, paf, np.nan), "Hz")
    cog = spectral.flattened_centre_of_gravity(
        psd, freqs, *settings.cog_range, offset, exponent, knee
    )
    rows += _rows("paf_cog", locations, np.where(peaked, cog, np.nan), "Hz")
    rows += _rows(
        "aperiodic_exponent", locations, np.where(good_fit, exponent, np.nan), "1"
    )
    rows += _rows(
        "aperiodic_offset",
        locations,
        np.where(good_fit, offset, np.nan),
        "log10(µV²/Hz)",
    )
    band_peaks = {}
    for band in settings.periodic_bands:
        fmin, fmax = settings.bands[band]
        _, band_height = spectral.tallest_peak(fit["peaks"], len(psd), fmin, fmax)
        with np.errstate(invalid="ignore"):
            band_peaks[band] = band_height >= settings.paf_min_z * noise
        height = np.where(band_peaks[band], band_height, 0.0)
        flat = spectral.flattened_power(psd, freqs, fmin, fmax, offset, exponent, knee)
        rows += _rows(
            f"{band}_peak_height",
            locations,
            np.where(good_fit, height, np.nan),
            "log10 ratio",
        )
        rows += _rows(
            f"{band}_flattened",
            locations,
            np.where(good_fit, flat, np.nan),
            "log10 ratio",
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
    features = pd.DataFrame(rows, columns=COLUMNS)
    if not return_qc:
        return features
    locations = np.asarray(locations)
    qc = {
        "n_spectra": len(locations),
        "n_alpha_peak": int(peaked.sum()),
        "alpha_peak_locations": list(locations[peaked]),
        "paf_missing": list(locations[~peaked]),
        "n_fit_below_r2": int((~good_fit).sum()),
        "fit_below_r2": list(locations[~good_fit]),
        "median_r_squared": float(np.median(fit["r_squared"])),
        "r_squared": dict(zip(locations, np.round(fit["r_squared"], 4).tolist())),
        "fit_error": dict(zip(locations, np.round(fit["error"], 4).tolist())),
        "band_peaks": {
            band: list(locations[found]) for band, found in band_peaks.items()
        },
    }
    return features, qc


def epochs_psd(data, sfreq, settings, *, average=True):
    """PSD of clean epochs ``(n_epochs, n_channels, n_times)`` in µV²/Hz.

    With ``average=False`` one spectrum per epoch, shape (n_epochs,
    n_channels, n_freqs).

    Parameters
    ----------
    data : ndarray, shape (n_epochs, n_channels, n_times)
        Clean epochs (V).
    sfreq : float
        Sampling rate (Hz).
    settings : SpectralSettings
        Method, Welch window and the bands (the top band edge sets ``fmax``).
    average : bool
        Average over epochs.
    """
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
        average=average,
    )


def extract_eeg_features(
    raw, settings=None, *, line_freq=None, return_tables=False, n_jobs=1
):
    """Preprocess a recording and compute all its spectral neuromarkers.

    Parameters
    ----------
    raw : mne.io.BaseRaw | mne.BaseEpochs
        Resting EEG: a continuous recording, preprocessed here
        (:func:`~neuromark.eeg.preprocess`), or epochs you cleaned yourself,
        analysed as they are (:func:`~neuromark.eeg.preprocessing.check_epochs`;
        their bad channels are left out).
    settings : EEGSettings | None
        Preprocessing and spectral settings (defaults if ``None``).
    line_freq : float | None
        Mains frequency (Hz) for the automatic notch.
    return_tables : bool
        Also return the spectra and the removed ICA components.
    n_jobs : int
        Parallel workers of the aperiodic (FOOOF) fits. Keep 1 when
        recordings already run in parallel (as in ``neuromark run``).

    Returns
    -------
    features : pandas.DataFrame
        Long table: ``feature``, ``location``, ``value``, ``unit``.
    qc : dict
        Preprocessing QC (see :func:`neuromark.eeg.preprocessing.preprocess`).
    tables : dict of str to pandas.DataFrame
        Only if ``return_tables``: ``eeg_spectra`` (``location``: region) and
        ``eeg_channel_spectra`` (``location``: channel), each with ``freq``
        (Hz) and ``psd`` (µV²/Hz, mean over clean epochs) up to the
        relative-power range's top; ``eeg_ica_components``: the scalp maps of
        the components ICA removed
        (:func:`neuromark.eeg.artifacts.component_maps`).
    """
    import mne

    settings = settings or EEGSettings()
    given = isinstance(raw, mne.BaseEpochs)
    sfreq = (
        raw.info["sfreq"]
        if settings.preprocessing.resample_sfreq is None or given
        else settings.preprocessing.resample_sfreq
    )
    source = Path("<mne.Epochs>") if given else _source(raw)
    try:
        check_bands(settings.spectral.bands, sfreq=sfreq)
    except ValueError as err:
        raise DataFileError(source, str(err)) from None
    if given:
        epochs, qc = check_epochs(raw, settings.preprocessing)
    else:
        epochs, qc = preprocess(raw, settings.preprocessing, line_freq=line_freq)
    epoch_seconds = len(epochs.times) / epochs.info["sfreq"]
    if epoch_seconds < settings.spectral.window_seconds - 1e-9:
        raise DataFileError(
            source,
            f"epochs of {epoch_seconds:g} s are shorter than the "
            f"spectral window ({settings.spectral.window_seconds:g} s, "
            "eeg.spectral.window_seconds)",
        )
    ica_components = qc.pop("ica_components")
    data, sfreq = epochs.get_data(copy=False), epochs.info["sfreq"]
    per_epoch, freqs = epochs_psd(data, sfreq, settings.spectral, average=False)
    n_epochs, n_channels, n_freqs = per_epoch.shape
    ch_names = list(epochs.ch_names)
    regions = read_eeg_regions()
    # region spectra of every epoch at once: channels x (epochs * freqs)
    stacked = per_epoch.transpose(1, 0, 2).reshape(n_channels, -1)
    names, region_stacked = region_spectra(stacked, ch_names, regions)
    region_epochs = region_stacked.reshape(len(names), n_epochs, n_freqs).transpose(
        1, 0, 2
    )
    # channels and regions in one batch: one set of parallel aperiodic fits
    locations, epoch_spectra = ch_names, per_epoch
    if settings.spectral.regions and names:
        locations = ch_names + names
        epoch_spectra = np.concatenate([per_epoch, region_epochs], axis=1)
    fit_range = (freqs >= settings.spectral.aperiodic_range[0]) & (
        freqs <= settings.spectral.aperiodic_range[1]
    )
    noise = np.median(spectral.log_standard_error(epoch_spectra)[:, fit_range], axis=1)
    region_psd = region_epochs.mean(axis=0)
    markers, spectral_qc = spectral_markers(
        epoch_spectra.mean(axis=0),
        freqs,
        locations,
        settings.spectral,
        ch_names=ch_names,
        n_jobs=n_jobs,
        noise=noise,
        return_qc=True,
    )
    qc = qc | _spectral_qc(spectral_qc, ch_names, n_epochs)
    qc["emg_index"] = emg_index(
        per_epoch.mean(axis=0), freqs, lowpass=epochs.info["lowpass"]
    )
    qc |= _aperiodic_evidence(per_epoch.mean(axis=(0, 1)), freqs, settings.spectral)
    parts = [markers]
    if settings.connectivity.enabled:
        bands = {b: settings.spectral.bands[b] for b in settings.connectivity.bands}
        wanted = settings.connectivity.n_epochs
        parts.append(
            region_connectivity(
                data,
                sfreq,
                ch_names,
                regions,
                bands,
                methods=settings.connectivity.methods,
                n_epochs=wanted,
            )
        )
        qc |= _connectivity_qc(n_epochs, wanted)
    features = pd.concat(parts, ignore_index=True)
    if not return_tables:
        return features, qc
    keep = freqs <= settings.spectral.relative_range[1]
    tables = {
        "eeg_spectra": _spectra_table(names, freqs[keep], region_psd[:, keep]),
        "eeg_channel_spectra": _spectra_table(
            ch_names, freqs[keep], per_epoch.mean(axis=0)[:, keep]
        ),
        "eeg_ica_components": ica_components,
    }
    return features, qc, tables


def _spectra_table(locations, freqs, psd):
    """Long table of spectra: ``location``, ``freq``, ``psd``."""
    return pd.DataFrame(
        {
            "location": np.repeat(locations, len(freqs)),
            "freq": np.tile(freqs, len(locations)),
            "psd": psd.ravel(),
        }
    )


def _aperiodic_evidence(psd, freqs, settings):
    """Both aperiodic models on the recording's mean spectrum: r² and knee.

    ``aperiodic_knee_hz`` is the frequency where the bend sits,
    ``knee ** (1 / exponent)`` (FOOOF's definition of the knee frequency).
    """
    fits = {
        mode: spectral.parameterize(
            psd, freqs, settings.aperiodic_range, aperiodic_mode=mode
        )
        for mode in ("fixed", "knee")
    }
    knee, exponent = fits["knee"]["knee"][0], fits["knee"]["exponent"][0]
    with np.errstate(invalid="ignore", divide="ignore"):
        knee_hz = float(knee ** (1 / exponent)) if knee > 0 else 0.0
    return {
        "aperiodic_mode": settings.aperiodic_mode,
        "aperiodic_r2_fixed": round(float(fits["fixed"]["r_squared"][0]), 4),
        "aperiodic_r2_knee": round(float(fits["knee"]["r_squared"][0]), 4),
        "aperiodic_knee_hz": round(knee_hz, 2) if np.isfinite(knee_hz) else np.nan,
    }


def _connectivity_qc(n_available, n_wanted):
    """QC fields of connectivity: epochs used, or why it is missing."""
    if n_wanted is None:
        return {"n_epochs_connectivity": n_available, "connectivity_missing_reason": ""}
    if n_available < n_wanted:
        return {
            "n_epochs_connectivity": 0,
            "connectivity_missing_reason": f"{n_available} clean epochs, fewer than "
            f"connectivity.n_epochs ({n_wanted})",
        }
    return {"n_epochs_connectivity": n_wanted, "connectivity_missing_reason": ""}


def _spectral_qc(qc, ch_names, n_epochs):
    """QC fields of the spectral fits: alpha peaks found, fits rejected."""
    channels = set(ch_names)
    peaks = [loc for loc in qc["alpha_peak_locations"] if loc in channels]
    missing_regions = [loc for loc in qc["paf_missing"] if loc not in channels]
    reason = ""
    if n_epochs < 2:
        reason = "fewer than 2 clean epochs: no noise estimate for peaks"
    elif len(peaks) == 0:
        reason = "no alpha peak above the noise in any channel"
    band_counts = {
        f"n_channels_{band}_peak": sum(loc in channels for loc in found)
        for band, found in qc["band_peaks"].items()
        if band != "alpha"
    }
    return band_counts | {
        "n_channels_alpha_peak": len(peaks),
        "regions_without_alpha_peak": missing_regions,
        "paf_missing_reason": reason,
        "n_fits_below_r2": qc["n_fit_below_r2"],
        "median_fit_r2": round(qc["median_r_squared"], 4),
        "fit_r2": qc["r_squared"],
        "fit_error": qc["fit_error"],
    }


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
    tables : dict of str to pandas.DataFrame
        The spectra and removed ICA components of
        :func:`extract_eeg_features`, with the unit's identifiers.
    """
    from ..io import read_eeg_recording

    settings = settings or EEGSettings()
    raw = read_eeg_recording(recording)
    metadata = read_metadata(recording)
    features, qc, tables = extract_eeg_features(
        raw, settings, line_freq=line_frequency(metadata), return_tables=True
    )
    qc["recorded_reference"] = next(
        (str(m["EEGReference"]) for _, m in metadata if "EEGReference" in m), "n/a"
    )
    qc["eyes"], qc["eyes_source"] = eyes_condition(recording.path, settings.eyes)
    ids = recording.ids
    features = features.assign(**ids)[list(ids) + COLUMNS]
    tables = {
        name: table.assign(**ids)[[*ids, *table.columns]]
        for name, table in tables.items()
    }
    return features, ids | qc, tables
