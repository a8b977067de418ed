"""Simulate a whole BIDS pain-trial study with planted ground truth.

Design of the planted effects (``effect_size`` scales all post-treatment
changes of responders, ``baseline_effect`` the prognostic pre-treatment
differences; both 0 give a null study):

========================  ==================================================
intervention (responders)  planted pre -> post change
========================  ==================================================
TENS                      posterior alpha x(1 + 0.5 s), central beta
                          x(1 + 0.4 s); PAG-ACC +0.25 s, PAG-mPFC +0.20 s,
                          PAG-DLPFC +0.15 s (correlation units)
mindfulness               frontal alpha x(1 + 0.6 s); mPFC-ACC +0.25 s
NIBS                      peak alpha frequency +0.4 s Hz; DLPFC_L-ACC
                          (dACC, pgACC, sgACC) +0.25 s
any other (e.g. sham)     none
========================  ==================================================

At baseline, responders (of every arm) have a peak alpha frequency higher by
``0.6 b`` Hz and PAG-pgACC / PAG-dACC correlations higher by ``0.15 b`` /
``0.10 b`` than non-responders, with between-participant spread large
enough that prognosis is possible but imperfect. Non-responders change only
by test-retest noise.
"""

import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from ..atlases import read_roi_registry
from ..exceptions import ConfigError, OutputError
from ..features import edge_name
from ..io.participants import label_responders
from ..utils._docs import fill_doc
from ..utils._logging import logger, verbose
from . import _eeg, _fmri
from .presets import DEFAULT_ARMS, IDEALISED, PRESETS

TRUTH_PATH = Path("derivatives", "simulation", "ground_truth.json")
SPACE = "MNI152NLin2009cAsym"
DEFAULT_INTERVENTIONS = ("TENS", "NIBS", "mindfulness")
ACC = ("sgACC", "pgACC", "dACC")

# base correlations of the latent ROI signals (upper triangle, by name)
BASE_CONNECTIVITY = {
    ("sgACC", "pgACC"): 0.45,
    ("pgACC", "dACC"): 0.35,
    ("sgACC", "dACC"): 0.25,
    ("mPFC", "pgACC"): 0.45,
    ("mPFC", "sgACC"): 0.35,
    ("mPFC", "dACC"): 0.20,
    ("DLPFC_L", "DLPFC_R"): 0.50,
    ("DLPFC_L", "dACC"): 0.20,
    ("DLPFC_R", "dACC"): 0.20,
    ("DLPFC_L", "sgACC"): -0.10,
    ("DLPFC_R", "sgACC"): -0.10,
    ("PAG", "pgACC"): 0.15,
    ("PAG", "sgACC"): 0.10,
    ("PAG", "dACC"): 0.10,
    ("PAG", "mPFC"): 0.05,
    ("PAG", "DLPFC_L"): 0.05,
    ("PAG", "DLPFC_R"): 0.05,
}
# the idealised preset's tables, kept under their historical names
FC_EFFECTS = IDEALISED.fc_effects
EEG_EFFECTS = IDEALISED.eeg_effects
BASELINE_FC = IDEALISED.baseline_fc
BASELINE_PAF_HZ = IDEALISED.baseline_paf
EEG_MARKERS = ("paf_shift_hz", "alpha_gain", "frontal_alpha_gain", "beta_gain")


def _correlation(labels, edges):
    index = {label: k for k, label in enumerate(labels)}
    matrix = np.eye(len(labels))
    for (a, b), value in edges.items():
        if a in index and b in index:
            matrix[index[a], index[b]] = matrix[index[b], index[a]] = value
    return matrix


def _add_edges(matrix, labels, edges, scale):
    index = {label: k for k, label in enumerate(labels)}
    out = matrix.copy()
    for (a, b), value in edges.items():
        if a in index and b in index:
            out[index[a], index[b]] += scale * value
            out[index[b], index[a]] += scale * value
    return out


