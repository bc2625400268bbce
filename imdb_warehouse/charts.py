"""Chart statistics: each listed movie's history on each genre's list, kept up to date day by day.

A row of `warehouse.fact_chart_stats` is one movie on one genre's list on one day, with what
that list's history says of it up to that day: its status against the list's previous snapshot
(`NEW`, `RE`, `UP n`, `DOWN n`, `SAME`), days on the list, the current and longest runs (runs of
consecutive snapshots OF THAT LIST: a day the list was not read breaks nothing, a snapshot
without the movie does), its runs, its peak (the first day at it) and its points (51 − rank).

Incremental: the statistics of the days D, D', … of a genre need only the state before D, that
is each listed movie's latest row before D (the genre's previous snapshot's rows among them),
never the whole history. A past day rebuilt can change every later day of its genre, so an
update recomputes, for each genre it is given, every snapshot from its first day given to the
newest held, and writes the days given and those that changed, in one transaction
(`update_chart_stats`).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import partial

import polars as pl
import psycopg
from psycopg import sql

from imdb_warehouse import tables
from imdb_warehouse.partitions import GENRES, day_genre_partitions, partition_key
from imdb_warehouse.resources import PostgresResource
from imdb_warehouse.resources.storage import table_spec
from imdb_warehouse.resources.table_writes import lock_table, write_frame
from imdb_warehouse.schemas import FactChartStats, polars_schema

STATS = polars_schema(FactChartStats)
LIST_COLUMNS = ["date_key", "genre_key", "movie_key", "snapshot_date", "genre", "rank"]
LIST_POINTS = 51  # a list's first place scores 50 points, its fiftieth 1
MOVIE = ["genre_key", "movie_key"]  # a movie on one genre's list


def chart_stats_frame(lists: pl.DataFrame, before: pl.DataFrame) -> pl.DataFrame:
    """The statistics of every row of `lists` (some genres' snapshots, each genre's from a day
    on: date_key, genre_key, movie_key, snapshot_date, genre, rank), given `before`: the
    statistics rows (FactChartStats) held before those days, for each genre at least its
    previous snapshot's rows and the latest row of each movie `lists` holds."""
    previous = before.group_by("genre_key").agg(pl.max("snapshot_date"))
    snapshots = (
        pl.concat([previous, lists.select("genre_key", "snapshot_date").unique()])
        .unique()
        .sort("genre_key", "snapshot_date")
        .with_columns(
            ordinal=pl.int_range(pl.len()).over("genre_key"),
            previous_snapshot_date=pl.col("snapshot_date").shift(1).over("genre_key"),
        )
    )
    carried = before.select(
        *MOVIE,
        last_date="snapshot_date",
        last_rank="rank",
        held_first="first_seen_date",
        held_days="days_on_list",
        held_run="current_run",
        held_longest="longest_run",
        held_runs="runs",
        held_peak="peak_rank",
        held_peak_date="peak_date",
    ).join(
        snapshots.select("genre_key", last_date="snapshot_date", last_ordinal="ordinal"),
        on=["genre_key", "last_date"],
        how="left",
    )
    rows = (
        lists.select(LIST_COLUMNS)
        .join(snapshots, on=["genre_key", "snapshot_date"])
        .join(carried, on=MOVIE, how="left")
        .sort(*MOVIE, "snapshot_date")
    )
    earlier = lambda column: pl.col(column).shift(1).over(MOVIE)  # noqa: E731
    continues = (
        pl.coalesce(earlier("ordinal"), "last_ordinal") == pl.col("ordinal") - 1
    ).fill_null(False)
    rows = rows.with_columns(
        continues=continues,
        previous_rank=pl.when(continues).then(pl.coalesce(earlier("rank"), "last_rank")),
        nth=pl.int_range(pl.len()).over(MOVIE),
        run=(~continues).cast(pl.Int32).cum_sum().over(MOVIE),
        best=pl.min_horizontal("held_peak", pl.col("rank").cum_min().over(MOVIE)),
    )
    rows = rows.with_columns(
        current_run=pl.int_range(1, pl.len() + 1).over(*MOVIE, "run")
        + pl.when(pl.col("run") == 0).then(pl.col("held_run")).otherwise(0),
        peak_reached=pl.coalesce(earlier("best"), "held_peak").is_null()
        | (pl.col("rank") < pl.coalesce(earlier("best"), "held_peak")),
    )
    status = (
        pl.when(pl.col("last_date").is_null() & (pl.col("nth") == 0))
        .then(pl.lit("NEW"))
        .when(~pl.col("continues"))
        .then(pl.lit("RE"))
        .when(pl.col("previous_rank") > pl.col("rank"))
        .then(pl.lit("UP"))
        .when(pl.col("previous_rank") < pl.col("rank"))
        .then(pl.lit("DOWN"))
        .otherwise(pl.lit("SAME"))
    )
    stats = rows.with_columns(
        points=LIST_POINTS - pl.col("rank"),
        status=status,
        status_change=pl.when(pl.col("previous_rank") != pl.col("rank")).then(
            (pl.col("previous_rank") - pl.col("rank")).abs()
        ),
        first_seen_date=pl.coalesce("held_first", pl.col("snapshot_date").first().over(MOVIE)),
        days_on_list=pl.col("held_days").fill_null(0) + pl.col("nth") + 1,
        longest_run=pl.max_horizontal("held_longest", pl.col("current_run").cum_max().over(MOVIE)),
        runs=pl.col("held_runs").fill_null(0) + pl.col("run"),
        peak_rank="best",
        peak_date=pl.coalesce(
            pl.when("peak_reached").then("snapshot_date").forward_fill().over(MOVIE),
            "held_peak_date",
        ),
    )
    return stats.select(pl.col(name).cast(dtype) for name, dtype in STATS.items()).sort(
        "date_key", "genre_key", "rank"
    )


