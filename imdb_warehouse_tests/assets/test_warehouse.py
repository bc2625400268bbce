"""The star schema built from the offline IMDb over several days, checked in SQL."""

from collections import defaultdict
from datetime import date, timedelta
from statistics import mean

import dagster as dg
import polars as pl
import pytest
from psycopg import sql as pgsql

from imdb_warehouse import tables
from imdb_warehouse.assets import analytics, checks, raw, staging, warehouse
from imdb_warehouse.imdb.genres import GENRE_BY_SLUG
from imdb_warehouse.replay.catalogue import Catalogue
from imdb_warehouse.resources import table_writes
from imdb_warehouse_tests.helpers import (
    REPLAY_DAY,
    materialize,
    materialize_day,
    pipeline_resources,
    replay_client,
)

FIRST = REPLAY_DAY
DAYS = [FIRST + timedelta(days=i) for i in range(3)]
GENRES = ["action", "adventure", "animation"]
ASSETS = [
    *dg.load_assets_from_modules([raw, staging, warehouse, analytics]),
    *checks.SQL_CHECKS,
]
WAREHOUSE_TABLES = [
    "dim_date",
    "dim_genre",
    "dim_movie",
    "dim_person",
    "bridge_movie_person",
    "bridge_movie_genre",
    "fact_movie_ranking",
    "fact_box_office",
    "fact_chart_stats",
]


@pytest.fixture
def resources(database_url, tmp_path, replay):
    return pipeline_resources(database_url, replay_client(replay, FIRST), tmp_path / "archive")


def run(resources, selection, **kwargs) -> dg.ExecuteInProcessResult:
    return materialize(ASSETS, selection=selection, resources=resources, **kwargs)


def refresh(resources, replay, day: date, genres: list[str] = GENRES, today: date | None = None):
    """The whole graph for `day`: the day's run (lists, details, dimensions, bridges, facts),
    then the views."""
    replay.set_day(day)
    resources = {**resources, "imdb": replay_client(replay, today or day)}
    assert materialize_day(resources, day, genres).success
    assert run(resources, dg.AssetSelection.groups("analytics")).success


def count(sql, table: str) -> int:
    return sql(pgsql.SQL("SELECT count(*) FROM {}").format(pgsql.Identifier("warehouse", table)))[
        0
    ][0]


# The replaced project's failure cases: one backend is enough (the several-day test runs on both).
one_backend = pytest.mark.parametrize("backend_url", ["embedded"], indirect=True)


def snapshot(sql) -> dict[str, list]:
    return {
        t: sql(
            pgsql.SQL("SELECT * FROM {} ORDER BY 1, 2, 3").format(pgsql.Identifier("warehouse", t))
        )
        for t in WAREHOUSE_TABLES[2:]
    }


