# Neural Networks from Scratch: the common commands. `make help` lists them.
# One source of truth for versions: requirements.txt (environment.yml installs the same file).

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
NOTEBOOK_DIRS := notebooks lectures projects

# The same environment for `make execute` and `make test`, so stored and fresh outputs agree.
# (Keep in sync with nnscratch.notebook.NOTEBOOK_ENV; tests/course/test_environment.py checks it.)
# NNSCRATCH_DEVICE=cpu pins torch_utils.get_device() to the CPU, so a machine with CUDA or MPS
# reproduces the stored CPU outputs; it is set only here, never by setup_notebook, so a student
# running notebook 10 by hand still gets the GPU.
NB_ENV := OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 MPLBACKEND=Agg PYTHONHASHSEED=0 \
          NNSCRATCH_DEVICE=cpu PYDEVD_DISABLE_FILE_VALIDATION=1 PATH="$(CURDIR)/$(BIN):$$PATH"

# `make nbval` checks the stored outputs (written by `make execute` with one BLAS thread and the
# CPU's own OpenBLAS kernels) under ANOTHER configuration: two BLAS threads and OpenBLAS's kernel
# for CPUs without FMA. Outputs that hold only on the machine that made them fail here.
# (Later assignments win, so these override NB_ENV's.) `make nbval NBVAL_ENV=` checks the same one.
NBVAL_ENV ?= OPENBLAS_NUM_THREADS=2 OPENBLAS_CORETYPE=SandyBridge

# The tests mirror the packages (tests/library, tests/checks, tests/tools, tests/course); every
# file under tests/tools/ (grading, release, JupyterLab, hub, decks, CLI, browser, site, wheel)
# carries the marker slow_tools (tests/conftest.py), and `make unit-fast` leaves them out.
PYTEST := $(BIN)/python -m pytest -q -rs

.PHONY: help setup lab test test-under-load unit unit-grading unit-browser unit-others unit-fast nbval lint execute slides site \
        test-browser bench clean

help:
	@echo "make setup    create .venv and install the pinned environment (quick when nothing changed)"
	@echo "make lab      set up if needed, then start JupyterLab on notebooks/"
	@echo "make test     set up if needed, then lint, unit tests and nbval over every notebook"
	@echo "make lint     ruff (style, length, complexity) and mypy (type checks)"
	@echo "make unit-fast  the library's unit tests alone, without the slow tool tests (minutes)"
	@echo "make test-under-load  make test while two busy loops load both cores (no test may depend on speed)"
	@echo "make nbval    check every notebook's stored outputs, under another BLAS configuration"
	@echo "make execute  re-run every notebook in place, storing fresh outputs"
	@echo "make site     build the course website offline from the stored outputs"
	@echo "make test-browser  the real-browser tests alone (Chromium + Playwright)"
	@echo "make slides   render lectures/ to offline reveal.js HTML in build/slides/ (executes nothing)"
	@echo "make bench    set up if needed, then benchmark nnscratch against PyTorch (bench/README.md)"
	@echo "make clean    remove .venv and build outputs"

setup: $(STAMP) $(NODE_STAMP)

# requirements-site.txt (the website's and the browser tests' tools, pinned on top of
# requirements.txt) and the class hub's single-user requirements (JupyterHub, nbgitpuller) are
# installed in the same resolve, so `make test` has every tool its tests start.
SITE_REQS := $(wildcard requirements-site.txt)
HUB_REQS  := $(wildcard deploy/jupyterhub/requirements-singleuser.txt)
# requirements-dev.txt: the maintainers' tools (mypy for `make lint`, pre-commit), pinned the same way.
DEV_REQS := $(wildcard requirements-dev.txt)

# JupyterLab's settings for this environment: widget state is saved with the notebook, so a
# notebook opened, saved and reopened never shows "Error displaying widget".
LAB_SETTINGS := tools/lab/labconfig/default_setting_overrides.json

# axe-core for the accessibility tests, pinned by tools/a11y/package-lock.json (npm registry),
# installed into tools/a11y/node_modules; without npm the browser tests say they skip it.
A11Y_LOCK := tools/a11y/package-lock.json

$(STAMP): requirements.txt pyproject.toml $(SITE_REQS) $(HUB_REQS) $(DEV_REQS) $(LAB_SETTINGS) $(A11Y_LOCK)
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] >= (3, 11), "Python 3.11 is needed, found " + sys.version.split()[0]'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt \
	    $(if $(SITE_REQS),-r $(SITE_REQS)) $(if $(HUB_REQS),-r $(HUB_REQS)) $(if $(DEV_REQS),-r $(DEV_REQS))
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@# jupyter-events asks for jsonschema[format-nongpl], whose optional IRI checker
	@# (rfc3987-syntax) compiles 38 lark grammars whenever jsonschema is imported: about 2 s of
	@# CPU in every process that imports nbformat (each graded submission's runner, nbval, every
	@# Jupyter server) for a format no schema here uses. Without it jsonschema skips that format
	@# and `pip check` stays clean.
	$(BIN)/python -m pip uninstall --quiet --disable-pip-version-check -y rfc3987-syntax
	install -D -m 644 $(LAB_SETTINGS) $(VENV)/etc/jupyter/labconfig/default_setting_overrides.json
	@if command -v npm >/dev/null; then npm ci --prefix tools/a11y --no-audit --no-fund --silent; \
	  else echo "npm not found: axe-core (tools/a11y) not installed, the accessibility tests skip"; fi
	@touch $(STAMP)
	@echo "environment ready in $(VENV)"