@dataclass(frozen=True)
class ChartUpdate:
    """What an update did: the rows of each (day, genre) it was given; the days it recomputed
    (those given, the later days of their genres, earlier ones where statistics lacked) and
    those it wrote (the days given, and those whose statistics changed)."""

    rows: dict[tuple[date, str], int]
    days: list[date]
    written: list[date]


def update_chart_stats(
    postgres: PostgresResource, lists: Sequence[tuple[date, str]]
) -> ChartUpdate:
    """Recompute the statistics of the genres of `lists` ((day, genre) pairs) from their first
    day to the newest day held, and write the days given and those whose statistics changed,
    in one transaction.

    From the first day given, or earlier where the statistics of a genre's earlier snapshots
    are missing (a warehouse older than this table, a day whose statistics failed): then from
    the first snapshot without them. Only the days that changed are written: a past day read
    again with the same lists (a reader fixed) costs a read of the later days, not a write."""
    genres = sorted({genre for _, genre in lists}, key=GENRES.index)
    given = {day for day, _ in lists}
    table = tables.FACT_CHART_STATS
    with postgres.connect() as conn:
        lock_table(conn, table.table_name)  # the state read and the write, under one lock
        exists = conn.execute("SELECT to_regclass($1) IS NOT NULL", [table.table_name]).fetchone()
        held = bool(exists and exists[0])
        start = _first_day_to_compute(conn, genres, min(given), held)
        read = partial(_read, postgres, conn, genres, start)
        snapshots = read(_LISTS, pl.Schema({c: STATS[c] for c in LIST_COLUMNS}))
        before, stored = (
            (read(_STATE_BEFORE, STATS), read(_STORED, STATS))
            if held
            else (pl.DataFrame(schema=STATS), pl.DataFrame(schema=STATS))
        )
        stats = chart_stats_frame(snapshots, before)
        changed = pl.concat(
            [
                stats.join(stored, on=STATS.names(), how="anti", nulls_equal=True),
                stored.join(stats, on=STATS.names(), how="anti", nulls_equal=True),
            ]
        )
        written = sorted(given | set(changed["snapshot_date"]))
        keys = [partition_key(day, genre) for day in written for genre in genres]
        spec = table_spec(table.key, table.metadata(), day_genre_partitions, keys)
        write_frame(conn, spec, stats.filter(pl.col("snapshot_date").is_in(written)))
    counts = {(d, g): n for d, g, n in stats.group_by("snapshot_date", "genre").len().iter_rows()}
    return ChartUpdate(
        rows={pair: counts.get(pair, 0) for pair in lists},
        days=sorted(given | set(snapshots["snapshot_date"])),
        written=written,
    )


