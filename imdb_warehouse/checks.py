"""Asset checks: pandera models as blocking checks, the WARN checks of a frame, and the SQL
checks of the warehouse's written days (standalone asset checks: imdb_warehouse/assets/checks.py).
"""

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import dagster as dg
import pandera.polars as pa
import polars as pl
from psycopg import sql

from imdb_warehouse.imdb.graphql import LIST_SIZE

SCHEMA_CHECK = "rows_match_schema"
FAILING_ROWS_SHOWN = 20


def schema_check_spec(asset_key: dg.AssetKey, model: type[pa.DataFrameModel]) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        SCHEMA_CHECK,
        asset=asset_key,
        blocking=True,
        description=f"Every row passes the pandera model {model.__name__} (types, ranges, keys); "
        "a failing frame is not written and nothing downstream runs.",
    )


def validated(
    asset_key: dg.AssetKey, model: type[pa.DataFrameModel], frame: pl.DataFrame
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    """Yield the frame and its passing schema check, or the failing check, then fail the step.

    Validation happens before the IO manager writes: a frame that fails never lands.
    """
    try:
        model.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
        rows = cases["index"].drop_nulls().unique().sort().head(FAILING_ROWS_SHOWN).to_list()
        failing = frame.with_row_index("row")[rows] if rows else frame.clear().with_row_index("row")
        metadata = {
            "failure_count": dg.MetadataValue.int(cases.height),
            "failed_checks": dg.MetadataValue.json(
                {
                    f"{c['column']}: {c['check']}": c["len"]
                    for c in cases.group_by("column", "check").len().to_dicts()
                }
            ),
            "failing_rows": dg.MetadataValue.md(_markdown(failing)),
        }
        yield dg.AssetCheckResult(
            check_name=SCHEMA_CHECK,
            asset_key=asset_key,
            passed=False,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata=metadata,
        )
        summary = "; ".join(
            f"{c['column']} {c['check']} ({c['len']} rows)"
            for c in cases.group_by("column", "check").len().head(8).to_dicts()
        )
        raise dg.Failure(
            description=f"{asset_key.to_user_string()}: {cases.height} values break "
            f"{model.__name__}: {summary}. Nothing was written; the failing rows are in the "
            f"{SCHEMA_CHECK} check's metadata.",
            metadata=metadata,
        ) from None
    yield dg.Output(frame)
    yield dg.AssetCheckResult(
        check_name=SCHEMA_CHECK,
        asset_key=asset_key,
        passed=True,
        metadata={"rows": dg.MetadataValue.int(frame.height)},
    )


def warn_result(
    asset_key: dg.AssetKey, name: str, problems: pl.DataFrame, what: str
) -> dg.AssetCheckResult:
    """A WARN check that passes when `problems` is empty and shows it otherwise."""
    return dg.AssetCheckResult(
        check_name=name,
        asset_key=asset_key,
        passed=problems.height == 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "count": dg.MetadataValue.int(problems.height),
            what: dg.MetadataValue.md(_markdown(problems.head(FAILING_ROWS_SHOWN))),
        },
    )


@dataclass(frozen=True)
class WarnCheck:
    """A WARN check of an asset's frame: passes when `problems(frame)` is empty, else shows it
    under the metadata key `what`."""

    name: str
    description: str
    problems: Callable[[pl.DataFrame], pl.DataFrame]
    what: str


def short_lists(search_results: pl.DataFrame, asked: int = LIST_SIZE) -> pl.DataFrame:
    """Lists with fewer results than asked for (loaded only when IMDb's total is that small)."""
    lists = search_results.group_by("snapshot_date", "genre").agg(
        pl.len().alias("results"), pl.first("total_results")
    )
    return lists.filter(pl.col("results") < asked).sort("snapshot_date", "genre")


def lists_with_gaps(rankings: pl.DataFrame) -> pl.DataFrame:
    """Lists whose ranks are not exactly 1..n."""
    lists = rankings.group_by("snapshot_date", "genre").agg(
        pl.len().alias("results"),
        pl.min("rank").alias("first_rank"),
        pl.max("rank").alias("last_rank"),
    )
    return lists.filter((pl.col("first_rank") != 1) | (pl.col("last_rank") != pl.col("results")))


COMPLETE_LISTS = WarnCheck(
    "complete_lists",
    f"Each list holds as many results as asked for ({LIST_SIZE}); a shorter one loads only when "
    "IMDb's total says there are no more (this check then warns).",
    short_lists,
    "short_lists",
)
RANKS_WITHOUT_GAPS = WarnCheck(
    "ranks_without_gaps",
    "Each day's list of each genre is ranked 1..n without gaps.",
    lists_with_gaps,
    "lists_with_gaps",
)
TITLES_AVAILABLE = WarnCheck(
    "titles_available",
    "IMDb gave every title asked for. A title it no longer has (null in GraphQL, a 404/410 "
    "page), or whose request failed even for it alone (HTTP 504, a timeout, …: the cause is "
    "named), is recorded here, does not fail the day, and is asked for again while it is listed.",
    lambda pages: pages.filter(~pl.col("available")).select(
        "snapshot_date", "title_id", "http_status", "unavailable_cause"
    ),
    "unavailable_titles",
)


