"""imdb_warehouse: IMDb's daily genre lists kept as a star schema in Postgres, with Dagster."""

import warnings

# The beta Dagster API the definitions rely on, knowingly: single-run backfills (a range of
# days rebuilt in one run). Not a warning for the project's users.
warnings.filterwarnings(
    "ignore", message=r"Parameter `backfill_policy` of function `asset` is currently in beta"
)
