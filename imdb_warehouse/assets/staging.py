"""Staging layer: what IMDb sent, read into typed, checked rows (DESIGN.md §4), the same columns
from either source. No network here: re-materializing a day re-reads what the raw layer kept."""

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
from imdb_warehouse.imdb.fields import LayoutChangeError
from imdb_warehouse.imdb.graphql import details_row, listed_title_row
from imdb_warehouse.imdb.parse import search_item_row, title_details_row
from imdb_warehouse.partitions import day_partitions
from imdb_warehouse.schemas import MovieRankings, TitleDetails, polars_schema, table_metadata


@dg.asset(
    key=MOVIE_RANKINGS,
    partitions_def=day_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="staging",
    kinds={"polars", "postgres"},
    owners=OWNERS,
    ins={"search_results": dg.AssetIn(key=SEARCH_RESULTS)},
    metadata=table_metadata(
        MOVIE_RANKINGS,
        MovieRankings,
        partition_expr="snapshot_date",
        replace_within=["genre"],
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
    """The raw results, read into typed rows."""
    rows = []
    for raw in search_results.iter_rows(named=True):
        read = listed_title_row if raw["source"] == "graphql" else search_item_row
        try:
            item = read(json.loads(raw["item_json"]), raw["rank"])
        except (LayoutChangeError, json.JSONDecodeError) as error:
            raise dg.Failure(
                f"raw row {raw['snapshot_date']}|{raw['genre']} rank {raw['rank']}: {error}; "
                f"IMDb's answer is kept at {raw['archive_path']}"
            ) from None
        rows.append(
            {
                "snapshot_date": raw["snapshot_date"],
                "genre": raw["genre"],
                **item,
                "source": raw["source"],
                "scraped_at": raw["fetched_at"],
            }
        )
    return pl.DataFrame(rows, schema=polars_schema(MovieRankings))


@dg.asset(
    key=TITLE_DETAILS,
    partitions_def=day_partitions,
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
    """The details of each title read that day: people (directors, writers, stars in billing
    order), countries, languages, budget and box office. Titles IMDb no longer has have no row
    here; raw/imdb_title_pages records them."""
    yield from validated(TITLE_DETAILS, TitleDetails, title_details_frame(title_pages))


def title_details_frame(title_pages: pl.DataFrame) -> pl.DataFrame:
    """The details of the available titles, read into typed rows."""
    rows = []
    for index, raw in enumerate(title_pages.filter(pl.col("available")).iter_rows(named=True)):
        try:
            sent = json.loads(raw["title_json"])
            if raw["source"] == "graphql":
                details = details_row(sent, index)
            else:
                details = title_details_row(sent["aboveTheFoldData"], sent["mainColumnData"])
        except (LayoutChangeError, json.JSONDecodeError, KeyError, TypeError) as error:
            raise dg.Failure(
                f"raw details of {raw['title_id']} ({raw['snapshot_date']}): {error}; "
                f"IMDb's answer is kept at {raw['archive_path']}"
            ) from None
        rows.append(
            {
                "snapshot_date": raw["snapshot_date"],
                **details,
                "source": raw["source"],
                "scraped_at": raw["fetched_at"],
            }
        )
    return pl.DataFrame(rows, schema=polars_schema(TitleDetails))
