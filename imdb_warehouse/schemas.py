"""One pandera model per table: its columns, types, checks and the descriptions the UI shows."""

from typing import Any

import dagster as dg
import pandera.polars as pa
import polars as pl

from imdb_warehouse.partitions import GENRES
from imdb_warehouse.resources import storage

TITLE_ID = r"^tt\d{7,9}$"
CURRENCY = r"^[A-Z]{3}$"
SOURCES = ["graphql", "html"]
PEOPLE = pl.List(pl.Struct({"id": pl.String, "name": pl.String}))


def _nullable(description: str, **checks) -> Any:
    return pa.Field(nullable=True, description=description, **checks)


def _listed_in(what: str) -> Any:
    return pa.Field(
        description=f"The genres (slugs) whose lists held {what}: the (day, genre) partitions "
        "this row belongs to"
    )


LISTED_THAT_DAY = "the movie that day"
LISTED_LAST_SEEN = "the movie on last_seen_date"


class TitleFields(pa.DataFrameModel):
    """What search results and title pages both say about a title."""

    title_id: pl.String = pa.Field(str_matches=TITLE_ID, description="IMDb title id, `tt…`")
    title: pl.String = pa.Field(description="Display title (IMDb localises it to the requester)")
    original_title: pl.String = _nullable("Title in its original language")
    title_type: pl.String = _nullable("IMDb title type id: `movie`, …")
    release_year: pl.Int16 = _nullable(
        "Year of release", in_range={"min_value": 1870, "max_value": 2100}
    )
    release_date: pl.Date = _nullable(
        "Release date (in the requester's country when IMDb knows it)"
    )
    runtime_minutes: pl.Int16 = _nullable("Runtime in minutes", ge=0)
    certificate: pl.String = _nullable(
        "Age certificate, e.g. PG-13 (depends on the requester's region)"
    )
    genres: pl.List(pl.String) = pa.Field(description="The title's own IMDb genre names")
    plot: pl.String = _nullable("One-line plot")
    rating: pl.Float64 = _nullable(
        "IMDb user rating, 1–10", in_range={"min_value": 1, "max_value": 10}
    )
    votes: pl.Int64 = _nullable("Number of IMDb user votes behind the rating", ge=0)
    metascore: pl.Int16 = _nullable(
        "Metacritic score, 0–100", in_range={"min_value": 0, "max_value": 100}
    )
    source: pl.String = pa.Field(
        isin=SOURCES, description="Where IMDb sent it: `graphql` (its API) or `html` (its pages)"
    )
    scraped_at: pl.Datetime("us", "UTC") = pa.Field(
        description="When IMDb sent it (UTC): the fetch of the list or details"
    )

    class Config:
        strict = True
        ordered = False


class MovieRankings(TitleFields):
    """staging.movie_rankings: one movie's place in one genre's list on one day."""

    snapshot_date: pl.Date = pa.Field(description="Day of the list: the UTC date of the fetch")
    genre: pl.String = pa.Field(
        isin=GENRES, description="The list's genre, as IMDb's URL slug (`sci-fi`)"
    )
    rank: pl.Int16 = pa.Field(ge=1, description="1-based position in the list")

    class Config:
        strict = True
        unique = ["snapshot_date", "genre", "rank"]


