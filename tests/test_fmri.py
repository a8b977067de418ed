"""fMRI ROI signals, denoising and connectivity against references and truths."""

import json
import logging
import warnings
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from nilearn.connectome import ConnectivityMeasure
from sklearn.covariance import EmpiricalCovariance
from sklearn.exceptions import SkipTestWarning
from sklearn.utils.estimator_checks import estimator_checks_generator

from neuromark.exceptions import DataFileError
from neuromark.fmri import (
    ConnectivityFeatures,
    FMRISettings,
    ROITimeSeries,
    SphereAtlas,
    TangentConnectivity,
    censoring_mask,
    confound_columns,
    connectivity_matrix,
    edge_table,
    fisher_z,
    load_run,
    read_atlas,
    roi_signals,
    run_features,
    select_confounds,
)
from neuromark.fmri.settings import DenoisingSettings
from neuromark.simulation import mni_grid, read_ground_truth, simulate_study
from neuromark.simulation._fmri import SIGNAL_PERCENT, VOXEL_NOISE_PERCENT


# ---------------------------------------------------------------- ROI signals
def test_roi_signals_equal_numpy_and_survive_a_round_trip():
    rng = np.random.default_rng(0)
    mask, affine = mni_grid(4.0)
    atlas = read_atlas()
    labels, qc = atlas.label_image(mask.shape, affine, mask)
    assert (qc["status"] == "ok").all()
    truth = rng.standard_normal((50, len(atlas.labels)))
    # signals -> image: every voxel of ROI k carries signal k, others noise
    data = rng.standard_normal((*mask.shape, 50)).astype(np.float32)
    for k in range(len(atlas.labels)):
        data[labels == k + 1] = truth[:, k]
    signals, _, _ = roi_signals(data, labels, len(atlas.labels))
    np.testing.assert_allclose(signals, truth, rtol=1e-6, atol=1e-6)
    # direct numpy mean over the same voxels of a noisy image
    noisy = rng.standard_normal(data.shape).astype(np.float32)
    signals, tsnr, _ = roi_signals(noisy, labels, len(atlas.labels))
    for k in range(len(atlas.labels)):
        np.testing.assert_allclose(
            signals[:, k], noisy[labels == k + 1].mean(axis=0), rtol=1e-5
        )
    assert np.isfinite(tsnr).all()


def test_sphere_coverage_on_coarse_and_fine_grids():
    atlas = read_atlas(labels=["PAG", "DLPFC_L"], pag="sphere3")
    for resolution, pag_voxels in ((2.0, 19), (4.0, 1)):
        mask, affine = mni_grid(resolution)
        _, qc = atlas.label_image(mask.shape, affine, mask)
        qc = qc.set_index("roi")
        # the centre voxel is always included, so PAG is never empty by grid
        assert qc.loc["PAG", "n_in_brain"] == pag_voxels
        assert 0.8 < qc.loc["DLPFC_L", "coverage"] < 1.0  # cortical edge
    assert (
        SphereAtlas(
            pd.DataFrame(
                {"label": ["X"], "x": [0], "y": [0], "z": [200], "radius_mm": [6]}
            )
        )
        .label_image(mask.shape, affine, mask)[1]
        .loc[0, "status"]
        == "empty"
    )


# --------------------------------------------------------------- connectivity
@pytest.fixture(scope="module")
def nitime_series():
    import nitime

    path = Path(nitime.__file__).parent / "data" / "fmri_timeseries.csv"
    return pd.read_csv(path)


def test_correlation_equals_numpy_and_nilearn_on_nitime_data(nitime_series):
    series = nitime_series[["LParaCing", "RParaCing", "LFpol", "RFpol", "LThal"]]
    signals = series.to_numpy(float)
    ours = connectivity_matrix(signals, "correlation")
    np.testing.assert_allclose(ours, np.corrcoef(signals.T), atol=1e-10)
    nilearn = ConnectivityMeasure(
        kind="correlation", cov_estimator=EmpiricalCovariance(), standardize=False
    ).fit_transform([signals])[0]
    np.testing.assert_allclose(ours, nilearn, atol=1e-10)
    # partial correlation: nilearn's default estimator (Ledoit-Wolf shrinkage)
    partial = ConnectivityMeasure(kind="partial correlation").fit_transform([signals])[
        0
    ]
    np.testing.assert_allclose(
        connectivity_matrix(signals, "partial correlation"), partial, atol=1e-6
    )
    # paracingulate (ACC proxy) ~ frontal pole (PFC proxy) edge, as Fisher z
    edges = edge_table(fisher_z(ours), list(series.columns), "fc").set_index("location")
    r = np.corrcoef(series["LParaCing"], series["LFpol"])[0, 1]
    assert edges.loc["LFpol~LParaCing", "value"] == pytest.approx(
        np.arctanh(r), abs=1e-10
    )