def _participants(rng, n, interventions, responder_rate):
    """Participants table and planted responders.

    ``responder_rate`` is one fraction, or ``{arm: fraction}``.
    """
    ids = [f"sub-{k:02d}" if n < 100 else f"sub-{k:03d}" for k in range(1, n + 1)]
    arms = np.resize(np.asarray(interventions), n)
    rng.shuffle(arms)
    responder = np.zeros(n, dtype=bool)
    for arm in interventions:
        members = np.flatnonzero(arms == arm)
        rate = (
            responder_rate.get(arm, 0.3)
            if isinstance(responder_rate, dict)
            else responder_rate
        )
        n_resp = int(round(rate * members.size))
        responder[rng.choice(members, n_resp, replace=False)] = True
    pain_pre = np.round(rng.uniform(4.0, 8.0, n), 1)
    reduction = np.where(
        responder, rng.uniform(0.35, 0.80, n), rng.uniform(-0.15, 0.22, n)
    )
    pain_post = np.round(np.clip(pain_pre * (1 - reduction), 0, 10), 1)
    table = pd.DataFrame(
        {
            "participant_id": ids,
            "intervention": arms,
            "site": np.where(np.arange(n) % 2 == 0, "A", "B"),
            "age": rng.integers(25, 71, n),
            "sex": rng.choice(["F", "M"], n),
            "pain_pre": pain_pre,
            "pain_post": pain_post,
        }
    )
    # the label is what the pain rule says of the written (rounded) ratings
    labels = label_responders(pain_pre, pain_post).to_numpy(dtype=bool)
    if not np.array_equal(labels, responder):
        raise RuntimeError("simulated pain ratings disagree with planted responders")
    return table, responder


def _plan(rng, table, responder, rois, effect_size, baseline_effect, preset=IDEALISED):
    """Draw every participant's planted parameters (pre and post).

    The draws of the idealised preset come first and in a fixed order; the
    realistic preset's extra draws follow them, so an idealised study is the
    same whatever the presets offer.
    """
    labels = list(rois["label"])
    base = _correlation(labels, BASE_CONNECTIVITY)
    realistic = preset.standardised
    plans = []
    for k, row in table.iterrows():
        arm, site = row["intervention"], row["site"]
        sign = 1.0 if responder[k] else -1.0
        paf = rng.normal(10.0, preset.paf_between_sd) + (
            sign * preset.baseline_paf_hz() * baseline_effect / 2
        )
        exponent = rng.normal(1.4, 0.15)
        spread = preset.eeg_between_sd * preset.site_eeg_scale.get(site, 1.0)
        amplitude = np.exp(  # posterior alpha, frontal alpha, beta
            preset.site_eeg_log_gain.get(site, 0.0) + rng.normal(0, spread, 3)
        )
        jitter = rng.normal(0, preset.fc_between_sd, base.shape)
        stable = base + np.triu(jitter, 1) + np.triu(jitter, 1).T
        stable += preset.site_fc_offset.get(site, 0.0) * (1 - np.eye(len(labels)))
        if responder[k]:
            stable = _add_edges(stable, labels, preset.baseline_fc, baseline_effect)
        sessions = {}
        for session, treated in (("pre", False), ("post", True)):
            change = {
                marker: preset.eeg_change(arm, marker, responder[k], effect_size)
                if treated
                else 0.0
                for marker in EEG_MARKERS
            }
            gains = amplitude * np.exp(rng.normal(0, preset.eeg_session_sd, 3))
            eeg = {
                "paf_hz": paf
                + rng.normal(0, preset.paf_session_sd)
                + change["paf_shift_hz"],
                "aperiodic_exponent": exponent + rng.normal(0, 0.03),
                "alpha_gain": gains[0] * np.exp(change["alpha_gain"]),
                "frontal_alpha_gain": gains[1] * np.exp(change["frontal_alpha_gain"]),
                "beta_gain": gains[2] * np.exp(change["beta_gain"]),
                "line_freq": 50.0 if site == "A" else 60.0,
                "noisy_channels": [],
            }
            session_jitter = rng.normal(0, preset.fc_session_sd, base.shape)
            matrix = stable + np.triu(session_jitter, 1) + np.triu(session_jitter, 1).T
            if treated:
                fc_change = preset.fc_change(arm, responder[k], effect_size)
                matrix = _add_edges(matrix, labels, fc_change, 1.0)
            sessions[session] = {
                "eeg": eeg,
                "fmri": nearest_correlation(matrix),
                "fmri_run": {},
            }
        if rng.random() < 0.25:  # some recordings carry a noisy channel to detect
            which = rng.choice(["pre", "post"])
            sessions[which]["eeg"]["noisy_channels"] = [
                str(rng.choice(_eeg.CHANNELS[2:]))
            ]
        if realistic:
            _plan_nuisance(rng, sessions, preset, site, arm, responder[k], effect_size)
        plans.append(sessions)
    return plans


