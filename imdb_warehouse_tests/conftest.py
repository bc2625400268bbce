"""The fixtures the test modules share: the settings in effect, real Postgres, the offline IMDb,
the reference material.

Test databases on real Postgres: the embedded server, and the server at 127.0.0.1:5432. Every
test that asks for `database_url` runs once per backend, each time in a database of its own that
is dropped afterwards. The server backend is used when it answers; set
IMDB_WAREHOUSE_TEST_REQUIRE_SERVER=1 (CI does) to make its absence an error instead. Nothing
here connects or starts anything when it is imported: the server is asked once, when pytest
configures itself.

The offline IMDb: each module has a catalogue and a replay server of its own, serving
`replay_day` (a module overrides that fixture, or `replay_seed`, to serve another day or seed).
"""

import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import psycopg
import pytest

from imdb_warehouse.replay.catalogue import Catalogue
from imdb_warehouse.replay.server import ReplayServer
from imdb_warehouse.resources import PostgresPolarsIOManager, PostgresResource
from imdb_warehouse.resources.postgres import embedded_database_url, stop_embedded_server
from imdb_warehouse.settings import SETTINGS
from imdb_warehouse_tests.databases import SERVER_URL, new_database, server_answers
from imdb_warehouse_tests.helpers import REPLAY_DAY
from imdb_warehouse_tests.reference import candidates, reference_dir

REQUIRE_SERVER = "IMDB_WAREHOUSE_TEST_REQUIRE_SERVER"
BACKENDS = pytest.StashKey[list[str]]()


# --- Postgres ---


def pytest_configure(config: pytest.Config) -> None:
    answers = server_answers()
    if not answers and os.environ.get(REQUIRE_SERVER) == "1":
        raise pytest.UsageError(
            f"{REQUIRE_SERVER}=1 but no Postgres answers at {SERVER_URL}: start it, or set "
            f"IMDB_WAREHOUSE_TEST_SERVER_URL to one that answers"
        )
    config.stash[BACKENDS] = ["embedded", "server"] if answers else ["embedded"]


def pytest_report_header(config: pytest.Config) -> str:
    return f"warehouse backends: {', '.join(config.stash[BACKENDS])} (server URL {SERVER_URL})"


def _names_its_backend(metafunc: pytest.Metafunc) -> bool:
    """Whether the test parametrizes `backend_url` itself (e.g. the embedded server only)."""
    for marker in metafunc.definition.iter_markers(name="parametrize"):
        names = marker.args[0] if marker.args else marker.kwargs.get("argnames", ())
        if isinstance(names, str):
            names = [name.strip() for name in names.split(",")]
        if "backend_url" in names:
            return True
    return False


@pytest.hookimpl(tryfirst=True)  # the backend first in test ids, as when it was a fixture param
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test that needs a backend runs on each backend that answers."""
    if "backend_url" in metafunc.fixturenames and not _names_its_backend(metafunc):
        backends = metafunc.config.stash[BACKENDS]
        metafunc.parametrize("backend_url", backends, indirect=True, scope="session")


@pytest.fixture(scope="session", autouse=True)
def no_settings_from_the_shell() -> Iterator[None]:
    """The tests start from the defaults, whatever the shell running them exports (PORT,
    IMDB_SOURCE, DAGSTER_HOME…): a test sets the settings it needs, for itself and for the
    processes it starts."""
    with pytest.MonkeyPatch.context() as session:
        for name in [setting.name for setting in SETTINGS] + ["DAGSTER_HOME"]:
            session.delenv(name, raising=False)
        yield


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


@pytest.fixture(scope="session")
def backend_url(request: pytest.FixtureRequest) -> str:
    """The admin URL of a backend: "embedded" or "server" (see pytest_generate_tests)."""
    if request.param == "server":
        return SERVER_URL
    return embedded_database_url(request.getfixturevalue("embedded_home"))


@pytest.fixture(scope="session")
def server_url() -> str:
    """The admin URL of the Postgres server, for the tests that need that server itself."""
    if not server_answers():
        pytest.skip(f"needs the Postgres server at {SERVER_URL}")
    return SERVER_URL


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


# --- the offline IMDb ---


@pytest.fixture(scope="module")
def replay_day() -> date:
    """The day the module's replay servers serve at the start of each test."""
    return REPLAY_DAY


@pytest.fixture(scope="module")
def replay_seed() -> int:
    """The seed of the module's catalogue and of its replay servers' faults and page shapes."""
    return 0


@pytest.fixture(scope="module")
def catalogue(replay_seed: int) -> Catalogue:
    """The synthetic IMDb, one a module: it makes its movies as days are asked about, so what a
    module sees of it never depends on another module."""
    return Catalogue(replay_seed)


@pytest.fixture(scope="module")
def replay_server(replay_day: date, replay_seed: int, catalogue: Catalogue):
    """The module's replay server, running while the module's tests run; tests take `replay`."""
    with ReplayServer(day=replay_day, seed=replay_seed, catalogue=catalogue) as server:
        yield server


@pytest.fixture
def replay(replay_server: ReplayServer, replay_day: date) -> Iterator[ReplayServer]:
    """The module's replay server as each test starts with it: no faults, serving `replay_day`,
    an empty request log. A test's faults end with the test."""
    replay_server.set_faults([])
    replay_server.set_day(replay_day)
    replay_server.reset()
    yield replay_server
    replay_server.set_faults([])


@pytest.fixture
def own_replay(replay_day: date, replay_seed: int, catalogue: Catalogue):
    """A replay server of the test's own, stopped after it: for tests whose requests may outlive
    them (a slow answer to a killed or timed-out client) and must not reach the next test's log."""
    with ReplayServer(day=replay_day, seed=replay_seed, catalogue=catalogue) as server:
        yield server


# --- the reference material ---


@pytest.fixture(scope="session")
def reference() -> Path:
    """The folder of the reference material (shared/imdb_reference). Its absence fails the
    tests that read it: they are never skipped for want of it."""
    found = reference_dir()
    if found is None:
        places = ", ".join(str(place) for place in candidates())
        pytest.fail(
            f"the reference material (shared/imdb_reference, with FORMAT.md) is in none of: "
            f"{places}; set IMDB_REFERENCE_DIR to its folder",
            pytrace=False,
        )
    return found
