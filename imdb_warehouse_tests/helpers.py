"""What several test modules build the same way."""

from datetime import UTC, date, datetime, time

import dagster as dg

from imdb_warehouse.partitions import open_days
from imdb_warehouse.replay.server import ReplayServer
from imdb_warehouse.resources.archive import Capture, PageArchive
from imdb_warehouse.resources.imdb_client import Exchange, ImdbClient


def materialize(
    assets, *, partition_key: str | None = None, instance: dg.DagsterInstance | None = None, **kw
) -> dg.ExecuteInProcessResult:
    """`dg.materialize`, with the run's day opened as a partition of `days` first (as the
    schedule and the CLI open it)."""
    instance = instance or dg.DagsterInstance.ephemeral()
    if partition_key:
        open_days(instance, [date.fromisoformat(partition_key)])
    return dg.materialize(assets, partition_key=partition_key, instance=instance, **kw)


def replay_client(
    replay: ReplayServer, today: date | None, source: str = "graphql", **overrides
) -> ImdbClient:
    """A client of the replay's GraphQL endpoint and pages, on `today` (None: the clock's, or
    IMDB_WAREHOUSE_TODAY), without waits."""
    settings = {
        "source": source,
        "graphql_url": f"{replay.url}/",
        "base_url": replay.url,
        "today": today and today.isoformat(),
        "min_interval_seconds": 0.0,
        "backoff_seconds": 0.01,
        "max_retries": 2,
        "read_timeout_seconds": 2,
    }
    return ImdbClient(**{**settings, **overrides})


def archive_answer(
    archive: PageArchive,
    kind: str,
    day: date,
    name: str,
    body: bytes,
    request_body: dict | None = None,
    status: int = 200,
) -> Capture:
    """Put what IMDb might have sent on `day` into the archive, as the client would have: a
    page (`request_body` None) or a GraphQL answer to the request `request_body`."""
    exchange = Exchange(
        url="https://api.graphql.imdb.com/" if request_body else f"https://www.imdb.com/{name}",
        method="POST" if request_body else "GET",
        status=status,
        body=body,
        fetched_at=datetime.combine(day, time(6), tzinfo=UTC),
        request_body=request_body,
    )
    return archive.store(kind, day, name, exchange)


def materialize_day(
    resources: dict, day: date, genres: list[str] | None = None, **kwargs
) -> dg.ExecuteInProcessResult:
    """The day's run as `refresh_day` makes it (the same assets, partition and run config),
    with these resources."""
    from imdb_warehouse.assets import analytics, raw, staging, warehouse
    from imdb_warehouse.partitions import GENRES
    from imdb_warehouse.schedules import day_run

    options = day_run(day, genres or GENRES, resources["postgres"])
    return materialize(
        dg.load_assets_from_modules([raw, staging, warehouse, analytics]),
        resources=resources,
        selection=options["asset_selection"],
        partition_key=options["partition_key"],
        run_config=options["run_config"],
        **kwargs,
    )
