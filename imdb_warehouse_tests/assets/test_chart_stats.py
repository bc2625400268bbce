"""The chart statistics through real day runs on real Postgres: kept day by day (a list that
missed a day, movies in several lists), equal to the whole history computed at once, read by
the views; a past day rebuilt corrects the days after it."""

from collections import defaultdict
from datetime import timedelta

import polars as pl
import pytest

from imdb_warehouse import tables
from imdb_warehouse.charts import LIST_COLUMNS, STATS, chart_stats_frame
from imdb_warehouse.imdb.genres import GENRE_BY_SLUG
from imdb_warehouse_tests.assets.test_warehouse import FIRST, one_backend, refresh, run
from imdb_warehouse_tests.helpers import pipeline_resources, replay_client

DAYS = [FIRST + timedelta(days=n) for n in range(3)]
GENRES = ["action", "adventure", "animation"]
LISTS_READ = {DAYS[0]: GENRES, DAYS[1]: GENRES[:2], DAYS[2]: GENRES}  # animation misses a day


@pytest.fixture
def resources(database_url, tmp_path, replay):
    return pipeline_resources(database_url, replay_client(replay, FIRST), tmp_path / "archive")


def _frame(sql, query: str, schema) -> pl.DataFrame:
    return pl.DataFrame(sql(query), schema=schema, orient="row", infer_schema_length=None)


def held(sql) -> pl.DataFrame:
    columns = ", ".join(STATS.names())
    rows = _frame(sql, f"SELECT {columns} FROM warehouse.fact_chart_stats", STATS)  # noqa: S608
    return rows.sort("date_key", "genre_key", "rank")


def whole_history(sql) -> pl.DataFrame:
    """The statistics of every list held, computed at once from the ranking facts."""
    lists = _frame(
        sql,
        f"SELECT {', '.join(LIST_COLUMNS)} FROM warehouse.fact_movie_ranking",  # noqa: S608
        {c: STATS[c] for c in LIST_COLUMNS},
    )
    return chart_stats_frame(lists, pl.DataFrame(schema=STATS))


@one_backend
def test_day_runs_keep_the_statistics_and_a_rebuilt_past_day_corrects_the_days_after_it(
    resources, replay, sql, catalogue
):
    for day, genres in LISTS_READ.items():
        refresh(resources, replay, day, genres)
    stats = held(sql)
    assert stats.equals(whole_history(sql))
    assert stats.height == 50 * sum(len(genres) for genres in LISTS_READ.values())
    assert {"NEW", "RE", "UP", "DOWN"} <= set(stats["status"])
    # animation was not read on the middle day: its last day compares with the first
    assert sql(
        "SELECT DISTINCT previous_snapshot_date, days_on_list >= current_run FROM "
        "warehouse.fact_chart_stats WHERE genre = 'animation' AND snapshot_date = %s",
        (DAYS[2],),
    ) == [(DAYS[0], True)]
    # a movie in two lists on one day: a row in each, each with that list's history
    in_two = sql(
        "SELECT movie_key FROM warehouse.fact_chart_stats WHERE snapshot_date = %s "
        "GROUP BY movie_key HAVING count(*) = 2 ORDER BY movie_key LIMIT 1",
        (DAYS[2],),
    )
    assert in_two, "the lists share no movie: pick other genres"
    per_list = sql(
        "SELECT c.genre, c.days_on_list, (SELECT count(*) FROM warehouse.fact_movie_ranking f "
        "WHERE f.genre = c.genre AND f.movie_key = c.movie_key) FROM warehouse.fact_chart_stats c "
        "WHERE c.movie_key = %s AND c.snapshot_date = %s",
        (in_two[0][0], DAYS[2]),
    )
    assert len(per_list) == 2 and all(days == listed for _, days, listed in per_list)

    _views_agree_with_the_lists(sql, catalogue)

    # action's middle day rebuilt without a movie it held on all three days: that movie's
    # last day becomes a re-entry, a second run; only action's days from then on are rewritten
    [(kept, stranger)] = sql(
        "SELECT (SELECT m.title_id FROM warehouse.dim_movie m JOIN warehouse.fact_chart_stats c "
        "USING (movie_key) WHERE c.genre = 'action' AND c.snapshot_date = %s "
        "AND c.current_run = 3 ORDER BY c.rank LIMIT 1), "
        "(SELECT m.title_id FROM warehouse.dim_movie m WHERE NOT EXISTS (SELECT FROM "
        "warehouse.fact_movie_ranking f WHERE f.movie_key = m.movie_key AND f.genre = 'action') "
        "ORDER BY m.movie_key LIMIT 1)",
        (DAYS[2],),
    )
    sql(
        "UPDATE staging.movie_rankings SET title_id = %s "
        "WHERE snapshot_date = %s AND genre = 'action' AND title_id = %s",
        (stranger, DAYS[1], kept),
    )
    others_before = held(sql).filter(pl.col("genre") != "action")
    result = run(
        resources,
        [tables.FACT_MOVIE_RANKING.key, tables.FACT_CHART_STATS.key],
        day=DAYS[1],
        genres=["action"],
    )
    assert result.success
    [materialized] = [
        e.materialization.metadata
        for e in result.get_asset_materialization_events()
        if e.asset_key == tables.FACT_CHART_STATS.key
    ]
    assert materialized["dagster/row_count"].value == 50
    assert materialized["days_recomputed"].value == 2  # the day and the one after it,
    assert materialized["days_written"].value == 2  # which changed
    checks = {c.check_name: c.passed for c in result.get_asset_check_evaluations()}
    assert checks["chart_matches_the_lists"] and checks["referential_integrity"]
    stats = held(sql)
    assert stats.equals(whole_history(sql))
    assert stats.filter(pl.col("genre") != "action").equals(others_before)
    assert sql(
        "SELECT c.snapshot_date, c.status, c.runs, c.current_run, c.days_on_list "
        "FROM warehouse.fact_chart_stats c JOIN warehouse.dim_movie m USING (movie_key) "
        "WHERE c.genre = 'action' AND m.title_id IN (%s, %s) ORDER BY m.title_id = %s, 1",
        (kept, stranger, stranger),
    ) == [
        (DAYS[0], "NEW", 1, 1, 1),
        (DAYS[2], "RE", 2, 1, 2),
        (DAYS[1], "NEW", 1, 1, 1),
    ]


