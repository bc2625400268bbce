"""A refresh that dies never blocks the next one; a refresh asked to stop ends its run; a
refresh that fails reaches the failure alert the way a scheduled run does: the daemon (as
`make dev` runs it) evaluates `report_failed_runs`, which posts to the webhook."""

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.scheduler.instigation import InstigatorType

from imdb_warehouse.replay.server import ReplayServer
from imdb_warehouse_tests.helpers import REPLAY_DAY, replay_environment

pytestmark = pytest.mark.slow  # refreshes killed, stopped, and a daemon

CLI = str(Path(sys.executable).parent / "imdb-warehouse")
PROJECT = Path(__file__).resolve().parents[1]
DAY = REPLAY_DAY
GENRES = ["action", "adventure"]
one_backend = pytest.mark.parametrize("backend_url", ["embedded"], indirect=True)


@pytest.fixture
def dagster_home(tmp_path) -> Path:
    home = tmp_path / "dagster"
    home.mkdir()
    shutil.copy(PROJECT / "dev" / "dagster.yaml", home / "dagster.yaml")
    return home


def environment(database_url: str, replay: ReplayServer, dagster_home: Path, tmp_path: Path):
    """A process's environment: this instance and warehouse, the replay, today = DAY."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IMDB_", "DAGSTER_"))}
    return env | {
        "DAGSTER_HOME": str(dagster_home),
        "IMDB_WAREHOUSE_HOME": str(tmp_path / "home"),
        "IMDB_WAREHOUSE_DATABASE_URL": database_url,
        "IMDB_WAREHOUSE_ARCHIVE": str(tmp_path / "archive"),
        **replay_environment(replay),
        "IMDB_WAREHOUSE_TODAY": DAY.isoformat(),
    }


def start_refresh(database_url: str, replay: ReplayServer, dagster_home: Path, tmp_path: Path):
    args = [CLI, "refresh", *(a for g in GENRES for a in ("--genre", g))]
    return subprocess.Popen(
        args, env=environment(database_url, replay, dagster_home, tmp_path),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip


def wait_for_the_stalled_request(replay: ReplayServer) -> None:
    deadline = time.monotonic() + 120
    while not any(r.fault == "slow" for r in replay.requests):
        assert time.monotonic() < deadline, "the refresh never reached IMDb"
        time.sleep(0.2)


def slots_held(dagster_home: Path) -> int:
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        return len(instance.event_log_storage.get_concurrency_info("imdb").claimed_slots)


def lists_run(dagster_home: Path) -> dg.DagsterRun:
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        [run] = instance.get_runs(filters=dg.RunsFilter(job_name="refresh_day"), limit=1)
        return run


def finish(process: subprocess.Popen, seconds: float = 240) -> str:
    out, _ = process.communicate(timeout=seconds)
    assert process.returncode == 0, out[-3000:]
    return out


@one_backend
def test_a_refresh_killed_mid_scrape_does_not_block_the_next_one(
    database_url, own_replay, dagster_home, tmp_path, sql
):
    own_replay.set_faults(["slow:path=/graphql/GenreList,times=1,seconds=60"])
    killed = start_refresh(database_url, own_replay, dagster_home, tmp_path)
    wait_for_the_stalled_request(own_replay)
    os.killpg(killed.pid, signal.SIGKILL)
    killed.wait(timeout=30)
    assert lists_run(dagster_home).status == dg.DagsterRunStatus.STARTED  # left as it died
    assert slots_held(dagster_home) == 1

    own_replay.set_faults([])
    started = time.monotonic()
    out = finish(start_refresh(database_url, own_replay, dagster_home, tmp_path))
    assert time.monotonic() - started < 120, out
    assert "refresh_day: succeeded" in out
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        runs = instance.get_runs(filters=dg.RunsFilter(job_name="refresh_day"))
        assert [r.status for r in runs] == [
            dg.DagsterRunStatus.SUCCESS,
            dg.DagsterRunStatus.FAILURE,
        ]
        failure = instance.all_logs(runs[1].run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
        assert "ended before the run did" in failure[0].message
    assert slots_held(dagster_home) == 0
    assert sql(
        "SELECT genre, count(*), count(DISTINCT rank) FROM warehouse.fact_movie_ranking GROUP BY 1"
    ) == [(genre, 50, 50) for genre in GENRES]


@one_backend
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_refresh_asked_to_stop_ends_its_run_and_frees_its_slot(
    database_url, own_replay, dagster_home, tmp_path, signum
):
    own_replay.set_faults(["slow:path=/graphql/GenreList,times=1,seconds=60"])
    stopped = start_refresh(database_url, own_replay, dagster_home, tmp_path)
    wait_for_the_stalled_request(own_replay)
    os.kill(stopped.pid, signum)
    out, _ = stopped.communicate(timeout=30)
    assert stopped.returncode != 0
    assert "Traceback" not in out, out[-3000:]
    assert lists_run(dagster_home).status in (
        dg.DagsterRunStatus.FAILURE,
        dg.DagsterRunStatus.CANCELED,
    )
    assert slots_held(dagster_home) == 0
    own_replay.set_faults([])
    assert "refresh_day: succeeded" in finish(
        start_refresh(database_url, own_replay, dagster_home, tmp_path)
    )


@one_backend
def test_a_refresh_waiting_for_the_pool_answers_sigterm(
    database_url, own_replay, dagster_home, tmp_path
):
    own_replay.set_faults(["slow:path=/graphql/GenreList,times=1,seconds=60"])
    holder = start_refresh(database_url, own_replay, dagster_home, tmp_path)
    wait_for_the_stalled_request(own_replay)
    waiting = start_refresh(database_url, own_replay, dagster_home, tmp_path)
    time.sleep(8)  # it is up, and waits for the slot the first one holds
    assert waiting.poll() is None
    waiting.send_signal(signal.SIGTERM)
    out, _ = waiting.communicate(timeout=20)
    assert waiting.returncode != 0 and "Traceback" not in out, out[-3000:]
    os.killpg(holder.pid, signal.SIGKILL)
    holder.wait(timeout=30)
    own_replay.set_faults([])
    assert "refresh_day: succeeded" in finish(
        start_refresh(database_url, own_replay, dagster_home, tmp_path)
    )


LAUNCHED_RUN = """
import sys
from datetime import date
import dagster as dg
from imdb_warehouse.definitions import defs
from imdb_warehouse.partitions import open_days, range_tags
day = date.fromisoformat(sys.argv[1])
with dg.DagsterInstance.get() as instance:
    open_days(instance, [day])
    defs.resolve_job_def("refresh_day").execute_in_process(
        instance=instance, tags=range_tags(day, day), raise_on_error=False
    )
