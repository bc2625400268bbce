"""PostgresPolarsIOManager through real Dagster runs on real Postgres (both backends)."""

import threading
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import dagster as dg
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from imdb_warehouse.resources import WarehouseError, table_writes
from imdb_warehouse.resources.storage import table_spec
from imdb_warehouse.resources.table_writes import write_frame

GENRES = dg.StaticPartitionsDefinition(["action", "drama", "horror"])
DAYS = dg.DailyPartitionsDefinition(start_date="2025-01-01", end_date="2025-01-10")
DAY_GENRE = dg.MultiPartitionsDefinition({"date": DAYS, "genre": GENRES})


def materialize(assets, io_manager, **kwargs) -> dg.ExecuteInProcessResult:
    return dg.materialize(assets, resources={"io_manager": io_manager}, **kwargs)


def failure_message(result: dg.ExecuteInProcessResult) -> str:
    [failure] = [e for e in result.all_events if e.is_step_failure]
    return failure.step_failure_data.error.to_string()


def test_a_partition_write_replaces_that_partition_and_no_other(io_manager, sql):
    rows = {"action": 3, "drama": 2}

    @dg.asset(key_prefix="staging", partitions_def=GENRES, metadata={"partition_expr": "genre"})
    def rankings(context) -> pl.DataFrame:
        n = rows[context.partition_key]
        return pl.DataFrame({"genre": [context.partition_key] * n, "rank": range(1, n + 1)})

    materialize([rankings], io_manager, partition_key="action")
    materialize([rankings], io_manager, partition_key="drama")
    rows["action"] = 5
    materialize([rankings], io_manager, partition_key="action")

    assert sql("SELECT genre, count(*), max(rank) FROM staging.rankings GROUP BY 1 ORDER BY 1") == [
        ("action", 5, 5),
        ("drama", 2, 2),
    ]


def test_multi_partitions_and_ranges_replace_exactly_their_keys(io_manager, sql):
    per_key = {}

    @dg.asset(
        key_prefix="staging",
        partitions_def=DAY_GENRE,
        backfill_policy=dg.BackfillPolicy.single_run(),
        metadata={"partition_expr": {"date": "snapshot_date", "genre": "genre"}},
    )
    def movie_rankings(context) -> pl.DataFrame:
        frames = []
        for key in context.partition_keys:
            day, genre = key.split("|")
            n = per_key.get(key, 2)
            frames.append(
                pl.DataFrame(
                    {
                        "snapshot_date": [date.fromisoformat(day)] * n,
                        "genre": [genre] * n,
                        "rank": pl.Series(range(1, n + 1), dtype=pl.Int16),
                    }
                )
            )
        return pl.concat(frames)

    def counts() -> dict[str, int]:
        rows = sql(
            "SELECT snapshot_date, genre, count(*) FROM staging.movie_rankings GROUP BY 1, 2"
        )
        return {f"{d.isoformat()}|{g}": n for d, g, n in rows}

    materialize([movie_rankings], io_manager, partition_key="2025-01-01|drama")
    assert counts() == {"2025-01-01|drama": 2}

    range_tags = {
        "dagster/asset_partition_range_start": "2025-01-01|action",
        "dagster/asset_partition_range_end": "2025-01-03|horror",
    }
    per_key["2025-01-01|drama"] = 4
    materialize([movie_rankings], io_manager, tags=range_tags)
    expected = {f"2025-01-0{d}|{g}": 2 for d in (1, 2, 3) for g in ("action", "drama", "horror")}
    expected["2025-01-01|drama"] = 4
    assert counts() == expected

    # a range of one day × every genre replaces that day only
    per_key.update({f"2025-01-02|{g}": 1 for g in ("action", "drama", "horror")})
    materialize(
        [movie_rankings],
        io_manager,
        tags={
            "dagster/asset_partition_range_start": "2025-01-02|action",
            "dagster/asset_partition_range_end": "2025-01-02|horror",
        },
    )
    expected.update({f"2025-01-02|{g}": 1 for g in ("action", "drama", "horror")})
    assert counts() == expected


LINEAGE = dg.TableColumnLineage(
    {"day": [dg.TableColumnDep(asset_key=dg.AssetKey(["staging", "x"]), column_name="date")]}
)


def test_daily_range_run_replaces_its_days(io_manager, sql):
    sizes = {}

    @dg.asset(
        key_prefix="warehouse",
        partitions_def=DAYS,
        backfill_policy=dg.BackfillPolicy.single_run(),
        metadata={"partition_expr": "day", "dagster/column_lineage": LINEAGE},
    )
    def box_office(context) -> pl.DataFrame:
        start, end = context.partition_time_window
        days = [start.date() + timedelta(d) for d in range((end - start).days)]
        return pl.DataFrame({"day": [d for d in days for _ in range(sizes.get(d.day, 3))]})

    result = materialize(
        [box_office],
        io_manager,
        tags={
            "dagster/asset_partition_range_start": "2025-01-01",
            "dagster/asset_partition_range_end": "2025-01-05",
        },
    )
    # each day its own row count; the lineage with the newest day's materialization only
    metadata = {
        e.materialization.partition: e.materialization.metadata
        for e in result.get_asset_materialization_events()
    }
    assert {day: m["dagster/row_count"].value for day, m in metadata.items()} == {
        f"2025-01-0{d}": 3 for d in range(1, 6)
    }
    assert [day for day, m in metadata.items() if "dagster/column_lineage" in m] == ["2025-01-05"]
    assert "| day | staging/x.date |" in metadata["2025-01-05"]["column_sources"].value
    sizes[3] = 1
    materialize([box_office], io_manager, partition_key="2025-01-03")
    assert sql(
        "SELECT extract(day FROM day)::int, count(*) FROM warehouse.box_office "
        "GROUP BY 1 ORDER BY 1"
    ) == [
        (1, 3),
        (2, 3),
        (3, 1),
        (4, 3),
        (5, 3),
    ]


