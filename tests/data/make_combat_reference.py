"""Write combat_reference.npz: neuroCombat's output on a fixed multi-site dataset.

neuroCombat (Fortin et al. 2018) is the reference implementation of ComBat
for neuroimaging. It is not a neuromark dependency, so this script runs in a
separate environment::

    python -m venv /tmp/combat && /tmp/combat/bin/pip install neurocombat pandas
    /tmp/combat/bin/python tests/data/make_combat_reference.py

and the test compares :class:`neuromark.predict.harmonize.Deconfounder` with
the stored arrays.
"""

from pathlib import Path

import numpy as np
import pandas as pd
from neuroCombat import neuroCombat

rng = np.random.default_rng(7)
n, p = 60, 12
site = np.repeat([0.0, 1.0, 2.0], [25, 20, 15])
age = rng.uniform(20, 70, n)
sex = rng.integers(0, 2, n).astype(float)
shift = rng.normal(0, 1.5, (3, p))
scale = rng.uniform(0.5, 2.0, (3, p))
features = (
    5
    + 0.05 * age[:, None]
    + 0.8 * sex[:, None]
    + shift[site.astype(int)]
    + scale[site.astype(int)] * rng.standard_normal((n, p))
)
covars = pd.DataFrame({"site": site, "age": age, "sex": sex})
outputs = {}
for name, kwargs in {
    "site_eb": dict(covars=covars[["site"]]),
    "site_ls": dict(covars=covars[["site"]], eb=False),
    "site_mean_only": dict(covars=covars[["site"]], mean_only=True),
    "covariates_eb": dict(
        covars=covars, categorical_cols=["sex"], continuous_cols=["age"]
    ),
}.items():
    outputs[name] = neuroCombat(features.T, batch_col="site", **kwargs)["data"].T
np.savez(
    Path(__file__).with_name("combat_reference.npz"),
    features=features,
    site=site,
    age=age,
    sex=sex,
    **outputs,
)
