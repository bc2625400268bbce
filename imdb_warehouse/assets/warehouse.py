"""Warehouse layer: the star schema analysts query.

Keys need no lookups: movie_key and person_key are the numbers in the `tt…` / `nm…` ids,
genre_key is the genre's place in IMDb's genre list, date_key is YYYYMMDD. Every table of a
day is partitioned by day × genre: a partition holds what that genre's list brought that day
(`listed_in` names the lists behind a row of a movie, or of a person's movies). Dimensions and
bridges are upserted on their keys (an older day never overwrites a newer one); facts replace
their partitions. Postgres enforces every primary and foreign key.
"""

from datetime import date

import dagster as dg
import polars as pl

from imdb_warehouse import tables
from imdb_warehouse.charts import update_chart_stats
from imdb_warehouse.imdb.genres import GENRE_BY_SLUG, IMDB_GENRES, MOVIE_GENRES
from imdb_warehouse.partitions import partition_days, partition_key, run_lists
from imdb_warehouse.resources import PostgresResource
from imdb_warehouse.schemas import (
    BridgeMovieGenre,
    BridgeMoviePerson,
    DimDate,
    DimGenre,
    DimMovie,
    DimPerson,
    FactBoxOffice,
    FactMovieRanking,
    polars_schema,
)

CALENDAR = (date(1870, 1, 1), date(2100, 12, 31))
GENRE_KEYS = {name: key for key, name in enumerate(IMDB_GENRES, start=1)}
ROLES = ("director", "writer", "star")


def _key(id_column: str) -> pl.Expr:
    """The number in an IMDb id: `tt0133093` → 133093."""
    return pl.col(id_column).str.slice(2).cast(pl.Int64)


def _date_key(column: str) -> pl.Expr:
    return pl.col(column).dt.strftime("%Y%m%d").cast(pl.Int32)


def _typed(frame: pl.DataFrame, model) -> pl.DataFrame:
    schema = polars_schema(model)
    return frame.select([pl.col(name).cast(dtype) for name, dtype in schema.items()])


def dim_date_frame() -> pl.DataFrame:
    days = pl.date_range(*CALENDAR, eager=True).alias("date").to_frame()
    return _typed(
        days.with_columns(
            date_key=_date_key("date"),
            year=pl.col("date").dt.year(),
            quarter=pl.col("date").dt.quarter(),
            month=pl.col("date").dt.month(),
            month_name=pl.col("date").dt.strftime("%B"),
            day=pl.col("date").dt.day(),
            iso_year=pl.col("date").dt.iso_year(),
            iso_week=pl.col("date").dt.week(),
            day_of_week=pl.col("date").dt.weekday(),
            day_name=pl.col("date").dt.strftime("%A"),
            is_weekend=pl.col("date").dt.weekday() >= 6,
        ),
        DimDate,
    )


def dim_genre_frame() -> pl.DataFrame:
    return _typed(
        pl.DataFrame(
            {
                "genre_key": list(GENRE_KEYS.values()),
                "slug": [name.lower() for name in GENRE_KEYS],
                "imdb_name": list(GENRE_KEYS),
                "has_daily_list": [name in MOVIE_GENRES for name in GENRE_KEYS],
            }
        ),
        DimGenre,
    )


def _latest_listing(rankings: pl.DataFrame) -> pl.DataFrame:
    """One row per title of the day: what the last page read said of it, and the genres whose
    lists held it (`listed_in`)."""
    latest = rankings.sort("scraped_at", "genre", descending=[True, False]).unique(
        "title_id", keep="first", maintain_order=True
    )
    listed = rankings.group_by("title_id").agg(listed_in=pl.col("genre").unique().sort())
    return latest.join(listed, on="title_id")


def dim_movie_frame(rankings: pl.DataFrame, details: pl.DataFrame, day: date) -> pl.DataFrame:
    """The movies listed on `day`, with the details read that day.

    Details not read that day are null here and keep their stored values (upsert_merge).
    """
    movies = _latest_listing(rankings.filter(pl.col("snapshot_date") == day))
    read = details.filter(pl.col("snapshot_date") == day).select(
        "title_id",
        "countries",
        "languages",
        "budget_amount",
        "budget_currency",
        details_scraped_at="scraped_at",
    )
    return _typed(
        movies.join(read, on="title_id", how="left").with_columns(
            movie_key=_key("title_id"),
            first_seen_date=pl.lit(day),
            last_seen_date=pl.lit(day),
        ),
        DimMovie,
    )


