"""The code's own rules: import layers (import-linter) and style (ruff)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import neuromark

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ["neuromark", "atlases", "tests", "benchmarks", "validation"]


def _tool(name):
    path = Path(sys.executable).parent / name
    if not path.exists() and shutil.which(name) is None:
        pytest.skip(f"{name} is not installed (pip install --group test)")
    return str(path) if path.exists() else name


def test_import_contracts_are_kept():
    result = subprocess.run(
        [_tool("lint-imports"), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]])
def test_ruff_passes(command):
    result = subprocess.run(
        [_tool("ruff"), *command, *SOURCES],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr


@pytest.mark.parametrize("name", sorted(neuromark._SUBMODULES))
def test_every_subpackage_is_reachable_from_the_top(name):
    module = getattr(neuromark, name)
    assert module.__name__ == f"neuromark.{name}"
