"""Regions of interest on a BOLD grid, with voxel-coverage QC.

An atlas is either a table of spheres (centre in MNI mm and radius) or a label
image with a lookup table. :meth:`label_image` maps it onto a BOLD grid and
reports, per ROI, how many voxels it should have, how many fall inside the
image and the brain mask, and a status:

* ``ok``;
* ``low_coverage``: fewer than ``min_coverage`` of its voxels in the brain;
* ``empty``: fewer than ``min_voxels`` brain voxels; the ROI is left out of
  that run (its edges are absent, never NaN) and the QC says why.

Spheres contain every voxel whose centre lies within the radius plus the voxel
containing the centre (as nilearn's sphere maskers do), so a small sphere on a
coarse grid is never empty by construction; overlapping spheres give shared
voxels to the nearest centre.
"""

from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd

from ..atlases import atlas_path, read_table
from ..exceptions import DataFileError

SPHERE_COLUMNS = ["label", "x", "y", "z", "radius_mm"]
QC_COLUMNS = ["roi", "n_expected", "n_in_image", "n_in_brain", "coverage", "status"]


def _voxel_centres(shape, affine):
    ijk = np.indices(shape, dtype=np.float32).reshape(3, -1).T
    return ijk @ affine[:3, :3].T.astype(np.float32) + affine[:3, 3].astype(np.float32)


def _coverage_qc(rows, min_voxels, min_coverage):
    qc = pd.DataFrame(rows, columns=QC_COLUMNS[:4])
    with np.errstate(divide="ignore", invalid="ignore"):
        qc["coverage"] = np.where(
            qc["n_expected"] > 0, qc["n_in_brain"] / qc["n_expected"], 0.0
        )
    qc["status"] = np.select(
        [qc["n_in_brain"] < min_voxels, qc["coverage"] < min_coverage],
        ["empty", "low_coverage"],
        "ok",
    )
    return qc[QC_COLUMNS]


@dataclass
class SphereAtlas:
    """Spherical ROIs from a table (``label, x, y, z, radius_mm`` in MNI mm)."""

    table: pd.DataFrame

    @property
    def labels(self):
        """ROI names, in table order."""
        return list(self.table["label"])

    def label_image(self, shape, affine, mask, *, min_voxels=1, min_coverage=0.5):
        """Label array on a grid (0 = background, k + 1 = ROI k) and its QC.

        Parameters
        ----------
        shape : tuple of int
            Spatial shape of the grid.
        affine : ndarray, shape (4, 4)
            Voxel-to-mm affine.
        mask : ndarray of bool, shape ``shape``
            Brain mask.
        min_voxels, min_coverage : int, float
            Coverage thresholds (see module docstring).

        Returns
        -------
        labels : ndarray of int, shape ``shape``
        qc : pandas.DataFrame
            One row per ROI: ``roi``, ``n_expected`` (voxels of the sphere on
            an unbounded grid), ``n_in_image``, ``n_in_brain``, ``coverage``,
            ``status``.
        """
        centres = self.table[["x", "y", "z"]].to_numpy(float)
        radii = self.table["radius_mm"].to_numpy(float)
        xyz = _voxel_centres(shape, affine)
        inverse = np.linalg.inv(affine)
        distance = np.full((xyz.shape[0],), np.inf, dtype=np.float32)
        owner = np.full(xyz.shape[0], -1)
        rows = []
        flat_mask = np.asarray(mask, bool).ravel()
        for k, (centre, radius) in enumerate(zip(centres, radii)):
            d = np.linalg.norm(xyz - centre.astype(np.float32), axis=1)
            member = d <= radius
            home = np.round(inverse @ np.r_[centre, 1.0])[:3].astype(int)
            if np.all(home >= 0) and np.all(home < shape):
                member[np.ravel_multi_index(home, shape)] = True
            closer = member & (d < distance)
            owner[closer], distance[closer] = k, d[closer]
            rows.append(
                [
                    self.labels[k],
                    _sphere_size(affine, centre, radius),
                    int(member.sum()),
                ]
            )
        owner[~flat_mask] = -1
        labels = (owner + 1).reshape(shape)
        # brain voxels counted after overlaps went to the nearest centre
        counts = np.bincount(labels.ravel(), minlength=len(rows) + 1)[1:]
        rows = [row + [int(n)] for row, n in zip(rows, counts)]
        return labels, _coverage_qc(rows, min_voxels, min_coverage)


