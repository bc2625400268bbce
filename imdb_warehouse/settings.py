"""Every environment variable the project reads, its default and its meaning, in one place.

Read when a resource or command needs the value, never at import time. The README's
configuration table lists the same variables (a test keeps the two in step). A program that
runs the project in its own process (the demo, the bench) passes its settings with `given`,
instead of writing them into the environment.
"""

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

_given: dict[str, str] = {}


Default = TypeVar("Default", str, None)


@dataclass(frozen=True)
class Setting(Generic[Default]):
    name: str
    default: Default  # a setting with a default is never None
    meaning: str
    secret: bool = False  # never logged, archived or shown

    def get(self) -> str | Default:
        """The value in effect: the one `given`, else the environment's when set and not
        empty, else the default."""
        return _given.get(self.name) or os.environ.get(self.name) or self.default


@contextmanager
def given(values: Mapping[Setting, str]) -> Iterator[None]:
    """These settings in this process while the block runs, over the environment's."""
    before = dict(_given)
    _given.update({setting.name: value for setting, value in values.items()})
    try:
        yield
    finally:
        _given.clear()
        _given.update(before)


# The warehouse and local state
DATABASE_URL = Setting(
    "IMDB_WAREHOUSE_DATABASE_URL", None, "libpq URL of the warehouse Postgres (unset: embedded)"
)
HOME = Setting(
    "IMDB_WAREHOUSE_HOME",
    None,
    "local state: embedded Postgres data, the archive, the `make dev` Dagster instance "
    "(unset: `.imdb_warehouse/` in the project)",
)
ARCHIVE = Setting(
    "IMDB_WAREHOUSE_ARCHIVE", None, "where every answer from IMDb is kept (unset: HOME/archive)"
)

# IMDb
SOURCE = Setting("IMDB_SOURCE", "graphql", "`graphql` (IMDb's GraphQL API) or `html` (its pages)")
GRAPHQL_URL = Setting(
    "IMDB_GRAPHQL_URL",
    None,
    "the GraphQL endpoint (unset: https://api.graphql.imdb.com/, or the licensed endpoint "
    "https://api-fulfill.dataexchange.us-east-1.amazonaws.com/v1 when IMDB_API_KEY is set)",
)
API_KEY = Setting(
    "IMDB_API_KEY",
    None,
    "the licensed IMDb API's key (AWS Data Exchange); set, requests go to the licensed "
    "endpoint, signed with AWS SigV4 by the standard AWS credential chain",
    secret=True,
)
DATA_SET_ID = Setting("IMDB_DATA_SET_ID", None, "the licensed subscription's data set id")
REVISION_ID = Setting("IMDB_REVISION_ID", None, "the licensed subscription's revision id")
ASSET_ID = Setting("IMDB_ASSET_ID", None, "the licensed subscription's API asset id")
BASE_URL = Setting(
    "IMDB_BASE_URL", "https://www.imdb.com", "the site the `html` source reads (and `doctor`)"
)
CONTACT = Setting(
    "IMDB_CONTACT",
    "https://github.com/imdb-warehouse/imdb_warehouse",
    "how IMDb can reach whoever runs this copy (a URL or mailto:), named in the User-Agent",
)
MIN_INTERVAL = Setting(
    "IMDB_MIN_INTERVAL_SECONDS", "1", "the least time between two requests to IMDb, retries too"
)
TODAY = Setting(
    "IMDB_WAREHOUSE_TODAY",
    None,
    "fixes today (the snapshot date), YYYY-MM-DD, for demos and tests against the replay",
)

# The daily run
DAILY_CRON = Setting(
    "IMDB_WAREHOUSE_DAILY_CRON", "0 6 * * *", "when the daily refresh starts (UTC)"
)
ALERT_WEBHOOK = Setting(
    "IMDB_WAREHOUSE_ALERT_WEBHOOK", None, "a URL that gets a JSON POST for every failed run"
)

UI_PORT = Setting("PORT", "3000", "the port of `make dev`'s UI, bound to 127.0.0.1")

SETTINGS = (
    DATABASE_URL, HOME, ARCHIVE, SOURCE, GRAPHQL_URL, API_KEY, DATA_SET_ID, REVISION_ID,
    ASSET_ID, BASE_URL, CONTACT, MIN_INTERVAL, TODAY, DAILY_CRON, ALERT_WEBHOOK, UI_PORT,
)  # fmt: skip


def project_dir() -> Path:
    """The source checkout holding this package, or the working directory of an installed one."""
    source_root = Path(__file__).resolve().parents[1]
    return source_root if (source_root / "pyproject.toml").is_file() else Path.cwd()


def warehouse_home() -> Path:
    """Where the project keeps local state (HOME): embedded Postgres data, the archive, logs,
    reports, the `make dev` Dagster instance."""
    configured = HOME.get()
    return Path(configured).resolve() if configured else project_dir() / ".imdb_warehouse"
