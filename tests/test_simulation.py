"""The simulator writes readable files whose planted truth independent code recovers."""

import hashlib
import json

import mne
import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from nilearn.maskers import NiftiMasker
from scipy.signal import welch

from neuromark.exceptions import OutputError
from neuromark.simulation import (
    CHANNELS,
    aperiodic_noise,
    framewise_displacement,
    narrowband_noise,
    read_ground_truth,
    simulate_eeg_data,
    simulate_study,
)

SPACE = "space-MNI152NLin2009cAsym"


def _eeg_path(root, pid, ses):
    return root / pid / f"ses-{ses}" / "eeg" / f"{pid}_ses-{ses}_task-rest_eeg.edf"


def _func(root, pid, ses):
    return root / "derivatives" / "fmriprep" / pid / f"ses-{ses}" / "func"


def _welch(data_uv, sfreq):
    return welch(data_uv, fs=sfreq, nperseg=int(4 * sfreq))


# ---------------------------------------------------------------- generators
def test_aperiodic_noise_has_the_planted_exponent():
    rng = np.random.default_rng(0)
    noise = aperiodic_noise(rng, 8, 250 * 120, 250.0, exponent=1.7)
    freqs, psd = _welch(noise, 250.0)
    fit = (freqs >= 2) & (freqs <= 40)
    slope = np.polyfit(np.log10(freqs[fit]), np.log10(psd.mean(0)[fit]), 1)[0]
    assert slope == pytest.approx(-1.7, abs=0.05)
    np.testing.assert_allclose(noise.std(axis=1), 1.0)


def test_narrowband_noise_peaks_at_the_planted_frequency():
    rng = np.random.default_rng(1)
    rhythm = narrowband_noise(rng, 4, 250 * 60, 250.0, centre=9.3, sd=0.6)
    freqs, psd = _welch(rhythm, 250.0)
    centre_of_gravity = np.sum(freqs * psd.mean(0)) / np.sum(psd.mean(0))
    assert centre_of_gravity == pytest.approx(9.3, abs=0.05)
    # nearly all power lies within +-3 sd of the centre
    band = (freqs > 9.3 - 1.8) & (freqs < 9.3 + 1.8)
    assert psd.mean(0)[band].sum() / psd.mean(0).sum() > 0.99


def test_eeg_components_add_up_and_alpha_power_is_analytic():
    rng = np.random.default_rng(2)
    data, parts = simulate_eeg_data(
        rng,
        sfreq=250.0,
        duration=60.0,
        paf=10.0,
        exponent=1.5,
        alpha_gain=2.0,
        line_freq=50.0,
    )
    np.testing.assert_allclose(data * 1e6, sum(parts.values()))
    oz = CHANNELS.index("Oz")
    freqs, psd = _welch(parts["alpha"][oz], 250.0)
    band = (freqs >= 8) & (freqs < 13)
    alpha_power = psd[band].sum() * (freqs[1] - freqs[0])
    # unit-RMS noise x 10 uV x gain 2 x topography (~1 at Oz) x electrode gain (~1)
    rms = parts["alpha"][oz].std()
    assert 0.7 * 20.0 < rms < 1.35 * 20.0
    assert alpha_power == pytest.approx(rms**2, rel=0.05)  # all its power is in 8-13 Hz
    # the line noise sits at the mains frequency
    freqs, psd = _welch(parts["line"][0], 250.0)
    assert freqs[np.argmax(psd)] == 50.0


def test_framewise_displacement_follows_power_2012():
    motion = np.zeros((3, 6))
    motion[1, 0] = 0.5  # 0.5 mm translation
    motion[2, 3] = 0.01  # 0.01 rad rotation = 0.5 mm on a 50 mm sphere
    fd = framewise_displacement(motion)
    assert np.isnan(fd[0])
    np.testing.assert_allclose(fd[1:], [0.5, 0.5 + 0.5])


