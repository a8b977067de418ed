"""Validate response classifiers on a study's feature table (pipeline step)."""

import numpy as np
import pandas as pd

from ..features import parse_fmri_column
from ..utils._logging import logger
from .design import build_design, clinical_matrix, feature_columns, nuisance_matrix
from .models import make_model
from .persist import save_model
from .settings import PredictSettings
from .validation import DesignError, check_design, fold_importance, validate

POOLED = "pooled"


def _scopes(participants, per_treatment):
    scopes = [(POOLED, participants)]
    if per_treatment:
        scopes += list(participants.groupby("intervention", sort=True))
    return scopes


def _design(name, wide, members, columns, settings, nuisance):
    """Design of one analysis: a constant for the dummy, covariates for clinical."""
    if name == "dummy":
        labelled = members[members["responder"].notna()]
        y = labelled["responder"].astype(bool).to_numpy(dtype=int)
        return np.zeros((len(y), 1)), y, labelled["participant_id"].to_numpy(), ["none"]
    if name == "clinical":
        return build_design(wide, members, [], clinical=True, nuisance=nuisance)
    return build_design(
        wide, members, columns, clinical=settings.clinical_covariates, nuisance=nuisance
    )


def _tangent_edges(names):
    """Baseline fMRI correlation edges (``fc``, exactly) and their ROI pairs.

    Partial-correlation columns (``fc_partial``) and every other column are
    left alone: they are not entries of the correlation matrix.
    """
    parsed = [(k, parse_fmri_column(name)) for k, name in enumerate(names)]
    edges = [
        (k, edge)
        for k, found in parsed
        if found is not None and found[0] == "fc" and found[2] == "pre"
        for edge in [found[1]]
    ]
    rois = sorted({roi for _, pair in edges for roi in pair})
    pairs = [(rois.index(a), rois.index(b)) for _, (a, b) in edges]
    return [k for k, _ in edges], pairs


def _model(name, names, settings, random_state):
    """Build the pipeline of one analysis with its in-fold nuisance/tangent steps."""
    options = {}
    if name != "dummy":
        options = dict(
            n_confounds=len(settings.confounds), site=settings.harmonize_site
        )
        columns, pairs = _tangent_edges(names)
        if settings.fmri_connectivity == "tangent" and columns:
            options["tangent"] = (columns, pairs)
    estimator = "logistic" if name == "clinical" else name
    return make_model(
        estimator, random_state=random_state, tune=settings.tune, **options
    )


def _feature_groups(names, family):
    """Columns permuted together for importance: one marker family per session.

    ``family`` maps ``<modality>_<feature>_<location>`` stems to a family
    label (e.g. ``eeg alpha_rel``); columns it does not know stay alone.
    """
    grouped = {}
    for name in names:
        stem, _, suffix = name.rpartition("_")
        label = family.get(stem) if isinstance(family, dict) else None
        grouped.setdefault(f"{label} ({suffix})" if label else name, []).append(name)
    return grouped


def _nuisance(participants, settings):
    columns = (["site"] if settings.harmonize_site else []) + list(settings.confounds)
    return nuisance_matrix(participants, columns) if columns else None


QUESTIONS = {
    "baseline": "prognostic",
    "change": "concurrent association",
    "both": "concurrent association",
    "none": "reference",  # the chance and clinical baselines
}


def _row(scope, modality, feature_set, model, n_features, y, result=None, status="ok"):
    row = {
        "scope": scope,
        "modality": modality,
        "feature_set": feature_set,
        "question": QUESTIONS.get(feature_set, "n/a"),
        "model": model,
        "n": len(y),
        "n_responders": int(np.sum(y)),
        "n_features": n_features,
        "status": status,
    }
    return row | (result["metrics"] if result else {})


