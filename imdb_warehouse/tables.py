"""Every table, declared once: its key, model, storage, inputs, references and column lineage.

A `Table` derives what its asset's decorator needs (`Table.asset`): key, layer group, kinds,
owners, partitions, inputs, dependencies, the catalogue metadata (table name, column schema
from the pandera model, storage keys, `dagster/column_lineage`) and its check specs. The SQL
checks of the tables with references are standalone asset checks built from the same
declarations (imdb_warehouse/assets/checks.py). Postgres schema = the key's first element.

Column lineage: a column comes from the same-named column of the first table it reads that has
one, unless `lineage` says otherwise; a staging column also names the IMDb field it is read
from, as a column of the source assets `imdb/graphql_api` and `imdb/html_pages`
(imdb_warehouse/imdb/lineage.py holds the paths).
"""

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace

import dagster as dg
import pandera.polars as pa
import polars as pl

from imdb_warehouse import schemas
from imdb_warehouse.checks import (
    CHART_MATCHES_LISTS,
    COMPLETE_LISTS,
    FRESH_DETAILS,
    RANKS,
    RANKS_WITHOUT_GAPS,
    RATINGS,
    REFERENTIAL,
    TITLES_AVAILABLE,
    VOTES,
    WarnCheck,
    schema_check_spec,
    validated,
    warn_result,
)
from imdb_warehouse.imdb.lineage import DETAILS_SOURCES, LISTED_TITLE_SOURCES, ImdbField
from imdb_warehouse.partitions import BACKFILL_POLICY, DAY, GENRE, day_genre_partitions
from imdb_warehouse.resources.imdb_client import IMDB_POOL
from imdb_warehouse.resources.storage import Storage

OWNERS = ["team:data-platform"]
IMDB_GRAPHQL = dg.AssetKey(["imdb", "graphql_api"])
IMDB_HTML = dg.AssetKey(["imdb", "html_pages"])


