"""Regions of interest on a BOLD grid, with voxel-coverage QC.

An atlas is either a table of ROIs in MNI coordinates (spheres: centre and
radius; or a hand-traced mask listed as the centres of its 1 mm voxels) or a
label image with a lookup table. :meth:`label_image` maps it onto a BOLD grid
and reports, per ROI, how many voxels it should have, how many fall inside the
image and the brain mask, and a status:

* ``ok``;
* ``low_coverage``: fewer than ``min_coverage`` of its voxels in the brain;
* ``empty``: fewer than ``min_voxels`` brain voxels; the ROI is left out of
  that run (its edges are absent, never NaN) and ``reason`` says why
  (``outside the field of view`` when the image does not reach it).

Spheres contain every voxel whose centre lies within the radius plus the voxel
containing the centre (as nilearn's sphere maskers do), so a small sphere on a
coarse grid is never empty by construction; overlapping spheres give shared
voxels to the nearest centre. A traced ROI contains every voxel of the grid
that it fills by at least ``min_fraction`` (its partial volume, counted on
27 points per 1 mm voxel), and keeps those voxels when it overlaps a sphere.

The bundled circuit's PAG is chosen by name (:data:`PAG_DEFINITIONS`):
``traced`` (default), the hand trace of Fenske et al. (2020) in
``atlases/pag_fenske2020_trace.tsv``; ``chain``, small spheres along the
aqueduct; ``sphere<r>``, an ``r`` mm sphere on the circuit's PAG centre.
"""

import re
from dataclasses import dataclass, field
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
PAG_DEFINITIONS = "traced | chain | sphere<radius mm> (e.g. sphere4)"
PAG_DEFINITION = re.compile(r"^(traced|chain|sphere(\d+(\.\d+)?))$")
PAG_TRACE = "pag_fenske2020_trace.tsv"
QC_COLUMNS = [
    "roi",
    "n_expected",
    "n_in_image",
    "n_in_brain",
    "coverage",
    "status",
    "reason",
]
# sub-samples per axis of a traced 1 mm voxel when measuring partial volume
_TRACE_SUBSAMPLES = 3


def _voxel_centres(shape, affine):
    ijk = np.indices(shape, dtype=np.float32).reshape(3, -1).T
    return ijk @ affine[:3, :3].T.astype(np.float32) + affine[:3, 3].astype(np.float32)


def _outside(centres, shape, affine):
    """Whether each centre (mm) lies outside the grid's field of view."""
    ijk = nib.affines.apply_affine(np.linalg.inv(affine), np.atleast_2d(centres))
    return ~np.all((ijk > -0.5) & (ijk < np.asarray(shape) - 0.5), axis=1)


def _coverage_qc(rows, min_voxels, min_coverage, outside):
    """Coverage QC; ``outside`` flags ROIs whose centre the image does not hold."""
    qc = pd.DataFrame(rows, columns=QC_COLUMNS[:4])
    with np.errstate(divide="ignore", invalid="ignore"):
        qc["coverage"] = np.where(
            qc["n_expected"] > 0, qc["n_in_brain"] / qc["n_expected"], 0.0
        )
    empty = qc["n_in_brain"] < min_voxels
    qc["status"] = np.select(
        [empty, qc["coverage"] < min_coverage], ["empty", "low_coverage"], "ok"
    )
    cut = qc["n_in_image"] < np.minimum(qc["n_expected"], min_voxels)
    qc["reason"] = np.select(
        [
            empty & (np.asarray(outside) | cut),
            empty & (qc["n_expected"] < min_voxels),
            empty,
            qc["status"] == "low_coverage",
        ],
        [
            "outside the field of view",
            "smaller than the minimum on this grid",
            "outside the brain mask",
            "partly outside the brain mask",
        ],
        "",
    )
    return qc[QC_COLUMNS]


def trace_fraction(points, shape, affine):
    """Fraction of each grid voxel filled by a mask traced on 1 mm voxels.

    Parameters
    ----------
    points : ndarray, shape (n, 3)
        Centres (MNI mm) of the traced 1 mm voxels.
    shape : tuple of int
        Spatial shape of the grid.
    affine : ndarray, shape (4, 4)
        Voxel-to-mm affine of the grid.

    Returns
    -------
    fraction : ndarray of float, shape ``shape``
        Traced volume inside each voxel over the voxel's volume, counted on
        27 points per traced 1 mm voxel (so the total volume is exact; on a
        grid that is not a multiple of 1/3 mm a voxel can read slightly
        above 1).
    expected : ndarray of float
        The fractions of every voxel the trace touches on an unbounded copy
        of the grid (to count voxels the field of view cuts off).
    """
    step = 1.0 / _TRACE_SUBSAMPLES
    offsets = (np.arange(_TRACE_SUBSAMPLES) + 0.5) * step - 0.5
    grid = np.stack(np.meshgrid(offsets, offsets, offsets, indexing="ij"), -1)
    samples = (points[:, None, :] + grid.reshape(-1, 3)).reshape(-1, 3)
    # half-up rounding: a sample on a voxel boundary goes to one side only
    ijk = np.floor(
        nib.affines.apply_affine(np.linalg.inv(affine), samples) + 0.5 + 1e-9
    )
    touched, counts = np.unique(ijk.astype(int), axis=0, return_counts=True)
    voxel_mm3 = abs(np.linalg.det(affine[:3, :3]))
    filled = counts / _TRACE_SUBSAMPLES**3 / voxel_mm3
    fraction = np.zeros(shape)
    inside = np.all((touched >= 0) & (touched < shape), axis=1)
    fraction[tuple(touched[inside].T)] = filled[inside]
    return fraction, filled


