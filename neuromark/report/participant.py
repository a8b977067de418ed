"""Per-participant QC page: their recordings' QC, errors, spectra and log."""

import html
from functools import partial
from pathlib import Path

from ..fmri.overview import run_overview
from ..fmri.settings import FMRISettings
from ..utils._files import file_sha256
from . import recording
from .figure_cache import FigureCache, figure_key
from .html import figure_html, table_html, write_page

# tables with one row per recording (or ROI) that describe data quality
QC_TABLES = {
    "eeg_qc": "EEG quality (bad channels, rejected epochs)",
    "fmri_qc": "fMRI quality (motion, censoring, remaining time)",
    "fmri_roi_qc": "fMRI ROI coverage",
}


# the tables a page draws from, besides the QC tables
PAGE_TABLES = (
    *QC_TABLES,
    "eeg_spectra",
    "eeg_channel_spectra",
    "eeg_ica_components",
    "features_long",
)


def _by_field(rows):
    """Turn a recording's QC into one row per field and one column per session."""
    table = rows.drop(columns=["participant_id", "modality"], errors="ignore")
    table = table.set_index("session").T
    return table.rename_axis(index="field", columns=None).reset_index()


def _rows(table, participant_id):
    if table is None or "participant_id" not in table:
        return None
    return table[table["participant_id"] == participant_id]


def _figure(draw, caption, *args):
    """Draw a figure as HTML, or say in one line why it could not be drawn.

    Returns the HTML and whether a figure was drawn.
    """
    try:
        figure = draw(*args)
    except Exception as err:  # a page never fails for one figure
        return (
            f"<p class='note'>{html.escape(caption.split(':')[0])} could not be "
            f"drawn: {html.escape(type(err).__name__)}: {html.escape(str(err))}</p>",
            False,
        )
    return ("", True) if figure is None else (figure_html(figure, caption), True)


# the EEG figures of a page: the table each draws from, how (from the
# participant's rows of that table, their eeg_qc rows and the montage), and
# the caption
EEG_FIGURES = (
    (
        "eeg_channel_spectra",
        lambda rows, qc, montage: recording.plot_channel_psd(rows, qc),
        "Spectrum of every channel after preprocessing (mean over clean epochs); "
        "bad channels, interpolated before the spectra, in red.",
    ),
    (
        "eeg_spectra",
        lambda rows, qc, montage: recording.plot_region_spectra(rows),
        "Regional power spectra per session (after preprocessing).",
    ),
    (
        "features_long",
        lambda rows, qc, montage: recording.plot_band_topomaps(
            rows[rows["modality"] == "eeg"], montage
        ),
        "Alpha and beta band power over the scalp per session (log10 µV²; one "
        "colour scale per band).",
    ),
    (
        "eeg_ica_components",
        lambda rows, qc, montage: recording.plot_removed_components(rows, montage),
        "Scalp maps of the ICA components removed (ICLabel class and probability).",
    ),
)


def _eeg_sections(tables, participant_id, montage, cache):
    qc = _rows(tables.get("eeg_qc"), participant_id)
    if qc is None or qc.empty:
        return []
    html_parts = [table_html(_by_field(qc))]
    for name, draw, caption in EEG_FIGURES:
        rows = _rows(tables.get(name), participant_id)
        if rows is not None and len(rows):
            key = figure_key(name, caption, rows, qc, montage)
            html_parts.append(
                cache.html(key, partial(_figure, draw, caption, rows, qc, montage))
            )
        elif name == "eeg_ica_components" and rows is not None:
            html_parts.append("<p class='note'>No ICA component was removed.</p>")
    return [(QC_TABLES["eeg_qc"], "".join(html_parts))]


# the fMRI figures of a run: heading, drawing (from the run's overview and a
# title) and caption
FMRI_FIGURES = (
    (
        "motion and carpet plot",
        recording.plot_motion_carpet,
        "Framewise displacement and standardised DVARS with the censoring "
        "thresholds (dashed) and censored volumes (red); below, the carpet plot "
        "of brain voxels spread evenly over the mask.",
    ),
    (
        "regions",
        recording.plot_roi_overlay,
        "The regions as used for the markers (CSF voxels removed) on the run's "
        "mean image, and a 30-mm zoom on the PAG.",
    ),
)


