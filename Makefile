# imdb_warehouse: `make test` and `make demo` set everything up themselves.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 3000
WAREHOUSE_HOME := $(or $(IMDB_WAREHOUSE_HOME),$(CURDIR)/.imdb_warehouse)

.PHONY: install test lint dev bench

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "imdb_warehouse needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

test: install
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The Dagster UI on 127.0.0.1:$(PORT), against the warehouse in effect (embedded by default).
dev: install
	mkdir -p $(WAREHOUSE_HOME)/dagster
	cp dev/dagster.yaml $(WAREHOUSE_HOME)/dagster/dagster.yaml
	$(BIN)/imdb-warehouse db-url
	DAGSTER_HOME=$(WAREHOUSE_HOME)/dagster $(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p $(PORT)

bench: install
	$(BIN)/python -m bench
