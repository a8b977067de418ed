"""scikit-learn transformers of EEG segments into spectral features.

They let spectral markers sit inside a cross-validated
:class:`sklearn.pipeline.Pipeline` next to scalers and classifiers. Input is
an array of segments (epochs or whole recordings), ``(n_samples, n_channels,
n_times)`` or ``(n_samples, n_times)`` for one channel, in volts by default,
or an :class:`mne.Epochs` object (its EEG channels, bad ones left out).
"""

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from ..utils._check import check_option
from . import spectral


class _SegmentSpectra(TransformerMixin, BaseEstimator):
    """Shared validation and Welch PSD of segment arrays (not public)."""

    def _validate(self, X, reset):
        X = self._epochs_data(X)
        # a spectrum needs at least 2 samples; later calls check the fitted shape
        X = validate_data(
            self,
            X,
            reset=reset,
            allow_nd=True,
            dtype=np.float64,
            ensure_min_features=2 if reset else 1,
        )
        if X.ndim == 2:
            X = X[:, np.newaxis, :]
        if X.ndim != 3:
            raise ValueError(
                "X must be (n_samples, n_times) or (n_samples, n_channels, n_times), "
                f"got shape {X.shape}"
            )
        if reset:
            self.n_channels_ = X.shape[1]
        return X

    def _epochs_data(self, X):
        """Return the EEG data of ``mne.Epochs`` (sfreq checked), else X."""
        import mne

        if not isinstance(X, mne.BaseEpochs):
            return X
        if not np.isclose(X.info["sfreq"], self.sfreq):
            raise ValueError(
                f"the epochs are sampled at {X.info['sfreq']:g} Hz but sfreq="
                f"{self.sfreq:g}; set sfreq=epochs.info['sfreq']"
            )
        return X.get_data(picks="eeg")

    def _psd(self, X):
        """Welch PSD of each sample, shape (n_samples, n_channels, n_freqs)."""
        window = min(self.window_seconds, X.shape[-1] / self.sfreq)
        return spectral.psd_array(
            X,
            self.sfreq,
            window_seconds=window,
            overlap=self.overlap,
            average=False,
            scaling=self.scaling,
        )


class BandPower(_SegmentSpectra):
    """Band power of each channel of each segment (Welch, Hann windows).

    Parameters
    ----------
    sfreq : float
        Sampling rate (Hz).
    bands : dict of str to (float, float) | None
        Bands ``{name: (fmin, fmax)}`` (Hz, half-open); ``None`` uses
        ``atlases/frequency_bands.tsv``.
    kind : "absolute" | "relative" | "log"
        Absolute power (input units² x ``scaling``²), relative to
        ``relative_range``, or log10 of absolute power.
    relative_range : (float, float)
        Total-power range for ``kind="relative"`` (Hz).
    window_seconds : float
        Welch segment length (s), shortened to the sample length if longer.
    overlap : float
        Welch overlap (fraction).
    scaling : float
        Factor applied to the input before squaring (1e6: volts to µV).

    Attributes
    ----------
    bands_ : dict
        The validated bands.
    n_channels_ : int
        Channels seen at fit.
    n_features_in_ : int
        Second dimension of ``X`` at fit (channels, or samples for 2D input).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).standard_normal((5, 2, 500)) * 1e-5
    >>> BandPower(sfreq=250.0).fit_transform(X).shape  # 2 channels x 5 bands
    (5, 10)
    """

    def __init__(
        self,
        sfreq=250.0,
        bands=None,
        kind="absolute",
        relative_range=(1.0, 45.0),
        window_seconds=2.0,
        overlap=0.5,
        scaling=1e6,
    ):
        self.sfreq = sfreq
        self.bands = bands
        self.kind = kind
        self.relative_range = relative_range
        self.window_seconds = window_seconds
        self.overlap = overlap
        self.scaling = scaling

    def fit(self, X, y=None):
        """Validate parameters and remember the input shape.

        Parameters
        ----------
        X : ndarray, shape (n_samples, n_channels, n_times) or (n_samples, n_times)
            Segments, or :class:`mne.Epochs` sampled at ``sfreq``.
        y : None
            Ignored.

        Returns
        -------
        self : BandPower
        """
        from .settings import check_bands, default_bands

        check_option("kind", self.kind, ("absolute", "relative", "log"))
        self._validate(X, reset=True)
        self.bands_ = check_bands(
            self.bands if self.bands is not None else default_bands(), sfreq=self.sfreq
        )
        return self

    def transform(self, X):
        """Band power of every channel and band.

        Parameters
        ----------
        X : ndarray, shape (n_samples, n_channels, n_times) or (n_samples, n_times)
            Segments (or :class:`mne.Epochs`), with the shape seen at fit.

        Returns
        -------
        features : ndarray, shape (n_samples, n_channels * n_bands)
            Channel-major: all bands of channel 0, then channel 1...
        """
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        psd, freqs = self._psd(X)
        powers = np.stack(
            [spectral.band_power(psd, freqs, *edges) for edges in self.bands_.values()],
            axis=-1,
        )
        if self.kind == "relative":
            powers = (
                powers
                / spectral.band_power(psd, freqs, *self.relative_range)[..., None]
            )
        elif self.kind == "log":
            powers = np.log10(powers)
        return powers.reshape(len(X), -1)

    def get_feature_names_out(self, input_features=None):
        """Names ``ch<k>_<band>`` of the output columns."""
        check_is_fitted(self)
        return np.array(
            [f"ch{k}_{band}" for k in range(self.n_channels_) for band in self.bands_],
            dtype=object,
        )
