# The code location image: the code server, the webserver and the daemon all run it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DAGSTER_HOME=/opt/dagster/home
WORKDIR /opt/imdb_warehouse

COPY pyproject.toml README.md ./
COPY imdb_warehouse ./imdb_warehouse
RUN pip install --no-cache-dir .

COPY deploy/dagster.yaml /opt/dagster/home/dagster.yaml
COPY deploy/workspace.yaml ./deploy/workspace.yaml

RUN useradd --create-home --uid 10001 dagster \
    && mkdir -p /opt/dagster/home /var/lib/imdb_warehouse \
    && chown -R dagster /opt/dagster/home /var/lib/imdb_warehouse
USER dagster
