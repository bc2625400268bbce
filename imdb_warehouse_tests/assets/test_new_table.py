"""A new warehouse table is its model, one declaration and its frame function: the rest (the
asset's arguments, storage, foreign keys, lineage, SQL checks) follows from the declaration."""

import dagster as dg
import pandera.polars as pa
import polars as pl

from imdb_warehouse import tables
from imdb_warehouse.assets.checks import table_checks
from imdb_warehouse.resources.storage import Storage
from imdb_warehouse_tests.helpers import (
    REPLAY_DAY,
    materialize,
    materialize_day,
    pipeline_resources,
    replay_client,
)


class FactMovieVotes(pa.DataFrameModel):
    """warehouse.fact_movie_votes: a movie's most votes across its lists of a day."""

    date_key: pl.Int32 = pa.Field(description="Day as YYYYMMDD (dim_date)")
    movie_key: pl.Int64 = pa.Field(description="The number in the IMDb title id (dim_movie)")
    snapshot_date: pl.Date = pa.Field(description="The day of the lists")
    listed_in: pl.List(pl.String) = pa.Field(description="The genres whose lists held it")
    votes: pl.Int64 = pa.Field(nullable=True, description="Most IMDb user votes shown that day")


FACT_MOVIE_VOTES = tables.Table(
    dg.AssetKey(["warehouse", "fact_movie_votes"]),
    FactMovieVotes,
    Storage(primary_key=["date_key", "movie_key"], partition_expr=tables.LISTED_TITLES),
    reads={"movie_rankings": tables.MOVIE_RANKINGS},
    references={"date_key": tables.DIM_DATE, "movie_key": tables.DIM_MOVIE},
    lineage={
        "date_key": [tables.MOVIE_RANKINGS.col("snapshot_date")],
        "movie_key": [tables.MOVIE_RANKINGS.col("title_id")],
        "listed_in": [tables.MOVIE_RANKINGS.col("genre")],
    },
)


@FACT_MOVIE_VOTES.asset
def fact_movie_votes(movie_rankings: pl.DataFrame) -> pl.DataFrame:
    """The most votes each listed movie showed on a day."""
    return (
        movie_rankings.group_by("snapshot_date", "title_id")
        .agg(pl.max("votes"), listed_in=pl.col("genre").unique().sort())
        .select(
            date_key=pl.col("snapshot_date").dt.strftime("%Y%m%d").cast(pl.Int32),
            movie_key=pl.col("title_id").str.slice(2).cast(pl.Int64),
            snapshot_date="snapshot_date",
            listed_in="listed_in",
            votes="votes",
        )
    )


def test_a_new_table_is_a_declaration_and_its_frame(database_url, tmp_path, replay, sql):
    resources = pipeline_resources(database_url, replay_client(replay, REPLAY_DAY), tmp_path)
    instance = dg.DagsterInstance.ephemeral()
    assert materialize_day(resources, REPLAY_DAY, ["action"], instance=instance).success

    from imdb_warehouse.assets import raw, staging, warehouse

    result = materialize(
        [
            *dg.load_assets_from_modules([raw, staging, warehouse]),
            fact_movie_votes,
            table_checks(FACT_MOVIE_VOTES),
        ],
        selection=dg.AssetSelection.assets(FACT_MOVIE_VOTES.key),
        resources=resources,
        day=REPLAY_DAY,
        genres=["action"],
        instance=instance,
    )
    assert result.success
    # its storage: the table, its key, its foreign keys to the dimensions it references
    assert sql("SELECT count(*) FROM warehouse.fact_movie_votes") == [(50,)]
    assert sql(
        "SELECT conname FROM pg_constraint WHERE conrelid = 'warehouse.fact_movie_votes'::regclass "
        "AND contype IN ('p', 'f') ORDER BY conname"
    ) == [
        ("fact_movie_votes_pkey",),
        ("fk_fact_movie_votes_date_key",),
        ("fk_fact_movie_votes_movie_key",),
    ]
    # its referential check, run with it
    [check] = result.get_asset_check_evaluations()
    assert check.check_name == "referential_integrity" and check.passed
    # its catalogue entry and lineage, from the declaration
    node = fact_movie_votes.specs_by_key[FACT_MOVIE_VOTES.key]
    assert {d.asset_key for d in node.deps} == {
        tables.MOVIE_RANKINGS.key,
        tables.DIM_DATE.key,
        tables.DIM_MOVIE.key,
    }
    lineage = node.metadata["dagster/column_lineage"].deps_by_column
    assert set(lineage) == {"date_key", "movie_key", "snapshot_date", "listed_in", "votes"}
    assert lineage["votes"] == [tables.MOVIE_RANKINGS.col("votes")]
    assert node.group_name == "warehouse" and node.owners == tables.OWNERS
    [materialization] = [
        e.materialization
        for e in result.get_asset_materialization_events()
        if e.asset_key == FACT_MOVIE_VOTES.key
    ]
    assert materialization.metadata["dagster/column_lineage"].value.deps_by_column == lineage
    assert "| votes | staging/movie_rankings.votes |" in (
        materialization.metadata["column_sources"].value
    )
