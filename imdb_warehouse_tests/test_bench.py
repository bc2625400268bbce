"""The bench's plain-function refresh, the floor the Dagster refresh is measured against, does
the same work as the Dagster refresh: the same pages read, the same rows left."""

from datetime import date

import dagster as dg
import pytest
from psycopg import sql

from bench.plain_refresh import refresh_day
from imdb_warehouse.replay.server import ReplayServer
from imdb_warehouse.schedules import refresh_in_process
from imdb_warehouse_tests.databases import new_database
from imdb_warehouse_tests.helpers import replay_environment

pytestmark = pytest.mark.slow  # the bench's refreshes

DAYS = [date(2025, 6, 1), date(2025, 6, 2)]
GENRES = ["action", "adventure", "animation"]  # a range of the genre partitions
TABLES = [
    "raw.imdb_search_results", "raw.imdb_title_pages", "staging.movie_rankings",
    "staging.title_details", "warehouse.dim_movie", "warehouse.dim_person",
    "warehouse.bridge_movie_person", "warehouse.bridge_movie_genre",
    "warehouse.fact_movie_ranking", "warehouse.fact_box_office", "warehouse.fact_chart_stats",
]  # fmt: skip


def _refresh(refresh, url, replay, archive, monkeypatch) -> tuple[list[int], dict, list]:
    from imdb_warehouse.resources import PostgresResource

    monkeypatch.setenv("IMDB_WAREHOUSE_DATABASE_URL", url)
    monkeypatch.setenv("IMDB_WAREHOUSE_ARCHIVE", str(archive))
    pages = []
    for day in DAYS:
        monkeypatch.setenv("IMDB_WAREHOUSE_TODAY", day.isoformat())
        replay.set_day(day)
        replay.reset()
        refresh(day)
        pages.append(sorted(f"{r.path} {r.operation}" for r in replay.requests))
    postgres = PostgresResource(database_url=url)
    counts = {
        table: postgres.query(
            sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(*table.split("."))).as_string()
        )[0][0]
        for table in TABLES
    }
    grain = postgres.query(
        "SELECT snapshot_date, genre, rank, m.title_id, f.rating, f.votes "
        "FROM warehouse.fact_movie_ranking f JOIN warehouse.dim_movie m USING (movie_key) "
        "ORDER BY 1, 2, 3"
    )
    return pages, counts, grain


@pytest.mark.parametrize("backend_url", ["embedded"], indirect=True)
def test_the_plain_refresh_does_what_the_dagster_refresh_does(
    backend_url, database_url, tmp_path, monkeypatch
):
    def through_dagster(day: date) -> None:
        with dg.DagsterInstance.ephemeral() as instance:
            results = refresh_in_process(day, GENRES, instance=instance, report=False)
            assert all(r.success for r in results)

    with ReplayServer(day=DAYS[0]) as replay, new_database(backend_url) as plain_url:
        for name, value in replay_environment(replay).items():
            monkeypatch.setenv(name, value)
        dagster = _refresh(through_dagster, database_url, replay, tmp_path / "a", monkeypatch)
        plain = _refresh(
            lambda day: refresh_day(day, GENRES), plain_url, replay, tmp_path / "b", monkeypatch
        )
    pages, counts, grain = dagster
    # each day: the three lists, then one batch of the listed movies' details
    assert pages == [["/ GenreList"] * 3 + ["/ TitleDetails"]] * len(DAYS)
    assert min(counts.values()) > 0 and len(grain) == len(DAYS) * len(GENRES) * 50
    assert plain == dagster
