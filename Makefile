# Build and test harness. `make test` is what CI runs (.ci/run); each target sets up what it needs.
#
#   make setup    .venv (pip install -e '.[dev]' when pyproject.toml changed), npm ci (when
#                 package-lock.json changed), Java for DynamoDB Local (installed when root on Debian)
#   make lint     ruff check, ruff format --check, mypy --strict
#   make test     setup + lint + pytest (all of tests/)
#   make unit     pytest -m "not integration": every test but DynamoDB Local's, no Java needed
#   make format   ruff format + ruff check --fix
#   make dev      setup, then the local stack until Ctrl-C (docs/local.md); ARGS="--port 0 ..."
#   make feed     FILE=x.jsonl TYPE=actor: send a JSONL file of contents to the local stack's bus
#   make backfill TYPE=actor: write a content type's index values onto its existing records
#                 (RECORDS_TABLE_NAME, and RECORDS_DYNAMODB_ENDPOINT for a local table; docs/backfill.md)
#   make migrate TYPE=actor: rewrite a content type's records stored at older schema versions
#                 (the same variables; docs/schema-versions.md)
#   make bench    the side-by-side benchmarks on DynamoDB Local; rewrites docs/benchmarks.md

PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
NPM ?= npm
JAVA ?= java
# DynamoDB Local 3.x needs Java 17 or later.
JAVA_MIN_VERSION := 17
JAVA_APT_PACKAGE := openjdk-17-jre-headless

PY_STAMP := $(VENV)/.pyproject.sha256
NODE_STAMP := node_modules/.package-lock.sha256

# Folders type-checked by mypy: those of the list that exist and hold .py files, plus top-level .py.
MYPY_DIRS := shared records_service lambdas infra layer local_stack tests benchmarks
mypy_targets = $(strip $(foreach d,$(MYPY_DIRS),$(if $(shell find $(d) -name '*.py' -print -quit 2>/dev/null),$(d))) $(wildcard *.py))

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

.PHONY: help setup setup-python setup-node setup-java setup-browser lint test unit format dev feed bench

help:
	@echo "make setup | lint | test | unit | format | dev | feed | backfill | migrate | bench | layer | synth | cold-imports   (PYTHON=$(PYTHON))"

setup: setup-python setup-node setup-java setup-browser

# The venv is (re)created when missing or broken; the install runs only when pyproject.toml's
# content differs from what was last installed (its hash is kept in the venv).
setup-python:
	@if ! $(BIN)/python -c 'import sys' >/dev/null 2>&1; then \
	  command -v $(PYTHON) >/dev/null 2>&1 || { echo "ERROR: $(PYTHON) not found: install Python 3.11 or run 'make PYTHON=/path/to/python3.11 setup'" >&2; exit 1; }; \
	  echo ">> creating $(VENV) with $(PYTHON)"; \
	  $(PYTHON) -m venv --clear $(VENV); \
	  rm -f $(PY_STAMP); \
	fi
	@want=$$(sha256sum pyproject.toml | cut -d' ' -f1); \
	if [ "$$(cat $(PY_STAMP) 2>/dev/null)" != "$$want" ]; then \
	  echo ">> pip install -e '.[dev]' (pyproject.toml changed since the last install)"; \
	  $(BIN)/python -m pip install --disable-pip-version-check --no-input -q -e '.[dev]'; \
	  echo "$$want" > $(PY_STAMP); \
	else \
	  echo ">> python deps up to date ($(VENV))"; \
	fi

# npm ci only when package.json/package-lock.json changed since the last one (hash kept in
# node_modules, which npm ci wipes first).
setup-node:
	@command -v $(NPM) >/dev/null 2>&1 || { echo "ERROR: npm not found: install Node.js 20+ (Debian: apt-get install -y nodejs npm)" >&2; exit 1; }
	@want=$$(cat package.json package-lock.json | sha256sum | cut -d' ' -f1); \
	if [ "$$(cat $(NODE_STAMP) 2>/dev/null)" != "$$want" ]; then \
	  echo ">> npm ci (package-lock.json changed since the last install)"; \
	  $(NPM) ci --no-audit --no-fund --loglevel=error; \
	  echo "$$want" > $(NODE_STAMP); \
	else \
	  echo ">> node deps up to date (node_modules)"; \
	fi