class TitleDetails(TitleFields):
    """staging.title_details: a title's details as read on one day."""

    snapshot_date: pl.Date = pa.Field(description="Day the details were read (UTC)")
    listed_in: pl.List(pl.String) = _listed_in(LISTED_THAT_DAY)
    countries: pl.List(pl.String) = _nullable("Countries of origin")
    languages: pl.List(pl.String) = _nullable("Spoken languages")
    directors: PEOPLE = _nullable("Directors in billing order: {id `nm…`, name}; null when unknown")
    writers: PEOPLE = _nullable("Writers in billing order: {id `nm…`, name}; null when unknown")
    stars: PEOPLE = _nullable("Top-billed stars in order: {id `nm…`, name}; null when unknown")
    budget_amount: pl.Int64 = _nullable("Production budget, whole units of budget_currency", ge=0)
    budget_currency: pl.String = _nullable("ISO currency of the budget", str_matches=CURRENCY)
    gross_worldwide_amount: pl.Int64 = _nullable("Worldwide gross", ge=0)
    gross_worldwide_currency: pl.String = _nullable(
        "Currency of the worldwide gross", str_matches=CURRENCY
    )
    gross_domestic_amount: pl.Int64 = _nullable("US & Canada gross (IMDb's lifetime gross)", ge=0)
    gross_domestic_currency: pl.String = _nullable(
        "Currency of the US & Canada gross", str_matches=CURRENCY
    )
    opening_weekend_amount: pl.Int64 = _nullable("US & Canada opening weekend gross", ge=0)
    opening_weekend_currency: pl.String = _nullable(
        "Currency of the opening weekend gross", str_matches=CURRENCY
    )
    opening_weekend_end_date: pl.Date = _nullable("Last day of the opening weekend")

    class Config:
        strict = True
        unique = ["snapshot_date", "title_id"]


class PageFields(pa.DataFrameModel):
    """Where a raw row's answer came from and where it is kept."""

    source: pl.String = pa.Field(
        isin=SOURCES, description="`graphql` (IMDb's GraphQL API) or `html` (its pages)"
    )
    url: pl.String = pa.Field(description="The URL asked: the GraphQL endpoint, or the page")
    archive_path: pl.String = pa.Field(
        description="The capture this row was loaded from: IMDb's answer as sent, gzipped (with "
        "its request, for GraphQL); `imdb-warehouse parse` reads it"
    )
    sha256: pl.String = pa.Field(
        str_length=64, description="sha256 of IMDb's answer as sent (the page, or the JSON body)"
    )
    fetched_at: pl.Datetime("us", "UTC") = pa.Field(description="When IMDb answered (UTC)")


class RawSearchResults(PageFields):
    """raw.imdb_search_results: one row per result of a genre's list, as IMDb sent it."""

    snapshot_date: pl.Date = pa.Field(description="Day of the list: the UTC date of the fetch")
    genre: pl.String = pa.Field(isin=GENRES, description="The list's genre, as IMDb's URL slug")
    rank: pl.Int16 = pa.Field(ge=1, description="1-based position of the result in the answer")
    title_id: pl.String = pa.Field(str_matches=TITLE_ID, description="IMDb title id, `tt…`")
    item_json: pl.String = pa.Field(
        description="The result as IMDb sent it, as JSON: the `Title` of edge rank - 1 "
        "(graphql), or titleListItems[rank - 1] of the search page (html)"
    )
    total_results: pl.Int32 = pa.Field(ge=0, description="IMDb's count of all matches (`total`)")

    class Config:
        strict = True
        unique = ["snapshot_date", "genre", "rank"]


class RawTitlePages(PageFields):
    """raw.imdb_title_pages: the details of the titles read on a day, as IMDb sent them."""

    snapshot_date: pl.Date = pa.Field(description="Day the details were read (UTC)")
    title_id: pl.String = pa.Field(str_matches=TITLE_ID, description="IMDb title id, `tt…`")
    listed_in: pl.List(pl.String) = _listed_in(LISTED_THAT_DAY)
    available: pl.Boolean = pa.Field(
        description="Whether IMDb gave the title: false for a null title or one with null "
        "fields (graphql), a 404/410 page (html), or a request that failed even for the title "
        "alone (`unavailable_cause`)"
    )
    http_status: pl.Int16 = _nullable(
        "HTTP status of the answer: 200; 404/410 for a removed or merged title's page (html); "
        "413/502/503/504 when IMDb failed even the title alone; null when no answer came",
        isin=[200, 404, 410, 413, 502, 503, 504],
    )
    unavailable_cause: pl.String = _nullable(
        "Why IMDb did not give the title when it failed even asked alone (graphql: `HTTP 504`, "
        "`no answer within 30 s`, …); null otherwise"
    )
    title_json: pl.String = _nullable(
        "The title's details as IMDb sent them, as JSON: the `Title` of the `titles` answer "
        "(graphql), or the page's aboveTheFoldData and mainColumnData (html); null when "
        "unavailable"
    )

    class Config:
        strict = True
        unique = ["snapshot_date", "title_id"]


