# Sendtrail: `make run` and `make test` are the two commands (README quick start).
SHELL := /bin/bash
.DEFAULT_GOAL := help
# Never let the repo root shadow the standard library's `platform` (see docs/architecture.md).
export PYTHONSAFEPATH := 1

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
WEB := web-admin
WEB_MODULES := $(WEB)/node_modules/.package-lock.json

.PHONY: help run test lint bench accuracy schema system-packages venv web clean

help:
	@echo "make run    - set up, migrate the embedded SQLite database, create the demo, serve"
	@echo "make test   - set up and run the whole suite in parallel (SQLite and PostgreSQL)"
	@echo "make lint   - ruff, mypy (strict) and import-linter"
	@echo "make schema - export the GraphQL schema to web-admin/schema.graphql"
	@echo "make bench  - throughput and read latency against baselines (docs/performance.md)"
	@echo "make accuracy - the classifier on the labelled hit corpus (docs/accuracy.md)"
	@echo "make web    - build the web admin into web-admin/dist (served at / by sendtrail serve)"

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip 2>&1 | grep -v 'is ignored' || true
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]' 2>&1 | grep -v 'is ignored' || true
	$(BIN)/python -c 'import sendtrail, pytest, xdist, litestar, strawberry'
	touch $(STAMP)

venv: $(STAMP)

# npm ci only when node_modules is missing or older than the lockfile; the build (codegen
# from schema.graphql, type check, vite) always runs: it takes seconds.
$(WEB_MODULES): $(WEB)/package.json $(WEB)/package-lock.json
	cd $(WEB) && npm ci --no-audit --no-fund
	touch $(WEB_MODULES)

web: $(WEB_MODULES)
	cd $(WEB) && npm run build --silent

system-packages:
	@scripts/ensure-system-packages

# The SMTP submission relay on loopback (`sendtrail demo` prints how to sign in to it).
run: export SENDTRAIL_SUBMISSION_PORT ?= 2587
run: venv web
	$(BIN)/sendtrail migrate
	@echo "--- sign in to the web admin with:"
	@$(BIN)/sendtrail demo
	@echo "--- serving on http://$(HOST):$(PORT) (Ctrl-C stops)"
	$(BIN)/sendtrail serve --host $(HOST) --port $(PORT)

# In parallel, one worker per core (pytest-xdist; `make test TEST_WORKERS=0` runs serially).
TEST_WORKERS ?= auto

test: venv system-packages web
	$(BIN)/pytest -n $(TEST_WORKERS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/mypy bench
	$(BIN)/lint-imports

# Throughput and latency against a bare-ASGI baseline, measured in the same run: see
# bench/run.py (installs wrk when missing); results go to docs/performance.md.
bench: venv
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# The classifier against the labelled corpus (tests/data/hits): prints the confusion matrix
# and precision/recall, rewrites docs/accuracy.md's figures and the recorded figures, and
# fails if any recorded figure fell (see docs/accuracy.md).
accuracy: venv
	$(BIN)/python -m sendtrail.tracking.accuracy --record

schema: venv
	$(BIN)/sendtrail export-schema --output web-admin/schema.graphql

clean:
	rm -rf $(VENV) var build *.egg-info
