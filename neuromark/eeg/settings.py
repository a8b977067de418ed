"""Typed settings of EEG preprocessing and spectral markers (defaults documented).

They nest into the pipeline config under ``eeg:``; every field has a default,
so ``eeg:`` may be omitted entirely.
"""

from typing import Literal

from pydantic import Field, field_validator, model_validator

from ..utils._settings import StrictModel


def default_bands():
    """Bands of ``atlases/frequency_bands.tsv`` as ``{name: (fmin, fmax)}``."""
    from ..atlases import read_frequency_bands

    table = read_frequency_bands()
    return {row.band: (float(row.fmin), float(row.fmax)) for row in table.itertuples()}


def check_bands(bands, *, sfreq=None):
    """Validate a band dictionary: increasing edges, no overlap, below Nyquist.

    Parameters
    ----------
    bands : dict of str to (float, float)
        Band name to ``(fmin, fmax)`` in Hz.
    sfreq : float | None
        Sampling rate (Hz); when given, every band must lie below Nyquist.

    Returns
    -------
    bands : dict of str to tuple of float
        The same bands, sorted by lower edge.
    """
    if not bands:
        raise ValueError("at least one frequency band is required")
    ordered = sorted(
        ((name, tuple(map(float, edges))) for name, edges in bands.items()),
        key=lambda item: item[1][0],
    )
    for name, (fmin, fmax) in ordered:
        if not 0 <= fmin < fmax:
            raise ValueError(
                f"band {name!r} has inverted or empty edges ({fmin}, {fmax}); "
                "expected 0 <= fmin < fmax"
            )
        if sfreq is not None and fmax > sfreq / 2:
            raise ValueError(
                f"band {name!r} reaches {fmax} Hz but the sampling rate {sfreq} Hz "
                f"only resolves frequencies below {sfreq / 2} Hz"
            )
    for (name_a, (_, fmax_a)), (name_b, (fmin_b, _)) in zip(ordered, ordered[1:]):
        if fmin_b < fmax_a:
            raise ValueError(
                f"bands {name_a!r} and {name_b!r} overlap "
                f"({name_a} ends at {fmax_a} Hz, "
                f"{name_b} starts at {fmin_b} Hz)"
            )
    return dict(ordered)


class BadChannelSettings(StrictModel):
    """Detection of bad channels (interpolated by spherical splines)."""

    detect: bool = Field(True, description="Detect and interpolate bad channels.")
    flat_uv: float = Field(
        0.5,
        ge=0,
        description="A channel whose standard deviation is below this (µV) is flat.",
    )
    deviation_z: float = Field(
        5.0,
        gt=0,
        description="Robust z-score of a channel's log robust amplitude "
        "above which it is noisy (PREP 'deviation' criterion, "
        "Bigdely-Shamlo et al. 2015).",
    )
    deviation_max_correlation: float = Field(
        0.7,
        ge=0,
        le=1,
        description="A deviant channel is bad only if its highest "
        "absolute correlation with another channel is below this: "
        "high amplitude shared "
        "with neighbours is a rhythm (e.g. posterior alpha), not noise.",
    )
    min_correlation: float = Field(
        0.4,
        ge=0,
        le=1,
        description="A channel whose highest absolute correlation with "
        "any other channel is below this is bad (PREP 'correlation' criterion).",
    )
    max_fraction: float = Field(
        0.25,
        gt=0,
        lt=1,
        description="Refuse a recording with more than this fraction of bad channels.",
    )