# Java for DynamoDB Local: installed automatically on a fresh Debian machine when we are root.
setup-java:
	@java_major() { $(JAVA) -version 2>&1 | sed -n 's/.* version "\([0-9]*\).*/\1/p' | head -n1; }; \
	if ! $(JAVA) -version >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo ">> java not found: apt-get install -y $(JAVA_APT_PACKAGE)"; \
	    apt-get update -qq </dev/null; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(JAVA_APT_PACKAGE) </dev/null; \
	  else \
	    echo "ERROR: java not found. DynamoDB Local (the integration tests) needs Java $(JAVA_MIN_VERSION)+." >&2; \
	    echo "       On Debian/Ubuntu: sudo apt-get install -y $(JAVA_APT_PACKAGE)" >&2; \
	    exit 1; \
	  fi; \
	fi; \
	major=$$(java_major); \
	if [ -z "$$major" ] || [ "$$major" -lt $(JAVA_MIN_VERSION) ]; then \
	  echo "ERROR: DynamoDB Local needs Java $(JAVA_MIN_VERSION)+, found: $$($(JAVA) -version 2>&1 | head -n1)" >&2; \
	  echo "       On Debian/Ubuntu: apt-get install -y $(JAVA_APT_PACKAGE)" >&2; \
	  exit 1; \
	fi; \
	echo ">> java ok: $$($(JAVA) -version 2>&1 | head -n1)"

# Chromium and chromedriver for the docs-page browser test (tests/e2e), from Debian: installed
# when missing and we are root (CI); otherwise a warning, since only that test needs them.
setup-browser:
	@if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then \
	  echo ">> chromium ok: $$(chromium --version 2>/dev/null | head -n1)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo ">> chromium/chromedriver not found: apt-get install -y chromium chromium-driver"; \
	  apt-get update -qq </dev/null; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver </dev/null; \
	else \
	  echo "WARNING: chromium/chromedriver not found; the docs-page browser test will fail." >&2; \
	  echo "         On Debian/Ubuntu: sudo apt-get install -y chromium chromium-driver" >&2; \
	fi

# The README's first command: the whole service on this machine (docs/local.md). Java is
# needed only for ARGS=--dynamodb-local (setup-java), Chromium only for the tests.
dev: setup-python setup-node
	$(BIN)/python -m local_stack $(ARGS)

feed: setup-python
	@[ -n "$(FILE)" ] && [ -n "$(TYPE)" ] || { echo "usage: make feed FILE=contents.jsonl TYPE=actor [ARGS='--detail-type RecordsOffered']" >&2; exit 2; }
	$(BIN)/python -m local_stack.feed "$(FILE)" --content-type "$(TYPE)" $(ARGS)

# Resumable: the checkpoint (CHECKPOINT, default build/backfill-TYPE.json) lets a rerun continue;
# delete it to scan again from the start.
.PHONY: backfill
CHECKPOINT ?= build/backfill-$(TYPE).json
backfill: setup-python
	@[ -n "$(TYPE)" ] || { echo "usage: RECORDS_TABLE_NAME=records [RECORDS_DYNAMODB_ENDPOINT=http://127.0.0.1:8000] make backfill TYPE=actor [CHECKPOINT=file.json] [ARGS='--segments 8 --rate 500 --dry-run']" >&2; exit 2; }
	@[ -n "$${RECORDS_TABLE_NAME:-}" ] || { echo "ERROR: set RECORDS_TABLE_NAME to the table to backfill (and RECORDS_DYNAMODB_ENDPOINT for a local one)" >&2; exit 2; }
	$(BIN)/python -m records_service.backfill --content-type "$(TYPE)" --checkpoint "$(CHECKPOINT)" $(ARGS)