@dataclass
class SphereAtlas:
    """ROIs in MNI coordinates: spheres from a table, or traced masks.

    Rows sharing a label form one ROI: the union of their spheres (e.g. a
    chain of small spheres along the aqueduct for the PAG). A label in
    ``traces`` is the traced mask instead; its table row gives its centre
    (the mean of the traced voxels) and a missing radius.

    Parameters
    ----------
    table : pandas.DataFrame
        ``label, x, y, z, radius_mm`` (MNI mm), one row per sphere.
    traces : dict of str to ndarray, shape (n, 3)
        Traced ROIs: the centres (MNI mm) of their 1 mm voxels.
    """

    table: pd.DataFrame
    traces: dict = field(default_factory=dict)

    @property
    def labels(self):
        """ROI names, in order of first appearance."""
        return list(dict.fromkeys(self.table["label"]))

    def select(self, labels):
        """Return the atlas restricted to these ROIs (in the atlas's order)."""
        keep = self.table["label"].isin(labels)
        return SphereAtlas(
            self.table[keep].reset_index(drop=True),
            {k: v for k, v in self.traces.items() if k in labels},
        )

    def centres(self):
        """ROI centres (MNI mm): the mean centre of each label's spheres."""
        means = self.table.groupby("label", sort=False)[["x", "y", "z"]].mean()
        return {label: means.loc[label].to_numpy(float) for label in self.labels}

    def label_image(
        self,
        shape,
        affine,
        mask,
        *,
        min_voxels=1,
        min_coverage=0.5,
        min_fraction=0.5,
    ):
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
        min_fraction : float
            A traced ROI keeps the voxels it fills by at least this fraction.

        Returns
        -------
        labels : ndarray of int, shape ``shape``
        qc : pandas.DataFrame
            One row per ROI: ``roi``, ``n_expected`` (its voxels on an
            unbounded copy of the grid), ``n_in_image``, ``n_in_brain``,
            ``coverage``, ``status``, ``reason``.
        """
        names = self.labels
        xyz = _voxel_centres(shape, affine)
        inverse = np.linalg.inv(affine)
        distance = np.full(xyz.shape[0], np.inf, dtype=np.float32)
        owner = np.full(xyz.shape[0], -1)
        in_image = np.zeros(len(names), dtype=int)
        expected = np.zeros(len(names), dtype=int)
        flat_mask = np.asarray(mask, bool).ravel()
        for k, name in enumerate(names):
            if name in self.traces:
                fraction, touched = trace_fraction(self.traces[name], shape, affine)
                member = fraction.ravel() >= min_fraction
                owner[member], distance[member] = k, -1.0  # a trace keeps its voxels
                in_image[k] = member.sum()
                expected[k] = int((touched >= min_fraction).sum())
                continue
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
            expected[k] = _expected_voxels(
                affine, self.table[self.table["label"] == name]
            )
        owner[~flat_mask] = -1
        labels = (owner + 1).reshape(shape)
        # brain voxels counted after overlaps went to the nearest centre
        counts = np.bincount(labels.ravel(), minlength=len(names) + 1)[1:]
        rows = [
            [name, int(expected[k]), int(in_image[k]), int(counts[k])]
            for k, name in enumerate(names)
        ]
        centres = np.array([self.centres()[name] for name in names])
        outside = _outside(centres, shape, affine)
        return labels, _coverage_qc(rows, min_voxels, min_coverage, outside)


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

    def label_image(
        self, shape, affine, mask, *, min_voxels=1, min_coverage=0.5, min_fraction=0.5
    ):
        """Resample the labels to the grid (nearest neighbour) and report coverage.

        See :meth:`SphereAtlas.label_image`; ``n_expected`` is the label's
        volume in the atlas divided by the grid's voxel volume, and
        ``min_fraction`` is not used (nearest-neighbour labels).
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
        centres = self.centres()
        outside = [
            name in centres and _outside(centres[name], shape, affine)[0]
            for name in self.labels
        ]
        return labels, _coverage_qc(rows, min_voxels, min_coverage, outside)


def read_pag_trace():
    """Return the hand-traced PAG of Fenske et al. (2020), bundled in ``atlases/``.

    Returns
    -------
    points : ndarray, shape (352, 3)
        MNI coordinates (mm) of the centres of its 1 mm voxels. Provenance,
        template and licence are in ``atlases/pag_fenske2020_trace.json``.
    """
    table = read_table(atlas_path(PAG_TRACE), ["x", "y", "z"])
    return table[["x", "y", "z"]].to_numpy(float)


