"""Response prediction: honest on null data, sensitive to planted signal."""

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_selection import SelectKBest, f_classif
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from neuromark.exceptions import DataFileError
from neuromark.predict import (
    DesignError,
    build_design,
    feature_columns,
    make_model,
    oof_scores,
    validate,
)

FAST = dict(n_splits=5, n_repeats=2, n_permutations=20, n_bootstrap=300)


def _noise(seed, n=60, p=10):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, p)), np.repeat([0, 1], n // 2)


def test_null_data_give_chance_auc_and_uniform_p():
    # small-sample CV on noise scatters widely (and slightly below 0.5), so the
    # guarantee is about rates across null studies, not one seed
    results = [
        validate(
            make_model("logistic"), *_noise(seed), np.arange(60), n_jobs=2, **FAST
        )["metrics"]
        for seed in range(10)
    ]
    covered = [m["auc_ci_low"] < 0.5 < m["auc_ci_high"] for m in results]
    p_values = np.array([m["p_permutation"] for m in results])
    assert sum(covered) >= 8
    assert (p_values < 0.05).sum() <= 2
    assert p_values.max() - p_values.min() > 0.5  # spread over the unit interval
    assert abs(np.mean([m["auc"] for m in results]) - 0.5) < 0.1


def test_leaky_selection_inflates_but_the_pipeline_does_not():
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((40, 2000)), np.repeat([0, 1], 20)
    cv = StratifiedGroupKFold(5, shuffle=True, random_state=0)
    # the classic mistake: select the 10 "best" features on all data, then CV
    leaky_X = SelectKBest(f_classif, k=10).fit_transform(X, y)
    leaky = cross_val_predict(
        LogisticRegression(),
        leaky_X,
        y,
        groups=np.arange(40),
        cv=cv,
        method="predict_proba",
    )[:, 1]
    assert roc_auc_score(y, leaky) > 0.85
    honest = make_pipeline(
        SimpleImputer(),
        StandardScaler(),
        SelectKBest(f_classif, k=10),
        LogisticRegression(),
    )
    result = validate(honest, X, y, np.arange(40), **FAST)
    assert result["metrics"]["auc"] < 0.7
    assert result["metrics"]["auc_ci_low"] < 0.5


def test_planted_signal_is_found_and_change_beats_baseline():
    rng = np.random.default_rng(2)
    n = 80
    y = np.repeat([0, 1], n // 2)
    pre = rng.standard_normal((n, 10))
    change = rng.standard_normal((n, 10))
    pre[:, 0] += 0.4 * y  # weak prognostic baseline signal
    change[:, :3] += 1.5 * y[:, None]  # strong change signal
    ids = [f"sub-{k:02d}" for k in range(n)]
    wide = pd.DataFrame(
        {"participant_id": ids}
        | {f"eeg_f{k}_x_pre": pre[:, k] for k in range(10)}
        | {f"eeg_f{k}_x_change": change[:, k] for k in range(10)}
    )
    participants = pd.DataFrame({"participant_id": ids, "responder": y.astype(bool)})
    auc = {}
    for feature_set in ("baseline", "both"):
        columns = feature_columns(wide, "eeg", feature_set)
        X, labels, groups, names = build_design(wide, participants, columns)
        assert len(names) == (10 if feature_set == "baseline" else 20)
        result = validate(make_model("logistic"), X, labels, groups, **FAST)
        auc[feature_set] = result["metrics"]
    assert auc["both"]["auc"] > 0.85 and auc["both"]["p_permutation"] < 0.05
    assert auc["baseline"]["auc"] < auc["both"]["auc"] - 0.1


def test_no_participant_spans_train_and_test():
    rng = np.random.default_rng(3)
    groups = np.repeat(np.arange(20), 3)  # three rows per participant
    y = np.repeat(np.repeat([0, 1], 10), 3)
    X = rng.standard_normal((60, 5))
    cv = StratifiedGroupKFold(5, shuffle=True, random_state=0)
    for train, test in cv.split(X, y, groups):
        assert not set(groups[train]) & set(groups[test])
    scores = oof_scores(make_model("logistic"), X, y, groups, n_splits=5, seed=0)
    assert np.isfinite(scores).all()


def test_same_seed_same_metrics_whatever_n_jobs():
    X, y = _noise(4, n=40)
    quick = FAST | {"n_permutations": 4}
    one = validate(make_model("forest"), X, y, np.arange(40), n_jobs=1, **quick)
    two = validate(make_model("forest"), X, y, np.arange(40), n_jobs=2, **quick)
    assert one["metrics"] == two["metrics"]
    np.testing.assert_array_equal(one["null_auc"], two["null_auc"])


def test_baselines_and_refusals():
    X, y = _noise(5, n=40)
    dummy = validate(make_model("dummy"), X, y, np.arange(40), **FAST)["metrics"]
    assert dummy["auc"] == 0.5
    svm = validate(make_model("svm", tune=True), X, y, np.arange(40), **FAST)["metrics"]
    assert np.isnan(svm["brier"])  # decision values, not probabilities
    with pytest.raises(DesignError, match="3 responders and 37 non-responders"):
        validate(
            make_model("logistic"),
            X,
            np.r_[np.zeros(37), np.ones(3)],
            np.arange(40),
            **FAST,
        )
    with pytest.raises(ValueError, match="Allowed values are 'logistic'"):
        make_model("xgboost")


def _wide_study(n=40, seed=6):
    rng = np.random.default_rng(seed)
    ids = [f"sub-{k:02d}" for k in range(n)]
    y = np.tile([0, 1], n // 2)
    arms = ["TENS"] * (n - 6) + ["sham"] * 6
    pre = rng.standard_normal((n, 4))
    change = rng.standard_normal((n, 4))
    change[:, 0] += 2.0 * y
    wide = pd.DataFrame(
        {"participant_id": ids}
        | {f"eeg_f{k}_occipital_pre": pre[:, k] for k in range(4)}
        | {f"eeg_f{k}_occipital_change": change[:, k] for k in range(4)}
    )
    participants = pd.DataFrame(
        {
            "participant_id": ids,
            "intervention": arms,
            "responder": pd.array(y.astype(bool), dtype="boolean"),
            "pain_pre": rng.uniform(4, 8, n),
            "age": rng.integers(20, 70, n),
            "sex": "F",
        }
    )
    return wide, participants


def test_study_prediction_with_baselines_scopes_and_saved_models(tmp_path, capsys):
    from neuromark.cli import main
    from neuromark.predict.persist import apply_model, load_model
    from neuromark.predict.settings import PredictSettings
    from neuromark.predict.study import predict_responders

    wide, participants = _wide_study()
    settings = PredictSettings(
        modalities=("eeg", "combined"),
        feature_sets=("baseline", "change", "both"),
        n_repeats=2,
        n_permutations=20,
        n_bootstrap=200,
        primary={"feature_set": "change", "markers": ()},  # every marker
    )
    metrics, oof, null, importance = predict_responders(
        wide, participants, settings, random_state=0, model_dir=tmp_path
    )
    # "combined" holds only EEG here: the same analyses are not run twice
    assert "combined" not in set(metrics["modality"])
    questions = metrics.drop_duplicates("feature_set").set_index("feature_set")
    assert questions.loc["baseline", "question"] == "prognostic"
    assert questions.loc["change", "question"] == "concurrent association"
    assert questions.loc["none", "question"] == "reference"
    assert PredictSettings().feature_sets == ("baseline",)
    rows = metrics.set_index(["scope", "modality", "feature_set", "model"])
    assert rows.loc[("pooled", "none", "none", "dummy"), "auc"] == 0.5
    assert rows.loc[("pooled", "eeg", "change", "logistic"), "auc"] > 0.85
    assert rows.loc[("pooled", "eeg", "baseline", "logistic"), "auc_ci_low"] < 0.5
    assert "clinical" in metrics["model"].values
    sham = metrics[metrics["scope"] == "sham"]
    assert len(sham) == 1 and sham["status"].iloc[0].startswith("skipped: 3 responders")
    assert set(oof["participant_id"]) == set(participants["participant_id"])
    # the declared primary analysis (combined = EEG here), the others secondary
    roles = metrics.set_index(["scope", "modality", "feature_set", "model"])["role"]
    assert roles[("pooled", "eeg", "change", "logistic")] == "primary"
    assert roles[("pooled", "eeg", "both", "logistic")] == "secondary"
    assert roles[("pooled", "none", "none", "arm")] == "reference"
    secondary = metrics[metrics["role"] == "secondary"]
    assert secondary["p_fwer"].notna().all()
    assert (secondary["p_fwer"] >= secondary["p_permutation"] - 1e-12).all()
    # neural analyses are compared with the arm-only baseline
    assert rows.loc[("pooled", "eeg", "change", "logistic"), "auc_increment"] > 0.2
    # one null AUC per permutation and analysis (the chance baseline has none)
    analyses = metrics[(metrics["status"] == "ok") & (metrics["model"] != "dummy")]
    assert len(null) == 20 * len(analyses)
    from neuromark.report.predict import plot_prediction, roc_band

    change = oof[(oof["scope"] == "pooled") & (oof["feature_set"] == "change")]
    tpr, low, high = roc_band(
        change["responder"].to_numpy(), change["score"].to_numpy()
    )
    assert np.all(np.diff(tpr) >= 0) and np.all(low <= tpr + 1e-9)
    assert np.all(tpr <= high + 1e-9)
    figure = plot_prediction(metrics, oof, null)
    assert [ax.get_title()[:4] for ax in figure.axes] == ["ROC ", "Cali", "Null"]
    # importance of the primary analysis: the planted change feature leads
    assert importance["feature_set"].iloc[0] == "change"
    assert importance["feature"].iloc[0] == "eeg_f0_occipital_change"
    # a saved model loads safely and scores new participants like the refit model
    path = tmp_path / "pooled_eeg_change_logistic.skops"
    model, metadata = load_model(path)
    with pytest.raises(DataFileError, match="needs the participants' 'intervention'"):
        apply_model(model, metadata, wide)
    wide = wide.merge(participants[["participant_id", "intervention"]])
    scores = apply_model(model, metadata, wide)
    assert metadata["feature_names"] == [
        *(f"eeg_f{k}_occipital_change" for k in range(4)),
        "arm[TENS]",
    ]
    assert scores["score"].between(0, 1).all()
    table = tmp_path / "wide.tsv"
    wide.to_csv(table, sep="\t", index=False)
    assert (
        main(["predict", str(path), str(table), "--output", str(tmp_path / "p.tsv")])
        == 0
    )
    # the participants' table supplies the arm a pooled model adjusts for
    features_only = tmp_path / "features_only.tsv"
    wide.drop(columns="intervention").to_csv(features_only, sep="\t", index=False)
    people = tmp_path / "participants.tsv"
    participants.to_csv(people, sep="\t", index=False)
    assert main(["predict", str(path), str(features_only)]) == 2
    assert "needs the participants' 'intervention' column" in capsys.readouterr().err
    command = ["predict", str(path), str(features_only), "--participants", str(people)]
    assert main(command) == 0
    printed = pd.read_csv(tmp_path / "p.tsv", sep="\t")
    np.testing.assert_allclose(printed["score"], scores["score"])
    assert main(["predict", str(tmp_path / "nope.skops"), str(table)]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_primary_uses_the_pre_specified_markers_only():
    """The primary model sees the declared markers; secondary ones see all."""
    from neuromark.predict.settings import PredictSettings
    from neuromark.predict.study import predict_responders

    wide, participants = _wide_study()
    y = participants["responder"].to_numpy(dtype=float)
    wide["eeg_paf_occipital_pre"] = 10 + y + np.random.default_rng(1).normal(0, 0.5, 40)
    wide["eeg_alpha_logpower_occipital_pre"] = np.random.default_rng(2).normal(size=40)
    fast = dict(n_repeats=1, n_permutations=10, n_bootstrap=200, per_treatment=False)
    metrics, *_ = predict_responders(wide, participants, PredictSettings(**fast))
    rows = metrics.set_index("role")
    assert rows.loc["primary", "markers"] == "pre-specified"
    assert rows.loc["primary", "modality"] == "eeg"  # combined, EEG-only study
    assert rows.loc["primary", "n_features"] == 2  # PAF and alpha, not eeg_f0..f3
    assert rows.loc["secondary", "n_features"] == 6
    assert rows.loc["primary", "auc"] > 0.8
    # a study without the declared markers has no primary result, and says why
    settings = PredictSettings(**fast, primary={"markers": ("fmri_fc_PAG~pgACC",)})
    metrics, *_ = predict_responders(wide, participants, settings)
    primary = metrics[metrics["role"] == "primary"].iloc[0]
    assert primary["status"] == (
        "skipped: none of its markers has a value (pre-specified: fmri_fc_PAG~pgACC)"
    )
    assert (metrics.loc[metrics["role"] == "secondary", "status"] == "ok").all()


def test_fold_importance_finds_the_planted_features():
    from neuromark.predict import fold_importance

    rng = np.random.default_rng(7)
    X = rng.standard_normal((80, 8))
    y = np.repeat([0, 1], 40)
    X[y == 1, 2] += 1.5
    X[y == 1, 5] += 1.0
    names = [f"f{k}" for k in range(8)]
    table = fold_importance(
        make_model("logistic"), X, y, np.arange(80), names, n_repeats=5, random_state=0
    )
    assert list(table["feature"][:2]) == ["f2", "f5"]
    assert table["importance"].iloc[0] > 0.1
    assert table["importance"].iloc[-1] < 0.05  # noise features barely matter


def test_rank_auc_equals_sklearn_with_ties():
    from neuromark.predict.validation import rank_auc

    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, (50, 30))
    y[:, :2] = [0, 1]  # both classes in every set
    scores = rng.integers(0, 5, (50, 30)).astype(float)  # many ties
    expected = [roc_auc_score(a, b) for a, b in zip(y, scores)]
    np.testing.assert_allclose(rank_auc(y, scores), expected, rtol=1e-12)
    assert rank_auc(y[0], scores[0]) == pytest.approx(expected[0], rel=1e-12)
