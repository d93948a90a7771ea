# pickflow developer and demo entry points. `make demo` and `make test` set everything up first.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
CORES ?= all

.PHONY: setup demo report test check test-deps lint clean

# The CPU build of torch is installed first, pinned, so that nothing pulls the CUDA wheels.
$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps --editable .
	touch $@

setup: $(VENV)/.installed

## Run the workflow on the bundled demo data (config.yaml): picks, plots and results/report.html.
demo: setup
	$(BIN)/snakemake --profile profiles/local --cores $(CORES)
	$(BIN)/snakemake --report results/report.html

## The self-contained HTML report of the last run (results/report.html).
report: setup
	$(BIN)/snakemake --report results/report.html

## Lint (ruff, snakefmt, snakemake --lint, pyright), then the whole test suite (what CI runs).
test: setup test-deps lint
	$(BIN)/python -m pytest

## Lint and the unit tests only: the quick check before a commit (about a minute).
check: setup lint
	$(BIN)/python -m pytest tests/unit -q

# Debian's chromium (the report test) and relion (the RELION round-trip test), installed where
# apt-get runs as root.
test-deps:
	@if ! { command -v chromium && command -v relion_preprocess; } >/dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium relion >/dev/null; \
	fi

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakefmt --check Snakefile workflow/
	$(BIN)/snakemake --lint
	$(BIN)/pyright --pythonpath $(BIN)/python

clean:
	rm -rf results logs .snakemake
