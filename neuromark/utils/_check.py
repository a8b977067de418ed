"""Argument checks whose messages say what was expected and what was received."""

import difflib


def check_option(parameter, value, allowed):
    """Raise a ``ValueError`` unless ``value`` is one of ``allowed``.

    Parameters
    ----------
    parameter : str
        Name of the parameter, used in the message.
    value : object
        The received value.
    allowed : sequence
        The accepted values.

    Returns
    -------
    value : object
        The value, unchanged, for chaining.
    """
    if value in allowed:
        return value
    options = [repr(a) for a in allowed]
    if len(options) > 1:
        listed = ", ".join(options[:-1]) + f" and {options[-1]}"
        head = f"Allowed values are {listed}"
    else:
        head = f"The only allowed value is {options[0]}"
    hint = suggest(value, [str(a) for a in allowed])
    raise ValueError(
        f"Invalid value for the {parameter!r} parameter. {head}, "
        f"but got {value!r} instead.{hint}"
    )


def suggest(word, candidates):
    """Return ``" Did you mean 'x'?"`` for the closest candidate, or ``""``."""
    by_lower = {str(c).lower(): c for c in candidates}
    prefixed = [c for low, c in by_lower.items() if low.startswith(str(word).lower())]
    if len(prefixed) == 1:
        return f" Did you mean {prefixed[0]!r}?"
    matches = difflib.get_close_matches(
        str(word).lower(), list(by_lower), n=1, cutoff=0.6
    )
    return f" Did you mean {by_lower[matches[0]]!r}?" if matches else ""