@dataclass(frozen=True, eq=False)  # a table is itself: compared and hashed by identity
class Table:
    """One table of the warehouse and the asset that writes it."""

    key: dg.AssetKey
    model: type[pa.DataFrameModel]
    storage: Storage
    reads: Mapping[str, "Table"] = field(default_factory=dict)  # input name → table read
    references: Mapping[str, "Table"] = field(default_factory=dict)  # column → dimension
    lineage: Mapping[str, Sequence[dg.TableColumnDep]] = field(default_factory=dict)
    partitioned: bool = True
    schema_check: bool = False  # validate the frame against the model before it is written
    warn_checks: Sequence[WarnCheck] = ()  # WARN checks of the frame, run in the asset
    sql_checks: Sequence[str] = ()  # checks of the written days beyond referential integrity
    pool: str | None = None
    sources: Sequence[dg.AssetKey] = ()  # what it reads outside the warehouse (IMDb)
    # the asset writes its table itself, through the `postgres` resource, and returns a
    # MaterializeResult: its `reads` are read there too (dependencies, not inputs)
    writes_itself: bool = False

    def __post_init__(self) -> None:
        unknown = [c for c in [*self.references, *self.lineage] if c not in self.columns]
        if unknown:
            raise ValueError(f"{self.name}: {unknown} are not columns of {self.model.__name__}")

    @property
    def name(self) -> str:
        return self.key.to_user_string()

    @property
    def table_name(self) -> str:
        return f"{self.key.path[0]}.{self.key.path[-1]}"

    @property
    def day_column(self) -> str:
        """The column of the day dimension (a partitioned table's)."""
        partition_expr = self.storage.partition_expr
        assert isinstance(partition_expr, Mapping), f"{self.name} is not partitioned by day"
        return partition_expr[DAY]

    @property
    def columns(self) -> list[str]:
        return list(schemas.polars_schema(self.model))

    def col(self, name: str) -> dg.TableColumnDep:
        """This table's column `name`, as a lineage source (a typo fails at import)."""
        if name not in self.columns:
            raise ValueError(f"{self.name} has no column {name!r}")
        return dg.TableColumnDep(asset_key=self.key, column_name=name)

    @property
    def stored(self) -> Storage:
        """The storage, with a foreign key for each reference."""
        return replace(
            self.storage,
            foreign_keys={c: table.table_name for c, table in self.references.items()},
        )

    def column_lineage(self) -> dict[str, list[dg.TableColumnDep]]:
        """Each column's sources: `lineage`'s, else the same-named column of a table read
        (not for raw tables: their columns come from IMDb's answers and the fetch)."""
        lineage: dict[str, list[dg.TableColumnDep]] = {}
        for column in self.columns:
            if column in self.lineage:
                lineage[column] = list(self.lineage[column])
                continue
            source = next((t for t in self.reads.values() if column in t.columns), None)
            if source is not None and self.key.path[0] != "raw":
                lineage[column] = [source.col(column)]
        return lineage

    def metadata(self) -> dict[str, object]:
        lineage = self.column_lineage()
        return {
            "dagster/table_name": self.table_name,
            "dagster/column_schema": schemas.column_schema(self.model),
            **(
                {"dagster/column_lineage": dg.TableColumnLineage(deps_by_column=lineage)}
                if lineage
                else {}
            ),
            **self.stored.metadata(),
        }

    def check_specs(self) -> list[dg.AssetCheckSpec]:
        """The checks run inside the asset: the model's, then the WARN checks of the frame."""
        specs = [schema_check_spec(self.key, self.model)] if self.schema_check else []
        return specs + [
            dg.AssetCheckSpec(check.name, asset=self.key, description=check.description)
            for check in self.warn_checks
        ]

    @property
    def checked_in_sql(self) -> list[str]:
        """The standalone SQL checks of the days written."""
        return [REFERENTIAL, *self.sql_checks] if self.references else list(self.sql_checks)

    def asset(self, compute: Callable) -> dg.AssetsDefinition:
        """`compute`, a function that returns the table's frame, as the table's asset."""
        layer = self.key.path[0]
        reads = {table.key for table in self.reads.values()}
        ins = (
            {} if self.writes_itself else {n: dg.AssetIn(key=t.key) for n, t in self.reads.items()}
        )
        return dg.asset(
            key=self.key,
            group_name=layer,
            kinds={"python" if layer == "raw" else "polars", "postgres"},
            owners=OWNERS,
            partitions_def=day_genre_partitions if self.partitioned else None,
            backfill_policy=BACKFILL_POLICY if self.partitioned else None,
            pool=self.pool,
            ins=ins,
            deps=[
                *self.sources,
                *(
                    sorted(reads, key=lambda key: key.to_user_string())
                    if self.writes_itself
                    else []
                ),
                *(t.key for t in self.references.values() if t.key not in reads),
            ]
            or None,
            metadata=self.metadata(),
            check_specs=self.check_specs() or None,
        )(compute)

    def outputs(self, frame: pl.DataFrame) -> Iterator[dg.Output | dg.AssetCheckResult]:
        """The frame, validated before it is written, and the results of its WARN checks."""
        if self.schema_check:
            yield from validated(self.key, self.model, frame)
        else:
            yield dg.Output(frame)
        for check in self.warn_checks:
            yield warn_result(self.key, check.name, check.problems(frame), check.what)


def _imdb(graphql: str | None, html: str | None) -> list[dg.TableColumnDep]:
    """IMDb's fields, as columns of the source assets (a GraphQL path, an HTML JSON path)."""
    return [
        dg.TableColumnDep(asset_key=key, column_name=path)
        for key, path in ((IMDB_GRAPHQL, graphql), (IMDB_HTML, html))
        if path
    ]


def _read_from_json(
    sources: Mapping[str, ImdbField], raw: Table, json_column: str
) -> dict[str, list[dg.TableColumnDep]]:
    """Staging columns read from a raw JSON column: that column and the IMDb field in it."""
    return {
        column: [raw.col(json_column), *_imdb(field.graphql, field.html)]
        for column, field in sources.items()
        if field.graphql or field.html
    }


