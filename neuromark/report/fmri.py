"""Figures of fMRI PAG-ACC-PFC connectivity for the report (nilearn, offline)."""

import numpy as np
import pandas as pd

from ..features import edge_rois
from ..fmri.features import USABLE


def _matrices_by_arm(values, participants, column):
    """Mean edge value per intervention as symmetric ROI x ROI frames.

    ``values`` has ``participant_id``, ``location`` (``A~B``) and ``column``.
    """
    arms = participants.set_index("participant_id")["intervention"]
    values = values.assign(intervention=values["participant_id"].map(arms).to_numpy())
    rois = sorted({r for edge in values["location"] for r in edge_rois(edge)})
    matrices = {}
    for arm, group in values.groupby("intervention"):
        matrix = pd.DataFrame(0.0, index=rois, columns=rois)
        for edge, value in group.groupby("location")[column].mean().items():
            a, b = edge_rois(edge)
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
    """Mean connectivity of one session per intervention as square matrices.

    Parameters
    ----------
    long : pandas.DataFrame
        Long feature table.
    participants : pandas.DataFrame
        ``participant_id`` and ``intervention``.
    session : str
        Session label.
    feature : str
        Connectivity feature (``fc``, ``fc_partial``).
    """
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
    # one colour scale shared by every panel
    scale = plt.cm.ScalarMappable(
        norm=plt.Normalize(-limit, limit), cmap=plt.get_cmap("RdBu_r")
    )
    figure.colorbar(scale, ax=axes, shrink=0.6, label="mean Fisher z")
    return figure


def plot_change_matrices(matrices):
    """Heat maps of mean connectivity change, one panel per intervention.

    Parameters
    ----------
    matrices : dict of str to pandas.DataFrame
        Intervention -> ROI x ROI matrix (:func:`change_matrices`).
    """
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


def plot_pag_sensitivity(table):
    """Agreement with the main PAG, and treatment effects, per PAG definition.

    Parameters
    ----------
    table : pandas.DataFrame
        ``stats_pag_sensitivity`` (see
        :func:`neuromark.stats.sensitivity.pag_definition_sensitivity`).

    Returns
    -------
    figure : matplotlib.figure.Figure
        Left: Pearson r of each PAG edge with the main definition's values
        (participant-sessions). Right: the treatment effect against control
        (Fisher z, 95 % CI) of each edge and arm under every definition.
    """
    import matplotlib.pyplot as plt

    definitions = list(dict.fromkeys(table["definition"]))
    edges = sorted(table["location"].unique())
    agreement = (
        table.drop_duplicates(["location", "definition"])
        .pivot(index="location", columns="definition", values="agreement_r")
        .reindex(index=edges, columns=definitions)
    )
    effects = table.dropna(subset=["estimate"])
    rows = list(
        effects[["location", "intervention"]]
        .drop_duplicates()
        .itertuples(index=False, name=None)
    )
    figure, axes = plt.subplots(
        1,
        2 if rows else 1,
        figsize=(10 if rows else 4, max(3.0, 0.3 * len(rows) + 1.5)),
        layout="constrained",
        width_ratios=(1, 2) if rows else None,
        squeeze=False,
    )
    axes = axes[0]
    image = axes[0].imshow(agreement.to_numpy(float), cmap="viridis", vmin=0, vmax=1)
    axes[0].set_xticks(range(len(definitions)), definitions, rotation=45, fontsize=7)
    axes[0].set_yticks(range(len(edges)), edges, fontsize=7)
    axes[0].set_title("Agreement with the main PAG (r)", fontsize=9)
    figure.colorbar(image, ax=axes[0], shrink=0.8, label="Pearson r")
    if not rows:  # no control arm: no treatment effects to compare
        return figure
    offsets = np.linspace(-0.3, 0.3, len(definitions))
    for offset, definition in zip(offsets, definitions):
        mine = effects[effects["definition"] == definition].set_index(
            ["location", "intervention"]
        )
        keys = [key for key in rows if key in mine.index]
        found = mine.loc[keys]
        axes[1].errorbar(
            found["estimate"],
            [rows.index(key) + offset for key in keys],
            xerr=[
                found["estimate"] - found["ci_low"],
                found["ci_high"] - found["estimate"],
            ],
            fmt="o",
            markersize=3,
            capsize=2,
            label=definition,
        )
    axes[1].axvline(0, color="grey", linewidth=0.8)
    axes[1].set_yticks(range(len(rows)), [f"{e} ({a})" for e, a in rows], fontsize=7)
    axes[1].invert_yaxis()
    axes[1].set_xlabel("treatment effect vs control (Fisher z, 95 % CI)")
    axes[1].legend(fontsize=7, title="PAG definition", title_fontsize=7)
    return figure