def test_a_key_set_that_is_not_a_cross_product_replaces_only_its_keys(io_manager, sql):
    """Partition mappings can hand the IO manager any set of multi-partition keys."""
    keys_written = [
        "2025-01-01|action",
        "2025-01-01|drama",
        "2025-01-02|action",
        "2025-01-02|drama",
    ]
    frame = pl.DataFrame(
        {
            "snapshot_date": [date.fromisoformat(k.split("|")[0]) for k in keys_written],
            "genre": [k.split("|")[1] for k in keys_written],
            "version": [1] * 4,
        }
    )
    expr = {"date": "snapshot_date", "genre": "genre"}
    spec = table_spec(
        dg.AssetKey(["staging", "t"]), {"partition_expr": expr}, DAY_GENRE, keys_written
    )
    with io_manager.postgres.connect() as conn:
        write_frame(conn, spec, frame)

    diagonal = ["2025-01-01|action", "2025-01-02|drama"]
    spec = table_spec(dg.AssetKey(["staging", "t"]), {"partition_expr": expr}, DAY_GENRE, diagonal)
    with io_manager.postgres.connect() as conn:
        write_frame(conn, spec, frame[[0, 3]].with_columns(version=pl.lit(2, dtype=pl.Int64)))

    assert sql("SELECT snapshot_date::text, genre, version FROM staging.t ORDER BY 1, 2") == [
        ("2025-01-01", "action", 2),
        ("2025-01-01", "drama", 1),
        ("2025-01-02", "action", 1),
        ("2025-01-02", "drama", 2),
    ]
    assert sorted(io_manager.read_table(spec)["version"].to_list()) == [2, 2]


def test_upsert_with_newer_wins_never_lets_an_older_day_overwrite(io_manager, sql):
    sightings = {
        "2025-01-02": {"movie_key": [1, 2], "title": ["One (new)", "Two"]},
        "2025-01-01": {"movie_key": [1, 3], "title": ["One (old)", "Three"]},
    }

    @dg.asset(
        key_prefix="warehouse",
        partitions_def=DAYS,
        metadata={
            "partition_expr": "last_seen_date",
            "primary_key": "movie_key",
            "write_mode": "upsert",
            "newer_wins": "last_seen_date",
        },
    )
    def dim_movie(context) -> pl.DataFrame:
        rows = sightings[context.partition_key]
        day = date.fromisoformat(context.partition_key)
        return pl.DataFrame({**rows, "last_seen_date": [day] * len(rows["movie_key"])})

    materialize([dim_movie], io_manager, partition_key="2025-01-02")
    materialize([dim_movie], io_manager, partition_key="2025-01-01")
    table = "SELECT movie_key, title, last_seen_date::text FROM warehouse.dim_movie ORDER BY 1"
    assert sql(table) == [
        (1, "One (new)", "2025-01-02"),
        (2, "Two", "2025-01-02"),
        (3, "Three", "2025-01-01"),
    ]

    sightings["2025-01-02"]["title"] = ["One (edited)", "Two"]
    materialize([dim_movie], io_manager, partition_key="2025-01-02")
    assert sql(table)[0] == (1, "One (edited)", "2025-01-02")
    assert sql("SELECT count(*) FROM warehouse.dim_movie") == [(3,)]


def test_upsert_without_newer_wins_keeps_the_last_write(io_manager, sql):
    titles = {"v": "first"}

    @dg.asset(key_prefix="warehouse", metadata={"primary_key": ["a", "b"], "write_mode": "upsert"})
    def pairs() -> pl.DataFrame:
        return pl.DataFrame({"a": [1, 1], "b": ["x", "y"], "title": [titles["v"], "same"]})

    materialize([pairs], io_manager)
    titles["v"] = "second"
    materialize([pairs], io_manager)
    assert sql("SELECT a, b, title FROM warehouse.pairs ORDER BY b") == [
        (1, "x", "second"),
        (1, "y", "same"),
    ]


def _large(genre: str, n: int, version: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "genre": [genre] * n,
            "id": pl.int_range(n, eager=True),
            "note": [f"row {i}" for i in range(n)],
            "version": [version] * n,
        }
    )


def test_a_copy_that_fails_midway_leaves_the_old_rows(io_manager, sql):
    frames = {}

    @dg.asset(key_prefix="staging", partitions_def=GENRES, metadata={"partition_expr": "genre"})
    def pages(context) -> pl.DataFrame:
        return frames[context.partition_key]

    n = 250_000  # more than two COPY chunks
    frames["action"] = _large("action", n, 1)
    frames["drama"] = _large("drama", 10, 1)
    materialize([pages], io_manager, partition_key="action")
    materialize([pages], io_manager, partition_key="drama")

    # Postgres rejects row 200,001 (a NUL byte) after two chunks went over the wire.
    bad = _large("action", n, 2).with_columns(
        note=pl.when(pl.col("id") == 200_000).then(pl.lit("nul \x00 here")).otherwise("note")
    )
    frames["action"] = bad
    result = materialize([pages], io_manager, partition_key="action", raise_on_error=False)
    assert not result.success
    assert "0x00" in failure_message(result)
    assert sql("SELECT genre, count(*), max(version) FROM staging.pages GROUP BY 1 ORDER BY 1") == [
        ("action", n, 1),
        ("drama", 10, 1),
    ]


