"""The daily refresh's work without Dagster: the floor the Dagster refresh is measured against.

The same functions the assets call, in the order of the day's run, each table written by
`write_frame` with its asset's metadata (so the same tables, keys and write modes), frames
passed in memory instead of read back through the IO manager.
"""

from collections.abc import Sequence
from datetime import date

import dagster as dg
import polars as pl

from imdb_warehouse.assets import keys
from imdb_warehouse.assets import warehouse as wh
from imdb_warehouse.assets.analytics import create_views, views_missing
from imdb_warehouse.assets.raw import search_results_frame, title_pages_frame
from imdb_warehouse.assets.staging import movie_rankings_frame, title_details_frame
from imdb_warehouse.checks import (
    DETAILS_MAX_AGE_DAYS,
    lists_with_gaps,
    short_lists,
    warehouse_check_results,
)
from imdb_warehouse.partitions import GENRES
from imdb_warehouse.resources import PostgresResource
from imdb_warehouse.resources.archive import PageArchive
from imdb_warehouse.resources.imdb_client import ImdbClient
from imdb_warehouse.resources.storage import table_spec
from imdb_warehouse.resources.table_writes import write_frame
from imdb_warehouse.schedules import day_run
from imdb_warehouse.schemas import MovieRankings, RawSearchResults, RawTitlePages, TitleDetails


def refresh_day(day: date, genres: Sequence[str] = GENRES) -> None:
    from imdb_warehouse.definitions import defs

    graph = defs.resolve_asset_graph()
    postgres, imdb, archive = PostgresResource(), ImdbClient(), PageArchive()
    day_keys = [day.isoformat()]

    def write(key: dg.AssetKey, frame: pl.DataFrame, partition_keys=None) -> None:
        node = graph.get(key)
        spec = table_spec(key, node.metadata, node.partitions_def, partition_keys)
        with postgres.connect() as conn:
            write_frame(conn, spec, frame)

    # the lists
    search_results = search_results_frame(imdb, archive, [(day, genre) for genre in genres])
    RawSearchResults.validate(search_results, lazy=True)
    short_lists(search_results, int(imdb.search_params.get("count", 50)))
    write(keys.SEARCH_RESULTS, search_results, day_keys)
    rankings = movie_rankings_frame(search_results)
    MovieRankings.validate(rankings, lazy=True)
    lists_with_gaps(rankings)
    write(keys.MOVIE_RANKINGS, rankings, day_keys)

    # the details, dimensions and bridges
    if keys.DIM_DATE in day_run(day, genres, postgres)["asset_selection"]:
        write(keys.DIM_DATE, wh.dim_date_frame())
        write(keys.DIM_GENRE, wh.dim_genre_frame())
    pages = title_pages_frame(imdb, archive, postgres, rankings, [day], DETAILS_MAX_AGE_DAYS)
    RawTitlePages.validate(pages, lazy=True)
    write(keys.TITLE_PAGES, pages, day_keys)
    details = title_details_frame(pages)
    TitleDetails.validate(details, lazy=True)
    write(keys.TITLE_DETAILS, details, day_keys)
    write(keys.DIM_MOVIE, wh.dim_movie_frame(rankings, details, day), day_keys)
    write(keys.DIM_PERSON, wh.dim_person_frame(details, day), day_keys)
    write(keys.BRIDGE_MOVIE_PERSON, wh.bridge_movie_person_frame(details, day), day_keys)
    _check(postgres, keys.BRIDGE_MOVIE_PERSON, "last_seen_date", day, wh.MOVIE_PERSON_KEYS)
    write(keys.BRIDGE_MOVIE_GENRE, wh.bridge_movie_genre_frame(rankings, day), day_keys)
    _check(postgres, keys.BRIDGE_MOVIE_GENRE, "last_seen_date", day, wh.MOVIE_GENRE_KEYS)
    write(keys.FACT_BOX_OFFICE, wh.fact_box_office_frame(details), day_keys)
    _check(postgres, keys.FACT_BOX_OFFICE, "snapshot_date", day, wh.BOX_OFFICE_KEYS)

    # the facts
    write(keys.FACT_MOVIE_RANKING, wh.fact_movie_ranking_frame(rankings), day_keys)
    _check(postgres, keys.FACT_MOVIE_RANKING, "snapshot_date", day, wh.RANKING_KEYS, True)
    if views_missing(
        postgres
    ):  # as the facts run: the views are made once, then stay current by themselves
        create_views(postgres)


def _check(postgres, key, day_column, day, foreign_keys, ranking_fact=False) -> None:
    results = warehouse_check_results(
        postgres, key, day_column, [day], foreign_keys, ranking_fact=ranking_fact
    )
    failed = [r.check_name for r in results if not r.passed]
    if failed:
        raise RuntimeError(f"{key.to_user_string()}: checks failed: {', '.join(failed)}")
