"""scikit-learn transformer from fMRIPrep runs to cleaned ROI time series."""

from pathlib import Path

from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ..exceptions import DataFileError
from .features import run_signals, settings_atlas
from .settings import FMRISettings
from .signals import csf_probability, load_run


class ROITimeSeries(TransformerMixin, BaseEstimator):
    """Cleaned ROI time series of fMRIPrep runs (a masker for the pain circuit).

    Chain it with :class:`~neuromark.fmri.ConnectivityFeatures` or
    :class:`~neuromark.fmri.TangentConnectivity` in a pipeline.

    Parameters
    ----------
    settings : FMRISettings | dict | None
        Denoising, ROIs and smoothing (defaults if ``None``).

    Attributes
    ----------
    settings_ : FMRISettings
        Validated settings.
    labels_ : list of str
        ROI names every run must cover.

    Notes
    -----
    ``X`` is a sequence of runs, each a mapping with keys ``bold`` and
    ``confounds`` (paths) and optionally ``mask``, ``sidecar`` and ``csf``. A run in
    which a ROI has no brain voxel is refused, since group models need the
    same ROIs in every participant.
    """

    def __init__(self, settings=None):
        self.settings = settings

    def __sklearn_tags__(self):
        """Declare the input: a sequence of runs (file paths), not a 2-D array."""
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        return tags

    def fit(self, X=None, y=None):
        """Validate the settings and read the atlas (nothing is learned from data).

        Returns
        -------
        self : ROITimeSeries
        """
        settings = self.settings
        if settings is None:
            settings = FMRISettings()
        elif isinstance(settings, dict):
            settings = FMRISettings(**settings)
        self.settings_ = settings
        self.labels_ = settings_atlas(settings).labels
        return self

    def transform(self, X):
        """Return one ``(n_kept, n_rois)`` array of cleaned signals per run."""
        check_is_fitted(self)
        series = []
        for run in X:
            img, mask, confounds, tr = load_run(
                run["bold"],
                confounds=run["confounds"],
                mask=run.get("mask"),
                sidecar=run.get("sidecar"),
            )
            csf = run.get("csf")
            signals, qc, _ = run_signals(
                img,
                mask,
                confounds,
                tr,
                self.settings_,
                csf=csf_probability(csf, img) if csf else None,
                confounds_source=run["confounds"],
            )
            if list(signals.columns) != self.labels_:
                raise DataFileError(
                    Path(run["bold"]),
                    "ROIs without brain voxels: "
                    f"{qc['rois_excluded']}; every run needs all of "
                    f"{self.labels_}",
                )
            series.append(signals.to_numpy())
        return series