def with_pag(atlas, definition):
    """Replace the PAG of a coordinate atlas by another definition.

    Parameters
    ----------
    atlas : SphereAtlas
        An atlas with a ``PAG`` row (its centre anchors ``sphere<r>``).
    definition : str
        ``traced``, ``chain`` or ``sphere<r>`` (see :data:`PAG_DEFINITIONS`).

    Returns
    -------
    atlas : SphereAtlas
        A copy whose PAG follows ``definition``, in the same label order.
    """
    match = PAG_DEFINITION.match(str(definition))
    if match is None:
        raise ValueError(
            f"unknown PAG definition {definition!r}; expected {PAG_DEFINITIONS}"
        )
    if "PAG" not in atlas.labels:
        raise ValueError(f"the atlas has no PAG to redefine (ROIs: {atlas.labels})")
    rows = atlas.table[atlas.table["label"] == "PAG"]
    centre = rows[["x", "y", "z"]].mean().to_numpy(float)
    traces = {k: v for k, v in atlas.traces.items() if k != "PAG"}
    if match.group(1) == "traced":
        traces["PAG"] = read_pag_trace()
        pag = rows.iloc[:1].assign(radius_mm=np.nan)
        pag[["x", "y", "z"]] = traces["PAG"].mean(axis=0)
    elif match.group(1) == "chain":
        chain = read_table(
            atlas_path("pag_aqueduct_chain.tsv"), SPHERE_COLUMNS + ["source"]
        )
        pag = chain[chain["label"] == "PAG"]
    else:
        pag = rows.iloc[:1].assign(radius_mm=float(match.group(2)))
        pag[["x", "y", "z"]] = centre
    # keep the PAG where it was in the label order
    position = atlas.labels.index("PAG")
    parts = [atlas.table[atlas.table["label"] == name] for name in atlas.labels]
    parts[position] = pag
    table = pd.concat(parts, ignore_index=True)
    return SphereAtlas(table, traces)


def read_atlas(atlas="pain_modulation", labels=None, *, pag="traced"):
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
    pag : str
        PAG definition of a bundled atlas (:data:`PAG_DEFINITIONS`); the
        default is the hand trace of Fenske et al. (2020). ``"pag_chain"``
        is the circuit with ``pag="chain"``.

    Returns
    -------
    atlas : SphereAtlas | ImageAtlas
    """
    if str(atlas) in BUNDLED:
        path = atlas_path("pain_modulation_rois.tsv")
        table = read_table(path, SPHERE_COLUMNS + ["set", "source"])
        if str(atlas) != "pain_modulation_extended":
            table = table[table["set"] == "core"]
        result = SphereAtlas(table.reset_index(drop=True))
        result = with_pag(result, "chain" if str(atlas) == "pag_chain" else pag)
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
            result = result.select(labels)
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


def remove_csf(labels, qc, csf, max_probability, min_voxels):
    """Drop ROI voxels that are probably CSF, and re-check every ROI's size.

    Parameters
    ----------
    labels : ndarray of int
        ROI labels on the BOLD grid (``k + 1`` for ROI ``k``).
    qc : pandas.DataFrame
        Coverage QC from ``label_image`` (one row per ROI, in label order).
    csf : ndarray of float | None
        CSF probability on the same grid; ``None`` when the run has no map.
    max_probability : float | None
        Voxels above it are removed; ``None`` keeps them.
    min_voxels : int
        A ROI left with fewer voxels becomes ``empty``.

    Returns
    -------
    labels : ndarray of int
        Labels without the removed voxels.
    qc : pandas.DataFrame
        With ``n_csf_removed``, ``csf_fraction_removed`` (NaN without a map or
        threshold) and ``n_voxels`` (voxels left).
    """
    labels = labels.copy()
    qc = qc.copy()
    removed = np.zeros(len(qc), dtype=int)
    if csf is not None and max_probability is not None:
        fluid = (csf > max_probability) & (labels > 0)
        removed = np.bincount(labels[fluid], minlength=len(qc) + 1)[1:]
        labels[fluid] = 0
    qc["n_csf_removed"] = removed
    measured = csf is not None and max_probability is not None
    with np.errstate(divide="ignore", invalid="ignore"):
        fraction = np.where(qc["n_in_brain"] > 0, removed / qc["n_in_brain"], 0.0)
    qc["csf_fraction_removed"] = np.round(fraction, 4) if measured else np.nan
    qc["n_voxels"] = qc["n_in_brain"] - removed
    emptied = (qc["status"] != "empty") & (qc["n_voxels"] < min_voxels)
    qc.loc[emptied, "status"] = "empty"
    qc.loc[emptied, "reason"] = [
        f"{row.n_voxels} voxels left after removing {row.n_csf_removed} CSF "
        f"voxels (needs {min_voxels})"
        for row in qc[emptied].itertuples()
    ]
    return labels, qc
