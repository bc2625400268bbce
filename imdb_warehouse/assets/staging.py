"""Staging layer: what IMDb sent, read into typed, checked rows (DESIGN.md §4), the same columns
from either source. No network here: re-materializing a day re-reads what the raw layer kept."""

import json

import dagster as dg
import polars as pl

from imdb_warehouse import tables
from imdb_warehouse.imdb.fields import LayoutChangeError
from imdb_warehouse.imdb.graphql import details_row, listed_title_row
from imdb_warehouse.imdb.parse import search_item_row, title_details_row
from imdb_warehouse.schemas import MovieRankings, TitleDetails, polars_schema


@tables.MOVIE_RANKINGS.asset
def movie_rankings(search_results: pl.DataFrame):
    """Each genre's daily list, typed and cleaned: one movie's place in one genre's list on one
    day, with what the search page says of it (titles, year, runtime, rating, votes, …)."""
    yield from tables.MOVIE_RANKINGS.outputs(movie_rankings_frame(search_results))


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


@tables.TITLE_DETAILS.asset
def title_details(title_pages: pl.DataFrame):
    """The details of each title read that day: people (directors, writers, stars in billing
    order), countries, languages, budget and box office. Titles IMDb no longer has have no row
    here; raw/imdb_title_pages records them."""
    yield from tables.TITLE_DETAILS.outputs(title_details_frame(title_pages))


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
                "listed_in": raw["listed_in"],
                **details,
                "source": raw["source"],
                "scraped_at": raw["fetched_at"],
            }
        )
    return pl.DataFrame(rows, schema=polars_schema(TitleDetails))