with warnings.catch_warnings():  # "cannot test 2-D input": declared, expected
    warnings.simplefilter("ignore", SkipTestWarning)
    LIST_INPUT_CHECKS = [
        pair
        for estimator in (
            ConnectivityFeatures(),
            TangentConnectivity(),
            ROITimeSeries(),
        )
        for pair in estimator_checks_generator(estimator, legacy=True)
    ]


@pytest.mark.parametrize("estimator, check", LIST_INPUT_CHECKS)
def test_list_input_estimators_pass_sklearn_checks(estimator, check):
    # their input is a list of time series (or of runs), declared in their
    # tags, so scikit-learn runs the checks that apply to any input; the
    # contracts of a fitted estimator are tested below on real input
    check(estimator)


@pytest.mark.parametrize(
    "estimator",
    [ConnectivityFeatures(kind="partial correlation"), TangentConnectivity()],
)
def test_list_input_estimators_follow_the_estimator_contract(estimator):
    import pickle

    from sklearn.base import clone
    from sklearn.exceptions import NotFittedError

    rng = np.random.default_rng(2)
    series = [rng.standard_normal((60, 4)) for _ in range(6)]
    with pytest.raises(NotFittedError):
        estimator.transform(series)
    copy = clone(estimator)
    assert copy.get_params() == estimator.get_params()
    assert copy.fit(series) is copy
    assert not hasattr(estimator, "n_rois_")  # clone did not fit the original
    restored = pickle.loads(pickle.dumps(copy))
    np.testing.assert_array_equal(restored.transform(series), copy.transform(series))
    # fitting twice gives the same result (no state carried over)
    np.testing.assert_array_equal(
        clone(estimator).fit(series).transform(series), copy.transform(series)
    )


def test_tangent_reference_is_learned_in_fit():
    rng = np.random.default_rng(1)
    series = [
        rng.standard_normal((60, 4)) @ rng.standard_normal((4, 4)) for _ in range(8)
    ]
    model = TangentConnectivity().fit(series[:6])
    reference = ConnectivityMeasure(
        kind="tangent", vectorize=True, discard_diagonal=True
    ).fit(series[:6])
    np.testing.assert_allclose(
        model.transform(series[6:]), reference.transform(series[6:])
    )
    assert model.transform(series[6:]).shape == (2, 6)
    with pytest.raises(ValueError, match=r"expected \(n_times, 4\) arrays"):
        model.transform([rng.standard_normal((60, 3))])


# ------------------------------------------------------------------ denoising
def test_strategies_and_censoring():
    assert len(confound_columns(DenoisingSettings(motion="6P", compcor=0))) == 6
    assert (
        len(
            confound_columns(
                DenoisingSettings(
                    motion="24P", wm_csf="full", global_signal="full", compcor=0
                )
            )
        )
        == 36
    )
    confounds = pd.DataFrame(
        {
            "framewise_displacement": [
                np.nan,
                0.1,
                0.9,
                0.1,
                0.1,
                0.1,
                0.1,
                0.1,
                0.1,
                0.1,
                0.1,
                0.8,
                0.1,
                0.1,
            ],
            "std_dvars": np.ones(14),
        }
    )
    keep = censoring_mask(confounds, DenoisingSettings(min_segment=5))
    # volume 2 and 11 censored; the 1-volume stretch (1) and 3-volume stretch
    # (12-13) are shorter than 5 volumes and censored too
    assert np.flatnonzero(keep).tolist() == [3, 4, 5, 6, 7, 8, 9, 10]


