"""JSON sidecars describing the columns of every output table (BIDS derivatives).

Each ``<table>.tsv`` gets a ``<table>.json`` mapping its columns to a
``Description`` (and ``Units`` where there is one), as BIDS asks of tabular
files. Wide-table columns are described from their name (through the feature
vocabulary); every other column has an entry here, and a test keeps this
dictionary complete for the tables a full run writes.
"""

from ..features import split_column

_UNIT = {
    "participant_id": "Participant (sub-<label>).",
    "session": "BIDS session label.",
    "modality": "eeg or fmri.",
}
_MARKER = _UNIT | {
    "feature": "Neuromarker name (see the README's EEG and fMRI sections).",
    "location": "EEG channel, EEG region, channel pair R-L, or edge A~B.",
}
_INTERVAL = {
    "ci_low": "Lower bound of the confidence interval of the estimate.",
    "ci_high": "Upper bound of the confidence interval of the estimate.",
}
_FAMILY = {
    "family": "confirmatory (declared in stats.confirmatory) or exploratory.",
    "q": "Benjamini-Hochberg q within the row's family.",
    "significant": "Significant after the family's FDR control "
    "(two-stage over marker groups for exploratory rows).",
}

# the columns naming a prediction analysis (the primary one for importance)
_ANALYSIS = {
    "scope": "Scope of the analysis (pooled or an intervention).",
    "modality": "Modality of the analysis.",
    "feature_set": "Feature set of the analysis.",
    "markers": "Markers of the analysis (pre-specified or all).",
    "model": "Model of the analysis.",
}

