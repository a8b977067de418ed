"""The realistic preset plants what it documents, at the sizes it documents."""

import json

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from neuromark.atlases import read_roi_registry
from scipy.signal import csd, welch

from neuromark.simulation import mni_grid, simulate_study
from neuromark.simulation._eeg import CHANNELS, simulate_eeg_data
from neuromark.simulation._fmri import pag_anatomy
from neuromark.simulation.presets import REALISTIC
from neuromark.simulation.study import _participants, _plan

ARMS = ("TENS", "NIBS", "mindfulness", "sham")


@pytest.fixture(scope="module")
def population():
    """Planted parameters of 2000 participants (no file written)."""
    rng = np.random.default_rng(0)
    table, responder = _participants(rng, 2000, ARMS, REALISTIC.response_rates)
    rois = read_roi_registry().query("set == 'core'").reset_index(drop=True)
    plans = _plan(rng, table, responder, rois, 1.0, 1.0, REALISTIC)
    rows = []
    for k, plan in enumerate(plans):
        pre, post = plan["pre"]["eeg"], plan["post"]["eeg"]
        labels = list(rois["label"])
        pag, pgacc = labels.index("PAG"), labels.index("pgACC")
        rows.append(
            {
                "arm": table["intervention"][k],
                "site": table["site"][k],
                "responder": responder[k],
                "alpha": 2 * np.log(post["alpha_gain"] / pre["alpha_gain"]),
                "log_alpha_pre": 2 * np.log(pre["alpha_gain"]),
                "paf_pre": pre["paf_hz"],
                "paf_change": post["paf_hz"] - pre["paf_hz"],
                "fc_change": plan["post"]["fmri"][pag, pgacc]
                - plan["pre"]["fmri"][pag, pgacc],
                "no_peak": pre["no_alpha_peak"],
                "blinks": pre["blink_rate_hz"] - post["blink_rate_hz"],
            }
        )
    return pd.DataFrame(rows)


def _dz(values):
    return values.mean() / values.std(ddof=1)


def test_response_rates_differ_by_arm_with_a_sham_arm(population):
    rates = population.groupby("arm")["responder"].mean()
    for arm, rate in REALISTIC.response_rates.items():
        assert abs(rates[arm] - rate) < 0.02
    assert rates["sham"] < rates["TENS"]


def test_change_effects_are_small_and_partly_in_non_responders(population):
    tens = population[population["arm"] == "TENS"]
    responders = tens[tens["responder"]]
    others = tens[~tens["responder"]]
    # d_z of log alpha power change: 0.45 planted in responders, 40 % in others;
    # the no-peak participants scale the gain, not the change
    assert 0.35 < _dz(responders["alpha"]) < 0.55
    assert 0.1 < _dz(others["alpha"]) < 0.3
    sham = population[population["arm"] == "sham"]
    assert abs(_dz(sham["alpha"])) < 0.12
    nibs = population[population["arm"] == "NIBS"]
    assert 0.3 < _dz(nibs[nibs["responder"]]["paf_change"]) < 0.5
    assert 0.35 < _dz(tens[tens["responder"]]["fc_change"]) < 0.55


def test_prognostic_paf_and_site_effects(population):
    groups = population.groupby("responder")["paf_pre"]
    pooled_sd = np.sqrt(groups.var().mean())
    d = (groups.mean()[True] - groups.mean()[False]) / pooled_sd
    assert 0.35 < d < 0.65
    peaked = population[~population["no_peak"]]
    by_site = peaked.groupby("site")["log_alpha_pre"]
    assert 0.2 < by_site.mean()["B"] - by_site.mean()["A"] < 0.4  # 2 x 0.15
    assert by_site.std()["B"] > 1.15 * by_site.std()["A"]  # scale effect
    assert 0.08 < population["no_peak"].mean() < 0.16
    assert population["blinks"].std() > 0.05  # artefact rates vary by session