def test_several_days_build_a_consistent_star_schema_that_reruns_leave_unchanged(
    resources, replay, sql, catalogue
):
    for day in DAYS:
        refresh(resources, replay, day)

    # the constraints exist and hold
    foreign_keys = sql(
        "SELECT conrelid::regclass::text, confrelid::regclass::text, convalidated "
        "FROM pg_constraint WHERE contype = 'f' AND connamespace = 'warehouse'::regnamespace "
        "ORDER BY 1, 2"
    )
    assert foreign_keys == [
        ("warehouse.bridge_movie_genre", "warehouse.dim_genre", True),
        ("warehouse.bridge_movie_genre", "warehouse.dim_movie", True),
        ("warehouse.bridge_movie_person", "warehouse.dim_movie", True),
        ("warehouse.bridge_movie_person", "warehouse.dim_person", True),
        ("warehouse.fact_box_office", "warehouse.dim_date", True),
        ("warehouse.fact_box_office", "warehouse.dim_movie", True),
        ("warehouse.fact_chart_stats", "warehouse.dim_date", True),
        ("warehouse.fact_chart_stats", "warehouse.dim_genre", True),
        ("warehouse.fact_chart_stats", "warehouse.dim_movie", True),
        ("warehouse.fact_movie_ranking", "warehouse.dim_date", True),
        ("warehouse.fact_movie_ranking", "warehouse.dim_genre", True),
        ("warehouse.fact_movie_ranking", "warehouse.dim_movie", True),
    ]
    primary_keys = {
        r[0] for r in sql("SELECT conrelid::regclass::text FROM pg_constraint WHERE contype = 'p'")
    }
    assert {f"warehouse.{t}" for t in WAREHOUSE_TABLES} <= primary_keys

    # the fact grain: one movie, one genre's list, one day
    assert sql(
        "SELECT count(*) = count(DISTINCT (date_key, genre_key, movie_key)), count(*) "
        "FROM warehouse.fact_movie_ranking"
    ) == [(True, 50 * len(GENRES) * len(DAYS))]
    # the bridges link real rows
    assert sql(
        "SELECT count(*) FROM warehouse.bridge_movie_person b "
        "LEFT JOIN warehouse.dim_movie m USING (movie_key) LEFT JOIN warehouse.dim_person p "
        "USING (person_key) "
        "WHERE m.movie_key IS NULL OR p.person_key IS NULL"
    ) == [(0,)]
    assert sql("SELECT count(*) FROM warehouse.bridge_movie_person") != [(0,)]
    # every listed movie is in dim_movie once, seen between its first and last day
    assert sql("SELECT count(DISTINCT movie_key) FROM warehouse.fact_movie_ranking") == sql(
        "SELECT count(*) FROM warehouse.dim_movie"
    )
    assert sql(
        "SELECT count(*) FROM warehouse.dim_movie m WHERE first_seen_date <> "
        "(SELECT min(snapshot_date) FROM warehouse.fact_movie_ranking f WHERE f.movie_key = "
        "m.movie_key) "
        "OR last_seen_date <> "
        "(SELECT max(snapshot_date) FROM warehouse.fact_movie_ranking f WHERE f.movie_key = "
        "m.movie_key)"
    ) == [(0,)]

    # box office is a daily series: one row per listed movie per day
    assert sql(
        "SELECT f.snapshot_date, count(DISTINCT f.movie_key) = count(DISTINCT b.movie_key) "
        "FROM warehouse.fact_movie_ranking f LEFT JOIN warehouse.fact_box_office b "
        "ON b.movie_key = f.movie_key AND b.snapshot_date = f.snapshot_date GROUP BY 1 ORDER BY 1"
    ) == [(day, True) for day in DAYS]

    # re-running any day (from its archived answers) changes nothing
    before = snapshot(sql)
    for day in DAYS:
        refresh(resources, replay, day, today=DAYS[-1] + timedelta(days=1))
    assert snapshot(sql) == before

    _views_match_the_catalogue(sql, catalogue)


def _by_genre(sql, genre: str) -> dict[str, list]:
    """Every table's rows of the day that `genre`'s list brought, and the others' rows."""
    rows = {}
    for table, column, day in [
        ("raw.imdb_search_results", "genre", "snapshot_date"),
        ("staging.movie_rankings", "genre", "snapshot_date"),
        ("warehouse.fact_movie_ranking", "genre", "snapshot_date"),
        ("raw.imdb_title_pages", "listed_in", "snapshot_date"),
        ("staging.title_details", "listed_in", "snapshot_date"),
        ("warehouse.fact_box_office", "listed_in", "snapshot_date"),
        ("warehouse.dim_movie", "listed_in", "last_seen_date"),
        ("warehouse.dim_person", "listed_in", "last_seen_date"),
        ("warehouse.bridge_movie_person", "listed_in", "last_seen_date"),
        ("warehouse.bridge_movie_genre", "listed_in", "last_seen_date"),
    ]:
        held = pgsql.SQL("{} = %s" if column == "genre" else "%s = ANY({})").format(
            pgsql.Identifier(column)
        )
        for side, condition in (("in", held), ("out", pgsql.SQL("NOT ({})").format(held))):
            query = pgsql.SQL("SELECT * FROM {} WHERE {} = %s AND {} ORDER BY 1, 2, 3").format(
                pgsql.Identifier(*table.split(".")), pgsql.Identifier(day), condition
            )
            rows[f"{table} {side}"] = sql(query, (FIRST, genre))
    return rows


