"""imdb_warehouse: IMDb's daily genre lists kept as a star schema in Postgres, with Dagster."""

import warnings

# The beta Dagster APIs the definitions rely on, knowingly: single-run backfills, and the day
# dimension of the lists mapped to the daily assets. Not warnings for the project's users.
warnings.filterwarnings(
    "ignore",
    message=r"(Parameter `backfill_policy` of function `asset`|Class "
    r"`MultiToSingleDimensionPartitionMapping`) is currently in beta",
)