# A table of a day is partitioned by day × genre: a list's rows by their genre; a title's rows
# (details, box office, people) by `listed_in`, the genres whose lists held the title that day,
# so that a row shared by several lists belongs to each of their partitions.
LISTS = {DAY: "snapshot_date", GENRE: "genre"}
LISTED_TITLES = {DAY: "snapshot_date", GENRE: "listed_in"}
LIST_ROWS = Storage(primary_key=["snapshot_date", "genre", "rank"], partition_expr=LISTS)
DETAIL_ROWS = Storage(primary_key=["snapshot_date", "title_id"], partition_expr=LISTED_TITLES)

# raw: IMDb's answers, row by row
SEARCH_RESULTS = Table(
    dg.AssetKey(["raw", "imdb_search_results"]),
    schemas.RawSearchResults,
    LIST_ROWS,
    lineage={
        "item_json": _imdb("advancedTitleSearch.edges[].node.title", "titleListItems[]"),
        "total_results": _imdb("advancedTitleSearch.total", "total"),
    },
    schema_check=True,
    warn_checks=[COMPLETE_LISTS],
    pool=IMDB_POOL,
    sources=[IMDB_GRAPHQL, IMDB_HTML],
)

# staging: typed rows, the same columns from either source
MOVIE_RANKINGS = Table(
    dg.AssetKey(["staging", "movie_rankings"]),
    schemas.MovieRankings,
    LIST_ROWS,
    reads={"search_results": SEARCH_RESULTS},
    lineage={
        **_read_from_json(LISTED_TITLE_SOURCES, SEARCH_RESULTS, "item_json"),
        "scraped_at": [SEARCH_RESULTS.col("fetched_at")],
    },
    schema_check=True,
    warn_checks=[RANKS_WITHOUT_GAPS],
)
TITLE_PAGES = Table(
    dg.AssetKey(["raw", "imdb_title_pages"]),
    schemas.RawTitlePages,
    DETAIL_ROWS,
    reads={"movie_rankings": MOVIE_RANKINGS},
    lineage={
        "title_id": [MOVIE_RANKINGS.col("title_id")],
        "snapshot_date": [MOVIE_RANKINGS.col("snapshot_date")],
        "listed_in": [MOVIE_RANKINGS.col("genre")],
        "title_json": _imdb("titles[]", "aboveTheFoldData, mainColumnData"),
    },
    schema_check=True,
    warn_checks=[TITLES_AVAILABLE],
    pool=IMDB_POOL,
    sources=[IMDB_GRAPHQL, IMDB_HTML],
)
TITLE_DETAILS = Table(
    dg.AssetKey(["staging", "title_details"]),
    schemas.TitleDetails,
    DETAIL_ROWS,
    reads={"title_pages": TITLE_PAGES},
    lineage={
        **_read_from_json(DETAILS_SOURCES, TITLE_PAGES, "title_json"),
        "scraped_at": [TITLE_PAGES.col("fetched_at")],
    },
    schema_check=True,
)

# warehouse: the star schema (keys: the numbers in IMDb's ids, YYYYMMDD, the genre's place)


def daily_upsert(primary_key: Sequence[str], **more) -> Storage:
    """Dimensions and bridges: upserted on their keys by the day last seen; an older day never
    overwrites a newer one."""
    return Storage(
        primary_key=tuple(primary_key),
        write_mode="upsert",
        newer_wins="last_seen_date",
        partition_expr={DAY: "last_seen_date", GENRE: "listed_in"},
        **more,
    )