def test_one_genre_of_a_day_rebuilt_alone_changes_that_genres_rows_only_in_two_requests(
    resources, replay, sql
):
    refresh(resources, replay, FIRST)
    before = _by_genre(sql, "adventure")
    assert all(before.values()), [name for name, rows in before.items() if not rows]
    replay.reset()
    result = materialize_day(resources, FIRST, ["adventure"])  # today again: fetched anew
    assert result.success
    assert [r.operation for r in replay.requests] == ["GenreList", "TitleDetails"]
    after = _by_genre(sql, "adventure")
    for name in before:
        if name.endswith(" out"):  # the other genres' rows: untouched
            assert after[name] == before[name], name
    # adventure's list rows and its movies' details were read again (a new fetch)
    for name in ("raw.imdb_search_results in", "raw.imdb_title_pages in"):
        assert after[name] != before[name] and len(after[name]) == len(before[name]), name
    # its partitions only, each with its own row count
    counts = {
        (e.asset_key.path[-1], e.materialization.partition): e.materialization.metadata[
            "dagster/row_count"
        ].value
        for e in result.get_asset_materialization_events()
    }
    assert {partition for _, partition in counts} == {f"{FIRST}|adventure"}
    assert counts["fact_movie_ranking", f"{FIRST}|adventure"] == 50
    assert counts["fact_box_office", f"{FIRST}|adventure"] == 50


def _votes(listed) -> int | None:
    """The votes the warehouse keeps: null for an unrated movie (IMDb sends 0)."""
    return None if listed.rating is None and not listed.votes else listed.votes


def _views_match_the_catalogue(sql, catalogue: Catalogue) -> None:
    lists = {
        (day, genre): catalogue.search(GENRE_BY_SLUG[genre], day, limit=50)[0]
        for day in DAYS
        for genre in GENRES
    }
    day, genre = DAYS[1], GENRES[0]
    rows = sql(
        "SELECT rank, title_id, rating, votes FROM analytics.daily_rankings "
        "WHERE snapshot_date = %s AND genre = %s ORDER BY rank",
        (day, genre),
    )
    assert rows == [
        (i, m.movie.title_id, m.rating, _votes(m)) for i, m in enumerate(lists[day, genre], 1)
    ]
    assert any(m.rating is None for m in lists[day, genre])  # unrated: null votes, not 0

    movers = dict(
        (r[0], r[1:])
        for r in sql(
            "SELECT title_id, rank, previous_rank, rank_change, new_entry FROM "
            "analytics.rank_movers "
            "WHERE snapshot_date = %s AND genre = %s",
            (day, genre),
        )
    )
    before = {m.movie.title_id: i for i, m in enumerate(lists[DAYS[0], genre], 1)}
    for rank, movie_day in enumerate(lists[day, genre], 1):
        previous = before.get(movie_day.movie.title_id)
        expected = (rank, previous, None if previous is None else previous - rank, previous is None)
        assert movers[movie_day.movie.title_id] == expected

    [(movies, mean_rating, total_votes, unrated)] = sql(
        "SELECT movies, mean_rating, total_votes, unrated FROM analytics.genre_daily_stats "
        "WHERE snapshot_date = %s AND genre = %s AND genre_name = %s",
        (day, genre, GENRE_BY_SLUG[genre]),
    )
    ratings = [m.rating for m in lists[day, genre] if m.rating is not None]
    assert movies == 50 and unrated == 50 - len(ratings)
    assert float(mean_rating) == pytest.approx(mean(ratings), abs=0.005)
    assert total_votes == sum(_votes(m) or 0 for m in lists[day, genre])

    credited = defaultdict(set)
    for movie_days in lists.values():
        for movie_day in movie_days:
            details = catalogue.details(movie_day.movie)
            for person in details.directors:
                credited[person.id].add(movie_day.movie.title_id)
    leaderboard = dict(
        sql(
            "SELECT person_id, ranked_movies FROM analytics.people_leaderboard WHERE role = "
            "'director'"
        )
    )
    assert leaderboard == {person: len(movies) for person, movies in credited.items()}