# configurable-http-proxy, the proxy in front of JupyterHub, from the npm registry at the
# version package-lock.json pins, into node_modules/ (tests/tools/test_jupyterhub.py starts it).
# Without npm the hub test skips with one line; .ci/run installs npm, so CI never skips.
$(NODE_STAMP): package.json package-lock.json
	@if command -v npm >/dev/null; then \
	  npm ci --no-audit --no-fund --ignore-scripts --engine-strict --loglevel=error && touch $@; \
	else echo "make setup: npm not found, configurable-http-proxy not installed (apt-get install npm)"; fi

# Jupyter refuses to run as root unless told; containers and CI often are root.
LAB_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

# Only the Python environment: a student running `make lab` needs no npm.
lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks $(LAB_ROOT) $(LAB_ARGS)

# ruff (style, length and complexity rules) and mypy (both packages; config in pyproject.toml).
lint: setup
	$(BIN)/ruff check .
	$(BIN)/python -m mypy

# --durations: the CI log lists the slowest tests, so where the 15 minutes go stays visible.
unit: setup
	$(NB_ENV) $(PYTEST) --durations=25 tests

# `make unit` in three parts that `make test` runs side by side: the grading tests; the tests
# that share one Chromium, one JupyterLab, one site build, one render of the decks and one
# student edition (session fixtures of tests/conftest.py, so they stay in one process); the rest.
GRADING_TESTS := tests/tools/test_grade.py tests/tools/test_grade_shards.py \
                 tests/tools/test_gradescope.py tests/tools/test_hostile_submissions.py
BROWSER_TESTS := tests/tools/test_browser.py tests/tools/test_jupyterhub.py tests/tools/test_lab.py \
                 tests/tools/test_lectures.py tests/tools/test_site.py tests/tools/test_release.py
unit-grading: setup
	$(NB_ENV) $(PYTEST) --durations=15 $(GRADING_TESTS)

unit-browser: setup
	$(NB_ENV) $(PYTEST) --durations=20 $(BROWSER_TESTS)

unit-others: setup
	$(NB_ENV) $(PYTEST) --durations=15 $(addprefix --ignore=,$(GRADING_TESTS) $(BROWSER_TESTS)) tests

unit-fast: setup
	$(NB_ENV) $(PYTEST) -m "not slow_tools" tests

test-browser: setup
	$(NB_ENV) $(PYTEST) tests/tools/test_browser.py

# pytest exits with 5 when it collects nothing (e.g. a folder with no notebooks yet): not a failure.
nbval: setup
	@echo "nbval: stored outputs checked with $(or $(NBVAL_ENV),the environment of make execute)"
	$(NB_ENV) $(NBVAL_ENV) $(PYTEST) -p no:cacheprovider --nbval --nbval-current-env \
	    --nbval-sanitize-with nbval_sanitize.cfg --nbval-cell-timeout=600 $(NOTEBOOK_DIRS); \
	  rc=$$?; if [ $$rc -eq 5 ]; then echo "nbval: no notebooks collected yet"; exit 0; fi; exit $$rc

# The grading tests (sandboxes, one kernel per submission) and the other tool tests (servers,
# a browser, builds) spend much of their time waiting, and nbval and lint (mypy) use one core
# each: side by side (-j5) they share both cores. --output-sync prints each one's output whole,
# when it ends, so they never interleave; each pytest part ends with the CPU time it used
# (tests/conftest.py), so the log shows where the time goes. `make unit` still runs every
# test in one process.
test: setup
	@echo "make test: lint, grading tests, browser and server tests, other unit tests and nbval run side by side; each one's output is shown when it ends"
	$(MAKE) --no-print-directory -j5 --output-sync=target lint unit-grading unit-browser unit-others nbval

# Shows that no test depends on the machine's speed: `make test` while two busy loops (started
# here, stopped by their PIDs) keep both cores of a 2-core machine loaded.
test-under-load: setup
	@pids=""; for i in 1 2; do $(BIN)/python -c "while True: pass" & pids="$$pids $$!"; done; \
	  trap 'kill $$pids 2>/dev/null' EXIT INT TERM; echo "busy loops:$$pids"; start=$$(date +%s); \
	  $(MAKE) --no-print-directory test; rc=$$?; \
	  echo "make test under two busy loops: exit status $$rc after $$(( $$(date +%s) - start )) s"; \
	  exit $$rc

execute: setup
	$(NB_ENV) $(BIN)/python tools/execute_notebooks.py $(NOTEBOOK_DIRS)

slides: setup
	$(BIN)/python tools/build_slides.py --out build/slides

# The course website, built offline from the stored outputs (executes nothing); its tools come
# from requirements-site.txt, which `make setup` installs.
site: setup
	@test -f tools/build_site.py || { echo "make site: tools/build_site.py is missing" >&2; exit 2; }
	@test -f requirements-site.txt || { echo "make site: requirements-site.txt is missing" >&2; exit 2; }
	$(BIN)/python tools/build_site.py

# Not part of `make test`: the bench sets its own thread counts. BENCH_ARGS=--quick for a short run.
bench: setup
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build .pytest_cache node_modules