def _first_day_to_compute(
    conn: psycopg.Connection, genres: list[str], given: date, held: bool
) -> date:
    """`given`, or the first snapshot of a genre after the last one with statistics (the first
    one when it has none) when a snapshot before `given` lacks them."""
    query = _FIRST_WITHOUT_STATS if held else _FIRST_SNAPSHOT
    [(start,)] = conn.execute(query, [genres, given]).fetchall()
    return min(start, given) if start else given


_FIRST_WITHOUT_STATS = """
    SELECT min(first_missing) FROM unnest($1::text[]) AS g(genre)
    CROSS JOIN LATERAL (
        SELECT max(c.snapshot_date) AS day FROM warehouse.fact_chart_stats c
        WHERE c.genre = g.genre AND c.snapshot_date < $2
    ) held
    CROSS JOIN LATERAL (
        SELECT min(f.snapshot_date) AS first_missing FROM warehouse.fact_movie_ranking f
        WHERE f.genre = g.genre AND f.snapshot_date < $2
          AND f.snapshot_date > coalesce(held.day, '-infinity')
    ) missing
"""
_FIRST_SNAPSHOT = """
    SELECT min(snapshot_date) FROM warehouse.fact_movie_ranking
    WHERE genre = ANY($1) AND snapshot_date < $2
"""


# What an update reads: the lists of its genres from its first day on; each genre's rows of its
# last snapshot before that day, and the latest row before it of every movie its lists hold
# from it on (the state); the statistics held from that day on (to write only what changed).
_LISTS = """
    SELECT {columns} FROM warehouse.fact_movie_ranking c
    WHERE c.genre = ANY({genres}) AND c.snapshot_date >= {start}
"""
_STATE_BEFORE = """
    WITH listed AS (
        SELECT DISTINCT genre, movie_key FROM warehouse.fact_movie_ranking
        WHERE genre = ANY({genres}) AND snapshot_date >= {start}
    )
    SELECT {columns} FROM listed l CROSS JOIN LATERAL (
        SELECT * FROM warehouse.fact_chart_stats c
        WHERE c.movie_key = l.movie_key AND c.genre = l.genre AND c.snapshot_date < {start}
        ORDER BY c.snapshot_date DESC LIMIT 1
    ) c
    UNION
    SELECT {columns} FROM unnest({genres}::text[]) AS g(genre)
    JOIN LATERAL (
        SELECT max(p.snapshot_date) AS day FROM warehouse.fact_chart_stats p
        WHERE p.genre = g.genre AND p.snapshot_date < {start}
    ) p ON true
    JOIN warehouse.fact_chart_stats c ON c.genre = g.genre AND c.snapshot_date = p.day
"""
_STORED = """
    SELECT {columns} FROM warehouse.fact_chart_stats c
    WHERE c.genre = ANY({genres}) AND c.snapshot_date >= {start}
"""


def _read(
    postgres: PostgresResource,
    conn: psycopg.Connection,
    genres: list[str],
    start: date,
    query: str,
    schema: pl.Schema,
) -> pl.DataFrame:
    """The rows of `query`, its columns those of `schema`, read through ADBC as the IO manager
    reads (a rebuild of an old day reads every later day: the fast read matters), with the
    values bound client-side. Outside the update's transaction, but under its lock: no other
    update can write the table before this one's write."""
    text = sql.SQL(query).format(
        columns=sql.SQL(", ").join(sql.Identifier("c", name) for name in schema),
        genres=sql.Literal(genres),
        start=sql.Literal(start),
    )
    frame = pl.from_arrow(postgres.fetch_arrow(text.as_string(conn)))
    assert isinstance(frame, pl.DataFrame)  # a query reads as a frame, never a series
    return frame.select(pl.col(name).cast(dtype) for name, dtype in schema.items())