def test_non_steady_state_and_motion_outlier_volumes_are_censored():
    """fMRIPrep's one-hot outlier columns, read from nilearn's shipped example."""
    from pathlib import Path

    import nilearn.interfaces.fmriprep as fmriprep

    data = Path(fmriprep.__file__).parent / "data"
    confounds = pd.read_csv(data / "test_desc-confounds_regressors.tsv", sep="\t")
    flagged = np.flatnonzero(confounds["non_steady_state_outlier00"] == 1)
    assert len(flagged) > 0  # older fMRIPrep naming, no underscore before 00
    settings = DenoisingSettings(
        fd_threshold=None, std_dvars_threshold=None, min_segment=1
    )
    keep = censoring_mask(confounds, settings)
    assert np.flatnonzero(~keep).tolist() == flagged.tolist()
    # newer naming, and motion outliers only when asked for
    n = 12
    table = pd.DataFrame(
        {
            "non_steady_state_outlier_00": np.eye(n)[0],
            "non_steady_state_outlier_01": np.eye(n)[1],
            "motion_outlier_00": np.eye(n)[6],
            "framewise_displacement": [np.nan] + [0.1] * (n - 1),
        }
    )
    keep = censoring_mask(table, settings)
    assert np.flatnonzero(~keep).tolist() == [0, 1]
    keep = censoring_mask(
        table, settings.model_copy(update={"censor_motion_outliers": True})
    )
    assert np.flatnonzero(~keep).tolist() == [0, 1, 6]


@pytest.mark.parametrize(
    "name",
    ["test_desc-confounds_regressors", "test-v21_desc-confounds_timeseries"],
)
@pytest.mark.parametrize("mode", ["anat_combined", "anat_separated"])
@pytest.mark.parametrize("n_components", [2, 5])
def test_compcor_columns_equal_nilearn_on_its_fmriprep_files(name, mode, n_components):
    """The columns chosen by the JSON's Mask, on both fMRIPrep naming schemes."""
    import nilearn.interfaces.fmriprep as fmriprep
    from nilearn.interfaces.fmriprep.load_confounds_compcor import find_compcor

    from neuromark.fmri.denoise import compcor_columns
    from neuromark.io.checks import read_confounds

    table = read_confounds(Path(fmriprep.__file__).parent / "data" / f"{name}.tsv")
    metadata = table.attrs["metadata"]
    ours = compcor_columns(metadata, mode, n_components, None)
    assert ours == find_compcor(metadata, mode, n_components)
    assert set(ours) <= set(table.columns)
    settings = DenoisingSettings(compcor=n_components, compcor_mode=mode)
    regressors = select_confounds(table, settings, Path(name))
    np.testing.assert_allclose(regressors[:, -len(ours) :], table[ours].to_numpy())


def test_physiological_regressors_are_used_when_present():
    from neuromark.fmri.denoise import physio_columns

    n = 30
    rng = np.random.default_rng(3)
    table = pd.DataFrame(
        {
            "trans_x": rng.standard_normal(n),
            "rot_x": rng.standard_normal(n),
            "retroicor_card_sin1": rng.standard_normal(n),
            "RVT": rng.standard_normal(n),
            "csf": rng.standard_normal(n),
        }
    )
    assert physio_columns(table) == ["retroicor_card_sin1", "RVT"]
    settings = DenoisingSettings(motion="none", wm_csf="basic", compcor=0, physio=True)
    table["white_matter"] = rng.standard_normal(n)
    regressors = select_confounds(table, settings, Path("c.tsv"))
    np.testing.assert_allclose(
        regressors,
        table[["white_matter", "csf", "retroicor_card_sin1", "RVT"]].to_numpy(),
    )
    off = settings.model_copy(update={"physio": False})
    assert select_confounds(table, off, Path("c.tsv")).shape[1] == 2


def test_compcor_without_its_json_is_refused(tmp_path):
    from neuromark.io.checks import read_confounds

    path = tmp_path / "sub-01_desc-confounds_timeseries.tsv"
    columns = confound_columns(DenoisingSettings(compcor=0))
    pd.DataFrame(np.ones((10, len(columns))), columns=columns).assign(
        a_comp_cor_00=1.0
    ).to_csv(path, sep="\t", index=False)
    table = read_confounds(path)
    assert table.attrs["metadata"] is None
    with pytest.raises(DataFileError, match="CompCor needs the confounds JSON"):
        select_confounds(table, DenoisingSettings(), path)
    # without CompCor the JSON is not needed
    assert select_confounds(table, DenoisingSettings(compcor=0), path).shape[1] == 24


@pytest.fixture(scope="module")
def planted_run(tmp_path_factory):
    root = simulate_study(
        tmp_path_factory.mktemp("fmri") / "s",
        n_participants=2,
        seed=13,
        interventions=["TENS"],
        modalities=["fmri"],
        fmri_volumes=400,
    )
    return root, read_ground_truth(root)


