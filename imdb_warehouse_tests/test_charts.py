"""Chart statistics computed from hand-made lists with known answers: gaps and re-entries, a
list that missed a day, a tie at the peak, a movie in several genres; and the incremental
computation (from any day, given the state before it) equal to the whole history's, a rebuilt
past day included. Then the same on real Postgres, through `update_chart_stats`."""

import random
from datetime import date, timedelta

import polars as pl
import pytest

from imdb_warehouse import tables
from imdb_warehouse.assets import warehouse
from imdb_warehouse.charts import LIST_COLUMNS, STATS, chart_stats_frame, update_chart_stats
from imdb_warehouse.resources import PostgresResource
from imdb_warehouse.resources.storage import table_spec
from imdb_warehouse.resources.table_writes import write_frame
from imdb_warehouse.schemas import polars_schema

DAY0 = date(2025, 1, 1)
GENRE_KEYS = {"action": 1, "adventure": 2}
MOVIES = {name: number for number, name in enumerate("abcdefghij", start=1)}

# Each genre's list on the days it was read (day number → movies by rank). Action is not read
# on day 3; c leaves on day 2 and is back on day 4; b is at 1 on days 2 and 5 (a tie at its
# peak); a is in both lists, with a history of its own in each. The genre keys are the genre
# dimension's.
HISTORY = {
    "action": {1: "abc", 2: "bad", 4: "acb", 5: "bca"},
    "adventure": {2: "ea", 3: "ae", 4: "fa", 5: "af"},
}


def day(n: int) -> date:
    return DAY0 + timedelta(days=n - 1)


def lists_frame(history: dict[str, dict[int, str]]) -> pl.DataFrame:
    rows = [
        {
            "date_key": int(day(n).strftime("%Y%m%d")),
            "genre_key": GENRE_KEYS[genre],
            "movie_key": MOVIES[movie],
            "snapshot_date": day(n),
            "genre": genre,
            "rank": rank,
        }
        for genre, days in history.items()
        for n, movies in days.items()
        for rank, movie in enumerate(movies, start=1)
    ]
    return pl.DataFrame(rows, schema={c: STATS[c] for c in LIST_COLUMNS})


def whole(history: dict[str, dict[int, str]]) -> pl.DataFrame:
    return chart_stats_frame(lists_frame(history), pl.DataFrame(schema=STATS))


def row(stats: pl.DataFrame, genre: str, n: int, movie: str) -> dict:
    [found] = stats.filter(
        (pl.col("genre") == genre)
        & (pl.col("snapshot_date") == day(n))
        & (pl.col("movie_key") == MOVIES[movie])
    ).to_dicts()
    return found


FIELDS = [
    "status", "status_change", "previous_rank", "days_on_list", "current_run", "longest_run",
    "runs", "peak_rank", "peak_date", "points",
]  # fmt: skip


def known(stats: pl.DataFrame, genre: str, n: int, movie: str) -> tuple:
    found = row(stats, genre, n, movie)
    return tuple(found[field] for field in FIELDS)


def check_known_answers(stats: pl.DataFrame) -> None:
    """The answers of HISTORY, worked out by hand."""
    # status, change, previous rank, days, current run, longest, runs, peak, peak day, points
    assert known(stats, "action", 1, "a") == ("NEW", None, None, 1, 1, 1, 1, 1, day(1), 50)
    assert known(stats, "action", 2, "b") == ("UP", 1, 2, 2, 2, 2, 1, 1, day(2), 50)
    assert known(stats, "action", 2, "d") == ("NEW", None, None, 1, 1, 1, 1, 3, day(2), 48)
    # day 3 missed: day 4 compares with day 2, and runs go on across the gap
    assert known(stats, "action", 4, "a") == ("UP", 1, 2, 3, 3, 3, 1, 1, day(1), 50)
    assert known(stats, "action", 4, "b") == ("DOWN", 2, 1, 3, 3, 3, 1, 1, day(2), 48)
    assert row(stats, "action", 4, "a")["previous_snapshot_date"] == day(2)
    # c: out on day 2, back on day 4 (RE, a second run), then a new peak
    assert known(stats, "action", 4, "c") == ("RE", None, None, 2, 1, 1, 2, 2, day(4), 49)
    assert known(stats, "action", 5, "c") == ("SAME", None, 2, 3, 2, 2, 2, 2, day(4), 49)
    # d dropped out: no row after day 2; b back at 1 on day 5: its peak day stays day 2
    assert stats.filter((pl.col("movie_key") == MOVIES["d"]) & (pl.col("genre") == "action"))[
        "snapshot_date"
    ].to_list() == [day(2)]
    assert known(stats, "action", 5, "b") == ("UP", 2, 3, 4, 4, 4, 1, 1, day(2), 50)
    assert known(stats, "action", 5, "a") == ("DOWN", 2, 1, 4, 4, 4, 1, 1, day(1), 48)
    # a in adventure: its own history there (first seen on day 2, at 2, then 1; at 1 again on
    # day 5: a tie at its peak, first reached on day 3)
    assert known(stats, "adventure", 2, "a") == ("NEW", None, None, 1, 1, 1, 1, 2, day(2), 49)
    assert known(stats, "adventure", 3, "a") == ("UP", 1, 2, 2, 2, 2, 1, 1, day(3), 50)
    assert known(stats, "adventure", 5, "a") == ("UP", 1, 2, 4, 4, 4, 1, 1, day(3), 50)
    assert known(stats, "adventure", 4, "f") == ("NEW", None, None, 1, 1, 1, 1, 1, day(4), 50)
    # e: listed on days 2 and 3, gone on 4 and 5
    assert row(stats, "adventure", 3, "e")["first_seen_date"] == day(2)
    assert stats.height == sum(len(m) for days in HISTORY.values() for m in days.values())