def pag_sensitivity_section(table):
    """Report section on the PAG-definition sensitivity (table and figure).

    Parameters
    ----------
    table : pandas.DataFrame
        ``stats_pag_sensitivity``.
    """
    from .html import figure_html, table_html

    main = table.loc[table["main"], "definition"].iloc[0]
    held = table.loc[~table["main"], "same_conclusion"].dropna()
    summary = (
        f"<p>Every PAG edge was measured under the main definition "
        f"(<b>{main}</b>) and {table['definition'].nunique() - 1} alternative(s) "
        "(fmri.rois.pag_alternatives; Fenske et al. 2020 showed that the PAG "
        "seed changes its connectivity). agreement_r and agreement_icc compare "
        "each definition's values with the main one's over participant-sessions; "
        "estimate/p is the treatment effect against control under that "
        "definition; same_conclusion says whether its sign and significance "
        "(p < 0.05, one edge at a time) match the main definition's; "
        "baseline_auc is the edge's univariate prognostic signal for "
        "responders. "
    )
    if len(held):
        summary += (
            f"The conclusion held in {int(held.sum())} of {len(held)} comparisons.</p>"
        )
    else:
        summary += "No treatment effect could be compared (no control arm?).</p>"
    shown = table.round(3)
    return (
        summary
        + figure_html(
            plot_pag_sensitivity(table),
            "PAG-definition sensitivity: agreement with the main PAG (left) and "
            "treatment effects under each definition (right).",
        )
        + table_html(shown)
    )


def plot_roi_placement(atlas):
    """ROI centres on the bundled MNI glass brain (spheres atlases only).

    Parameters
    ----------
    atlas : SphereAtlas
        The ROIs.
    """
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
        .groupby(["roi", "definition"], sort=False)
        .agg(
            runs=("status", "size"),
            min_voxels=("n_voxels", "min"),
            mean_csf_removed=("csf_fraction_removed", "mean"),
            mean_coverage=("coverage", "mean"),
            mean_tsnr=("tsnr", "mean"),
            runs_excluded=("status", lambda s: int((~s.isin(USABLE)).sum())),
        )
        .reset_index()
        .round(3)
    )
    no_csf = (tables["fmri_qc"].get("csf_map", pd.Series(dtype=str)) == "").sum()
    coverage_note = (
        "<p class='note'>The PAG (definition column) is the hand trace of "
        "Fenske et al. 2020 unless configured otherwise; voxels above the CSF "
        "probability threshold are removed per run (mean_csf_removed) and a ROI "
        "with fewer usable voxels than fmri.rois.min_voxels is left out with "
        "its reason in fmri_roi_qc.tsv."
        + (
            f" {int(no_csf)} run(s) had no CSF probability map: their ROIs "
            "keep CSF voxels."
            if no_csf
            else ""
        )
        + "</p>"
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
    sections = [
        ("fMRI quality control", table_html(run_qc) + qcfc),
        ("ROI coverage", coverage_note + table_html(coverage)),
        ("PAG-ACC-PFC connectivity", figures),
    ]
    if "stats_pag_sensitivity" in tables:
        sections.append(
            (
                "PAG-definition sensitivity",
                pag_sensitivity_section(tables["stats_pag_sensitivity"]),
            )
        )
    return sections
