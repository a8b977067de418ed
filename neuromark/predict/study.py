"""Validate response classifiers on a study's feature table (pipeline step).

Each scope (pooled, then every intervention) validates its analyses together
(:func:`~neuromark.predict.validation.validate_analyses`): the chance
baseline, the covariate baseline (arm and site indicators), the clinical
baseline (baseline pain, age, sex, plus arm and site) and every neural
analysis (features plus arm and site). One analysis, declared in
``predict.primary``, is primary; the other neural analyses of a scope are
secondary and share a max-T family-wise p.
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..features import column_modality, parse_fmri_column, split_column
from ..utils._logging import logger
from .design import (
    build_design,
    clinical_matrix,
    covariate_matrix,
    feature_columns,
    nuisance_matrix,
)
from .models import make_model
from .persist import save_model
from .settings import PredictSettings
from .validation import DesignError, check_design, fold_importance, validate_analyses

POOLED = "pooled"
CONTROL_ARMS = ("sham", "control", "placebo", "waitlist")
COVARIATE_BASELINES = ("arm", "site", "arm+site")

QUESTIONS = {
    "baseline": "prognostic",
    "change": "concurrent association",
    "both": "concurrent association",
    "none": "reference",  # the chance, covariate and clinical baselines
}


@dataclass
class Analysis:
    """One row of metrics.tsv: what is validated and how."""

    modality: str
    feature_set: str
    model: str
    columns: list = field(default_factory=list)
    role: str = "secondary"
    markers: str = "all"  # "pre-specified" (predict.primary.markers) or "all"

    @property
    def key(self):
        """Unique name within a scope: ``modality/feature_set/model[/markers]``."""
        key = f"{self.modality}/{self.feature_set}/{self.model}"
        return key if self.markers == "all" else f"{key}/{self.markers}"

    @property
    def labels(self):
        """The columns that name the analysis in the output tables."""
        return {
            "modality": self.modality,
            "feature_set": self.feature_set,
            "markers": self.markers,
            "model": self.model,
        }


def _scopes(participants, per_treatment):
    scopes = [(POOLED, participants)]
    if per_treatment and participants["intervention"].nunique() > 1:
        scopes += list(participants.groupby("intervention", sort=True))
    return scopes


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


def _model(analysis, names, n_covariates, settings, random_state):
    """Build one analysis' pipeline with its in-fold nuisance/tangent steps."""
    if analysis.model == "dummy":
        return make_model("dummy")
    class_weight = None if settings.class_weight == "none" else "balanced"
    if analysis.model in COVARIATE_BASELINES:  # indicators only: nothing to harmonise
        return make_model("logistic", class_weight=class_weight)
    options = dict(
        n_confounds=len(settings.confounds),
        site=settings.harmonize_site,
        n_covariates=n_covariates,
        class_weight=class_weight,
    )
    columns, pairs = _tangent_edges(names)
    if settings.fmri_connectivity == "tangent" and columns:
        options["tangent"] = (columns, pairs)
    if analysis.modality == "none":  # the clinical baseline: a few covariates
        return make_model("logistic", tune=settings.tune, **options)
    return make_model(
        analysis.model,
        random_state=random_state,
        tune=settings.tune,
        penalty=(
            settings.primary.penalty
            if analysis.role == "primary"
            else settings.logistic_penalty
        ),
        alpha=settings.lasso_alpha,
        **options,
    )


def _feature_groups(names, family):
    """Columns permuted together for importance: one marker family per session.

    ``family`` maps ``<modality>_<feature>_<location>`` stems to a family
    label (e.g. ``eeg alpha_rel``); columns it does not know stay alone.
    """
    grouped = {}
    for name in names:
        stem, suffix = split_column(name) or (name, None)
        label = family.get(stem) if isinstance(family, dict) else None
        grouped.setdefault(f"{label} ({suffix})" if label else name, []).append(name)
    return grouped


