"""raw → staging through real Dagster runs: the offline IMDb over HTTP, real Postgres."""

from datetime import date, timedelta

import dagster as dg
import polars as pl
import pytest

from imdb_warehouse.assets import raw, staging
from imdb_warehouse.imdb.genres import GENRE_BY_SLUG
from imdb_warehouse.replay.catalogue import Catalogue
from imdb_warehouse.replay.server import ReplayServer
from imdb_warehouse.resources import PostgresResource
from imdb_warehouse.resources.archive import PageArchive
from imdb_warehouse.resources.imdb_client import ImdbClient

DAY = date(2025, 3, 1)
GENRES = ["action", "adventure", "animation"]  # the first three partitions, in order
ALL_ASSETS = [
    raw.imdb_search_results,
    staging.movie_rankings,
    raw.imdb_title_pages,
    staging.title_details,
]


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return Catalogue()


@pytest.fixture(scope="module")
def replay(catalogue):
    with ReplayServer(day=DAY, catalogue=catalogue) as server:
        yield server


@pytest.fixture
def resources(io_manager, database_url, tmp_path, replay):
    replay.set_faults([])
    replay.set_day(DAY)
    yield {
        "io_manager": io_manager,
        "postgres": PostgresResource(database_url=database_url),
        "imdb": imdb_client(replay, DAY),
        "archive": PageArchive(root=str(tmp_path / "archive")),
    }
    replay.set_faults([])


def imdb_client(replay: ReplayServer, today: date, max_retries: int = 1) -> ImdbClient:
    return ImdbClient(
        base_url=replay.url,
        today=today.isoformat(),
        min_interval_seconds=0.0,
        backoff_seconds=0.05,
        max_retries=max_retries,
        read_timeout_seconds=2,
    )


def run_lists(
    resources, day: date = DAY, genres: list[str] = GENRES, **kwargs
) -> dg.ExecuteInProcessResult:
    """raw/imdb_search_results and staging/movie_rankings for `genres` of `day`, in one run."""
    return dg.materialize(
        ALL_ASSETS,
        selection=[raw.SEARCH_RESULTS, staging.MOVIE_RANKINGS],
        resources=resources,
        tags={
            "dagster/asset_partition_range_start": f"{day}|{genres[0]}",
            "dagster/asset_partition_range_end": f"{day}|{genres[-1]}",
        },
        **kwargs,
    )


def run_titles(resources, day: date = DAY, **kwargs) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        ALL_ASSETS,
        selection=[raw.TITLE_PAGES, staging.TITLE_DETAILS],
        resources=resources,
        partition_key=day.isoformat(),
        **kwargs,
    )


def failure(result: dg.ExecuteInProcessResult) -> str:
    return "\n".join(
        e.step_failure_data.error.to_string() for e in result.all_events if e.is_step_failure
    )


def test_a_day_of_lists_lands_as_the_catalogue_has_it_and_a_rerun_replaces_it(
    resources, sql, catalogue
):
    assert run_lists(resources).success
    for genre in GENRES:
        expected, total = catalogue.search(GENRE_BY_SLUG[genre], DAY, limit=50)
        rows = sql(
            "SELECT rank, title_id, rating, votes, title FROM staging.movie_rankings "
            "WHERE snapshot_date = %s AND genre = %s ORDER BY rank",
            (DAY, genre),
        )
        assert [r[1] for r in rows] == [m.movie.title_id for m in expected]
        assert [r[0] for r in rows] == list(range(1, len(expected) + 1))
        assert [(r[2], r[3]) for r in rows] == [(m.rating, m.votes) for m in expected]
        assert [r[4] for r in rows] == [m.movie.title for m in expected]
        raw_total = sql(
            "SELECT DISTINCT total_results FROM raw.imdb_search_results WHERE genre = %s", (genre,)
        )
        assert raw_total == [(total,)]
    counts = sql("SELECT count(*), count(DISTINCT (genre, rank)) FROM staging.movie_rankings")
    assert counts == [(150, 150)]

    assert run_lists(resources).success  # a second capture of the same day replaces it
    assert (
        sql("SELECT count(*), count(DISTINCT (genre, rank)) FROM staging.movie_rankings") == counts
    )
    assert sql("SELECT count(*) FROM raw.imdb_search_results") == [(150,)]


