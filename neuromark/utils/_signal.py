"""Small signal helpers shared by the simulator and the fMRI layer."""

import numpy as np


def cosine_basis(n_volumes, tr, cutoff_s=128.0):
    """Discrete cosine basis of a high-pass filter (as fMRIPrep's ``cosine*``).

    Parameters
    ----------
    n_volumes : int
        Number of volumes.
    tr : float
        Repetition time (s).
    cutoff_s : float
        Period (s) of the cut-off; components slower than it are modelled.

    Returns
    -------
    basis : ndarray, shape (n_volumes, n_components)
        Orthonormal DCT-II regressors ``sqrt(2/n) cos(pi (t + 1/2) k / n)``,
        ``k = 1 .. floor(2 n tr / cutoff_s)``.
    """
    n_basis = int(np.floor(2 * n_volumes * tr / cutoff_s))
    times = np.arange(n_volumes)
    columns = [
        np.sqrt(2.0 / n_volumes) * np.cos(np.pi * (times + 0.5) * k / n_volumes)
        for k in range(1, n_basis + 1)
    ]
    return np.column_stack(columns) if columns else np.empty((n_volumes, 0))