def test_lagged_coupling_gives_non_zero_phase():
    sfreq = 250.0
    imaginary = {}
    for coupling in (0.0, 0.8):
        data, parts = simulate_eeg_data(
            np.random.default_rng(1),
            sfreq=sfreq,
            duration=120.0,
            paf=10.0,
            exponent=1.4,
            frontal_alpha_gain=2.0,
            artifacts=False,
            coupling=coupling,
            coupling_lag_s=0.015,
        )
        signals = parts["alpha"] + parts["frontal_alpha"]
        front, back = signals[CHANNELS.index("Fz")], signals[CHANNELS.index("Oz")]
        freqs, cross = csd(front, back, fs=sfreq, nperseg=512)
        _, p_front = welch(front, fs=sfreq, nperseg=512)
        _, p_back = welch(back, fs=sfreq, nperseg=512)
        k = np.argmin(np.abs(freqs - 10.0))
        imaginary[coupling] = abs(np.imag(cross[k]) / np.sqrt(p_front[k] * p_back[k]))
    assert imaginary[0.0] < 0.05
    assert imaginary[0.8] > 0.2


def test_realistic_study_files(tmp_path):
    root = simulate_study(
        tmp_path / "study",
        n_participants=8,
        seed=2,
        preset="realistic",
        modalities=["fmri"],
        fmri_volumes=60,
    )
    participants = pd.read_csv(root / "participants.tsv", sep="\t")
    assert set(participants["intervention"]) == set(ARMS)
    func = root / "derivatives/fmriprep/sub-01/ses-pre/func"
    metadata = json.loads(
        (func / "sub-01_ses-pre_task-rest_desc-confounds_timeseries.json").read_text()
    )
    masks = [metadata[f"a_comp_cor_{k:02d}"]["Mask"] for k in range(15)]
    assert masks == ["CSF"] * 5 + ["WM"] * 5 + ["combined"] * 5
    truth = json.loads((root / "derivatives/simulation/ground_truth.json").read_text())
    assert truth["preset"]["name"] == "realistic"
    run = truth["participants"]["sub-01"]["sessions"]["pre"]["fmri"]
    assert run["compcor_layout"] == "fmriprep" and run["pag_pulsation_percent"] > 0
    assert run["pag_partial_volume"] and run["brainstem_noise_scale"] > 1
    # fMRIPrep's CSF map of the participant: the aqueduct the trace surrounds
    csf = nib.load(
        root / "derivatives/fmriprep/sub-01/anat/"
        "sub-01_space-MNI152NLin2009cAsym_label-CSF_probseg.nii.gz"
    )
    bold = nib.load(
        func
        / "sub-01_ses-pre_task-rest_space-MNI152NLin2009cAsym_desc-preproc_bold.nii.gz"
    )
    assert csf.shape == bold.shape[:3] and np.allclose(csf.affine, bold.affine)
    _, aqueduct = pag_anatomy(3.0)
    np.testing.assert_allclose(csf.get_fdata(), aqueduct * mni_grid(3.0)[0], atol=1e-6)
    # 50 mm3 of aqueduct CSF next to the PAG; the pulsation lives there
    assert csf.get_fdata().sum() * 27 == pytest.approx(50.0)
    data = bold.get_fdata()
    # volume-to-volume change in percent (drift cancels): larger in the aqueduct
    change = np.diff(data, axis=-1).std(axis=-1) / data.mean(axis=-1).clip(1e-9)
    brain, aqueduct_voxels = mni_grid(3.0)[0], csf.get_fdata() > 0.2
    median = np.median(change[brain & ~aqueduct_voxels])
    assert np.median(change[aqueduct_voxels]) > 1.5 * median
    motion = [
        truth["participants"][p]["sessions"][s]["fmri"]["motion_sd_mm"]
        for p in truth["participants"]
        for s in ("pre", "post")
    ]
    assert np.ptp(motion) > 0.01  # motion differs between sessions