def _sphere_size(affine, centre, radius):
    """Count the voxels of a sphere on an unbounded grid (centre voxel included)."""
    zooms = np.abs(np.diag(affine)[:3])
    reach = np.ceil(radius / zooms).astype(int) + 1
    home = np.round(np.linalg.inv(affine) @ np.r_[centre, 1.0])[:3]
    offsets = np.stack(
        np.meshgrid(*[np.arange(-r, r + 1) for r in reach], indexing="ij"), -1
    ).reshape(-1, 3)
    points = (home + offsets) @ affine[:3, :3].T + affine[:3, 3]
    inside = np.linalg.norm(points - centre, axis=1) <= radius
    inside[np.all(offsets == 0, axis=1)] = True
    return int(inside.sum())


@dataclass
class ImageAtlas:
    """ROIs from a label image (integers) and a lookup table (``index, label``)."""

    image: nib.Nifti1Image
    lookup: pd.DataFrame

    @property
    def labels(self):
        """ROI names, in lookup order."""
        return list(self.lookup["label"])

    def label_image(self, shape, affine, mask, *, min_voxels=1, min_coverage=0.5):
        """Resample the labels to the grid (nearest neighbour) and report coverage.

        See :meth:`SphereAtlas.label_image`; ``n_expected`` is the label's
        volume in the atlas divided by the grid's voxel volume.
        """
        from nilearn.image import resample_img

        resampled = resample_img(
            self.image,
            target_affine=affine,
            target_shape=shape,
            interpolation="nearest",
            force_resample=True,
            copy_header=True,
        )
        source = np.asarray(self.image.dataobj).astype(int)
        target = np.asarray(resampled.dataobj).astype(int)
        ratio = abs(np.linalg.det(self.image.affine[:3, :3])) / abs(
            np.linalg.det(affine[:3, :3])
        )
        labels = np.zeros(shape, dtype=int)
        rows = []
        for k, index in enumerate(self.lookup["index"]):
            member = target == index
            labels[member & mask] = k + 1
            rows.append(
                [
                    self.labels[k],
                    int(round((source == index).sum() * ratio)),
                    int(member.sum()),
                    int((member & mask).sum()),
                ]
            )
        return labels, _coverage_qc(rows, min_voxels, min_coverage)


def read_atlas(atlas="pain_modulation", labels=None):
    """Load a ROI atlas.

    Parameters
    ----------
    atlas : "pain_modulation" | path-like
        The bundled PAG-ACC-PFC registry, a TSV of spheres (``label, x, y,
        z, radius_mm``), or a label NIfTI with a lookup TSV next to it
        (same name, ``.tsv``; columns ``index, label``).
    labels : sequence of str | None
        Keep only these ROIs.

    Returns
    -------
    atlas : SphereAtlas | ImageAtlas
    """
    if str(atlas) == "pain_modulation":
        path = atlas_path("pain_modulation_rois.tsv")
        table = read_table(path, SPHERE_COLUMNS + ["source"])
        result = SphereAtlas(table)
    else:
        path = Path(atlas)
        if not path.is_file():
            raise DataFileError(path, "atlas file does not exist")
        if path.name.endswith((".nii", ".nii.gz")):
            lookup_path = path.with_name(path.name.split(".nii")[0] + ".tsv")
            if not lookup_path.is_file():
                raise DataFileError(
                    path,
                    f"label image needs a lookup table {lookup_path.name}"
                    " with columns index, label",
                )
            result = ImageAtlas(
                nib.load(path), read_table(lookup_path, ["index", "label"])
            )
        else:
            table = read_table(path, SPHERE_COLUMNS)
            bad = table[SPHERE_COLUMNS[1:]].apply(pd.to_numeric, errors="coerce").isna()
            if bad.to_numpy().any():
                raise DataFileError(path, "x, y, z and radius_mm must be numbers")
            result = SphereAtlas(table)
    if labels is not None:
        missing = sorted(set(labels) - set(result.labels))
        if missing:
            raise DataFileError(
                path,
                f"ROIs {missing} are not in the atlas (available: {result.labels})",
            )
        keep = [lab in set(labels) for lab in result.labels]
        if isinstance(result, SphereAtlas):
            result = SphereAtlas(result.table[keep].reset_index(drop=True))
        else:
            result = ImageAtlas(
                result.image, result.lookup[keep].reset_index(drop=True)
            )
    return result