def _plan_nuisance(rng, sessions, preset, site, arm, responder, effect_size):
    """Realistic extras: missing alpha peaks, coupling, artefacts, motion."""
    no_peak = bool(rng.random() < preset.no_peak_fraction)
    coupling = preset.coupling + rng.normal(0, 0.1)
    for session, plan in sessions.items():
        eeg = plan["eeg"]
        if no_peak:  # alpha too weak to stand above the 1/f background
            eeg["alpha_gain"] *= 0.08
            eeg["frontal_alpha_gain"] *= 0.08
        shift = preset.eeg_change(arm, "coupling", responder, effect_size)
        eeg["no_alpha_peak"] = no_peak
        value = coupling + rng.normal(0, 0.1) + (session == "post") * shift
        eeg["coupling"] = float(np.clip(value, 0.0, 0.95))
        eeg["coupling_lag_s"] = preset.coupling_lag_s
        eeg["blink_rate_hz"] = float(rng.uniform(*preset.blink_rate_hz))
        eeg["muscle_bursts_per_min"] = float(rng.uniform(*preset.muscle_bursts_per_min))
        eeg["movement_per_min"] = float(rng.uniform(*preset.movement_per_min))
        plan["fmri_run"] = {
            "motion_sd_mm": float(rng.uniform(*preset.motion_sd_mm)),
            "n_spikes": int(1 + rng.poisson(2.0)),
            "noise_scale": preset.site_fc_noise.get(site, 1.0),
            "unmodelled_motion": preset.unmodelled_motion,
            "pag_pulsation_percent": preset.pag_pulsation_percent,
            "pag_partial_volume": preset.pag_partial_volume,
            "brainstem_noise_scale": preset.brainstem_noise_scale,
            "spatial_smoothness_mm": preset.spatial_smoothness_mm,
            "compcor_layout": preset.compcor_layout,
        }


def _roi_anatomy(rois, mask, affine, resolution):
    """ROI labels of the grid: spheres, and the PAG where its trace lies.

    Returns
    -------
    labels : ndarray of int
        ``k + 1`` in ROI ``k`` (the PAG: every brain voxel its trace touches).
    pag, csf : ndarray of float
        PAG tissue and aqueduct CSF share of each voxel.
    """
    is_sphere = (rois["label"] != "PAG").to_numpy()
    labels = _fmri.roi_voxels(rois[is_sphere], mask, affine, min_radius_mm=resolution)
    labels = np.r_[0, np.flatnonzero(is_sphere) + 1][labels]  # to ``rois`` order
    pag, csf = _fmri.pag_anatomy(resolution)
    pag_label = list(rois["label"]).index("PAG") + 1
    labels[(pag > 0) & mask] = pag_label
    return labels, pag, csf


def _run_anatomy(run, pag_label, pag, csf):
    """Per-run simulator options: the PAG's anatomy, partial volume and noise."""
    run = dict(run or {})
    partial = run.pop("pag_partial_volume", False)
    options = {"pag_label": pag_label}
    if partial:
        options["signal_weight"] = np.where(pag > 0, pag, 1.0)
    if run.get("pag_pulsation_percent"):
        options["csf_fraction"] = csf
    return run | options


def nearest_correlation(matrix):
    """Closest valid correlation matrix (see :func:`._fmri.nearest_correlation`).

    Parameters
    ----------
    matrix : ndarray, shape (n, n)
        Symmetric matrix with unit diagonal.
    """
    return _fmri.nearest_correlation(matrix)


def _bids_name(pid, session, task, suffix):
    return f"{pid}_ses-{session}_task-{task}_{suffix}"


