"""Asset checks: pandera models as blocking checks, and the WARN checks on the daily lists."""

from collections.abc import Iterator

import dagster as dg
import pandera.polars as pa
import polars as pl

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


def short_lists(search_results: pl.DataFrame, asked: int) -> pl.DataFrame:
    """Lists with fewer results than asked for while IMDb's total says there were more."""
    lists = search_results.group_by("snapshot_date", "genre").agg(
        pl.len().alias("results"), pl.first("total_results")
    )
    return lists.filter(pl.col("results") < pl.min_horizontal("total_results", pl.lit(asked)))


def lists_with_gaps(rankings: pl.DataFrame) -> pl.DataFrame:
    """Lists whose ranks are not exactly 1..n."""
    lists = rankings.group_by("snapshot_date", "genre").agg(
        pl.len().alias("results"),
        pl.min("rank").alias("first_rank"),
        pl.max("rank").alias("last_rank"),
    )
    return lists.filter((pl.col("first_rank") != 1) | (pl.col("last_rank") != pl.col("results")))


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
