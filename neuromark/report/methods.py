"""A methods paragraph a user can paste into a paper, written from the run.

Like fMRIPrep's boilerplate, the text is built from the settings the run
used and the package versions it ran with, so it says what was done, not
what the defaults would have done. Each step cites its method.
"""

import html

# short key -> full reference (the order of first use sets the numbering)
REFERENCES = {
    "mne": "Gramfort A, et al. (2013). MEG and EEG data analysis with "
    "MNE-Python. Frontiers in Neuroscience 7:267.",
    "picard": "Ablin P, Cardoso J-F, Gramfort A (2018). Faster independent "
    "component analysis by preconditioning with Hessian approximations. IEEE "
    "Transactions on Signal Processing 66:4040-4049.",
    "iclabel": "Pion-Tonachini L, Kreutz-Delgado K, Makeig S (2019). ICLabel: an "
    "automated electroencephalographic independent component classifier, dataset, "
    "and website. NeuroImage 198:181-197.",
    "mne-icalabel": "Li A, et al. (2022). MNE-ICALabel: automatically annotating "
    "ICA components with ICLabel in Python. Journal of Open Source Software 7:4484.",
    "autoreject": "Jas M, et al. (2017). Autoreject: automated artifact rejection "
    "for MEG and EEG data. NeuroImage 159:417-429.",
    "welch": "Welch P (1967). The use of fast Fourier transform for the "
    "estimation of power spectra. IEEE Transactions on Audio and "
    "Electroacoustics 15:70-73.",
    "fooof": "Donoghue T, et al. (2020). Parameterizing neural power spectra into "
    "periodic and aperiodic components. Nature Neuroscience 23:1655-1665.",
    "cog": "Corcoran AW, et al. (2018). Toward a reliable, automated method of "
    "individual alpha frequency (IAF) quantification. Psychophysiology "
    "55:e13064.",
    "wpli": "Vinck M, et al. (2011). An improved index of phase-synchronization "
    "for electrophysiological data in the presence of volume-conduction, noise "
    "and sample-size bias. NeuroImage 55:1548-1565.",
    "fmriprep": "Esteban O, et al. (2019). fMRIPrep: a robust preprocessing "
    "pipeline for functional MRI. Nature Methods 16:111-116.",
    "nilearn": "Abraham A, et al. (2014). Machine learning for neuroimaging with "
    "scikit-learn. Frontiers in Neuroinformatics 8:14.",
    "friston24": "Friston KJ, et al. (1996). Movement-related effects in fMRI "
    "time-series. Magnetic Resonance in Medicine 35:346-355.",
    "compcor": "Behzadi Y, et al. (2007). A component based noise correction "
    "method (CompCor) for BOLD and perfusion based fMRI. NeuroImage 37:90-101.",
    "scrubbing": "Power JD, et al. (2014). Methods to detect, characterize, and "
    "remove motion artifact in resting state fMRI. NeuroImage 84:320-341.",
    "ciric": "Ciric R, et al. (2017). Benchmarking of participant-level "
    "confound regression strategies for the control of motion artifact in "
    "studies of functional connectivity. NeuroImage 154:174-187.",
    "ancova": "Vickers AJ, Altman DG (2001). Analysing controlled trials with "
    "baseline and follow up measurements. BMJ 323:1123-1124.",
    "bh": "Benjamini Y, Hochberg Y (1995). Controlling the false discovery rate: "
    "a practical and powerful approach to multiple testing. Journal of the Royal "
    "Statistical Society B 57:289-300.",
    "bb": "Benjamini Y, Bogomolov M (2014). Selective inference on multiple "
    "families of hypotheses. Journal of the Royal Statistical Society B "
    "76:297-318.",
    "icc": "Koo TK, Li MY (2016). A guideline of selecting and reporting "
    "intraclass correlation coefficients for reliability research. Journal of "
    "Chiropractic Medicine 15:155-163.",
    "immpact": "Dworkin RH, et al. (2008). Interpreting the clinical importance "
    "of treatment outcomes in chronic pain clinical trials: IMMPACT "
    "recommendations. Journal of Pain 9:105-121.",
    "sklearn": "Pedregosa F, et al. (2011). Scikit-learn: machine learning in "
    "Python. Journal of Machine Learning Research 12:2825-2830.",
    "permutation": "Ojala M, Garriga GC (2010). Permutation tests for studying "
    "classifier performance. Journal of Machine Learning Research 11:1833-1863.",
}


