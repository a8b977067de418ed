"""Eye and muscle artefacts: ICA with ICLabel, a data-driven epoch threshold.

:func:`remove_ocular_muscle` fits ICA on a 1-100 Hz, average-referenced copy
of the recording (what ICLabel was trained on), labels the components with
ICLabel (mne-icalabel) and removes those it calls an eye blink or a muscle
artefact with enough probability from the analysed recording.
:func:`rejection_threshold` replaces the fixed peak-to-peak threshold by
autoreject's cross-validated one. :func:`emg_index` measures what muscle
activity is left.
"""

import warnings

import numpy as np
from threadpoolctl import threadpool_limits

from ..utils._logging import logger
from .filtering import filter_band_and_notch

UV = 1e-6
# ICLabel's input: 1-100 Hz, common average reference
ICLABEL_BAND = (1.0, 100.0)
# ICA is fitted on samples taken at about this rate, when the recording has
# samples to spare
FIT_SFREQ = 125.0
# samples per unmixing weight (channels squared) a stable decomposition needs
# (20-30 in EEGLAB's guidance; Onton & Makeig 2006)
MIN_SAMPLES_PER_WEIGHT = 20
# where residual muscle bursts are looked for (above both mains frequencies)
MUSCLE_BAND = (65.0, 95.0)


def ica_skip_reason(raw, settings):
    """Why ICA cannot run on this recording (``""`` when it can).

    Parameters
    ----------
    raw : mne.io.BaseRaw
        The recording, EEG channels only.
    settings : ArtifactSettings
        Artefact settings.

    Returns
    -------
    reason : str
    """
    if not settings.ica:
        return "off (eeg.preprocessing.artifacts.ica)"
    if len(raw.ch_names) < settings.ica_min_channels:
        return (
            f"off: {len(raw.ch_names)} EEG channels, fewer than "
            f"{settings.ica_min_channels} (artifacts.ica_min_channels)"
        )
    if raw.info["sfreq"] / 2 <= ICLABEL_BAND[1]:
        return (
            f"off: sampling rate {raw.info['sfreq']:g} Hz cannot hold ICLabel's "
            f"1-100 Hz band"
        )
    needed = MIN_SAMPLES_PER_WEIGHT * len(raw.ch_names) ** 2
    if raw.n_times < needed:
        return (
            f"off: {raw.n_times / raw.info['sfreq']:.0f} s of data; ICA of "
            f"{len(raw.ch_names)} channels needs {needed / raw.info['sfreq']:.0f} s "
            f"({MIN_SAMPLES_PER_WEIGHT} samples per weight)"
        )
    return ""


