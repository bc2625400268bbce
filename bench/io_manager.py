"""PostgresPolarsIOManager write and read throughput beside a plain psycopg COPY.

Both write a new day of rows shaped like staging.movie_rankings into a table with the same
columns and primary key, turn about, so that both meet the same server state.
"""

import statistics
import time
from datetime import UTC, date, datetime, timedelta

import dagster as dg
import polars as pl
import psycopg
from psycopg import sql

from bench.common import Figure
from imdb_warehouse.resources import PostgresPolarsIOManager, PostgresResource
from imdb_warehouse.resources.pg_types import postgres_type

DAYS = dg.DailyPartitionsDefinition(start_date="2020-01-01")
METADATA = {"partition_expr": "snapshot_date", "primary_key": ["snapshot_date", "genre", "rank"]}
REPEATS = {"100k": (100_000, 5), "1M": (1_000_000, 3)}
FRAME_TYPE = dg.DagsterType(lambda _, __: True, name="DataFrame", typing_type=pl.DataFrame)


def rankings(rows: int, day: date) -> pl.DataFrame:
    """Rows shaped like staging.movie_rankings (without its list column), with nulls."""
    i = pl.col("i")
    sequel = pl.when(i % 3 == 0).then(pl.lit(': the "sequel", part 2')).otherwise(pl.lit(""))
    return pl.DataFrame({"i": pl.int_range(rows, eager=True)}).select(
        snapshot_date=pl.lit(day),
        genre=(i // 50_000).cast(pl.String).str.pad_start(5, "g"),
        rank=(i % 50_000 + 1).cast(pl.Int32),
        title_id="tt" + (i * 7919 % 9_999_999).cast(pl.String).str.pad_start(7, "0"),
        title="A movie called " + (i * 31).cast(pl.String) + sequel,
        release_year=(1950 + i % 75).cast(pl.Int16),
        runtime_minutes=pl.when(i % 10 == 0).then(None).otherwise(80 + i % 90).cast(pl.Int32),
        rating=pl.when(i % 7 == 0).then(None).otherwise((i % 90) / 10 + 1).cast(pl.Float64),
        votes=(i * 104729 % 3_000_000).cast(pl.Int64),
        scraped_at=pl.lit(datetime(2025, 1, 1, 6, tzinfo=UTC)) + pl.duration(seconds=i % 3600),
    )


def _seconds(action, *args) -> float:
    start = time.perf_counter()
    action(*args)
    return time.perf_counter() - start


def run(url: str) -> list[Figure]:
    io_manager = PostgresPolarsIOManager(postgres=PostgresResource(database_url=url))
    figures = []
    for label, (rows, repeats) in REPEATS.items():
        key = dg.AssetKey(["bench", f"rankings_{label}"])
        plain_table = sql.Identifier("bench", f"plain_{label}")
        days = [date(2020, 1, 1) + timedelta(days=i) for i in range(repeats + 1)]
        frames = [rankings(rows, day) for day in days]

        def output_context(i: int, key: dg.AssetKey = key, days: list = days) -> dg.OutputContext:
            return dg.build_output_context(
                asset_key=key,
                definition_metadata=METADATA,
                partition_key=days[i].isoformat(),
                asset_partitions_def=DAYS,
            )

        # warm-up day 0: creates both tables; autovacuum off on both, for steadier figures
        io_manager.handle_output(output_context(0), frames[0])
        create_plain_table(url, plain_table, frames[0])
        with psycopg.connect(url) as conn:
            for table in (sql.Identifier(*key.path), plain_table):
                conn.execute(
                    sql.SQL("ALTER TABLE {} SET (autovacuum_enabled = false)").format(table)
                )

        floor, write, replace, read = [], [], [], []
        for i in range(1, repeats + 1):
            floor.append(_seconds(plain_copy, url, plain_table, frames[i]))
            write.append(_seconds(io_manager.handle_output, output_context(i), frames[i]))
        for i in range(1, repeats + 1):
            replace.append(_seconds(io_manager.handle_output, output_context(i), frames[i]))
            input_context = dg.build_input_context(
                asset_key=key,
                upstream_output=output_context(i),
                partition_key=days[i].isoformat(),
                asset_partitions_def=DAYS,
                dagster_type=FRAME_TYPE,
            )
            read.append(_seconds(io_manager.load_input, input_context))

        floor_rate, write_rate, replace_rate, read_rate = (
            rows / statistics.median(times) for times in (floor, write, replace, read)
        )
        ratio = 100 * write_rate / floor_rate
        figures += [
            Figure(f"copy_floor_write_{label}", floor_rate, "rows/s"),
            Figure(
                f"io_manager_write_{label}",
                write_rate,
                "rows/s",
                "≥ 70% of COPY floor",
                ratio >= 70,
            ),
            Figure(f"io_manager_write_vs_copy_{label}", ratio, "%", "≥ 70", ratio >= 70),
            Figure(f"io_manager_replace_{label}", replace_rate, "rows/s"),
            Figure(
                f"io_manager_read_{label}", read_rate, "rows/s", "≥ 300,000", read_rate >= 300_000
            ),
        ]
    return figures


def create_plain_table(url: str, table: sql.Identifier, frame: pl.DataFrame) -> None:
    """The floor's table: the same columns and primary key as the IO manager's."""
    columns = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(postgres_type(t)))
        for n, t in frame.schema.items()
    )
    key = sql.SQL(", ").join(map(sql.Identifier, METADATA["primary_key"]))
    with psycopg.connect(url) as conn:
        conn.execute(sql.SQL("CREATE TABLE {} ({}, PRIMARY KEY ({}))").format(table, columns, key))


def plain_copy(url: str, table: sql.Identifier, frame: pl.DataFrame) -> None:
    """The floor: the whole frame as one CSV into one COPY, committed."""
    statement = sql.SQL("COPY {} FROM STDIN (FORMAT csv)").format(table)
    with psycopg.connect(url) as conn, conn.cursor().copy(statement) as copy:
        copy.write(frame.write_csv(include_header=False))
