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

.PHONY: lab test install install-test install-book git-filter work update colab colab-env nbgrader-env hub-proxy book slides lecturing test-publish exercises check-exercises grade clean help bench

help:
	@echo "make lab        open the course in JupyterLab"
	@echo "make test       run every test (nnlib, claims, notebooks, exercises)"
	@echo "make update     get the course's latest version (git pull; your answers in work/ are kept)"
	@echo "make colab      add/refresh the Open-in-Colab link and install cell (then make exercises)"
	@echo "make exercises  regenerate exercises/ from solutions/ (never overwrites edited ones; FORCE=1)"
	@echo "make book       build the rendered course into build/book/ (open build/book/index.html)"
	@echo "make slides     build one reveal.js deck per chapter into build/slides/"
	@echo "make grade      grade submissions: make grade SUBMISSIONS=submissions OUT=grades (a folder, or 'subs/*.ipynb')"
	@echo "                (Linux, sandboxed with bubblewrap; GRADE_ARGS=--no-sandbox where there is none)"

# uv, when it is on the PATH, makes the venv and installs several times faster (the same packages).
UV := $(shell command -v uv 2>/dev/null)
# PYTHONWARNINGS: setuptools' "Editable installation" warning box is about folders named like the
# package in the working directory: here they are the package itself.
PIP_INSTALL = $(if $(UV),$(UV) pip install --python $(PY),PYTHONWARNINGS="ignore:Editable installation" $(PY) -m pip install --progress-bar on)
step = @printf '\n==> %s\n' $(1)

$(PY):
	$(call step,"[1/4] creating the virtual environment $(VENV) (once)")
	$(if $(UV),$(UV) venv --seed $(VENV),$(PYTHON) -m venv $(VENV))
	$(if $(UV),,$(PY) -m pip install --quiet --upgrade pip)

$(VENV)/.lab-installed: pyproject.toml | $(PY)
	$(call step,"[2/4] installing the course and JupyterLab into $(VENV) (once; about 1-2 minutes)")
	$(PIP_INSTALL) -e '.[lab]'
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(PY)
	$(call step,"installing the course with its test tools into $(VENV) (once)")
	$(PIP_INSTALL) -e '.[lab,test]'
	touch $@ $(VENV)/.lab-installed

$(VENV)/.grade-installed: pyproject.toml | $(PY)
	$(PIP_INSTALL) -e '.[lab,grade]'
	touch $@

$(VENV)/.book-installed: pyproject.toml | $(PY)
	$(PIP_INSTALL) -e '.[book]'
	touch $@

# The browser assets the book and the decks serve themselves (MathJax, require.js, the widgets'
# html-manager, reveal.js): exact versions from book/package-lock.json, from the npm registry.
book/node_modules/.package-lock.json: book/package.json book/package-lock.json
	cd book && npm ci --no-audit --no-fund
	touch $@

install: $(VENV)/.lab-installed git-filter
install-test: $(VENV)/.test-installed

# Chapters: JupyterLab's autosave writes outputs into them. nbstripout as a git "clean" filter (the
# filter named in .gitattributes) makes git see them without outputs: `git status` stays clean and
# `git pull` updates them. Configured in this clone's .git/config only; not in a linked worktree
# (its config is shared with the main checkout) and not outside git.
# --keep-id: graders match cells by id. The language_info keys: what a kernel adds on first run.
NBSTRIPOUT = $(PY) -m nbstripout --keep-id --extra-keys '$(addprefix metadata.language_info.,codemirror_mode \
  file_extension mimetype nbconvert_exporter pygments_lexer version)'
git-filter: $(VENV)/.lab-installed
	$(call step,"[3/4] git: chapters' outputs are not changes (nbstripout filter)")
	@if ! git rev-parse --git-dir >/dev/null 2>&1; then echo "   not a git clone: skipped"; \
	elif [ "$$(git rev-parse --git-dir)" != "$$(git rev-parse --git-common-dir)" ]; then \
	    echo "   linked worktree: skipped (set filter.nbstripout.clean yourself if you want it)"; \
	else git config filter.nbstripout.clean "$(NBSTRIPOUT)" && git config filter.nbstripout.smudge cat && \
	    git config diff.ipynb.textconv "$(NBSTRIPOUT) -t" && echo "   filter.nbstripout set in .git/config"; fi

