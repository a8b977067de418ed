"""fMRI: PAG-ACC-PFC functional connectivity from fMRIPrep outputs."""

from .connectivity import (
    ConnectivityFeatures,
    TangentConnectivity,
    connectivity_matrix,
    edge_table,
    fisher_z,
)
from .denoise import censoring_mask, clean_signals, confound_columns, select_confounds
from .estimators import ROITimeSeries
from .features import (
    pag_sensitivity,
    recording_features,
    run_features,
    run_signals,
    settings_atlas,
)
from .rois import (
    ImageAtlas,
    SphereAtlas,
    make_label_image,
    read_atlas,
    read_pag_trace,
    with_pag,
)
from .settings import DenoisingSettings, FMRISettings, ROISettings
from .signals import as_run, csf_probability, load_run, roi_signals

__all__ = [
    "as_run",
    "ConnectivityFeatures",
    "DenoisingSettings",
    "FMRISettings",
    "ImageAtlas",
    "ROISettings",
    "ROITimeSeries",
    "SphereAtlas",
    "TangentConnectivity",
    "censoring_mask",
    "clean_signals",
    "confound_columns",
    "csf_probability",
    "connectivity_matrix",
    "edge_table",
    "fisher_z",
    "load_run",
    "make_label_image",
    "pag_sensitivity",
    "read_atlas",
    "read_pag_trace",
    "recording_features",
    "roi_signals",
    "run_features",
    "run_signals",
    "select_confounds",
    "settings_atlas",
    "with_pag",
]