COLUMNS = {
    "participants": {
        "participant_id": _UNIT["participant_id"],
        "intervention": "Treatment arm (TENS, NIBS, mindfulness, sham...).",
        "site": "Recording site.",
        "age": ("Age.", "years"),
        "sex": "Sex as given in participants.tsv.",
        "pain_pre": ("Pain before treatment.", "0-10 NRS"),
        "pain_post": ("Pain after treatment.", "0-10 NRS"),
        "pain_reduction": ("(pain_pre - pain_post) / pain_pre.", "fraction"),
        "responder": "1 if the pain reduction reaches responder_threshold "
        "(or as labelled in participants.tsv), else 0.",
        "responder_source": "threshold (computed) or participants.tsv (given).",
    },
    "dataset_summary": {
        "participant_id": _UNIT["participant_id"],
        "intervention": "Treatment arm.",
        "responder": "Responder label (1/0).",
        "n_recordings": "Usable recordings of the participant.",
        "*": "ok, missing or error: the recording of that modality and session.",
    },
    "recordings": _UNIT
    | {
        "path": "Recording file, relative to the BIDS root.",
        "status": "ok, or error (see logs/errors.tsv).",
        "sfreq": ("EEG sampling rate.", "Hz"),
        "n_channels": "EEG channels in the file.",
        "duration_s": ("EEG duration.", "s"),
        "n_volumes": "BOLD volumes.",
        "tr": ("BOLD repetition time.", "s"),
        "shape": "BOLD grid (3 numbers).",
        "voxel_size_mm": ("BOLD voxel size (3 numbers).", "mm"),
    },
    "errors": _UNIT
    | {
        "path": "File concerned (n/a for a group step).",
        "problem": "What went wrong, in one line.",
        "stage": "Step at which the recording was left out.",
    },
    "features_long": _MARKER
    | {
        "value": "Value of the neuromarker (NaN: not measurable; the reason "
        "is in the QC tables).",
        "unit": "Unit of the value.",
    },
    "eeg_spectra": _UNIT
    | {
        "location": "EEG region.",
        "freq": ("Frequency.", "Hz"),
        "psd": ("Mean power spectral density of the region's channels.", "µV²/Hz"),
    },
    "eeg_channel_spectra": _UNIT
    | {
        "location": "EEG channel (bad channels are interpolated; see eeg_qc).",
        "freq": ("Frequency.", "Hz"),
        "psd": ("Power spectral density, mean over clean epochs.", "µV²/Hz"),
    },
    "eeg_ica_components": _UNIT
    | {
        "component": "ICA component removed from the recording.",
        "label": "Its ICLabel class.",
        "probability": "ICLabel's probability of that class.",
        "channel": "EEG channel.",
        "weight": ("Mixing weight at the channel (the scalp map).", "a.u."),
    },
    "eeg_qc": _UNIT
    | {
        "sfreq": ("Sampling rate analysed (after resampling).", "Hz"),
        "recorded_sfreq": ("Sampling rate of the file.", "Hz"),
        "n_channels": "EEG channels analysed.",
        "channels": "EEG channel names.",
        "bad_channels": "Bad channels (name:criterion), interpolated.",
        "notch_hz": ("Notch frequencies applied.", "Hz"),
        "notch_missing_reason": "Why no notch was applied (unknown mains).",
        "reference": "Re-reference applied.",
        "montage": "Electrode positions: from file, or the built-in montage.",
        "ica": "applied, or why ICA was off.",
        "muscle_seconds": ("Time marked BAD_muscle after ICA.", "s"),
        "ica_n_components": "ICA components fitted.",
        "ica_removed": "Components removed (index, ICLabel label, probability).",
        "ica_label_counts": "ICLabel labels of all components.",
        "ptp_threshold_uv": ("Peak-to-peak epoch rejection threshold.", "µV"),
        "ptp_threshold_source": "autoreject (data-driven) or fixed.",
        "n_epochs": "Clean epochs kept.",
        "n_epochs_rejected": "Epochs over the peak-to-peak threshold.",
        "n_epochs_bad_annotation": "Epochs overlapping BAD_ annotations.",
        "clean_seconds": ("Clean data analysed.", "s"),
        "channels_renamed": "Channels renamed to 10-20 names (old:new).",
        "non_eeg_channels": "Channels typed EOG/ECG/EMG/misc and left out.",
        "channels_not_in_montage": "Channels without a position in the montage.",
        "n_channels_alpha_peak": "Channels with an alpha peak above the noise.",
        "n_channels_beta_peak": "Channels with a beta peak above the noise.",
        "regions_without_alpha_peak": "Regions whose PAF is missing.",
        "paf_missing_reason": "Why PAF is missing where it is.",
        "n_fits_below_r2": "Aperiodic fits below min_r_squared (markers NaN).",
        "median_fit_r2": "Median r² of the aperiodic fits.",
        "fit_r2": "r² of each location's aperiodic fit.",
        "fit_error": "Mean absolute error of each location's fit (log10 power).",
        "emg_index": ("30-45 Hz power over total power (muscle).", "fraction"),
        "aperiodic_mode": "fixed or knee: the aperiodic model of the markers.",
        "aperiodic_r2_fixed": "r² of the fixed model on the mean spectrum.",
        "aperiodic_r2_knee": "r² of the knee model on the mean spectrum.",
        "aperiodic_knee_hz": ("Knee frequency of the knee model.", "Hz"),
        "n_epochs_connectivity": "Epochs used for connectivity (0: missing).",
        "connectivity_missing_reason": "Why connectivity is missing.",
        "recorded_reference": "EEGReference of the sidecar.",
        "eyes": "closed or open (resting condition).",
        "eyes_source": "Where the eyes condition came from.",
        "prepost_differences": "Differences between pre and post recordings "
        "(sampling rate, channels, reference, clean duration).",
    },
    "fmri_qc": _UNIT
    | {
        "tr": ("Repetition time.", "s"),
        "csf_map": "fMRIPrep CSF probability map used to clean ROIs.",
        "n_volumes": "Volumes in the run.",
        "n_kept": "Volumes kept after censoring.",
        "n_non_steady_state": "Non-steady-state volumes censored.",
        "fraction_censored": ("Volumes censored.", "fraction"),
        "kept_seconds": ("Data kept.", "s"),
        "mean_fd": ("Mean framewise displacement.", "mm"),
        "fd_source": "Confounds column of the framewise displacement.",
        "fd_threshold": ("FD censoring threshold.", "mm"),
        "std_dvars_threshold": "Standardised DVARS censoring threshold.",
        "n_regressors": "Nuisance regressors.",
        "n_physio_regressors": "Physiological regressors among them.",
        "degrees_of_freedom": "Temporal degrees of freedom left.",
        "rois_used": "ROIs with brain voxels.",
        "rois_excluded": "ROIs left out, and why.",
        "partial_missing_reason": "Why partial correlation is missing.",
    },
    "fmri_roi_qc": _UNIT
    | {
        "roi": "ROI label.",
        "n_expected": "Voxels of the ROI on this grid.",
        "n_in_image": "Of those, inside the field of view.",
        "n_in_brain": "Of those, inside the brain mask.",
        "coverage": ("n_in_brain / n_expected.", "fraction"),
        "status": "ok, or why the ROI is not used.",
        "reason": "Reason of the status.",
        "n_csf_removed": "Voxels removed as CSF.",
        "csf_fraction_removed": ("Voxels removed as CSF.", "fraction"),
        "n_voxels": "Voxels averaged.",
        "tsnr": "Median temporal SNR of the ROI's voxels.",
        "n_nonfinite": "Voxels with non-finite values.",
        "definition": "PAG definition (traced, sphere4...), or the atlas.",
    },
    "fmri_pag_sensitivity": _MARKER
    | {
        "definition": "PAG definition.",
        "value": "Fisher z connectivity of the edge under that definition.",
        "n_voxels": "PAG voxels under that definition.",
    },
    "fmri_qcfc": {
        "session": _UNIT["session"],
        "location": "Edge A~B.",
        "n": "Participants.",
        "r": "Correlation across participants of the edge with mean FD.",
        "p": "p-value of r.",
        "distance_mm": ("Distance between the ROI centres.", "mm"),
    },
    "stats_prepost": _MARKER
    | _INTERVAL
    | {
        "intervention": "Treatment arm.",
        "n": "Participants with both sessions.",
        "mean_pre": "Mean before treatment.",
        "mean_post": "Mean after treatment.",
        "mean_change": "Mean post - pre.",
        "sd_change": "SD of the change.",
        "r_prepost": "Correlation of pre and post.",
        "d_z": "Standardised mean change (change / SD of change).",
        "d_z_ci_low": "Lower bound of d_z's interval.",
        "d_z_ci_high": "Upper bound of d_z's interval.",
        "d_av": "Change / mean SD of pre and post.",
        "d_av_ci_low": "Lower bound of d_av's interval.",
        "d_av_ci_high": "Upper bound of d_av's interval.",
        "g_z": "Small-sample corrected d_z.",
        "t": "Paired t statistic.",
        "p_t": "Paired t-test p-value.",
        "p_wilcoxon": "Wilcoxon signed-rank p-value.",
        "p_signflip": "Sign-flip permutation p-value.",
        "q_t": "Benjamini-Hochberg q of p_t within the intervention.",
        "q_signflip": "Benjamini-Hochberg q of p_signflip within the intervention.",
        "analysis": "descriptive (within-arm): change includes time and placebo.",
        "family": _FAMILY["family"],
    },
    "stats_treatment": _MARKER
    | _INTERVAL
    | _FAMILY
    | {
        "intervention": "Treatment arm compared with the control arm.",
        "control": "The control arm.",
        "n": "Participants of the arm.",
        "n_control": "Participants of the control arm.",
        "estimate": "ANCOVA difference of post (adjusted for pre) vs control.",
        "t": "t statistic of the estimate.",
        "p": "p-value of the estimate.",
        "d": "Estimate over the residual SD.",
        "df": "Residual degrees of freedom.",
        "covariates": "Covariates of the model (site, motion change).",
    },
    "stats_responders": _MARKER
    | {
        "intervention": "Treatment arm.",
        "n_a": "Responders.",
        "n_b": "Non-responders.",
        "mean_a": "Responders' mean change.",
        "mean_b": "Non-responders' mean change.",
        "difference": "mean_a - mean_b.",
        "hedges_g": "Standardised difference (Hedges' g).",
        "t": "Welch t statistic.",
        "p_welch": "Welch t-test p-value.",
        "p_permutation": "Permutation p-value.",
        "q_welch": "Benjamini-Hochberg q of p_welch within the intervention.",
        "q_permutation": "Benjamini-Hochberg q of p_permutation.",
        "family": _FAMILY["family"],
    },
    "stats_reliability": _MARKER
    | {
        "icc_1_1": "ICC(1,1).",
        "icc_2_1": "ICC(2,1), absolute agreement (the figure to report).",
        "icc_2_1_ci_low": "Lower bound of ICC(2,1)'s interval.",
        "icc_2_1_ci_high": "Upper bound of ICC(2,1)'s interval.",
        "icc_3_1": "ICC(3,1), consistency.",
        "icc_1_k": "ICC(1,k).",
        "icc_2_k": "ICC(2,k).",
        "icc_3_k": "ICC(3,k).",
        "n": "Control-arm participants with both sessions.",
        "family": _FAMILY["family"],
    },
    "stats_pag_sensitivity": _INTERVAL
    | {
        "location": "PAG edge.",
        "definition": "PAG definition.",
        "main": "True for the definition of the main analysis.",
        "n_runs": "Runs with the edge.",
        "median_voxels": "Median PAG voxels.",
        "agreement_r": "Correlation with the main definition's values.",
        "agreement_icc": "ICC with the main definition's values.",
        "intervention": "Treatment arm compared with control.",
        "estimate": "Treatment effect under this definition.",
        "p": "p-value of the estimate.",
        "significant": "p below 0.05.",
        "same_conclusion": "Same significance as the main definition.",
        "baseline_auc": "AUC of the baseline edge for response.",
        "baseline_p": "p-value of baseline_auc.",
    },
    "prediction/metrics": {
        "scope": "pooled, or one intervention.",
        "modality": "eeg, fmri, combined, or none (baselines).",
        "feature_set": "baseline (prognostic), change or both.",
        "markers": "pre-specified or all.",
        "model": "Classifier, or dummy / arm / site / clinical baselines.",
        "question": "prognostic, concurrent association or reference.",
        "role": "primary, secondary or reference.",
        "n": "Participants.",
        "n_responders": "Responders.",
        "n_features": "Columns of the design.",
        "status": "ok, or why the analysis was skipped.",
        "auc": "Out-of-fold ROC AUC (mean over repetitions).",
        "pr_auc": "Out-of-fold average precision.",
        "balanced_accuracy": "Out-of-fold balanced accuracy.",
        "sensitivity": "Out-of-fold sensitivity.",
        "specificity": "Out-of-fold specificity.",
        "brier": "Brier score of the predicted risks.",
        "calibration_slope": "Calibration slope (ideal 1).",
        "calibration_intercept": "Calibration-in-the-large (ideal 0).",
        "auc_ci_low": "Lower bound of the AUC (out-of-bag bootstrap, BBC-CV).",
        "auc_ci_high": "Upper bound of the AUC.",
        "p_permutation": "Permutation p-value (within intervention x site).",
        "p_fwer": "Max-T family-wise p-value over secondary analyses.",
        "auc_increment": "AUC gain over the arm/site baseline.",
        "auc_increment_ci_low": "Lower bound of the increment.",
        "auc_increment_ci_high": "Upper bound of the increment.",
        "p_increment": "Permutation p-value of the increment.",
    },
    "prediction/oof_predictions": _ANALYSIS
    | {
        "participant_id": _UNIT["participant_id"],
        "responder": "Observed label (1/0).",
        "score": "Out-of-fold predicted risk (or decision value).",
    },
    "prediction/permutation_null": _ANALYSIS
    | {
        "null_auc": "AUC under one permutation of the labels.",
    },
    "prediction/importance": {
        "feature": "Marker family (or feature) permuted together.",
        "n_features": "Columns in the family.",
        "importance": "Mean drop of held-out AUC when permuted.",
        "sd": "SD of the drop over folds.",
    }
    | _ANALYSIS,
}
_WIDE_SUFFIX = {
    "pre": "before treatment",
    "post": "after treatment",
    "change": "post - pre",
}


