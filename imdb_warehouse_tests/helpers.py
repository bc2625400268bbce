"""What several test modules build the same way."""

import socket
from datetime import UTC, date, datetime, time
from pathlib import Path

import dagster as dg

from imdb_warehouse.partitions import GENRES, open_days, range_tags
from imdb_warehouse.replay.licensed import License
from imdb_warehouse.replay.server import ReplayServer
from imdb_warehouse.resources import PostgresPolarsIOManager, PostgresResource
from imdb_warehouse.resources.archive import Capture, PageArchive
from imdb_warehouse.resources.imdb_client import Exchange, ImdbClient

REPLAY_DAY = date(2025, 3, 1)  # the day the replay serves, unless a module says another


def materialize(
    assets,
    *,
    day: date | None = None,
    genres: list[str] = GENRES,
    instance: dg.DagsterInstance | None = None,
    **kw,
) -> dg.ExecuteInProcessResult:
    """`dg.materialize` over `day`'s partitions of `genres` (neighbours in the genre dimension:
    one range), with the day opened first (as the schedule and the CLI open it)."""
    instance = instance or dg.DagsterInstance.ephemeral()
    if day:
        open_days(instance, [day])
        kw["tags"] = {**kw.get("tags", {}), **range_tags(day, day, sorted(genres))}
    return dg.materialize(assets, instance=instance, **kw)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 (for a server a test starts)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


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


def replay_environment(replay: ReplayServer) -> dict[str, str]:
    """The settings that point a process's IMDb client at the replay, without waits."""
    return {
        "IMDB_BASE_URL": replay.url,
        "IMDB_GRAPHQL_URL": f"{replay.url}/",
        "IMDB_MIN_INTERVAL_SECONDS": "0",
    }


def license_environment(license: License) -> dict[str, str]:
    """The settings of a licensed subscription with `license`'s credentials, and no AWS
    configuration of the machine's (files, instance metadata) to find others in."""
    return {
        "IMDB_API_KEY": license.api_key,
        "IMDB_DATA_SET_ID": license.data_set_id,
        "IMDB_REVISION_ID": license.revision_id,
        "IMDB_ASSET_ID": license.asset_id,
        "AWS_ACCESS_KEY_ID": license.access_key_id,
        "AWS_SECRET_ACCESS_KEY": license.secret_access_key,
        "AWS_CONFIG_FILE": "/nonexistent",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def pipeline_resources(database_url: str, imdb: ImdbClient, archive: Path) -> dict:
    """The resources of the pipeline's runs: the warehouse at `database_url`, this IMDb client,
    the archive at `archive`."""
    postgres = PostgresResource(database_url=database_url)
    return {
        "postgres": postgres,
        "io_manager": PostgresPolarsIOManager(postgres=postgres),
        "imdb": imdb,
        "archive": PageArchive(root=str(archive)),
    }


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
    """The day's run as `refresh_day` makes it (the same assets and partitions: `genres`, a
    block of neighbours, or all), with these resources."""
    from imdb_warehouse.assets import analytics, checks, raw, staging, warehouse
    from imdb_warehouse.schedules import day_runs

    [options] = day_runs(day, genres or GENRES, resources["postgres"])
    instance = kwargs.pop("instance", None) or dg.DagsterInstance.ephemeral()
    open_days(instance, [day])
    return dg.materialize(
        [*dg.load_assets_from_modules([raw, staging, warehouse, analytics]), *checks.SQL_CHECKS],
        resources=resources,
        selection=options["asset_selection"],
        tags={**options["tags"], **kwargs.pop("tags", {})},
        instance=instance,
        **kwargs,
    )
