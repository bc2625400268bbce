"""The day × genre partitions, and what the two overrides of `DayGenrePartitions` buy: if an
upgrade of Dagster changes either, these tests fail."""

from datetime import date

import dagster as dg
import pytest

from imdb_warehouse import partitions
from imdb_warehouse.definitions import defs
from imdb_warehouse.partitions import (
    DAY,
    DAYS,
    DAYS_PER_RUN,
    GENRE,
    GENRES,
    day_chunks,
    day_genre_partitions,
    genre_blocks,
    partition_key,
    range_tags,
)

DAY_ONE, DAY_TWO = date(2025, 6, 1), date(2025, 6, 2)


def test_a_partition_is_one_genres_list_of_one_day():
    assert partition_key(DAY_ONE, "sci-fi") == "2025-06-01|sci-fi"
    assert sorted(GENRES) == GENRES and len(GENRES) == 22
    assert [d.name for d in day_genre_partitions.partitions_defs] == [DAY, GENRE]
    assert range_tags(DAY_ONE, DAY_ONE) == {
        "dagster/asset_partition_range_start": "2025-06-01|action",
        "dagster/asset_partition_range_end": "2025-06-01|western",
    }


def test_genres_run_in_blocks_of_neighbours_and_days_in_chunks():
    assert genre_blocks(["western", "action", "adventure", "war", "drama"]) == [
        ["action", "adventure"],
        ["drama"],
        ["war", "western"],
    ]
    assert genre_blocks(GENRES) == [GENRES]
    assert DAYS_PER_RUN == 5
    chunks = day_chunks(date(2025, 1, 1), date(2025, 1, 12))
    assert chunks == [
        (date(2025, 1, 1), date(2025, 1, 5)),
        (date(2025, 1, 6), date(2025, 1, 10)),
        (date(2025, 1, 11), date(2025, 1, 12)),
    ]


def test_a_range_run_of_the_job_is_tagged_with_its_range_only():
    """The job backfill (the job's "Materialize all…") builds a range run's tags from its first
    partition's: with a dimension's tag among them, Dagster runs that one partition only
    (dagster-io/dagster#28861)."""
    job = defs.resolve_job_def("refresh_day")
    tags = job.partitioned_config.get_tags_for_partition_key("2025-06-01|action", job.name)
    assert not [tag for tag in tags if tag.startswith("dagster/partition/")]
    assert tags["dagster/partition"] == "2025-06-01|action"

    # the run of a range tagged so (no dimension tags) does every partition of the range
    seen: list[str] = []

    @dg.asset(partitions_def=day_genre_partitions)
    def lists(context: dg.AssetExecutionContext) -> None:
        seen.extend(context.partition_keys)

    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(DAYS, ["2025-06-01"])
        dg.materialize([lists], instance=instance, tags=range_tags(DAY_ONE, DAY_ONE))
        assert len(seen) == len(GENRES)
        # …and what the override keeps from Dagster: a run of one partition carries it whole
        seen.clear()
        result = dg.materialize([lists], instance=instance, partition_key="2025-06-01|drama")
        assert seen == ["2025-06-01|drama"]
        [event] = result.get_asset_materialization_events()
        assert (
            event.event_specific_data.materialization.tags["dagster/partition/genre"] == "drama"
        )  # the grid reads each dimension from the materialization


def _counting(instance: dg.DagsterInstance, monkeypatch) -> list[str]:
    """The instance's dynamic partition queries, as they are asked."""
    asked: list[str] = []
    for name in ("has_dynamic_partition", "get_dynamic_partitions"):
        method = getattr(instance, name)
        monkeypatch.setattr(
            instance, name, lambda *a, _m=method, _n=name, **k: asked.append(_n) or _m(*a, **k)
        )
    return asked


def test_the_keys_of_a_range_are_dagsters_and_remembered_a_few_seconds(monkeypatch):
    plain = dg.MultiPartitionsDefinition(
        {
            DAY: dg.DynamicPartitionsDefinition(name=DAYS),
            GENRE: dg.StaticPartitionsDefinition(GENRES),
        }
    )
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(DAYS, ["2025-06-01", "2025-06-02", "2025-06-03"])
        asked_of = _counting(instance, monkeypatch)
        store = instance
        for start, end in [
            ("2025-06-01|action", "2025-06-01|western"),
            ("2025-06-01|drama", "2025-06-01|drama"),
            ("2025-06-01|action", "2025-06-03|comedy"),
        ]:
            asked = dg.PartitionKeyRange(start, end)
            keys = day_genre_partitions.get_partition_keys_in_range(asked, store)
            assert keys == plain.get_partition_keys_in_range(asked, instance)
            before = len(asked_of)
            assert day_genre_partitions.get_partition_keys_in_range(asked, store) == keys
            assert len(asked_of) == before  # remembered: no query
        monkeypatch.setattr(partitions, "RANGE_MEMORY_SECONDS", -1.0)  # forgotten at once
        asked = dg.PartitionKeyRange("2025-06-02|action", "2025-06-02|war")
        day_genre_partitions.get_partition_keys_in_range(asked, store)
        before = len(asked_of)
        day_genre_partitions.get_partition_keys_in_range(asked, store)
        assert len(asked_of) > before
        # a day that is not a partition is refused, as Dagster refuses it
        with pytest.raises(dg.DagsterInvalidInvocationError, match="2025-06-09"):
            day_genre_partitions.get_partition_keys_in_range(
                dg.PartitionKeyRange("2025-06-09|action", "2025-06-09|war"), store
            )
