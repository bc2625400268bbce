"""What a day costs IMDb, per source: requests on a first day and three steady days, and the wall
time of a steady day at the default 1 s between requests.

Each source runs in a child process of its own (scratch database, archive and Dagster home),
the daily refresh as `make run` runs it (`refresh_in_process`), against the replay server this
process serves. The first two steady days run without waiting between requests; the third at
IMDB_MIN_INTERVAL_SECONDS=1, as against IMDb, and its wall time counts.
"""

import json
import os
import sys
import tempfile
import time
from datetime import date, timedelta

from bench.common import Figure, child_report, replay_control, scratch_database
from imdb_warehouse.replay.server import ReplayServer

FIRST_DAY = date(2025, 6, 1)
STEADY_DAYS = [FIRST_DAY + timedelta(days=n) for n in (1, 2, 3)]
GOAL_REQUESTS = 30
SOURCES = ("graphql", "html")


def run(admin_url: str) -> list[Figure]:
    with ReplayServer(day=FIRST_DAY) as replay:
        found = {source: _measure(source, admin_url, replay.url) for source in SOURCES}
    figures = []
    for metric in ("requests_first_day", "requests_steady_day"):
        for source in SOURCES:
            value = found[source][metric]
            figures.append(
                Figure(
                    metric + ("" if source == "graphql" else f"_{source}"),
                    value,
                    "requests",
                    f"≤ {GOAL_REQUESTS} ({source})",
                    value <= GOAL_REQUESTS,
                )
            )
    for source in SOURCES:
        wall, asked = found[source]["wall_at_1s"], found[source]["requests_at_1s"]
        figures.append(
            Figure(
                "refresh_wall_at_interval_1s" + ("" if source == "graphql" else f"_{source}"),
                wall,
                "s",
                f"≤ {asked} requests × 1 s + 10 s",
                wall <= asked + 10,
            )
        )
    return figures


def _measure(source: str, admin_url: str, replay_url: str) -> dict:
    return child_report("bench.sources", source, admin_url, replay_url)


def _child(source: str, admin_url: str, replay_url: str) -> None:
    import dagster as dg

    from imdb_warehouse import settings
    from imdb_warehouse.schedules import refresh_in_process

    with scratch_database(admin_url) as url, tempfile.TemporaryDirectory() as home:
        common = {
            settings.DATABASE_URL: url,
            settings.SOURCE: source,
            settings.GRAPHQL_URL: f"{replay_url}/",
            settings.BASE_URL: replay_url,
            settings.ARCHIVE: os.path.join(home, "archive"),
        }
        asked, seconds = [], []
        for day in [FIRST_DAY, *STEADY_DAYS]:
            day_settings = {
                settings.TODAY: day.isoformat(),
                settings.MIN_INTERVAL: "1" if day == STEADY_DAYS[-1] else "0",
            }
            replay_control(replay_url, "day", {"day": day.isoformat()})
            replay_control(replay_url, "reset")
            start = time.perf_counter()
            with (
                settings.given({**common, **day_settings}),
                dg.DagsterInstance.local_temp(home) as instance,
            ):
                results = refresh_in_process(day, instance=instance, report=False)
            seconds.append(time.perf_counter() - start)
            if not results or not all(r.success for r in results):
                raise RuntimeError(f"the {source} refresh of {day} failed")
            asked.append(len(replay_control(replay_url, "requests")))
        report = {
            "requests_first_day": asked[0],
            "requests_steady_day": max(asked[1:]),
            "requests_at_1s": asked[-1],
            "wall_at_1s": seconds[-1],
        }
        print(json.dumps(report))


if __name__ == "__main__":
    _child(*sys.argv[1:])