@one_backend
def test_the_same_movie_with_different_votes_in_two_lists_of_one_day(resources, replay, sql):
    refresh(resources, replay, FIRST)
    [(title_id,)] = sql(
        "SELECT title_id FROM staging.movie_rankings WHERE genre IN ('action', 'adventure') "
        "GROUP BY title_id HAVING count(*) = 2 ORDER BY title_id LIMIT 1"
    )
    sql(
        "UPDATE staging.movie_rankings SET votes = votes + 1000 WHERE genre = 'adventure' "
        "AND title_id = %s",
        (title_id,),
    )
    assert run(resources, [tables.DIM_MOVIE.key], day=FIRST).success
    assert run(resources, [tables.FACT_MOVIE_RANKING.key], day=FIRST).success
    votes = dict(
        sql(
            "SELECT genre, votes FROM warehouse.fact_movie_ranking WHERE movie_key = %s",
            (int(title_id[2:]),),
        )
    )
    assert votes["adventure"] == votes["action"] + 1000
    assert sql("SELECT count(*) FROM warehouse.dim_movie WHERE title_id = %s", (title_id,)) == [
        (1,)
    ]


@one_backend
def test_a_second_capture_of_the_same_day_replaces_it(resources, replay, sql):
    refresh(resources, replay, FIRST)
    counts = {t: count(sql, t) for t in WAREHOUSE_TABLES}
    refresh(resources, replay, FIRST)  # today again: fetched anew
    assert {t: count(sql, t) for t in WAREHOUSE_TABLES} == counts


@one_backend
def test_a_title_or_plot_edit_updates_the_one_movie_row(resources, replay, sql):
    refresh(resources, replay, DAYS[0])
    refresh(resources, replay, DAYS[1])
    [(title_id, plot)] = sql(
        "SELECT title_id, plot FROM warehouse.dim_movie WHERE last_seen_date = %s ORDER BY "
        "title_id LIMIT 1",
        (DAYS[1],),
    )
    sql(
        "UPDATE staging.movie_rankings SET title = 'Retitled', plot = 'A new plot' "
        "WHERE snapshot_date = %s AND title_id = %s",
        (DAYS[1], title_id),
    )
    assert run(resources, [tables.DIM_MOVIE.key], day=DAYS[1]).success
    assert sql("SELECT title, plot FROM warehouse.dim_movie WHERE title_id = %s", (title_id,)) == [
        ("Retitled", "A new plot")
    ]
    assert plot != "A new plot"
    # the older day, run again, does not bring the old title back
    assert run(resources, [tables.DIM_MOVIE.key], day=DAYS[0]).success
    assert sql("SELECT title FROM warehouse.dim_movie WHERE title_id = %s", (title_id,)) == [
        ("Retitled",)
    ]


@one_backend
def test_gross_missing_on_every_movie_loads_as_nulls(resources, replay, sql):
    refresh(resources, replay, FIRST)
    sql(
        "UPDATE staging.title_details SET gross_worldwide_amount = NULL, "
        "gross_worldwide_currency = NULL, "
        "gross_domestic_amount = NULL, gross_domestic_currency = NULL, "
        "opening_weekend_amount = NULL, "
        "opening_weekend_currency = NULL, opening_weekend_end_date = NULL"
    )
    assert run(resources, [tables.FACT_BOX_OFFICE.key], day=FIRST).success
    assert sql(
        "SELECT count(*), count(gross_worldwide_amount), count(opening_weekend_end_date) "
        "FROM warehouse.fact_box_office"
    ) == [(sql("SELECT count(*) FROM staging.title_details")[0][0], 0, 0)]


@one_backend
def test_a_genre_with_no_results_fails_the_day_rather_than_loading_an_empty_one(
    resources, replay, sql
):
    refresh(resources, replay, DAYS[0])
    before = snapshot(sql)
    early = date(2024, 1, 15)  # before the first film-noir of the catalogue: IMDb's total is 0
    replay.set_day(early)
    result = run(
        {**resources, "imdb": replay_client(replay, early)},
        [tables.SEARCH_RESULTS.key, tables.MOVIE_RANKINGS.key],
        day=early,
        genres=["film-noir"],
        raise_on_error=False,
    )
    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert "IMDb sent an empty list (its total: 0)" in failure.step_failure_data.error.message
    assert snapshot(sql) == before


