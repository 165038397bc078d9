# veplab: two commands.  `make demo` builds the demo study end to end;
# `make test` runs the test suite.  Both set up what they need (.venv).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
STUDY ?= research/demo

.PHONY: demo test test-slow test-lowest typecheck lab venv sysdeps help

help:
	@echo "make demo   - set up .venv, generate the synthetic demo study and build its report"
	@echo "make test   - set up .venv, type-check src/ (make typecheck) and run the whole test suite"
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

# mypy over src/ (settings in pyproject.toml [tool.mypy]); must report no issues.
typecheck: $(STAMP)
	$(VENV)/bin/python -m mypy

test: $(STAMP) typecheck
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(VENV)/bin/python -m pytest -q -n 2 -p no:cacheprovider -m "not slow"

# The lowest pandas pyproject.toml declares (pandas>=2.2; the .venv has the newest): the tests of
# reading, ingesting and describing data -- where pandas versions differ -- run against it too, from
# a side folder that shadows the .venv's pandas on PYTHONPATH.  .ci/run calls it after `make test`.
LOWEST := $(VENV)/lowest-pandas
PANDAS_LOWEST = $(shell sed -n 's/^ *"pandas>=\([0-9.]*\)".*/\1/p' pyproject.toml)
test-lowest: $(STAMP)
	@test -f $(LOWEST)/.pandas-$(PANDAS_LOWEST) || { rm -rf $(LOWEST) && \
	  $(PY) -m pip install --quiet --no-deps --target $(LOWEST) "pandas~=$(PANDAS_LOWEST).0" "pytz>=2020.1" && \
	  touch $(LOWEST)/.pandas-$(PANDAS_LOWEST); }
	PYTHONPATH=$(LOWEST) $(PY) -c "import pandas; v = pandas.__version__; print('pandas', v); assert v.startswith('$(PANDAS_LOWEST).'), v"
	PYTHONPATH=$(LOWEST) OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(PY) -m pytest -q -n 2 -p no:cacheprovider -m "not slow" \
	  tests/test_data.py tests/test_data_kobo.py tests/test_ingest_spss.py tests/test_ingest_sql.py \
	  tests/test_ingest_xlsform.py tests/test_descriptives.py

# The slow checks: coverage of intervals over repeated seeds, national-scale timings.
test-slow: $(STAMP)
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(VENV)/bin/python -m pytest -q -n 2 -p no:cacheprovider -m slow

# As root (CI, the developers' machines) Jupyter refuses to start without --allow-root.
lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks/ $$( [ "$$(id -u)" -eq 0 ] && echo --allow-root )
