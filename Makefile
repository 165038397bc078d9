# veplab: two commands.  `make demo` builds the demo study end to end;
# `make test` runs the test suite.  Both set up what they need (.venv).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
STUDY ?= research/demo

.PHONY: demo test test-slow lab venv sysdeps help

help:
	@echo "make demo   - set up .venv, generate the synthetic demo study and build its report"
	@echo "make test   - set up .venv and run the whole test suite"
	@echo "make lab    - open JupyterLab on notebooks/ with the project's kernel"

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[build,dev,ingest]"
	$(PY) -m ipykernel install --sys-prefix --name veplab --display-name "veplab (project .venv)" >/dev/null
	@touch $(STAMP)

venv: $(STAMP)

# System packages (R for the reference fixtures, fonts, poppler, chromium) are
# installed by scripts/sysdeps.sh when missing and root can install them.
sysdeps:
	@bash scripts/sysdeps.sh

demo: $(STAMP)
	@bash scripts/sysdeps.sh
	$(PY) -m veplab.brief check-fonts
	$(VENV)/bin/veplab synth $(STUDY)
	$(VENV)/bin/veplab validate $(STUDY)
	$(VENV)/bin/veplab build $(STUDY) --jobs 2
	@echo "demo report: $(CURDIR)/reports/$$(basename $(STUDY))/index.html"

test: $(STAMP)
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(VENV)/bin/python -m pytest -q -n 2 -p no:cacheprovider -m "not slow"

# The slow checks: coverage of intervals over repeated seeds, national-scale timings.
test-slow: $(STAMP)
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(VENV)/bin/python -m pytest -q -n 2 -p no:cacheprovider -m slow

# As root (CI, the developers' machines) Jupyter refuses to start without --allow-root.
lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks/ $$( [ "$$(id -u)" -eq 0 ] && echo --allow-root )
