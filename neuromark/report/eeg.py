"""Figures of EEG neuromarkers for the report (matplotlib, MNE topomaps)."""

import numpy as np
import pandas as pd

from .recording import montage_info


def _arms(participants, ids):
    return participants.set_index("participant_id")["intervention"].reindex(ids)


def plot_region_psd(spectra, participants, *, sessions=("pre", "post")):
    """Mean regional spectra before and after treatment, per intervention.

    Parameters
    ----------
    spectra : pandas.DataFrame
        ``participant_id``, ``session``, ``location``, ``freq``, ``psd``
        (``eeg_spectra.tsv``).
    participants : pandas.DataFrame
        ``participant_id`` and ``intervention``.
    sessions : (str, str)
        Pre and post labels.

    Returns
    -------
    figure : matplotlib.figure.Figure
        One panel per region; per intervention, the mean PSD before (dashed)
        and after (solid) treatment on a log scale.
    """
    import matplotlib.pyplot as plt

    spectra = spectra[spectra["freq"] >= 1.0]  # below the high-pass edge: no data
    spectra = spectra.assign(
        intervention=_arms(participants, spectra["participant_id"]).to_numpy()
    )
    regions = list(dict.fromkeys(spectra["location"]))
    n_cols = min(4, len(regions))
    n_rows = int(np.ceil(len(regions) / n_cols))
    figure, axes = plt.subplots(
        n_rows,
        n_cols,
        figsize=(3.2 * n_cols, 2.6 * n_rows),
        sharex=True,
        sharey=True,
        squeeze=False,
    )
    colours = dict(
        zip(
            sorted(spectra["intervention"].dropna().unique()),
            plt.get_cmap("tab10").colors,
        )
    )
    mean = spectra.groupby(["location", "intervention", "session", "freq"])[
        "psd"
    ].mean()
    for ax, region in zip(axes.flat, regions):
        for arm, colour in colours.items():
            for session, style in zip(sessions, ("--", "-")):
                if (region, arm, session) in mean.index.droplevel("freq"):
                    curve = mean.loc[(region, arm, session)]
                    ax.semilogy(
                        curve.index,
                        curve.to_numpy(),
                        style,
                        color=colour,
                        lw=1.2,
                        label=f"{arm} {session}",
                    )
        ax.set_title(region.replace("_", " "), fontsize=9)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(regions) :]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("Frequency (Hz)")
    for ax in axes[:, 0]:
        ax.set_ylabel("PSD (µV²/Hz)")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    figure.legend(
        handles,
        labels,
        loc="lower center",
        ncol=min(6, len(labels)),
        fontsize=8,
        frameon=False,
        bbox_to_anchor=(0.5, -0.06),
    )
    figure.tight_layout()
    return figure


def band_change(long, band, *, sessions=("pre", "post")):
    """Per-participant change of log10 band power (post - pre) per channel.

    Parameters
    ----------
    long : pandas.DataFrame
        Long feature table.
    band : str
        Band name (``<band>_logpower`` rows are used).
    sessions : (str, str)
        Pre and post labels.

    Returns
    -------
    change : pandas.DataFrame
        Participants x channels; ``log10(P_post / P_pre)``.
    """
    rows = long[(long["modality"] == "eeg") & (long["feature"] == f"{band}_logpower")]
    table = rows.pivot_table(
        index=["participant_id", "location"], columns="session", values="value"
    )
    change = (table[sessions[1]] - table[sessions[0]]).unstack("location")
    return change


def plot_change_topomaps(
    long,
    participants,
    *,
    bands=("alpha", "beta"),
    sessions=("pre", "post"),
    montage="colin27_1020",
):
    """Topomaps of the mean change of band power per intervention.

    Parameters
    ----------
    long : pandas.DataFrame
        Long feature table (channel rows of ``<band>_logpower``).
    participants : pandas.DataFrame
        ``participant_id`` and ``intervention``.
    bands : sequence of str
        Bands to map (columns).
    sessions : (str, str)
        Pre and post labels.
    montage : str
        MNE built-in montage placing the channels (the run's
        ``eeg.preprocessing.montage``).

    Returns
    -------
    figure : matplotlib.figure.Figure
        Rows: interventions; columns: bands. Colour: mean ``log10(post / pre)``.
    """
    import matplotlib.pyplot as plt
    import mne

    changes = {band: band_change(long, band, sessions=sessions) for band in bands}
    info = montage_info(list(next(iter(changes.values())).columns), montage)
    channels = info.ch_names
    arms = sorted(participants["intervention"].unique())
    figure, axes = plt.subplots(
        len(arms),
        len(bands),
        figsize=(3.2 * len(bands), 2.4 * len(arms)),
        squeeze=False,
        layout="constrained",
    )
    for column, band in enumerate(bands):
        change = changes[band][channels]
        by_arm = change.groupby(_arms(participants, change.index).to_numpy()).mean()
        limit = float(np.nanmax(np.abs(by_arm.to_numpy()))) or 1.0
        for row, arm in enumerate(arms):
            ax = axes[row, column]
            values = (
                by_arm.loc[arm].to_numpy()
                if arm in by_arm.index
                else np.zeros(len(channels))
            )
            image, _ = mne.viz.plot_topomap(
                values, info, axes=ax, show=False, cmap="RdBu_r", vlim=(-limit, limit)
            )
            ax.set_title(f"{arm}: {band}", fontsize=9)
        figure.colorbar(
            image, ax=axes[:, column].tolist(), shrink=0.6, label="log10 post/pre"
        )
    return figure


