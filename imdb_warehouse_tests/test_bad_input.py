"""Bad input through the pipeline: pages placed in the archive of a past day are what the raw
assets read. Each gives the right rows or a clear error, and never harms what is stored."""

from datetime import UTC, date, datetime

import dagster as dg
import pytest

from imdb_warehouse.assets import raw, staging, warehouse
from imdb_warehouse.replay.server import ReplayServer
from imdb_warehouse.resources import PostgresPolarsIOManager, PostgresResource
from imdb_warehouse.resources.archive import PageArchive
from imdb_warehouse.resources.imdb_client import ImdbClient
from imdb_warehouse_tests.imdb.test_parse import item, page, search, title

DAY = date(2025, 3, 1)
ASSETS = [raw.imdb_search_results, staging.movie_rankings]
one_backend = pytest.mark.parametrize("backend_url", ["embedded"], indirect=True)


@pytest.fixture
def pipeline(database_url, tmp_path):
    archive = PageArchive(root=str(tmp_path / "archive"))
    postgres = PostgresResource(database_url=database_url)
    resources = {
        "postgres": postgres,
        "io_manager": PostgresPolarsIOManager(postgres=postgres),
        "imdb": ImdbClient(base_url="http://127.0.0.1:9", today="2025-03-05"),  # DAY is past
        "archive": archive,
    }

    def run(body: bytes) -> dg.ExecuteInProcessResult:
        archive.store("search", DAY, "drama", body, datetime(2025, 3, 1, 6, tzinfo=UTC))
        return dg.materialize(
            ASSETS, resources=resources, partition_key=f"{DAY}|drama", raise_on_error=False
        )

    def run_title_pages(pages: dict[str, bytes]) -> dg.ExecuteInProcessResult:
        """Archive the day's title pages, then read them into details and people."""
        for title_id, body in pages.items():
            archive.store("title", DAY, title_id, body, datetime(2025, 3, 1, 6, tzinfo=UTC))
        return dg.materialize(
            [*ASSETS, raw.imdb_title_pages, staging.title_details, warehouse.dim_person],
            selection=[raw.TITLE_PAGES, staging.TITLE_DETAILS, warehouse.DIM_PERSON],
            resources=resources,
            partition_key=DAY.isoformat(),
            raise_on_error=False,
        )

    run.title_pages = run_title_pages
    return run


def _failure(result: dg.ExecuteInProcessResult) -> str:
    return "\n".join(
        e.step_failure_data.error.message for e in result.all_events if e.is_step_failure
    )


NASTY_TITLES = [
    'The "Quoted" Movie',
    "Line one\nline two",
    "Emoji 🎬🍿 and ümlauts",
    "'); DROP TABLE staging.movie_rankings; --",
    "Back\\slash \\N %s $1",
]


@one_backend
def test_titles_with_quotes_newlines_emoji_and_sql_and_8_digit_ids_land_exactly(pipeline, sql):
    items = [
        item(f"tt{31000000 + i}", titleText=title, originalTitleText=title, plot=title)
        for i, title in enumerate(NASTY_TITLES)
    ]
    assert pipeline(page(search(items, genre="Drama")).encode()).success
    assert sql("SELECT title_id, title, plot FROM staging.movie_rankings ORDER BY rank") == [
        (f"tt{31000000 + i}", title, title) for i, title in enumerate(NASTY_TITLES)
    ]


@one_backend
def test_people_with_quotes_newlines_emoji_and_sql_in_their_names_land_exactly(pipeline, sql):
    title_id = "tt31000001"
    names = {f"nm{12345670 + i}": name for i, name in enumerate(NASTY_TITLES)}
    credits = [
        {
            "totalCredits": len(names),
            "category": {"text": "Stars", "id": "cast"},
            "credits": [{"name": {"nameText": {"text": n}, "id": nm}} for nm, n in names.items()],
        }
    ]
    assert pipeline(page(search([item(title_id)], genre="Drama")).encode()).success
    body = page(title(id=title_id, principalCredits=credits)).encode()
    assert pipeline.title_pages({title_id: body}).success
    assert sql("SELECT person_id, name FROM warehouse.dim_person ORDER BY person_id") == sorted(
        names.items()
    )
    assert sql("SELECT stars FROM staging.title_details") == [
        ([{"id": nm, "name": n} for nm, n in names.items()],)
    ]


