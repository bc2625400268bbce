"""The daily refresh's work without Dagster: the floor the Dagster refresh is measured against.

The same functions the assets call, in the order of the day's run, each table written by
`write_frame` with its asset's metadata (so the same tables, keys and write modes), frames
passed in memory instead of read back through the IO manager.
"""

from collections.abc import Sequence
from datetime import date

import polars as pl

from imdb_warehouse import tables
from imdb_warehouse.assets import warehouse as wh
from imdb_warehouse.assets.analytics import create_views, views_missing
from imdb_warehouse.assets.checks import sql_results
from imdb_warehouse.assets.raw import search_results_frame, title_pages_frame
from imdb_warehouse.assets.staging import movie_rankings_frame, title_details_frame
from imdb_warehouse.charts import update_chart_stats
from imdb_warehouse.checks import DETAILS_MAX_AGE_DAYS, lists_with_gaps, short_lists
from imdb_warehouse.partitions import GENRES, partition_key
from imdb_warehouse.resources import PostgresResource
from imdb_warehouse.resources.archive import PageArchive
from imdb_warehouse.resources.imdb_client import ImdbClient
from imdb_warehouse.resources.storage import table_spec
from imdb_warehouse.resources.table_writes import write_frame
from imdb_warehouse.schedules import CALENDAR, day_runs
from imdb_warehouse.schemas import MovieRankings, RawSearchResults, RawTitlePages, TitleDetails


def refresh_day(day: date, genres: Sequence[str] = GENRES) -> None:
    from imdb_warehouse.definitions import defs

    graph = defs.resolve_asset_graph()
    postgres, imdb, archive = PostgresResource(), ImdbClient(), PageArchive()
    day_keys = [partition_key(day, genre) for genre in genres]

    def write(table: tables.Table, frame: pl.DataFrame, partition_keys=None) -> None:
        node = graph.get(table.key)
        spec = table_spec(table.key, node.metadata, node.partitions_def, partition_keys)
        with postgres.connect() as conn:
            write_frame(conn, spec, frame)

    # the lists
    search_results = search_results_frame(imdb, archive, [(day, genre) for genre in genres])
    RawSearchResults.validate(search_results, lazy=True)
    short_lists(search_results, int(imdb.search_params.get("count", 50)))
    write(tables.SEARCH_RESULTS, search_results, day_keys)
    rankings = movie_rankings_frame(search_results)
    MovieRankings.validate(rankings, lazy=True)
    lists_with_gaps(rankings)
    write(tables.MOVIE_RANKINGS, rankings, day_keys)

    # the details, dimensions and bridges
    if CALENDAR[0] in day_runs(day, genres, postgres)[0]["asset_selection"]:
        write(tables.DIM_DATE, wh.dim_date_frame())
        write(tables.DIM_GENRE, wh.dim_genre_frame())
    pages = title_pages_frame(imdb, archive, postgres, rankings, [day], DETAILS_MAX_AGE_DAYS)
    RawTitlePages.validate(pages, lazy=True)
    write(tables.TITLE_PAGES, pages, day_keys)
    details = title_details_frame(pages)
    TitleDetails.validate(details, lazy=True)
    write(tables.TITLE_DETAILS, details, day_keys)
    write(tables.DIM_MOVIE, wh.dim_movie_frame(rankings, details, day), day_keys)
    write(tables.DIM_PERSON, wh.dim_person_frame(details, day), day_keys)
    write(tables.BRIDGE_MOVIE_PERSON, wh.bridge_movie_person_frame(details, day), day_keys)
    _check(postgres, tables.BRIDGE_MOVIE_PERSON, day)
    write(tables.BRIDGE_MOVIE_GENRE, wh.bridge_movie_genre_frame(rankings, day), day_keys)
    _check(postgres, tables.BRIDGE_MOVIE_GENRE, day)
    write(tables.FACT_BOX_OFFICE, wh.fact_box_office_frame(details), day_keys)
    _check(postgres, tables.FACT_BOX_OFFICE, day)

    # the facts, and the chart statistics they bring
    write(tables.FACT_MOVIE_RANKING, wh.fact_movie_ranking_frame(rankings), day_keys)
    _check(postgres, tables.FACT_MOVIE_RANKING, day)
    update_chart_stats(postgres, [(day, genre) for genre in genres])
    _check(postgres, tables.FACT_CHART_STATS, day)
    if views_missing(
        postgres
    ):  # as the facts run: the views are made once, then stay current by themselves
        create_views(postgres)


def _check(postgres: PostgresResource, table: tables.Table, day: date) -> None:
    failed = [r.check_name for r in sql_results(postgres, table, [day]) if not r.passed]
    if failed:
        raise RuntimeError(f"{table.name}: checks failed: {', '.join(failed)}")