def _run(root, pid, session, settings=None, **kwargs):
    func = root / "derivatives" / "fmriprep" / pid / f"ses-{session}" / "func"
    stem = f"{pid}_ses-{session}_task-rest"
    img, mask, confounds, tr = load_run(
        func / f"{stem}_space-MNI152NLin2009cAsym_desc-preproc_bold.nii.gz",
        confounds=func / f"{stem}_desc-confounds_timeseries.tsv",
        mask=func / f"{stem}_space-MNI152NLin2009cAsym_desc-brain_mask.nii.gz",
        **kwargs,
    )
    return run_features(img, mask, confounds, tr, settings)


def test_planted_correlations_are_recovered_after_denoising(planted_run):
    root, truth = planted_run
    noise = (VOXEL_NOISE_PERCENT / SIGNAL_PERCENT) ** 2
    errors = []
    for pid, entry in truth["participants"].items():
        for session in ("pre", "post"):
            features, qc, roi_qc = _run(root, pid, session)
            assert qc["n_kept"] > 350 and qc["rois_excluded"] == ""
            voxels = roi_qc.set_index("roi")["n_in_brain"]
            # averaging n voxels of independent noise attenuates r analytically
            attenuation = 1 / np.sqrt(1 + noise / voxels)
            latent = entry["sessions"][session]["fmri"]["latent_sample_correlation"]
            for row in features[features["feature"] == "fc"].itertuples():
                a, b = row.location.split("~")
                expected = latent[row.location] * attenuation[a] * attenuation[b]
                errors.append(np.tanh(row.value) - expected)
    assert np.mean(np.abs(errors)) < 0.05
    assert abs(np.mean(errors)) < 0.02


def test_high_pass_is_applied_even_when_motion_drifts(planted_run):
    root, _ = planted_run
    with_hp, _, _ = _run(root, "sub-01", "pre")
    without, _, _ = _run(
        root, "sub-01", "pre", FMRISettings(denoising={"high_pass": None})
    )
    assert not np.allclose(with_hp["value"], without["value"])


def test_partial_correlation_is_missing_without_enough_degrees_of_freedom(
    planted_run,
):
    root, _ = planted_run
    features, qc, _ = _run(root, "sub-01", "pre")
    assert qc["partial_missing_reason"] == ""
    assert features["value"].notna().all()
    strict = FMRISettings(partial_min_dof_per_roi=1000)
    features, qc, _ = _run(root, "sub-01", "pre", strict)
    partial = features["feature"] == "fc_partial"
    assert features.loc[partial, "value"].isna().all()
    assert features.loc[~partial, "value"].notna().all()
    assert qc["partial_missing_reason"].endswith(
        "partial correlation needs 7000 (fmri.partial_min_dof_per_roi)"
    )


# ------------------------------------------------------------ real data files
def test_nibabel_functional_runs_and_reports_coverage(tmp_path, caplog):
    from nibabel.testing import data_path

    bold = Path(data_path) / "functional.nii"
    n = nib.load(bold).shape[3]
    rng = np.random.default_rng(2)
    metadata = {f"a_comp_cor_{k:02d}": {"Mask": "combined"} for k in range(5)}
    columns = confound_columns(DenoisingSettings(), metadata)
    confounds = pd.DataFrame(rng.normal(0, 0.01, (n, len(columns))), columns=columns)
    confounds["framewise_displacement"] = 0.05
    path = tmp_path / "confounds.tsv"
    confounds.to_csv(path, sep="\t", index=False)
    path.with_suffix(".json").write_text(json.dumps(metadata))
    img, mask, table, tr = load_run(bold, confounds=path)  # mask computed from the EPI
    assert tr == 2.0 and mask.any()
    labels, qc = read_atlas().label_image(img.shape[:3], img.affine, mask)
    status = qc.set_index("roi")["status"]
    assert status["PAG"] == "empty" and (status == "empty").sum() >= 5
    with (
        caplog.at_level(logging.WARNING, logger="neuromark"),
        pytest.raises(
            DataFileError,
            match=r"fewer than two ROIs have a usable signal: PAG=0 voxels "
            r"\(empty: outside the field of view\)",
        ),
    ):
        run_features(
            img,
            mask,
            table,
            tr,
            FMRISettings(denoising={"min_remaining_seconds": 0}),
            source=bold,
        )
    assert "ROI PAG has 0 usable voxel(s) (needs 10: outside the field of view)" in (
        caplog.text
    )


