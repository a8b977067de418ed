"""Data-dependent steps fitted inside the fold: ComBat, confounds, tangent space."""

from pathlib import Path

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from neuromark.fmri.connectivity import connectivity_matrix, fisher_z
from neuromark.predict import make_model, validate
from neuromark.predict.harmonize import Deconfounder
from neuromark.predict.tangent import TangentSpace, geometric_mean

REFERENCE = Path(__file__).parent / "data" / "combat_reference.npz"
FAST = dict(n_splits=5, n_repeats=3, n_permutations=0, n_bootstrap=200)


@parametrize_with_checks(
    [Deconfounder(n_confounds=1, site=False)],
    expected_failed_checks=lambda estimator: {
        "check_fit2d_1feature": "a single column is the confound itself; "
        "Deconfounder refuses X without features with its own message"
    },
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize(
    "case, options",
    [
        ("site_eb", {}),
        ("site_ls", {"empirical_bayes": False}),
        ("site_mean_only", {"mean_only": True}),
        ("covariates_eb", {"n_confounds": 2, "preserve_confounds": True}),
    ],
)
def test_combat_equals_neurocombat(case, options):
    # reference arrays written by tests/data/make_combat_reference.py (neuroCombat)
    reference = np.load(REFERENCE)
    X = np.c_[reference["features"], reference["site"]]
    if options.get("n_confounds"):
        X = np.c_[X, reference["age"], reference["sex"]]
    out = Deconfounder(**options).fit_transform(X)
    # EB iterations stop at a relative change of 1e-4 in both implementations
    np.testing.assert_allclose(out, reference[case], atol=1e-4)
    assert np.abs(out - reference["features"]).max() > 1  # sites really differed


def test_confound_regression_equals_least_squares_residuals():
    rng = np.random.default_rng(0)
    confounds = rng.standard_normal((50, 2))
    features = confounds @ rng.normal(size=(2, 4)) + rng.standard_normal((50, 4))
    out = Deconfounder(n_confounds=2, site=False).fit_transform(
        np.c_[features, confounds]
    )
    design = np.c_[np.ones(50), confounds]
    coef = np.linalg.lstsq(design, features, rcond=None)[0]
    expected = features - (confounds - confounds.mean(0)) @ coef[1:]
    np.testing.assert_allclose(out, expected, atol=1e-12)
    np.testing.assert_allclose(confounds.T @ (out - out.mean(0)), 0, atol=1e-10)


def test_held_out_rows_never_reach_the_estimates():
    rng = np.random.default_rng(1)
    site = np.repeat([0.0, 1.0], 30)
    features = rng.standard_normal((60, 6)) + 3 * site[:, None]
    X = np.c_[features, site]
    train, test = np.arange(60) % 3 != 0, np.arange(60) % 3 == 0
    fitted = Deconfounder().fit(X[train])
    changed = X.copy()
    changed[test, :6] += 100  # wild held-out values
    refitted = Deconfounder().fit(changed[train])
    np.testing.assert_array_equal(fitted.gamma_, refitted.gamma_)
    np.testing.assert_array_equal(
        fitted.transform(X[test]), refitted.transform(X[test])
    )
    # a site unseen in training gets the pooled standardisation only
    unseen = np.c_[features[:3], np.full(3, 7.0)]
    np.testing.assert_allclose(fitted.transform(unseen), features[:3], atol=1e-12)


def _multisite(seed, n=80, p=20):
    """Latent features (4 carry the label) seen through per-site gains and offsets."""
    rng = np.random.default_rng(seed)
    y = np.tile([0, 1], n // 2)
    site = np.repeat([0, 1, 2, 3], n // 4)  # labels balanced within site
    latent = rng.standard_normal((n, p))
    latent[:, :4] += 1.0 * y[:, None]
    observed = (
        latent * rng.uniform(0.3, 3, (4, p))[site] + rng.normal(0, 6, (4, p))[site]
    )
    return latent, observed, site, y


def test_site_harmonisation_recovers_signal_hidden_by_site_effects():
    aucs = []
    for seed in range(5):
        latent, observed, site, y = _multisite(seed)
        groups = np.arange(len(y))
        aucs.append(
            [
                validate(make_model("logistic", **options), X, y, groups, **FAST)[
                    "metrics"
                ]["auc"]
                for X, options in [
                    (latent, {}),  # oracle: no site effects
                    (observed, {}),
                    (np.c_[observed, site], {"site": True}),
                ]
            ]
        )
    oracle, raw, harmonised = np.array(aucs).T
    assert np.all(np.abs(harmonised - oracle) < 0.06)
    assert harmonised.mean() > raw.mean() + 0.02


def test_tangent_space_equals_nilearn():
    from nilearn.connectome import ConnectivityMeasure
    from sklearn.covariance import EmpiricalCovariance

    rng = np.random.default_rng(0)
    n_rois = 5
    series = [
        rng.standard_normal((120, n_rois)) @ rng.normal(size=(n_rois, n_rois))
        for _ in range(12)
    ]
    rows, cols = np.triu_indices(n_rois, 1)
    edges = np.array([fisher_z(connectivity_matrix(s))[rows, cols] for s in series])
    other = rng.standard_normal((12, 2))
    X = np.c_[other[:, :1], edges, other[:, 1:]]  # edges need not be contiguous
    step = TangentSpace(columns=range(1, 11), pairs=list(zip(rows, cols))).fit(X)
    measure = ConnectivityMeasure(kind="tangent", cov_estimator=EmpiricalCovariance())
    standardised = [(s - s.mean(0)) / s.std(0) for s in series]
    expected = measure.fit_transform(standardised)
    out = step.transform(X)
    # nilearn's geometric mean stops at a tolerance of 1e-7
    np.testing.assert_allclose(out[:, 1:11], expected[:, rows, cols], atol=1e-5)
    np.testing.assert_array_equal(out[:, [0, 11]], other)
    np.testing.assert_allclose(step.reference_, measure.mean_, atol=1e-6)


def test_geometric_mean_of_commuting_matrices_is_elementwise():
    diagonals = np.array([[1.0, 4.0], [4.0, 1.0], [2.0, 2.0]])
    mean = geometric_mean(np.array([np.diag(d) for d in diagonals]))
    np.testing.assert_allclose(np.diag(mean), np.exp(np.log(diagonals).mean(0)))


def test_tangent_reference_is_learned_on_training_rows_only():
    rng = np.random.default_rng(2)
    rows, cols = np.triu_indices(4, 1)
    X = np.array(
        [
            fisher_z(connectivity_matrix(rng.standard_normal((80, 4))))[rows, cols]
            for _ in range(20)
        ]
    )
    step = TangentSpace(columns=range(6), pairs=list(zip(rows, cols)))
    reference = step.fit(X[:10]).reference_.copy()
    assert not np.allclose(reference, step.fit(X).reference_)
    with pytest.raises(ValueError, match="6 columns but 2 ROI pairs"):
        TangentSpace(columns=range(6), pairs=[(0, 1), (0, 2)]).fit(X)


def _connectivity_study(n=40, seed=4):
    """Wide table with EEG markers and baseline fMRI edges, two sites, ages."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    y = np.tile([0, 1], n // 2)
    rois = ["PAG", "dACC", "mPFC", "sgACC"]
    rows, cols = np.triu_indices(4, 1)
    edges = []
    for label in y:
        mixing = np.eye(4) + 0.3 * rng.standard_normal((4, 4))
        mixing[0, 1] += 1.5 * label  # responders: stronger PAG-dACC coupling
        series = rng.standard_normal((150, 4)) @ mixing
        edges.append(fisher_z(connectivity_matrix(series))[rows, cols])
    edges = np.array(edges)
    ids = [f"sub-{k:02d}" for k in range(n)]
    site = np.where(np.arange(n) % 4 < 2, "A", "B")
    wide = pd.DataFrame(
        {"participant_id": ids}
        | {
            f"fmri_fc_{'~'.join(sorted((rois[i], rois[j])))}_pre": edges[:, k]
            for k, (i, j) in enumerate(zip(rows, cols))
        }
        | {f"eeg_alpha_{r}_pre": rng.standard_normal(n) for r in ("frontal", "central")}
    )
    participants = pd.DataFrame(
        {
            "participant_id": ids,
            "intervention": "TENS",
            "responder": pd.array(y.astype(bool), dtype="boolean"),
            "age": rng.integers(20, 70, n),
            "site": site,
        }
    )
    return wide, participants


def test_study_prediction_with_site_confounds_tangent_and_grouped_importance(
    tmp_path,
):
    from neuromark.predict.persist import apply_model, load_model
    from neuromark.predict.settings import PredictSettings
    from neuromark.predict.study import predict_responders

    wide, participants = _connectivity_study()
    settings = PredictSettings(
        modalities=("eeg", "fmri"),
        feature_sets=("baseline",),
        harmonize_site=True,
        confounds=("age",),
        fmri_connectivity="tangent",
        per_treatment=False,
        n_repeats=2,
        n_permutations=10,
        n_bootstrap=200,
        primary={"modality": "fmri", "markers": ()},  # every edge
    )
    stems = {c[: -len("_pre")] for c in wide.columns if c.endswith("_pre")}
    family = {stem: " ".join(stem.split("_")[:2]) for stem in stems}
    metrics, _, _, importance = predict_responders(
        wide, participants, settings, family=family, model_dir=tmp_path
    )
    rows = metrics.set_index(["modality", "model"])
    assert rows.loc[("fmri", "logistic"), "n_features"] == 6  # site, age not counted
    assert rows.loc[("fmri", "logistic"), "auc"] > 0.8
    assert rows.loc[("eeg", "logistic"), "auc_ci_low"] < 0.5
    # whole families are permuted together; nuisance columns never are
    assert list(importance["feature"]) == ["fmri fc (pre)"]
    assert (
        importance["n_features"].iloc[0] == 6 and importance["importance"].iloc[0] > 0
    )
    model, metadata = load_model(tmp_path / "pooled_fmri_baseline_logistic.skops")
    assert metadata["feature_names"][-2:] == ["site", "age"]
    assert metadata["site_codes"] == {"A": 0.0, "B": 1.0}
    table = wide.merge(participants[["participant_id", "site", "age"]])
    scores = apply_model(model, metadata, table)
    assert (scores["n_missing_features"] == 0).all()
    unseen = apply_model(model, metadata, table.assign(site="C"))
    assert np.all(np.isfinite(unseen["score"]))


def test_nuisance_columns_must_exist_and_be_complete():
    from neuromark.exceptions import NeuromarkError
    from neuromark.predict.design import nuisance_matrix

    _, participants = _connectivity_study(n=8)
    with pytest.raises(NeuromarkError, match=r"no column \['height'\]"):
        nuisance_matrix(participants, ["site", "height"])
    participants.loc[3, "site"] = None
    with pytest.raises(
        NeuromarkError, match=r"missing or not numeric for \['sub-03'\]"
    ):
        nuisance_matrix(participants, ["site", "age"])


def test_tangent_edges_are_selected_by_exact_feature():
    """fc_partial columns and ROI labels with underscores never become edges."""
    from neuromark.features import FMRI_FEATURES, parse_fmri_column
    from neuromark.fmri.connectivity import FEATURE
    from neuromark.predict.study import _tangent_edges

    assert set(FMRI_FEATURES) == set(FEATURE.values())
    names = [
        "fmri_fc_DLPFC_L~dACC_pre",
        "fmri_fc_partial_DLPFC_L~dACC_pre",
        "fmri_fc_PAG~dACC_pre",
        "fmri_fc_partial_PAG~dACC_pre",
        "fmri_fc_DLPFC_L~PAG_pre",
        "fmri_fc_PAG~dACC_change",
        "eeg_alpha_logpower_frontal_midline_pre",
        "site",
    ]
    columns, pairs = _tangent_edges(names)
    assert columns == [0, 2, 4]
    rois = ["DLPFC_L", "PAG", "dACC"]
    assert [(rois[a], rois[b]) for a, b in pairs] == [
        ("DLPFC_L", "dACC"),
        ("PAG", "dACC"),
        ("DLPFC_L", "PAG"),
    ]
    assert parse_fmri_column(names[1]) == ("fc_partial", ("DLPFC_L", "dACC"), "pre")
    assert parse_fmri_column(names[6]) is None


@parametrize_with_checks([TangentSpace(columns=(0,), pairs=((0, 1),))])
def test_tangent_space_is_sklearn_compatible(estimator, check):
    # one edge column (two ROIs) fits any X the checks build, 1 feature included
    check(estimator)
