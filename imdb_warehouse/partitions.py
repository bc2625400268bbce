"""The genres with a daily list, and the day × genre partitions every asset of a day shares.

A partition is one genre's list of one day, `2025-06-01|sci-fi`, and what that list brought:
its rows, and the details, people and box office of the movies it listed. Every asset a day
writes shares this one definition, so a day is one run over the range (day, first genre) …
(day, last genre); one genre of one day is a run of that one partition.

The days are the partitions that can be built, and only those: today (IMDb answers only for
today) and the days the archive holds (rebuilt from it, without a request). They are dynamic
partitions, opened by `open_days`: the schedule and the CLI open the day they run; the sensor
`days_open` opens today and every archived day, so that the UI offers them and no other.
"""

import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

import dagster as dg

from imdb_warehouse.imdb.genres import MOVIE_GENRE_SLUGS

# IMDb's movie genres without Short and the TV-only ones, as URL slugs (`sci-fi`), in
# alphabetical order: the order of the genre dimension, and of every `listed_in` column.
GENRES = sorted(MOVIE_GENRE_SLUGS)
FIRST_DAY = date(2024, 1, 1)

DAYS = "days"  # the name of the dynamic days
DAY, GENRE = "day", "genre"  # the dimensions
DIMENSION_TAG_PREFIX = "dagster/partition/"


class DayGenrePartitions(dg.MultiPartitionsDefinition):
    """Days × genres, with two overrides of Dagster methods that are not public API; this class
    is their one place, and imdb_warehouse_tests/test_partitions.py fails if an upgrade of
    Dagster changes what they buy.

    - Runs are tagged with their partition (or range) only. Dagster tags a run of one
      multi-dimensional partition `dagster/partition/<dimension>` too, and its job backfill (the
      job's "Materialize all…" in the UI) copies the tags of a range's first partition onto the
      run of the whole range; a run so tagged executes that one partition
      (dagster-io/dagster#28861, open on 1.13.27): a day launched from the job's page would read
      one genre and succeed. The materializations still carry each dimension (Dagster tags them
      itself).
    - The keys of a range are remembered for a few seconds. Dagster asks for them again each
      time a step gives one partition its metadata (its row count: 220 times a table in a
      day's run), and the days are dynamic partitions: two to three queries of the instance
      each time, on SQLite 10-40 ms, seconds a day in all.
    """

    def get_tags_for_partition_key(self, partition_key: str) -> Mapping[str, str]:
        tags = super().get_tags_for_partition_key(partition_key)
        return {k: v for k, v in tags.items() if not k.startswith(DIMENSION_TAG_PREFIX)}

    def get_partition_keys_in_range(  # type: ignore[override]  # Dagster's Multi… overrides so
        self,
        partition_key_range: dg.PartitionKeyRange,
        dynamic_partitions_store: Any = None,
    ) -> Sequence[str]:
        with dg.partition_loading_context(dynamic_partitions_store=dynamic_partitions_store) as ctx:
            key = (
                id(ctx.dynamic_partitions_store),
                partition_key_range.start,
                partition_key_range.end,
            )
            now = time.monotonic()
            remembered = _RANGES.get(key)
            if remembered is None or remembered[0] < now:
                keys = super().get_partition_keys_in_range(partition_key_range)
                _RANGES.clear() if len(_RANGES) > 64 else None
                remembered = _RANGES[key] = (now + RANGE_MEMORY_SECONDS, keys)
            return remembered[1]


RANGE_MEMORY_SECONDS = 5.0
_RANGES: dict[tuple, tuple[float, Sequence[str]]] = {}


day_partitions = dg.DynamicPartitionsDefinition(name=DAYS)
day_genre_partitions = DayGenrePartitions(
    {DAY: day_partitions, GENRE: dg.StaticPartitionsDefinition(GENRES)}
)

RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"

# Days rebuilt together: one run holds every table's rows of its days in memory, so a long
# rebuild (`imdb-warehouse rebuild`, a backfill from the UI) is a run per this many days, all
# genres (`make bench`: rebuild_peak_memory ~440 MB with 5, ~660 with 10); a day is one run.
DAYS_PER_RUN = 5
BACKFILL_POLICY = dg.BackfillPolicy.multi_run(max_partitions_per_run=DAYS_PER_RUN * len(GENRES))


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


def partition_key(day: date, genre: str) -> str:
    return dg.MultiPartitionKey({DAY: day.isoformat(), GENRE: genre})


def genre_blocks(genres: Iterable[str]) -> list[list[str]]:
    """`genres` as runs of neighbours in the genre dimension: each block is one range."""
    chosen = sorted(set(genres), key=GENRES.index)
    blocks: list[list[str]] = []
    for genre in chosen:
        if blocks and GENRES.index(genre) == GENRES.index(blocks[-1][-1]) + 1:
            blocks[-1].append(genre)
        else:
            blocks.append([genre])
    return blocks


def day_chunks(first: date, last: date) -> list[tuple[date, date]]:
    """The days `first`..`last` as runs of at most DAYS_PER_RUN days: (first, last) of each."""
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    chunks = [days[i : i + DAYS_PER_RUN] for i in range(0, len(days), DAYS_PER_RUN)]
    return [(chunk[0], chunk[-1]) for chunk in chunks]


def range_tags(first: date, last: date, genres: Sequence[str] = GENRES) -> dict[str, str]:
    """The tags of a run over the days `first`..`last` × the neighbouring `genres` (all of
    them: a day's run; a range of a multi-partitioned asset is the product of its dimensions'
    ranges)."""
    return {
        RANGE_START: partition_key(first, genres[0]),
        RANGE_END: partition_key(last, genres[-1]),
    }


def run_lists(
    context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext,
) -> list[tuple[date, str]]:
    """The (day, genre) lists of a run's partitions, in order."""
    return lists_of(context.partition_keys)


def lists_of(keys: Iterable[str]) -> list[tuple[date, str]]:
    lists = []
    for key in keys:
        parts = day_genre_partitions.get_partition_key_from_str(key).keys_by_dimension
        lists.append((date.fromisoformat(parts[DAY]), parts[GENRE]))
    return sorted(lists, key=lambda pair: (pair[0], GENRES.index(pair[1])))


def partition_days(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> list[date]:
    """The days of a run's partitions, in order."""
    return sorted({day for day, _ in run_lists(context)})