def _nuisance(participants, settings):
    columns = (["site"] if settings.harmonize_site else []) + list(settings.confounds)
    return nuisance_matrix(participants, columns) if columns else None


def _primary(wide, scope, settings, family):
    """Build the primary analysis of ``scope`` (``None`` outside its scope)."""
    primary = settings.primary
    if scope != primary.scope:
        return None
    markers = set(primary.markers) if primary.markers else family
    columns = feature_columns(
        wide, primary.modality, primary.feature_set, family=markers
    )
    measured = {column_modality(column) for column in columns}
    # "combined" of a study with one modality is that modality
    modality = measured.pop() if len(measured) == 1 else primary.modality
    return Analysis(
        modality,
        primary.feature_set,
        primary.model,
        columns,
        "primary",
        "pre-specified" if primary.markers else "all",
    )


def _analyses(wide, members, scope, covariates, settings, family):
    """Baselines, the primary, then secondary analyses (repeats run once).

    An analysis without columns is kept (its design is refused with the
    reason); a secondary one that repeats the primary or another secondary
    one (``combined`` without a second modality) is left out.
    """
    analyses = [Analysis("none", "none", "dummy", role="reference")]
    kinds = covariates.attrs.get("kinds", [])
    if kinds:
        analyses.append(Analysis("none", "none", "+".join(kinds), role="reference"))
    if clinical_matrix(members).shape[1]:
        analyses.append(Analysis("none", "none", "clinical", role="reference"))
    seen = set()
    primary = _primary(wide, scope, settings, family)
    if primary is not None:
        analyses.append(primary)
        seen.add((primary.feature_set, tuple(primary.columns), primary.model))
    for modality in settings.modalities:
        for feature_set in settings.feature_sets:
            columns = feature_columns(wide, modality, feature_set, family=family)
            for model in settings.models:
                if columns and (feature_set, tuple(columns), model) not in seen:
                    seen.add((feature_set, tuple(columns), model))
                    analyses.append(Analysis(modality, feature_set, model, columns))
    return analyses


def _row(scope, analysis, n_features, y, metrics=None, status="ok"):
    row = {
        "scope": scope,
        **analysis.labels,
        "question": QUESTIONS.get(analysis.feature_set, "n/a"),
        "role": analysis.role,
        "n": len(y),
        "n_responders": int(np.sum(y)),
        "n_features": n_features,
        "status": status,
    }
    return row | (metrics or {})