def _credits(details: pl.DataFrame) -> pl.DataFrame:
    """(title_id, listed_in, role, billing_order, person_id, name) of every credit on the pages
    read."""
    parts = [
        details.select("title_id", "listed_in", pl.col(f"{role}s").alias("person"))
        .explode("person")
        .drop_nulls("person")
        .with_columns(
            role=pl.lit(role),
            billing_order=pl.int_range(1, pl.len() + 1).over("title_id").cast(pl.Int16),
        )
        for role in ROLES
    ]
    return pl.concat(parts).unnest("person").rename({"id": "person_id"})


def dim_person_frame(details: pl.DataFrame, day: date) -> pl.DataFrame:
    credits = _credits(details.filter(pl.col("snapshot_date") == day))
    listed = credits.group_by("person_id").agg(
        listed_in=pl.col("listed_in").list.explode().unique().sort()
    )
    people = (
        credits.drop("listed_in").unique("person_id", keep="first").join(listed, on="person_id")
    )
    return _typed(
        people.with_columns(person_key=_key("person_id"), last_seen_date=pl.lit(day)), DimPerson
    )


def bridge_movie_person_frame(details: pl.DataFrame, day: date) -> pl.DataFrame:
    credits = _credits(details.filter(pl.col("snapshot_date") == day))
    credits = credits.sort("billing_order").unique(["title_id", "person_id", "role"], keep="first")
    return _typed(
        credits.with_columns(
            movie_key=_key("title_id"), person_key=_key("person_id"), last_seen_date=pl.lit(day)
        ),
        BridgeMoviePerson,
    )


def bridge_movie_genre_frame(rankings: pl.DataFrame, day: date) -> pl.DataFrame:
    genres = (
        _latest_listing(rankings.filter(pl.col("snapshot_date") == day))
        .select("title_id", "listed_in", imdb_name="genres")
        .explode("imdb_name")
        .drop_nulls("imdb_name")
    )
    unknown = sorted(set(genres["imdb_name"]) - set(GENRE_KEYS))
    if unknown:
        raise dg.Failure(
            f"IMDb lists genres this project does not know: {unknown}. Add them to IMDB_GENRES "
            "in imdb_warehouse/imdb/genres.py (dim_genre then gains them) and run the day again"
        )
    return _typed(
        genres.unique().with_columns(
            movie_key=_key("title_id"),
            genre_key=pl.col("imdb_name").replace_strict(GENRE_KEYS, return_dtype=pl.Int16),
            last_seen_date=pl.lit(day),
        ),
        BridgeMovieGenre,
    )


def fact_movie_ranking_frame(rankings: pl.DataFrame) -> pl.DataFrame:
    return _typed(
        rankings.with_columns(
            date_key=_date_key("snapshot_date"),
            genre_key=pl.col("genre").replace_strict(
                {slug: GENRE_KEYS[name] for slug, name in GENRE_BY_SLUG.items()},
                return_dtype=pl.Int16,
            ),
            movie_key=_key("title_id"),
        ),
        FactMovieRanking,
    )


def fact_box_office_frame(details: pl.DataFrame) -> pl.DataFrame:
    return _typed(
        details.with_columns(date_key=_date_key("snapshot_date"), movie_key=_key("title_id")),
        FactBoxOffice,
    )


@tables.DIM_DATE.asset
def dim_date() -> pl.DataFrame:
    """The calendar, 1870–2100: one row per day, keyed YYYYMMDD, with its year, quarter,
    month, ISO week, day of week and weekend flag."""
    return dim_date_frame()


@tables.DIM_GENRE.asset
def dim_genre() -> pl.DataFrame:
    """IMDb's title genres: the 22 with a daily list, and the others movies can carry."""
    return dim_genre_frame()


@tables.DIM_MOVIE.asset
def dim_movie(
    context: dg.AssetExecutionContext, movie_rankings: pl.DataFrame, title_details: pl.DataFrame
) -> pl.DataFrame:
    """One row per movie ever listed: titles, type, year, release date, runtime, certificate,
    plot (as last listed), countries, languages and budget (as last read in its details),
    and the first and last day it was in a list."""
    frames = [
        dim_movie_frame(movie_rankings, title_details, day) for day in partition_days(context)
    ]
    return _newest_per_key(frames, "movie_key")


