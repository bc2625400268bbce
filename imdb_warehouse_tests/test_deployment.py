"""The deployment's Dagster instance (dagster.yaml) and `make dev`, run for real."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import dagster as dg
import polars as pl
import psycopg
import pytest

from imdb_warehouse.resources import PostgresPolarsIOManager, PostgresResource
from imdb_warehouse.resources.postgres import stop_embedded_server
from imdb_warehouse.settings import DATABASE_URL, HOME
from imdb_warehouse_tests.databases import new_database

pytestmark = pytest.mark.slow  # `make dev` and the deployment instance

PROJECT = Path(__file__).resolve().parents[1]


def test_the_deployment_instance_keeps_runs_and_events_in_postgres(
    tmp_path, monkeypatch, server_url
):
    shutil.copy(PROJECT / "deploy" / "dagster.yaml", tmp_path / "dagster.yaml")
    with new_database(server_url) as dagster_url, new_database(server_url) as warehouse_url:
        parts = urlsplit(dagster_url)
        monkeypatch.setenv("DAGSTER_PG_USER", parts.username or "postgres")
        monkeypatch.setenv("DAGSTER_PG_PASSWORD", parts.password or "unused-with-trust-auth")
        monkeypatch.setenv("DAGSTER_PG_HOST", parts.hostname)
        monkeypatch.setenv("DAGSTER_PG_PORT", str(parts.port or 5432))
        monkeypatch.setenv("DAGSTER_PG_DB", parts.path.lstrip("/"))

        @dg.asset(key_prefix="staging")
        def deployed() -> pl.DataFrame:
            return pl.DataFrame({"a": [1, 2, 3]})

        with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
            result = dg.materialize(
                [deployed],
                instance=instance,
                resources={
                    "io_manager": PostgresPolarsIOManager(
                        postgres=PostgresResource(database_url=warehouse_url)
                    )
                },
            )
            assert result.success
            assert instance.get_latest_materialization_event(dg.AssetKey(["staging", "deployed"]))

        with psycopg.connect(dagster_url) as conn:
            assert conn.execute(
                "SELECT status FROM runs WHERE run_id = %s", [result.run_id]
            ).fetchall() == [("SUCCESS",)]
            assert (
                conn.execute(
                    "SELECT count(*) FROM event_logs WHERE run_id = %s", [result.run_id]
                ).fetchone()[0]
                > 5
            )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _outside_address() -> str:
    """An IPv4 address of this machine that is not loopback."""
    import psutil

    return next(
        a.address
        for addresses in psutil.net_if_addrs().values()
        for a in addresses
        if a.family == socket.AF_INET and not a.address.startswith("127.")
    )


def _graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["data"]


def test_make_dev_serves_the_ui_on_localhost_against_the_embedded_warehouse(tmp_path):
    port = _free_port()
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if k not in (DATABASE_URL.name, "DAGSTER_HOME")}
    env[HOME.name] = str(home)
    # -o install: the test already runs inside the installed environment
    ui = subprocess.Popen(
        ["make", "-o", "install", "dev", f"PORT={port}", f"VENV={Path(sys.executable).parents[1]}"],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # dagster dev may ignore SIGTERM: we own and kill its group
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert ui.poll() is None, ui.stdout.read()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5) as r:
                    info = json.load(r)
                break
            except OSError:
                assert time.monotonic() < deadline, "the UI did not answer within 120 s"
                time.sleep(1)
        assert info["dagster_webserver_version"] == dg.__version__
        with pytest.raises(OSError):  # bound to 127.0.0.1 only
            socket.create_connection((_outside_address(), port), timeout=2)
        workspace = _graphql(
            port,
            "{ workspaceOrError { ... on Workspace { locationEntries { name "
            "locationOrLoadError { __typename } } } } }",
        )
        [location] = workspace["workspaceOrError"]["locationEntries"]
        assert location == {
            "name": "imdb_warehouse",
            "locationOrLoadError": {"__typename": "RepositoryLocation"},
        }
        assert (home / "pgdata" / "postmaster.pid").is_file()  # the embedded warehouse runs
        assert (home / "dagster" / "dagster.yaml").is_file()
    finally:
        os.killpg(ui.pid, signal.SIGKILL)
        ui.wait()
        stop_embedded_server(home)
    out = ui.stdout.read()
    assert "the warehouse: postgresql://" in out
    assert "Warning" not in out, [line for line in out.splitlines() if "Warning" in line]


def test_every_workspace_names_the_code_location_the_cli_runs_belong_to():
    """`imdb-warehouse refresh` files its runs under CODE_LOCATION: the UI of `make dev`, the
    local workspace and the deployment's must load the definitions under that same name."""
    import tomllib

    import yaml

    from imdb_warehouse.runs import CODE_LOCATION, DEFINITIONS

    project = Path(__file__).resolve().parents[1]
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["tool"]["dg"]["project"]["code_location_name"] == CODE_LOCATION
    for workspace in ("workspace.yaml", "deploy/workspace.yaml"):
        [location] = yaml.safe_load((project / workspace).read_text())["load_from"]
        [(_, spec)] = location.items()
        assert spec["location_name"] == CODE_LOCATION, workspace
    [module] = yaml.safe_load((project / "workspace.yaml").read_text())["load_from"]
    assert module["python_module"]["module_name"] == DEFINITIONS