def _blocks(members, labelled):
    """Exchangeability blocks: intervention x site."""
    indexed = members.set_index("participant_id").loc[labelled]
    blocks = indexed["intervention"].astype(str)
    if "site" in indexed:
        blocks = blocks + "|" + indexed["site"].astype(str)
    return blocks.to_numpy(), indexed["intervention"].astype(str).to_numpy()


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
    """Validate the primary analysis and every configured secondary one.

    Parameters
    ----------
    wide : pandas.DataFrame
        Wide feature table.
    participants : pandas.DataFrame
        ``participant_id``, ``intervention``, ``responder``, clinical columns
        and optionally ``site``.
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
        Progress bars over each scope's permutations.

    Returns
    -------
    metrics : pandas.DataFrame
        One row per scope x analysis: ``modality``, ``feature_set``,
        ``model`` (``dummy``, the covariate baseline ``arm``/``site``/
        ``arm+site``, ``clinical``, or a classifier), ``question``
        (``prognostic``, ``concurrent association``, ``reference``, ``n/a``),
        ``role`` (``primary``, ``secondary``, ``reference``), ``n``,
        ``n_responders``, ``n_features`` (neural and clinical columns),
        ``status``, the metrics of
        :func:`~neuromark.predict.validation.classification_metrics`,
        ``auc_ci_low``/``auc_ci_high`` (out-of-bag bootstrap, BBC-CV),
        ``p_permutation`` (within intervention x site blocks), ``p_fwer``
        (secondary analyses: max-T across the scope's secondary analyses),
        and, against the covariate baseline, ``auc_increment`` with its
        interval and ``p_increment``.
    oof : pandas.DataFrame
        Out-of-fold response scores per participant and analysis.
    null : pandas.DataFrame
        Permutation null AUCs per analysis (``null_auc``).
    importance : pandas.DataFrame
        For the primary analysis: the 30 marker families (or features) whose
        permutation on held-out folds lowers the AUC most
        (:func:`~neuromark.predict.fold_importance`).
    """
    settings = settings or PredictSettings()
    nuisance = _nuisance(participants, settings)
    rows, predictions, nulls, primary = [], [], [], None
    for scope, members in _scopes(participants, settings.per_treatment):
        data = _scope_data(scope, members)
        try:
            check_design(data.labels, settings.n_splits)
        except DesignError as err:
            logger.info("prediction in scope %s skipped: %s", scope, err)
            everything = Analysis("all", "all", "all", role="n/a")
            rows.append(
                _row(scope, everything, 0, data.labels, status=f"skipped: {err}")
            )
            continue
        designs, skipped = _plan(data, members, wide, settings, family, nuisance)
        rows += [
            _row(scope, analysis, 0, data.labels, status=f"skipped: {reason}")
            for analysis, reason in skipped
        ]
        for design in designs:
            design.model = _model(
                design.analysis, design.names, data.n_covariates, settings, random_state
            )
        results = _validate(designs, data, settings, random_state, n_jobs, progress)
        for design in designs:
            result, keys = results[design.analysis.key], design.keys(scope)
            rows.append(
                _row(
                    scope,
                    design.analysis,
                    design.n_features,
                    data.labels,
                    result["metrics"],
                )
            )
            nulls.append(pd.DataFrame({**keys, "null_auc": result["null_auc"]}))
            predictions.append(
                pd.DataFrame(
                    {
                        **keys,
                        "participant_id": data.ids,
                        "responder": data.labels,
                        "score": result["oof"],
                    }
                )
            )
            if design.analysis.role == "primary":
                primary = (design, data)
        if model_dir is not None and settings.save_models:
            _save_models(designs, data, model_dir, config_hash, nuisance)
    metrics = pd.DataFrame(rows)
    oof = pd.concat(predictions, ignore_index=True) if predictions else pd.DataFrame()
    null = pd.concat(nulls, ignore_index=True) if nulls else pd.DataFrame()
    importance = (
        pd.DataFrame()
        if primary is None
        else _importance(*primary, settings, family, random_state)
    )
    return metrics, oof, null, importance


@dataclass
class ScopeData:
    """The labelled participants of one scope and how they may be resampled."""

    name: str
    ids: np.ndarray  # participant_id of each labelled participant
    labels: np.ndarray  # 1 = responder
    arms: np.ndarray  # intervention (stratification)
    blocks: np.ndarray  # intervention x site (exchangeability of permutations)
    covariates: pd.DataFrame

    @property
    def n_covariates(self):
        """Arm and site indicator columns of every design."""
        return self.covariates.shape[1]


@dataclass
class Design:
    """One analysis of a scope, ready to validate."""

    analysis: Analysis
    X: np.ndarray
    names: list
    n_features: int
    model: object = None

    def keys(self, scope):
        """Name this analysis in the output tables (scope and labels)."""
        return {"scope": scope, **self.analysis.labels}


def _scope_data(scope, members):
    labelled = members.loc[members["responder"].notna(), "participant_id"]
    labels = members["responder"].dropna().astype(bool).to_numpy(dtype=int)
    blocks, arms = _blocks(members, labelled)
    covariates = covariate_matrix(members, control_arms=CONTROL_ARMS)
    return ScopeData(scope, labelled.to_numpy(), labels, arms, blocks, covariates)


