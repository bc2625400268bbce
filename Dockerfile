# The code location image: the code server, the webserver and the daemon all run it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DAGSTER_HOME=/opt/dagster/home \
    UV_PROJECT_ENVIRONMENT=/opt/venv UV_PYTHON_DOWNLOADS=never UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy PATH=/opt/venv/bin:$PATH
WORKDIR /opt/imdb_warehouse

# The versions of uv.lock exactly, never resolved anew (--locked fails on a stale lockfile),
# without the dev extra; uv is the version the Makefile and the lockfile pin.
COPY pyproject.toml uv.lock README.md ./
COPY imdb_warehouse ./imdb_warehouse
RUN pip install --no-cache-dir uv==0.13.9 \
    && uv sync --locked --no-editable --no-cache \
    && pip uninstall --yes uv

COPY deploy/dagster.yaml /opt/dagster/home/dagster.yaml
COPY deploy/workspace.yaml ./deploy/workspace.yaml

RUN useradd --create-home --uid 10001 dagster \
    && mkdir -p /opt/dagster/home /var/lib/imdb_warehouse \
    && chown -R dagster /opt/dagster/home /var/lib/imdb_warehouse
USER dagster
