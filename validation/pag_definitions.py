"""How well each PAG definition recovers a planted PAG-pgACC correlation.

Each simulated run (:func:`neuromark.simulation._fmri.simulate_bold`, the
realistic preset's noise) has a true PAG: the bundled hand trace moved by a
random registration error (SD 1 mm per axis), with true partial volume, around
an aqueduct (the trace's hole, moved alike) whose CSF carries cardiac and
respiratory pulsation (6 % SD in a voxel full of CSF, absent from the
confounds); brainstem voxel noise is doubled (low tSNR). The planted
PAG-pgACC correlation is drawn per run in [0.2, 0.6]. Every run goes through
neuromark's ROI extraction, CSF removal (the run's true CSF map, as fMRIPrep
segments each participant's own anatomy) and denoising under each PAG
definition, with CSF removal at two thresholds and without, and the PAG-pgACC
correlation is
compared with the planted one: the sample correlation of the run's latent
signals, and with the run's true PAG measured the same way (``oracle``: the
moved trace, so only the definition differs; its own gap to the planted r is
the attenuation by noise and partial volume that no definition can avoid).
Not part of the test suite; its table is in the README::

    python validation/pag_definitions.py            # about 15 minutes on 2 cores
    python validation/pag_definitions.py --quick    # a smoke run

Every definition is measured with ``min_voxels = 1`` so that all have a
value; ``missing`` says how often the default minimum (10 voxels) leaves that
PAG out instead. ``attenuation`` is the least-squares slope of measured on
planted r through the origin (1 = unbiased); ``bias_vs_oracle`` the mean
difference from the true PAG's r in the same run.
"""

import argparse
import time

import nibabel as nib
import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from neuromark.atlases import read_roi_registry

from neuromark.fmri import FMRISettings, read_pag_trace, settings_atlas
from neuromark.fmri.features import _extract
from neuromark.fmri.rois import SphereAtlas, trace_fraction
from neuromark.simulation import REALISTIC
from neuromark.simulation._fmri import (
    aqueduct_points,
    mni_grid,
    roi_voxels,
    simulate_bold,
)

DEFINITIONS = ("traced", "sphere3", "sphere4", "sphere6", "chain")
DEFAULT_MIN_VOXELS = FMRISettings().rois.min_voxels
REGISTRATION_SD_MM = 1.0
N_VOLUMES = 300
# CSF probability above which ROI voxels are removed (None: kept)
CSF_THRESHOLDS = (0.25, 0.5, None)
TR = 2.0


def _anatomy(rng, resolution):
    """ROI labels of one run's true anatomy, PAG tissue and aqueduct CSF shares."""
    mask, affine = mni_grid(resolution)
    rois = read_roi_registry().query("set == 'core'").reset_index(drop=True)
    shift = rng.normal(0, REGISTRATION_SD_MM, 3)
    trace = read_pag_trace()
    pag, _ = trace_fraction(trace + shift, mask.shape, affine)
    csf, _ = trace_fraction(aqueduct_points(trace) + shift, mask.shape, affine)
    is_sphere = (rois["label"] != "PAG").to_numpy()
    labels = roi_voxels(rois[is_sphere], mask, affine, min_radius_mm=resolution)
    labels = np.r_[0, np.flatnonzero(is_sphere) + 1][labels]
    labels[(pag > 0) & mask] = 1
    oracle = SphereAtlas(rois.iloc[:1].assign(radius_mm=np.nan), {"PAG": trace + shift})
    return list(rois["label"]), labels, pag, csf, mask, affine, oracle


def _planted(rng, names):
    """Correlation of the latent ROI signals: PAG-pgACC drawn in [0.2, 0.6]."""
    matrix = np.full((len(names), len(names)), 0.2)
    pag, acc = names.index("PAG"), names.index("pgACC")
    matrix[pag, :] = matrix[:, pag] = 0.1
    matrix[pag, acc] = matrix[acc, pag] = rng.uniform(0.2, 0.6)
    np.fill_diagonal(matrix, 1.0)
    return matrix