def test_gaps_re_entries_a_missed_day_a_tie_at_the_peak_and_two_lists():
    assert {slug: warehouse.GENRE_KEYS[slug.title()] for slug in GENRE_KEYS} == GENRE_KEYS
    check_known_answers(whole(HISTORY))


def state_before(stats: pl.DataFrame, first: date) -> pl.DataFrame:
    """What update_chart_stats reads before `first`: each movie's latest row on each list."""
    earlier = stats.filter(pl.col("snapshot_date") < first).sort("snapshot_date")
    return earlier.group_by("genre_key", "movie_key").last().select(STATS.names())


def from_day(history: dict, stats: pl.DataFrame, n: int) -> pl.DataFrame:
    """The days from `n` on, computed from the lists of those days and the state before."""
    later = {genre: {d: m for d, m in days.items() if d >= n} for genre, days in history.items()}
    return chart_stats_frame(lists_frame(later), state_before(stats, day(n)))


def random_history(seed: int, days: int = 40) -> dict[str, dict[int, str]]:
    """Lists of 6 from 10 movies that drift from day to day; each list misses some days."""
    rng = random.Random(seed)
    history: dict[str, dict[int, str]] = {}
    for genre in GENRE_KEYS:
        listed = list("abcdef")
        history[genre] = {}
        for n in range(1, days + 1):
            i, j = rng.randrange(6), rng.randrange(6)
            listed[i], listed[j] = listed[j], listed[i]
            if rng.random() < 0.4:  # one drops out, another comes in (maybe back)
                listed[rng.randrange(6)] = rng.choice([m for m in MOVIES if m not in listed])
            if rng.random() > 0.15:  # the list was read that day
                history[genre][n] = "".join(listed)
    return history


@pytest.mark.parametrize("seed", range(5))
def test_from_any_day_with_the_state_before_it_equals_the_whole_history(seed):
    history = random_history(seed)
    everything = whole(history)
    assert set(everything["status"]) == {"NEW", "RE", "UP", "DOWN", "SAME"}
    for n in range(2, 41):
        assert from_day(history, everything, n).equals(
            everything.filter(pl.col("snapshot_date") >= day(n))
        ), n


def test_a_rebuilt_past_day_changes_the_runs_after_it():
    """Day 2 of action read again without b (e in its place): b's run breaks, its later days
    become a second run; recomputing from day 2 on the state before it gives the new history."""
    stats = whole(HISTORY)
    rebuilt = {**HISTORY, "action": {**HISTORY["action"], 2: "ead"}}
    again = from_day(rebuilt, stats, 2)
    assert again.equals(whole(rebuilt).filter(pl.col("snapshot_date") >= day(2)))
    assert known(again, "action", 4, "b") == ("RE", None, None, 2, 1, 1, 2, 2, day(1), 48)
    assert known(again, "action", 5, "b") == ("UP", 2, 3, 3, 2, 2, 2, 1, day(5), 50)
    assert known(again, "action", 2, "e") == ("NEW", None, None, 1, 1, 1, 1, 1, day(2), 50)
    # adventure's history is its own: untouched
    assert again.filter(pl.col("genre") == "adventure").equals(
        stats.filter((pl.col("genre") == "adventure") & (pl.col("snapshot_date") >= day(2)))
    )


# --- on real Postgres ---