def _views_agree_with_the_lists(sql, catalogue) -> None:
    last = DAYS[2]
    turnover = sql(
        "SELECT genre, listed, new_entries + re_entries, drop_outs, previous_snapshot_date "
        "FROM analytics.chart_turnover WHERE snapshot_date = %s ORDER BY genre",
        (last,),
    )
    changes = dict(
        ((genre, change), n)
        for genre, change, n in sql(
            "SELECT genre, change, count(*) FROM analytics.list_changes WHERE snapshot_date = %s "
            "GROUP BY 1, 2",
            (last,),
        )
    )
    assert turnover == [
        (genre, 50, changes[genre, "entered"], changes[genre, "dropped_out"], previous)
        for genre, previous in zip(GENRES, [DAYS[1], DAYS[1], DAYS[0]], strict=True)
    ]

    # points: 51 − rank a list and day, summed; the week holds the three days
    facts = sql("SELECT m.title_id, f.genre, f.rank FROM warehouse.fact_movie_ranking f "
                "JOIN warehouse.dim_movie m USING (movie_key)")  # fmt: skip
    points: dict[str, int] = defaultdict(int)
    for title_id, _, rank in facts:
        points[title_id] += 51 - rank
    week = dict(sql("SELECT title_id, points FROM analytics.movie_points WHERE period = 'week'"))
    assert week == points
    assert sql(
        "SELECT DISTINCT period, since, until FROM analytics.movie_points ORDER BY period"
    ) == [
        ("all_time", DAYS[0], last),
        ("month", last - timedelta(days=29), last),
        ("week", last - timedelta(days=6), last),
    ]
    action = dict(
        sql(
            "SELECT title_id, points FROM analytics.genre_points "
            "WHERE period = 'all_time' AND genre = 'action'"
        )
    )
    action_points: dict[str, int] = defaultdict(int)
    for title_id, genre, rank in facts:
        if genre == "action":
            action_points[title_id] += 51 - rank
    assert action == action_points

    # a director's points: those of the movies the catalogue credits them on
    listed = {
        m.movie.title_id: m.movie
        for day, genres in LISTS_READ.items()
        for genre in genres
        for m in catalogue.search(GENRE_BY_SLUG[genre], day, limit=50)[0]
    }
    directors: dict[str, int] = defaultdict(int)
    for title_id, movie in listed.items():
        for person in catalogue.details(movie).directors:
            directors[person.id] += points[title_id]
    leaders = dict(
        sql(
            "SELECT person_id, points FROM analytics.person_points "
            "WHERE period = 'week' AND role = 'director'"
        )
    )
    assert leaders == directors
