"""The checks: pandera models as blocking checks, and the WARN checks of the daily lists."""

from datetime import UTC, date, datetime

import dagster as dg
import polars as pl
import pytest

from imdb_warehouse.checks import SCHEMA_CHECK, lists_with_gaps, short_lists, validated
from imdb_warehouse.schemas import MovieRankings, polars_schema

KEY = dg.AssetKey(["staging", "movie_rankings"])
DAY = date(2025, 3, 1)


def test_short_lists_are_those_below_the_asked_count_with_imdbs_total():
    # Only lists whose total is that small load (a shorter one fails the day): they warn.
    frame = pl.DataFrame(
        {
            "snapshot_date": [DAY] * 5,
            "genre": ["drama"] * 3 + ["film-noir"] * 2,
            "total_results": [900, 900, 900, 2, 2],
        }
    )
    short = short_lists(frame, asked=3)
    assert short.select("genre", "results", "total_results").rows() == [("film-noir", 2, 2)]
    assert short_lists(frame, asked=2).is_empty()


def test_lists_with_gaps_are_those_not_ranked_one_to_n():
    frame = pl.DataFrame(
        {
            "snapshot_date": [DAY] * 7,
            "genre": ["drama"] * 3 + ["horror"] * 2 + ["war"] * 2,
            "rank": [1, 2, 3, 1, 3, 2, 3],
        }
    )
    assert sorted(lists_with_gaps(frame)["genre"]) == ["horror", "war"]


def _row(**changes) -> dict:
    row = dict.fromkeys(polars_schema(MovieRankings))
    row.update(
        snapshot_date=DAY,
        genre="drama",
        rank=1,
        title_id="tt0133093",
        title="The Matrix",
        genres=["Action"],
        source="graphql",
        scraped_at=datetime(2025, 3, 1, 6, tzinfo=UTC),
    )
    row.update(changes)
    return row


def test_a_frame_that_breaks_the_model_yields_a_failed_check_with_the_rows_then_fails():
    frame = pl.DataFrame(
        [_row(), _row(rank=2, title_id="tt1", rating=11.0), _row(rank=2, title_id="tt0000003")],
        schema=polars_schema(MovieRankings),
    )
    results = validated(KEY, MovieRankings, frame)
    check = next(results)
    assert isinstance(check, dg.AssetCheckResult) and not check.passed
    assert check.check_name == SCHEMA_CHECK and check.severity == dg.AssetCheckSeverity.ERROR
    failing = check.metadata["failing_rows"].value
    assert "tt1" in failing and "11.0" in failing
    assert set(check.metadata["failed_checks"].value) == {
        r"title_id: str_matches('^tt\d{7,9}$')",
        "rating: in_range(1, 10)",
        "MovieRankings: multiple_fields_uniqueness",  # two rows ranked 2nd
    }
    with pytest.raises(dg.Failure, match="Nothing was written"):
        next(results)


def test_a_valid_frame_yields_the_output_then_a_passed_check():
    frame = pl.DataFrame([_row()], schema=polars_schema(MovieRankings))
    output, check = list(validated(KEY, MovieRankings, frame))
    assert isinstance(output, dg.Output) and output.value is frame
    assert check.passed
