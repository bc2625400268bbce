"""Test databases on real Postgres: the embedded server, and the server at 127.0.0.1:5432.

Every test that asks for `database_url` runs once per backend, each time in a database of its
own that is dropped afterwards. The server backend is used when it answers; set
IMDB_WAREHOUSE_TEST_REQUIRE_SERVER=1 (CI does) to make its absence an error instead.
"""

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from imdb_warehouse.resources import PostgresPolarsIOManager, PostgresResource
from imdb_warehouse.resources.postgres import (
    embedded_database_url,
    stop_embedded_server,
    temporary_database,
)

SERVER_URL = os.environ.get(
    "IMDB_WAREHOUSE_TEST_SERVER_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def _server_answers() -> bool:
    try:
        psycopg.connect(SERVER_URL, connect_timeout=3).close()
        return True
    except psycopg.OperationalError:
        return False


SERVER_ANSWERS = _server_answers()
if not SERVER_ANSWERS and os.environ.get("IMDB_WAREHOUSE_TEST_REQUIRE_SERVER") == "1":
    raise pytest.UsageError(
        f"IMDB_WAREHOUSE_TEST_REQUIRE_SERVER=1 but no Postgres answers at {SERVER_URL}"
    )
BACKENDS = ["embedded", "server"] if SERVER_ANSWERS else ["embedded"]


def pytest_report_header() -> str:
    return f"warehouse backends: {', '.join(BACKENDS)} (server URL {SERVER_URL})"


@pytest.fixture(autouse=True)
def warehouse_home(tmp_path_factory, monkeypatch) -> Path:
    """Every test's local state (logs, reports) in a folder of its own, never the user's
    .imdb_warehouse; a test that needs a home of its own sets IMDB_WAREHOUSE_HOME again."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("IMDB_WAREHOUSE_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def embedded_home() -> Iterator[Path]:
    """An embedded server of its own for the test session (not the user's .imdb_warehouse).

    Outside pytest's temporary tree, which a concurrent pytest session may prune.
    """
    home = Path(tempfile.mkdtemp(prefix="imdbw-test-home-"))
    yield home
    stop_embedded_server(home)
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session", params=BACKENDS)
def backend_url(request: pytest.FixtureRequest) -> str:
    if request.param == "server":
        return SERVER_URL
    return embedded_database_url(request.getfixturevalue("embedded_home"))


def new_database(admin_url: str):
    """A new, empty database on the server of `admin_url`, dropped afterwards."""
    return temporary_database(admin_url, prefix="imdbw_test")


@pytest.fixture
def database_url(backend_url: str) -> Iterator[str]:
    """A new, empty database on the backend, dropped after the test."""
    with new_database(backend_url) as url:
        yield url


@pytest.fixture
def io_manager(database_url: str) -> PostgresPolarsIOManager:
    return PostgresPolarsIOManager(postgres=PostgresResource(database_url=database_url))


@pytest.fixture
def sql(database_url: str):
    """Run one query on the test database and return its rows."""

    def run(query: str, params: tuple = ()) -> list[tuple]:
        with psycopg.connect(database_url) as conn:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else []

    return run
