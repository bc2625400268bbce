# imdb_warehouse: `make test` and `make demo` set everything up themselves.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
PORT ?= 3000
WAREHOUSE_HOME := $(or $(IMDB_WAREHOUSE_HOME),$(CURDIR)/.imdb_warehouse)
DEV_DAGSTER_HOME := $(WAREHOUSE_HOME)/dagster

.PHONY: install test test-fast lint dev bench demo run

install: $(VENV)/.installed

# The versions of uv.lock exactly (`uv lock` updates it after a change of pyproject.toml), the
# project editable, with its dev extra; uv itself is the lockfile's (the dev extra pins it).
$(VENV)/.installed: pyproject.toml uv.lock
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "imdb_warehouse needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	UV_PROJECT_ENVIRONMENT=$(VENV) UV_PYTHON_DOWNLOADS=never $(BIN)/uv sync --quiet --locked \
		--extra dev --compile-bytecode --python $(BIN)/python
	touch $@

# two workers, a test module each at a time (a module shares its servers and runs)
TEST_WORKERS ?= 2
test: install
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# the suites without a browser, services, killed processes or the bench: a developer's loop
test-fast: install
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile -m "not slow" $(PYTEST_ARGS)

lint: install $(DEV_DAGSTER_HOME)/dagster.yaml
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	DAGSTER_HOME=$(DEV_DAGSTER_HOME) $(BIN)/dg check defs

# The Dagster UI on 127.0.0.1:$(PORT), against the warehouse in effect (embedded by default).
dev: install $(DEV_DAGSTER_HOME)/dagster.yaml
	@url=$$($(BIN)/imdb-warehouse db-url --hide-password) && echo "the warehouse: $$url"
	DAGSTER_HOME=$(DEV_DAGSTER_HOME) $(BIN)/dg dev --host 127.0.0.1 --port $(PORT)

$(DEV_DAGSTER_HOME)/dagster.yaml: dev/dagster.yaml
	mkdir -p $(DEV_DAGSTER_HOME)
	cp dev/dagster.yaml $@

# The embedded warehouse, the offline IMDb on a free port, today's refresh, a summary.
demo: install $(DEV_DAGSTER_HOME)/dagster.yaml
	PORT=$(PORT) DAGSTER_HOME=$(DEV_DAGSTER_HOME) $(BIN)/imdb-warehouse demo

# Today's refresh against the configured IMDb (IMDB_BASE_URL; default the live site).
run: install $(DEV_DAGSTER_HOME)/dagster.yaml
	DAGSTER_HOME=$(DEV_DAGSTER_HOME) $(BIN)/imdb-warehouse refresh

bench: install
	$(BIN)/python -m bench
