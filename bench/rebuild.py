"""A year of archived days rebuilt through Dagster (`imdb-warehouse rebuild`).

One day is fetched from the replay (all 22 lists, every listed movie's details); its captures
are then copied under each of the 365 days before it, so the archive holds a year of days (the
same movies each day: a steady year). The rebuild of that year is what `imdb-warehouse rebuild
--from D1 --to D365` starts: runs of `refresh_day`, each over DAYS_PER_RUN days × every genre,
with SQLite storage in a temporary DAGSTER_HOME; it must make no request. Runs in a child
process of its own, whose peak resident memory is the rebuild's. Its goal scales Dagster's
floor of a 10-day range (bench/floor.py) to the year, plus the 400 s a year took with one
partition a day.
"""

import json
import shutil
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from bench.common import Figure, child_report, replay_control, scratch_database
from bench.floor import floor
from bench.refresh import GOAL_MB, peak_resident_mb
from imdb_warehouse.replay.server import ReplayServer

TODAY = date(2025, 6, 1)
DAYS = 365
GOAL_OVER_FLOOR_SECONDS = 400.0


def run(admin_url: str) -> list[Figure]:
    with ReplayServer(day=TODAY) as replay:
        report = child_report("bench.rebuild", admin_url, replay.url)
    if report["requests"]:
        raise AssertionError(f"the rebuild made {report['requests']} requests to IMDb")
    seconds = report["seconds"]
    goal = DAYS / 10 * floor()["ten_days_seconds"] + GOAL_OVER_FLOOR_SECONDS
    return [
        Figure(f"rebuild_{DAYS}_days", seconds, "s",
               f"≤ 36.5 × floor_10_days + 400 = {goal:.0f}", seconds <= goal),
        Figure("rebuild_per_day", seconds / DAYS, "s"),
        Figure("rebuild_runs", report["runs"], "runs"),
        Figure("rebuild_rows", report["rows"], "rows"),
        Figure("rebuild_events", report["events"], "events"),
        Figure("rebuild_peak_memory", report["peak_mb"], "MB", f"≤ {GOAL_MB:.0f}",
               report["peak_mb"] <= GOAL_MB),
    ]  # fmt: skip


def _child(admin_url: str, replay_url: str) -> None:
    import dagster as dg

    from imdb_warehouse import settings
    from imdb_warehouse.schedules import refresh_in_process

    with scratch_database(admin_url) as url, tempfile.TemporaryDirectory() as home:
        archive = Path(home) / "archive"
        given = settings.given(
            {
                settings.DATABASE_URL: url,
                settings.GRAPHQL_URL: f"{replay_url}/",
                settings.BASE_URL: replay_url,
                settings.MIN_INTERVAL: "0",
                settings.ARCHIVE: str(archive),
                settings.TODAY: TODAY.isoformat(),
            }
        )
        first, last = TODAY - timedelta(days=DAYS), TODAY - timedelta(days=1)
        with given, dg.DagsterInstance.local_temp(home) as instance:
            _succeeded(refresh_in_process(TODAY, instance=instance, report=False), TODAY)
            _copy_the_day_to_the_year_before(archive, TODAY, first)
            replay_control(replay_url, "reset")
            start = time.perf_counter()
            results = refresh_in_process(first, instance=instance, last=last, report=False)
            seconds = time.perf_counter() - start
            _succeeded(results, first)
            events = sum(len(instance.all_logs(result.run_id)) for result in results)
        [(rows,)] = _query(url, "SELECT count(*) FROM warehouse.fact_movie_ranking")
        report = {
            "seconds": seconds,
            "requests": len(replay_control(replay_url, "requests")),
            "runs": sum(result.job_def.name == "refresh_day" for result in results),
            "rows": rows,
            "events": events,
            "peak_mb": peak_resident_mb(),
        }
        print(json.dumps(report))


def _copy_the_day_to_the_year_before(archive: Path, day: date, first: date) -> None:
    """Every capture of `day`, under each day from `first` to the day before `day`."""
    for kind_day in archive.glob(f"**/{day.isoformat()}"):
        for n in range((day - first).days):
            shutil.copytree(kind_day, kind_day.parent / (first + timedelta(days=n)).isoformat())


def _succeeded(results, day: date) -> None:
    if not results or not all(result.success for result in results):
        raise RuntimeError(f"the Dagster run from {day} failed")


def _query(url: str, query: str):
    from imdb_warehouse.resources import PostgresResource

    return PostgresResource(database_url=url).query(query)


if __name__ == "__main__":
    _child(*sys.argv[1:])