@one_backend
def test_every_optional_key_missing_gives_nulls(pipeline, sql):
    bare = {"titleId": "tt0000001", "titleText": "Bare"}
    assert pipeline(page(search([bare], genre="Drama")).encode()).success
    [row] = sql(
        "SELECT original_title, title_type, release_year, release_date, runtime_minutes, "
        "certificate, genres, plot, rating, votes, metascore FROM staging.movie_rankings"
    )
    assert row == (None, None, None, None, None, None, [], None, None, None, None)


@one_backend
def test_an_empty_result_list_is_an_empty_day(pipeline, sql):
    assert pipeline(page(search([], total=0, genre="Drama")).encode()).success
    assert sql("SELECT count(*) FROM staging.movie_rankings") == [(0,)]


@one_backend
@pytest.mark.parametrize(
    ("body", "cause"),
    [
        (page(search([item()], genre="Drama")).encode()[:-2000], 'no <script id="__NEXT_DATA__">'),
        (
            page(search([item()], genre="Drama")).replace('"total": 1', '"total": 1,,').encode(),
            "not valid JSON",
        ),
        (b"\xff\xfe" + page(search([item()], genre="Drama")).encode(), "not valid UTF-8"),
        (
            page(search([item()], total=None, genre="Drama"))
            .replace('"total": 1', '"total": "1"')
            .encode(),
            "total is str",
        ),
        (
            page(search([item(ratingSummary={"aggregateRating": "high"})], genre="Drama")).encode(),
            "aggregateRating is str",
        ),
        (page(search([item(titleId=...)], genre="Drama")).encode(), "titleId is missing"),
        (b"<html><body>Something else entirely</body></html>", 'no <script id="__NEXT_DATA__">'),
    ],
    ids=[
        "truncated-html",
        "broken-json",
        "invalid-utf8",
        "total-wrong-type",
        "rating-wrong-type",
        "no-title-id",
        "not-imdb",
    ],
)
def test_a_bad_page_fails_clearly_and_leaves_the_day_as_it_was(pipeline, sql, body, cause):
    assert pipeline(
        page(search([item("tt0000001"), item("tt0000002")], genre="Drama")).encode()
    ).success
    before = (
        sql("SELECT * FROM staging.movie_rankings ORDER BY rank"),
        sql("SELECT * FROM raw.imdb_search_results"),
    )
    result = pipeline(body)
    assert not result.success
    message = _failure(result)
    assert "search page 2025-03-01|drama" in message and cause in message
    assert "archive" in message
    after = (
        sql("SELECT * FROM staging.movie_rankings ORDER BY rank"),
        sql("SELECT * FROM raw.imdb_search_results"),
    )
    assert after == before


@one_backend
def test_a_page_over_the_size_limit_is_refused_and_nothing_changes(database_url, sql, tmp_path):
    with ReplayServer(day=DAY) as replay:
        postgres = PostgresResource(database_url=database_url)
        resources = {
            "postgres": postgres,
            "io_manager": PostgresPolarsIOManager(postgres=postgres),
            "imdb": ImdbClient(
                base_url=replay.url,
                today=DAY.isoformat(),
                min_interval_seconds=0,
                max_response_bytes=100_000,
            ),
            "archive": PageArchive(root=str(tmp_path / "archive")),
        }
        result = dg.materialize(
            ASSETS, resources=resources, partition_key=f"{DAY}|drama", raise_on_error=False
        )
    assert not result.success
    assert "over the limit of 100,000 bytes" in _failure(result)
    assert sql("SELECT to_regclass('raw.imdb_search_results')") == [(None,)]
