# Sendtrail: `make run` and `make test` are the two commands (README quick start).
SHELL := /bin/bash
.DEFAULT_GOAL := help
# Never let the repo root shadow the standard library's `platform` (see TOOLCHAIN.md).
export PYTHONSAFEPATH := 1

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help run test lint bench schema system-packages venv clean

help:
	@echo "make run    - set up, migrate the embedded SQLite database, create the demo, serve"
	@echo "make test   - set up and run the whole suite (SQLite and PostgreSQL)"
	@echo "make lint   - ruff, mypy (strict) and import-linter"
	@echo "make schema - export the GraphQL schema to web-admin/schema.graphql"

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip 2>&1 | grep -v 'is ignored' || true
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]' 2>&1 | grep -v 'is ignored' || true
	$(BIN)/python -c 'import sendtrail, pytest, litestar, strawberry'
	touch $(STAMP)

venv: $(STAMP)

system-packages:
	@scripts/ensure-system-packages

run: venv
	$(BIN)/sendtrail migrate
	@echo "--- sign in to the web admin with:"
	@$(BIN)/sendtrail demo
	@echo "--- serving on http://$(HOST):$(PORT) (Ctrl-C stops)"
	$(BIN)/sendtrail serve --host $(HOST) --port $(PORT)

test: venv system-packages
	$(BIN)/pytest

lint: venv
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# Throughput and latency against a bare-ASGI baseline, measured in the same run: see
# bench/run.py (installs wrk when missing); results go to docs/performance.md.
bench: venv
	$(BIN)/python bench/run.py $(BENCH_ARGS)

schema: venv
	$(BIN)/sendtrail export-schema --output web-admin/schema.graphql

clean:
	rm -rf $(VENV) var build *.egg-info