def _newest_per_key(frames: list[pl.DataFrame], key: str | list[str]) -> pl.DataFrame:
    """Several days in one run: the upsert takes one row per key, the newest."""
    if len(frames) == 1:
        return frames[0]
    merged = pl.concat(frames).sort("last_seen_date", descending=True)
    newest = merged.unique(key, keep="first", maintain_order=True)
    if "first_seen_date" in merged.columns:
        first = merged.group_by(key).agg(pl.min("first_seen_date"))
        newest = newest.drop("first_seen_date").join(first, on=key).select(merged.columns)
    return newest


@tables.DIM_PERSON.asset
def dim_person(context: dg.AssetExecutionContext, title_details: pl.DataFrame) -> pl.DataFrame:
    """One row per person credited in the details read: IMDb id and name (as last read)."""
    return _newest_per_key(
        [dim_person_frame(title_details, day) for day in partition_days(context)], "person_key"
    )


@tables.BRIDGE_MOVIE_PERSON.asset
def bridge_movie_person(
    context: dg.AssetExecutionContext, title_details: pl.DataFrame
) -> pl.DataFrame:
    """Who made each movie: director, writer or star, in billing order. A credit IMDb later
    drops stays, with the last day IMDb's details showed it (last_seen_date)."""
    frames = [bridge_movie_person_frame(title_details, day) for day in partition_days(context)]
    return _newest_per_key(frames, ["movie_key", "person_key", "role"])


@tables.BRIDGE_MOVIE_GENRE.asset
def bridge_movie_genre(
    context: dg.AssetExecutionContext, movie_rankings: pl.DataFrame
) -> pl.DataFrame:
    """Each movie's own IMDb genres (not only the lists it is in)."""
    frames = [bridge_movie_genre_frame(movie_rankings, day) for day in partition_days(context)]
    return _newest_per_key(frames, ["movie_key", "genre_key"])


@tables.FACT_MOVIE_RANKING.asset
def fact_movie_ranking(movie_rankings: pl.DataFrame) -> pl.DataFrame:
    """The grain: one movie's place in one genre's list on one day, with the rating, votes
    and metascore IMDb showed there."""
    return fact_movie_ranking_frame(movie_rankings)


@tables.FACT_BOX_OFFICE.asset
def fact_box_office(title_details: pl.DataFrame) -> pl.DataFrame:
    """Box office of each movie whose details were read that day (every listed movie, on the
    graphql source): worldwide, US & Canada and opening-weekend gross with their currencies,
    so a movie's gross can be followed day by day."""
    return fact_box_office_frame(title_details)


@tables.FACT_CHART_STATS.asset
def fact_chart_stats(
    context: dg.AssetExecutionContext, postgres: PostgresResource
) -> dg.MaterializeResult:
    """Each listed movie's history on each genre's list, up to each day: its status against
    the list's previous snapshot (NEW, RE, UP n, DOWN n, SAME), days on the list, current and
    longest run, runs, peak and the first day at it, and its points (51 − rank).

    Kept incrementally (imdb_warehouse/charts.py): a partition (D, g) reads each movie's latest
    statistics before D, not the whole history. A past day rebuilt changes the later days of
    its genre, so the partition (D, g) recomputes D and every later snapshot of g held, in the
    same transaction, and writes the days whose statistics changed. Those later days lie
    outside the run's partitions, where the IO manager refuses to write: this asset writes its
    table itself, with the IO manager's writer (`write_frame`: the same table, keys, indexes
    and column types), under the table's lock from the read of the state to the write."""
    update = update_chart_stats(postgres, run_lists(context))
    # the columns are the definition's (no frame of its own to describe): small entries only,
    # on every partition's materialization, and each partition's own row count
    for (day, genre), rows in update.rows.items():
        context.add_asset_metadata(
            {"dagster/row_count": rows}, partition_key=partition_key(day, genre)
        )
    return dg.MaterializeResult(
        metadata={
            "dagster/table_name": tables.FACT_CHART_STATS.table_name,
            "days_recomputed": len(update.days),
            "first_day_recomputed": str(update.days[0]),
            "days_written": len(update.written),
        }
    )
