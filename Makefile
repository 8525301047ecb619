# The course's two commands:  `make lab` opens it, `make test` runs every test.
# Both create .venv on first use, with nothing but Python 3.10+ and make on the machine.

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
PY      = $(BIN)/python
# Extra arguments, e.g. `make lab LAB_ARGS="--port 9999 --no-browser"`.
LAB_ARGS ?=
# Extra pytest arguments, e.g. `make test PYTEST_ARGS="-k C01 -x"`.
PYTEST_ARGS ?=
ROOT_FLAG := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)
# The course's matrices are small: one BLAS thread is faster than several fighting over
# two cores (measured: the chapter notebooks run about twice as fast). Override by setting it.
BLAS_ENV = OPENBLAS_NUM_THREADS=$${OPENBLAS_NUM_THREADS:-1} OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1} MKL_NUM_THREADS=$${MKL_NUM_THREADS:-1}

.PHONY: lab test install install-test exercises check-exercises grade clean help bench

help:
	@echo "make lab        open the course in JupyterLab"
	@echo "make test       run every test (nnlib, claims, notebooks, exercises)"
	@echo "make exercises  regenerate exercises/ from solutions/"
	@echo "make grade      grade submissions: make grade SUBMISSIONS=submissions OUT=grades (a folder, or 'subs/*.ipynb')"

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.lab-installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[lab]'
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[lab,test]'
	touch $@ $(VENV)/.lab-installed

install: $(VENV)/.lab-installed
install-test: $(VENV)/.test-installed

lab: install
	$(BLAS_ENV) $(BIN)/jupyter lab $(ROOT_FLAG) --LabApp.default_url=/lab/tree/notebooks/00_index.ipynb $(LAB_ARGS)

test: install-test
	$(BLAS_ENV) $(PY) -m pytest $(PYTEST_ARGS)

# Never overwrites an exercise that differs from what it generated (answers): it stops and names them.
# `make exercises FORCE=1` replaces them, each moved first to exercises/.replaced/.
exercises: install
	$(PY) -m nncourse.release solutions exercises $(if $(FORCE),--force)

check-exercises: install
	$(PY) -m nncourse.release solutions exercises --check

SUBMISSIONS ?= submissions
OUT ?= grades
GRADE_ARGS ?=
grade: install
	$(PY) -m nncourse.grading $(SUBMISSIONS) --out $(OUT) $(GRADE_ARGS)

# Benchmark nnlib against PyTorch and scikit-learn (issue 8): writes benchmarks/RESULTS.md.
# Installs its extra dependencies into .venv itself; they are not course dependencies.
bench: install-test
	$(BIN)/pip install --quiet scikit-learn torch==2.13.0
	$(PY) benchmarks/bench.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info
