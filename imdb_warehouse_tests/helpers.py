"""What several test modules build the same way."""

from datetime import date

from imdb_warehouse.replay.server import ReplayServer
from imdb_warehouse.resources.imdb_client import ImdbClient


def replay_client(
    replay: ReplayServer, today: date, source: str = "graphql", **overrides
) -> ImdbClient:
    """A client of the replay's GraphQL endpoint and pages, on `today`, without waits."""
    settings = {
        "source": source,
        "graphql_url": f"{replay.url}/",
        "base_url": replay.url,
        "today": today.isoformat(),
        "min_interval_seconds": 0.0,
        "backoff_seconds": 0.01,
        "max_retries": 2,
        "read_timeout_seconds": 2,
    }
    return ImdbClient(**{**settings, **overrides})