def _entry(description):
    if isinstance(description, tuple):
        return {"Description": description[0], "Units": description[1]}
    return {"Description": description}


def describe_column(table, column):
    """Describe one column of an output table.

    Parameters
    ----------
    table : str
        Table name (``eeg_qc``, ``prediction/metrics``, ``logs/errors``...).
    column : str
        Column name.

    Returns
    -------
    entry : dict | None
        ``Description`` (and ``Units``), or None if the column is unknown.
    """
    name = table.removeprefix("logs/")
    known = COLUMNS.get(name, {})
    if column in known:
        return _entry(known[column])
    parsed = split_column(column)
    if name == "features_wide" and parsed is not None:
        stem, suffix = parsed
        return _entry(f"{stem} {_WIDE_SUFFIX[suffix]} (see features_long.tsv).")
    if name == "features_wide" and column.startswith("qc_"):
        return _entry(f"Per-session QC carried with the features: {column}.")
    if name == "features_wide" and column == "participant_id":
        return _entry(_UNIT["participant_id"])
    if "*" in known:
        return _entry(known["*"])
    return None


def column_sidecar(table, frame):
    """Build the BIDS sidecar of an output table: every column described.

    Parameters
    ----------
    table : str
        Table name.
    frame : pandas.DataFrame
        The table.

    Returns
    -------
    sidecar : dict
        Column -> ``{"Description": ..., "Units": ...}``; a column this
        module does not know gets a description saying so (a test keeps
        that from happening in a full run).
    """
    return {
        column: describe_column(table, column)
        or {"Description": "Not described (please report)."}
        for column in frame.columns
    }
