"""Dagster's own floor: an empty graph of the day's shape, run over the same partitions.

The same assets (keys and dependencies of every asset of a day's run), the same day × genre
partitions definition, the same instance kind (SQLite storage in a temporary DAGSTER_HOME, as
`make run` has), each asset a single-run backfill that does nothing: what Dagster's bookkeeping
of a day's run costs before any work. Runs in a child process of its own.
"""

import json
import tempfile
import time
from datetime import date, timedelta
from functools import cache

from bench.common import Figure, child_report

FIRST_DAY = date(2025, 6, 1)


@cache
def floor() -> dict:
    """The floor's figures, measured once a bench run (the refresh and rebuild goals use them)."""
    return child_report("bench.floor")


def run(_admin_url: str) -> list[Figure]:
    report = floor()
    return [
        Figure("dagster_floor_day", report["day_seconds"], "s"),
        Figure("dagster_floor_events_per_day", report["day_events"], "events"),
        Figure("dagster_floor_10_days", report["ten_days_seconds"], "s"),
        Figure("dagster_floor_day_with_row_counts", report["counted_day_seconds"], "s"),
    ]


def empty_day_job(row_counts: bool = False):
    """The day's assets, doing nothing (or only giving each partition a row count, as the IO
    manager does), as one job."""
    import dagster as dg

    from imdb_warehouse.definitions import defs
    from imdb_warehouse.partitions import day_genre_partitions
    from imdb_warehouse.schedules import DAY_ASSETS

    graph = defs.resolve_asset_graph()

    def nothing(key: dg.AssetKey) -> dg.AssetsDefinition:
        @dg.asset(
            key=key,
            deps=[k for k in graph.get(key).parent_keys if k in DAY_ASSETS],
            partitions_def=day_genre_partitions,
            backfill_policy=dg.BackfillPolicy.single_run(),
        )
        def _asset(context: dg.AssetExecutionContext) -> None:
            if row_counts:
                for key in context.partition_keys:
                    context.add_asset_metadata({"dagster/row_count": 0}, partition_key=key)

        return _asset

    assets = [nothing(key) for key in DAY_ASSETS]
    return dg.Definitions(
        assets=assets,
        jobs=[dg.define_asset_job("empty_day", selection=DAY_ASSETS)],
        executor=dg.in_process_executor,
    ).resolve_job_def("empty_day")


def _child() -> None:
    import dagster as dg

    from imdb_warehouse.partitions import open_days, range_tags
    from imdb_warehouse.runs import QUIET_CONSOLE

    job, counted = empty_day_job(), empty_day_job(row_counts=True)
    days = [FIRST_DAY + timedelta(days=n) for n in range(12)]
    report = {}
    with tempfile.TemporaryDirectory() as home, dg.DagsterInstance.local_temp(home) as instance:
        open_days(instance, days)
        start = time.perf_counter()
        result = job.execute_in_process(
            run_config=QUIET_CONSOLE, instance=instance, tags=range_tags(days[0], days[0])
        )
        report["day_seconds"] = time.perf_counter() - start
        report["day_events"] = len(instance.all_logs(result.run_id))
        start = time.perf_counter()
        job.execute_in_process(
            run_config=QUIET_CONSOLE, instance=instance, tags=range_tags(days[1], days[10])
        )
        report["ten_days_seconds"] = time.perf_counter() - start
        start = time.perf_counter()
        counted.execute_in_process(
            run_config=QUIET_CONSOLE, instance=instance, tags=range_tags(days[11], days[11])
        )
        report["counted_day_seconds"] = time.perf_counter() - start
    print(json.dumps(report))


if __name__ == "__main__":
    _child()