def remove_ocular_muscle(broad, raw, settings, *, notch_hz=()):
    """Remove eye and muscle components found by ICA and ICLabel.

    Parameters
    ----------
    broad : mne.io.BaseRaw
        The recording before the analysis band-pass, with the same channels,
        interpolations and reference as ``raw`` (filtered here to 1-100 Hz
        for ICA and ICLabel; modified in place).
    raw : mne.io.BaseRaw
        The analysed recording; the components are removed from it in place.
    settings : ArtifactSettings
        Labels removed, probability threshold, ICA method, seed.
    notch_hz : sequence of float
        Mains frequencies removed from ``broad`` too.

    Returns
    -------
    qc : dict
        ``ica`` ("applied"), ``ica_n_components``, ``ica_removed`` (list of
        ``"ICA003 eye blink 0.99"``) and ``ica_label_counts`` (ICLabel's most
        likely class of every component), ``ica_components`` (the removed
        components' scalp maps, :func:`component_maps`).
    """
    import mne
    from mne_icalabel import label_components

    filter_band_and_notch(broad, *ICLABEL_BAND, notch_hz)
    fit_params = {"extended": True}
    if settings.ica_method == "picard":
        fit_params["ortho"] = False
    ica = mne.preprocessing.ICA(
        n_components=settings.ica_n_components,
        method=settings.ica_method,
        fit_params=fit_params,
        max_iter="auto",
        random_state=settings.ica_seed,
        verbose="error",
    )
    # fitting on every other sample of 250 Hz data halves the time and leaves
    # the spatial unmixing (ICA has no time structure) as it is, as long as
    # enough samples remain
    spare = broad.n_times // (MIN_SAMPLES_PER_WEIGHT * len(broad.ch_names) ** 2)
    decim = max(1, min(int(broad.info["sfreq"] // FIT_SFREQ), spare))
    # one BLAS thread: the iterative fit then gives the same bits in the main
    # process and in workers whatever their thread limits (reproducible runs)
    with threadpool_limits(limits=1), warnings.catch_warnings():
        # picard's and MNE's convergence notes are kept in the QC, not raised
        warnings.simplefilter("ignore", category=UserWarning)
        warnings.simplefilter("ignore", category=RuntimeWarning)
        ica.fit(broad, decim=decim, verbose="error")
        labels = label_components(broad, ica, method="iclabel")
        classes = labels["labels"]
        probabilities = labels["y_pred_proba"]
        removed = [
            k
            for k, (label, probability) in enumerate(zip(classes, probabilities))
            if label in settings.ica_labels and probability >= settings.ica_threshold
        ]
        for target in (raw, broad) if removed else ():
            ica.apply(target, exclude=removed, verbose="error")
    counts = {label: classes.count(label) for label in dict.fromkeys(classes)}
    maps = ica.get_components()[:, removed]  # channels x removed components
    muscle_seconds = 0.0
    if settings.muscle_zscore is not None:
        muscle_seconds = annotate_muscle(broad, raw, settings.muscle_zscore)
    return {
        "ica": "applied",
        "muscle_seconds": round(muscle_seconds, 2),
        "ica_n_components": int(ica.n_components_),
        "ica_removed": [
            f"ICA{k:03d} {classes[k]} {probabilities[k]:.2f}" for k in removed
        ],
        "ica_label_counts": counts,
        "ica_components": component_maps(
            ica.ch_names,
            [f"ICA{k:03d}" for k in removed],
            [classes[k] for k in removed],
            [float(probabilities[k]) for k in removed],
            maps,
        ),
    }


ICA_COMPONENT_COLUMNS = ["component", "label", "probability", "channel", "weight"]


def component_maps(ch_names, names, labels, probabilities, maps):
    """Scalp maps of ICA components as a long table (one row per channel).

    Parameters
    ----------
    ch_names : list of str
        Channels of the maps' rows.
    names, labels : list of str
        Component names (``ICA003``) and their ICLabel class.
    probabilities : list of float
        ICLabel's probability of that class.
    maps : ndarray, shape (n_channels, n_components)
        Mixing weights (``ICA.get_components()`` columns).

    Returns
    -------
    table : pandas.DataFrame
        ``ICA_COMPONENT_COLUMNS``.
    """
    import pandas as pd

    n_channels = len(ch_names)
    return pd.DataFrame(
        {
            "component": np.repeat(names, n_channels),
            "label": np.repeat(labels, n_channels),
            "probability": np.repeat(np.round(probabilities, 3), n_channels),
            "channel": np.tile(ch_names, len(names)),
            "weight": np.asarray(maps, float).T.ravel(),
        },
        columns=ICA_COMPONENT_COLUMNS,
    )


def annotate_muscle(broad, raw, threshold):
    """Mark muscle bursts left after ICA as ``BAD_muscle`` in ``raw``.

    MNE's :func:`~mne.preprocessing.annotate_muscle_zscore` on the 1-100 Hz
    copy, in 65-95 Hz (above 50 and 60 Hz mains, below ICLabel's 100 Hz
    edge), where muscle dominates the EEG.

    Parameters
    ----------
    broad : mne.io.Raw
        The 1-100 Hz, average-referenced copy ICA was fitted on.
    raw : mne.io.Raw
        The analysed recording; receives the ``BAD_muscle`` annotations.
    threshold : float
        z-score above which a stretch is marked.

    Returns
    -------
    seconds : float
        Time marked.
    """
    from mne.preprocessing import annotate_muscle_zscore

    annotations, _ = annotate_muscle_zscore(
        broad,
        threshold=threshold,
        ch_type="eeg",
        min_length_good=0.2,
        filter_freq=MUSCLE_BAND,
        verbose="error",
    )
    raw.set_annotations(raw.annotations + annotations)
    return float(np.sum(annotations.duration))


def rejection_threshold(epochs, settings, fixed_uv, *, n_channels):
    """Peak-to-peak threshold (V) for dropping epochs, and where it came from.

    Parameters
    ----------
    epochs : mne.Epochs
        Epochs before rejection.
    settings : ArtifactSettings
        ``autoreject`` and ``ica_min_channels``.
    fixed_uv : float | None
        The fixed threshold (µV; ``None``: keep every epoch).
    n_channels : int
        EEG channels (autoreject needs enough to cross-validate).

    Returns
    -------
    threshold : float | None
        In volts, ``None`` to keep every epoch.
    source : str
        ``"autoreject"``, ``"fixed"`` or ``"none"``.
    """
    if settings.autoreject and n_channels >= settings.ica_min_channels:
        from autoreject import get_rejection_threshold

        if len(epochs) >= 10:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                reject = get_rejection_threshold(
                    epochs,
                    ch_types="eeg",
                    random_state=settings.ica_seed,
                    verbose=False,
                )
            return float(reject["eeg"]), "autoreject"
        logger.info(
            "%d epochs are too few for autoreject's cross-validation; using the "
            "fixed threshold",
            len(epochs),
        )
    if fixed_uv is None:
        return None, "none"
    return fixed_uv * UV, "fixed"


def emg_index(psd, freqs, *, lowpass, band=(30.0, 45.0), total=(1.0, 45.0)):
    """Muscle activity left: power in 30-45 Hz over power in 1-45 Hz.

    Parameters
    ----------
    psd : ndarray, shape (n_channels, n_freqs)
        Mean power spectrum of the clean epochs.
    freqs : ndarray, shape (n_freqs,)
        Frequencies (Hz).
    lowpass : float
        The data's low-pass edge (Hz).
    band, total : (float, float)
        The high-frequency band and the whole band (Hz).

    Returns
    -------
    index : float
        Median over channels of the ratio; NaN when the data or the spectrum
        do not reach the band's upper edge (e.g. after a lower low-pass).
    """
    if lowpass < band[1] - 1e-6 or freqs.max() < band[1] - 1e-6:
        return np.nan
    high = (freqs >= band[0]) & (freqs <= band[1])
    whole = (freqs >= total[0]) & (freqs <= total[1])
    return float(np.median(psd[:, high].sum(axis=1) / psd[:, whole].sum(axis=1)))
