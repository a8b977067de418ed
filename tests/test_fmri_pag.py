"""The PAG: traced definition, partial volume, CSF exclusion, definition sensitivity."""

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from neuromark.atlases import atlas_path

from neuromark.exceptions import ConfigError
from neuromark.fmri import FMRISettings, read_atlas, read_pag_trace, with_pag
from neuromark.fmri.rois import remove_csf, trace_fraction
from neuromark.io.bids import csf_probseg
from neuromark.pipeline import make_config
from neuromark.simulation import mni_grid
from neuromark.simulation._fmri import aqueduct_points
from neuromark.stats.sensitivity import pag_definition_sensitivity


def test_trace_is_the_published_mask_with_its_licence():
    trace = read_pag_trace()
    assert trace.shape == (352, 3)  # 352 voxels of 1 mm, as in the source file
    assert len(np.unique(trace, axis=0)) == 352
    # around the aqueduct, next to the circuit's PAG centre (Kong et al. 2010)
    centre = read_atlas(pag="sphere3").centres()["PAG"]
    assert np.linalg.norm(trace.mean(axis=0) - centre) < 2.0
    provenance = json.loads(atlas_path("pag_fenske2020_trace.json").read_text())
    assert provenance["License"].startswith("MIT License")
    assert "Fenske" in provenance["Source"]
    # the aqueduct is a hole of the trace: 2 mm wide, left out on every slice
    aqueduct = aqueduct_points(trace)
    assert len(aqueduct) == 50
    assert not {tuple(p) for p in aqueduct} & {tuple(p) for p in trace}


def test_trace_fraction_conserves_volume_on_any_grid():
    trace = read_pag_trace()
    on_1mm = np.eye(4)
    on_1mm[:3, 3] = [-10, -40, -20]
    fraction, _ = trace_fraction(trace, (21, 21, 21), on_1mm)
    assert (fraction == 1).sum() == 352 and set(np.unique(fraction)) == {0.0, 1.0}
    for size in (2.0, 2.5, 3.0):
        affine = np.diag([size, size, size, 1.0])
        affine[:3, 3] = [-30.5, -60.25, -40.0]
        fraction, touched = trace_fraction(trace, (30, 30, 30), affine)
        np.testing.assert_allclose(fraction.sum() * size**3, 352.0)
        np.testing.assert_allclose(touched.sum() * size**3, 352.0)


@pytest.mark.parametrize("resolution, voxels", [(2.0, 43), (3.0, 11), (4.0, 2)])
def test_traced_pag_voxels_and_minimum(resolution, voxels):
    mask, affine = mni_grid(resolution)
    labels, qc = read_atlas(labels=["PAG", "pgACC"]).label_image(
        mask.shape, affine, mask, min_voxels=10
    )
    pag = qc.set_index("roi").loc["PAG"]
    assert pag["n_in_brain"] == voxels == (labels == 1).sum()
    if voxels < 10:
        assert pag["status"] == "empty"
        assert pag["reason"] == "smaller than the minimum on this grid"
    else:
        assert pag["status"] == "ok"
    # no voxel it keeps is mostly aqueduct
    csf, _ = trace_fraction(aqueduct_points(read_pag_trace()), mask.shape, affine)
    assert csf[labels == 1].max() < 0.5


def test_pag_definitions():
    atlas = read_atlas()
    assert atlas.labels[0] == "PAG" and "PAG" in atlas.traces
    for name, radius in (("sphere4", 4.0), ("sphere6", 6.0)):
        other = with_pag(atlas, name)
        assert other.labels == atlas.labels and not other.traces
        assert other.table.set_index("label").loc["PAG", "radius_mm"] == radius
    assert len(with_pag(atlas, "chain").table.query("label == 'PAG'")) == 3
    assert read_atlas("pag_chain").labels == atlas.labels
    with pytest.raises(ValueError, match="unknown PAG definition 'cube'"):
        with_pag(atlas, "cube")
    with pytest.raises(ConfigError, match="unknown PAG definition 'sphere'"):
        make_config(bids_root=".", fmri={"rois": {"pag": "sphere"}})
    assert FMRISettings().rois.pag_alternatives == ("sphere4", "sphere6")


def test_csf_voxels_are_removed_and_counted():
    mask, affine = mni_grid(2.0)
    labels, qc = read_atlas(labels=["PAG", "pgACC"]).label_image(
        mask.shape, affine, mask, min_voxels=10
    )
    csf = np.zeros(mask.shape)
    pag = np.argwhere(labels == 1)
    csf[tuple(pag[:5].T)] = 0.9  # five PAG voxels are mostly CSF
    csf[tuple(pag[5:7].T)] = 0.4  # two are partly CSF, under the threshold
    kept, out = remove_csf(labels, qc, csf, 0.5, 10)
    row = out.set_index("roi").loc["PAG"]
    assert row["n_csf_removed"] == 5 and row["n_voxels"] == 38
    assert row["csf_fraction_removed"] == pytest.approx(5 / 43, abs=1e-4)
    assert (kept == 1).sum() == 38 and row["status"] == "ok"
    _, strict = remove_csf(labels, qc, csf, 0.5, 40)
    assert strict.set_index("roi").loc["PAG", "reason"] == (
        "38 voxels left after removing 5 CSF voxels (needs 40)"
    )
    _, without = remove_csf(labels, qc, None, 0.5, 10)
    assert without["csf_fraction_removed"].isna().all()
    assert (without["n_voxels"] == without["n_in_brain"]).all()