def _markdown(frame: pl.DataFrame) -> str:
    if frame.is_empty():
        return "(none)"
    header = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "---|" * frame.width
    cells = [
        "| " + " | ".join(str(v).replace("|", "\\|").replace("\n", " ")[:80] for v in row) + " |"
        for row in frame.iter_rows()
    ]
    return "\n".join([header, rule, *cells])


# SQL checks of the warehouse tables, on the days a run wrote: their cost does not grow with
# history.
REFERENTIAL = "referential_integrity"
RANKS = "ranks_one_to_n"
RATINGS = "ratings_in_range"
VOTES = "votes_never_decrease"
FRESH_DETAILS = "details_fresh"
DETAILS_MAX_AGE_DAYS = 30
CHART_MATCHES_LISTS = "chart_matches_the_lists"

SQL_CHECKS = {
    REFERENTIAL: (
        dg.AssetCheckSeverity.ERROR,
        "Postgres holds a validated foreign key for each dimension key, and no row of the days "
        "written points at a missing dimension row.",
    ),
    RANKS: (dg.AssetCheckSeverity.ERROR, "Each (day, genre) list is ranked 1..n, each rank once."),
    RATINGS: (dg.AssetCheckSeverity.ERROR, "Every rating lies within 1–10."),
    VOTES: (
        dg.AssetCheckSeverity.WARN,
        "A movie's votes never drop from the last day it was listed before (highest of its lists).",
    ),
    FRESH_DETAILS: (
        dg.AssetCheckSeverity.WARN,
        f"Every ranked movie has details read within {DETAILS_MAX_AGE_DAYS} days.",
    ),
    CHART_MATCHES_LISTS: (
        dg.AssetCheckSeverity.ERROR,
        "Each day's chart statistics hold the movies and ranks of its lists, no more, and agree "
        "with themselves (current run ≤ longest run ≤ days on the list, peak ≤ rank, points = "
        "51 − rank).",
    ),
}


def sql_check_spec(asset_key: dg.AssetKey, name: str) -> dg.AssetCheckSpec:
    severity, description = SQL_CHECKS[name]
    return dg.AssetCheckSpec(
        name,
        asset=asset_key,
        description=description,
        blocking=severity == dg.AssetCheckSeverity.ERROR,
    )


def sql_check_results(
    postgres,
    asset_key: dg.AssetKey,
    names: Sequence[str],
    day_column: str,
    days: list,
    foreign_keys: dict[str, str],
) -> Iterator[dg.AssetCheckResult]:
    """The results of the checks `names` of `asset_key`'s table, on the rows of `days`."""
    table = sql.Identifier(*asset_key.path)
    with postgres.connect() as conn:
        for name in names:
            if name == REFERENTIAL:
                yield _referential(conn, asset_key, table, day_column, days, foreign_keys)
            else:
                yield _RANKING_CHECKS[name](conn, asset_key, table, days)


def _rows(conn, query: sql.Composable, params: list) -> pl.DataFrame:
    cursor = conn.execute(query, params)
    names = [column.name for column in cursor.description]
    return pl.DataFrame(cursor.fetchall(), schema=names, orient="row", infer_schema_length=None)


def _result(asset_key: dg.AssetKey, name: str, problems: pl.DataFrame, what: str, **metadata):
    result = warn_result(asset_key, name, problems, what)
    return dg.AssetCheckResult(
        check_name=name,
        asset_key=asset_key,
        passed=result.passed,
        severity=SQL_CHECKS[name][0],
        metadata={**result.metadata, **metadata},
    )


def _referential(conn, asset_key, table, day_column, days, foreign_keys) -> dg.AssetCheckResult:
    constraints = {
        row[0]: row[1]
        for row in conn.execute(
            "SELECT conname, convalidated FROM pg_constraint "
            "WHERE conrelid = $1::regclass AND contype = 'f'",
            [".".join(asset_key.path)],
        ).fetchall()
    }
    problems = []
    for column, target in foreign_keys.items():
        name = f"fk_{asset_key.path[-1]}_{column}"
        if not constraints.get(name):
            problems.append(
                {"foreign_key": name, "problem": "missing or not validated", "rows": None}
            )
        orphans = conn.execute(
            sql.SQL(
                "SELECT count(*) FROM {t} r WHERE r.{day} = ANY($1) AND r.{c} IS NOT NULL "
                "AND NOT EXISTS (SELECT 1 FROM {target} d WHERE d.{c} = r.{c})"
            ).format(
                t=table,
                day=sql.Identifier(day_column),
                c=sql.Identifier(column),
                target=sql.Identifier(*target.split(".")),
            ),
            [days],
        ).fetchone()[0]
        if orphans:
            problems.append(
                {"foreign_key": name, "problem": f"rows without a {target} row", "rows": orphans}
            )
    frame = pl.DataFrame(
        problems, schema={"foreign_key": pl.String, "problem": pl.String, "rows": pl.Int64}
    )
    return _result(asset_key, REFERENTIAL, frame, "problems", foreign_keys=len(foreign_keys))