KEY_COLUMNS = ("snapshot_date", "genre", "rank", "title_id")
TRAILING_COLUMNS = ("source", "url", "archive_path", "sha256", "fetched_at", "scraped_at")


def polars_schema(model: type[pa.DataFrameModel]) -> pl.Schema:
    """The model's columns as a Polars schema, in declaration order; for the staging and raw
    models (built on shared fields), keys first and provenance last."""
    columns = model.to_schema().columns
    declared = [n for cls in reversed(model.__mro__) for n in getattr(cls, "__annotations__", {})]
    order = [n for n in dict.fromkeys(declared) if n in columns]
    if issubclass(model, TitleFields | PageFields):
        edges = (*KEY_COLUMNS, *TRAILING_COLUMNS)
        order = [n for n in KEY_COLUMNS if n in columns] + [n for n in order if n not in edges]
        order += [n for n in TRAILING_COLUMNS if n in columns]
    return pl.Schema({name: columns[name].dtype.type for name in order})


def column_schema(model: type[pa.DataFrameModel]) -> dg.TableSchema:
    """The model as the column schema the Dagster UI shows (Postgres types, descriptions)."""
    columns = model.to_schema().columns
    return storage.column_schema(
        polars_schema(model),
        {name: column.description for name, column in columns.items() if column.description},
        nullable={name for name, column in columns.items() if column.nullable},
    )


# The warehouse: Postgres keeps these tables consistent (primary and foreign keys); the models
# give their types and the descriptions the UI and docs/warehouse.md show.
DATE_KEY = "Day as YYYYMMDD (dim_date)"
MOVIE_KEY = "The number in the IMDb title id: tt0133093 → 133093 (dim_movie)"
PERSON_KEY = "The number in the IMDb name id: nm0000206 → 206 (dim_person)"
GENRE_KEY = "The genre's place in IMDb's genre list (dim_genre)"
LAST_SEEN = "Last day the source of this row was read; an older day never overwrites a newer one"


class DimDate(pa.DataFrameModel):
    """warehouse.dim_date: the calendar, 1870–2100."""

    date_key: pl.Int32 = pa.Field(description=DATE_KEY)
    date: pl.Date = pa.Field(description="The day")
    year: pl.Int16 = pa.Field(description="Calendar year")
    quarter: pl.Int8 = pa.Field(description="Quarter, 1–4")
    month: pl.Int8 = pa.Field(description="Month, 1–12")
    month_name: pl.String = pa.Field(description="Month name, January–December")
    day: pl.Int8 = pa.Field(description="Day of the month")
    iso_year: pl.Int16 = pa.Field(description="ISO 8601 week-numbering year")
    iso_week: pl.Int8 = pa.Field(description="ISO 8601 week, 1–53")
    day_of_week: pl.Int8 = pa.Field(description="ISO day of the week: 1 Monday … 7 Sunday")
    day_name: pl.String = pa.Field(description="Day name, Monday–Sunday")
    is_weekend: pl.Boolean = pa.Field(description="Saturday or Sunday")


class DimGenre(pa.DataFrameModel):
    """warehouse.dim_genre: IMDb's title genres."""

    genre_key: pl.Int16 = pa.Field(description=GENRE_KEY)
    slug: pl.String = pa.Field(
        description="The genre in IMDb's URLs and in the partitions (`sci-fi`)"
    )
    imdb_name: pl.String = pa.Field(description="IMDb's name (`Sci-Fi`)")
    has_daily_list: pl.Boolean = pa.Field(
        description="Whether the project keeps a daily list of it"
    )


