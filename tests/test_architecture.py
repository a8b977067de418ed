"""The code's own rules: import layers (import-linter) and style (ruff)."""

import importlib
import inspect
import pkgutil
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


def _public_functions():
    """Every public function of every public module, once."""
    names = ["neuromark"] + [
        module.name
        for module in pkgutil.walk_packages(neuromark.__path__, "neuromark.")
        if not any(part.startswith("_") for part in module.name.split("."))
    ]
    found = []
    for name in names:
        module = importlib.import_module(name)
        for attr, obj in vars(module).items():
            if (
                not attr.startswith("_")
                and inspect.isfunction(obj)
                and obj.__module__ == name
            ):
                found.append(f"{name}.{attr}")
    return found


def test_public_functions_document_their_parameters():
    validate = pytest.importorskip("numpydoc.validate").validate
    functions = _public_functions()
    assert len(functions) > 150
    # GL08: no docstring; PR01: a parameter not documented; PR02: a documented
    # parameter the function does not have
    problems = {
        name: [
            message
            for code, message in validate(name)["errors"]
            if code in {"GL08", "PR01", "PR02"}
        ]
        for name in functions
    }
    problems = {name: found for name, found in problems.items() if found}
    assert not problems, problems


def _container_sources():
    """Files the Dockerfile and the Apptainer definition copy into the image."""
    folder = ROOT / "pipelines" / "container"
    docker = (folder / "Dockerfile").read_text().splitlines()
    copied = [
        w for line in docker if line.startswith("COPY ") for w in line.split()[1:-1]
    ]
    definition = (folder / "neuromark.def").read_text()
    files = definition.split("%files")[1].split("%")[0].split("\n")
    return copied, [line.split()[0] for line in files if line.strip()]


def test_container_recipes_copy_enough_to_build_the_package(tmp_path):
    copied, files = _container_sources()
    assert sorted(copied) == sorted(files)  # the two recipes ship the same files
    context = tmp_path / "context"
    for name in copied:
        source = ROOT / name
        assert source.exists(), name
        target = context / name
        if source.is_dir():
            shutil.copytree(
                source, target, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target)
    # what the image's `pip install` does, from those files only
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "-w",
            str(tmp_path / "dist"),
            str(context),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    wheel = next((tmp_path / "dist").glob("neuromark-*.whl"))
    import zipfile

    names = zipfile.ZipFile(wheel).namelist()
    assert "neuromark/atlases/pag_fenske2020_trace.tsv" in names
    assert any(n.endswith("licenses/LICENSE") for n in names)
