"""The single ``neuromark`` logger and the ``verbose`` switch.

Every module logs through ``logging.getLogger("neuromark")``; functions that
accept ``verbose`` temporarily change its level for the duration of the call,
like MNE-Python's ``verbose`` decorator.
"""

import contextlib
import functools
import inspect
import logging
import sys
import warnings

logger = logging.getLogger("neuromark")

_LEVELS = {
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "WARNING": logging.WARNING,
    "ERROR": logging.ERROR,
    "CRITICAL": logging.CRITICAL,
}


def _parse_level(verbose):
    """Convert a ``verbose`` value into a logging level (int)."""
    if verbose is None:
        return None
    if isinstance(verbose, bool):
        return logging.INFO if verbose else logging.WARNING
    if isinstance(verbose, str):
        key = verbose.upper()
        if key not in _LEVELS:
            raise ValueError(
                "Invalid value for the 'verbose' parameter. Allowed values are "
                f"True, False, None, an int or one of {sorted(_LEVELS)}, "
                f"but got {verbose!r} instead."
            )
        return _LEVELS[key]
    if isinstance(verbose, int):
        return verbose
    raise TypeError(f"verbose must be bool, str, int or None, got {type(verbose)}")


def set_log_level(verbose="INFO"):
    """Set the level of the ``neuromark`` logger and give it a console handler.

    Parameters
    ----------
    verbose : bool | str | int | None
        ``True`` or ``"INFO"`` for progress messages, ``False`` or
        ``"WARNING"`` for warnings only, ``"DEBUG"`` for everything. ``None``
        leaves the level unchanged.

    Returns
    -------
    old_level : int
        The level before the call, to restore it later.
    """
    old_level = logger.level
    level = _parse_level(verbose)
    if level is not None:
        logger.setLevel(level)
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s [neuromark] %(message)s"))
        logger.addHandler(handler)
    return old_level


class _StderrHandler(logging.StreamHandler):
    """Console handler that writes to whatever ``sys.stderr`` is at emit time.

    Jupyter and pytest replace ``sys.stderr``; binding the stream once would
    write to a closed file later.
    """

    def __init__(self):
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


@contextlib.contextmanager
def use_log_level(verbose):
    """Temporarily set the ``neuromark`` logger level (no-op for ``None``)."""
    level = _parse_level(verbose)
    if level is None:
        yield
        return
    old_level = logger.level
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.setLevel(old_level)


def verbose(function):
    """Decorate a function taking a ``verbose`` argument to honour it."""
    signature = inspect.signature(function)
    if "verbose" not in signature.parameters:
        raise RuntimeError(f"{function.__name__} has no 'verbose' parameter")

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        bound = signature.bind_partial(*args, **kwargs)
        with use_log_level(bound.arguments.get("verbose")):
            return function(*args, **kwargs)

    return wrapper


def warn(message, category=UserWarning):
    """Emit a warning that points at the user's code and log it.

    The stack is walked to the first frame outside the ``neuromark`` package,
    so the warning shows the line of the user's script that triggered it.
    """
    frame = inspect.currentframe().f_back  # whoever called warn()
    stacklevel = 2
    while frame is not None and frame.f_globals.get("__name__", "").startswith(
        "neuromark"
    ):
        frame = frame.f_back
        stacklevel += 1
    logger.warning(message)
    warnings.warn(message, category, stacklevel=stacklevel)