def _write_eeg(root, pid, session, task, params, sfreq, duration, seed):
    import mne

    rng = np.random.default_rng(seed)
    data, _ = _eeg.simulate_eeg_data(
        rng,
        sfreq=sfreq,
        duration=duration,
        paf=params["paf_hz"],
        exponent=params["aperiodic_exponent"],
        alpha_gain=params["alpha_gain"],
        frontal_alpha_gain=params["frontal_alpha_gain"],
        beta_gain=params["beta_gain"],
        line_freq=params["line_freq"],
        noisy_channels=params["noisy_channels"],
        **{key: params[key] for key in _eeg.REALISTIC_KEYS if key in params},
    )
    raw = _eeg.make_raw(data, sfreq, params["line_freq"])
    folder = root / pid / f"ses-{session}" / "eeg"
    folder.mkdir(parents=True, exist_ok=True)
    mne.export.export_raw(
        folder / _bids_name(pid, session, task, "eeg.edf"),
        raw,
        fmt="edf",
        overwrite=True,
        verbose="error",
    )
    channels = pd.DataFrame(
        {
            "name": _eeg.CHANNELS,
            "type": "EEG",
            "units": "µV",
            "low_cutoff": 0.0,
            "high_cutoff": sfreq / 2,
            "status": "good",
        }
    )
    channels.to_csv(
        folder / _bids_name(pid, session, task, "channels.tsv"), sep="\t", index=False
    )
    sidecar = {
        "TaskName": task,
        "SamplingFrequency": sfreq,
        "PowerLineFrequency": params["line_freq"],
        "EEGReference": "common average",
        "EEGChannelCount": len(_eeg.CHANNELS),
        "RecordingDuration": duration,
        "RecordingType": "continuous",
        "SoftwareFilters": "n/a",
        "EEGPlacementScheme": "10-20",
        "Manufacturer": "neuromark simulator",
    }
    (folder / _bids_name(pid, session, task, "eeg.json")).write_text(
        json.dumps(sidecar, indent=2)
    )


def _write_fmri(
    root, pid, session, task, params, roi_labels, mask, affine, n_volumes, tr, seed
):
    import nibabel as nib

    correlation, run = params
    rng = np.random.default_rng(seed)
    bold, confounds, latent = _fmri.simulate_bold(
        rng,
        correlation=correlation,
        roi_labels=roi_labels,
        mask=mask,
        n_volumes=n_volumes,
        tr=tr,
        affine=affine,
        **run,
    )
    folder = root / "derivatives" / "fmriprep" / pid / f"ses-{session}" / "func"
    folder.mkdir(parents=True, exist_ok=True)
    stem = _bids_name(pid, session, task, f"space-{SPACE}_desc-")
    img = nib.Nifti1Image(bold, affine)
    # int16 with a scale factor, as scanners and many pipelines store BOLD
    img.set_data_dtype(np.int16)
    img.header.set_xyzt_units("mm", "sec")
    img.header["pixdim"][4] = tr
    img.header.set_qform(affine, code=4)
    img.header.set_sform(affine, code=4)
    nib.save(img, folder / f"{stem}preproc_bold.nii.gz")
    mask_img = nib.Nifti1Image(mask.astype(np.uint8), affine)
    mask_img.header.set_qform(affine, code=4)
    mask_img.header.set_sform(affine, code=4)
    nib.save(mask_img, folder / f"{stem}brain_mask.nii.gz")
    (folder / f"{stem}preproc_bold.json").write_text(
        json.dumps(
            {"RepetitionTime": tr, "TaskName": task, "SkullStripped": False}, indent=2
        )
    )
    confounds.to_csv(
        folder / _bids_name(pid, session, task, "desc-confounds_timeseries.tsv"),
        sep="\t",
        index=False,
        na_rep="n/a",
    )
    # fMRIPrep's metadata of CompCor components (read by nilearn's load_confounds)
    (
        folder / _bids_name(pid, session, task, "desc-confounds_timeseries.json")
    ).write_text(json.dumps(confounds.attrs["metadata"], indent=1))
    return np.corrcoef(latent.T)


def _write_unit(unit, root, task, settings, grid):
    kind, pid, session, params, seed = unit
    if kind == "eeg":
        _write_eeg(
            root,
            pid,
            session,
            task,
            params,
            settings["eeg_sfreq"],
            settings["eeg_duration"],
            seed,
        )
        return None
    roi_labels, mask, affine = grid
    return _write_fmri(
        root,
        pid,
        session,
        task,
        params,
        roi_labels,
        mask,
        affine,
        settings["fmri_volumes"],
        settings["fmri_tr"],
        seed,
    )


def _write_csf_probseg(root, pid, aqueduct, mask, affine):
    """FMRIPrep's CSF probability map in template space (the aqueduct here)."""
    import nibabel as nib

    folder = root / "derivatives" / "fmriprep" / pid / "anat"
    folder.mkdir(parents=True, exist_ok=True)
    img = nib.Nifti1Image((aqueduct * mask).astype(np.float32), affine)
    img.header.set_qform(affine, code=4)
    img.header.set_sform(affine, code=4)
    nib.save(img, folder / f"{pid}_space-{SPACE}_label-CSF_probseg.nii.gz")


