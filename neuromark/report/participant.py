"""Per-participant QC page: their recordings' QC, errors, spectra and log."""

import html

from .html import figure_html, table_html, write_page

# tables with one row per recording (or ROI) that describe data quality
QC_TABLES = {
    "eeg_qc": "EEG quality (bad channels, rejected epochs)",
    "fmri_qc": "fMRI quality (motion, censoring, remaining time)",
    "fmri_roi_qc": "fMRI ROI coverage",
}


# one row per recording: shown one field per row, one column per session
RECORDING_TABLES = ("eeg_qc", "fmri_qc")


def _by_field(rows):
    """Turn a recording's QC into one row per field and one column per session."""
    table = rows.drop(columns=["participant_id", "modality"], errors="ignore")
    table = table.set_index("session").T
    return table.rename_axis(index="field", columns=None).reset_index()


def _rows(table, participant_id):
    if table is None or "participant_id" not in table:
        return None
    return table[table["participant_id"] == participant_id]


def write_participant_page(path, participant_id, *, tables, errors, log_lines):
    """Write one participant's QC page.

    Parameters
    ----------
    path : path-like
        ``participants/<id>.html``.
    participant_id : str
        Participant.
    tables : dict of str to pandas.DataFrame
        The run's tables (``eeg_qc``, ``fmri_qc``, ``fmri_roi_qc``,
        ``eeg_spectra``...); missing ones are left out.
    errors : pandas.DataFrame
        Problems of the run (this participant's rows are shown).
    log_lines : list of str
        Log of this participant's units.
    """
    sections = [
        ("Excluded or missing recordings", table_html(_rows(errors, participant_id)))
    ]
    for name, title in QC_TABLES.items():
        rows = _rows(tables.get(name), participant_id)
        if rows is not None:
            per_recording = name in RECORDING_TABLES and len(rows)
            sections.append(
                (title, table_html(_by_field(rows) if per_recording else rows))
            )
    spectra = _rows(tables.get("eeg_spectra"), participant_id)
    if spectra is not None and len(spectra):
        sections.append(("EEG spectra", figure_html(*_spectra_figure(spectra))))
    sections.append(("Log", "<pre>" + html.escape("\n".join(log_lines)) + "</pre>"))
    write_page(path, f"neuromark: {participant_id}", "Quality control", sections)


def _spectra_figure(spectra):
    """Regional PSD of each session (one line per session and region)."""
    import matplotlib.pyplot as plt

    spectra = spectra[spectra["freq"] >= 1.0]
    figure, ax = plt.subplots(figsize=(6, 3.2))
    for (session, region), rows in spectra.groupby(["session", "location"]):
        ax.semilogy(rows["freq"], rows["psd"], label=f"{session} {region}", lw=1)
    ax.set(xlabel="Frequency (Hz)", ylabel="PSD")
    ax.legend(fontsize=6, ncol=2)
    return figure, "Regional power spectra per session (after preprocessing)."
