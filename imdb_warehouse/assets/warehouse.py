"""Warehouse layer: the star schema analysts query.

Keys need no lookups: movie_key and person_key are the numbers in the `tt…` / `nm…` ids,
genre_key is the genre's place in IMDb's genre list, date_key is YYYYMMDD. Dimensions and
bridges are daily partitions upserted on their keys (an older day never overwrites a newer
one); facts replace their partitions. Postgres enforces every primary and foreign key.
"""

from datetime import date

import dagster as dg
import polars as pl

from imdb_warehouse.assets.keys import (
    BRIDGE_MOVIE_GENRE,
    BRIDGE_MOVIE_PERSON,
    DIM_DATE,
    DIM_GENRE,
    DIM_MOVIE,
    DIM_PERSON,
    FACT_BOX_OFFICE,
    FACT_MOVIE_RANKING,
    MOVIE_RANKINGS,
    OWNERS,
    TITLE_DETAILS,
)
from imdb_warehouse.checks import warehouse_check_results, warehouse_check_specs
from imdb_warehouse.imdb.genres import GENRE_BY_SLUG, IMDB_GENRES, MOVIE_GENRES
from imdb_warehouse.partitions import day_partitions, partition_days
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
    table_metadata,
)

CALENDAR = (date(1870, 1, 1), date(2100, 12, 31))
GENRE_KEYS = {name: key for key, name in enumerate(IMDB_GENRES, start=1)}
ROLES = ("director", "writer", "star")
DAILY_UPSERT = {
    "write_mode": "upsert",
    "newer_wins": "last_seen_date",
    "partition_expr": "last_seen_date",
}
COMMON = {"group_name": "warehouse", "kinds": {"polars", "postgres"}, "owners": OWNERS}
MOVIE_PERSON_KEYS = {"movie_key": "warehouse.dim_movie", "person_key": "warehouse.dim_person"}
MOVIE_GENRE_KEYS = {"movie_key": "warehouse.dim_movie", "genre_key": "warehouse.dim_genre"}
RANKING_KEYS = {
    "date_key": "warehouse.dim_date",
    "genre_key": "warehouse.dim_genre",
    "movie_key": "warehouse.dim_movie",
}
BOX_OFFICE_KEYS = {"date_key": "warehouse.dim_date", "movie_key": "warehouse.dim_movie"}


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
    """One row per title of the day: what the last page read said of it."""
    return rankings.sort("scraped_at", "genre", descending=[True, False]).unique(
        "title_id", keep="first", maintain_order=True
    )


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
    """(title_id, role, billing_order, person_id, name) of every credit on the pages read."""
    parts = [
        details.select("title_id", pl.col(f"{role}s").alias("person"))
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
    people = _credits(details.filter(pl.col("snapshot_date") == day)).unique(
        "person_id", keep="first"
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
        .select("title_id", imdb_name="genres")
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


@dg.asset(
    key=DIM_DATE,
    **COMMON,
    metadata=table_metadata(
        DIM_DATE, DimDate, primary_key="date_key", write_mode="upsert", indexes=[["date"]]
    ),
)
def dim_date() -> pl.DataFrame:
    """The calendar, 1870–2100: one row per day, keyed YYYYMMDD, with its year, quarter,
    month, ISO week, day of week and weekend flag."""
    return dim_date_frame()


@dg.asset(
    key=DIM_GENRE,
    **COMMON,
    metadata=table_metadata(DIM_GENRE, DimGenre, primary_key="genre_key", write_mode="upsert"),
)
def dim_genre() -> pl.DataFrame:
    """IMDb's title genres: the 22 with a daily list, and the others movies can carry."""
    return dim_genre_frame()


@dg.asset(
    key=DIM_MOVIE,
    partitions_def=day_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    **COMMON,
    ins={
        "movie_rankings": dg.AssetIn(key=MOVIE_RANKINGS),
        "title_details": dg.AssetIn(key=TITLE_DETAILS),
    },
    metadata=table_metadata(
        DIM_MOVIE,
        DimMovie,
        primary_key="movie_key",
        **DAILY_UPSERT,
        upsert_merge={
            "first_seen_date": "least",
            **dict.fromkeys(
                [
                    "countries",
                    "languages",
                    "budget_amount",
                    "budget_currency",
                    "details_scraped_at",
                ],
                "coalesce",
            ),
        },
    ),
)
def dim_movie(
    context: dg.AssetExecutionContext, movie_rankings: pl.DataFrame, title_details: pl.DataFrame
):
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


@dg.asset(
    key=DIM_PERSON,
    partitions_def=day_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    **COMMON,
    ins={"title_details": dg.AssetIn(key=TITLE_DETAILS)},
    metadata=table_metadata(DIM_PERSON, DimPerson, primary_key="person_key", **DAILY_UPSERT),
)
def dim_person(context: dg.AssetExecutionContext, title_details: pl.DataFrame):
    """One row per person credited in the details read: IMDb id and name (as last read)."""
    return _newest_per_key(
        [dim_person_frame(title_details, day) for day in partition_days(context)], "person_key"
    )


@dg.asset(
    key=BRIDGE_MOVIE_PERSON,
    partitions_def=day_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    **COMMON,
    ins={"title_details": dg.AssetIn(key=TITLE_DETAILS)},
    deps=[DIM_MOVIE, DIM_PERSON],
    metadata=table_metadata(
        BRIDGE_MOVIE_PERSON,
        BridgeMoviePerson,
        primary_key=["movie_key", "person_key", "role"],
        **DAILY_UPSERT,
        foreign_keys=MOVIE_PERSON_KEYS,
        indexes=[["person_key"]],
    ),
    check_specs=warehouse_check_specs(BRIDGE_MOVIE_PERSON),
)
def bridge_movie_person(
    context: dg.AssetExecutionContext, postgres: PostgresResource, title_details: pl.DataFrame
):
    """Who made each movie: director, writer or star, in billing order. A credit IMDb later
    drops stays, with the last day IMDb's details showed it (last_seen_date)."""
    frames = [bridge_movie_person_frame(title_details, day) for day in partition_days(context)]
    yield dg.Output(_newest_per_key(frames, ["movie_key", "person_key", "role"]))
    yield from warehouse_check_results(
        postgres, BRIDGE_MOVIE_PERSON, "last_seen_date", partition_days(context), MOVIE_PERSON_KEYS
    )


@dg.asset(
    key=BRIDGE_MOVIE_GENRE,
    partitions_def=day_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    **COMMON,
    ins={"movie_rankings": dg.AssetIn(key=MOVIE_RANKINGS)},
    deps=[DIM_MOVIE, DIM_GENRE],
    metadata=table_metadata(
        BRIDGE_MOVIE_GENRE,
        BridgeMovieGenre,
        primary_key=["movie_key", "genre_key"],
        **DAILY_UPSERT,
        foreign_keys=MOVIE_GENRE_KEYS,
        indexes=[["genre_key"]],
    ),
    check_specs=warehouse_check_specs(BRIDGE_MOVIE_GENRE),
)
def bridge_movie_genre(
    context: dg.AssetExecutionContext, postgres: PostgresResource, movie_rankings: pl.DataFrame
):
    """Each movie's own IMDb genres (not only the lists it is in)."""
    frames = [bridge_movie_genre_frame(movie_rankings, day) for day in partition_days(context)]
    yield dg.Output(_newest_per_key(frames, ["movie_key", "genre_key"]))
    yield from warehouse_check_results(
        postgres, BRIDGE_MOVIE_GENRE, "last_seen_date", partition_days(context), MOVIE_GENRE_KEYS
    )


@dg.asset(
    key=FACT_MOVIE_RANKING,
    partitions_def=day_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    **COMMON,
    ins={"movie_rankings": dg.AssetIn(key=MOVIE_RANKINGS)},
    deps=[DIM_MOVIE, DIM_DATE, DIM_GENRE],
    metadata=table_metadata(
        FACT_MOVIE_RANKING,
        FactMovieRanking,
        primary_key=["date_key", "genre_key", "movie_key"],
        partition_expr="snapshot_date",
        replace_within=["genre"],
        foreign_keys=RANKING_KEYS,
        indexes=[["movie_key", "snapshot_date"]],
    ),
    check_specs=warehouse_check_specs(FACT_MOVIE_RANKING, ranking_fact=True),
)
def fact_movie_ranking(
    context: dg.AssetExecutionContext, postgres: PostgresResource, movie_rankings: pl.DataFrame
):
    """The grain: one movie's place in one genre's list on one day, with the rating, votes
    and metascore IMDb showed there."""
    yield dg.Output(fact_movie_ranking_frame(movie_rankings))
    yield from warehouse_check_results(
        postgres,
        FACT_MOVIE_RANKING,
        "snapshot_date",
        partition_days(context),
        RANKING_KEYS,
        ranking_fact=True,
    )


@dg.asset(
    key=FACT_BOX_OFFICE,
    partitions_def=day_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    **COMMON,
    ins={"title_details": dg.AssetIn(key=TITLE_DETAILS)},
    deps=[DIM_MOVIE, DIM_DATE],
    metadata=table_metadata(
        FACT_BOX_OFFICE,
        FactBoxOffice,
        primary_key=["date_key", "movie_key"],
        partition_expr="snapshot_date",
        foreign_keys=BOX_OFFICE_KEYS,
        indexes=[["movie_key", "snapshot_date"]],
    ),
    check_specs=warehouse_check_specs(FACT_BOX_OFFICE),
)
def fact_box_office(
    context: dg.AssetExecutionContext, postgres: PostgresResource, title_details: pl.DataFrame
):
    """Box office of each movie whose details were read that day (every listed movie, on the
    graphql source): worldwide, US & Canada and opening-weekend gross with their currencies,
    so a movie's gross can be followed day by day."""
    yield dg.Output(fact_box_office_frame(title_details))
    yield from warehouse_check_results(
        postgres,
        FACT_BOX_OFFICE,
        "snapshot_date",
        partition_days(context),
        BOX_OFFICE_KEYS,
    )
