"""Self-contained HTML report of a run (no external assets, opens offline)."""

import base64
import html
import io
import json

import pandas as pd

from ..utils._files import write_text

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em;
       color: #222; }
h1 { border-bottom: 2px solid #447; } h2 { color: #336; margin-top: 1.6em; }
table { border-collapse: collapse; font-size: 0.9em; margin: 0.5em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
td { overflow-wrap: anywhere; max-width: 48em; }
div.wide { overflow-x: auto; max-width: 100%; }
th { background: #eef; } td.ok { color: #262; } td.missing { color: #a60; }
td.error { color: #b00; font-weight: bold; } .note { color: #555; font-size: 0.9em; }
.lead { font-size: 1.05em; border-left: 4px solid #2a6; padding-left: 0.6em; }
pre { background: #f6f6f6; padding: 1em; overflow-x: auto; font-size: 0.8em; }
img { max-width: 100%; } figure { margin: 1em 0; }
"""


def _table(frame):
    if frame is None or frame.empty:
        return "<p class='note'>None.</p>"
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for values in frame.itertuples(index=False):
        cells = []
        for value in values:
            text = "n/a" if pd.isna(value) else str(value)
            css = f" class='{text}'" if text in {"ok", "missing", "error"} else ""
            cells.append(f"<td{css}>{html.escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    # a wide table scrolls inside its box; the page never scrolls sideways
    return (
        "<div class='wide'><table>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def figure_html(figure, caption):
    """Embed a matplotlib figure as a base64 PNG with a caption, and close it.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
        The figure (closed afterwards).
    caption : str
        Caption and alternative text.
    """
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (
        f"<figure><img alt='{html.escape(caption)}' src='data:image/png;base64,{data}'>"
        f"<figcaption class='note'>{html.escape(caption)}</figcaption></figure>"
    )


def table_html(frame):
    """Render a DataFrame as an HTML table (status words coloured).

    Parameters
    ----------
    frame : pandas.DataFrame | None
        The table (None or empty: "None.").
    """
    return _table(frame)


def _labels_by_arm(participants):
    counts = (
        participants.assign(
            label=participants["responder"]
            .map({True: "responders", False: "non-responders"})
            .fillna("unlabelled")
        )
        .groupby(["intervention", "label"])
        .size()
        .unstack(fill_value=0)
    )
    return counts.reset_index()


def write_report(path, *, participants, summary, errors, provenance, sections=()):
    """Write the run report as one self-contained HTML file.

    Parameters
    ----------
    path : path-like
        Output file (``report.html``), written atomically.
    participants : pandas.DataFrame
        Labelled participants (``intervention``, ``responder``...).
    summary : pandas.DataFrame
        Dataset summary (who has which recording).
    errors : pandas.DataFrame
        Missing or unusable recordings and why.
    provenance : dict
        The provenance record written next to the report.
    sections : sequence of (str, str)
        Further ``(title, html)`` sections (figures, QC tables), placed
        before the provenance.
    """
    sections = [
        (
            "Dataset",
            f"<p>{len(participants)} participants; sessions and modalities "
            "found per participant (ok / missing / error):</p>" + _table(summary),
        ),
        (
            "Responders per intervention",
            "<p class='note'>Responder: pain reduction of at least "
            f"{provenance['config']['responder_threshold']:.0%} from pre to post "
            "unless participants.tsv gives an explicit label.</p>"
            + _table(_labels_by_arm(participants)),
        ),
        ("Excluded or missing recordings", _table(errors)),
        *sections,
        (
            "Provenance",
            "<pre>"
            + html.escape(
                json.dumps(
                    {k: v for k, v in provenance.items() if k != "inputs_sha256"},
                    indent=2,
                )
            )
            + f"</pre><p class='note'>{len(provenance['inputs_sha256'])} input files "
            "hashed; see provenance.json.</p>",
        ),
    ]
    write_page(
        path,
        "neuromark report",
        f"Study {provenance['config']['bids_root']}, neuromark "
        f"{provenance['neuromark_version']}, finished {provenance['finished']}.",
        sections,
    )


def write_page(path, title, subtitle, sections):
    """Write one self-contained HTML page atomically.

    Parameters
    ----------
    path : path-like
        Output file.
    title, subtitle : str
        Heading and the note below it (plain text, escaped here).
    sections : sequence of (str, str)
        ``(title, html)`` sections in order.
    """
    body = "".join(
        f"<h2>{html.escape(name)}</h2>{content}" for name, content in sections
    )
    document = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p class='note'>{html.escape(subtitle)}</p>"
        f"{body}</body></html>\n"
    )
    write_text(path, document)
