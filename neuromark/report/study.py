"""The group report of a run: every section, assembled from the run's tables."""

import html
from urllib.parse import quote

from .eeg import eeg_sections
from .fmri import fmri_sections
from .html import write_report
from .methods import methods_html
from .predict import primary_statement
from .stats import prediction_sections, stats_sections


def study_sections(
    tables,
    participants,
    *,
    sessions=("pre", "post"),
    montage="colin27_1020",
    atlas=None,
    control=None,
    predict_settings=None,
):
    """Report sections of every step that produced tables.

    Parameters
    ----------
    tables : dict of str to pandas.DataFrame
        The run's tables by output name (``eeg_qc``, ``stats_prepost``,
        ``prediction/metrics``...).
    participants : pandas.DataFrame
        Labelled participants (``participant_id``, ``intervention``...).
    sessions : (str, str)
        Pre and post labels.
    montage : str
        MNE built-in montage of the EEG topomaps.
    atlas : SphereAtlas | ImageAtlas | None
        The fMRI regions (needed when ``fmri_qc`` is present).
    control : str | None
        The study's control arm.
    predict_settings : PredictSettings | None
        The prediction settings (needed when ``prediction/metrics`` is
        present).

    Returns
    -------
    sections : list of (str, str)
        ``(title, html)`` pairs, participant pages first.
    """
    links = " ".join(
        f"<a href='participants/{html.escape(quote(pid))}.html'>{html.escape(pid)}</a>"
        for pid in participants["participant_id"]
    )
    sections = [("Participant QC pages", f"<p>{links}</p>")]
    if "eeg_qc" in tables:
        sections += eeg_sections(
            tables, participants, sessions=sessions, montage=montage
        )
    if "fmri_qc" in tables:
        sections += fmri_sections(tables, participants, atlas, sessions=sessions)
    if "stats_prepost" in tables:
        sections += stats_sections(tables, control=control)
    if "prediction/metrics" in tables:
        sections += prediction_sections(
            tables["prediction/metrics"],
            tables.get("prediction/oof_predictions"),
            tables.get("prediction/permutation_null"),
            tables.get("prediction/importance"),
            settings=predict_settings,
        )
    return sections


def _confirmatory_statement(treatment, control, level):
    """One sentence on the confirmatory treatment effects."""
    if treatment is None or treatment.empty:
        if control is None:
            return (
                "No control arm: the pre/post changes are descriptive and no "
                "treatment effect was tested."
            )
        return f"No treatment effect against {control} could be tested."
    rows = treatment[treatment["family"] == "confirmatory"]
    found = rows[rows["q"] < level]
    text = (
        f"Confirmatory treatment effects against {control} (ANCOVA, "
        f"Benjamini-Hochberg q < {level:g}): {len(found)} of {len(rows)} "
        "marker-by-arm tests."
    )
    for row in found.itertuples():
        text += (
            f" {row.intervention}: {row.modality} {row.feature} {row.location}, "
            f"{row.estimate:+.3g} (95 % CI {row.ci_low:+.3g} to {row.ci_high:+.3g}), "
            f"q = {row.q:.3g}."
        )
    return text


def primary_section(tables, *, control=None, fdr_level=0.05):
    """State the results the study declared primary, before anything else.

    Parameters
    ----------
    tables : dict of str to pandas.DataFrame
        The run's tables (``stats_treatment``, ``prediction/metrics``).
    control : str | None
        The study's control arm.
    fdr_level : float
        The false discovery rate of the confirmatory family.

    Returns
    -------
    section : (str, str)
        ``("Primary results", html)``.
    """
    statements = []
    if "prediction/metrics" in tables:
        statements.append(primary_statement(tables["prediction/metrics"]))
    if "stats_prepost" in tables:
        statements.append(
            _confirmatory_statement(tables.get("stats_treatment"), control, fdr_level)
        )
    if not statements:
        statements = ["This run computed no statistics or prediction."]
    body = "".join(f"<p class='lead'>{html.escape(s)}</p>" for s in statements)
    return ("Primary results", body)


def write_study_report(
    path, tables, participants, *, summary, errors, provenance, **options
):
    """Write the group report of a run (``report.html``).

    Parameters
    ----------
    path : path-like
        Output file, written atomically.
    tables : dict of str to pandas.DataFrame
        The run's tables (see :func:`study_sections`).
    participants : pandas.DataFrame
        Labelled participants.
    summary : pandas.DataFrame
        Dataset summary (who has which recording).
    errors : pandas.DataFrame
        Missing or unusable recordings and why.
    provenance : dict
        The provenance record written next to the report.
    **options
        ``sessions``, ``montage``, ``atlas``, ``control`` and
        ``predict_settings`` of :func:`study_sections`.
    """
    config = provenance["config"]
    ran = {
        name
        for name, table in (
            ("eeg", "eeg_qc"),
            ("fmri", "fmri_qc"),
            ("stats", "stats_prepost"),
            ("predict", "prediction/metrics"),
        )
        if table in tables
    }
    write_report(
        path,
        participants=participants,
        summary=summary,
        errors=errors,
        provenance=provenance,
        lead=[
            primary_section(
                tables,
                control=options.get("control"),
                fdr_level=config["stats"]["fdr_level"],
            )
        ],
        sections=[
            *study_sections(tables, participants, **options),
            (
                "Methods",
                methods_html(config, provenance.get("versions", {}), modalities=ran),
            ),
        ],
    )