# Exercises: your answers go in work/ (git-ignored), copied from exercises/ by nncourse.workspace;
# a course update never overwrites a copy you changed.
work: install
	$(call step,"[4/4] your own copies of the exercises: work/ (answer there; git pull never touches them)")
	@$(PY) -m nncourse.workspace exercises work --quiet

# Get the course's latest version. `git add` first: with a clean filter git still takes a chapter
# whose size changed (outputs saved) for a local change until it is staged (staging the cleaned
# chapter stages nothing new); then the pull replaces it. Answers in work/ are never touched.
update: git-filter
	$(call step,"updating the course (git pull); your answers in work/ are kept")
	git add --update -- notebooks
	git pull --no-rebase --no-edit
	@$(PY) -m nncourse.workspace exercises work --quiet

lab: install work
	$(BLAS_ENV) $(PY) -m nncourse.lab $(ROOT_FLAG) --LabApp.default_url=/lab/tree/notebooks/00_index.ipynb $(LAB_ARGS)

test: install-test colab-env nbgrader-env hub-proxy
	$(BLAS_ENV) $(PY) -m pytest $(PYTEST_ARGS)

# "Open in Colab" link + Colab-only install cell in every chapter and solution (then make exercises).
colab: install
	$(PY) -m nncourse.colab

# A venv with Google Colab's package versions (tests/colab/requirements.txt), kept between runs:
# tests/test_colab.py runs every chapter, the playground and every solution in it.
COLAB_VENV ?= .venv-colab
colab-env: $(COLAB_VENV)/.installed
$(COLAB_VENV)/.installed: tests/colab/requirements.txt pyproject.toml
	$(call step,"a venv with Google Colab's versions in $(COLAB_VENV) (once; tests/test_colab.py)")
	$(if $(UV),$(UV) venv --seed $(COLAB_VENV),$(PYTHON) -m venv $(COLAB_VENV))
	$(COLAB_VENV)/bin/python -m pip install --quiet -r tests/colab/requirements.txt
	$(COLAB_VENV)/bin/python -m pip install --quiet --no-deps -e .
	touch $@

# nbgrader 0.9.6 in a venv of its own (its Jupyter pins are not JupyterLab 4's), kept between runs:
# tests/test_nbgrader.py generates and autogrades every exercise with it.
NBGRADER_VENV ?= .venv-nbgrader
nbgrader-env: $(NBGRADER_VENV)/.installed
$(NBGRADER_VENV)/.installed: tests/nbgrader/requirements.txt pyproject.toml
	$(call step,"nbgrader 0.9.6 in $(NBGRADER_VENV) (once; tests/test_nbgrader.py)")
	$(if $(UV),$(UV) venv --seed $(NBGRADER_VENV),$(PYTHON) -m venv $(NBGRADER_VENV))
	$(NBGRADER_VENV)/bin/python -m pip install --quiet -r tests/nbgrader/requirements.txt
	$(NBGRADER_VENV)/bin/python -m pip install --quiet --no-deps -e .
	touch $@
# Never overwrites an exercise that differs from what it generated (answers): it stops and names them.
# `make exercises FORCE=1` replaces them, each moved first to exercises/.replaced/.
exercises: install
	$(PY) -m nncourse.release solutions exercises $(if $(FORCE),--force)

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
grade: $(VENV)/.grade-installed
	$(PY) -m nncourse.grading $(SUBMISSIONS) --out $(OUT) $(GRADE_ARGS)

# Benchmark nnlib against PyTorch and scikit-learn (issue 8): writes benchmarks/RESULTS.md.
# Installs its extra dependencies into .venv itself; they are not course dependencies.
bench: install-test
	$(BIN)/pip install --quiet scikit-learn torch==2.13.0
	$(PY) benchmarks/bench.py $(BENCH_ARGS)

# JupyterHub's proxy (configurable-http-proxy, from npm) for deploy/ and tests/test_hub.py.
hub-proxy: deploy/node_modules/.bin/configurable-http-proxy
deploy/node_modules/.bin/configurable-http-proxy: deploy/package.json
	$(call step,"JupyterHub's proxy: npm install in deploy/ (configurable-http-proxy)")
	@command -v npm >/dev/null || { echo "npm is missing: .ci/run installs it (apt-get install npm)"; exit 1; }
	cd deploy && npm install --no-audit --no-fund --loglevel=error
	touch $@

clean:
	rm -rf $(VENV) build book/node_modules *.egg-info