def _run_files(run):
    """SHA-256 of a run's files: what its figures are drawn from."""
    files = [run.path, *run.companions.values()]
    return [file_sha256(f) for f in files if Path(f).is_file()]


class _LoadedRun:
    """A run's overview, loaded on first use (both its figures share it)."""

    def __init__(self, run, settings, space):
        self.run, self.settings, self.space = run, settings, space
        self.title = f"{run.session} ({run.path.name})"
        self._overview = None

    def draw(self, draw, caption):
        """Draw one figure of the run: ``(html, drawn)`` as :func:`_figure`."""
        try:
            if self._overview is None:
                self._overview = run_overview(self.run, self.settings, self.space)
        except Exception as err:  # a page never fails for one run
            return (
                f"<p class='note'>Could not load {html.escape(self.title)}: "
                f"{html.escape(str(err))}</p>",
                False,
            )
        return _figure(draw, caption, self._overview, self.title)


def _fmri_sections(tables, participant_id, runs, settings, space, cache):
    sections = []
    qc = _rows(tables.get("fmri_qc"), participant_id)
    if qc is not None and len(qc):
        sections.append((QC_TABLES["fmri_qc"], table_html(_by_field(qc))))
    for run in runs:
        loaded = _LoadedRun(run, settings, space)
        inputs = (_run_files(run), settings.model_dump(mode="json"), space)
        for heading, draw, caption in FMRI_FIGURES:
            key = figure_key(heading, caption, loaded.title, inputs)
            fragment = cache.html(key, partial(loaded.draw, draw, caption))
            sections.append((f"fMRI {run.session}: {heading}", fragment))
    roi_qc = _rows(tables.get("fmri_roi_qc"), participant_id)
    if roi_qc is not None:
        sections.append((QC_TABLES["fmri_roi_qc"], table_html(roi_qc)))
    return sections


def write_participant_page(
    path,
    participant_id,
    *,
    tables,
    errors,
    log_lines,
    montage="colin27_1020",
    figures=True,
    fmri_runs=(),
    fmri_settings=None,
    space=None,
    figure_cache=None,
):
    """Write one participant's QC page.

    Parameters
    ----------
    path : path-like
        ``participants/<id>.html``.
    participant_id : str
        Participant.
    tables : dict of str to pandas.DataFrame
        The run's tables (``eeg_qc``, ``eeg_channel_spectra``,
        ``eeg_ica_components``, ``features_long``, ``fmri_qc``,
        ``fmri_roi_qc``...); missing ones are left out.
    errors : pandas.DataFrame
        Problems of the run (this participant's rows are shown).
    log_lines : list of str
        Log of this participant's units.
    montage : str
        MNE built-in montage of the topomaps.
    figures : bool
        Draw the recordings' figures (else tables and log only).
    fmri_runs : sequence of Recording
        The participant's fMRI runs whose markers were computed (drawn from
        their images).
    fmri_settings : FMRISettings | None
        The run's fMRI settings (ROIs and censoring as the markers used).
    space : str | None
        The fMRI template space.
    figure_cache : path-like | None
        Folder keeping the drawn figures between runs (None: draw them).
    """
    sections = [
        ("Excluded or missing recordings", table_html(_rows(errors, participant_id)))
    ]
    if not figures:
        tables = {name: tables[name] for name in QC_TABLES if name in tables}
        fmri_runs = ()
    cache = FigureCache(figure_cache)
    sections += _eeg_sections(tables, participant_id, montage, cache)
    sections += _fmri_sections(
        tables, participant_id, fmri_runs, fmri_settings or FMRISettings(), space, cache
    )
    sections.append(("Log", "<pre>" + html.escape("\n".join(log_lines)) + "</pre>"))
    write_page(path, f"neuromark: {participant_id}", "Quality control", sections)
