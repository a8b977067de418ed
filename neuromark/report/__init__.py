"""Report: figures and the self-contained HTML report of a run."""

from .html import figure_html, table_html, write_report

__all__ = ["figure_html", "table_html", "write_report"]