DIM_DATE = Table(
    dg.AssetKey(["warehouse", "dim_date"]),
    schemas.DimDate,
    Storage(primary_key="date_key", write_mode="upsert", indexes=[["date"]]),
    partitioned=False,
)
DIM_GENRE = Table(
    dg.AssetKey(["warehouse", "dim_genre"]),
    schemas.DimGenre,
    Storage(primary_key="genre_key", write_mode="upsert"),
    partitioned=False,
)
_DETAILS_READ = ["countries", "languages", "budget_amount", "budget_currency"]
DIM_MOVIE = Table(
    dg.AssetKey(["warehouse", "dim_movie"]),
    schemas.DimMovie,
    daily_upsert(
        ["movie_key"],
        upsert_merge={
            "first_seen_date": "least",
            **dict.fromkeys([*_DETAILS_READ, "details_scraped_at"], "coalesce"),
        },
    ),
    reads={"movie_rankings": MOVIE_RANKINGS, "title_details": TITLE_DETAILS},
    lineage={
        "movie_key": [MOVIE_RANKINGS.col("title_id")],
        **{c: [TITLE_DETAILS.col(c)] for c in _DETAILS_READ},
        "first_seen_date": [MOVIE_RANKINGS.col("snapshot_date")],
        "last_seen_date": [MOVIE_RANKINGS.col("snapshot_date")],
        "listed_in": [MOVIE_RANKINGS.col("genre")],
        "details_scraped_at": [TITLE_DETAILS.col("scraped_at")],
    },
)
_CREDITS = [TITLE_DETAILS.col(role) for role in ("directors", "writers", "stars")]
DIM_PERSON = Table(
    dg.AssetKey(["warehouse", "dim_person"]),
    schemas.DimPerson,
    daily_upsert(["person_key"]),
    reads={"title_details": TITLE_DETAILS},
    lineage={
        "person_key": _CREDITS,
        "person_id": _CREDITS,
        "name": _CREDITS,
        "last_seen_date": [TITLE_DETAILS.col("snapshot_date")],
    },
)
BRIDGE_MOVIE_PERSON = Table(
    dg.AssetKey(["warehouse", "bridge_movie_person"]),
    schemas.BridgeMoviePerson,
    daily_upsert(["movie_key", "person_key", "role"], indexes=[["person_key"]]),
    reads={"title_details": TITLE_DETAILS},
    references={"movie_key": DIM_MOVIE, "person_key": DIM_PERSON},
    lineage={
        "movie_key": [TITLE_DETAILS.col("title_id")],
        "person_key": _CREDITS,
        "role": _CREDITS,
        "billing_order": _CREDITS,
        "last_seen_date": [TITLE_DETAILS.col("snapshot_date")],
    },
)
BRIDGE_MOVIE_GENRE = Table(
    dg.AssetKey(["warehouse", "bridge_movie_genre"]),
    schemas.BridgeMovieGenre,
    daily_upsert(["movie_key", "genre_key"], indexes=[["genre_key"]]),
    reads={"movie_rankings": MOVIE_RANKINGS},
    references={"movie_key": DIM_MOVIE, "genre_key": DIM_GENRE},
    lineage={
        "movie_key": [MOVIE_RANKINGS.col("title_id")],
        "genre_key": [MOVIE_RANKINGS.col("genres")],
        "last_seen_date": [MOVIE_RANKINGS.col("snapshot_date")],
        "listed_in": [MOVIE_RANKINGS.col("genre")],
    },
)
FACT_MOVIE_RANKING = Table(
    dg.AssetKey(["warehouse", "fact_movie_ranking"]),
    schemas.FactMovieRanking,
    Storage(
        primary_key=["date_key", "genre_key", "movie_key"],
        partition_expr=LISTS,
        indexes=[["movie_key", "snapshot_date"]],
    ),
    reads={"movie_rankings": MOVIE_RANKINGS},
    references={"date_key": DIM_DATE, "genre_key": DIM_GENRE, "movie_key": DIM_MOVIE},
    lineage={
        "date_key": [MOVIE_RANKINGS.col("snapshot_date")],
        "genre_key": [MOVIE_RANKINGS.col("genre")],
        "movie_key": [MOVIE_RANKINGS.col("title_id")],
    },
    sql_checks=[RANKS, RATINGS, VOTES, FRESH_DETAILS],
)
FACT_BOX_OFFICE = Table(
    dg.AssetKey(["warehouse", "fact_box_office"]),
    schemas.FactBoxOffice,
    Storage(
        primary_key=["date_key", "movie_key"],
        partition_expr=LISTED_TITLES,
        indexes=[["movie_key", "snapshot_date"]],
    ),
    reads={"title_details": TITLE_DETAILS},
    references={"date_key": DIM_DATE, "movie_key": DIM_MOVIE},
    lineage={
        "date_key": [TITLE_DETAILS.col("snapshot_date")],
        "movie_key": [TITLE_DETAILS.col("title_id")],
    },
)

