"""Figures of fMRI PAG-ACC-PFC connectivity for the report (nilearn, offline)."""

import numpy as np
import pandas as pd

from ..fmri.features import USABLE


def _matrices_by_arm(values, participants, column):
    """Mean edge value per intervention as symmetric ROI x ROI frames.

    ``values`` has ``participant_id``, ``location`` (``A~B``) and ``column``.
    """
    arms = participants.set_index("participant_id")["intervention"]
    values = values.assign(intervention=values["participant_id"].map(arms).to_numpy())
    rois = sorted({r for edge in values["location"] for r in edge.split("~")})
    matrices = {}
    for arm, group in values.groupby("intervention"):
        matrix = pd.DataFrame(0.0, index=rois, columns=rois)
        for edge, value in group.groupby("location")[column].mean().items():
            a, b = edge.split("~")
            matrix.loc[a, b] = matrix.loc[b, a] = value
        matrices[arm] = matrix
    return matrices


def change_matrices(long, participants, *, feature="fc", sessions=("pre", "post")):
    """Mean post - pre connectivity per intervention as square matrices.

    Parameters
    ----------
    long : pandas.DataFrame
        Long feature table with fMRI ``feature`` rows (locations ``A~B``).
    participants : pandas.DataFrame
        ``participant_id`` and ``intervention``.
    feature : str
        ``"fc"`` or ``"fc_partial"``.
    sessions : (str, str)
        Pre and post labels.

    Returns
    -------
    matrices : dict of str to pandas.DataFrame
        Intervention to a symmetric ROI x ROI frame of mean change (Fisher z),
        zero diagonal, averaged over participants with both sessions.
    """
    rows = long[(long["modality"] == "fmri") & (long["feature"] == feature)]
    table = rows.pivot_table(
        index=["participant_id", "location"], columns="session", values="value"
    )
    change = (table[sessions[1]] - table[sessions[0]]).dropna().rename("change")
    return _matrices_by_arm(change.reset_index(), participants, "change")


def session_matrices(long, participants, session, *, feature="fc"):
    """Mean connectivity of one session per intervention as square matrices."""
    rows = long[
        (long["modality"] == "fmri")
        & (long["feature"] == feature)
        & (long["session"] == session)
    ]
    return _matrices_by_arm(rows, participants, "value")


def plot_circuit_connectomes(long, participants, atlas, *, sessions=("pre", "post")):
    """Glass-brain connectomes of the mean circuit before and after, per intervention.

    Parameters
    ----------
    long : pandas.DataFrame
        Long feature table (fMRI ``fc`` rows).
    participants : pandas.DataFrame
        ``participant_id`` and ``intervention``.
    atlas : SphereAtlas
        ROIs with centres (node positions).
    sessions : (str, str)
        Pre and post labels.

    Returns
    -------
    figure : matplotlib.figure.Figure
        Rows: interventions; columns: pre, post. Edge colour: mean Fisher z.
    """
    import matplotlib.pyplot as plt
    from nilearn import plotting

    by_session = [session_matrices(long, participants, s) for s in sessions]
    arms = sorted(set(by_session[0]) & set(by_session[1]))
    centres = atlas.table.groupby("label", sort=False)[["x", "y", "z"]].mean()
    limit = (
        max(float(np.abs(m.to_numpy()).max()) for ms in by_session for m in ms.values())
        or 1.0
    )
    figure, axes = plt.subplots(
        len(arms), 2, figsize=(7.0, 2.4 * len(arms)), squeeze=False
    )
    for row, arm in enumerate(arms):
        for column, (session, matrices) in enumerate(zip(sessions, by_session)):
            matrix = matrices[arm]
            plotting.plot_connectome(
                matrix.to_numpy(),
                centres.loc[matrix.index].to_numpy(),
                display_mode="x",
                axes=axes[row, column],
                node_size=25,
                edge_cmap="RdBu_r",
                edge_vmin=-limit,
                edge_vmax=limit,
                colorbar=False,
                title=f"{arm} {session}",
            )
    return figure