def _plan(data, members, wide, settings, family, nuisance):
    """Build the design of every analysis of a scope.

    Returns
    -------
    designs : list of Design
        Analyses to validate.
    skipped : list of (Analysis, str)
        Analyses whose design was refused, with the reason.
    """
    designs, skipped = [], []
    analyses = _analyses(wide, members, data.name, data.covariates, settings, family)
    for analysis in analyses:
        try:
            X, names, n_features = _design(
                analysis, wide, members, data.covariates, settings, nuisance
            )
        except DesignError as err:
            logger.info("prediction %s/%s skipped: %s", data.name, analysis.key, err)
            skipped.append((analysis, err))
            continue
        designs.append(Design(analysis, X, names, n_features))
    return designs, skipped


def _validate(designs, data, settings, random_state, n_jobs, progress):
    """Validate a scope's analyses together (shared folds and permutations)."""
    reference = next(
        (d.analysis.key for d in designs if d.analysis.model in COVARIATE_BASELINES),
        None,
    )
    return validate_analyses(
        {d.analysis.key: (d.model, d.X) for d in designs},
        data.labels,
        data.ids,
        arms=data.arms,
        blocks=data.blocks,
        reference=reference,
        family=[d.analysis.key for d in designs if d.analysis.role == "secondary"],
        n_splits=settings.n_splits,
        n_repeats=settings.n_repeats,
        n_permutations=settings.n_permutations,
        n_bootstrap=settings.n_bootstrap,
        random_state=random_state,
        n_jobs=n_jobs,
        progress=progress,
    )


def _save_models(designs, data, model_dir, config_hash, nuisance):
    """Refit every analysis but the chance baseline on the scope and save it."""
    site_codes = None if nuisance is None else nuisance.attrs.get("site_codes")
    for design in designs:
        analysis = design.analysis
        if analysis.model == "dummy":
            continue
        save_model(
            design.model.fit(design.X, data.labels),
            f"{model_dir}/{data.name}_{analysis.key.replace('/', '_')}.skops",
            feature_names=design.names,
            metadata={
                "scope": data.name,
                **analysis.labels,
                "role": analysis.role,
                "n_train": len(data.labels),
                "config_sha256": config_hash,
                "site_codes": site_codes,
            },
        )


def _importance(design, data, settings, family, random_state):
    """Rank the primary analysis' 30 most important marker families (held-out folds)."""
    names = design.names
    return (
        fold_importance(
            design.model,
            design.X,
            data.labels,
            data.ids,
            names,
            feature_groups=_feature_groups(names[: design.n_features], family),
            arms=data.arms,
            n_splits=settings.n_splits,
            random_state=random_state,
        )
        .head(30)
        .assign(**design.keys(data.name))
    )


def _design(analysis, wide, members, covariates, settings, nuisance):
    """Design of one analysis: ``X``, column names and the number of features.

    The chance baseline gets a constant, the covariate baseline the arm and
    site indicators, the clinical baseline the clinical columns and the
    indicators; neural analyses their features (plus clinical covariates if
    configured) and the indicators. Nuisance columns come last.
    """
    labelled = members[members["responder"].notna()]
    if analysis.model == "dummy":
        return np.zeros((len(labelled), 1)), ["none"], 0
    if analysis.model in COVARIATE_BASELINES:
        X, _, _, names = build_design(wide, members, [], covariates=covariates)
        return X, names, 0
    clinical = analysis.model == "clinical" or settings.clinical_covariates
    X, _, _, names = build_design(
        wide,
        members,
        analysis.columns,
        clinical=clinical,
        covariates=covariates,
        nuisance=nuisance,
    )
    if analysis.model != "clinical" and not set(analysis.columns) & set(names):
        wanted = (
            f" (pre-specified: {', '.join(settings.primary.markers)})"
            if analysis.markers == "pre-specified"
            else ""
        )
        raise DesignError(f"none of its markers has a value{wanted}")
    n_nuisance = 0 if nuisance is None else nuisance.shape[1]
    return X, names, len(names) - covariates.shape[1] - n_nuisance
