# Deep Learning Core: every target creates .venv on first use and reuses it after.
# `make book` builds the HTML book; `make test` runs the whole test suite.

PYTHON ?= python3
VENV   := .venv
BIN    := $(CURDIR)/$(VENV)/bin
STAMP  := $(VENV)/.installed
CHAPTERS := $(notdir $(wildcard solutions/[0-9][0-9]_*))
CHAPTERS_ARG := $(if $(filter command line,$(origin CHAPTERS)),$(CHAPTERS))
# nbgrader calls `alembic` (and jupyter-book calls `sphinx-build`) from PATH.
export PATH := $(BIN):$(PATH)

.PHONY: help setup book book-instructor linkcheck browser-deps test test-fast lint format lab lab-instructor student-work release grade bench seeds clean

help:
	@echo "make book                  build the HTML book (first run installs .venv)"
	@echo "make book-instructor       the book with solutions and hidden tests (_build/instructor/html; never publish)"
	@echo "make linkcheck             check the book's external links (skipped when offline)"
	@echo "make test                  run the whole test suite (installs Chromium for the browser test when it can)"
	@echo "make test-fast             the quick part while working: no whole notebook, no book, no browser"
	@echo "make lint                  check formatting and lint (ruff; configured in pyproject.toml)"
	@echo "make format                apply ruff's auto-fixes and formatter (then \`make release\`)"
	@echo "make lab                   the student's JupyterLab on work/ (your copy of notebooks/), with Validate"
	@echo "make lab-instructor        JupyterLab on the repository with nbgrader's formgrader and Create Assignment"
	@echo "make release               regenerate notebooks/ (student edition) from solutions/"
	@echo "make grade SUBMISSIONS=DIR grade a folder of submissions (DIR/<student>/<chapter>.ipynb)"
	@echo "make bench [QUICK=1]       measure the course (bench/run.py): writes bench/results.json"
	@echo "make seeds N=5 [JOBS=2]    run every chapter with N other seeds (JOBS side by side) and list the cells that fail"

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

book-instructor: $(STAMP)
	@# Copies book/, _config.yml, _toc.yml and solutions/ into _build/instructor/src, puts
	@# every solution and hidden test into a collapsed block, and builds from there.
	env -u MPLBACKEND $(BIN)/python book/_ext/instructor.py
	@echo "The instructor edition is at $(CURDIR)/_build/instructor/html/index.html (it shows solutions: do not publish it)"

linkcheck: $(STAMP)
	@# Offline (or behind a firewall) there is nothing to check: say so and succeed.
	@if $(BIN)/python -c "import urllib.request as u; u.urlopen(u.Request('https://doi.org', method='HEAD'), timeout=8)" >/dev/null 2>&1; then \
	  env -u MPLBACKEND $(BIN)/jupyter-book build . --builder linkcheck; \
	else \
	  echo "linkcheck skipped: no network (https://doi.org is not reachable from here)."; \
	fi

# The browser test (tests/test_browser.py) drives the system's Chromium through Playwright.
# Install it when it is missing and we can: as root, with apt-get (Debian, Ubuntu, CI).
# Best effort: where that is impossible the browser test skips and says why.
BROWSER_LOG := $(CURDIR)/.workspace/browser-deps.log
browser-deps:
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then \
	  :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "browser-deps: installing Chromium with apt-get for the browser test (log: $(BROWSER_LOG)) ..."; \
	  mkdir -p $(dir $(BROWSER_LOG)); \
	  if { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-liberation; } >$(BROWSER_LOG) 2>&1; then \
	    echo "browser-deps: Chromium installed."; \
	  else \
	    echo "browser-deps: could not install Chromium (see $(BROWSER_LOG)); the browser test will be skipped."; \
	  fi; \
	else \
	  echo "browser-deps: Chromium is not installed and cannot be installed here (that needs root and apt-get);"; \
	  echo "browser-deps: the browser test will be skipped. Install chromium to run it."; \
	fi

test: $(STAMP) browser-deps
	$(BIN)/python -m pytest

# Everything but the `slow` tests (whole-notebook executions, the book, end-to-end grading of a
# chapter, the browser): per-exercise checks, mutants, the release, the grader's parts. Not for CI.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

# Ruff reads its configuration (paths, line length, rules) from pyproject.toml.
lint: $(STAMP)
	@status=0; $(BIN)/ruff check . || status=1; $(BIN)/ruff format --check . || status=1; \
	if [ $$status != 0 ]; then echo "lint: run \`make format\`, then fix by hand what it still reports"; fi; \
	exit $$status

# Auto-fixes first (import order, unused imports), then the formatter; the last check
# lists what is left for a person to fix. notebooks/ is generated: run `make release` after.
format: $(STAMP)
	$(BIN)/ruff check --fix --exit-zero --silent .
	$(BIN)/ruff format .
	$(BIN)/ruff check .
	@echo "If solutions/ changed, run \`make release\` to regenerate the student edition."

# Both JupyterLabs are configured by lab/lab_config.py (which plugins and server extensions
# each mode has) and run from the repository root: Validate and the formgrader read
# ./nbgrader_config.py from there.
LAB = $(BIN)/jupyter lab --config=$(CURDIR)/lab/lab_config.py $(if $(filter 0,$(shell id -u)),--allow-root) $(LABFLAGS)

lab: $(STAMP) student-work
	DLCOURSE_LAB=student $(LAB)

lab-instructor: $(STAMP)
	DLCOURSE_LAB=instructor $(LAB)

# The student's own copy of the student edition: a chapter's folder is copied from notebooks/
# into work/ (git ignores it) the first time, and never again, so neither `git pull` nor
# `make release` can overwrite an answer. Delete work/<id>/ to start that chapter afresh.
WORK ?= work
student-work:
	@for dir in notebooks/[0-9][0-9]_*/; do \
	  id=$$(basename $$dir); \
	  if [ ! -e "$(WORK)/$$id" ]; then \
	    mkdir -p "$(WORK)" && cp -R "$$dir" "$(WORK)/$$id" && echo "student-work: $(WORK)/$$id/ is your copy of $$id"; \
	  fi; \
	done

release: $(STAMP)
	@for ch in $(CHAPTERS); do \
	  $(BIN)/nbgrader generate_assignment $$ch --force --log-level=WARN || exit 1; \
	done
	@echo "Regenerated notebooks/ for: $(CHAPTERS)"

grade: $(STAMP)
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=DIR [CHAPTER=01_autodiff]"; exit 2; }
	@$(BIN)/python -m grader $(SUBMISSIONS) $(if $(CHAPTER),--chapter $(CHAPTER)) $(if $(OUT),--out $(OUT))

# Every chapter with N other seeds (offsets 1..N of DLCOURSE_SEED_OFFSET); reports each failing cell.
# A developer's tool: it costs N times the whole course, and `make test` never runs it.
N ?= 5
seeds: $(STAMP)
	$(BIN)/python -c 'import sys; from dlcourse.seeds import main; sys.exit(main(sys.argv[1:]))' --n $(N) $(if $(JOBS),--jobs $(JOBS)) $(CHAPTERS_ARG)

# bench/run.py writes bench/results.json and prints the table (the book's "How fast is this
# course?" page shows the committed file). QUICK=1: small sizes, one chapter, a few submissions.
bench: $(STAMP)
	$(BIN)/python bench/run.py $(if $(QUICK),--quick) $(BENCH_ARGS)

clean:
	rm -rf _build .workspace