def test_csf_map_is_found_next_to_the_run(tmp_path):
    func = tmp_path / "sub-01" / "ses-pre" / "func"
    func.mkdir(parents=True)
    space = "space-MNI152NLin2009cAsym_res-2"
    bold = func / f"sub-01_ses-pre_task-rest_{space}_desc-preproc_bold.nii.gz"
    bold.touch()
    assert csf_probseg(bold) is None
    subject = tmp_path / "sub-01" / "anat"
    subject.mkdir()
    for name in (
        "sub-01_space-MNI152NLin6Asym_label-CSF_probseg.nii.gz",  # other space
        "sub-01_space-MNI152NLin2009cAsym_label-CSF_probseg.nii.gz",
        "sub-01_space-MNI152NLin2009cAsym_res-2_label-CSF_probseg.nii.gz",
        "sub-01_space-MNI152NLin2009cAsym_res-2_label-GM_probseg.nii.gz",
    ):
        (subject / name).touch()
    assert csf_probseg(bold).name == (
        "sub-01_space-MNI152NLin2009cAsym_res-2_label-CSF_probseg.nii.gz"
    )
    session = tmp_path / "sub-01" / "ses-pre" / "anat"
    session.mkdir()
    own = session / "sub-01_ses-pre_space-MNI152NLin2009cAsym_label-CSF_probseg.nii.gz"
    own.touch()
    (
        session / "sub-01_ses-post_space-MNI152NLin2009cAsym_label-CSF_probseg.nii.gz"
    ).touch()
    assert csf_probseg(bold) == own  # the session's map wins


def test_nibabel_functional_reports_pag_outside_the_field_of_view():
    from nibabel.testing import data_path

    img = nib.load(Path(data_path) / "functional.nii")  # z from -4 to 20 mm
    mask = np.ones(img.shape[:3], bool)
    _, qc = read_atlas().label_image(img.shape[:3], img.affine, mask, min_voxels=10)
    qc = qc.set_index("roi")
    assert qc.loc["PAG", "status"] == "empty"
    assert qc.loc["PAG", "reason"] == "outside the field of view"
    assert qc.loc["PAG", "n_in_image"] == 0 and qc.loc["PAG", "n_expected"] > 0


def _sensitivity_rows(rng, n=40):
    pids = [f"sub-{k:02d}" for k in range(n)]
    participants = pd.DataFrame(
        {
            "participant_id": pids,
            "intervention": ["TENS"] * (n // 2) + ["sham"] * (n // 2),
            "responder": rng.random(n) < 0.5,
        }
    )
    rows = []
    for pid, arm in zip(pids, participants["intervention"]):
        pre = rng.normal(0.2, 0.1)
        post = pre + (0.3 if arm == "TENS" else 0.0) + rng.normal(0, 0.05)
        for session, value in (("pre", pre), ("post", post)):
            for definition, copy in (
                ("traced", value),
                ("close", value + rng.normal(0, 0.01)),
                ("unrelated", rng.normal(0.2, 0.1)),
            ):
                rows.append([pid, session, definition, "PAG~pgACC", copy, 20])
    columns = ["participant_id", "session", "definition", "location", "value"]
    return pd.DataFrame(rows, columns=columns + ["n_voxels"]), participants


def test_definition_sensitivity_agreement_and_conclusions():
    table, participants = _sensitivity_rows(np.random.default_rng(3))
    result = pag_definition_sensitivity(table, participants, main="traced")
    result = result.set_index("definition")
    assert result.loc["traced", "agreement_r"] == pytest.approx(1.0)
    assert result.loc["close", "agreement_r"] > 0.98
    assert result.loc["close", "agreement_icc"] > 0.98
    assert abs(result.loc["unrelated", "agreement_r"]) < 0.3
    # a planted +0.3 effect: found under the main and the close definition
    assert result.loc["traced", "p"] < 1e-6 and bool(
        result.loc["close", "same_conclusion"]
    )
    assert result.loc["traced", "estimate"] == pytest.approx(0.3, abs=0.05)
    assert not bool(result.loc["unrelated", "same_conclusion"])
    assert result.loc["traced", "intervention"] == "TENS"
    assert 0 <= result.loc["traced", "baseline_auc"] <= 1