# The migration backfill, as resumable (default checkpoint build/migrate-TYPE.json).
.PHONY: migrate
migrate: setup-python
	@[ -n "$(TYPE)" ] || { echo "usage: RECORDS_TABLE_NAME=records [RECORDS_DYNAMODB_ENDPOINT=http://127.0.0.1:8000] make migrate TYPE=actor [CHECKPOINT=file.json] [ARGS='--segments 8 --rate 500 --dry-run']" >&2; exit 2; }
	@[ -n "$${RECORDS_TABLE_NAME:-}" ] || { echo "ERROR: set RECORDS_TABLE_NAME to the table to migrate (and RECORDS_DYNAMODB_ENDPOINT for a local one)" >&2; exit 2; }
	$(BIN)/python -m records_service.migrate --content-type "$(TYPE)" --checkpoint "$(if $(filter command line environment,$(origin CHECKPOINT)),$(CHECKPOINT),build/migrate-$(TYPE).json)" $(ARGS)

lint: setup-python
	@rc=0; \
	echo "$(BIN)/ruff check ."; $(BIN)/ruff check . || rc=1; \
	echo "$(BIN)/ruff format --check ."; $(BIN)/ruff format --check . || rc=1; \
	echo "$(BIN)/mypy --strict $(mypy_targets)"; $(BIN)/mypy --strict $(mypy_targets) || rc=1; \
	if [ $$rc -ne 0 ]; then echo "ERROR: lint failed (see above); 'make format' fixes formatting" >&2; fi; \
	exit $$rc

# Lint and pytest both run, so one CI run reports both; any failure fails the target. pytest
# exits 5 when it collected no tests: that is a failure here too (as is any non-zero code).
test: setup
	@lint_rc=0; $(MAKE) --no-print-directory lint || lint_rc=$$?; \
	rc=0; echo "$(BIN)/pytest"; $(BIN)/pytest || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "ERROR: pytest collected no tests" >&2; fi; \
	if [ $$lint_rc -ne 0 ]; then echo "ERROR: make lint failed (see above)" >&2; fi; \
	if [ $$rc -ne 0 ]; then exit $$rc; fi; \
	exit $$lint_rc

# Every test that needs no DynamoDB Local, so no Java: no setup-java. npm (Swagger UI's assets
# for the docs-page tests) and Chromium (their browser) are set up as for `make test`.
unit: setup-python setup-node setup-browser
	@rc=0; echo "$(BIN)/pytest -m 'not integration'"; $(BIN)/pytest -m "not integration" || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "ERROR: pytest collected no tests" >&2; fi; \
	exit $$rc

format: setup-python
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The benchmarks (docs/benchmarks.md, which this rewrites): DynamoDB Local needs Java and the jar
# from node_modules; the 0.4.2 venv (.bench-venv-042/) and the peers' one (.bench-venv-peers/:
# pydynox, aiodynamo, matplotlib for the plot) are built on first use.
bench: setup-python setup-node setup-java
	mkdir -p build
	$(BIN)/python -m benchmarks.run --n 2000 --runs 5 --write-docs --json build/bench.json
	.bench-venv-peers/bin/python -m benchmarks.plot build/bench.json docs/benchmarks-cpu.png

# --- The CDK app (docs/deploy.md) --------------------------------------------------------------
.PHONY: layer synth cold-imports

# The Lambda layer (layer/): installed with the Lambda platform's wheels (no Docker), optimized
# (pruned, bytecode for the cold starts), checked and zipped; reused until its inputs change
# (build/layer/<input hash>/layer.zip). Then verified as Lambda gets it: invariants, imports,
# zipped size within its budget.
layer: setup-python
	$(BIN)/python -m layer.build
	$(BIN)/python -m layer.verify

# The CloudFormation template and assets in cdk.out/, offline; cdk-nag runs as part of it.
synth: setup-python setup-node
	npx cdk synth --quiet

# Each handler's cold import from the synthesized artifact under the runtime's Python (median of 5).
cold-imports: synth
	$(BIN)/python -m layer.assembly cdk.out
