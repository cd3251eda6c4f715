# The commands of this project:  make book  ·  make test  ·  make lab
SHELL := /bin/bash
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HTML   := _build/html
# The static build: live panels render as a note instead of widgets.
BUILD_ENV := OPTIMLAB_BOOK=1 PYDEVD_DISABLE_FILE_VALIDATION=1

.PHONY: book test unit build-strict browser bench clean lab lite

# (Re)create the virtual environment whenever requirements.txt or pyproject.toml change.
$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.txt
	@touch $(STAMP)

# The execution cache keys on a chapter's text only: when optimlab changed since the last build,
# every chapter must run again.
# (Compared with a stamp touched after each build: Sphinx does not rewrite unchanged pages, and
# index.html, a redirect, is written once.)
BUILT  := $(HTML)/.built
STALE = $(shell [ -f $(BUILT) ] && find optimlab book/_ext \( -name '*.py' -o -name '*.js' \) -newer $(BUILT) | head -1)

## make lite: the JupyterLite site behind "Run in your browser" (tools/lite.py); rebuilt only when
## its inputs change. Downloads (pinned, checksummed) are cached in _build/.lite-cache.
LITE := _build/lite
LITE_INPUTS := tools/lite.py tools/lab.py tools/lite-requirements.txt pyproject.toml \
	$(wildcard optimlab/*.py optimlab/assets/*) $(wildcard book/0*.md)
lite: $(LITE)/.built
$(LITE)/.built: $(STAMP) $(LITE_INPUTS)
	$(BIN)/python tools/lite.py
	@touch $@
# The book serves the lite site under lite/ (hard links: no second copy on disk).
COPY_LITE = rm -rf $(HTML)/lite && cp -al $(LITE) $(HTML)/lite && rm -f $(HTML)/lite/.built && touch $(BUILT)

## make book: execute every chapter (cached) and build the HTML book, with the lite site.
book: $(STAMP) $(LITE)/.built
	$(if $(STALE),rm -rf _build/.jupyter_cache)
	$(BUILD_ENV) $(BIN)/jupyter-book build . $(if $(STALE),--all)
	$(COPY_LITE)
	@echo
	@echo "The book is built. Open it with:  xdg-open $(CURDIR)/$(HTML)/index.html"
	@echo "(or serve it: $(BIN)/python -m http.server -d $(HTML) 8000  →  http://127.0.0.1:8000)"

## make lab: JupyterLab on the chapters, opened with the outputs of the last build (Ctrl-C to stop).
## Extra JupyterLab options: make lab LAB_ARGS="--no-browser --ServerApp.port=8899"
lab: book
	$(BIN)/python tools/lab.py $(LAB_ARGS)

## make test: unit tests, every chapter re-executed in a warnings-as-errors build, browser tests.
test: unit build-strict browser

unit: $(STAMP)
	$(BIN)/pytest tests --ignore=tests/browser -q

build-strict: $(STAMP) $(LITE)/.built
	rm -rf _build/.jupyter_cache
	$(BUILD_ENV) $(BIN)/jupyter-book build . --all -W -n --keep-going
	$(COPY_LITE)

browser: $(STAMP)
	$(BIN)/pytest tests/browser -q

## make bench: the speed and size figures (not part of the tests).
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_grid.py
	$(BIN)/python benchmarks/bench_explorer.py --book
	$(BIN)/python benchmarks/bench_book.py
	$(BIN)/python benchmarks/bench_lite.py
	$(BIN)/python benchmarks/bench_lab.py

clean:
	rm -rf _build