class DimMovie(pa.DataFrameModel):
    """warehouse.dim_movie: one row per movie ever listed."""

    movie_key: pl.Int64 = pa.Field(description=MOVIE_KEY)
    title_id: pl.String = pa.Field(description="IMDb title id, `tt…`")
    title: pl.String = pa.Field(description="Display title, as last listed")
    original_title: pl.String = _nullable("Title in its original language")
    title_type: pl.String = _nullable("IMDb title type id: `movie`, …")
    release_year: pl.Int16 = _nullable("Year of release")
    release_date: pl.Date = _nullable("Release date")
    runtime_minutes: pl.Int16 = _nullable("Runtime in minutes")
    certificate: pl.String = _nullable("Age certificate")
    plot: pl.String = _nullable("One-line plot, as last listed")
    countries: pl.List(pl.String) = _nullable("Countries of origin (details)")
    languages: pl.List(pl.String) = _nullable("Spoken languages (details)")
    budget_amount: pl.Int64 = _nullable("Production budget, whole units of budget_currency")
    budget_currency: pl.String = _nullable("ISO currency of the budget")
    first_seen_date: pl.Date = pa.Field(description="First day the movie was in a list")
    last_seen_date: pl.Date = pa.Field(description="Last day the movie was in a list")
    listed_in: pl.List(pl.String) = _listed_in(LISTED_LAST_SEEN)
    details_scraped_at: pl.Datetime("us", "UTC") = _nullable(
        "When the details behind countries, languages and budget were read (null: never)"
    )


class DimPerson(pa.DataFrameModel):
    """warehouse.dim_person: one row per person credited in the details read."""

    person_key: pl.Int64 = pa.Field(description=PERSON_KEY)
    person_id: pl.String = pa.Field(description="IMDb name id, `nm…`")
    name: pl.String = pa.Field(description="Name, as last read")
    last_seen_date: pl.Date = pa.Field(description=LAST_SEEN)
    listed_in: pl.List(pl.String) = _listed_in("one of their movies on last_seen_date")


class BridgeMoviePerson(pa.DataFrameModel):
    """warehouse.bridge_movie_person: directors, writers and stars of each movie."""

    movie_key: pl.Int64 = pa.Field(description=MOVIE_KEY)
    person_key: pl.Int64 = pa.Field(description=PERSON_KEY)
    role: pl.String = pa.Field(description="`director`, `writer` or `star`")
    billing_order: pl.Int16 = pa.Field(description="1-based position in the role's credits")
    last_seen_date: pl.Date = pa.Field(description="Last day IMDb's details showed this credit")
    listed_in: pl.List(pl.String) = _listed_in(LISTED_LAST_SEEN)


class BridgeMovieGenre(pa.DataFrameModel):
    """warehouse.bridge_movie_genre: each movie's own IMDb genres."""

    movie_key: pl.Int64 = pa.Field(description=MOVIE_KEY)
    genre_key: pl.Int16 = pa.Field(description=GENRE_KEY)
    last_seen_date: pl.Date = pa.Field(
        description="Last day a list showed the movie with this genre"
    )
    listed_in: pl.List(pl.String) = _listed_in(LISTED_LAST_SEEN)


class FactMovieRanking(pa.DataFrameModel):
    """warehouse.fact_movie_ranking: one movie's place in one genre's list on one day."""

    date_key: pl.Int32 = pa.Field(description=DATE_KEY)
    genre_key: pl.Int16 = pa.Field(description=GENRE_KEY)
    movie_key: pl.Int64 = pa.Field(description=MOVIE_KEY)
    snapshot_date: pl.Date = pa.Field(description="The day of the list")
    genre: pl.String = pa.Field(description="The list's genre slug")
    rank: pl.Int16 = pa.Field(description="1-based place in the list")
    rating: pl.Float64 = _nullable("IMDb user rating, 1–10, that day")
    votes: pl.Int64 = _nullable("IMDb user votes that day")
    metascore: pl.Int16 = _nullable("Metacritic score that day")