class _Citations:
    """Numbers references in order of first use."""

    def __init__(self):
        self.used = []

    def __call__(self, *keys):
        numbers = []
        for key in keys:
            if key not in self.used:
                self.used.append(key)
            numbers.append(str(self.used.index(key) + 1))
        return "[" + ", ".join(numbers) + "]"


def _range(values, unit="Hz"):
    return f"{values[0]:g}-{values[1]:g} {unit}"


def _version(versions, package):
    version = versions.get(package)
    return f" {version}" if version else ""


def _eeg_text(eeg, versions, cite):
    pre, spectral = eeg["preprocessing"], eeg["spectral"]
    artifacts = pre["artifacts"]
    text = (
        f"Resting EEG was processed with MNE-Python{_version(versions, 'mne')} "
        f"{cite('mne')}: band-pass filtered at {_range((pre['l_freq'], pre['h_freq']))}"
        f"{', notch filtered at the mains frequency' if pre['notch'] else ''}, "
        f"re-referenced to the {pre['reference']} reference, with bad channels "
        "detected (flat, deviating or uncorrelated channels) and interpolated. "
    )
    if artifacts["ica"]:
        labels = " and ".join(artifacts["ica_labels"])
        text += (
            f"Independent components ({artifacts['ica_method']} "
            f"{cite('picard') if artifacts['ica_method'] == 'picard' else ''}) "
            f"labelled by ICLabel {cite('iclabel', 'mne-icalabel')} as {labels} "
            f"with probability above {artifacts['ica_threshold']:g} were removed "
            f"in recordings with at least {artifacts['ica_min_channels']} channels. "
        )
    text += f"Data were cut into {pre['epoch_length']:g}-s epochs; " + (
        f"epochs were rejected with a data-driven peak-to-peak threshold "
        f"(autoreject {cite('autoreject')}). "
        if artifacts["autoreject"]
        else f"epochs exceeding {pre['reject_ptp_uv']:g} µV peak to peak "
        "were rejected. "
    )
    bands = ", ".join(f"{name} {_range(b)}" for name, b in spectral["bands"].items())
    text += (
        f"Power spectra were estimated with Welch's method {cite('welch')} "
        f"({spectral['window_seconds']:g}-s windows, {spectral['overlap']:.0%} "
        f"overlap) and averaged over epochs. Band power was computed for {bands}, "
        f"and relative power over {_range(spectral['relative_range'])}. The "
        f"aperiodic component was fitted with FOOOF{_version(versions, 'fooof')} "
        f"{cite('fooof')} ({spectral['aperiodic_mode']} mode, "
        f"{_range(spectral['aperiodic_range'])}); fits with r² below "
        f"{spectral['min_r_squared']:g} were treated as missing. Peak alpha "
        f"frequency was taken only from a fitted peak within "
        f"{_range(spectral['paf_range'])} rising more than "
        f"{spectral['paf_min_z']:g} standard errors above the aperiodic fit, and "
        f"the centre of gravity over {_range(spectral['cog_range'])} of the "
        f"aperiodic-removed spectrum {cite('cog')}; channels without a peak were "
        "treated as missing. "
    )
    connectivity = eeg["connectivity"]
    if connectivity["enabled"]:
        methods = ", ".join(connectivity["methods"])
        text += (
            f"Sensor connectivity between regions ({methods}) {cite('wpli')} "
            f"was computed in the {' and '.join(connectivity['bands'])} bands"
            + (
                f" on {connectivity['n_epochs']} randomly drawn clean epochs per "
                "recording, so that sessions are compared at equal epoch counts."
                if connectivity["n_epochs"]
                else "."
            )
        )
    return text


