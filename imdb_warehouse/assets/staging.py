"""Staging layer: the raw pages read into typed, checked rows (DESIGN.md §4). No network here:
re-materializing a past day re-parses what the raw layer kept."""

import json

import dagster as dg
import polars as pl

from imdb_warehouse.assets.keys import (
    MOVIE_RANKINGS,
    OWNERS,
    SEARCH_RESULTS,
    TITLE_DETAILS,
    TITLE_PAGES,
)
from imdb_warehouse.checks import lists_with_gaps, schema_check_spec, validated, warn_result
from imdb_warehouse.imdb.parse import LayoutChangeError, search_item_row, title_details_row
from imdb_warehouse.partitions import daily_partitions, date_genre_partitions
from imdb_warehouse.schemas import MovieRankings, TitleDetails, polars_schema, table_metadata


@dg.asset(
    key=MOVIE_RANKINGS,
    partitions_def=date_genre_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="staging",
    kinds={"polars", "postgres"},
    owners=OWNERS,
    ins={"search_results": dg.AssetIn(key=SEARCH_RESULTS)},
    metadata=table_metadata(
        MOVIE_RANKINGS,
        MovieRankings,
        partition_expr={"date": "snapshot_date", "genre": "genre"},
        primary_key=["snapshot_date", "genre", "rank"],
    ),
    check_specs=[
        schema_check_spec(MOVIE_RANKINGS, MovieRankings),
        dg.AssetCheckSpec(
            "ranks_without_gaps",
            asset=MOVIE_RANKINGS,
            description="Each day's list of each genre is ranked 1..n without gaps.",
        ),
    ],
)
def movie_rankings(search_results: pl.DataFrame):
    """Each genre's daily list, typed and cleaned: one movie's place in one genre's list on one
    day, with what the search page says of it (titles, year, runtime, rating, votes, …)."""
    frame = movie_rankings_frame(search_results)
    yield from validated(MOVIE_RANKINGS, MovieRankings, frame)
    yield warn_result(
        MOVIE_RANKINGS, "ranks_without_gaps", lists_with_gaps(frame), "lists_with_gaps"
    )


def movie_rankings_frame(search_results: pl.DataFrame) -> pl.DataFrame:
    """The raw result items, read into typed rows."""
    rows = []
    for raw in search_results.iter_rows(named=True):
        try:
            item = search_item_row(json.loads(raw["item_json"]), raw["rank"])
        except (LayoutChangeError, json.JSONDecodeError) as error:
            raise dg.Failure(
                f"raw row {raw['snapshot_date']}|{raw['genre']} rank {raw['rank']}: {error}; "
                f"the page is archived at {raw['archive_path']}"
            ) from None
        rows.append(
            {
                "snapshot_date": raw["snapshot_date"],
                "genre": raw["genre"],
                **item,
                "scraped_at": raw["fetched_at"],
            }
        )
    return pl.DataFrame(rows, schema=polars_schema(MovieRankings))


@dg.asset(
    key=TITLE_DETAILS,
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="staging",
    kinds={"polars", "postgres"},
    owners=OWNERS,
    ins={"title_pages": dg.AssetIn(key=TITLE_PAGES)},
    metadata=table_metadata(
        TITLE_DETAILS,
        TitleDetails,
        partition_expr="snapshot_date",
        primary_key=["snapshot_date", "title_id"],
    ),
    check_specs=[schema_check_spec(TITLE_DETAILS, TitleDetails)],
)
def title_details(title_pages: pl.DataFrame):
    """The details of each title page read that day: people (directors, writers, stars in
    billing order), countries, languages, budget and box office. Unavailable titles (404/410)
    have no row here; raw/imdb_title_pages records them."""
    yield from validated(TITLE_DETAILS, TitleDetails, title_details_frame(title_pages))


def title_details_frame(title_pages: pl.DataFrame) -> pl.DataFrame:
    """The pages that answered 200, read into typed rows."""
    rows = []
    for raw in title_pages.filter(pl.col("http_status") == 200).iter_rows(named=True):
        try:
            props = json.loads(raw["page_props"])
            details = title_details_row(props["aboveTheFoldData"], props["mainColumnData"])
        except (LayoutChangeError, json.JSONDecodeError, KeyError, TypeError) as error:
            raise dg.Failure(
                f"raw title page {raw['title_id']} ({raw['snapshot_date']}): {error}; "
                f"the page is archived at {raw['archive_path']}"
            ) from None
        rows.append(
            {"snapshot_date": raw["snapshot_date"], **details, "scraped_at": raw["fetched_at"]}
        )
    return pl.DataFrame(rows, schema=polars_schema(TitleDetails))