def _dataset_files(root, n, seed):
    description = {
        "Name": f"neuromark simulated pain trial ({n} participants, seed {seed})",
        "BIDSVersion": "1.9.0",
        "DatasetType": "raw",
        "GeneratedBy": [{"Name": "neuromark.simulation"}],
    }
    (root / "dataset_description.json").write_text(json.dumps(description, indent=2))
    fmriprep = root / "derivatives" / "fmriprep"
    fmriprep.mkdir(parents=True, exist_ok=True)
    (fmriprep / "dataset_description.json").write_text(
        json.dumps(
            {
                "Name": "simulated fMRIPrep derivatives",
                "BIDSVersion": "1.9.0",
                "DatasetType": "derivative",
                "GeneratedBy": [{"Name": "neuromark.simulation"}],
            },
            indent=2,
        )
    )
    (root / "participants.json").write_text(
        json.dumps(
            {
                "intervention": {"Description": "treatment arm"},
                "site": {"Description": "recording site (A: 50 Hz mains, B: 60 Hz)"},
                "pain_pre": {"Description": "pain before treatment, 0-10 NRS"},
                "pain_post": {"Description": "pain after treatment, 0-10 NRS"},
            },
            indent=2,
        )
    )
    (root / "README").write_text(
        "Simulated study written by neuromark.simulation.simulate_study.\n"
        f"Ground truth: {TRUTH_PATH.as_posix()}\n"
    )


