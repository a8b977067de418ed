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
# bundled atlases: the core PAG-ACC-PFC circuit, plus companions, or with the
# PAG drawn as a chain of small spheres along the aqueduct
BUNDLED = ("pain_modulation", "pain_modulation_extended", "pag_chain")
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
    """Spherical ROIs from a table (``label, x, y, z, radius_mm`` in MNI mm).

    Rows sharing a label form one ROI: the union of their spheres (e.g. a
    chain of small spheres along the aqueduct for the PAG).
    """

    table: pd.DataFrame

    @property
    def labels(self):
        """ROI names, in order of first appearance."""
        return list(dict.fromkeys(self.table["label"]))

    def centres(self):
        """ROI centres (MNI mm): the mean centre of each label's spheres."""
        means = self.table.groupby("label", sort=False)[["x", "y", "z"]].mean()
        return {label: means.loc[label].to_numpy(float) for label in self.labels}

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
            One row per ROI: ``roi``, ``n_expected`` (voxels of its spheres on
            an unbounded grid), ``n_in_image``, ``n_in_brain``, ``coverage``,
            ``status``.
        """
        names = self.labels
        xyz = _voxel_centres(shape, affine)
        inverse = np.linalg.inv(affine)
        distance = np.full(xyz.shape[0], np.inf, dtype=np.float32)
        owner = np.full(xyz.shape[0], -1)
        in_image = np.zeros(len(names), dtype=int)
        flat_mask = np.asarray(mask, bool).ravel()
        for k, name in enumerate(names):
            member = np.zeros(xyz.shape[0], dtype=bool)
            nearest = np.full(xyz.shape[0], np.inf, dtype=np.float32)
            for row in self.table[self.table["label"] == name].itertuples():
                centre = np.array([row.x, row.y, row.z], dtype=float)
                d = np.linalg.norm(xyz - centre.astype(np.float32), axis=1)
                member |= d <= row.radius_mm
                home = np.round(inverse @ np.r_[centre, 1.0])[:3].astype(int)
                if np.all(home >= 0) and np.all(home < shape):
                    member[np.ravel_multi_index(home, shape)] = True
                nearest = np.minimum(nearest, d)
            closer = member & (nearest < distance)
            owner[closer], distance[closer] = k, nearest[closer]
            in_image[k] = member.sum()
        owner[~flat_mask] = -1
        labels = (owner + 1).reshape(shape)
        # brain voxels counted after overlaps went to the nearest centre
        counts = np.bincount(labels.ravel(), minlength=len(names) + 1)[1:]
        rows = [
            [
                name,
                _expected_voxels(affine, self.table[self.table["label"] == name]),
                int(in_image[k]),
                int(counts[k]),
            ]
            for k, name in enumerate(names)
        ]
        return labels, _coverage_qc(rows, min_voxels, min_coverage)


def _expected_voxels(affine, spheres):
    """Count the voxels of a union of spheres on an unbounded copy of the grid."""
    zooms = np.abs(np.diag(affine)[:3])
    centres = spheres[["x", "y", "z"]].to_numpy(float)
    radii = spheres["radius_mm"].to_numpy(float)
    inverse = np.linalg.inv(affine)
    homes = np.round((inverse @ np.c_[centres, np.ones(len(centres))].T)[:3].T)
    reach = np.ceil(radii.max() / zooms) + 1
    low, high = homes.min(axis=0) - reach, homes.max(axis=0) + reach
    ijk = np.stack(
        np.meshgrid(
            *[np.arange(lo, hi + 1) for lo, hi in zip(low, high)], indexing="ij"
        ),
        -1,
    ).reshape(-1, 3)
    points = ijk @ affine[:3, :3].T + affine[:3, 3]
    inside = np.zeros(len(ijk), dtype=bool)
    for centre, radius, home in zip(centres, radii, homes):
        inside |= np.linalg.norm(points - centre, axis=1) <= radius
        inside |= np.all(ijk == home, axis=1)
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

    def centres(self):
        """ROI centres (mm): the centre of mass of each label's voxels."""
        data = np.asarray(self.image.dataobj).astype(int)
        out = {}
        for label, index in zip(self.labels, self.lookup["index"]):
            voxels = np.argwhere(data == index)
            if len(voxels):
                out[label] = nib.affines.apply_affine(
                    self.image.affine, voxels.mean(axis=0)
                )
        return out

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
    atlas : "pain_modulation" | "pain_modulation_extended" | "pag_chain" | path-like
        A bundled atlas (the core PAG-ACC-PFC circuit; the circuit plus RVM,
        insula, thalamus and NAc; the circuit with the PAG as a chain of small
        spheres along the aqueduct), a TSV of spheres (``label, x, y, z,
        radius_mm``; rows sharing a label form one ROI), or a label NIfTI with
        a lookup TSV next to it (same name, ``.tsv``; columns ``index, label``).
    labels : sequence of str | None
        Keep only these ROIs.

    Returns
    -------
    atlas : SphereAtlas | ImageAtlas
    """
    if str(atlas) in BUNDLED:
        path = atlas_path("pain_modulation_rois.tsv")
        table = read_table(path, SPHERE_COLUMNS + ["set", "source"])
        if str(atlas) != "pain_modulation_extended":
            table = table[table["set"] == "core"]
        if str(atlas) == "pag_chain":
            chain = read_table(
                atlas_path("pag_aqueduct_chain.tsv"), SPHERE_COLUMNS + ["source"]
            )
            table = pd.concat([chain, table[table["label"] != "PAG"]])
        result = SphereAtlas(table.reset_index(drop=True))
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
        if isinstance(result, SphereAtlas):
            keep = result.table["label"].isin(labels)
            result = SphereAtlas(result.table[keep].reset_index(drop=True))
        else:
            keep = result.lookup["label"].isin(labels)
            result = ImageAtlas(
                result.image, result.lookup[keep].reset_index(drop=True)
            )
    return result


def make_label_image(atlas, reference, mask=None, **kwargs):
    """Write an atlas as a label image on the grid of a reference image.

    Parameters
    ----------
    atlas : SphereAtlas | ImageAtlas
        ROIs.
    reference : nibabel.Nifti1Image
        Image whose grid (shape, affine) the labels follow.
    mask : ndarray of bool | None
        Brain mask on that grid (default: the whole field of view).
    **kwargs
        ``min_voxels`` and ``min_coverage`` for the QC.

    Returns
    -------
    image : nibabel.Nifti1Image
        Integer labels (0 background, ``k + 1`` for ROI ``k``).
    lookup : pandas.DataFrame
        ``index`` and ``label`` (the format :func:`read_atlas` reads back).
    qc : pandas.DataFrame
        Coverage per ROI.
    """
    shape = reference.shape[:3]
    mask = np.ones(shape, dtype=bool) if mask is None else mask
    labels, qc = atlas.label_image(shape, reference.affine, mask, **kwargs)
    image = nib.Nifti1Image(labels.astype(np.int16), reference.affine)
    lookup = pd.DataFrame(
        {"index": np.arange(1, len(atlas.labels) + 1), "label": atlas.labels}
    )
    return image, lookup, qc