def test_title_pages_of_the_day_land_with_people_and_box_office(resources, sql, catalogue):
    assert run_lists(resources).success
    assert run_titles(resources).success
    ranked = {r[0] for r in sql("SELECT DISTINCT title_id FROM staging.movie_rankings")}
    read = dict(sql("SELECT title_id, http_status FROM raw.imdb_title_pages"))
    assert set(read) == ranked and set(read.values()) == {200}
    details = pl.DataFrame(
        sql(
            "SELECT title_id, directors, budget_amount, budget_currency, gross_worldwide_amount "
            "FROM staging.title_details"
        ),
        schema=[
            "title_id",
            "directors",
            "budget_amount",
            "budget_currency",
            "gross_worldwide_amount",
        ],
        orient="row",
    )
    assert details.height == len(ranked)
    for row in details.iter_rows(named=True):
        truth = catalogue.title(row["title_id"], DAY)
        people = [{"id": p.id, "name": p.name} for p in truth.details.directors]
        assert row["directors"] == (people or None if truth.details.total_directors else [])
        budget = truth.details.budget
        assert (row["budget_amount"], row["budget_currency"]) == (
            (budget.amount, budget.currency) if budget else (None, None)
        )
        worldwide = truth.box_office.worldwide
        assert row["gross_worldwide_amount"] == (worldwide.amount if worldwide else None)


def test_the_next_day_reads_only_new_or_stale_titles(resources, sql, replay):
    assert run_lists(resources).success and run_titles(resources).success
    first_day = {r[0] for r in sql("SELECT title_id FROM raw.imdb_title_pages")}
    next_day = DAY + timedelta(days=1)
    replay.set_day(next_day)
    resources = {**resources, "imdb": imdb_client(replay, next_day)}
    assert (
        run_lists(resources, day=next_day).success and run_titles(resources, day=next_day).success
    )
    ranked = {
        r[0]
        for r in sql(
            "SELECT title_id FROM staging.movie_rankings WHERE snapshot_date = %s", (next_day,)
        )
    }
    read = {
        r[0]
        for r in sql(
            "SELECT title_id FROM raw.imdb_title_pages WHERE snapshot_date = %s", (next_day,)
        )
    }
    assert read == ranked - first_day


def test_staging_of_a_past_day_reparses_raw_without_the_network(resources, sql, replay):
    assert run_lists(resources).success
    before = sql("SELECT * FROM staging.movie_rankings ORDER BY genre, rank")
    replay.set_faults(["503"])  # IMDb is down: staging must not need it
    replay.requests.clear()
    result = dg.materialize(
        ALL_ASSETS,
        selection=[staging.MOVIE_RANKINGS],
        resources=resources,
        tags={
            "dagster/asset_partition_range_start": f"{DAY}|{GENRES[0]}",
            "dagster/asset_partition_range_end": f"{DAY}|{GENRES[-1]}",
        },
    )
    assert result.success and replay.requests == []
    assert sql("SELECT * FROM staging.movie_rankings ORDER BY genre, rank") == before


def test_raw_of_a_past_day_rereads_its_archive_or_says_why_it_cannot(resources, sql, replay):
    assert run_lists(resources, genres=["action"]).success
    archived = sql("SELECT item_json, sha256 FROM raw.imdb_search_results ORDER BY rank")
    later = {**resources, "imdb": imdb_client(replay, DAY + timedelta(days=3))}
    replay.requests.clear()
    assert run_lists(later, genres=["action"]).success
    assert (
        replay.requests == []
        and sql("SELECT item_json, sha256 FROM raw.imdb_search_results ORDER BY rank") == archived
    )

    result = run_lists(later, genres=["adventure"], raise_on_error=False)
    assert not result.success
    message = failure(result)
    assert f"{DAY} is not today ({DAY + timedelta(days=3)}, UTC)" in message
    assert "no page of that day is archived" in message


