"""The one Definitions object of the project."""

import dagster as dg

from imdb_warehouse.assets import analytics, checks, raw, report, staging, warehouse
from imdb_warehouse.resources import PostgresPolarsIOManager, PostgresResource
from imdb_warehouse.resources.archive import PageArchive
from imdb_warehouse.resources.imdb_client import ImdbClient
from imdb_warehouse.resources.storage import check_definitions
from imdb_warehouse.schedules import JOBS, SCHEDULES, SENSORS
from imdb_warehouse.tables import IMDB_SOURCES

postgres = PostgresResource()

defs = dg.Definitions(
    assets=[
        *IMDB_SOURCES,
        *dg.load_assets_from_modules([raw, staging, warehouse, analytics, report]),
    ],
    asset_checks=checks.SQL_CHECKS,
    jobs=list(JOBS),
    schedules=SCHEDULES,
    sensors=SENSORS,
    # one process per run: a run's process is the one its tags name (imdb_warehouse/runs.py),
    # and no step pays a process start
    executor=dg.in_process_executor,
    resources={
        "postgres": postgres,
        "io_manager": PostgresPolarsIOManager(postgres=postgres),
        "imdb": ImdbClient(),
        "archive": PageArchive(),
    },
)
# every stored asset's storage metadata is read now: a misspelled key fails the load
check_definitions(defs)
