"""Progress bars that stay out of batch logs."""

import sys


def progress_bar(iterable, *, total, desc, enabled):
    """Wrap ``iterable`` in a tqdm bar on an interactive terminal.

    Parameters
    ----------
    enabled : bool | "auto"
        ``"auto"`` shows the bar only when stderr is a terminal, never in
        batch jobs or CI logs.
    """
    if enabled == "auto":
        enabled = sys.stderr.isatty()
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, unit="unit", leave=False)
