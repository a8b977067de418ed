"""Typed settings of response prediction."""

from typing import Literal

from pydantic import Field

from ..features import PRESPECIFIED_MARKERS
from ..utils._settings import StrictModel


class PrimaryAnalysis(StrictModel):
    """The one pre-specified prediction analysis the report states first."""

    scope: str = Field(
        "pooled", description="pooled (every arm) or one intervention's name."
    )
    modality: Literal["eeg", "fmri", "combined"] = Field(
        "combined",
        description="Feature source; combined is every available modality (EEG "
        "alone when the study has no fMRI).",
    )
    feature_set: Literal["baseline", "change", "both"] = Field(
        "baseline", description="baseline (prognostic) unless pre-registered otherwise."
    )
    model: Literal["logistic", "svm", "forest"] = Field(
        "logistic", description="Classifier."
    )
    penalty: Literal["l1", "l2"] = Field(
        "l2",
        description="Penalty of a logistic primary: ridge (C = 1) for a few "
        "pre-specified markers, which need no selection; l1 (lasso, "
        "predict.lasso_alpha) when it takes every marker.",
    )
    markers: tuple[str, ...] = Field(
        PRESPECIFIED_MARKERS,
        description="The pre-specified markers, as <modality>_<feature>_<location> "
        "stems of features_wide.tsv (those of the modality the study measured "
        "are used). A few hypothesised markers keep the primary test powerful; "
        "every marker is still offered to the secondary analyses. Empty: every "
        "marker of predict.family.",
    )


class PredictSettings(StrictModel):
    """Response prediction (responder vs non-responder)."""

    primary: PrimaryAnalysis = Field(
        PrimaryAnalysis(),
        description="The pre-specified primary analysis (validated even if its "
        "model, modality or feature set is not listed below); every other "
        "analysis is secondary, with a family-wise (max-T) permutation p across "
        "the analyses of its scope.",
    )

    models: tuple[Literal["logistic", "svm", "forest"], ...] = Field(
        ("logistic",),
        min_length=1,
        description="Classifiers validated on every feature set (svm and forest are "
        "slower through permutations); a chance (dummy) and a clinical-only baseline "
        "are always added.",
    )
    feature_sets: tuple[Literal["baseline", "change", "both"], ...] = Field(
        ("baseline",),
        min_length=1,
        description="baseline: pre-treatment values, prognostic (the default). "
        "change (post - pre) and both are opt-in: the post recording is taken "
        "together with the pain rating that defines the label, so they measure "
        "concurrent association, not prediction, and are labelled so.",
    )
    modalities: tuple[Literal["eeg", "fmri", "combined"], ...] = Field(
        ("eeg", "fmri", "combined"),
        min_length=1,
        description="Feature sources (combined = EEG and fMRI together).",
    )
    clinical_covariates: bool = Field(
        False, description="Add baseline pain, age and sex to every feature set."
    )
    harmonize_site: bool = Field(
        False,
        description="ComBat-harmonise features across the site column of "
        "participants.tsv (empirical Bayes; Fortin et al. 2018), estimated on the "
        "training participants of every fold.",
    )
    confounds: tuple[str, ...] = Field(
        (),
        description="participants.tsv columns (e.g. age, sex) whose linear effect "
        "is regressed out of the features, estimated on the training participants "
        "of every fold.",
    )
    fmri_connectivity: Literal["correlation", "tangent"] = Field(
        "correlation",
        description="Baseline fMRI edges as Fisher-z correlations, or projected "
        "into the tangent space at the geometric mean of the training "
        "participants (Varoquaux et al. 2010; learned inside every fold).",
    )
    per_treatment: bool = Field(
        True,
        description="Also validate within each intervention (when it has enough "
        "participants per class), besides pooled across interventions.",
    )
    family: Literal["regions", "all"] = Field(
        "regions", description="Features offered to the models (as in stats.family)."
    )
    n_splits: int = Field(5, ge=2, description="Folds of stratified grouped K-fold.")
    n_repeats: int = Field(5, ge=1, description="Repetitions of the K-fold.")
    n_permutations: int = Field(
        200,
        ge=0,
        description="Label permutations within intervention x site blocks, "
        "shared by the analyses of a scope (permutation, max-T and increment "
        "p-values); each is validated with n_repeats repeats, like the "
        "observed labels.",
    )
    n_bootstrap: int = Field(
        2000,
        ge=100,
        description="Out-of-bag bootstrap resamples of the AUC interval (BBC-CV).",
    )
    logistic_penalty: Literal["l1", "l2"] = Field(
        "l1",
        description="Penalty of the secondary logistic models (every marker): "
        "l1 (lasso, sparse: a few informative markers among tens carry the "
        "model) or l2 (ridge, C = 1). The primary has its own "
        "(predict.primary.penalty); the arm/site and clinical baselines are "
        "always ridge.",
    )
    lasso_alpha: float = Field(
        0.1,
        gt=0,
        description="Lasso penalty per unit of mean log-loss (independent of the "
        "number of participants); calibrated in validation/calibrate.py.",
    )
    class_weight: Literal["balanced", "none"] = Field(
        "balanced",
        description="Reweight responders and non-responders to equal weight when "
        "fitting; risks are mapped back to the training prevalence, which is "
        "also the decision threshold of balanced accuracy.",
    )
    tune: bool = Field(
        False,
        description="Tune C of logistic/SVM in an inner stratified CV nested in "
        "every training fold (rows are participants, so it is grouped too).",
    )
    save_models: bool = Field(
        True, description="Save models refitted on all participants (skops format)."
    )
