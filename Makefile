# Careline — run `make help` for the list.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_URL ?= postgres://postgres@127.0.0.1:5432/careline_test
DEMO_PATIENTS ?= 300
PYTEST_WORKERS ?= 2
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help install demo serve test test-postgres check format bench bench-full clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Careline needs Python 3.11 or newer ($(PYTHON) is older)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP) ## Create .venv and install Careline with its development tools

demo: $(STAMP) ## Install, migrate, load a realistic demo and serve http://127.0.0.1:8000 (SQLite)
	CARELINE_ENV=demo $(BIN)/careline demo --patients $(DEMO_PATIENTS)

test: $(STAMP) ## Run the test suite (SQLite; DATABASE_URL=postgres://… for PostgreSQL)
	$(BIN)/pytest -n $(PYTEST_WORKERS) -p xdist $(PYTEST_ARGS)

test-postgres: $(STAMP) ## Run the test suite on PostgreSQL ($(PG_URL))
	DATABASE_URL=$(PG_URL) $(BIN)/pytest -n $(PYTEST_WORKERS) -p xdist $(PYTEST_ARGS)

check: $(STAMP) ## Gates: ruff format + lint, mypy strict, import-linter layers, migrations up to date
	$(BIN)/ruff format --check src bench
	$(BIN)/ruff check src bench
	$(BIN)/mypy src/careline
	$(BIN)/lint-imports
	$(BIN)/python -m careline.config.manage makemigrations --check --dry-run

format: $(STAMP) ## Format and auto-fix the code
	$(BIN)/ruff format src bench
	$(BIN)/ruff check --fix src bench

bench: $(STAMP) ## Benchmarks against the DESIGN.md budgets (PostgreSQL; 100,000 patients)
	bash bench/run.sh

bench-full: $(STAMP) ## The full benchmark run at 1,000,000 patients
	BENCH_PATIENTS=1000000 bash bench/run.sh

clean: ## Remove the virtualenv and local data
	rm -rf $(VENV) var