# ------------------------------------------------------------------ bad input
def test_bad_inputs_give_clear_errors(planted_run, tmp_path):
    root, _ = planted_run
    func = root / "derivatives/fmriprep/sub-01/ses-pre/func"
    stem = "sub-01_ses-pre_task-rest"
    bold = func / f"{stem}_space-MNI152NLin2009cAsym_desc-preproc_bold.nii.gz"
    confounds = func / f"{stem}_desc-confounds_timeseries.tsv"
    img = nib.load(bold)

    three_d = tmp_path / "sub-01_space-MNI152NLin2009cAsym_bold.nii.gz"
    nib.save(nib.Nifti1Image(np.asarray(img.dataobj)[..., 0], img.affine), three_d)
    with pytest.raises(DataFileError, match="expected a 4D BOLD time series, got a 3D"):
        load_run(three_d, confounds=confounds)
    with pytest.raises(
        DataFileError, match="is in space MNI152NLin2009cAsym, expected T1w"
    ):
        load_run(bold, confounds=confounds, space="T1w")

    table = pd.read_csv(confounds, sep="\t")
    short = tmp_path / "short.tsv"
    table.iloc[:-5].to_csv(short, sep="\t", index=False)
    with pytest.raises(
        DataFileError, match=r"short.tsv: has 395 rows but .* 400 volumes"
    ):
        load_run(bold, confounds=short)

    loaded, mask, good, tr = load_run(bold, confounds=confounds)
    nan = good.assign(a_comp_cor_02=np.nan)
    with pytest.raises(DataFileError, match=r"\['a_comp_cor_02'\] contain only NaN"):
        run_features(loaded, mask, nan, tr, confounds_source=confounds)
    missing = good.drop(columns=["rot_z_power2"])
    with pytest.raises(
        DataFileError,
        match=r"\['rot_z_power2'\] required by the "
        r"denoising strategy are missing",
    ):
        run_features(loaded, mask, missing, tr)
    with pytest.raises(DataFileError, match=r"only 0 of 400 volumes .* remain"):
        run_features(
            loaded, mask, good, tr, FMRISettings(denoising={"fd_threshold": 1e-6})
        )

    shifted = nib.Nifti1Image(np.asarray(img.dataobj), np.eye(4) * [4, 4, 4, 1])
    with pytest.raises(DataFileError, match="no ROI overlaps the image's brain mask"):
        run_features(shifted, mask, good, tr, source=bold)

    rois = tmp_path / "rois.tsv"
    pd.DataFrame({"label": ["PAG"], "x": [0], "y": [-32]}).to_csv(
        rois, sep="\t", index=False
    )
    with pytest.raises(
        DataFileError, match=r"missing column\(s\) \['z', 'radius_mm'\]"
    ):
        read_atlas(rois)
    pd.DataFrame(
        {
            "label": ["PAG", "ACC", "OUT"],
            "x": [0, 0, 0],
            "y": [-32, 38, 0],
            "z": [-10, 6, 300],
            "radius_mm": [6, 6, 6],
        }
    ).to_csv(rois, sep="\t", index=False)
    features, qc, roi_qc = run_features(loaded, mask, good, tr, atlas=read_atlas(rois))
    assert qc["rois_excluded"] == "OUT" and set(features["location"]) == {"ACC~PAG"}
    out = roi_qc.set_index("roi").loc["OUT"]
    assert out["status"] == "empty" and out["reason"] == "outside the field of view"


def test_bundled_atlases_and_label_image_round_trip(tmp_path):
    core, extended, chain = (
        read_atlas(n)
        for n in ("pain_modulation", "pain_modulation_extended", "pag_chain")
    )
    assert set(extended.labels) - set(core.labels) == {
        "RVM",
        "insula_L",
        "insula_R",
        "thalamus_L",
        "thalamus_R",
        "NAc_L",
        "NAc_R",
    }
    assert chain.labels == core.labels
    assert (chain.table["label"] == "PAG").sum() == 3  # three spheres, one ROI
    mask, affine = mni_grid(2.0)
    _, qc = chain.label_image(mask.shape, affine, mask)
    assert qc.set_index("roi").loc["PAG", "n_in_brain"] == 11
    # a label image and its lookup table read back as the same ROIs
    from neuromark.fmri import make_label_image

    reference = nib.Nifti1Image(np.zeros(mask.shape, np.int16), affine)
    image, lookup, _ = make_label_image(core, reference, mask)
    nib.save(image, tmp_path / "rois.nii.gz")
    lookup.to_csv(tmp_path / "rois.tsv", sep="\t", index=False)
    again = read_atlas(tmp_path / "rois.nii.gz")
    labels, qc_again = again.label_image(mask.shape, affine, mask)
    np.testing.assert_array_equal(labels, np.asarray(image.dataobj))
    assert again.labels == core.labels and (qc_again["status"] == "ok").all()