class ArtifactSettings(StrictModel):
    """Removal of eye and muscle artefacts (ICA + ICLabel) and bad epochs.

    Eye and muscle activity move exactly frontal and beta power, and both
    change when pain changes. ICA runs on a copy filtered at 1-100 Hz with an
    average reference, as ICLabel expects (Pion-Tonachini et al. 2019;
    mne-icalabel); components that ICLabel calls one of ``ica_labels`` with at
    least ``ica_threshold`` probability are removed from the analysed data.
    """

    ica: bool = Field(
        True,
        description="Run ICA and remove the eye and muscle components ICLabel "
        "finds. Off, with the reason in eeg_qc.tsv, below ica_min_channels, "
        "below a 200 Hz sampling rate (ICLabel needs 1-100 Hz) or with fewer "
        "than 20 samples per unmixing weight (channels squared: 82 s for 32 "
        "channels at 250 Hz).",
    )
    ica_min_channels: int = Field(
        16,
        ge=2,
        description="Fewer EEG channels than this: no ICA (too few components "
        "to separate artefacts from brain activity).",
    )
    ica_method: Literal["picard", "infomax"] = Field(
        "picard",
        description="Extended infomax as ICLabel was trained on: 'picard' "
        "(its fast solver, python-picard) or 'infomax' (MNE's).",
    )
    ica_n_components: float | None = Field(
        None,
        gt=0,
        lt=1,
        description="Components: null for the data's rank (one per channel "
        "less those lost to interpolation and the average reference), or the "
        "PCA dimensions explaining this fraction of variance (faster; fewer "
        "components mix brain activity into the removed ones).",
    )
    ica_labels: tuple[
        Literal[
            "eye blink",
            "muscle artifact",
            "heart beat",
            "line noise",
            "channel noise",
        ],
        ...,
    ] = Field(
        ("eye blink", "muscle artifact"),
        description="ICLabel classes removed.",
    )
    ica_threshold: float = Field(
        0.5,
        gt=0,
        le=1,
        description="Remove a component when ICLabel's probability of one of "
        "ica_labels is at least this.",
    )
    ica_seed: int = Field(0, description="Seed of the ICA fit (reproducible).")
    muscle_zscore: float | None = Field(
        4.0,
        gt=0,
        description="After ICA, mark muscle bursts it left (65-95 Hz envelope "
        "z-score above this, MNE's annotate_muscle_zscore) as BAD_muscle, so "
        "their epochs are dropped; null to skip.",
    )
    autoreject: bool = Field(
        True,
        description="Replace the fixed peak-to-peak threshold by a data-driven "
        "one (autoreject's get_rejection_threshold, cross-validated per "
        "recording; Jas et al. 2017); below ica_min_channels the fixed "
        "reject_ptp_uv is used.",
    )


class PreprocessingSettings(StrictModel):
    """Preprocessing of resting EEG before spectra (all steps recorded in QC)."""

    montage: str = Field(
        "colin27_1020",
        description="MNE built-in montage used when the file has no "
        "electrode positions (needed for interpolation and topomaps).",
    )
    rename_channels: dict[str, str] = Field(
        default_factory=dict,
        description="Rename channels before anything else (e.g. {'EXG1': 'VEOG'}). "
        "Names are then matched to the montage case-insensitively, with common "
        "prefixes and reference suffixes removed ('EEG Fp1-REF' -> Fp1).",
    )
    resample_sfreq: float | None = Field(
        None, gt=0, description="Resample to this rate (Hz); null keeps the original."
    )
    l_freq: float | None = Field(
        1.0, ge=0, description="High-pass edge (Hz); null: none."
    )
    h_freq: float | None = Field(
        45.0, gt=0, description="Low-pass edge (Hz); null: none."
    )
    notch: Literal["auto", "off"] | float = Field(
        "auto",
        description="Notch filter at the mains frequency and harmonics: 'auto' "
        "reads PowerLineFrequency from the EEG sidecar, a number forces it, "
        "'off' skips.",
    )
    reference: Literal["average"] | list[str] | None = Field(
        "average",
        description="Re-reference: 'average', a list of channels, or null to "
        "keep the recording's reference.",
    )
    bad_channels: BadChannelSettings = Field(
        default_factory=BadChannelSettings, description="Bad-channel detection."
    )
    epoch_length: float = Field(
        4.0, gt=0, description="Length (s) of the fixed-length epochs."
    )
    reject_ptp_uv: float | None = Field(
        150.0,
        gt=0,
        description="Drop epochs whose peak-to-peak amplitude exceeds this "
        "(µV) on any channel; null keeps all. With artifacts.autoreject the "
        "data-driven threshold is used instead.",
    )
    artifacts: ArtifactSettings = Field(
        default_factory=ArtifactSettings,
        description="ICA with ICLabel, and the data-driven epoch threshold.",
    )
    min_clean_seconds: float = Field(
        30.0, ge=0, description="Refuse a recording with less clean data than this (s)."
    )
    max_clean_duration_difference: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Warn (log and eeg_qc.tsv prepost_differences) when a "
        "participant's pre and post clean durations differ by more than this "
        "fraction of the longer; differing sampling rates, channel sets and "
        "sidecar references are always reported.",
    )

    @field_validator("montage")
    @classmethod
    def _known_montage(cls, montage):
        from mne.channels import get_builtin_montages

        from ..utils._check import check_option

        return check_option("montage", montage, get_builtin_montages())

    @model_validator(mode="after")
    def _filter_edges(self):
        if (
            self.l_freq is not None
            and self.h_freq is not None
            and self.l_freq >= self.h_freq
        ):
            raise ValueError(
                f"l_freq ({self.l_freq}) must be below h_freq ({self.h_freq})"
            )
        return self