def eeg_sections(
    tables, participants, *, sessions=("pre", "post"), montage="colin27_1020"
):
    """Report sections for the EEG step: QC table, spectra and change maps.

    Parameters
    ----------
    tables : dict of str to pandas.DataFrame
        ``features_long``, ``eeg_qc`` and ``eeg_spectra`` from the EEG step.
    participants : pandas.DataFrame
        Participants with ``intervention``.
    sessions : (str, str)
        Pre and post labels.
    montage : str
        MNE built-in montage of the topomaps.

    Returns
    -------
    sections : list of (str, str)
        ``(title, html)`` pairs for :func:`neuromark.report.write_report`.
    """
    from .html import figure_html, table_html

    columns = [
        "participant_id",
        "session",
        "bad_channels",
        "notch_missing_reason",
        "ica",
        "ica_removed",
        "muscle_seconds",
        "ptp_threshold_uv",
        "emg_index",
        "n_epochs",
        "n_epochs_rejected",
        "clean_seconds",
        "n_channels_alpha_peak",
        "paf_missing_reason",
        "n_fits_below_r2",
        "median_fit_r2",
        "aperiodic_r2_fixed",
        "aperiodic_r2_knee",
        "n_epochs_connectivity",
        "connectivity_missing_reason",
    ]
    qc = tables["eeg_qc"][[c for c in columns if c in tables["eeg_qc"]]]
    no_peak = int((qc.get("n_channels_alpha_peak", pd.Series(dtype=float)) == 0).sum())
    figures = figure_html(
        plot_region_psd(tables["eeg_spectra"], participants, sessions=sessions),
        "Mean power spectrum per electrode region, before (dashed) and after (solid) "
        "treatment, per intervention.",
    )
    if (tables["features_long"]["session"] == sessions[1]).any():
        figures += figure_html(
            plot_change_topomaps(
                tables["features_long"],
                participants,
                sessions=sessions,
                montage=montage,
            ),
            "Mean change of alpha and beta power, log10(post / pre), per intervention.",
        )
    note = (
        "<p class='note'>ica_removed: independent components ICLabel called an "
        "eye blink or a muscle artefact, removed (label and probability); "
        "muscle_seconds: bursts left after ICA, marked BAD_muscle; "
        "ptp_threshold_uv: the peak-to-peak threshold (autoreject's, or the "
        "fixed one below 16 channels); emg_index: 30-45 Hz over 1-45 Hz power "
        "of the clean epochs (muscle left). "
        "n_channels_alpha_peak: channels whose spectrum has a "
        "FOOOF peak in the PAF range at least eeg.spectral.paf_min_z standard "
        "errors above the aperiodic fit; elsewhere PAF and its centre of gravity "
        f"are missing, not guessed ({no_peak} recording(s) without any). "
        "n_fits_below_r2: spectra whose aperiodic fit fell below "
        "eeg.spectral.min_r_squared (their aperiodic and periodic markers are "
        "missing). aperiodic_r2_fixed/_knee: both aperiodic models on the "
        "recording's mean spectrum (eeg.spectral.aperiodic_mode says which is "
        "used). n_epochs_connectivity: clean epochs connectivity was "
        "estimated from, the same in every recording (eeg.connectivity.n_epochs) "
        "so that sessions that lost epochs are comparable; 0 with the reason "
        "where a recording kept fewer.</p>"
    )
    return [
        ("EEG quality control", note + table_html(pd.DataFrame(qc))),
        ("EEG spectra and band-power change", figures),
    ]
