"""The genres with a daily list, and the partitions built from them."""

from datetime import date

import dagster as dg

from imdb_warehouse.imdb.genres import MOVIE_GENRE_SLUGS

# IMDb's movie genres without Short and the TV-only ones, as URL slugs (`sci-fi`).
GENRES = list(MOVIE_GENRE_SLUGS)
FIRST_DAY = date(2024, 1, 1)

genre_partitions = dg.StaticPartitionsDefinition(GENRES)
# end_offset=1: today's partition exists as soon as today begins (the snapshot date is today).
daily_partitions = dg.DailyPartitionsDefinition(start_date=FIRST_DAY.isoformat(), end_offset=1)
date_genre_partitions = dg.MultiPartitionsDefinition(
    {"date": daily_partitions, "genre": genre_partitions}
)


def partition_days(context: dg.AssetExecutionContext) -> list[date]:
    """The days of a run's partitions (a range run holds several), in order."""
    if isinstance(context.assets_def.partitions_def, dg.MultiPartitionsDefinition):
        keys = [date_genre_partitions.get_partition_key_from_str(k) for k in context.partition_keys]
        return sorted({date.fromisoformat(k.keys_by_dimension["date"]) for k in keys})
    return [date.fromisoformat(key) for key in context.partition_keys]
