"""The fMRI pipeline recovers the planted pre->post PAG-ACC changes of TENS."""

import numpy as np
import pandas as pd
import pytest

from neuromark.pipeline import make_config, run_pipeline
from neuromark.simulation import read_ground_truth, simulate_study

pytestmark = pytest.mark.slow  # `make test-fast` skips these

PAG_ACC = ["PAG~pgACC", "PAG~dACC", "PAG~sgACC"]


@pytest.fixture(scope="module")
def fmri_runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("fmri_recovery")
    runs = {}
    for name, effect in (("effect", 1.0), ("null", 0.0)):
        root = simulate_study(
            base / name,
            n_participants=12,
            seed=31,
            interventions=["TENS"],
            modalities=["fmri"],
            fmri_volumes=150,
            effect_size=effect,
            baseline_effect=0.0,
            n_jobs=2,
        )
        result = run_pipeline(
            make_config(
                bids_root=root,
                output_dir=base / f"{name}_out",
                modalities=["fmri"],
                n_jobs=2,
                # recovery of planted effects: the pages' figures are not read
                report={"recording_figures": False},
            ),
            steps=["discover", "check", "fmri"],
        )
        assert result["errors"].empty
        runs[name] = (
            read_ground_truth(root),
            result["features_wide"].set_index("participant_id"),
        )
    return runs


def _pag_acc_change(truth, wide):
    change = wide[[f"fmri_fc_{edge}_change" for edge in PAG_ACC]].mean(axis=1)
    responder = pd.Series({p: e["responder"] for p, e in truth["participants"].items()})
    return change[responder.index[responder]], change[responder.index[~responder]]


def test_tens_responders_gain_pag_acc_coupling(fmri_runs):
    responders, others = _pag_acc_change(*fmri_runs["effect"])
    # planted +0.25 in r (about +0.26 Fisher z before the 1-voxel PAG attenuation)
    assert responders.mean() > 0.12
    assert responders.mean() - others.mean() > 0.1
    assert abs(others.mean()) < 0.1


def test_null_study_has_no_coupling_change(fmri_runs):
    responders, others = _pag_acc_change(*fmri_runs["null"])
    assert abs(responders.mean() - others.mean()) < 0.1
    assert abs(np.concatenate([responders, others]).mean()) < 0.08
