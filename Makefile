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

.PHONY: lab test install install-test install-book book slides lecturing test-publish exercises check-exercises grade clean help bench

help:
	@echo "make lab        open the course in JupyterLab"
	@echo "make test       run every test (nnlib, claims, notebooks, exercises)"
	@echo "make book       build the rendered course into build/book/ (open build/book/index.html)"
	@echo "make slides     build one reveal.js deck per chapter into build/slides/"
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

$(VENV)/.book-installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[book]'
	touch $@

# The browser assets the book and the decks serve themselves (MathJax, require.js, the widgets'
# html-manager, reveal.js): exact versions from book/package-lock.json, from the npm registry.
book/node_modules/.package-lock.json: book/package.json book/package-lock.json
	cd book && npm ci --no-audit --no-fund
	touch $@

install: $(VENV)/.lab-installed
install-test: $(VENV)/.test-installed

lab: install
	$(BLAS_ENV) $(BIN)/jupyter lab $(ROOT_FLAG) --LabApp.default_url=/lab/tree/notebooks/00_index.ipynb $(LAB_ARGS)

test: install-test
	$(BLAS_ENV) $(PY) -m pytest $(PYTEST_ARGS)

exercises: install
	$(PY) -m nncourse.release solutions exercises

check-exercises: install
	$(PY) -m nncourse.release solutions exercises --check

# The rendered book and the decks (issue 14). BUILD is where they go (git-ignored), with the
# execution cache (BUILD/.jupyter_cache, keyed on each notebook's code) that both share.
BUILD ?= build
BOOK_CELL_TIMEOUT ?= 60
BOOK_ENV = $(BLAS_ENV) BOOK_CELL_TIMEOUT=$(BOOK_CELL_TIMEOUT) BOOK_CACHE=$(abspath $(BUILD))/.jupyter_cache MPLBACKEND=module://matplotlib_inline.backend_inline
install-book: $(VENV)/.book-installed book/node_modules/.package-lock.json

book: install-book
	$(PY) book/stage.py $(BUILD)
	$(BOOK_ENV) $(PY) -m sphinx -b html -c book $(BUILD)/book-src $(BUILD)/book -W --keep-going -j 1
	@echo "The book: open $(BUILD)/book/index.html (or serve it: $(PY) -m http.server -d $(BUILD)/book)"

slides: install-book
	$(BOOK_ENV) $(PY) book/slides.py $(BUILD) --timeout $(BOOK_CELL_TIMEOUT)

# docs/lecturing.md's slide counts, from the notebooks' slide metadata.
lecturing: install
	$(PY) book/lecturing.py

# Builds the book and the decks from nothing and checks them, in a browser too (also part of make test).
test-publish: install-test install-book
	$(BLAS_ENV) $(PY) -m pytest tests/test_publish.py $(PYTEST_ARGS)

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
	rm -rf $(VENV) build book/node_modules *.egg-info
