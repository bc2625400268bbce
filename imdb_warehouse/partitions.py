"""The genres with a daily list, and the days the assets are partitioned by.

Every asset of a day shares one partitions definition, so a day is one run. The genres are
not partitions: a run reads every genre's list unless its run config names some (`ListsConfig`),
and the tables of lists replace only the genres a run wrote.
"""

from datetime import date

import dagster as dg
from pydantic import Field

from imdb_warehouse.imdb.genres import MOVIE_GENRE_SLUGS

# IMDb's movie genres without Short and the TV-only ones, as URL slugs (`sci-fi`).
GENRES = list(MOVIE_GENRE_SLUGS)
FIRST_DAY = date(2024, 1, 1)

# end_offset=1: today's partition exists as soon as today begins (the snapshot date is today).
daily_partitions = dg.DailyPartitionsDefinition(start_date=FIRST_DAY.isoformat(), end_offset=1)


class ListsConfig(dg.Config):
    genres: list[str] = Field(
        default_factory=lambda: list(GENRES),
        description="The genres whose lists the run reads (default: all of them)",
    )


def partition_days(context: dg.AssetExecutionContext) -> list[date]:
    """The days of a run's partitions (a backfill run holds several), in order."""
    return [date.fromisoformat(key) for key in context.partition_keys]