# ------------------------------------------------------------- file formats
def test_files_are_readable_by_mne_and_nibabel(study_root):
    raw = mne.io.read_raw_edf(_eeg_path(study_root, "sub-01", "pre"), verbose="error")
    assert raw.ch_names == list(CHANNELS)
    assert raw.info["sfreq"] == 250.0 and raw.n_times == 250 * 60
    raw.set_montage("colin27_1020")  # every name is a 10-20 position
    sidecar = json.loads(
        _eeg_path(study_root, "sub-01", "pre")
        .with_name("sub-01_ses-pre_task-rest_eeg.json")
        .read_text()
    )
    assert sidecar["PowerLineFrequency"] in (50.0, 60.0)

    func = _func(study_root, "sub-01", "pre")
    bold = nib.load(func / f"sub-01_ses-pre_task-rest_{SPACE}_desc-preproc_bold.nii.gz")
    assert bold.ndim == 4 and bold.shape[3] == 80
    assert bold.header.get_zooms()[3] == 2.0
    assert int(bold.header["sform_code"]) == 4  # MNI
    mask = func / f"sub-01_ses-pre_task-rest_{SPACE}_desc-brain_mask.nii.gz"
    signals = NiftiMasker(mask_img=str(mask), standardize=None).fit_transform(bold)
    assert signals.shape == (80, int(nib.load(mask).get_fdata().sum()))
    assert np.all(np.isfinite(signals)) and signals.std(0).min() > 0
    confounds = pd.read_csv(
        func / "sub-01_ses-pre_task-rest_desc-confounds_timeseries.tsv",
        sep="\t",
        na_values="n/a",
    )
    assert len(confounds) == 80
    for column in (
        "trans_x",
        "rot_z",
        "framewise_displacement",
        "a_comp_cor_00",
        "global_signal",
        "cosine00",
        "std_dvars",
    ):
        assert column in confounds
    assert np.isnan(confounds["framewise_displacement"][0])


def test_participants_table_matches_truth(study_root):
    table = pd.read_csv(study_root / "participants.tsv", sep="\t")
    truth = read_ground_truth(study_root)
    assert list(table.columns) == [
        "participant_id",
        "intervention",
        "site",
        "age",
        "sex",
        "pain_pre",
        "pain_post",
    ]
    assert table["intervention"].value_counts().to_dict() == {
        "TENS": 2,
        "NIBS": 2,
        "mindfulness": 2,
    }
    reduction = (table["pain_pre"] - table["pain_post"]) / table["pain_pre"]
    planted = [truth["participants"][p]["responder"] for p in table["participant_id"]]
    assert list(reduction >= 0.3) == planted
    assert (
        table["pain_pre"].between(0, 10).all()
        and table["pain_post"].between(0, 10).all()
    )


# ------------------------------------------------------------ planted truth
@pytest.fixture(scope="module")
def eeg_studies(tmp_path_factory):
    """EEG-only studies with and without planted effects (same seed)."""
    base = tmp_path_factory.mktemp("eeg")
    kwargs = dict(n_participants=12, seed=3, modalities=["eeg"], eeg_duration=40.0)
    effect = simulate_study(
        base / "effect", effect_size=1.0, baseline_effect=0.5, **kwargs
    )
    null = simulate_study(base / "null", effect_size=0.0, baseline_effect=0.0, **kwargs)
    return effect, null


def _peak_frequency(freqs, psd):
    """Centre of gravity of the 7-14 Hz peak above a power law fitted on its flanks."""
    flanks = ((freqs >= 3) & (freqs < 6)) | ((freqs > 15) & (freqs <= 25))
    fit = np.polyfit(np.log(freqs[flanks]), np.log(psd[flanks]), 1)
    search = (freqs >= 7) & (freqs <= 14)
    excess = np.clip(
        psd[search] - np.exp(np.polyval(fit, np.log(freqs[search]))), 0, None
    )
    return np.sum(freqs[search] * excess) / np.sum(excess)


def _alpha_power(root, pid, ses):
    """Welch alpha power (uV^2) over occipital channels the truth says are clean."""
    noisy = read_ground_truth(root)["participants"][pid]["sessions"][ses]["eeg"][
        "noisy_channels"
    ]
    picks = [ch for ch in ("O1", "Oz", "O2", "POz") if ch not in noisy]
    raw = mne.io.read_raw_edf(_eeg_path(root, pid, ses), verbose="error", preload=True)
    freqs, psd = _welch(raw.get_data(picks=picks) * 1e6, raw.info["sfreq"])
    band = (freqs >= 8) & (freqs < 13)
    return psd[:, band].sum(axis=1).mean() * (freqs[1] - freqs[0]), freqs, psd