def _fmri_text(fmri, versions, cite):
    denoising, rois = fmri["denoising"], fmri["rois"]
    regressors = [f"{denoising['motion']} motion parameters {cite('friston24')}"]
    if denoising["compcor"]:
        regressors.append(
            f"{denoising['compcor']} anatomical CompCor components {cite('compcor')}"
        )
    if denoising["wm_csf"] != "none":
        regressors.append(f"white matter and CSF signals ({denoising['wm_csf']})")
    if denoising["global_signal"] != "none":
        regressors.append(f"global signal ({denoising['global_signal']})")
    filtering = f"high-pass filtered at {denoising['high_pass']:g} Hz"
    if denoising["low_pass"]:
        filtering += f" and low-pass filtered at {denoising['low_pass']:g} Hz"
    measures = " and ".join(fmri["connectivity"])
    return (
        f"Resting fMRI preprocessed with fMRIPrep {cite('fmriprep')} was "
        f"denoised with nilearn{_version(versions, 'nilearn')} {cite('nilearn')}: "
        f"{', '.join(regressors)} were regressed out and the data {filtering} "
        f"{cite('ciric')}. Volumes with framewise displacement above "
        f"{denoising['fd_threshold']:g} mm or standardised DVARS above "
        f"{denoising['std_dvars_threshold']:g}, and segments shorter than "
        f"{denoising['min_segment']} volumes, were censored {cite('scrubbing')}; "
        f"runs with less than {denoising['min_remaining_seconds']:g} s of data or "
        f"fewer than {denoising['min_degrees_of_freedom']} degrees of freedom left "
        f"were excluded. Mean signals were extracted from the {rois['atlas']} "
        f"regions of the descending pain-modulation circuit (PAG definition "
        f"'{rois['pag']}', with {', '.join(rois['pag_alternatives'])} as "
        f"sensitivity analyses), leaving out voxels with a CSF probability above "
        f"{rois['max_csf_probability']:g} and regions with fewer than "
        f"{rois['min_voxels']} voxels. Functional connectivity ({measures}) was "
        "Fisher z-transformed."
    )


def _stats_text(config, cite):
    stats = config["stats"]
    return (
        f"Responders were participants whose pain fell by at least "
        f"{config['responder_threshold']:.0%} from pre to post {cite('immpact')}. "
        "Treatment effects were tested against the control arm with an ANCOVA of "
        f"the post value on the pre value and arm {cite('ancova')}; confirmatory "
        f"markers ({', '.join(stats['confirmatory'])}) were corrected with the "
        f"Benjamini-Hochberg procedure {cite('bh')} and the exploratory markers "
        f"with a two-stage FDR over marker groups {cite('bb')}, at q = "
        f"{stats['fdr_level']:g}. Within-arm change is reported descriptively "
        f"with {stats['confidence']:.0%} confidence intervals and "
        f"{stats['n_permutations']} sign-flip permutations; test-retest "
        f"reliability in the control arms as ICC(2,1) {cite('icc')}."
    )


def _predict_text(predict, versions, cite):
    primary = predict["primary"]
    return (
        f"Treatment response was predicted with scikit-learn"
        f"{_version(versions, 'scikit-learn')} {cite('sklearn')}. The "
        f"pre-specified primary analysis was a {primary['penalty']}-penalised "
        f"{primary['model']} model on {primary['feature_set']} "
        f"{primary['modality']} markers ({primary['scope']}). Every data-dependent "
        f"step was fitted within the training folds of a {predict['n_splits']}-fold "
        f"cross-validation repeated {predict['n_repeats']} times, grouped by "
        "participant and stratified on arm and label. The AUC is given with a "
        f"bootstrap interval ({predict['n_bootstrap']} resamples) and a p value "
        f"from {predict['n_permutations']} label permutations within intervention "
        f"and site blocks {cite('permutation')}, beside clinical baseline models."
    )


def methods_html(config, versions, *, modalities):
    """Write the methods paragraph and its references as HTML.

    Parameters
    ----------
    config : dict
        The run's configuration (``provenance["config"]``).
    versions : dict
        Package versions (``provenance["versions"]``).
    modalities : collection of str
        The steps whose results the report shows: ``"eeg"``, ``"fmri"``,
        ``"stats"``, ``"predict"``.

    Returns
    -------
    html : str
        Paragraphs, then a numbered reference list.
    """
    cite = _Citations()
    paragraphs = []
    if "eeg" in modalities:
        paragraphs.append(_eeg_text(config["eeg"], versions, cite))
    if "fmri" in modalities:
        paragraphs.append(_fmri_text(config["fmri"], versions, cite))
    if "stats" in modalities:
        paragraphs.append(_stats_text(config, cite))
    if "predict" in modalities:
        paragraphs.append(_predict_text(config["predict"], versions, cite))
    if not paragraphs:
        return "<p class='note'>No analysis step produced results.</p>"
    body = "".join(f"<p>{html.escape(text)}</p>" for text in paragraphs)
    references = "".join(f"<li>{html.escape(REFERENCES[k])}</li>" for k in cite.used)
    return (
        "<p class='note'>Written from this run's settings and package versions; "
        "you may paste it into a paper's methods.</p>"
        f"<div class='methods'>{body}<ol>{references}</ol></div>"
    )