def one_run(resolution, seed):
    """Measured and planted PAG-pgACC r of one run, per definition and CSF rule."""
    rng = np.random.default_rng(seed)
    names, labels, pag, csf, mask, affine, oracle = _anatomy(rng, resolution)
    bold, confounds, latent = simulate_bold(
        rng,
        correlation=_planted(rng, names),
        roi_labels=labels,
        mask=mask,
        n_volumes=N_VOLUMES,
        tr=TR,
        affine=affine,
        n_spikes=3,
        motion_sd_mm=0.03,
        unmodelled_motion=REALISTIC.unmodelled_motion,
        pag_label=1,
        signal_weight=np.where(pag > 0, pag, 1.0),
        csf_fraction=csf,
        pag_pulsation_percent=REALISTIC.pag_pulsation_percent,
        brainstem_noise_scale=REALISTIC.brainstem_noise_scale,
        spatial_smoothness_mm=REALISTIC.spatial_smoothness_mm,
        compcor_layout=REALISTIC.compcor_layout,
    )
    img = nib.Nifti1Image(bold, affine)
    planted = float(np.corrcoef(latent.T)[0, names.index("pgACC")])
    rows = []
    for threshold in CSF_THRESHOLDS:
        settings = FMRISettings(
            rois={
                "min_voxels": 1,
                "pag": "traced",
                "pag_alternatives": DEFINITIONS[1:],
                "max_csf_probability": threshold,
            }
        )
        alternatives = {
            name: settings_atlas(settings, pag=name).select(["PAG"])
            for name in DEFINITIONS[1:]
        } | {"oracle": oracle}
        signals, others, _, roi_qc = _extract(
            img,
            mask,
            confounds,
            TR,
            settings,
            atlas=settings_atlas(settings),
            csf=csf,
            alternatives=alternatives,
            source="simulated",
        )
        pags = {"traced": signals["PAG"]} | {n: others[n] for n in others}
        voxels = roi_qc[roi_qc["roi"] == "PAG"]["n_voxels"].to_numpy()
        measured = {
            name: float(np.corrcoef(signal, signals["pgACC"])[0, 1])
            for name, signal in pags.items()
        }
        for (name, r), n in zip(measured.items(), voxels):
            rows.append(
                {
                    "resolution_mm": resolution,
                    "definition": name,
                    "csf_removed_above": threshold or "kept",
                    "measured": r,
                    "planted": planted,
                    "oracle": measured["oracle"],
                    "n_voxels": int(n),
                }
            )
    return rows


def summarise(table):
    """Bias, error, attenuation and voxels per resolution, definition, CSF rule."""
    table = table.assign(error=table["measured"] - table["planted"])
    groups = table.groupby(
        ["resolution_mm", "definition", "csf_removed_above"], sort=False
    )
    return groups.apply(
        lambda g: pd.Series(
            {
                "voxels": g["n_voxels"].median(),
                "missing": np.mean(g["n_voxels"] < DEFAULT_MIN_VOXELS),
                "bias": g["error"].mean(),
                "mean_abs_error": g["error"].abs().mean(),
                "bias_vs_oracle": (g["measured"] - g["oracle"]).mean(),
                "attenuation": float(
                    (g["measured"] * g["planted"]).sum() / (g["planted"] ** 2).sum()
                ),
                "runs": len(g),
            }
        ),
        include_groups=False,
    ).reset_index()


def main():
    """Print the table for 2 mm and 3 mm BOLD grids."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args()
    n_runs = 4 if args.quick else 40
    start = time.time()
    seeds = np.random.SeedSequence(args.seed).generate_state(n_runs)
    rows = Parallel(n_jobs=args.n_jobs)(
        delayed(one_run)(resolution, int(seed))
        for resolution in (2.0, 3.0)
        for seed in seeds
    )
    table = summarise(pd.DataFrame([row for run in rows for row in run]))
    print(table.round(3).to_markdown(index=False))
    print(
        f"\n{n_runs} runs per resolution, {N_VOLUMES} volumes (TR {TR:g} s), "
        f"registration error SD {REGISTRATION_SD_MM:g} mm, seed {args.seed}; "
        f"{time.time() - start:.0f} s"
    )


if __name__ == "__main__":
    main()
