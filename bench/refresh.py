"""A whole daily refresh of all 22 genres: through Dagster, and the same work as plain functions.

Each side runs in a child process of its own, against its own scratch database and archive,
reading the replay server this process serves on the default source (GraphQL: the lists, then
every listed movie's details in batches): a first day, then three steady days, of which the
median counts.
The child reports the wall times, the page requests, the warehouse's row counts and its peak
resident memory (VmHWM).

Dagster: `refresh_in_process` (the day's one run, as the schedule makes it) on an instance with
SQLite storage in a temporary DAGSTER_HOME, as `make run` has; and again with the instance in
memory, which shows what Dagster's run and event storage costs. Plain: the asset bodies'
frame functions, pandera validation, `write_frame` with each asset's table metadata, the
warehouse checks and the analytics views, frames passed in memory.
"""

import json
import os
import re
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from bench.common import Figure, child_report, replay_control, scratch_database
from bench.floor import floor
from imdb_warehouse.replay.server import ReplayServer

FIRST_DAY = date(2025, 6, 1)
STEADY_DAYS = [FIRST_DAY + timedelta(days=n) for n in (1, 2, 3)]
WAREHOUSE_TABLES = (
    "dim_movie", "dim_person", "bridge_movie_person", "bridge_movie_genre",
    "fact_movie_ranking", "fact_box_office",
)  # fmt: skip
GOAL_SECONDS, GOAL_BEYOND_FLOOR, GOAL_MB = 60.0, 1.5, 500.0


def run(admin_url: str) -> list[Figure]:
    with ReplayServer(day=FIRST_DAY) as replay:
        dagster = _measure("dagster", admin_url, replay.url)
        in_memory = _measure("dagster-in-memory", admin_url, replay.url)
        plain = _measure("plain", admin_url, replay.url)
    for name in ("first_requests", "steady_requests", "rows"):
        if not dagster[name] == in_memory[name] == plain[name]:
            raise AssertionError(
                f"the Dagster and plain refreshes did different work: {name} "
                f"{dagster[name]}, {in_memory[name]}, {plain[name]}"
            )
    seconds, work = dagster["steady_seconds"], plain["steady_seconds"]
    beyond = seconds - floor()["day_seconds"]  # what the project adds to Dagster's bookkeeping
    return [
        Figure("daily_refresh_dagster", seconds, "s", f"≤ {GOAL_SECONDS:.0f}",
               seconds <= GOAL_SECONDS),
        Figure("daily_refresh_plain", work, "s"),
        Figure("daily_refresh_dagster_in_memory_instance", in_memory["steady_seconds"], "s"),
        Figure("daily_refresh_ratio", seconds / work, "×"),
        Figure("daily_refresh_beyond_floor", beyond, "s",
               f"≤ {GOAL_BEYOND_FLOOR} × plain = {GOAL_BEYOND_FLOOR * work:.2f}",
               beyond <= GOAL_BEYOND_FLOOR * work),
        Figure("dagster_events_per_day", dagster["steady_events"], "events"),
        Figure("daily_refresh_requests", statistics.median(dagster["steady_requests"]), "requests"),
        Figure("first_day_refresh_dagster", dagster["first_seconds"], "s"),
        Figure("first_day_refresh_plain", plain["first_seconds"], "s"),
        Figure("first_day_refresh_requests", dagster["first_requests"], "requests"),
        Figure("warehouse_rows_after_four_days", sum(dagster["rows"].values()), "rows"),
        Figure("daily_refresh_peak_memory_dagster", dagster["peak_mb"], "MB", f"≤ {GOAL_MB:.0f}",
               dagster["peak_mb"] <= GOAL_MB),
        Figure("daily_refresh_peak_memory_plain", plain["peak_mb"], "MB", f"≤ {GOAL_MB:.0f}",
               plain["peak_mb"] <= GOAL_MB),
    ]  # fmt: skip


def _measure(mode: str, admin_url: str, replay_url: str) -> dict:
    """Run one side in a child process; its report, with its peak resident memory."""
    return child_report("bench.refresh", mode, admin_url, replay_url)


def _child(mode: str, admin_url: str, replay_url: str) -> None:
    from imdb_warehouse import settings

    refresh = {
        "dagster": _dagster_refresh,
        "dagster-in-memory": _dagster_in_memory_refresh,
        "plain": _plain_refresh,
    }[mode]
    with scratch_database(admin_url) as url, tempfile.TemporaryDirectory() as home:
        os.environ["DAGSTER_HOME"] = home
        common = {
            settings.DATABASE_URL: url,
            settings.GRAPHQL_URL: f"{replay_url}/",
            settings.BASE_URL: replay_url,
            settings.MIN_INTERVAL: "0",
            settings.ARCHIVE: os.path.join(home, "archive"),
        }
        report = {}
        seconds, pages, events = [], [], []
        for day in [FIRST_DAY, *STEADY_DAYS]:
            replay_control(replay_url, "day", {"day": day.isoformat()})
            replay_control(replay_url, "reset")
            with settings.given({**common, settings.TODAY: day.isoformat()}):
                start = time.perf_counter()
                events.append(refresh(day, home))
                seconds.append(time.perf_counter() - start)
            pages.append(len(replay_control(replay_url, "requests")))
        report["first_seconds"], report["first_requests"] = seconds[0], pages[0]
        report["steady_seconds"] = statistics.median(seconds[1:])
        report["steady_requests"] = pages[1:]
        report["steady_events"] = statistics.median(events[1:])
        report["rows"] = _row_counts(url)
        report["peak_mb"] = peak_resident_mb()
        print(json.dumps(report))


def peak_resident_mb() -> float:
    """This process's peak resident memory. Not the rusage of `os.wait4`: Linux carries the
    parent's peak across fork and exec into the child's ru_maxrss."""
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE).group(1)) / 1024


def _row_counts(url: str) -> dict[str, int]:
    from psycopg import sql

    from imdb_warehouse.resources import PostgresResource

    postgres = PostgresResource(database_url=url)
    counts = {}
    for table in WAREHOUSE_TABLES:
        query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier("warehouse", table))
        counts[table] = postgres.query(query.as_string())[0][0]
    return counts


def _dagster_refresh(day: date, home: str) -> int:
    import dagster as dg

    return _run_refresh(day, dg.DagsterInstance.local_temp(home))


def _dagster_in_memory_refresh(day: date, _home: str) -> int:
    """The same runs with the run and event storage in memory: what the storage costs."""
    import dagster as dg

    return _run_refresh(day, dg.DagsterInstance.ephemeral())


def _run_refresh(day: date, instance) -> int:
    """The day's runs; how many events (Dagster events and log lines) they stored."""
    from imdb_warehouse.schedules import refresh_in_process

    with instance:
        results = refresh_in_process(day, instance=instance, report=False)
        if not results or not all(result.success for result in results):
            raise RuntimeError(f"the Dagster refresh of {day} failed")
        return sum(len(instance.all_logs(result.run_id)) for result in results)


def _plain_refresh(day: date, _home: str) -> int:
    """The work of the day's run, called directly: fetch, parse, validate, write, check."""
    from bench.plain_refresh import refresh_day

    refresh_day(day)
    return 0


if __name__ == "__main__":
    _child(*sys.argv[1:])
