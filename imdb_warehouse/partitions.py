"""The genres with a daily list, and the days the assets are partitioned by.

Every asset of a day shares one partitions definition, so a day is one run. The genres are
not partitions: a run reads every genre's list unless its run config names some (`ListsConfig`),
and the tables of lists replace only the genres a run wrote.

The days are the partitions that can be built, and only those: today (IMDb answers only for
today) and the days the archive holds (rebuilt from it, without a request). They are dynamic
partitions, opened by `open_days`: the schedule and the CLI open the day they run; the sensor
`days_open` opens today and every archived day, so that the UI offers them and no other.
"""

from collections.abc import Iterable
from datetime import date

import dagster as dg
from pydantic import Field

from imdb_warehouse.imdb.genres import MOVIE_GENRE_SLUGS

# IMDb's movie genres without Short and the TV-only ones, as URL slugs (`sci-fi`).
GENRES = list(MOVIE_GENRE_SLUGS)
FIRST_DAY = date(2024, 1, 1)

DAYS = "days"  # the name of day_partitions
day_partitions = dg.DynamicPartitionsDefinition(name=DAYS)


def open_days(instance: dg.DagsterInstance, days: Iterable[date]) -> list[str]:
    """Make `days` partitions, keeping every day in calendar order (a range of days, a
    backfill, is read in the order of the partitions). The days opened."""
    have = list(instance.get_dynamic_partitions(DAYS))
    keys = sorted({*have, *(day.isoformat() for day in days)})
    if keys == have:
        return []
    if keys[: len(have)] == have:
        instance.add_dynamic_partitions(DAYS, keys[len(have) :])
    else:  # an earlier day arrives (an archive restored): the days again, in order
        for key in have:
            instance.delete_dynamic_partition(DAYS, key)
        instance.add_dynamic_partitions(DAYS, keys)
    return sorted(set(keys) - set(have))


class ListsConfig(dg.Config):
    genres: list[str] = Field(
        default_factory=lambda: list(GENRES),
        description="The genres whose lists the run reads (default: all of them)",
    )


def partition_days(context: dg.AssetExecutionContext) -> list[date]:
    """The days of a run's partitions (a backfill run holds several), in order."""
    return [date.fromisoformat(key) for key in context.partition_keys]