def _ranks(conn, asset_key, table, days) -> dg.AssetCheckResult:
    return _result(
        asset_key,
        RANKS,
        _rows(
            conn,
            sql.SQL(
                "SELECT snapshot_date, genre, count(*) AS rows, count(DISTINCT rank) AS ranks, "
                "min(rank) AS first_rank, max(rank) AS last_rank FROM {} "
                "WHERE snapshot_date = ANY($1) "
                "GROUP BY 1, 2 HAVING min(rank) <> 1 OR max(rank) <> count(*) "
                "OR count(DISTINCT rank) <> count(*)"
            ).format(table),
            [days],
        ),
        "broken_lists",
    )


def _ratings(conn, asset_key, table, days) -> dg.AssetCheckResult:
    return _result(
        asset_key,
        RATINGS,
        _rows(
            conn,
            sql.SQL(
                "SELECT snapshot_date, genre, rank, movie_key, rating FROM {} "
                "WHERE snapshot_date = ANY($1) AND rating NOT BETWEEN 1 AND 10"
            ).format(table),
            [days],
        ),
        "rows_out_of_range",
    )


def _votes(conn, asset_key, table, days) -> dg.AssetCheckResult:
    return _result(
        asset_key,
        VOTES,
        _rows(
            conn,
            sql.SQL(
                "WITH listed AS (SELECT movie_key, snapshot_date, max(votes) AS votes FROM {t} "
                "WHERE snapshot_date = ANY($1) AND votes IS NOT NULL GROUP BY 1, 2) "
                "SELECT l.movie_key, l.snapshot_date, l.votes, "
                "p.snapshot_date AS previous_date, p.votes AS previous_votes "
                "FROM listed l CROSS JOIN LATERAL ("
                "  SELECT f.snapshot_date, max(f.votes) AS votes FROM {t} f "
                "  WHERE f.movie_key = l.movie_key AND f.snapshot_date = ("
                "    SELECT max(g.snapshot_date) FROM {t} g "
                "    WHERE g.movie_key = l.movie_key AND g.snapshot_date < l.snapshot_date) "
                "  GROUP BY f.snapshot_date) p "
                "WHERE l.votes < p.votes"
            ).format(t=table),
            [days],
        ),
        "movies_losing_votes",
    )


def _fresh_details(conn, asset_key, table, days) -> dg.AssetCheckResult:
    return _result(
        asset_key,
        FRESH_DETAILS,
        _rows(
            conn,
            sql.SQL(
                "SELECT DISTINCT f.snapshot_date, m.title_id, m.details_scraped_at FROM {} f "
                "JOIN warehouse.dim_movie m USING (movie_key) WHERE f.snapshot_date = ANY($1) "
                "AND (m.details_scraped_at IS NULL "
                "OR m.details_scraped_at < f.snapshot_date - make_interval(days => $2))"
            ).format(table),
            [days, DETAILS_MAX_AGE_DAYS],
        ),
        "stale_movies",
    )


def _chart_matches_lists(conn, asset_key, table, days) -> dg.AssetCheckResult:
    return _result(
        asset_key,
        CHART_MATCHES_LISTS,
        _rows(
            conn,
            sql.SQL(
                "SELECT coalesce(f.snapshot_date, c.snapshot_date) AS snapshot_date, "
                "coalesce(f.genre, c.genre) AS genre, "
                "coalesce(f.movie_key, c.movie_key) AS movie_key, "
                "f.rank AS list_rank, c.rank AS chart_rank FROM "
                "(SELECT * FROM warehouse.fact_movie_ranking WHERE snapshot_date = ANY($1)) f "
                "FULL JOIN (SELECT * FROM {} WHERE snapshot_date = ANY($1)) c "
                "USING (date_key, genre_key, movie_key) "
                "WHERE f.rank IS DISTINCT FROM c.rank OR NOT (c.current_run <= c.longest_run "
                "AND c.longest_run <= c.days_on_list AND c.runs <= c.days_on_list "
                "AND c.peak_rank <= c.rank AND c.points = 51 - c.rank) "
                "ORDER BY 1, 2, 3"
            ).format(table),
            [days],
        ),
        "rows_not_matching",
    )


_RANKING_CHECKS = {
    RANKS: _ranks,
    RATINGS: _ratings,
    VOTES: _votes,
    FRESH_DETAILS: _fresh_details,
    CHART_MATCHES_LISTS: _chart_matches_lists,
}
