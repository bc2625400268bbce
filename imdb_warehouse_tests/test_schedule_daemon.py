"""The daily schedule as the Dagster daemon runs it: a tick launches the day, in one run."""

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import psycopg
import pytest

from imdb_warehouse.partitions import GENRES
from imdb_warehouse.replay.server import ReplayServer
from imdb_warehouse.schedules import DAY_ASSETS
from imdb_warehouse_tests.helpers import replay_environment

pytestmark = pytest.mark.slow  # a daemon, waiting for its minute

PROJECT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("backend_url", ["embedded"], indirect=True)  # the daemon is the point
def test_the_daemon_runs_the_days_schedule_as_one_run_of_every_genre(
    database_url, tmp_path, monkeypatch
):
    """The schedule, due every minute here (IMDB_WAREHOUSE_DAILY_CRON), is ticked by a real
    `dagster-daemon`, which launches the day's run; the day lands whole."""
    home = tmp_path / "dagster"
    home.mkdir()
    (home / "dagster.yaml").write_text((PROJECT / "dev" / "dagster.yaml").read_text())
    today = datetime.now(UTC).date()
    with ReplayServer(day=today) as replay:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DAGSTER_")}
        env |= {
            **replay_environment(replay),
            "DAGSTER_HOME": str(home),
            "IMDB_WAREHOUSE_DATABASE_URL": database_url,
            "IMDB_WAREHOUSE_HOME": str(tmp_path / "state"),
            "IMDB_WAREHOUSE_DAILY_CRON": "* * * * *",
        }
        log = tmp_path / "daemon.log"
        daemon = subprocess.Popen(
            [str(Path(sys.executable).parent / "dagster-daemon"), "run", "-w", "workspace.yaml"],
            cwd=PROJECT,
            env=env,
            start_new_session=True,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        try:
            monkeypatch.setenv("DAGSTER_HOME", str(home))
            with dg.DagsterInstance.get() as instance:
                run = _first_finished_run(instance, "refresh_day", log, seconds=240)
        finally:
            os.killpg(daemon.pid, signal.SIGKILL)
            daemon.wait()
    assert run.status == dg.DagsterRunStatus.SUCCESS, run.status
    assert run.tags["dagster/schedule_name"] == "daily_refresh"
    assert run.tags["dagster/asset_partition_range_start"] == f"{today}|{GENRES[0]}"
    assert run.tags["dagster/asset_partition_range_end"] == f"{today}|{GENRES[-1]}"
    assert set(DAY_ASSETS) <= set(run.asset_selection or ())
    with psycopg.connect(database_url) as conn:  # every genre's list, as IMDb sent it
        [(genres, ranked, sent)] = conn.execute(
            "SELECT count(DISTINCT genre), count(*), "
            "(SELECT count(*) FROM raw.imdb_search_results WHERE snapshot_date = %s) "
            "FROM warehouse.fact_movie_ranking WHERE snapshot_date = %s",
            [today, today],
        ).fetchall()
    assert genres == len(GENRES) and ranked == sent > 20 * len(GENRES)


def _first_finished_run(
    instance: dg.DagsterInstance, job: str, log: Path, seconds: int
) -> dg.DagsterRun:
    deadline = time.monotonic() + seconds
    runs: list[dg.DagsterRun] = []
    while time.monotonic() < deadline:
        runs = list(instance.get_runs(filters=dg.RunsFilter(job_name=job)))
        assert len(runs) <= 1, "the schedule launched the day more than once"
        if runs and runs[0].is_finished:
            return runs[0]
        time.sleep(2)
    raise AssertionError(
        f"no run of {job} ended within {seconds} s (runs: {[r.status for r in runs]}); the "
        f"daemon's log ends: {log.read_text()[-3000:]}"
    )
