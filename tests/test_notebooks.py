"""Every notebook in notebooks/ executes top to bottom (so it never rots)."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.slow  # `make test-fast` skips these

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_executes(path, tmp_path):
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
