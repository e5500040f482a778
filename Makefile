# Deep Learning Core: every target creates .venv on first use and reuses it after.
# `make book` builds the HTML book; `make test` runs the whole test suite.

PYTHON ?= python3
VENV   := .venv
BIN    := $(CURDIR)/$(VENV)/bin
STAMP  := $(VENV)/.installed
CHAPTERS := $(notdir $(wildcard solutions/[0-9][0-9]_*))
# nbgrader calls `alembic` (and jupyter-book calls `sphinx-build`) from PATH.
export PATH := $(BIN):$(PATH)

.PHONY: help setup book test lab release grade bench clean

help:
	@echo "make book                  build the HTML book (first run installs .venv)"
	@echo "make test                  run the whole test suite"
	@echo "make lab                   JupyterLab on the student edition, with nbgrader's Validate"
	@echo "make release               regenerate notebooks/ (student edition) from solutions/"
	@echo "make grade SUBMISSIONS=DIR grade a folder of submissions (DIR/<student>/<chapter>.ipynb)"
	@echo "make bench                 run the benchmarks in bench/"

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

book: $(STAMP)
	@# MPLBACKEND (set by some shells and by the test suite) would replace the notebooks'
	@# inline backend, and the book would have no figures.
	env -u MPLBACKEND $(BIN)/jupyter-book build . -W -n --keep-going
	@echo "The book is at $(CURDIR)/_build/html/index.html"

test: $(STAMP)
	$(BIN)/python -m pytest

lab: $(STAMP)
	@# Run from the repository root: the Validate button reads ./nbgrader_config.py.
	$(BIN)/jupyter lab --ServerApp.root_dir=$(CURDIR)/notebooks

release: $(STAMP)
	@for ch in $(CHAPTERS); do \
	  $(BIN)/nbgrader generate_assignment $$ch --force --log-level=WARN || exit 1; \
	done
	@echo "Regenerated notebooks/ for: $(CHAPTERS)"

grade: $(STAMP)
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=DIR [CHAPTER=01_autodiff]"; exit 2; }
	@$(BIN)/python -m grader $(SUBMISSIONS) $(if $(CHAPTER),--chapter $(CHAPTER)) $(if $(OUT),--out $(OUT))

bench: $(STAMP)
	$(BIN)/python bench/notebook_times.py
	$(BIN)/python bench/grading_throughput.py

clean:
	rm -rf _build .workspace