class SpectralSettings(StrictModel):
    """Power spectrum and the markers read from it."""

    method: Literal["welch", "multitaper"] = Field(
        "welch", description="PSD estimator: Welch (Hann windows) or multitaper."
    )
    window_seconds: float = Field(
        2.0,
        gt=0,
        description="Welch segment length (s); frequency resolution is its "
        "inverse. Must not exceed the epoch length.",
    )
    overlap: float = Field(
        0.5, ge=0, lt=1, description="Welch segment overlap (fraction)."
    )
    bands: dict[str, tuple[float, float]] = Field(
        default_factory=default_bands,
        description="Frequency bands {name: [fmin, fmax]} "
        "in Hz, half-open [fmin, fmax); default from atlases/frequency_bands.tsv.",
    )
    relative_range: tuple[float, float] = Field(
        (1.0, 45.0),
        description="Frequency range (Hz) of the total power that relative "
        "power divides by.",
    )
    paf_range: tuple[float, float] = Field(
        (7.0, 14.0), description="Search range (Hz) of the peak alpha frequency."
    )
    paf_min_z: float = Field(
        5.0,
        gt=0,
        description="Height above the aperiodic fit, in standard errors of the "
        "log spectrum, that a FOOOF peak in paf_range needs to give a PAF; below "
        "it PAF and its centre of gravity are NaN. On pure 1/f noise the tallest "
        "alpha-range peak stays below 4.4 (600 spectra, 8-30 epochs).",
    )
    min_r_squared: float = Field(
        0.9,
        ge=0,
        le=1,
        description="Aperiodic fits with a lower r² give NaN aperiodic and "
        "periodic markers (and no PAF).",
    )
    cog_range: tuple[float, float] = Field(
        (8.0, 12.0),
        description="Range (Hz) of the alpha centre of gravity (Furman et "
        "al. 2018 used 8-12 Hz).",
    )
    aperiodic_mode: Literal["fixed", "knee"] = Field(
        "fixed",
        description="Aperiodic model: a straight line in log-log axes (fixed) "
        "or one with a bend (knee), for wide ranges or spectra that flatten at "
        "low frequencies. Every recording's QC keeps the r² of both on its "
        "mean spectrum (aperiodic_r2_fixed, aperiodic_r2_knee) so the choice "
        "rests on the data.",
    )
    aperiodic_range: tuple[float, float] = Field(
        (2.0, 40.0),
        description="Fit range (Hz) of the aperiodic (1/f) component "
        "(FOOOF/specparam, Donoghue et al. 2020).",
    )
    periodic_bands: tuple[str, ...] = Field(
        ("alpha", "beta"),
        description="Bands whose aperiodic-corrected markers are reported: the "
        "height of the tallest FOOOF peak above the 1/f fit (0 without a peak "
        "paf_min_z standard errors high) and the mean log spectrum above the fit.",
    )
    asymmetry_pairs: tuple[tuple[str, str], ...] = Field(
        (("F4", "F3"),),
        description="Channel pairs (right, left) for alpha asymmetry "
        "ln(P_right) - ln(P_left) (Allen et al. 2004).",
    )
    regions: bool = Field(
        True,
        description="Also report markers of the electrode regions in "
        "atlases/eeg_regions.tsv.",
    )

    @field_validator("bands")
    @classmethod
    def _valid_bands(cls, bands):
        return check_bands(bands)

    @model_validator(mode="after")
    def _ranges(self):
        for name in ("relative_range", "paf_range", "cog_range", "aperiodic_range"):
            low, high = getattr(self, name)
            if not 0 <= low < high:
                raise ValueError(f"{name} must be increasing, got ({low}, {high})")
        unknown = [b for b in self.periodic_bands if b not in self.bands]
        if unknown:
            raise ValueError(
                f"periodic_bands {unknown} are not in bands {list(self.bands)}"
            )
        return self


