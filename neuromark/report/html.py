"""Self-contained HTML report of a run (no external assets, opens offline)."""

import base64
import html
import io
import json
import re
from urllib.parse import quote

import numpy as np
import pandas as pd

from ..utils._files import write_text

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em;
       color: #222; }
h1 { border-bottom: 2px solid #447; } h2 { color: #336; margin-top: 1.6em; }
table { border-collapse: collapse; font-size: 0.9em; margin: 0.5em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
td { overflow-wrap: break-word; max-width: 40em; }
div.wide { overflow-x: auto; max-width: 100%; }
th { background: #eef; } td.ok { color: #262; } td.missing { color: #a60; }
td.error { color: #b00; font-weight: bold; } .note { color: #555; font-size: 0.9em; }
.lead { font-size: 1.05em; border-left: 4px solid #2a6; padding-left: 0.6em; }
pre { background: #f6f6f6; padding: 1em; overflow-x: auto; font-size: 0.8em; }
img { max-width: 100%; } figure { margin: 1em 0; }
nav { background: #f4f4fa; padding: 0.4em 1em; font-size: 0.9em; }
nav ol { margin: 0.3em 0; columns: 2; }
.methods { border: 1px solid #ccd; padding: 0 1em; background: #fbfbfe; }
.methods ol { font-size: 0.85em; }
"""


def format_value(value):
    """Text of one table cell: numbers to three significant digits.

    Parameters
    ----------
    value : object
        The cell (NaN or None: ``n/a``).
    """
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if pd.isna(value):
        return "n/a"
    if isinstance(value, (float, np.floating)):
        if not np.isfinite(value):
            return str(value)
        if value == int(value) and abs(value) < 1e6:
            return str(int(value))
        return f"{value:.0f}" if abs(value) >= 1000 else f"{value:.3g}"
    # lists written as a;b;c wrap at their separators
    return str(value).replace(";", "; ")


def _table(frame, *, total=None, source=None):
    link = (
        f"<a href='{html.escape(quote(source))}'>{html.escape(source)}</a>"
        if source
        else ""
    )
    if frame is None or frame.empty:
        return "<p class='note'>None.</p>"
    if total is not None and total > len(frame):
        # never cut silently: say how much is shown and where the rest is
        note = f"<p class='note'>Showing {len(frame)} of {total} rows" + (
            f"; the whole table: {link}.</p>" if link else ".</p>"
        )
    else:
        note = f"<p class='note'>As a file: {link}.</p>" if link else ""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for values in frame.itertuples(index=False):
        cells = []
        for value in values:
            text = format_value(value)
            css = f" class='{text}'" if text in {"ok", "missing", "error"} else ""
            cells.append(f"<td{css}>{html.escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    # a wide table scrolls inside its box; the page never scrolls sideways
    return (
        "<div class='wide'><table>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
        + note
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


def table_html(frame, *, total=None, source=None):
    """Render a DataFrame as an HTML table (status words coloured).

    Parameters
    ----------
    frame : pandas.DataFrame | None
        The table (None or empty: "None.").
    total : int | None
        Rows of the whole table when ``frame`` shows a selection of them;
        the page then says how many rows are shown.
    source : str | None
        The TSV holding the whole table, relative to the page (linked).
    """
    return _table(frame, total=total, source=source)


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


def write_report(
    path, *, participants, summary, errors, provenance, sections=(), lead=()
):
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
    lead : sequence of (str, str)
        Sections placed first (the primary results).
    """
    sections = [
        *lead,
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


def _anchor(title, taken):
    """Return a unique ``id`` for a section heading."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "section"
    anchor, number = slug, 2
    while anchor in taken:
        anchor, number = f"{slug}-{number}", number + 1
    taken.add(anchor)
    return anchor


def write_page(path, title, subtitle, sections, *, contents=True):
    """Write one self-contained HTML page atomically.

    Parameters
    ----------
    path : path-like
        Output file.
    title, subtitle : str
        Heading and the note below it (plain text, escaped here).
    sections : sequence of (str, str)
        ``(title, html)`` sections in order.
    contents : bool
        Put a table of contents linking every section under the heading.
    """
    taken = set()
    anchors = [_anchor(name, taken) for name, _ in sections]
    body = "".join(
        f"<h2 id='{anchor}'>{html.escape(name)}</h2>{content}"
        for anchor, (name, content) in zip(anchors, sections)
    )
    toc = ""
    if contents and len(sections) > 1:
        items = "".join(
            f"<li><a href='#{anchor}'>{html.escape(name)}</a></li>"
            for anchor, (name, _) in zip(anchors, sections)
        )
        toc = f"<nav><b>Contents</b><ol>{items}</ol></nav>"
    document = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p class='note'>{html.escape(subtitle)}</p>"
        f"{toc}{body}</body></html>\n"
    )
    write_text(path, document)
