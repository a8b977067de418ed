"""Safe persistence of fitted models: skops files (no code runs on load)."""

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..exceptions import DataFileError
from ..utils._files import atomic_path, write_json

# types a neuromark model legitimately contains beyond skops' default trust
ALLOWED_TYPES = {
    "numpy.dtype",
    "sklearn.tree._tree.Tree",
    "sklearn.metrics._ranking.roc_auc_score",
    "sklearn.metrics._scorer._Scorer",
    "sklearn.model_selection._split.StratifiedKFold",
    "neuromark.fmri.connectivity.TangentSpace",
    "neuromark.predict.harmonize.Deconfounder",
}


def save_model(model, path, *, feature_names, metadata):
    """Save a fitted model (skops) and its JSON sidecar atomically.

    Parameters
    ----------
    model : sklearn estimator
        Fitted pipeline.
    path : path-like
        ``.skops`` file.
    feature_names : list of str
        Columns of the wide table the model expects, in order.
    metadata : dict
        Scope, modality, feature set, model name, config hash, training size.
    """
    import skops.io as sio

    path = Path(path)
    with atomic_path(path) as tmp:
        sio.dump(model, tmp)
    write_json(
        path.with_suffix(".json"), metadata | {"feature_names": list(feature_names)}
    )


def load_model(path):
    """Load a saved model, refusing any type outside neuromark's allow-list.

    Returns
    -------
    model : sklearn estimator
    metadata : dict
        The sidecar, with ``feature_names``.
    """
    import skops.io as sio

    path = Path(path)
    if not path.is_file() or not path.with_suffix(".json").is_file():
        raise DataFileError(path, "model file or its .json sidecar does not exist")
    untrusted = set(sio.get_untrusted_types(file=path))
    unexpected = sorted(untrusted - ALLOWED_TYPES)
    if unexpected:
        raise DataFileError(
            path, f"contains types neuromark does not trust: {unexpected}"
        )
    model = sio.load(path, trusted=sorted(untrusted))
    return model, json.loads(path.with_suffix(".json").read_text())


def apply_model(model, metadata, wide):
    """Score participants of a wide feature table with a loaded model.

    Parameters
    ----------
    model : sklearn estimator
        From :func:`load_model`.
    metadata : dict
        Its sidecar (``feature_names``, ``model``...).
    wide : pandas.DataFrame
        Wide feature table with ``participant_id`` and, for models trained
        with them, the clinical covariates, ``site`` and confound columns.

    Returns
    -------
    predictions : pandas.DataFrame
        ``participant_id``, ``score`` (probability of response, or decision
        value for an SVM) and ``n_missing_features`` (imputed by the model).
    """
    names = metadata["feature_names"]
    missing = [n for n in names if n not in wide.columns]
    if len(missing) == len(names):
        raise DataFileError(
            Path("features"),
            "none of the model's features are in the "
            f"table (expected e.g. {names[:3]})",
        )
    table = wide.reindex(columns=["participant_id", *names])
    if metadata.get("site_codes") is not None:
        # a site the model never saw gets code -1: no site adjustment
        table["site"] = (
            wide["site"].astype(str).map(metadata["site_codes"]).fillna(-1.0)
        )
    X = table[names].to_numpy(float)
    if hasattr(model, "predict_proba"):
        scores = model.predict_proba(X)[:, 1]
    else:
        scores = model.decision_function(X)
    return pd.DataFrame(
        {
            "participant_id": table["participant_id"],
            "score": scores,
            "n_missing_features": np.isnan(X).sum(axis=1),
        }
    )