def plot_change_matrices(matrices):
    """Heat maps of mean connectivity change, one panel per intervention."""
    import matplotlib.pyplot as plt

    arms = list(matrices)
    figure, axes = plt.subplots(
        1,
        len(arms),
        figsize=(3.6 * len(arms), 3.4),
        squeeze=False,
        layout="constrained",
    )
    limit = max(float(np.abs(m.to_numpy()).max()) for m in matrices.values()) or 1.0
    for ax, arm in zip(axes[0], arms):
        matrix = matrices[arm]
        image = ax.imshow(matrix.to_numpy(), cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_xticks(range(len(matrix)), matrix.columns, rotation=90, fontsize=7)
        ax.set_yticks(range(len(matrix)), matrix.index, fontsize=7)
        ax.set_title(arm, fontsize=9)
    figure.colorbar(
        image, ax=axes[0].tolist(), shrink=0.8, label="Δ Fisher z (post − pre)"
    )
    return figure


def plot_roi_placement(atlas):
    """ROI centres on the bundled MNI glass brain (spheres atlases only)."""
    from nilearn import plotting

    table = atlas.table
    display = plotting.plot_markers(
        np.arange(len(table), dtype=float),
        table[["x", "y", "z"]].to_numpy(float),
        node_size=30,
        node_cmap="tab10",
        display_mode="ortho",
        colorbar=False,
        title="ROIs",
        alpha=0.9,
    )
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    cmap = plt.get_cmap("tab10")
    n = len(table)
    handles = [
        Patch(color=cmap(k / max(n - 1, 1)), label=label)
        for k, label in enumerate(table["label"])
    ]
    figure = display.frame_axes.figure
    figure.legend(
        handles=handles, loc="lower center", ncol=min(n, 7), fontsize=8, frameon=False
    )
    return figure


def fmri_sections(tables, participants, atlas, *, sessions=("pre", "post")):
    """Report sections for the fMRI step: QC, ROI coverage and placement, change maps.

    Parameters
    ----------
    tables : dict of str to pandas.DataFrame
        ``features_long``, ``fmri_qc`` and ``fmri_roi_qc``.
    participants : pandas.DataFrame
        Participants with ``intervention``.
    atlas : SphereAtlas | ImageAtlas
        ROIs used.
    sessions : (str, str)
        Pre and post labels.

    Returns
    -------
    sections : list of (str, str)
    """
    from ..fmri.qcfc import qc_fc_summary
    from ..fmri.rois import SphereAtlas
    from .html import figure_html, table_html

    coverage = (
        tables["fmri_roi_qc"]
        .groupby("roi", sort=False)
        .agg(
            runs=("status", "size"),
            min_voxels=("n_in_brain", "min"),
            mean_coverage=("coverage", "mean"),
            mean_tsnr=("tsnr", "mean"),
            runs_excluded=("status", lambda s: int((~s.isin(USABLE)).sum())),
        )
        .reset_index()
        .round(3)
    )
    run_qc = tables["fmri_qc"][
        ["participant_id", "session", "n_volumes", "n_kept", "mean_fd", "rois_excluded"]
    ].round(3)
    figures = ""
    if isinstance(atlas, SphereAtlas):
        figures += figure_html(
            plot_roi_placement(atlas),
            "ROI centres (MNI152) of the PAG-ACC-PFC circuit.",
        )
    matrices = change_matrices(tables["features_long"], participants, sessions=sessions)
    if matrices:
        figures += figure_html(
            plot_change_matrices(matrices),
            "Mean change of ROI-to-ROI connectivity (Fisher z, "
            "post − pre) per intervention.",
        )
        if isinstance(atlas, SphereAtlas):
            figures += figure_html(
                plot_circuit_connectomes(
                    tables["features_long"], participants, atlas, sessions=sessions
                ),
                "Mean PAG-ACC-PFC connectivity (Fisher z) before and after "
                "treatment, per intervention (sagittal glass brain).",
            )
    qcfc = ""
    physio = tables["fmri_qc"].get("n_physio_regressors")
    if physio is not None and (physio == 0).any():
        qcfc += (
            f"<p class='note'>{int((physio == 0).sum())} of {len(physio)} runs "
            "have no physiological regressors (RETROICOR, RVT...) in their "
            "confounds: their PAG edges are not protected from cardiac and "
            "respiratory noise, which is strongest next to the aqueduct.</p>"
        )
    if "fmri_qcfc" in tables:
        summary = qc_fc_summary(tables["fmri_qcfc"]).round(3)
        qcfc += (
            "<p class='note'>QC-FC (Parkes et al. 2018): per session, the "
            "correlation across participants between each edge's connectivity "
            "and the run's mean framewise displacement. With motion removed, "
            "about 5 % of edges are significant by chance and QC-FC does not "
            "depend on the distance between the ROIs (a negative "
            "distance_dependence means short edges carry motion). Per edge: "
            "fmri_qcfc.tsv.</p>" + table_html(summary)
        )
    return [
        ("fMRI quality control", table_html(run_qc) + qcfc),
        ("ROI coverage", table_html(coverage)),
        ("PAG-ACC-PFC connectivity", figures),
    ]
