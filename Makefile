# Neural Networks from Scratch: the common commands. `make help` lists them.
# One source of truth for versions: requirements.txt (environment.yml installs the same file).

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NOTEBOOK_DIRS := notebooks lectures projects

# The same environment for `make execute` and `make test`, so stored and fresh outputs agree.
# (Keep in sync with nnscratch.notebook.NOTEBOOK_ENV; tests/test_environment.py checks it.)
NB_ENV := OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 MPLBACKEND=Agg PYTHONHASHSEED=0 \
          PYDEVD_DISABLE_FILE_VALIDATION=1 PATH="$(CURDIR)/$(BIN):$$PATH"

.PHONY: help setup lab test unit nbval lint execute slides bench clean

help:
	@echo "make setup    create .venv and install the pinned environment (quick when nothing changed)"
	@echo "make lab      set up if needed, then start JupyterLab on notebooks/"
	@echo "make test     set up if needed, then lint, unit tests and nbval over every notebook"
	@echo "make execute  re-run every notebook in place, storing fresh outputs"
	@echo "make slides   render lectures/ to offline reveal.js HTML in build/slides/ (executes nothing)"
	@echo "make bench    set up if needed, then benchmark nnscratch against PyTorch (bench/README.md)"
	@echo "make clean    remove .venv and build outputs"

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] >= (3, 11), "Python 3.11 is needed, found " + sys.version.split()[0]'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)
	@echo "environment ready in $(VENV)"

# Jupyter refuses to run as root unless told; containers and CI often are root.
LAB_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

lab: setup
	$(BIN)/jupyter lab --notebook-dir=notebooks $(LAB_ROOT) $(LAB_ARGS)

lint: setup
	$(BIN)/ruff check .

unit: setup
	$(NB_ENV) $(BIN)/python -m pytest -q tests

# pytest exits with 5 when it collects nothing (e.g. a folder with no notebooks yet): not a failure.
nbval: setup
	$(NB_ENV) $(BIN)/python -m pytest -q -p no:cacheprovider --nbval --nbval-current-env \
	    --nbval-sanitize-with nbval_sanitize.cfg --nbval-cell-timeout=600 $(NOTEBOOK_DIRS); \
	  rc=$$?; if [ $$rc -eq 5 ]; then echo "nbval: no notebooks collected yet"; exit 0; fi; exit $$rc

test: setup
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory unit
	$(MAKE) --no-print-directory nbval

execute: setup
	$(NB_ENV) $(BIN)/python tools/execute_notebooks.py $(NOTEBOOK_DIRS)

slides: setup
	$(BIN)/python tools/build_slides.py --out build/slides

# Not part of `make test`: the bench sets its own thread counts. BENCH_ARGS=--quick for a short run.
bench: setup
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build .pytest_cache