@verbose
@fill_doc
def simulate_study(
    output_dir,
    *,
    n_participants=12,
    seed=42,
    effect_size=1.0,
    baseline_effect=None,
    preset="idealised",
    interventions=None,
    responder_rate=None,
    modalities=("eeg", "fmri"),
    task="rest",
    eeg_sfreq=250.0,
    eeg_duration=120.0,
    fmri_volumes=120,
    fmri_tr=2.0,
    fmri_resolution=3.0,
    missing_rate=0.0,
    overwrite=False,
    n_jobs=1,
    verbose=None,
):
    """Write a simulated BIDS pain-trial study with planted ground truth.

    The study follows neuromark's input contract: ``participants.tsv``,
    resting EEG (EDF, 32 channels of the 10-20 system) in ``ses-pre`` and
    ``ses-post``, and fMRIPrep derivatives (4D BOLD in MNI152NLin2009cAsym on
    the grid of nilearn's bundled MNI152 template, brain mask, confounds with
    motion, framewise displacement, CompCor and cosine columns). What was
    planted is written to ``derivatives/simulation/ground_truth.json``
    (see :func:`read_ground_truth`).

    Parameters
    ----------
    output_dir : path-like
        Folder to create. It must not exist, or be empty, unless ``overwrite``.
    n_participants : int
        Number of participants (at least 2 per intervention).
    seed : int
        Seed of every random draw; the same seed writes the same study
        whatever ``n_jobs``.
    effect_size : float
        Scale of every planted pre->post change (0: none).
    baseline_effect : float | None
        Scale of the responders' pre-treatment (prognostic) differences
        (``None``: 0.5 for ``idealised``, 1 for ``realistic``).
    preset : "idealised" | "realistic"
        Generative model (:mod:`neuromark.simulation.presets`):
        ``idealised`` plants large, clean effects for unit tests;
        ``realistic`` plants effects of the size trials report (d 0.3-0.5,
        partly in non-responders), arm-dependent response with a sham arm,
        site effects, missing alpha peaks, lagged coupling, session-varying
        artefacts and motion, a noisy PAG and fMRIPrep's CompCor layout.
    interventions : sequence of str | None
        Treatment arms, assigned in balanced, shuffled order (``None``: TENS,
        NIBS, mindfulness, plus sham for ``realistic``).
    responder_rate : float | dict | None
        Fraction of responders per arm, or ``{arm: fraction}`` (``None``:
        0.5, or the preset's arm-dependent rates).
    modalities : sequence of str
        ``"eeg"`` and/or ``"fmri"``.
    %(task)s
    eeg_sfreq : float
        EEG sampling rate (Hz).
    eeg_duration : float
        EEG length (s).
    fmri_volumes : int
        Volumes per BOLD run.
    fmri_tr : float
        Repetition time (s).
    fmri_resolution : float
        Isotropic voxel size of the BOLD grid (mm).
    missing_rate : float
        Probability that a recording (participant x session x modality) is
        left out, to mimic missing data.
    overwrite : bool
        Replace an existing ``output_dir``.
    %(n_jobs)s
    %(verbose)s

    Returns
    -------
    root : pathlib.Path
        The study's BIDS root.
    """
    output_dir = Path(output_dir).expanduser().resolve()
    if preset not in PRESETS:
        raise ConfigError(
            f"Invalid value for the 'preset' parameter. Allowed values are "
            f"{sorted(PRESETS)}, but got {preset!r} instead."
        )
    model = PRESETS[preset]
    if baseline_effect is None:
        baseline_effect = 1.0 if model.standardised else 0.5
    if responder_rate is None:
        responder_rate = model.response_rates or 0.5
    interventions = tuple(interventions or DEFAULT_ARMS[preset])
    if n_participants < 2 * len(interventions):
        raise ConfigError(
            "n_participants must be at least 2 per intervention "
            f"({2 * len(interventions)} for {list(interventions)}), "
            f"got {n_participants}"
        )
    if effect_size < 0 or baseline_effect < 0:
        raise ConfigError("effect_size and baseline_effect must be >= 0")
    if not 0 <= missing_rate < 1:
        raise ConfigError(f"missing_rate must be in [0, 1), got {missing_rate}")
    if output_dir.exists():
        if not output_dir.is_dir():
            raise OutputError(f"{output_dir} is an existing file, not a folder.")
        if any(output_dir.iterdir()) and not overwrite:
            raise OutputError(
                f"{output_dir} exists and is not empty; pass overwrite=True "
                "(--overwrite) to replace it."
            )
    output_dir.parent.mkdir(parents=True, exist_ok=True)

    rng = np.random.default_rng(seed)
    registry = read_roi_registry()
    rois = registry[registry["set"] == "core"].reset_index(drop=True)  # PAG-ACC-PFC
    table, responder = _participants(rng, n_participants, interventions, responder_rate)
    plans = _plan(rng, table, responder, rois, effect_size, baseline_effect, model)
    mask, affine = _fmri.mni_grid(fmri_resolution)
    roi_labels, pag_tissue, aqueduct = _roi_anatomy(rois, mask, affine, fmri_resolution)
    pag_label = list(rois["label"]).index("PAG") + 1
    units, dropped = [], []
    seeds = iter(np.random.SeedSequence(seed).generate_state(4 * n_participants))
    for k, pid in enumerate(table["participant_id"]):
        for session in ("pre", "post"):
            for modality in ("eeg", "fmri"):
                unit_seed = int(next(seeds))
                if modality not in modalities:
                    continue
                if rng.random() < missing_rate:
                    dropped.append(f"{pid} ses-{session} {modality}")
                    continue
                plan = plans[k][session]
                if modality == "eeg":
                    params = plan["eeg"]
                else:
                    params = (
                        plan["fmri"],
                        _run_anatomy(plan["fmri_run"], pag_label, pag_tissue, aqueduct),
                    )
                units.append((modality, pid, session, params, unit_seed))

    settings = {
        "eeg_sfreq": eeg_sfreq,
        "eeg_duration": eeg_duration,
        "fmri_volumes": fmri_volumes,
        "fmri_tr": fmri_tr,
    }
    staging = Path(
        tempfile.mkdtemp(prefix=f".{output_dir.name}.", dir=output_dir.parent)
    )
    try:
        _dataset_files(staging, n_participants, seed)
        table.to_csv(staging / "participants.tsv", sep="\t", index=False, na_rep="n/a")
        logger.info(
            "Simulating %d recordings of %d participants", len(units), n_participants
        )
        sample_corr = Parallel(n_jobs=n_jobs)(
            delayed(_write_unit)(
                unit, staging, task, settings, (roi_labels, mask, affine)
            )
            for unit in units
        )
        for pid in sorted({u[1] for u in units if u[0] == "fmri"}):
            _write_csf_probseg(staging, pid, aqueduct, mask, affine)
        truth = _truth(
            table,
            responder,
            plans,
            rois,
            roi_labels,
            units,
            sample_corr,
            dropped,
            locals_=dict(
                seed=seed,
                preset=preset,
                effect_size=effect_size,
                baseline_effect=baseline_effect,
                responder_rate=responder_rate,
                task=task,
                eeg_sfreq=eeg_sfreq,
                eeg_duration=eeg_duration,
                fmri_volumes=fmri_volumes,
                fmri_tr=fmri_tr,
                fmri_resolution=fmri_resolution,
                missing_rate=missing_rate,
                modalities=list(modalities),
                interventions=list(interventions),
            ),
        )
        truth_file = staging / TRUTH_PATH
        truth_file.parent.mkdir(parents=True, exist_ok=True)
        truth_file.write_text(json.dumps(truth, indent=1))
        if output_dir.exists():
            shutil.rmtree(output_dir)
        staging.rename(output_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    logger.info("Simulated study written to %s", output_dir)
    return output_dir


def _truth(
    table, responder, plans, rois, roi_labels, units, sample_corr, dropped, locals_
):
    labels = list(rois["label"])
    voxels = {label: int((roi_labels == k + 1).sum()) for k, label in enumerate(labels)}
    sample = {(u[1], u[2]): c for u, c in zip(units, sample_corr) if u[0] == "fmri"}
    participants = {}
    for k, row in table.iterrows():
        pid = row["participant_id"]
        entry = {
            "intervention": row["intervention"],
            "responder": bool(responder[k]),
            "sessions": {},
        }
        for session in ("pre", "post"):
            plan = plans[k][session]
            matrix = plan["fmri"]
            edges = {
                edge_name(labels[i], labels[j]): round(float(matrix[i, j]), 6)
                for i in range(len(labels))
                for j in range(i + 1, len(labels))
            }
            fmri = {"planted_correlation": edges} | plan["fmri_run"]
            if (pid, session) in sample:
                observed = sample[(pid, session)]
                fmri["latent_sample_correlation"] = {
                    edge_name(labels[i], labels[j]): round(float(observed[i, j]), 6)
                    for i in range(len(labels))
                    for j in range(i + 1, len(labels))
                }
            eeg = {
                key: (round(value, 6) if isinstance(value, float) else value)
                for key, value in plan["eeg"].items()
            }
            entry["sessions"][session] = {"eeg": eeg, "fmri": fmri}
        participants[pid] = entry
    return {
        "settings": locals_,
        "preset": PRESETS[locals_["preset"]].to_dict(),
        "model": {
            "eeg": {
                "channels": list(_eeg.CHANNELS),
                "montage": _eeg.MONTAGE,
                "background_rms_uv": _eeg.BACKGROUND_RMS_UV,
                "alpha_rms_uv": _eeg.ALPHA_RMS_UV,
                "alpha_sd_hz": _eeg.ALPHA_SD_HZ,
                "frontal_alpha_rms_uv": _eeg.FRONTAL_ALPHA_RMS_UV,
                "beta_rms_uv": _eeg.BETA_RMS_UV,
                "beta_center_hz": _eeg.BETA_CENTER_HZ,
                "effects_per_unit": PRESETS[locals_["preset"]].eeg_effects,
                "baseline_paf_difference_hz": PRESETS[
                    locals_["preset"]
                ].baseline_paf_hz()
                * locals_["baseline_effect"],
            },
            "fmri": {
                "rois": rois[["label", "x", "y", "z", "radius_mm"]].to_dict("records"),
                "roi_voxels": voxels,
                "planting_min_radius_mm": locals_["fmri_resolution"],
                "signal_percent": _fmri.SIGNAL_PERCENT,
                "voxel_noise_percent": _fmri.VOXEL_NOISE_PERCENT,
                "effects_per_unit": PRESETS[locals_["preset"]].to_dict()["fc_effects"],
                "baseline_effects_per_unit": PRESETS[locals_["preset"]].to_dict()[
                    "baseline_fc"
                ],
            },
        },
        "dropped_recordings": dropped,
        "participants": participants,
    }


def read_ground_truth(bids_root):
    """Read what :func:`simulate_study` planted in a study.

    Parameters
    ----------
    bids_root : path-like
        Root of a simulated study.

    Returns
    -------
    truth : dict
        ``settings``, ``model`` (constants of the generative model),
        ``dropped_recordings`` and, per participant, ``intervention``,
        ``responder`` and per session the planted EEG parameters and fMRI
        correlations (edges ``"A~B"``).
    """
    path = Path(bids_root) / TRUTH_PATH
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: not a neuromark simulated study?")
    return json.loads(path.read_text())
