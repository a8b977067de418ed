"""One table of shared parameter descriptions, filled into docstrings.

Use ``%(name)s`` in a docstring and decorate the function with
:func:`fill_doc`; the text comes from :data:`docdict` (as in nilearn).
"""

docdict = {
    "verbose": """verbose : bool | str | int | None
    Control the ``neuromark`` logger for this call: ``True``/``"INFO"`` prints
    progress, ``False``/``"WARNING"`` only warnings, ``None`` keeps the current
    level (see :func:`neuromark.set_log_level`).""",
    "bids_root": """bids_root : path-like
    Root folder of the BIDS study (the folder holding ``participants.tsv``).""",
    "task": """task : str
    BIDS task label of the resting recordings. Default ``"rest"``.""",
    "sessions": """sessions : tuple of (str, str)
    BIDS session labels of the pre- and post-treatment recordings, in that
    order. Default ``("pre", "post")``.""",
    "responder_threshold": """responder_threshold : float
    Fractional pain reduction from pre to post that makes a responder
    (``(pain_pre - pain_post) / pain_pre >= threshold``). Default ``0.30``,
    the IMMPACT "moderately important" threshold (Dworkin et al. 2008).""",
    "random_state": """random_state : int
    Seed of the random number generator; the same seed gives the same output.""",
    "n_jobs": """n_jobs : int
    Number of parallel joblib workers (``-1`` for all cores). Results do not
    depend on it.""",
}


def fill_doc(obj):
    """Fill ``%(key)s`` placeholders in ``obj.__doc__`` from :data:`docdict`.

    Indentation of multi-line entries is adapted to the placeholder's.
    """
    doc = obj.__doc__
    if not doc:
        return obj
    lines = doc.splitlines()
    indent = min(
        (len(line) - len(line.lstrip()) for line in lines[1:] if line.strip()),
        default=0,
    )
    pad = " " * indent
    filled = {key: value.replace("\n", "\n" + pad) for key, value in docdict.items()}
    try:
        obj.__doc__ = doc % filled
    except (KeyError, ValueError) as err:
        raise RuntimeError(
            f"Error filling the docstring of {obj.__name__}: {err}"
        ) from err
    return obj