"""


@one_backend
def test_a_launched_run_whose_process_died_is_released_by_the_sensor(
    database_url, own_replay, dagster_home, tmp_path
):
    """A run started elsewhere than `refresh` (the UI, the schedule) names its process when it
    first reads IMDb; the sensor finds it dead, marks it failed and frees its slot."""
    from imdb_warehouse.runs import PID_TAG
    from imdb_warehouse.schedules import release_dead_runs_sensor

    own_replay.set_faults(["slow:path=/graphql/GenreList,times=1,seconds=60"])
    run = subprocess.Popen(
        [sys.executable, "-c", LAUNCHED_RUN, DAY.isoformat()],
        env=environment(database_url, own_replay, dagster_home, tmp_path),
        start_new_session=True,
    )
    wait_for_the_stalled_request(own_replay)
    assert lists_run(dagster_home).tags[PID_TAG] == str(run.pid)
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        alive = release_dead_runs_sensor(dg.build_sensor_context(instance=instance))
        assert "released 0 run(s)" in alive.skip_message  # it runs: left alone
    os.killpg(run.pid, signal.SIGKILL)
    run.wait(timeout=30)
    assert slots_held(dagster_home) == 1
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        released = release_dead_runs_sensor(dg.build_sensor_context(instance=instance))
    assert "released 1 run(s)" in released.skip_message
    assert lists_run(dagster_home).status == dg.DagsterRunStatus.FAILURE
    assert slots_held(dagster_home) == 0


class _Webhook(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_):
        pass


@pytest.fixture
def webhook():
    _Webhook.received = []
    server = HTTPServer(("127.0.0.1", 0), _Webhook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/alert", _Webhook.received
    server.shutdown()


def _sensor_started(dagster_home, name: str) -> bool:
    """Whether the daemon has ticked the sensor once (a run status sensor's first tick only
    marks where it starts reading)."""
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        states = instance.all_instigator_state(instigator_type=InstigatorType.SENSOR)
        return any(
            state.name == name and state.instigator_data and state.instigator_data.cursor
            for state in states
        )


def _wait(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"{what} within {seconds} s"
        time.sleep(1)


@one_backend
def test_a_failed_cli_refresh_posts_to_the_alert_webhook(
    database_url, own_replay, dagster_home, tmp_path, webhook
):
    url, received = webhook
    env = environment(database_url, own_replay, dagster_home, tmp_path)
    env["IMDB_WAREHOUSE_ALERT_WEBHOOK"] = url
    dg.DagsterInstance.from_config(str(dagster_home)).dispose()  # its storage, made once
    daemon = subprocess.Popen(
        ["dagster-daemon", "run", "-w", str(PROJECT / "workspace.yaml")],
        cwd=PROJECT,
        env={**env, "PATH": f"{os.path.dirname(CLI)}:{env.get('PATH', '')}"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait(lambda: _sensor_started(dagster_home, "report_failed_runs"), 180,
              "the daemon ticked report_failed_runs")  # fmt: skip
        own_replay.set_faults(["empty-list:path=/graphql/GenreList"])
        refresh = subprocess.run(
            [CLI, "refresh", "--genre", "action"], env=env, capture_output=True, text=True,
            timeout=300,
        )  # fmt: skip
        assert refresh.returncode == 1, refresh.stdout + refresh.stderr
        [failed] = [line for line in refresh.stdout.splitlines() if "FAILED (run " in line]
        run_id = failed.split("(run ")[1].rstrip(")")
        _wait(lambda: received, 180, "the webhook heard of the failed run")
    finally:
        os.killpg(daemon.pid, signal.SIGKILL)
        daemon.wait()
    [alert] = received
    assert alert["run_id"] == run_id and alert["job"] == "refresh_day"
    assert (
        "raw__imdb_search_results: the action list of 2025-03-01: IMDb sent an empty list"
        in (alert["text"])
    )  # the cause in one line, as the CLI prints it
    assert alert["tags"]["imdb_warehouse/in_process"] == "true"
