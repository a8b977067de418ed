"""Safe persistence of fitted models: skops files (no code runs on load)."""

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..exceptions import DataFileError
from ..utils._files import atomic_path, file_sha256, write_json
from ..utils._logging import logger

# types a neuromark model legitimately contains beyond skops' default trust
ALLOWED_TYPES = {
    "numpy.dtype",
    "sklearn.tree._tree.Tree",
    "sklearn.metrics._ranking.roc_auc_score",
    "sklearn.metrics._scorer._Scorer",
    "sklearn.model_selection._split.StratifiedKFold",
    "neuromark.predict.tangent.TangentSpace",
    "neuromark.predict.harmonize.Deconfounder",
    "neuromark.predict.classifiers.SparseLogisticRegression",
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
        The sidecar also records ``feature_names`` and the SHA-256 of the
        model file (``model_sha256``), which :func:`load_model` checks so a
        sidecar is never paired with another model.
    """
    import skops.io as sio

    path = Path(path)
    with atomic_path(path) as tmp:
        sio.dump(model, tmp)
        digest = file_sha256(tmp)
    write_json(
        path.with_suffix(".json"),
        metadata | {"feature_names": list(feature_names), "model_sha256": digest},
    )


def load_model(path):
    """Load a saved model, refusing any type outside neuromark's allow-list.

    Parameters
    ----------
    path : path-like
        A ``.skops`` file written by :func:`save_model`, with its ``.json``
        sidecar next to it.

    Returns
    -------
    model : sklearn estimator
    metadata : dict
        The sidecar, with ``feature_names``.

    Raises
    ------
    DataFileError
        If either file is missing, the model is not a skops archive (a
        pickle, a damaged file) or holds untrusted types, or the sidecar is
        not valid JSON, lacks ``feature_names`` or belongs to another model.
    """
    import skops.io as sio

    path = Path(path)
    sidecar = path.with_suffix(".json")
    for required in (path, sidecar):
        if not required.is_file():
            raise DataFileError(
                required, "model file or its .json sidecar does not exist"
            )
    metadata = _read_sidecar(sidecar)
    try:
        untrusted = set(sio.get_untrusted_types(file=path))
    except Exception as err:  # zipfile, JSON schema, skops protocol errors
        raise DataFileError(
            path,
            "not a skops model written by neuromark (pickles are refused: they "
            f"can run code on load) ({type(err).__name__}: {err})",
        ) from None
    expected = metadata.get("model_sha256")
    if expected is not None and expected != file_sha256(path):
        raise DataFileError(
            sidecar,
            f"describes another model: its model_sha256 does not match {path.name}",
        )
    unexpected = sorted(untrusted - ALLOWED_TYPES)
    if unexpected:
        raise DataFileError(
            path, f"contains types neuromark does not trust: {unexpected}"
        )
    try:
        model = sio.load(path, trusted=sorted(untrusted))
    except Exception as err:
        raise DataFileError(
            path, f"the model cannot be rebuilt ({type(err).__name__}: {err})"
        ) from None
    n_features = getattr(model, "n_features_in_", None)
    if n_features is not None and n_features != len(metadata["feature_names"]):
        raise DataFileError(
            sidecar,
            f"lists {len(metadata['feature_names'])} features but {path.name} "
            f"expects {n_features}: the sidecar belongs to another model",
        )
    return model, metadata


def _read_sidecar(sidecar):
    try:
        metadata = json.loads(sidecar.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise DataFileError(sidecar, f"not valid JSON ({err})") from None
    names = metadata.get("feature_names") if isinstance(metadata, dict) else None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise DataFileError(sidecar, "has no list of feature_names")
    return metadata


def read_feature_table(path):
    """Read a wide feature table (``features_wide.tsv``) for scoring.

    Parameters
    ----------
    path : path-like
        Tab-separated table with ``participant_id``.

    Returns
    -------
    wide : pandas.DataFrame

    Raises
    ------
    DataFileError
        If the file is missing, binary, not a table or has no
        ``participant_id`` column.
    """
    path = Path(path)
    if not path.is_file():
        raise DataFileError(path, "feature table does not exist")
    try:
        wide = pd.read_csv(path, sep="\t", na_values=["n/a"], encoding="utf-8")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise DataFileError(
            path, f"not a readable tab-separated table ({err})"
        ) from None
    if "participant_id" not in wide.columns:
        raise DataFileError(
            path, f"has no participant_id column (columns: {list(wide.columns)[:5]})"
        )
    return wide


INDICATORS = {"arm": "intervention", "site": "site"}


def _with_indicators(wide, names):
    """Add the arm/site indicator columns (``arm[TENS]``) a pooled model uses.

    They are derived from the table's ``intervention`` and ``site`` columns;
    a model that needs them cannot impute them.
    """
    wide = wide.copy()
    for name in names:
        prefix, _, level = name.partition("[")
        if prefix not in INDICATORS or not level.endswith("]"):
            continue
        source = INDICATORS[prefix]
        if source not in wide:
            raise DataFileError(
                Path("features"),
                f"the model adjusts for {prefix} ({name}): the table needs the "
                f"participants' {source!r} column (merge participants.tsv into it)",
            )
        wide[name] = (wide[source].astype(str) == level[:-1]).astype(float)
    return wide


def apply_model(model, metadata, wide, *, max_missing=0.2):
    """Score participants of a wide feature table with a loaded model.

    Parameters
    ----------
    model : sklearn estimator
        From :func:`load_model`.
    metadata : dict
        Its sidecar (``feature_names``, ``model``...).
    wide : pandas.DataFrame
        Wide feature table with ``participant_id`` and, for models trained
        with them, the clinical covariates, ``site`` and confound columns, and
        ``intervention`` for pooled models (which adjust for the arm).
    max_missing : float
        Largest fraction of the model's features a participant may lack
        (absent column or missing value). Up to it the model's in-fold
        imputation fills them, with a warning naming them; above it the
        participant gets no score.

    Returns
    -------
    predictions : pandas.DataFrame
        ``participant_id``, ``score`` (probability of response, or decision
        value for an SVM; NaN when refused), ``n_missing_features`` and
        ``status`` (``ok``, ``imputed`` or the reason for no score).

    Raises
    ------
    DataFileError
        If none of the model's features are in the table, or a feature
        column holds text.
    """
    if not 0.0 <= max_missing <= 1.0:
        raise ValueError(f"max_missing must be a fraction in [0, 1], got {max_missing}")
    names = metadata["feature_names"]
    missing = [n for n in names if n not in wide.columns]
    if len(missing) == len(names):
        raise DataFileError(
            Path("features"),
            "none of the model's features are in the "
            f"table (expected e.g. {names[:3]})",
        )
    wide = _with_indicators(wide, names)
    table = wide.reindex(columns=["participant_id", *names])
    if metadata.get("site_codes") is not None:
        # a site the model never saw gets code -1: no site adjustment
        table["site"] = (
            wide["site"].astype(str).map(metadata["site_codes"]).fillna(-1.0)
        )
    values = table[names].apply(pd.to_numeric, errors="coerce")
    text = [n for n in names if (values[n].isna() & table[n].notna()).any()]
    if text:
        raise DataFileError(
            Path("features"), f"non-numeric values in feature column(s) {text[:5]}"
        )
    X = values.to_numpy(float)
    absent = np.isnan(X)
    fraction = absent.mean(axis=1)
    refused = fraction > max_missing
    scores = np.full(len(X), np.nan)
    if (~refused).any():
        kept = X[~refused]
        if hasattr(model, "predict_proba"):
            scores[~refused] = model.predict_proba(kept)[:, 1]
        else:
            scores[~refused] = model.decision_function(kept)
    status = np.where(absent.any(axis=1), "imputed", "ok").astype(object)
    for i, pid in enumerate(table["participant_id"]):
        lacking = [n for n, gap in zip(names, absent[i]) if gap]
        if refused[i]:
            status[i] = (
                f"refused: {len(lacking)} of {len(names)} features missing "
                f"(more than {max_missing:.0%})"
            )
            logger.warning("%s: %s", pid, status[i])
        elif lacking:
            logger.warning(
                "%s: %d of %d features missing, imputed by the model: %s",
                pid,
                len(lacking),
                len(names),
                ", ".join(lacking[:10]) + (" ..." if len(lacking) > 10 else ""),
            )
    return pd.DataFrame(
        {
            "participant_id": table["participant_id"],
            "score": scores,
            "n_missing_features": absent.sum(axis=1),
            "status": status,
        }
    )
