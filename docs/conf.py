"""Sphinx configuration of the neuromark documentation.

Build: ``sphinx-build -W -b html docs docs/_build/html`` (the test suite does
this, warnings as errors). The notebooks in ``notebooks/`` are the gallery;
they are executed during the build, so every page shows current output.
"""

import os

import neuromark

os.environ.setdefault("MPLBACKEND", "Agg")

project = "neuromark"
author = "the neuromark developers"
copyright = "2026, the neuromark developers"  # noqa: A001 (Sphinx's name)
version = release = neuromark.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_nb",
]
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
root_doc = "index"

# API reference from the numpydoc docstrings; members follow each __all__
autodoc_default_options = {"members": True, "member-order": "bysource"}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# offline builds: no inventory is fetched, so intersphinx links stay plain
intersphinx_mapping = {}

# the gallery: every notebook executed during the build, errors fail it
nb_execution_mode = "force"
nb_execution_raise_on_error = True
nb_execution_timeout = 900
nb_merge_streams = True
# the user guides include sections of the README, whose headings start at ##
suppress_warnings = ["myst.header"]
myst_heading_anchors = 3

html_theme = "pydata_sphinx_theme"
html_title = f"neuromark {release}"
html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2}
html_static_path = []