def _write(postgres: PostgresResource, table: tables.Table, frame: pl.DataFrame) -> None:
    spec = table_spec(table.key, table.metadata(), None, None)
    with postgres.connect() as conn:
        write_frame(conn, spec, frame)


def _warehouse_of(postgres: PostgresResource, history: dict) -> None:
    """The dimensions and the ranking facts of `history`, written as the assets write them."""
    _write(postgres, tables.DIM_DATE, warehouse.dim_date_frame())
    _write(postgres, tables.DIM_GENRE, warehouse.dim_genre_frame())
    movies = pl.DataFrame(
        {
            "movie_key": list(MOVIES.values()),
            "title_id": [f"tt{n:07d}" for n in MOVIES.values()],
            "title": list(MOVIES),
            "first_seen_date": [DAY0] * len(MOVIES),
            "last_seen_date": [DAY0] * len(MOVIES),
            "listed_in": [["action"]] * len(MOVIES),
        }
    )
    _write(postgres, tables.DIM_MOVIE, _with_nulls(movies, tables.DIM_MOVIE))
    _write_lists(postgres, history)


def _with_nulls(frame: pl.DataFrame, table: tables.Table) -> pl.DataFrame:
    """`frame` with the table's other columns, null."""
    schema = polars_schema(table.model)
    missing = [
        pl.lit(None, dtype).alias(c) for c, dtype in schema.items() if c not in frame.columns
    ]
    return frame.with_columns(missing).select(pl.col(c).cast(dtype) for c, dtype in schema.items())


def _write_lists(postgres: PostgresResource, history: dict) -> None:
    _write(
        postgres,
        tables.FACT_MOVIE_RANKING,
        _with_nulls(lists_frame(history), tables.FACT_MOVIE_RANKING),
    )


def _held(postgres: PostgresResource) -> pl.DataFrame:
    columns = ", ".join(STATS.names())
    rows = postgres.query(f"SELECT {columns} FROM warehouse.fact_chart_stats")  # noqa: S608
    return pl.DataFrame(rows, schema=STATS, orient="row").sort("date_key", "genre_key", "rank")


def test_day_by_day_on_postgres_gives_the_known_answers_and_a_rebuilt_day_corrects_the_rest(
    database_url,
):
    postgres = PostgresResource(database_url=database_url)
    _warehouse_of(postgres, {})
    for n in range(1, 6):  # as the daily runs do: the day's lists, then its statistics
        _write_lists(
            postgres, {g: {d: m for d, m in h.items() if d <= n} for g, h in HISTORY.items()}
        )
        update = update_chart_stats(postgres, [(day(n), genre) for genre in GENRE_KEYS])
        assert update.days == update.written == [day(n)]
    held = _held(postgres)
    check_known_answers(held)
    assert held.equals(whole(HISTORY))

    # action's first day read again, the same: its later days are recomputed, not written
    update = update_chart_stats(postgres, [(day(1), "action")])
    assert update.days == [day(1), day(2), day(4), day(5)] and update.written == [day(1)]
    assert _held(postgres).equals(held)

    # action's day 2 read again, without b: the run over days 2..5 of action only
    rebuilt = {**HISTORY, "action": {**HISTORY["action"], 2: "ead"}}
    _write_lists(postgres, rebuilt)
    update = update_chart_stats(postgres, [(day(2), "action")])
    assert update.rows == {(day(2), "action"): 3}
    assert update.days == update.written == [day(2), day(4), day(5)]  # action's, from day 2
    assert _held(postgres).equals(whole(rebuilt))


def test_a_warehouse_older_than_the_statistics_gets_them_all_on_its_next_day(database_url):
    """The lists of days 1–4 held before the table existed: day 5's update computes them all;
    and a day whose statistics went missing is recomputed by the next update."""
    postgres = PostgresResource(database_url=database_url)
    _warehouse_of(postgres, HISTORY)
    update = update_chart_stats(postgres, [(day(5), genre) for genre in GENRE_KEYS])
    assert update.days == update.written == [day(n) for n in range(1, 6)]
    assert update.rows == {(day(5), "action"): 3, (day(5), "adventure"): 2}
    assert _held(postgres).equals(whole(HISTORY))

    postgres.query("DELETE FROM warehouse.fact_chart_stats WHERE snapshot_date = $1", [day(4)])
    update = update_chart_stats(postgres, [(day(5), "action")])
    assert update.days == update.written == [day(4), day(5)]
    assert (
        _held(postgres)
        .filter(pl.col("genre") == "action")
        .equals(whole(HISTORY).filter(pl.col("genre") == "action"))
    )