def test_connectivity_features_estimator(nitime_series):
    from sklearn.base import clone

    from neuromark.fmri import ConnectivityFeatures

    series = [
        nitime_series.iloc[:, 3:8].to_numpy(float),
        nitime_series.iloc[:, 8:13].to_numpy(float),
    ]
    model = clone(ConnectivityFeatures(kind="partial correlation")).fit(series)
    out = model.transform(series)
    rows, cols = np.triu_indices(5, 1)
    expected = np.arctanh(
        connectivity_matrix(series[1], "partial correlation")[rows, cols]
    )
    np.testing.assert_allclose(out[1], expected)
    with pytest.raises(
        ValueError, match="Allowed values are 'correlation' and 'partial"
    ):
        ConnectivityFeatures(kind="tangent").fit(series)
    with pytest.raises(ValueError, match=r"expected \(n_times, 5\) arrays"):
        model.transform([series[0][:, :3]])


def test_roi_time_series_feed_connectivity_estimators(planted_run):
    from sklearn.pipeline import make_pipeline

    from neuromark.fmri import ConnectivityFeatures, ROITimeSeries

    root, _ = planted_run
    runs = []
    for pid in ("sub-01", "sub-02"):
        func = root / "derivatives/fmriprep" / pid / "ses-pre/func"
        stem = f"{pid}_ses-pre_task-rest"
        runs.append(
            {
                "bold": func
                / f"{stem}_space-MNI152NLin2009cAsym_desc-preproc_bold.nii.gz",
                "confounds": func / f"{stem}_desc-confounds_timeseries.tsv",
                "mask": func
                / f"{stem}_space-MNI152NLin2009cAsym_desc-brain_mask.nii.gz",
            }
        )
    model = make_pipeline(ROITimeSeries(), ConnectivityFeatures())
    vectors = model.fit_transform(runs)
    features, _, _ = _run(root, "sub-02", "pre")
    fc = features[features["feature"] == "fc"]["value"].to_numpy()
    labels = read_atlas().labels
    rows, cols = np.triu_indices(len(labels), 1)
    order = ["~".join(sorted((labels[i], labels[j]))) for i, j in zip(rows, cols)]
    by_edge = dict(zip(features[features["feature"] == "fc"]["location"], fc))
    np.testing.assert_allclose(vectors[1], [by_edge[e] for e in order], atol=1e-10)
    refusing = ROITimeSeries(
        {"rois": {"atlas": "pain_modulation_extended", "labels": ["PAG", "mPFC"]}}
    ).fit()
    assert refusing.labels_ == ["PAG", "mPFC"]


def test_paths_images_and_arrays_give_the_same_features(planted_run):
    """As nilearn users hold a run: file names, nibabel images, a mask array,
    a confounds DataFrame, the TR from the header; all give the same edges."""
    root, _ = planted_run
    func = root / "derivatives/fmriprep/sub-01/ses-pre/func"
    stem = "sub-01_ses-pre_task-rest"
    bold = func / f"{stem}_space-MNI152NLin2009cAsym_desc-preproc_bold.nii.gz"
    mask = func / f"{stem}_space-MNI152NLin2009cAsym_desc-brain_mask.nii.gz"
    confounds = func / f"{stem}_desc-confounds_timeseries.tsv"
    # a plain DataFrame has no fMRIPrep JSON saying which mask CompCor used
    settings = FMRISettings(denoising={"compcor": 0})
    reference, _, _ = _run(root, "sub-01", "pre", settings)
    from_paths, _, _ = run_features(str(bold), str(mask), confounds, None, settings)
    from_objects, _, _ = run_features(
        nib.load(bold),
        np.asarray(nib.load(mask).dataobj) > 0,
        pd.read_csv(confounds, sep="\t"),
        2.0,
        settings,
    )
    for features in (from_paths, from_objects):
        pd.testing.assert_frame_equal(features, reference)
    img = nib.load(bold)
    with pytest.raises(DataFileError, match="399 rows but the run has 400"):
        run_features(img, None, pd.read_csv(confounds, sep="\t").iloc[1:], 2.0)
    with pytest.raises(DataFileError, match=r"mask of shape \(2, 2, 2\)"):
        run_features(img, np.ones((2, 2, 2)), confounds, 2.0)
