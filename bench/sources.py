"""What a day costs IMDb, per source: requests on a first day and three steady days, and the wall
time of a steady day at the default 1 s between requests.

Each source runs in a child process of its own (scratch database, archive and Dagster home),
the daily refresh as `make run` runs it (`refresh_in_process`), against the replay server this
process serves. The first two steady days run without waiting between requests; the third at
IMDB_MIN_INTERVAL_SECONDS=1, as against IMDb, and its wall time counts. On the GraphQL source a
fifth day runs while the replay answers 504 to every details batch of more than 60 titles
(`batch-504:max=60`): its requests, next to the fewest that halving the batches allows.
"""

import json
import os
import sys
import tempfile
import time
from datetime import date, timedelta

from bench.common import Figure, child_report, replay_control, scratch_database
from imdb_warehouse.partitions import GENRES
from imdb_warehouse.replay.server import ReplayServer

FIRST_DAY = date(2025, 6, 1)
STEADY_DAYS = [FIRST_DAY + timedelta(days=n) for n in (1, 2, 3)]
GOAL_REQUESTS = 30
WALL_SLACK_SECONDS = 15  # beyond the requests' spacing: a day's 22 genre partitions in one run
SOURCES = ("graphql", "html")
# A steady day while IMDb answers 504 to every `titles` batch of more than 60 titles.
LARGEST_ANSWERED = 60
BATCH_FAULT = f"batch-504:max={LARGEST_ANSWERED}"
DAY_WITH_504 = STEADY_DAYS[-1] + timedelta(days=1)


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
    with_504, fewest = (
        found["graphql"]["requests_steady_day_with_504"],
        found["graphql"]["fewest_with_504"],
    )
    figures.append(
        Figure(
            "requests_steady_day_with_504",
            with_504,
            "requests",
            f"≤ {fewest} (halving to ≤ {LARGEST_ANSWERED})",
            with_504 <= fewest,
        )
    )
    for source in SOURCES:
        wall, asked = found[source]["wall_at_1s"], found[source]["requests_at_1s"]
        figures.append(
            Figure(
                "refresh_wall_at_interval_1s" + ("" if source == "graphql" else f"_{source}"),
                wall,
                "s",
                f"≤ {asked} requests × 1 s + {WALL_SLACK_SECONDS} s",
                wall <= asked + WALL_SLACK_SECONDS,
            )
        )
    return figures


def _measure(source: str, admin_url: str, replay_url: str) -> dict:
    return child_report("bench.sources", source, admin_url, replay_url)


def _child(source: str, admin_url: str, replay_url: str) -> None:
    import dagster as dg

    from imdb_warehouse import settings
    from imdb_warehouse.resources import PostgresResource
    from imdb_warehouse.schedules import refresh_in_process

    with scratch_database(admin_url) as url, tempfile.TemporaryDirectory() as home:
        common = {
            settings.DATABASE_URL: url,
            settings.SOURCE: source,
            settings.GRAPHQL_URL: f"{replay_url}/",
            settings.BASE_URL: replay_url,
            settings.ARCHIVE: os.path.join(home, "archive"),
        }

        def refresh(day: date, interval: str = "0") -> tuple[int, float]:
            """The day's refresh: the requests it made, its wall time."""
            replay_control(replay_url, "day", {"day": day.isoformat()})
            replay_control(replay_url, "reset")
            start = time.perf_counter()
            day_settings = {settings.TODAY: day.isoformat(), settings.MIN_INTERVAL: interval}
            with (
                settings.given({**common, **day_settings}),
                dg.DagsterInstance.local_temp(home) as instance,
            ):
                results = refresh_in_process(day, instance=instance, report=False)
            seconds = time.perf_counter() - start
            if not results or not all(r.success for r in results):
                raise RuntimeError(f"the {source} refresh of {day} failed")
            return len(replay_control(replay_url, "requests")), seconds

        asked, seconds = [], []
        for day in [FIRST_DAY, *STEADY_DAYS]:
            requests, wall = refresh(day, "1" if day == STEADY_DAYS[-1] else "0")
            asked.append(requests)
            seconds.append(wall)
        report = {
            "requests_first_day": asked[0],
            "requests_steady_day": max(asked[1:]),
            "requests_at_1s": asked[-1],
            "wall_at_1s": seconds[-1],
        }
        if source == "graphql":
            replay_control(replay_url, "faults", [BATCH_FAULT])
            report["requests_steady_day_with_504"], _ = refresh(DAY_WITH_504)
            replay_control(replay_url, "faults", [])
            [(titles,)] = PostgresResource(database_url=url).query(
                "SELECT count(DISTINCT title_id) FROM staging.movie_rankings "
                "WHERE snapshot_date = $1",
                [DAY_WITH_504],
            )
            report["fewest_with_504"] = fewest_requests_with_504(titles)
        print(json.dumps(report))


def fewest_requests_with_504(titles: int) -> int:
    """The requests of a day of `titles` listed movies under BATCH_FAULT: its lists, and each
    details batch over the largest size IMDb answers tried with the client's retries, then
    halved, the halves asked once each, until they are small enough."""
    from imdb_warehouse.resources.imdb_client import ImdbClient

    client = ImdbClient()

    def asked(size: int, first: bool) -> int:
        if size <= LARGEST_ANSWERED:
            return 1
        tries = 1 + client.max_retries if first else 1
        return tries + asked((size + 1) // 2, False) + asked(size // 2, False)

    size = client.details_batch_size
    sizes = [min(size, titles - start) for start in range(0, titles, size)]
    return len(GENRES) + sum(asked(size, True) for size in sizes)


if __name__ == "__main__":
    _child(*sys.argv[1:])