def predict_responders(
    wide,
    participants,
    settings=None,
    *,
    family=None,
    random_state=0,
    n_jobs=1,
    model_dir=None,
    config_hash=None,
    progress=False,
):
    """Validate every configured classifier, feature set and scope.

    Parameters
    ----------
    wide : pandas.DataFrame
        Wide feature table.
    participants : pandas.DataFrame
        ``participant_id``, ``intervention``, ``responder`` and clinical columns.
    settings : PredictSettings | None
        What to validate.
    family : set or dict of str | None
        ``<modality>_<feature>_<location>`` stems offered to the models; a
        dict maps each stem to its marker family (e.g. ``eeg alpha_rel``),
        whose columns are permuted together for feature importance.
    random_state : int
        Seed of every split, permutation and bootstrap.
    n_jobs : int
        Parallel joblib tasks (results do not depend on it).
    model_dir : path-like | None
        Where to save models refitted on all participants of a scope.
    config_hash : str | None
        Recorded with saved models.
    progress : bool | "auto"
        Progress bars over each analysis' fits.

    Returns
    -------
    metrics : pandas.DataFrame
        One row per scope x modality x feature set x model (including the
        ``dummy`` chance and ``clinical`` baselines; an analysis whose columns
        repeat another's, such as ``combined`` without fMRI, is run once):
        ``question`` (``prognostic`` for baseline features, ``concurrent
        association`` for change features, ``reference`` for the chance and
        clinical baselines, ``n/a`` for skipped scopes), ``n``, ``n_responders``,
        ``n_features``, ``status`` (``ok`` or why it was skipped), ``auc`` with
        ``auc_ci_low``/``auc_ci_high``, ``balanced_accuracy``, ``sensitivity``,
        ``specificity``, ``brier``, ``p_permutation``.
    oof : pandas.DataFrame
        Out-of-fold response scores per participant and analysis.
    null : pandas.DataFrame
        Permutation null AUCs per analysis (``null_auc``).
    importance : pandas.DataFrame
        For the pooled analysis with the highest AUC: the 30 marker families
        (or features) whose permutation on held-out folds lowers the AUC most
        (:func:`~neuromark.predict.fold_importance`).
    """
    settings = settings or PredictSettings()
    options = dict(
        n_splits=settings.n_splits,
        n_repeats=settings.n_repeats,
        n_permutations=settings.n_permutations,
        n_bootstrap=settings.n_bootstrap,
        random_state=random_state,
        n_jobs=n_jobs,
        progress=progress,
    )
    nuisance = _nuisance(participants, settings)
    n_nuisance = 0 if nuisance is None else nuisance.shape[1]
    rows, predictions, nulls = [], [], []
    best = None  # the pooled analysis with the highest AUC gets feature importance
    for scope, members in _scopes(participants, settings.per_treatment):
        labels = members["responder"].dropna().astype(bool).to_numpy(dtype=int)
        try:
            check_design(labels, settings.n_splits)
        except DesignError as err:
            logger.info("prediction in scope %s skipped: %s", scope, err)
            rows.append(
                _row(scope, "all", "all", "all", 0, labels, status=f"skipped: {err}")
            )
            continue
        analyses = [
            ("none", "none", "dummy", []),
            ("clinical", "none", "clinical", None),
        ]
        seen = set()
        for modality in settings.modalities:
            for feature_set in settings.feature_sets:
                columns = feature_columns(wide, modality, feature_set, family=family)
                # "combined" without a second modality repeats a single one
                if columns and (feature_set, tuple(columns)) not in seen:
                    seen.add((feature_set, tuple(columns)))
                    analyses += [
                        (modality, feature_set, m, columns) for m in settings.models
                    ]
        for modality, feature_set, name, columns in analyses:
            if name == "clinical" and clinical_matrix(members).shape[1] == 0:
                continue
            try:
                X, y, ids, names = _design(
                    name, wide, members, columns, settings, nuisance
                )
                model = _model(name, names, settings, random_state)
                result = validate(model, X, y, ids, **options)
            except DesignError as err:
                logger.info(
                    "prediction %s/%s/%s/%s skipped: %s",
                    scope,
                    modality,
                    feature_set,
                    name,
                    err,
                )
                n_labelled = int(members["responder"].notna().sum())
                rows.append(
                    _row(
                        scope,
                        modality,
                        feature_set,
                        name,
                        0,
                        np.zeros(n_labelled),
                        status=f"skipped: {err}",
                    )
                )
                continue
            n_features = len(names) - (n_nuisance if name != "dummy" else 0)
            rows.append(_row(scope, modality, feature_set, name, n_features, y, result))
            auc = result["metrics"]["auc"]
            if (
                scope == POOLED
                and name not in ("dummy", "clinical")
                and (best is None or auc > best[0])
            ):
                best = (
                    auc,
                    model,
                    X,
                    y,
                    ids,
                    names,
                    {
                        "scope": scope,
                        "modality": modality,
                        "feature_set": feature_set,
                        "model": name,
                    },
                )
            nulls.append(
                pd.DataFrame(
                    {
                        "scope": scope,
                        "modality": modality,
                        "feature_set": feature_set,
                        "model": name,
                        "null_auc": result["null_auc"],
                    }
                )
            )
            predictions.append(
                pd.DataFrame(
                    {
                        "scope": scope,
                        "modality": modality,
                        "feature_set": feature_set,
                        "model": name,
                        "participant_id": ids,
                        "responder": y,
                        "score": result["oof"],
                    }
                )
            )
            if model_dir is not None and settings.save_models and name != "dummy":
                fitted = model.fit(X, y)
                save_model(
                    fitted,
                    f"{model_dir}/{scope}_{modality}_{feature_set}_{name}.skops",
                    feature_names=names,
                    metadata={
                        "scope": scope,
                        "modality": modality,
                        "feature_set": feature_set,
                        "model": name,
                        "n_train": len(y),
                        "config_sha256": config_hash,
                        "site_codes": None
                        if nuisance is None
                        else nuisance.attrs.get("site_codes"),
                    },
                )
    metrics = pd.DataFrame(rows)
    oof = pd.concat(predictions, ignore_index=True) if predictions else pd.DataFrame()
    null = pd.concat(nulls, ignore_index=True) if nulls else pd.DataFrame()
    importance = pd.DataFrame()
    if best is not None:
        _, model, X, y, ids, names, keys = best
        importance = (
            fold_importance(
                model,
                X,
                y,
                ids,
                names,
                feature_groups=_feature_groups(
                    names[: len(names) - n_nuisance], family
                ),
                n_splits=settings.n_splits,
                random_state=random_state,
            )
            .head(30)
            .assign(**keys)
        )
    return metrics, oof, null, importance
