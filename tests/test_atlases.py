import subprocess
import sys
import zipfile
from pathlib import Path

import mne
import numpy as np
import pytest
from neuromark.atlases import (
    atlas_path,
    read_eeg_regions,
    read_frequency_bands,
    read_roi_registry,
    read_table,
)

from neuromark.exceptions import DataFileError
from neuromark.simulation import mni_grid

REPO = Path(__file__).parents[1]


def test_bands_are_ordered_contiguous_and_cited():
    bands = read_frequency_bands().set_index("band")
    assert (bands["fmin"] < bands["fmax"]).all()
    np.testing.assert_array_equal(
        bands["fmax"].to_numpy()[:-1], bands["fmin"].to_numpy()[1:]
    )
    assert tuple(bands.loc["alpha", ["fmin", "fmax"]]) == (8.0, 13.0)
    assert tuple(bands.loc["beta", ["fmin", "fmax"]]) == (13.0, 30.0)


def test_eeg_regions_use_montage_channels():
    regions = read_eeg_regions()
    assert {
        "frontal",
        "frontal_midline",
        "central",
        "parietal",
        "occipital",
        "prefrontal_left",
        "prefrontal_right",
    } <= set(regions)
    known = set(mne.channels.make_standard_montage("colin27_1020").ch_names)
    for channels in regions.values():
        assert set(channels) <= known


def test_rois_sit_inside_the_mni_brain():
    rois = read_roi_registry()
    assert {"PAG", "sgACC", "pgACC", "dACC", "mPFC", "DLPFC_L", "DLPFC_R"} <= set(
        rois["label"]
    )
    mask, affine = mni_grid(2.0)
    inverse = np.linalg.inv(affine)
    for roi in rois.itertuples():
        ijk = np.round(inverse @ [roi.x, roi.y, roi.z, 1])[:3].astype(int)
        assert mask[tuple(ijk)], f"{roi.label} centre is outside the brain mask"
    assert rois["source"].str.contains(r"doi:10\.", regex=True).all()


def test_uncited_or_incomplete_tables_are_refused(tmp_path):
    path = tmp_path / "rois.tsv"
    path.write_text("label\tx\tsource\nPAG\t0\t\n")
    with pytest.raises(DataFileError, match=r"rows \[0\] do not cite a source"):
        read_table(path, ["label", "x", "source"])
    with pytest.raises(DataFileError, match=r"missing column\(s\) \['y'\]"):
        read_table(path, ["label", "x", "y"])
    with pytest.raises(FileNotFoundError, match="available"):
        atlas_path("nope.tsv")


def test_atlases_ship_in_the_wheel(tmp_path):
    """Installed users (not only checkouts) get the atlas tables."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "-w",
            str(tmp_path),
            str(REPO),
        ],
        check=True,
        capture_output=True,
    )
    wheel = next(tmp_path.glob("neuromark-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for table in ("frequency_bands.tsv", "eeg_regions.tsv", "pain_modulation_rois.tsv"):
        assert f"neuromark/atlases/{table}" in names
    assert "neuromark/atlases/__init__.py" in names
