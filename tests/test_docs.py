"""The documentation builds without a warning, and its gallery (the notebooks
in notebooks/, executed during the build) processes data and draws figures.

One Sphinx build executes every notebook; the checks below read the executed
copies it keeps (``jupyter_execute/``), so no notebook runs twice.
"""

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

pytestmark = pytest.mark.slow  # `make test-fast` skips these

ROOT = Path(__file__).parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

pytest.importorskip("sphinx")
pytest.importorskip("myst_nb")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Build the site: warnings are errors, and listed in a file."""
    out = tmp_path_factory.mktemp("docs")
    warnings = out / "warnings.txt"
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            # notebooks are executed in parallel (Sphinx's parallel read)
            "-j",
            "2",
            "-q",
            "-b",
            "html",
            "-w",
            str(warnings),
            str(ROOT / "docs"),
            str(out / "html"),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )
    return out, build, warnings


def test_the_site_builds_without_warnings(built):
    out, build, warnings = built
    assert build.returncode == 0, build.stderr[-3000:]
    assert warnings.read_text().strip() == ""
    html = out / "html"
    api = (html / "api.html").read_text()
    # the API reference holds the public functions with their numpydoc sections
    for name in ("eeg.extract_eeg_features", "fmri.run_features", "predict.validate"):
        assert f'id="neuromark.{name}"' in api, name
    assert "Parameters" in api and "Returns" in api
    for guide in ("install", "data", "eeg", "fmri", "prediction", "clusters"):
        assert (html / "guide" / f"{guide}.html").stat().st_size > 10_000


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_gallery_notebooks_process_their_data_and_draw(built, path):
    out, build, _ = built
    assert build.returncode == 0, build.stderr[-3000:]
    executed = out / "jupyter_execute" / "gallery" / path.name
    notebook = nbformat.read(executed, as_version=4)
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    # it processed its data: no recording was left out with an ERROR line
    logged = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "ERROR" not in logged
    # and it shows what it computed: at least one inline figure, in the page
    assert [o for o in outputs if "image/png" in o.get("data", {})]
    page = (out / "html" / "gallery" / f"{path.stem}.html").read_text()
    assert "<img" in page


def test_notebooks_are_stored_without_outputs():
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, path.name


def test_every_notebook_is_in_the_gallery():
    index = (ROOT / "docs" / "index.md").read_text()
    assert {f"gallery/{p.stem}" for p in NOTEBOOKS} <= set(index.split())
