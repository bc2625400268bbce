"""Test databases on real Postgres: the embedded server, and the server at 127.0.0.1:5432.

Every test that asks for `database_url` runs once per backend, each time in a database of its
own that is dropped afterwards. The server backend is used when it answers; set
IMDB_WAREHOUSE_TEST_REQUIRE_SERVER=1 (CI does) to make its absence an error instead.
"""

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql as pgsql

from imdb_warehouse.resources import PostgresPolarsIOManager, PostgresResource
from imdb_warehouse.resources.postgres import embedded_database_url, stop_embedded_server

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


def with_database(url: str, database: str) -> str:
    """`url` pointing at another database on the same server."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + database))


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


@contextmanager
def new_database(admin_url: str) -> Iterator[str]:
    """A new, empty database on the server of `admin_url`, dropped afterwards."""
    name = f"imdbw_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(pgsql.SQL("CREATE DATABASE {}").format(pgsql.Identifier(name)))
    try:
        yield with_database(admin_url, name)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(pgsql.SQL("DROP DATABASE {} WITH (FORCE)").format(pgsql.Identifier(name)))


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