def test_planted_eeg_parameters_are_recovered_by_welch(eeg_studies):
    root, _ = eeg_studies
    truth = read_ground_truth(root)
    paf_errors, gain_ratio, power_ratio = [], [], []
    for pid, entry in truth["participants"].items():
        sessions = entry["sessions"]
        powers = {}
        for ses in ("pre", "post"):
            powers[ses], freqs, psd = _alpha_power(root, pid, ses)
            peak = _peak_frequency(freqs, psd.mean(0))
            paf_errors.append(peak - sessions[ses]["eeg"]["paf_hz"])
        gain_ratio.append(
            sessions["post"]["eeg"]["alpha_gain"] / sessions["pre"]["eeg"]["alpha_gain"]
        )
        power_ratio.append(powers["post"] / powers["pre"])
    # within the 0.25 Hz Welch resolution
    assert np.mean(np.abs(paf_errors)) < 0.15
    assert np.max(np.abs(paf_errors)) < 0.3
    # alpha power scales with the square of the planted amplitude gain
    log_gain2, log_power = np.log(np.square(gain_ratio)), np.log(power_ratio)
    assert np.corrcoef(log_gain2, log_power)[0, 1] > 0.9
    slope = np.polyfit(log_gain2, log_power, 1)[0]
    assert 0.7 < slope < 1.1  # slightly below 1: the 1/f background is unchanged


def test_aperiodic_exponent_is_recovered(eeg_studies):
    root, _ = eeg_studies
    truth = read_ground_truth(root)
    errors = []
    # midline and medial channels: away from temporal muscle bursts
    medial = ["Fz", "FC1", "FC2", "Cz", "CP1", "CP2", "Pz", "POz", "Oz"]
    for pid in list(truth["participants"])[:6]:
        planted = truth["participants"][pid]["sessions"]["pre"]["eeg"]
        picks = [ch for ch in medial if ch not in planted["noisy_channels"]]
        raw = mne.io.read_raw_edf(
            _eeg_path(root, pid, "pre"), verbose="error", preload=True
        )
        freqs, psd = _welch(raw.get_data(picks=picks) * 1e6, 250.0)
        fit = (freqs >= 30) & (freqs <= 45)
        slope = np.polyfit(np.log10(freqs[fit]), np.log10(psd.mean(0)[fit]), 1)[0]
        errors.append(-slope - planted["aperiodic_exponent"])
    assert np.mean(np.abs(errors)) < 0.15


def _tens_alpha_change(root):
    truth = read_ground_truth(root)
    changes = {True: [], False: []}
    for pid, entry in truth["participants"].items():
        if entry["intervention"] == "TENS":
            pre = _alpha_power(root, pid, "pre")[0]
            post = _alpha_power(root, pid, "post")[0]
            changes[entry["responder"]].append(np.log(post / pre))
    return changes


def test_tens_alpha_increase_is_planted_and_absent_in_null(eeg_studies):
    effect, null = eeg_studies
    changes = _tens_alpha_change(effect)
    # planted: amplitude x1.5 -> power x2.25 (log 0.81) for responders only
    assert np.mean(changes[True]) > 0.5
    assert abs(np.mean(changes[False])) < 0.35
    null_changes = _tens_alpha_change(null)
    assert abs(np.mean(null_changes[True] + null_changes[False])) < 0.3
    truth = read_ground_truth(null)
    for entry in truth["participants"].values():
        pre, post = entry["sessions"]["pre"], entry["sessions"]["post"]
        # only test-retest noise between sessions (lognormal sd 0.08 per gain)
        ratio = post["eeg"]["alpha_gain"] / pre["eeg"]["alpha_gain"]
        assert abs(np.log(ratio)) < 0.45
        deltas = [
            post["fmri"]["planted_correlation"][e]
            - pre["fmri"]["planted_correlation"][e]
            for e in pre["fmri"]["planted_correlation"]
        ]
        assert np.max(np.abs(deltas)) < 0.2


@pytest.fixture(scope="module")
def fmri_study(tmp_path_factory):
    return simulate_study(
        tmp_path_factory.mktemp("fmri") / "study",
        n_participants=2,
        seed=5,
        interventions=["TENS"],
        modalities=["fmri"],
        fmri_volumes=300,
    )