@one_backend
def test_a_crash_in_the_middle_of_a_load_leaves_nothing_partial(
    resources, replay, sql, monkeypatch
):
    refresh(resources, replay, DAYS[0])
    refresh(resources, replay, DAYS[1])
    before = snapshot(sql)
    real_write_csv = pl.DataFrame.write_csv
    calls = {"n": 0}

    def crash_on_third_chunk(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise MemoryError("the run worker died in the middle of COPY")
        return real_write_csv(self, *args, **kwargs)

    monkeypatch.setattr(table_writes, "COPY_CHUNK_ROWS", 20)
    monkeypatch.setattr(pl.DataFrame, "write_csv", crash_on_third_chunk)
    result = run(
        resources,
        [tables.FACT_MOVIE_RANKING.key],
        day=DAYS[1],
        raise_on_error=False,
    )
    assert not result.success and calls["n"] == 3
    assert snapshot(sql) == before


@one_backend
def test_movers_and_list_changes_compare_with_the_previous_snapshot_across_a_gap(
    resources, replay, sql, catalogue
):
    """A day missed: the next day's movers, entries and drop-outs are against the day before
    the gap, which the views name."""
    first, after_gap = FIRST, FIRST + timedelta(days=2)
    for day in (first, after_gap):
        refresh(resources, replay, day, ["action"])
    before = {m.movie.title_id: r for r, m in enumerate(_list(catalogue, first), 1)}
    now = {m.movie.title_id: r for r, m in enumerate(_list(catalogue, after_gap), 1)}
    assert set(before) != set(now)  # the catalogue's lists move: something to compare

    movers = {
        row[0]: row[1:]
        for row in sql(
            "SELECT title_id, previous_snapshot_date, previous_rank, rank FROM "
            "analytics.rank_movers WHERE snapshot_date = %s AND genre = 'action'",
            (after_gap,),
        )
    }
    assert movers == {t: (first, before.get(t), rank) for t, rank in now.items()}
    assert sql(
        "SELECT DISTINCT previous_snapshot_date FROM analytics.rank_movers "
        "WHERE snapshot_date = %s",
        (first,),
    ) == [(None,)]  # a list's first snapshot has none

    changes = sql(
        "SELECT change, title_id, rank, previous_snapshot_date FROM analytics.list_changes "
        "WHERE snapshot_date = %s AND genre = 'action' AND genre_name = 'Action'",
        (after_gap,),
    )
    assert sorted(changes) == sorted(
        [("entered", t, now[t], first) for t in set(now) - set(before)]
        + [("dropped_out", t, before[t], first) for t in set(before) - set(now)]
    )
    assert sql(
        "SELECT count(*) FROM analytics.list_changes WHERE snapshot_date = %s", (first,)
    ) == [(0,)]


@one_backend
def test_box_office_views_keep_each_amount_with_its_currency(resources, replay, sql):
    for day in DAYS[:2]:
        refresh(resources, replay, day, ["action"])
    assert sql("SELECT count(*) = count(DISTINCT title_id) FROM analytics.box_office_latest") == [
        (True,)
    ]
    assert sql(
        "SELECT count(*) FROM analytics.box_office_latest l JOIN warehouse.dim_movie m "
        "USING (title_id) WHERE l.snapshot_date <> (SELECT max(snapshot_date) FROM "
        "warehouse.fact_box_office b WHERE b.movie_key = m.movie_key)"
    ) == [(0,)]
    assert sql("SELECT count(*) FROM analytics.box_office_daily") == sql(
        "SELECT count(*) FROM warehouse.fact_box_office"
    )
    # a ratio only within one currency; an amount never without its currency
    assert sql(
        "SELECT count(*) FILTER (WHERE worldwide_to_budget IS NOT NULL "
        "AND budget_currency IS DISTINCT FROM gross_worldwide_currency), "
        "count(*) FILTER (WHERE gross_worldwide_amount IS NOT NULL "
        "AND gross_worldwide_currency IS NULL), "
        "count(*) FILTER (WHERE worldwide_to_budget IS NOT NULL) > 0 "
        "FROM analytics.box_office_daily"
    ) == [(0, 0, True)]


def _list(catalogue: Catalogue, day: date):
    return catalogue.search(GENRE_BY_SLUG["action"], day, limit=50)[0]
