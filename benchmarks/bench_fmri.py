"""Benchmark PAG-ACC-PFC connectivity against the straightforward nilearn script.

Run: 2 mm MNI grid, 300 volumes, gzipped NIfTI (simulated fMRIPrep output).
Reference: ``load_confounds`` (24P motion, 5 anatomical CompCor, cosine
high-pass, scrubbing FD > 0.5 mm / std DVARS > 1.5) + ``NiftiLabelsMasker`` on
the same ROI label image + ``ConnectivityMeasure`` (empirical covariance).
Floor: decompressing and reading the image (``nibabel`` ``get_fdata``).
The script checks that neuromark and nilearn give the same correlations first.

Run: ``python benchmarks/bench_fmri.py``
"""

import tempfile
from pathlib import Path

import nibabel as nib
import numpy as np
from _harness import measure, report
from nilearn.connectome import ConnectivityMeasure
from nilearn.interfaces.fmriprep import load_confounds
from nilearn.maskers import NiftiLabelsMasker
from sklearn.covariance import EmpiricalCovariance

from neuromark.fmri import FMRISettings, load_run, read_atlas, run_features
from neuromark.simulation import simulate_study

SETTINGS = FMRISettings(
    denoising={
        "motion": "24P",
        "compcor": 5,
        "high_pass": 1 / 128.0,
        "fd_threshold": 0.5,
        "std_dvars_threshold": 1.5,
        "min_segment": 5,
    },
    connectivity=("correlation",),
)


def files(root):
    """BOLD, confounds and mask of the first simulated run."""
    func = root / "derivatives/fmriprep/sub-01/ses-pre/func"
    stem = "sub-01_ses-pre_task-rest"
    return (
        func / f"{stem}_space-MNI152NLin2009cAsym_desc-preproc_bold.nii.gz",
        func / f"{stem}_desc-confounds_timeseries.tsv",
        func / f"{stem}_space-MNI152NLin2009cAsym_desc-brain_mask.nii.gz",
    )


def neuromark_script(bold, confounds, mask):
    """neuromark: load with checks, ROI signals, denoise, connectivity."""
    img, mask_data, table, tr = load_run(bold, confounds=confounds, mask=mask)
    features, _, _ = run_features(img, mask_data, table, tr, SETTINGS)
    return features


def reference_script(bold, labels_img, mask):
    """The nilearn script a researcher would write for the same numbers."""
    confounds, sample_mask = load_confounds(
        str(bold),
        strategy=("motion", "high_pass", "compcor", "scrub"),
        motion="full",
        compcor="anat_combined",
        n_compcor=5,
        scrub=5,
        fd_threshold=0.5,
        std_dvars_threshold=1.5,
    )
    masker = NiftiLabelsMasker(
        labels_img=labels_img,
        mask_img=str(mask),
        standardize="zscore_sample",
        detrend=True,
        t_r=2.0,
    )
    series = masker.fit_transform(
        str(bold), confounds=confounds, sample_mask=sample_mask
    )
    measure_ = ConnectivityMeasure(
        kind="correlation", cov_estimator=EmpiricalCovariance(), standardize=False
    )
    return measure_.fit_transform([series])[0]


def floor_script(bold):
    """Decompress and read the image as floats (what get_fdata-based code pays)."""
    return nib.load(bold).get_fdata(dtype=np.float32).shape


def decompress_script(bold):
    """Decompress only, keeping the stored integers: the hard floor."""
    return np.asanyarray(nib.load(bold).dataobj.get_unscaled()).shape


def main():
    """Simulate a realistic run, check equal numbers, print ratios."""
    with tempfile.TemporaryDirectory() as tmp:
        root = simulate_study(
            Path(tmp) / "study",
            n_participants=2,
            seed=0,
            interventions=["TENS"],
            modalities=["fmri"],
            fmri_volumes=300,
            fmri_resolution=2.0,
            n_jobs=2,
        )
        bold, confounds, mask = files(root)
        img = nib.load(bold)
        atlas = read_atlas()
        mask_data = nib.load(mask).get_fdata() > 0
        labels, _ = atlas.label_image(img.shape[:3], img.affine, mask_data)
        labels_img = nib.Nifti1Image(labels.astype(np.int16), img.affine)

        ours = neuromark_script(bold, confounds, mask).set_index("location")["value"]
        theirs = reference_script(bold, labels_img, mask)
        names = atlas.labels
        for i in range(len(names)):
            for j in range(i + 1, len(names)):
                edge = "~".join(sorted((names[i], names[j])))
                np.testing.assert_allclose(np.tanh(ours[edge]), theirs[i, j], atol=1e-6)
        print(
            f"numbers agree with nilearn on {len(ours)} edges (1e-6); "
            f"image {img.shape}, {bold.stat().st_size / 2**20:.0f} MiB gzipped"
        )

        candidate = measure(neuromark_script, bold, confounds, mask, repeat=2)[:2]
        reference = measure(reference_script, bold, labels_img, mask, repeat=2)[:2]
        floor = measure(floor_script, bold, repeat=2)[:2]
        decompress = measure(decompress_script, bold, repeat=2)[:2]
        report("fMRI connectivity vs nilearn script", candidate, reference)
        report("fMRI connectivity vs read-as-float floor", candidate, floor)
        report("fMRI connectivity vs decompress-only floor", candidate, decompress)


if __name__ == "__main__":
    main()