class FactBoxOffice(pa.DataFrameModel):
    """warehouse.fact_box_office: a movie's gross as IMDb showed it on one day."""

    date_key: pl.Int32 = pa.Field(description=DATE_KEY)
    movie_key: pl.Int64 = pa.Field(description=MOVIE_KEY)
    snapshot_date: pl.Date = pa.Field(description="The day the movie's details were read")
    listed_in: pl.List(pl.String) = _listed_in(LISTED_THAT_DAY)
    gross_worldwide_amount: pl.Int64 = _nullable("Worldwide gross")
    gross_worldwide_currency: pl.String = _nullable("Its currency")
    gross_domestic_amount: pl.Int64 = _nullable("US & Canada gross")
    gross_domestic_currency: pl.String = _nullable("Its currency")
    opening_weekend_amount: pl.Int64 = _nullable("US & Canada opening weekend gross")
    opening_weekend_currency: pl.String = _nullable("Its currency")
    opening_weekend_end_date: pl.Date = _nullable("Last day of the opening weekend")


CHART_STATUSES = ["NEW", "RE", "UP", "DOWN", "SAME"]
ON_THIS_LIST = "this genre's list"


class FactChartStats(pa.DataFrameModel):
    """warehouse.fact_chart_stats: one movie's place in one genre's list on one day, with its
    history on that list up to that day."""

    date_key: pl.Int32 = pa.Field(description=DATE_KEY)
    genre_key: pl.Int16 = pa.Field(description=GENRE_KEY)
    movie_key: pl.Int64 = pa.Field(description=MOVIE_KEY)
    snapshot_date: pl.Date = pa.Field(description="The day of the list")
    genre: pl.String = pa.Field(description="The list's genre slug")
    rank: pl.Int16 = pa.Field(ge=1, description="1-based place in the list that day")
    points: pl.Int16 = pa.Field(
        ge=1, description="51 − rank: 50 for the first place, 1 for the fiftieth"
    )
    status: pl.String = pa.Field(
        isin=CHART_STATUSES,
        description="`NEW`: its first day ever on this list; `RE`: back after an absence; "
        "`UP`, `DOWN`, `SAME`: its move since the list's previous snapshot",
    )
    status_change: pl.Int16 = _nullable(
        "Places moved, the n of `UP n` or `DOWN n`; null for `NEW`, `RE` and `SAME`", ge=1
    )
    previous_snapshot_date: pl.Date = _nullable(
        "The list's previous snapshot, whatever the gap (a day the list was not read is "
        "skipped); null on the list's first"
    )
    previous_rank: pl.Int16 = _nullable("Its rank in that snapshot; null when it was not in it")
    first_seen_date: pl.Date = pa.Field(description=f"Its first day on {ON_THIS_LIST}")
    days_on_list: pl.Int32 = pa.Field(
        ge=1, description=f"Snapshots of {ON_THIS_LIST} that held it, up to this day"
    )
    current_run: pl.Int32 = pa.Field(
        ge=1,
        description="Consecutive snapshots of the list holding it, ending this day (a day the "
        "list was not read does not break a run; a snapshot without it does)",
    )
    longest_run: pl.Int32 = pa.Field(ge=1, description="Its longest run up to this day")
    runs: pl.Int32 = pa.Field(
        ge=1, description="Its runs on the list up to this day: 1, plus 1 for every re-entry"
    )
    peak_rank: pl.Int16 = pa.Field(ge=1, description="Its best rank on the list up to this day")
    peak_date: pl.Date = pa.Field(description="The first day it held peak_rank")