@pytest.mark.parametrize(
    ("fault", "cause"),
    [
        ("layout", 'no <script id="__NEXT_DATA__"> in the page'),
        ("dropped-filter", "IMDb dropped the genre filter 'Adventure'"),
        ("challenge", "bot challenge"),
        ("503", "HTTP 503 after 1 retries"),
        ("429:seconds=0", "HTTP 429 after 1 retries"),
        ("slow:seconds=4", "no answer within 2 s"),
        ("truncated", "cut short"),
        ("redirect-away", "redirected to https://elsewhere.invalid"),
    ],
)
def test_a_page_fault_fails_the_run_naming_the_cause_and_writes_no_row(
    resources, sql, replay, fault, cause
):
    assert run_lists(resources).success
    before = sql(
        "SELECT genre, count(*), max(scraped_at) FROM staging.movie_rankings GROUP BY 1 ORDER BY 1"
    )
    kind, _, options = fault.partition(":")
    path = "/search/title/?title_type=feature&genres=adventure"
    replay.set_faults([f"{kind}:path={path}" + (f",{options}" if options else "")])
    result = run_lists(resources, raise_on_error=False)
    assert not result.success
    message = failure(result)
    assert f"search page {DAY}|adventure" in message and cause in message
    if kind in ("layout", "dropped-filter"):
        assert "archived at" in message and "imdb-warehouse parse" in message
    after = sql(
        "SELECT genre, count(*), max(scraped_at) FROM staging.movie_rankings GROUP BY 1 ORDER BY 1"
    )
    assert after == before


def test_a_removed_title_is_recorded_and_warned_about_not_failed(resources, sql, catalogue, replay):
    assert run_lists(resources).success
    first = sql("SELECT title_id FROM staging.movie_rankings WHERE genre = 'action' AND rank = 1")[
        0
    ][0]
    replay.set_faults([f"410:path=/title/{first}/"])
    result = run_titles(resources)
    assert result.success
    assert sql("SELECT http_status FROM raw.imdb_title_pages WHERE title_id = %s", (first,)) == [
        (410,)
    ]
    assert sql("SELECT count(*) FROM staging.title_details WHERE title_id = %s", (first,)) == [(0,)]
    [check] = [
        c for c in result.get_asset_check_evaluations() if c.check_name == "titles_available"
    ]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN


def test_the_definitions_group_and_describe_every_source_asset():
    from imdb_warehouse.definitions import defs

    graph = defs.resolve_asset_graph()
    for key in (raw.SEARCH_RESULTS, raw.TITLE_PAGES, staging.MOVIE_RANKINGS, staging.TITLE_DETAILS):
        node = graph.get(key)
        assert node.group_name == key.path[0]
        assert node.description and node.owners == ["team:data-platform"]
        assert node.metadata["dagster/column_schema"].columns
        assert node.pools == {"imdb"} if key.path[0] == "raw" else not node.pools


def test_a_row_that_breaks_the_staging_model_blocks_the_write_and_shows_the_row(resources, sql):
    assert run_lists(resources).success
    before = sql("SELECT * FROM staging.movie_rankings ORDER BY genre, rank")
    sql(
        "UPDATE raw.imdb_search_results SET item_json = jsonb_set(item_json::jsonb, "
        "'{ratingSummary,aggregateRating}', '11')::text WHERE genre = 'action' AND rank = 3"
    )
    result = dg.materialize(
        ALL_ASSETS,
        selection=[staging.MOVIE_RANKINGS],
        resources=resources,
        tags={
            "dagster/asset_partition_range_start": f"{DAY}|{GENRES[0]}",
            "dagster/asset_partition_range_end": f"{DAY}|{GENRES[-1]}",
        },
        raise_on_error=False,
    )
    assert not result.success
    assert "rating in_range(1, 10) (1 rows)" in failure(result)
    [check] = [
        c for c in result.get_asset_check_evaluations() if c.check_name == "rows_match_schema"
    ]
    assert not check.passed
    failing = check.metadata["failing_rows"].value  # the row, with its values
    assert "| action | 3 |" in failing and "| 11.0 |" in failing
    assert sql("SELECT * FROM staging.movie_rankings ORDER BY genre, rank") == before


def test_a_passing_fault_is_retried_and_the_day_lands(resources, sql, replay):
    replay.reset()
    replay.set_faults(["503:times=1", "429:times=1,seconds=0", "truncated:times=1"])
    resources = {**resources, "imdb": imdb_client(replay, DAY, max_retries=3)}
    assert run_lists(resources).success
    assert sql("SELECT count(*) FROM staging.movie_rankings") == [(150,)]
    # 503, 429, a 200 cut short, then the three genres' pages whole
    assert [r.status for r in replay.requests] == [503, 429, 200, 200, 200, 200]
