import json

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from neuromark.exceptions import DataFileError
from neuromark.io import check_recording, discover_study


def test_checks_pass_on_simulated_study(study_root):
    study = discover_study(study_root)
    eeg = check_recording(study.get("sub-01", "pre", "eeg"))
    assert eeg == {"sfreq": 250.0, "n_channels": 32, "duration_s": 60.0}
    fmri = check_recording(study.get("sub-01", "pre", "fmri"))
    assert fmri["n_volumes"] == 80 and fmri["tr"] == 2.0
    assert fmri["voxel_size_mm"] == [3.0, 3.0, 3.0]


def test_unreadable_eeg_names_the_file(study_copy):
    rec = discover_study(study_copy).get("sub-02", "post", "eeg")
    rec.path.write_bytes(b"this is not an EDF header" * 10)
    with pytest.raises(
        DataFileError, match=r"sub-02_ses-post_task-rest_eeg.edf: MNE cannot read"
    ):
        check_recording(rec)


def test_confounds_rows_must_match_volumes(study_copy):
    rec = discover_study(study_copy).get("sub-03", "pre", "fmri")
    confounds = pd.read_csv(rec.companions["confounds"], sep="\t")
    confounds.iloc[:-3].to_csv(rec.companions["confounds"], sep="\t", index=False)
    with pytest.raises(
        DataFileError, match=r"has 77 rows but .*preproc_bold.nii.gz has 80 volumes"
    ):
        check_recording(rec)


def test_three_d_image_is_refused(study_copy):
    rec = discover_study(study_copy).get("sub-01", "post", "fmri")
    img = nib.load(rec.path)
    nib.save(nib.Nifti1Image(np.asarray(img.dataobj)[..., 0], img.affine), rec.path)
    with pytest.raises(
        DataFileError, match=r"expected a 4D BOLD time series, got a 3D image"
    ):
        check_recording(rec)


def test_mask_on_another_grid_is_refused(study_copy):
    rec = discover_study(study_copy).get("sub-01", "pre", "fmri")
    nib.save(
        nib.Nifti1Image(np.ones((5, 5, 5), np.uint8), np.eye(4)), rec.companions["mask"]
    )
    with pytest.raises(DataFileError, match="does not match the BOLD grid"):
        check_recording(rec)


def test_repetition_time_from_sidecar_wins(study_copy):
    rec = discover_study(study_copy).get("sub-01", "pre", "fmri")
    rec.companions["sidecar"].write_text(json.dumps({"RepetitionTime": 0.8}))
    assert check_recording(rec)["tr"] == 0.8
    del rec.companions["sidecar"]
    assert check_recording(rec)["tr"] == 2.0  # pixdim[4] of the header