def test_planted_roi_correlations_are_recovered_by_numpy(fmri_study):
    truth = read_ground_truth(fmri_study)
    rois = truth["model"]["fmri"]["rois"]
    labels = [r["label"] for r in rois]
    min_radius = truth["model"]["fmri"]["planting_min_radius_mm"]
    errors_latent, errors_planted = [], []
    for pid, entry in truth["participants"].items():
        for ses in ("pre", "post"):
            func = _func(fmri_study, pid, ses)
            img = nib.load(
                func / f"{pid}_ses-{ses}_task-rest_{SPACE}_desc-preproc_bold.nii.gz"
            )
            mask = nib.load(
                func / f"{pid}_ses-{ses}_task-rest_{SPACE}_desc-brain_mask.nii.gz"
            )
            data = img.get_fdata(dtype=np.float32).reshape(-1, img.shape[3])
            ijk = np.indices(img.shape[:3]).reshape(3, -1).T
            xyz = ijk @ img.affine[:3, :3].T + img.affine[:3, 3]
            inside = mask.get_fdata().ravel() > 0
            signals = np.column_stack(
                [
                    data[
                        (
                            np.linalg.norm(xyz - [r["x"], r["y"], r["z"]], axis=1)
                            <= max(r["radius_mm"], min_radius)
                        )
                        & inside
                    ].mean(axis=0)
                    for r in rois
                ]
            )
            confounds = pd.read_csv(
                func / f"{pid}_ses-{ses}_task-rest_desc-confounds_timeseries.tsv",
                sep="\t",
                na_values="n/a",
            )
            names = ["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"]
            names += [f"a_comp_cor_{k:02d}" for k in range(5)]
            names += [c for c in confounds if c.startswith("cosine")]
            design = np.column_stack([np.ones(len(confounds)), confounds[names]])
            keep = ~(confounds["framewise_displacement"].fillna(0) > 0.5).to_numpy()
            beta = np.linalg.lstsq(design[keep], signals[keep], rcond=None)[0]
            corr = np.corrcoef((signals[keep] - design[keep] @ beta).T)
            fmri = entry["sessions"][ses]["fmri"]
            for i in range(len(labels)):
                for j in range(i + 1, len(labels)):
                    edge = "~".join(sorted((labels[i], labels[j])))
                    errors_latent.append(
                        corr[i, j] - fmri["latent_sample_correlation"][edge]
                    )
                    errors_planted.append(
                        corr[i, j] - fmri["planted_correlation"][edge]
                    )
    assert np.mean(np.abs(errors_latent)) < 0.05
    assert np.mean(np.abs(errors_planted)) < 0.08
    # no systematic bias beyond the small attenuation by averaged voxel noise
    assert abs(np.mean(errors_planted)) < 0.05


# ------------------------------------------------------------- behaviour
def _digest(root):
    digest = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            if path.name.endswith(".nii.gz"):
                content = np.asarray(nib.load(path).dataobj).tobytes()
            else:
                content = path.read_bytes()
            digest[str(path.relative_to(root))] = hashlib.sha256(content).hexdigest()
    return digest


def test_same_seed_same_study_whatever_n_jobs(tmp_path):
    kwargs = dict(n_participants=6, seed=11, eeg_duration=10.0, fmri_volumes=20)
    one = simulate_study(tmp_path / "one", n_jobs=1, **kwargs)
    two = simulate_study(tmp_path / "two", n_jobs=2, **kwargs)
    other = simulate_study(tmp_path / "other", n_jobs=1, **(kwargs | {"seed": 12}))
    assert _digest(one) == _digest(two)
    assert _digest(one) != _digest(other)


def test_missing_rate_drops_recordings_and_records_them(tmp_path):
    root = simulate_study(
        tmp_path / "s",
        n_participants=6,
        seed=1,
        modalities=["eeg"],
        eeg_duration=5.0,
        missing_rate=0.3,
    )
    dropped = read_ground_truth(root)["dropped_recordings"]
    written = list(root.rglob("*_eeg.edf"))
    assert dropped and len(written) + len(dropped) == 12


def test_refuses_to_overwrite_and_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "study"
    target.mkdir()
    (target / "keep.txt").write_text("precious")
    with pytest.raises(OutputError, match="not empty"):
        simulate_study(target, n_participants=6, modalities=["eeg"], eeg_duration=5.0)
    assert (target / "keep.txt").read_text() == "precious"
    afile = tmp_path / "file"
    afile.write_text("x")
    with pytest.raises(OutputError, match="existing file"):
        simulate_study(afile, n_participants=6)
    with pytest.raises(ValueError, match="at least 2 per intervention"):
        simulate_study(tmp_path / "few", n_participants=3)
    with pytest.raises(ValueError, match="too low"):
        simulate_study(
            tmp_path / "slow",
            n_participants=6,
            eeg_sfreq=100.0,
            modalities=["eeg"],
            eeg_duration=5.0,
        )
    # no staging folder or partial study is left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "study"]
