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

# The lowest numpy, scipy, pandas (and pyarrow, built for that numpy) pyproject.toml declares (the .venv has the newest): the tests of
# reading and describing data and of the statistics against their R fixtures run against them too,
# from a side folder that shadows the .venv's copies on PYTHONPATH.  .ci/run calls it after `make test`.
LOWEST := $(VENV)/lowest
lowest_of = $(shell sed -n 's/^ *"$(1)>=\([0-9.]*\)".*/\1/p' pyproject.toml)
LOWEST_PINS = numpy~=$(call lowest_of,numpy).0 scipy~=$(call lowest_of,scipy).0 pandas~=$(call lowest_of,pandas).0 \
  pyarrow~=$(call lowest_of,pyarrow).0
LOWEST_STAMP = $(LOWEST)/.pins-$(subst ~=,-,$(subst $(space),_,$(LOWEST_PINS)))
space := $(subst ,, )
LOWEST_TESTS = tests/test_data.py tests/test_data_kobo.py tests/test_ingest_spss.py tests/test_ingest_sql.py \
  tests/test_ingest_xlsform.py tests/test_descriptives.py tests/test_reliability.py tests/test_glm.py \
  tests/test_models_regression.py tests/test_models_linear.py tests/test_models_mixed.py \
  tests/test_outcomes_survival.py tests/test_outcomes_competing.py tests/test_outcomes_prepost.py \
  tests/test_outcomes_power.py tests/test_validity_cfa.py tests/test_validity_cfa_ordinal.py \
  tests/test_validity_cfa_fiml.py tests/test_validity_efa.py tests/test_validity_polychoric.py \
  tests/test_validity_prediction.py tests/test_validity_timedep.py tests/test_irt.py tests/test_survey.py \
  tests/test_privacy_disclosure.py
test-lowest: $(STAMP)
	@test -f $(LOWEST_STAMP) || { rm -rf $(LOWEST) && \
	  $(PY) -m pip install --quiet --no-deps --target $(LOWEST) $(LOWEST_PINS) "pytz>=2020.1" && \
	  touch $(LOWEST_STAMP); }
	PYTHONPATH=$(LOWEST) $(PY) -c "import numpy, scipy, pandas; print('lowest: numpy', numpy.__version__, 'scipy', scipy.__version__, 'pandas', pandas.__version__); import os; assert all(m.__file__.startswith(os.path.abspath('$(LOWEST)')) for m in (numpy, scipy, pandas))"
	PYTHONPATH=$(LOWEST) OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(PY) -m pytest -q -n 2 -p no:cacheprovider -m "not slow" \
	  $(LOWEST_TESTS)

# The slow checks: coverage of intervals over repeated seeds, national-scale timings.
test-slow: $(STAMP)
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(VENV)/bin/python -m pytest -q -n 2 -p no:cacheprovider -m slow

# As root (CI, the developers' machines) Jupyter refuses to start without --allow-root.
lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks/ $$( [ "$$(id -u)" -eq 0 ] && echo --allow-root )
