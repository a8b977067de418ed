"""Measure time and peak memory of a callable, and compare with a reference.

Benchmarks report ratios against a reference run in the same process (the
straightforward MNE/nilearn script for the same result), never absolute
timings asserted in tests.
"""

import gc
import time
import tracemalloc


def measure(func, *args, repeat=3, **kwargs):
    """Best wall time (s) over ``repeat`` runs and peak traced memory (MiB).

    Parameters
    ----------
    func : callable
        What to measure.
    *args, **kwargs
        Passed to ``func``.
    repeat : int
        Number of runs; the fastest is kept (the least disturbed by the machine).

    Returns
    -------
    seconds : float
    peak_mib : float
        Peak memory allocated through Python's allocators (NumPy included)
        during one run.
    result : object
        What ``func`` returned on the last run.
    """
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = func(*args, **kwargs)
        times.append(time.perf_counter() - start)
    gc.collect()
    tracemalloc.start()
    func(*args, **kwargs)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return min(times), peak / 2**20, result


def report(name, candidate, reference):
    """Print a comparison line: times, speed-up and memory ratio."""
    (t_c, m_c), (t_r, m_r) = candidate, reference
    print(
        f"{name}: neuromark {t_c:.3f} s / {m_c:.1f} MiB, reference {t_r:.3f} s / "
        f"{m_r:.1f} MiB -> speed-up x{t_r / t_c:.2f}, memory ratio {m_c / m_r:.2f}"
    )
