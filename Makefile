# The commands of this project:  make book  ·  make test  ·  make lab
SHELL := /bin/bash
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HTML   := _build/html
# The static build: live panels render as a note instead of widgets.
BUILD_ENV := OPTIMLAB_BOOK=1 PYDEVD_DISABLE_FILE_VALIDATION=1

.PHONY: book test unit build-strict browser bench clean lab lite execute prepare

# (Re)create the virtual environment whenever requirements.txt or pyproject.toml change.
$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.txt
	@touch $(STAMP)

## make lite: the JupyterLite site behind "Run in your browser" (tools/lite.py); rebuilt only when
## its inputs change. Downloads (pinned, checksummed) are cached in _build/.lite-cache.
LITE := _build/lite
LITE_INPUTS := tools/lite.py tools/lab.py tools/lite-requirements.txt pyproject.toml \
	$(wildcard optimlab/*.py optimlab/assets/*) $(wildcard book/[0-9][0-9]*.md) book/notation.md book/sources.md book/references.bib
lite: $(LITE)/.built
$(LITE)/.built: $(STAMP) $(LITE_INPUTS)
	$(BIN)/python tools/lite.py
	@touch $@
# The book serves the lite site under lite/ (hard links: no second copy on disk).
COPY_LITE = rm -rf $(HTML)/lite && cp -al $(LITE) $(HTML)/lite && rm -f $(HTML)/lite/.built

## make execute: every chapter not yet in the execution cache, run in parallel (one kernel per
## core; JOBS=N for N at a time) into the cache Jupyter Book reads (tools/execute.py). The cache
## keys on a chapter's code; when optimlab, book/_ext, requirements.txt, pyproject.toml or the
## execute settings change, the whole cache is dropped and every chapter runs (and every page is
## read) again.
execute: $(STAMP)
	$(BUILD_ENV) $(BIN)/python tools/execute.py $(if $(JOBS),--jobs $(JOBS))
# The lite site serves the chapters' outputs from the book (for the cells that need PyTorch), so
# it is built after the execution.
prepare: $(STAMP)
	@$(MAKE) --no-print-directory execute
	@$(MAKE) --no-print-directory lite

## make book: execute every chapter (cached) and build the HTML book, with the lite site.
book: prepare
	$(BUILD_ENV) $(BIN)/jupyter-book build .
	$(COPY_LITE)
	@echo
	@echo "The book is built. Open it with:  xdg-open $(CURDIR)/$(HTML)/index.html"
	@echo "(or serve it: $(BIN)/python -m http.server -d $(HTML) 8000  →  http://127.0.0.1:8000)"

## make lab: JupyterLab (and Notebook 7, under /tree) on the chapters, opened with the outputs of
## their cached execution: only the venv and `make execute`, no HTML book, no lite site (Ctrl-C to stop).
## Extra JupyterLab options: make lab LAB_ARGS="--no-browser --ServerApp.port=8899"
lab: execute
	$(BIN)/python tools/lab.py $(LAB_ARGS)

## make test: unit tests, the warnings-as-errors build of every page (chapters executed unless
## the cache is current for the same sources, optimlab and requirements), browser tests.
test: unit build-strict browser

unit: $(STAMP)
	$(BIN)/pytest tests --ignore=tests/browser -q

build-strict: prepare
	$(BUILD_ENV) $(BIN)/jupyter-book build . --all -W -n --keep-going
	$(COPY_LITE)

browser: $(STAMP)
	$(BIN)/pytest tests/browser -q

## make bench: the speed and size figures (not part of the tests).
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_grid.py
	$(BIN)/python benchmarks/bench_torch.py
	$(BIN)/python benchmarks/bench_torch_compile.py
	$(BIN)/python benchmarks/bench_nets.py
	$(BIN)/python benchmarks/bench_explorer.py --book
	$(BIN)/python benchmarks/bench_book.py
	$(BIN)/python benchmarks/bench_lite.py
	$(BIN)/python benchmarks/bench_lab.py

clean:
	rm -rf _build
