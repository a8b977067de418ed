# Two commands set everything up: `make demo` and `make test`.
# Each creates .venv and installs neuromark into it when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_DIR ?= demo_output
# pytest workers; CI machines have 2 cores
JOBS ?= 2

.PHONY: demo test test-fast lint docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet --group test
	touch $@

demo: $(VENV)/.installed
	$(BIN)/neuromark demo --output $(DEMO_DIR)

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -n $(JOBS) --dist loadscope

# the fast lane while developing: everything but the tests marked slow
test-fast: $(VENV)/.installed-test
	$(BIN)/python -m pytest -n $(JOBS) --dist loadscope -m "not slow"

lint: $(VENV)/.installed-test
	$(BIN)/ruff check neuromark atlases tests benchmarks validation
	$(BIN)/ruff format --check neuromark atlases tests benchmarks validation
	$(BIN)/lint-imports

# the documentation site (notebooks executed into the gallery); the test
# suite builds it too, with warnings as errors
docs: $(VENV)/.installed-test
	MPLBACKEND=Agg $(BIN)/sphinx-build -W -b html docs docs/_build/html

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache docs/_build
