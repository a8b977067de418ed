"""Every notebook in notebooks/ executes top to bottom (so it never rots)."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.slow  # `make test-fast` skips these

FOLDER = Path(__file__).parents[1] / "notebooks"


def _execute(path, tmp_path):
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":  # outputs are stripped in git
            assert not cell.outputs and cell.execution_count is None
    NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    # it processed its data: no recording was left out with an ERROR line
    logged = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "ERROR" not in logged
    # and it shows what it computed: at least one inline figure
    figures = [o for o in outputs if "image/png" in o.get("data", {})]
    assert figures, f"{path.name} draws no figure"


# one class per notebook: pytest-xdist's loadscope spreads classes over the
# workers, where one parametrized test would run every notebook on one
class _Notebook:
    name = None

    def test_executes(self, tmp_path):
        _execute(FOLDER / self.name, tmp_path)


class TestQuickstart(_Notebook):
    name = "01_quickstart.ipynb"


class TestEEGMarkers(_Notebook):
    name = "02_eeg_markers.ipynb"


class TestFMRIConnectivity(_Notebook):
    name = "03_fmri_connectivity.ipynb"


class TestResponsePrediction(_Notebook):
    name = "04_response_prediction.ipynb"


def test_every_notebook_is_executed():
    tested = {cls.name for cls in _Notebook.__subclasses__()}
    assert tested == {path.name for path in FOLDER.glob("*.ipynb")}
