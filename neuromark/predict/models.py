"""Classifier pipelines: preprocessing inside, inner estimators single-threaded."""

from sklearn.dummy import DummyClassifier
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from ..utils._check import check_option
from .classifiers import SparseLogisticRegression
from .harmonize import Deconfounder
from .tangent import TangentSpace

MODELS = ("logistic", "svm", "forest", "dummy")


def make_model(
    name,
    *,
    random_state=0,
    tune=False,
    tangent=None,
    n_confounds=0,
    site=False,
    n_covariates=0,
    class_weight="balanced",
    penalty="l2",
    alpha=0.1,
):
    """Build a response classifier whose preprocessing is fitted per fold.

    Parameters
    ----------
    name : "logistic" | "svm" | "forest" | "dummy"
        Penalised logistic regression (see ``penalty``), linear SVM
        (decision values), random forest (200 trees), or the chance baseline
        (the same score, 0.5, for everyone: AUC exactly 0.5; a training-prior
        score would differ between folds and give a spurious below-chance
        pooled AUC).
    random_state : int
        Seed of stochastic models.
    tune : bool
        Tune the regularisation (``C``, or the lasso's ``alpha`` over a third,
        once and three times the given one) of logistic/SVM by an inner 3-fold
        stratified CV nested inside the outer validation. Its rows are
        participants (one row each in every design neuromark builds), so the
        inner folds are grouped by participant like the outer ones.
    tangent : (columns, pairs) | None
        Project these Fisher-z edge columns (with their ROI index pairs) into
        the tangent space at the training participants' geometric mean
        (:class:`~neuromark.predict.tangent.TangentSpace`).
    n_confounds : int
        Trailing columns of ``X`` that are confounds to regress out
        (:class:`~neuromark.predict.harmonize.Deconfounder`).
    site : bool
        The column before the confounds is a site code to ComBat-harmonise.
    n_covariates : int
        Columns before the site code and confounds (arm and site indicators,
        clinical covariates) that harmonisation and confound regression
        leave untouched.
    class_weight : "balanced" | None
        Reweight classes to equal total weight when fitting (logistic, SVM,
        forest); validation maps reweighted risks back to the training
        prevalence.
    penalty : "l2" | "l1"
        Of the logistic regression: ridge (``C = 1``) or lasso
        (:class:`~neuromark.predict.classifiers.SparseLogisticRegression`).
    alpha : float
        Lasso penalty per unit of mean log-loss.

    Returns
    -------
    model : sklearn.pipeline.Pipeline
        Median imputation -> [tangent projection] -> [site harmonisation and
        confound regression] -> standard scaling -> classifier, each step
        fitted on the training rows only.
    """
    check_option("model", name, MODELS)
    check_option("penalty", penalty, ("l1", "l2"))
    grid = {"C": [0.01, 0.1, 1.0, 10.0]}
    if name == "logistic" and penalty == "l1":
        classifier = SparseLogisticRegression(alpha=alpha, class_weight=class_weight)
        grid = {"alpha": [alpha / 3, alpha, 3 * alpha]}
    elif name == "logistic":
        classifier = LogisticRegression(C=1.0, max_iter=2000, class_weight=class_weight)
    elif name == "svm":
        classifier = SVC(kernel="linear", C=1.0, class_weight=class_weight)
    elif name == "forest":
        classifier = RandomForestClassifier(
            n_estimators=200,
            min_samples_leaf=2,
            class_weight=class_weight,
            random_state=random_state,
            n_jobs=1,
        )
    else:
        classifier = DummyClassifier(strategy="uniform")
    if tune and name in ("logistic", "svm"):
        classifier = GridSearchCV(
            classifier,
            grid,
            scoring="roc_auc",
            cv=StratifiedKFold(3, shuffle=True, random_state=random_state),
            n_jobs=1,
        )
    steps = [SimpleImputer(strategy="median", keep_empty_features=True)]
    if tangent is not None:
        columns, pairs = tangent
        steps.append(TangentSpace(columns=list(columns), pairs=list(pairs)))
    if site or n_confounds:
        steps.append(
            Deconfounder(n_confounds=n_confounds, site=site, n_passthrough=n_covariates)
        )
    return make_pipeline(*steps, StandardScaler(), classifier)