class ConnectivitySettings(StrictModel):
    """Sensor connectivity between the electrode regions of atlases/eeg_regions.tsv."""

    enabled: bool = Field(True, description="Compute region-to-region connectivity.")
    methods: tuple[Literal["wpli2_debiased", "ppc", "coh", "plv"], ...] = Field(
        ("wpli2_debiased",),
        min_length=1,
        description="Measures: debiased wPLI (the default: near 0 on independent "
        "signals whatever the epoch count, blind to zero-lag volume conduction), "
        "pairwise phase consistency (debiased PLV², counts zero-lag mixing), "
        "coherence and phase-locking value (both biased upwards by few epochs).",
    )
    n_epochs: int | None = Field(
        20,
        ge=2,
        description="Clean epochs every recording's connectivity is estimated "
        "from, evenly spaced through the recording, so sessions and "
        "participants that kept different numbers are comparable; a recording "
        "with fewer gets missing connectivity and the reason in eeg_qc.tsv. "
        "null: all clean epochs (counts then differ; features_wide.tsv carries "
        "them as qc_eeg_n_epochs_<session>).",
    )
    bands: tuple[str, ...] = Field(
        ("alpha", "beta"),
        min_length=1,
        description="Bands (names from spectral.bands) to average connectivity over.",
    )


class EEGSettings(StrictModel):
    """EEG settings of the pipeline."""

    preprocessing: PreprocessingSettings = Field(
        default_factory=PreprocessingSettings, description="Preprocessing."
    )
    spectral: SpectralSettings = Field(
        default_factory=SpectralSettings, description="Spectra and spectral markers."
    )
    connectivity: ConnectivitySettings = Field(
        default_factory=ConnectivitySettings, description="Sensor connectivity."
    )
    eyes: Literal["auto", "closed", "open"] = Field(
        "auto",
        description="Eyes condition of the resting recordings: 'auto' reads it "
        "from the file name's acq or task entity (eyesclosed, closed, ec; "
        "eyesopen, open, eo), 'closed' or 'open' declares it for recordings "
        "whose names do not say. Recorded in eeg_qc.tsv (eyes).",
    )
    allow_mixed_eyes: bool = Field(
        False,
        description="Pair a participant's pre and post recordings made in "
        "different eyes conditions (alpha differs several-fold between them); "
        "by default the post recording is not paired and the reason is logged.",
    )

    @model_validator(mode="after")
    def _connectivity_bands(self):
        unknown = [b for b in self.connectivity.bands if b not in self.spectral.bands]
        if unknown:
            raise ValueError(
                f"connectivity.bands {unknown} are not in spectral.bands "
                f"{list(self.spectral.bands)}"
            )
        return self

    @model_validator(mode="after")
    def _window_fits_epoch(self):
        if self.spectral.window_seconds > self.preprocessing.epoch_length:
            raise ValueError(
                f"spectral.window_seconds ({self.spectral.window_seconds}) exceeds "
                f"preprocessing.epoch_length ({self.preprocessing.epoch_length})"
            )
        return self