_RANKS = [FACT_MOVIE_RANKING.col("rank")]
_DAYS = [FACT_MOVIE_RANKING.col("snapshot_date")]
# Its asset writes it itself (imdb_warehouse/charts.py): a partition (D, g) recomputes D and every
# later snapshot of g held, which lie outside the run's partitions, where the IO manager writes.
FACT_CHART_STATS = Table(
    dg.AssetKey(["warehouse", "fact_chart_stats"]),
    schemas.FactChartStats,
    Storage(
        primary_key=["date_key", "genre_key", "movie_key"],
        partition_expr=LISTS,
        indexes=[["movie_key", "genre", "snapshot_date"]],
    ),
    reads={"fact_movie_ranking": FACT_MOVIE_RANKING},
    references={"date_key": DIM_DATE, "genre_key": DIM_GENRE, "movie_key": DIM_MOVIE},
    lineage={
        "points": _RANKS,
        "status": _RANKS,
        "status_change": _RANKS,
        "previous_snapshot_date": _DAYS,
        "previous_rank": _RANKS,
        "first_seen_date": _DAYS,
        "days_on_list": _DAYS,
        "current_run": _DAYS,
        "longest_run": _DAYS,
        "runs": _DAYS,
        "peak_rank": _RANKS,
        "peak_date": [*_RANKS, *_DAYS],
    },
    sql_checks=[CHART_MATCHES_LISTS],
    writes_itself=True,
)

# every table above, in the order declared: a new declaration is picked up here
TABLES = tuple(value for value in list(globals().values()) if isinstance(value, Table))


def _fields_read(source: dg.AssetKey) -> dg.TableSchema:
    """The paths of the fields the tables read from an IMDb source, as its 'columns'."""
    readers: dict[str, list[str]] = {}
    for table in TABLES:
        for column, deps in table.column_lineage().items():
            for dep in deps:
                if dep.asset_key == source:
                    readers.setdefault(dep.column_name, []).append(f"{table.name}.{column}")
    return dg.TableSchema(
        columns=[
            dg.TableColumn(path, "json", f"read into {', '.join(columns)}")
            for path, columns in sorted(readers.items())
        ]
    )


IMDB_SOURCES = [
    dg.AssetSpec(
        IMDB_GRAPHQL,
        description="IMDb's GraphQL API (IMDB_SOURCE=graphql): the lists are "
        "`advancedTitleSearch` queries, the details `titles` queries. Read, not materialized, "
        "here; its 'columns' are the paths of the fields the staging tables read "
        "(imdb_warehouse/imdb/lineage.py).",
        group_name="imdb",
        kinds={"graphql"},
        owners=OWNERS,
        metadata={"dagster/column_schema": _fields_read(IMDB_GRAPHQL)},
    ),
    dg.AssetSpec(
        IMDB_HTML,
        description="IMDb's pages (IMDB_SOURCE=html): the JSON of a search page's or a title "
        "page's `__NEXT_DATA__` script. Read, not materialized, here; its 'columns' are the "
        "paths of the fields the staging tables read (imdb_warehouse/imdb/lineage.py).",
        group_name="imdb",
        kinds={"html"},
        owners=OWNERS,
        metadata={"dagster/column_schema": _fields_read(IMDB_HTML)},
    ),
]