def test_a_crash_of_the_writer_midway_through_copy_leaves_the_old_rows(
    io_manager, sql, monkeypatch
):
    frames = {"v": _large("all", 30, 1)}

    @dg.asset(key_prefix="warehouse")
    def calendar() -> pl.DataFrame:
        return frames["v"]

    materialize([calendar], io_manager)

    real_write_csv = pl.DataFrame.write_csv
    calls = {"n": 0}

    def crash_on_second_chunk(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise ConnectionError("writer lost in the middle of COPY")
        return real_write_csv(self, *args, **kwargs)

    monkeypatch.setattr(table_writes, "COPY_CHUNK_ROWS", 10)
    monkeypatch.setattr(pl.DataFrame, "write_csv", crash_on_second_chunk)
    frames["v"] = _large("all", 50, 2)
    result = materialize([calendar], io_manager, raise_on_error=False)
    assert not result.success and calls["n"] == 2
    assert "writer lost" in failure_message(result)
    assert sql("SELECT count(*), max(version) FROM warehouse.calendar") == [(30, 1)]


def test_a_reader_during_a_full_table_replace_sees_the_old_or_the_new_table(
    io_manager, database_url
):
    import psycopg

    sizes = [120_000, 80_000]
    state = {"n": sizes[0]}

    @dg.asset(key_prefix="warehouse")
    def dim_date() -> pl.DataFrame:
        return _large("x", state["n"], state["n"])

    materialize([dim_date], io_manager)
    seen: list[int] = []
    stop = threading.Event()

    def read() -> None:
        with psycopg.connect(database_url, autocommit=True) as conn:
            while not stop.is_set():
                seen.append(conn.execute("SELECT count(*) FROM warehouse.dim_date").fetchone()[0])

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for i in range(1, 5):
            state["n"] = sizes[i % 2]
            materialize([dim_date], io_manager)
    finally:
        stop.set()
        reader.join()
    assert set(seen) == set(sizes), f"reader saw counts {sorted(set(seen))}"


def test_two_writers_of_one_partition_at_once_leave_one_copy(io_manager, sql):
    both_computed = threading.Barrier(2, timeout=60)
    concurrent = {"on": False}

    @dg.asset(key_prefix="staging", partitions_def=GENRES, metadata={"partition_expr": "genre"})
    def twice() -> pl.DataFrame:
        if concurrent["on"]:
            both_computed.wait()  # both runs hand their frames to the IO manager together
        return _large("drama", 50_000, 1)

    materialize([twice], io_manager, partition_key="drama")
    concurrent["on"] = True
    results = []
    threads = [
        threading.Thread(
            target=lambda: results.append(materialize([twice], io_manager, partition_key="drama"))
        )
        for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 2 and all(r.success for r in results)
    assert sql("SELECT count(*), count(DISTINCT id) FROM staging.twice") == [(50_000, 50_000)]


NASTY = [
    "",
    "O'Brien",
    'say "hi", twice',
    "line1\nline2\r\nline3",
    "back\\slash \\N \\x41",
    "tab\there",
    "'; DROP TABLE warehouse.everything; --",
    "Ünïcødé 東京 🎬 ∑",
    "\\.",
    "NULL",
    " padded ",
    "%s $1 {} ?",
]


def every_type_frame() -> pl.DataFrame:
    n = len(NASTY)
    some = lambda values: [values[i % len(values)] if i % 4 != 3 else None for i in range(n)]  # noqa: E731
    paris = datetime(2024, 3, 31, 1, 59, 59, 999999, tzinfo=UTC)
    return pl.DataFrame(
        {
            "id": pl.Series(range(n), dtype=pl.Int32),
            "i8": pl.Series(some([-128, 0, 127]), dtype=pl.Int8),
            "i16": pl.Series(some([-32768, 32767]), dtype=pl.Int16),
            "i32": pl.Series(some([-(2**31), 2**31 - 1]), dtype=pl.Int32),
            "i64": pl.Series(some([-(2**63), 2**63 - 1]), dtype=pl.Int64),
            "u8": pl.Series(some([0, 255]), dtype=pl.UInt8),
            "u16": pl.Series(some([0, 65535]), dtype=pl.UInt16),
            "u32": pl.Series(some([0, 2**32 - 1]), dtype=pl.UInt32),
            "u64": pl.Series(some([0, 2**64 - 1]), dtype=pl.UInt64),
            "f32": pl.Series(some([1.1, -0.5, 3.4e38, float("inf")]), dtype=pl.Float32),
            "f64": pl.Series(
                some([0.1 + 0.2, float("nan"), -1e-300, float("-inf")]), dtype=pl.Float64
            ),
            "flag": pl.Series(some([True, False]), dtype=pl.Boolean),
            "text": pl.Series(
                [None if i == 3 else s for i, s in enumerate(NASTY)], dtype=pl.String
            ),
            "category": pl.Series(some(["a", "b'c"]), dtype=pl.Categorical),
            "rating": pl.Series(some(["G", "PG-13"]), dtype=pl.Enum(["G", "PG-13", "R"])),
            "day": pl.Series(some([date(1870, 1, 1), date(2100, 12, 31)]), dtype=pl.Date),
            "utc": pl.Series(
                some([paris, datetime(1999, 12, 31, 23, 59, tzinfo=UTC)]),
                dtype=pl.Datetime("us", "UTC"),
            ),
            "paris": pl.Series(some([paris]), dtype=pl.Datetime("us", "UTC")).dt.convert_time_zone(
                "Europe/Paris"
            ),
            "naive": pl.Series(some([datetime(2024, 1, 2, 3, 4, 5, 6)]), dtype=pl.Datetime("us")),
            "millis": pl.Series(
                some([datetime(2024, 1, 2, 3, 4, 5, 6000)]), dtype=pl.Datetime("ms")
            ),
            "clock": pl.Series(some([time(0, 0), time(23, 59, 59, 999999)]), dtype=pl.Time),
            "money": pl.Series(
                some([Decimal("123456789012.34"), Decimal("-0.01")]), dtype=pl.Decimal(14, 2)
            ),
            "blob": pl.Series(some([b"\x00\xff\\", b""]), dtype=pl.Binary),
            "names": pl.Series(some([NASTY[:5], [], [None, "x"]]), dtype=pl.List(pl.String)),
            "ranks": pl.Series(some([[1, None, 3], []]), dtype=pl.List(pl.Int16)),
            "dates": pl.Series(some([[date(2024, 2, 29)]]), dtype=pl.List(pl.Date)),
            "stamps": pl.Series(some([[paris]]), dtype=pl.List(pl.Datetime("us", "UTC"))),
            "prices": pl.Series(some([[Decimal("1.50"), None]]), dtype=pl.List(pl.Decimal(6, 2))),
            "person": pl.Series(
                some(
                    [
                        {"id": "nm0000206", "name": NASTY[6], "order": 1},
                        {"id": None, "name": "🎬\n", "order": None},
                    ]
                ),
                dtype=pl.Struct({"id": pl.String, "name": pl.String, "order": pl.Int32}),
            ),
            "credits": pl.Series(
                some([[{"id": "nm1", "name": 'a "b"'}, {"id": "nm2", "name": None}], []]),
                dtype=pl.List(pl.Struct({"id": pl.String, "name": pl.String})),
            ),
            "matrix": pl.Series(some([[[1, 2], [3]], [[]]]), dtype=pl.List(pl.List(pl.Int64))),
        }
    )


def test_every_supported_type_round_trips_with_nulls_and_hostile_text(io_manager, sql):
    frame = every_type_frame()
    received = {}

    @dg.asset(key_prefix="staging", metadata={"primary_key": "id"})
    def everything() -> pl.DataFrame:
        return frame

    @dg.asset(key_prefix="staging")
    def reader(everything: pl.DataFrame) -> None:
        received["frame"] = everything

    @dg.asset(key_prefix="staging")
    def empty() -> pl.DataFrame:
        return frame.clear()

    @dg.asset(key_prefix="staging")
    def empty_reader(empty: pl.LazyFrame) -> None:
        received["empty"] = empty.collect()

    materialize([everything, reader, empty, empty_reader], io_manager)
    assert_frame_equal(received["frame"].sort("id"), frame)
    assert received["empty"].schema == frame.schema and received["empty"].height == 0
    assert sql("SELECT text FROM staging.everything WHERE id = 6") == [(NASTY[6],)]
    assert sql("SELECT names[1] FROM staging.everything WHERE id = 0") == [(NASTY[0],)]
    assert sql("SELECT person->>'name' FROM staging.everything WHERE id = 0") == [(NASTY[6],)]


def test_a_lone_backslash_dot_in_a_one_column_table_is_data_not_end_of_copy(io_manager):
    frame = pl.DataFrame({"v": ["\\.", "after"]})
    spec = table_spec(dg.AssetKey(["staging", "lone"]), {}, None, None)
    with io_manager.postgres.connect() as conn:
        write_frame(conn, spec, frame)
    assert io_manager.read_table(spec)["v"].to_list() == ["\\.", "after"]


def test_loading_one_several_or_all_partitions_keeps_dtypes(io_manager):
    received = {}

    @dg.asset(
        key_prefix="staging",
        partitions_def=DAY_GENRE,
        metadata={"partition_expr": {"date": "snapshot_date", "genre": "genre"}},
    )
    def ranks(context) -> pl.DataFrame:
        day, genre = context.partition_key.split("|")
        n = 0 if genre == "horror" else 3
        return pl.DataFrame(
            {
                "snapshot_date": [date.fromisoformat(day)] * n,
                "genre": [genre] * n,
                "rank": range(1, n + 1),
            },
            schema={"snapshot_date": pl.Date, "genre": pl.String, "rank": pl.Int32},
        )

    @dg.asset(key_prefix="staging", partitions_def=DAY_GENRE)
    def one(ranks: pl.DataFrame) -> None:
        received["one"] = ranks

    @dg.asset(
        key_prefix="warehouse",
        partitions_def=DAYS,
        ins={
            "ranks": dg.AssetIn(
                partition_mapping=dg.MultiToSingleDimensionPartitionMapping(
                    partition_dimension_name="date"
                )
            )
        },
    )
    def day(ranks: pl.DataFrame) -> None:
        received["day"] = ranks

    @dg.asset(key_prefix="warehouse")
    def everything(ranks: pl.DataFrame) -> None:
        received["all"] = ranks

    for d in ("2025-01-01", "2025-01-02"):
        for g in ("action", "drama", "horror"):
            materialize([ranks], io_manager, partition_key=f"{d}|{g}")

    materialize([ranks.to_source_asset(), one], io_manager, partition_key="2025-01-02|drama")
    assert received["one"].schema["rank"] == pl.Int32
    assert received["one"].select(
        pl.col("snapshot_date").cast(pl.String), "genre"
    ).unique().rows() == [("2025-01-02", "drama")]
    materialize([ranks.to_source_asset(), one], io_manager, partition_key="2025-01-02|horror")
    assert received["one"].height == 0
    assert received["one"].schema == {
        "snapshot_date": pl.Date,
        "genre": pl.String,
        "rank": pl.Int32,
    }

    materialize([ranks.to_source_asset(), day], io_manager, partition_key="2025-01-02")
    assert sorted(received["day"]["genre"].unique()) == ["action", "drama"]
    assert received["day"].height == 6 and received["day"].schema["rank"] == pl.Int32

    dg.materialize(
        [ranks.to_source_asset(), everything],
        resources={"io_manager": io_manager},
        selection=[everything],
    )
    assert received["all"].height == 12


def test_a_new_column_is_added_and_old_rows_read_as_null(io_manager, sql):
    columns = {"a": [1, 2]}

    @dg.asset(key_prefix="staging")
    def drift() -> pl.DataFrame:
        return pl.DataFrame(columns)

    materialize([drift], io_manager)
    columns.update(a=[3], b=["new"])
    materialize([drift], io_manager)
    assert sql("SELECT a, b FROM staging.drift") == [(3, "new")]

    spec = table_spec(dg.AssetKey(["staging", "drift"]), {}, None, None)
    assert io_manager.read_table(spec).schema == pl.Schema({"a": pl.Int64, "b": pl.String})


@pytest.mark.parametrize(
    ("frame", "named"),
    [
        (pl.DataFrame({"a": [9]}), "['b']"),
        (pl.DataFrame({"a": [9], "b": [1.5]}), "b: table String, frame Float64"),
        (
            pl.DataFrame({"a": pl.Series([9], dtype=pl.Int32), "b": ["x"]}),
            "a: table Int64, frame Int32",
        ),
    ],
    ids=["missing", "retyped", "narrowed"],
)
def test_a_missing_or_retyped_column_fails_naming_it_and_leaves_the_table(
    io_manager, sql, frame, named
):
    current = {"frame": pl.DataFrame({"a": [1, 2], "b": ["x", "y"]})}

    @dg.asset(key_prefix="staging")
    def drift() -> pl.DataFrame:
        return current["frame"]

    materialize([drift], io_manager)
    current["frame"] = frame
    result = materialize([drift], io_manager, raise_on_error=False)
    message = failure_message(result)
    assert "staging.drift" in message and named in message
    assert sql("SELECT a, b FROM staging.drift ORDER BY a") == [(1, "x"), (2, "y")]


def test_each_partition_of_a_run_carries_its_own_row_count(io_manager):
    # Dagster gives every partition of the run the same output metadata: the total rows
    # must not stand as each partition's row count; each gets its own.
    @dg.asset(
        key_prefix="staging",
        partitions_def=dg.StaticPartitionsDefinition(["a", "b", "c"]),
        metadata={"partition_expr": "genre"},
        backfill_policy=dg.BackfillPolicy.single_run(),
    )
    def counted(context: dg.AssetExecutionContext) -> pl.DataFrame:
        sizes = {"a": 3, "b": 5, "c": 1}
        return pl.DataFrame(
            {"genre": [key for key in context.partition_keys for _ in range(sizes[key])]}
        )

    result = materialize(
        [counted],
        io_manager,
        tags={
            "dagster/asset_partition_range_start": "a",
            "dagster/asset_partition_range_end": "b",
        },
    )
    events = result.get_asset_materialization_events()
    assert sorted(e.materialization.partition for e in events) == ["a", "b"]
    assert {
        e.materialization.partition: e.materialization.metadata["dagster/row_count"].value
        for e in events
    } == {"a": 3, "b": 5}
    one = materialize([counted], io_manager, partition_key="c")
    [event] = one.get_asset_materialization_events()
    assert event.materialization.metadata["dagster/row_count"].value == 1


def test_materializations_carry_row_count_column_schema_and_table_name(io_manager, sql):
    @dg.asset(
        key_prefix="staging",
        metadata={
            "primary_key": "title_id",
            "dagster/column_schema": dg.TableSchema(
                columns=[
                    dg.TableColumn("title_id", "text", description="IMDb id, tt…"),
                    dg.TableColumn("votes", "integer", description="IMDb's vote count; it's exact"),
                ]
            ),
        },
    )
    def titles() -> pl.DataFrame:
        return pl.DataFrame(
            {"title_id": ["tt1", "tt2"], "votes": pl.Series([5, None], dtype=pl.Int32)}
        )

    result = materialize([titles], io_manager)
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["dagster/row_count"].value == 2
    assert metadata["dagster/table_name"].value == "staging.titles"
    columns = {c.name: c for c in metadata["dagster/column_schema"].schema.columns}
    assert columns["votes"].type == "integer"
    assert columns["votes"].description == "IMDb's vote count; it's exact"
    assert columns["title_id"].constraints.nullable is False
    assert sql("SELECT col_description('staging.titles'::regclass, 2)") == [
        ("IMDb's vote count; it's exact",)
    ]
    assert sql(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
        "AND a.attnum = ANY(i.indkey) "
        "WHERE i.indrelid = 'staging.titles'::regclass AND i.indisprimary"
    ) == [("title_id",)]


def test_a_non_polars_output_fails_with_a_clear_message(io_manager):
    @dg.asset(key_prefix="staging")
    def not_a_frame() -> dict:
        return {"a": [1]}

    message = failure_message(materialize([not_a_frame], io_manager, raise_on_error=False))
    assert "returned dict" in message and "polars.DataFrame" in message


def test_a_partitioned_asset_without_partition_column_fails_with_a_clear_message(io_manager):
    @dg.asset(key_prefix="staging", partitions_def=GENRES)
    def unnamed(context) -> pl.DataFrame:
        return pl.DataFrame({"genre": [context.partition_key]})

    message = failure_message(
        materialize([unnamed], io_manager, partition_key="drama", raise_on_error=False)
    )
    assert "names no partition column" in message and "partition_expr" in message

    @dg.asset(key_prefix="staging", partitions_def=DAY_GENRE, metadata={"partition_expr": "genre"})
    def half_named(context) -> pl.DataFrame:
        return pl.DataFrame({"genre": ["drama"]})

    message = failure_message(
        materialize(
            [half_named], io_manager, partition_key="2025-01-01|drama", raise_on_error=False
        )
    )
    assert "'date': <column>" in message


@pytest.mark.parametrize(
    ("frame", "named"),
    [
        (pl.DataFrame({"genre": ["drama", "action"], "id": [1, 2]}), "outside the partitions"),
        (pl.DataFrame({"genre": ["drama", "drama"], "id": [1, 1]}), "share a primary key"),
        (pl.DataFrame({"genre": ["drama", "drama"], "id": [1, None]}), "'id' has 1 null"),
        (pl.DataFrame({"id": [1]}), "lacks: ['genre']"),
    ],
    ids=["outside-partition", "duplicate-key", "null-key", "no-partition-column"],
)
def test_a_frame_breaking_keys_or_partitions_is_refused_and_nothing_changes(
    io_manager, sql, frame, named
):
    current = {"frame": pl.DataFrame({"genre": ["drama"], "id": [7]})}

    @dg.asset(
        key_prefix="staging",
        partitions_def=GENRES,
        metadata={"partition_expr": "genre", "primary_key": "id"},
    )
    def keyed() -> pl.DataFrame:
        return current["frame"]

    materialize([keyed], io_manager, partition_key="drama")
    current["frame"] = frame
    message = failure_message(
        materialize([keyed], io_manager, partition_key="drama", raise_on_error=False)
    )
    assert named in message
    assert sql("SELECT genre, id FROM staging.keyed") == [("drama", 7)]


def test_hostile_column_names_and_values_are_quoted_not_executed(io_manager, sql):
    hostile = 'x"; DROP TABLE staging.victim; --'
    sql("CREATE SCHEMA staging")
    sql("CREATE TABLE staging.victim (v int)")

    @dg.asset(key_prefix="staging", metadata={"primary_key": hostile, "write_mode": "upsert"})
    def odd() -> pl.DataFrame:
        return pl.DataFrame({hostile: ["'); DROP TABLE staging.victim; --"], "Mixed Case": [1]})

    materialize([odd], io_manager)
    materialize([odd], io_manager)
    assert sql("SELECT to_regclass('staging.victim') IS NOT NULL") == [(True,)]
    spec = table_spec(dg.AssetKey(["staging", "odd"]), {}, None, None)
    assert io_manager.read_table(spec).columns == [hostile, "Mixed Case"]


def test_a_table_created_outside_the_io_manager_loads_with_postgres_types(io_manager, sql):
    sql("CREATE SCHEMA warehouse")
    sql(
        "CREATE TABLE warehouse.manual "
        "(k integer PRIMARY KEY, name text, at timestamptz, tags text[])"
    )
    sql("INSERT INTO warehouse.manual VALUES (1, 'x', '2025-01-01T00:00:00Z', '{a,b}')")
    spec = table_spec(dg.AssetKey(["warehouse", "manual"]), {"primary_key": "k"}, None, None)
    loaded = io_manager.read_table(spec)
    assert loaded.schema == pl.Schema(
        {
            "k": pl.Int32,
            "name": pl.String,
            "at": pl.Datetime("us", "UTC"),
            "tags": pl.List(pl.String),
        }
    )
    with io_manager.postgres.connect() as conn:
        write_frame(conn, spec, loaded.with_columns(name=pl.lit("y")))
    assert sql("SELECT k, name, tags FROM warehouse.manual") == [(1, "y", ["a", "b"])]


def test_loading_a_table_that_does_not_exist_says_which_asset_to_materialize(io_manager):
    spec = table_spec(dg.AssetKey(["staging", "never_written"]), {}, None, None)
    with pytest.raises(WarehouseError, match="materialize asset staging/never_written"):
        io_manager.read_table(spec)


def test_upsert_merge_keeps_the_first_seen_date_and_old_values_where_new_ones_are_null(
    io_manager, sql
):
    days = {
        "2025-01-05": {"budget": [None], "title": ["Edited"]},
        "2025-01-03": {"budget": [100], "title": ["Original"]},
        "2025-01-07": {"budget": [None], "title": ["Edited again"]},
    }

    @dg.asset(
        key_prefix="warehouse",
        partitions_def=DAYS,
        metadata={
            "partition_expr": "last_seen_date",
            "primary_key": "movie_key",
            "write_mode": "upsert",
            "newer_wins": "last_seen_date",
            "upsert_merge": {"first_seen_date": "least", "budget": "coalesce"},
        },
    )
    def movies(context) -> pl.DataFrame:
        day = date.fromisoformat(context.partition_key)
        return pl.DataFrame(
            {
                "movie_key": [1],
                "first_seen_date": [day],
                "last_seen_date": [day],
                **days[context.partition_key],
            },
            schema_overrides={"budget": pl.Int64},
        )

    table = (
        "SELECT first_seen_date::text, last_seen_date::text, budget, title FROM warehouse.movies"
    )
    materialize([movies], io_manager, partition_key="2025-01-05")
    assert sql(table) == [("2025-01-05", "2025-01-05", None, "Edited")]
    materialize([movies], io_manager, partition_key="2025-01-03")  # an older day, loaded later
    assert sql(table) == [("2025-01-03", "2025-01-05", None, "Edited")]  # only first_seen moves
    materialize([movies], io_manager, partition_key="2025-01-07")
    assert sql(table) == [("2025-01-03", "2025-01-07", None, "Edited again")]
    days["2025-01-07"]["budget"] = [250]
    materialize([movies], io_manager, partition_key="2025-01-07")
    days["2025-01-07"]["budget"] = [None]
    materialize([movies], io_manager, partition_key="2025-01-07")
    assert sql(table) == [("2025-01-03", "2025-01-07", 250, "Edited again")]  # null keeps 250


def test_foreign_keys_and_indexes_from_metadata(io_manager, sql):
    @dg.asset(key_prefix="warehouse", metadata={"primary_key": "genre_key", "write_mode": "upsert"})
    def dim_genre() -> pl.DataFrame:
        return pl.DataFrame({"genre_key": [1, 2], "name": ["Action", "Drama"]})

    rows = {"genre_key": [1, 2, 2]}

    @dg.asset(
        key_prefix="warehouse",
        partitions_def=DAYS,
        metadata={
            "partition_expr": "snapshot_date",
            "primary_key": ["genre_key", "rank", "snapshot_date"],
            "foreign_keys": {"genre_key": "warehouse.dim_genre"},
            "indexes": [["rank"]],
        },
    )
    def fact(context) -> pl.DataFrame:
        n = len(rows["genre_key"])
        return pl.DataFrame(
            {
                **rows,
                "rank": range(1, n + 1),
                "snapshot_date": [date.fromisoformat(context.partition_key)] * n,
            }
        )

    result = materialize([fact], io_manager, partition_key="2025-01-01", raise_on_error=False)
    assert "references warehouse.dim_genre, which does not exist yet" in failure_message(result)
    materialize([dim_genre], io_manager)
    materialize([fact], io_manager, partition_key="2025-01-01")
    assert sql(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = 'warehouse.fact'::regclass AND contype = 'f'"
    ) == [
        ("fk_fact_genre_key", "FOREIGN KEY (genre_key) REFERENCES warehouse.dim_genre(genre_key)")
    ]
    assert {r[0] for r in sql("SELECT indexname FROM pg_indexes WHERE tablename = 'fact'")} == {
        "fact_pkey",
        "ix_fact_rank",
        "ix_fact_snapshot_date",  # the partition column, indexed without asking
    }

    rows["genre_key"] = [1, 3]  # genre 3 is not in the dimension
    result = materialize([fact], io_manager, partition_key="2025-01-01", raise_on_error=False)
    assert "fk_fact_genre_key" in failure_message(result)
    assert sql("SELECT genre_key FROM warehouse.fact ORDER BY rank") == [(1,), (2,), (2,)]


def test_hostile_schema_table_and_partition_keys_are_quoted_not_executed(io_manager, sql):
    sql("CREATE TABLE victim (v int)")
    keys = ["o'brien", 'x"); DROP TABLE victim; --', "$1 %s {}"]
    partitions = dg.StaticPartitionsDefinition(keys)
    key = dg.AssetKey(['we"ird; DROP TABLE victim; --', "ta'ble\\name"])
    metadata = {
        "partition_expr": "genre; DROP TABLE victim",
        "primary_key": ["genre; DROP TABLE victim", "n"],
    }
    for partition in keys:
        frame = pl.DataFrame(
            {"genre; DROP TABLE victim": [partition] * 2, "n": [1, 2], "v": ["'); --", "\\\\."]}
        )
        spec = table_spec(key, metadata, partitions, [partition])
        with io_manager.postgres.connect() as conn:
            write_frame(conn, spec, frame)
    spec = table_spec(key, metadata, partitions, keys[1:2])
    with io_manager.postgres.connect() as conn:
        write_frame(
            conn, spec, frame.with_columns(pl.lit(keys[1]).alias("genre; DROP TABLE victim"))
        )
    assert sql("SELECT to_regclass('victim') IS NOT NULL") == [(True,)]
    loaded = io_manager.read_table(spec)
    assert loaded["genre; DROP TABLE victim"].to_list() == [keys[1]] * 2
    assert loaded["v"].to_list() == ["'); --", "\\\\."]
    everything = io_manager.read_table(table_spec(key, metadata, partitions, keys))
    assert everything.height == 6


def _shared_titles(rows_by_partition: dict[str, dict[str, list[str]]], **metadata):
    """A day × genre asset whose rows are titles shared by the genres whose lists held them:
    its genre column is the list `listed_in`. `rows_by_partition[key]`: {title: its genres}."""

    @dg.asset(
        key_prefix="staging",
        partitions_def=DAY_GENRE,
        backfill_policy=dg.BackfillPolicy.single_run(),
        metadata={
            "partition_expr": {"date": "snapshot_date", "genre": "listed_in"},
            "primary_key": ["snapshot_date", "title_id"],
            **metadata,
        },
    )
    def titles(context: dg.AssetExecutionContext) -> pl.DataFrame:
        held: dict[tuple[str, str], set[str]] = {}
        for key in context.partition_keys:
            day = key.keys_by_dimension["date"]
            for title, genres in rows_by_partition.get(key, {}).items():
                held.setdefault((day, title), set()).update(genres)
        return pl.DataFrame(
            {
                "snapshot_date": [date.fromisoformat(day) for day, _ in held],
                "title_id": [title for _, title in held],
                "listed_in": [sorted(genres) for genres in held.values()],
            },
            schema={
                "snapshot_date": pl.Date,
                "title_id": pl.String,
                "listed_in": pl.List(pl.String),
            },
        )

    return titles


def test_a_row_shared_by_several_partitions_belongs_to_each_until_none_holds_it(io_manager, sql):
    listed: dict[str, dict[str, list[str]]] = {
        "2025-01-01|action": {"tt1": ["action"], "tt2": ["action"]},
        "2025-01-01|drama": {"tt2": ["drama"], "tt3": ["drama"]},
        "2025-01-02|action": {"tt2": ["action"]},
    }
    titles = _shared_titles(listed)

    def stored() -> list[tuple]:
        return sql(
            "SELECT snapshot_date::text, title_id, listed_in FROM staging.titles ORDER BY 1, 2"
        )

    for key in listed:
        materialize([titles], io_manager, partition_key=key)
    assert stored() == [
        ("2025-01-01", "tt1", ["action"]),
        ("2025-01-01", "tt2", ["action", "drama"]),  # one row, in both lists' partitions
        ("2025-01-01", "tt3", ["drama"]),
        ("2025-01-02", "tt2", ["action"]),
    ]
    # the action list of day 1 again, without tt2: tt2 stays, held by drama only
    listed["2025-01-01|action"] = {"tt1": ["action"]}
    materialize([titles], io_manager, partition_key="2025-01-01|action")
    assert stored()[:3] == [
        ("2025-01-01", "tt1", ["action"]),
        ("2025-01-01", "tt2", ["drama"]),
        ("2025-01-01", "tt3", ["drama"]),
    ]
    # drama again without tt2: no list of day 1 holds it, so its row goes; day 2 is untouched
    listed["2025-01-01|drama"] = {"tt3": ["drama"]}
    materialize([titles], io_manager, partition_key="2025-01-01|drama")
    assert stored() == [
        ("2025-01-01", "tt1", ["action"]),
        ("2025-01-01", "tt3", ["drama"]),
        ("2025-01-02", "tt2", ["action"]),
    ]


def test_a_range_of_shared_rows_counts_each_row_in_each_partition_it_belongs_to(io_manager, sql):
    titles = _shared_titles(
        {
            "2025-01-01|action": {"tt1": ["action"], "tt2": ["action"]},
            "2025-01-01|drama": {"tt2": ["drama"]},
            "2025-01-01|horror": {},
        }
    )
    result = materialize(
        [titles],
        io_manager,
        tags={
            "dagster/asset_partition_range_start": "2025-01-01|action",
            "dagster/asset_partition_range_end": "2025-01-01|horror",
        },
    )
    counts = {
        e.materialization.partition: e.materialization.metadata["dagster/row_count"].value
        for e in result.get_asset_materialization_events()
    }
    assert counts == {"2025-01-01|action": 2, "2025-01-01|drama": 1, "2025-01-01|horror": 0}
    assert sql("SELECT title_id, listed_in FROM staging.titles ORDER BY 1") == [
        ("tt1", ["action"]),
        ("tt2", ["action", "drama"]),
    ]

    @dg.asset(key_prefix="staging", partitions_def=DAY_GENRE, deps=[titles])
    def reader(context, titles: pl.DataFrame) -> None:
        received[context.partition_key] = titles

    received: dict[str, pl.DataFrame] = {}
    for key in ("2025-01-01|drama", "2025-01-01|horror"):
        materialize([titles.to_source_asset(), reader], io_manager, partition_key=key)
    drama = received["2025-01-01|drama"]  # drama's rows only, as they belong to drama
    assert drama.select("title_id", "listed_in").rows() == [("tt2", ["drama"])]
    assert received["2025-01-01|horror"].height == 0


def test_a_shared_row_claiming_a_partition_outside_the_run_is_refused(io_manager, sql):
    titles = _shared_titles({"2025-01-01|action": {"tt1": ["action", "drama"]}})
    result = materialize(
        [titles], io_manager, partition_key="2025-01-01|action", raise_on_error=False
    )
    assert not result.success
    assert "lie outside the partitions of this run" in failure_message(result)
    assert sql("SELECT to_regclass('staging.titles')") == [(None,)]


def test_upserted_shared_rows_join_their_lists_on_the_same_day_and_take_a_newer_days(
    io_manager, sql
):
    def movies_asset(rows: dict[str, list[tuple[str, str, list[str]]]]):
        @dg.asset(
            key_prefix="warehouse",
            name="movies",
            partitions_def=DAY_GENRE,
            metadata={
                "primary_key": ["movie_key"],
                "write_mode": "upsert",
                "newer_wins": "last_seen_date",
                "partition_expr": {"date": "last_seen_date", "genre": "listed_in"},
            },
        )
        def movies(context: dg.AssetExecutionContext) -> pl.DataFrame:
            found = rows[context.partition_key]
            return pl.DataFrame(
                {
                    "movie_key": [int(m[2:]) for m, _, _ in found],
                    "last_seen_date": [date.fromisoformat(d) for _, d, _ in found],
                    "listed_in": [g for _, _, g in found],
                },
                schema={
                    "movie_key": pl.Int64,
                    "last_seen_date": pl.Date,
                    "listed_in": pl.List(pl.String),
                },
            )

        return movies

    rows = {
        "2025-01-02|action": [("tt1", "2025-01-02", ["action"])],
        "2025-01-02|drama": [("tt1", "2025-01-02", ["drama"])],
        "2025-01-03|horror": [("tt1", "2025-01-03", ["horror"])],
        "2025-01-01|drama": [("tt1", "2025-01-01", ["drama"])],
    }
    movies = movies_asset(rows)
    stored = lambda: sql("SELECT last_seen_date::text, listed_in FROM warehouse.movies")  # noqa: E731
    materialize([movies], io_manager, partition_key="2025-01-02|action")
    materialize([movies], io_manager, partition_key="2025-01-02|drama")
    assert stored() == [("2025-01-02", ["action", "drama"])]  # the same day: both lists
    materialize([movies], io_manager, partition_key="2025-01-03|horror")
    assert stored() == [("2025-01-03", ["horror"])]  # a newer day: its lists
    materialize([movies], io_manager, partition_key="2025-01-01|drama")
    assert stored() == [("2025-01-03", ["horror"])]  # an older day never overwrites
