"""Bad input through the pipeline: answers placed in the archive of a past day are what the raw
assets read, GraphQL answers and pages alike. Each gives the right rows or a clear error, and
never harms what is stored."""

import json
from datetime import date, timedelta

import dagster as dg
import pytest

from imdb_warehouse import tables
from imdb_warehouse.assets import raw, staging, warehouse
from imdb_warehouse.imdb import graphql
from imdb_warehouse.resources.imdb_client import ImdbClient
from imdb_warehouse_tests.helpers import (
    REPLAY_DAY,
    archive_answer,
    materialize,
    pipeline_resources,
    replay_client,
)
from imdb_warehouse_tests.imdb.test_graphql import gql_list, gql_title
from imdb_warehouse_tests.imdb.test_parse import item, page, search, title

DAY = REPLAY_DAY
ASSETS = [raw.imdb_search_results, staging.movie_rankings]
one_backend = pytest.mark.parametrize("backend_url", ["embedded"], indirect=True)


def list_answer(titles: list[dict], total: int | None = None) -> bytes:
    return json.dumps({"data": gql_list(titles, total)}, ensure_ascii=False).encode()


def list_request(genre: str = "drama") -> dict:
    variables = graphql.list_variables(genre)
    return {"operationName": "GenreList", "query": graphql.LIST_QUERY, "variables": variables}


def drama(title_id: str, **changes) -> dict:
    """A GraphQL title of the drama list."""
    return gql_title(title_id, titleGenres={"genres": [{"genre": {"genreId": "Drama"}}]}, **changes)


@pytest.fixture
def pipeline(database_url, tmp_path):
    # the days read are past: no request is made (the address answers nothing)
    nowhere = ImdbClient(
        graphql_url="http://127.0.0.1:9/", base_url="http://127.0.0.1:9", today="2025-03-05"
    )
    resources = pipeline_resources(database_url, nowhere, tmp_path / "archive")
    archive = resources["archive"]

    def run(body: bytes, source: str = "html", day: date = DAY) -> dg.ExecuteInProcessResult:
        if source == "graphql":
            archive_answer(archive, raw.GRAPHQL_LISTS, day, "drama", body, list_request())
        else:
            archive_answer(archive, raw.HTML_SEARCH, day, "drama", body)
        return materialize(
            ASSETS,
            resources=resources,
            day=day,
            genres=["drama"],
            raise_on_error=False,
        )

    def run_details(answers: dict[str, bytes], source: str = "html") -> dg.ExecuteInProcessResult:
        """Archive the day's details (title pages, or one GraphQL batch), then read them into
        details and people."""
        for name, body in answers.items():
            if source == "graphql":
                ids = json.loads(name)
                request = {"query": graphql.DETAILS_QUERY, "variables": {"ids": ids}}
                archive_answer(archive, raw.GRAPHQL_TITLES, DAY, "batch-001", body, request)
            else:
                archive_answer(archive, raw.HTML_TITLE, DAY, name, body)
        return materialize(
            [*ASSETS, raw.imdb_title_pages, staging.title_details, warehouse.dim_person],
            selection=[tables.TITLE_PAGES.key, tables.TITLE_DETAILS.key, tables.DIM_PERSON.key],
            resources=resources,
            day=DAY,
            raise_on_error=False,
        )

    run.details = run_details
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
@pytest.mark.parametrize("source", ["graphql", "html"])
def test_titles_with_quotes_newlines_emoji_and_sql_and_8_digit_ids_land_exactly(
    pipeline, sql, source
):
    ids = [f"tt{31000000 + i}" for i in range(len(NASTY_TITLES))]
    if source == "graphql":
        titles = [
            drama(
                t,
                titleText={"text": n},
                originalTitleText={"text": n},
                plot={"plotText": {"plainText": n}},
            )
            for t, n in zip(ids, NASTY_TITLES, strict=True)
        ]
        body = list_answer(titles)
    else:
        items = [
            item(t, titleText=n, originalTitleText=n, plot=n)
            for t, n in zip(ids, NASTY_TITLES, strict=True)
        ]
        body = page(search(items, genre="Drama")).encode()
    assert pipeline(body, source).success
    assert sql("SELECT title_id, title, plot FROM staging.movie_rankings ORDER BY rank") == [
        (t, n, n) for t, n in zip(ids, NASTY_TITLES, strict=True)
    ]


@one_backend
@pytest.mark.parametrize("source", ["graphql", "html"])
def test_people_with_quotes_newlines_emoji_and_sql_in_their_names_land_exactly(
    pipeline, sql, source
):
    title_id = "tt31000001"
    names = {f"nm{12345670 + i}": name for i, name in enumerate(NASTY_TITLES)}
    credits = [
        {
            "totalCredits": len(names),
            "category": {"text": "Stars", "id": "cast"},
            "credits": [{"name": {"nameText": {"text": n}, "id": nm}} for nm, n in names.items()],
        }
    ]
    if source == "graphql":
        assert pipeline(list_answer([drama(title_id)]), source).success
        details = {"titles": [drama(title_id, principalCredits=credits)]}
        answers = {json.dumps([title_id]): json.dumps({"data": details}).encode()}
    else:
        assert pipeline(page(search([item(title_id)], genre="Drama")).encode()).success
        answers = {title_id: page(title(id=title_id, principalCredits=credits)).encode()}
    assert pipeline.details(answers, source).success
    assert sql("SELECT person_id, name FROM warehouse.dim_person ORDER BY person_id") == sorted(
        names.items()
    )
    assert sql("SELECT stars FROM staging.title_details") == [
        ([{"id": nm, "name": n} for nm, n in names.items()],)
    ]


@one_backend
@pytest.mark.parametrize("source", ["graphql", "html"])
def test_every_optional_key_missing_gives_nulls(pipeline, sql, source):
    if source == "graphql":
        bare = {"id": "tt0000001", "titleText": {"text": "Bare"}}
        # IMDb's total says there is one: the list is whole, though it lacks the genre field
        body = json.dumps({"data": gql_list([bare], 1)}).encode()
    else:
        bare = {"titleId": "tt0000001", "titleText": "Bare"}
        body = page(search([bare], genre="Drama")).encode()
    result = pipeline(body, source)
    if source == "graphql":  # without genres, the list cannot show it applied the genre filter
        assert not result.success and "dropped the genre filter 'Drama'" in _failure(result)
        body = list_answer([{**bare, "titleGenres": {"genres": [{"genre": {"genreId": "Drama"}}]}}])
        assert pipeline(body, source, day=DAY + timedelta(days=1)).success
    else:
        assert result.success
    [row] = sql(
        "SELECT original_title, title_type, release_year, release_date, runtime_minutes, "
        "certificate, plot, rating, votes, metascore FROM staging.movie_rankings"
    )
    assert row == (None,) * 10


@one_backend
@pytest.mark.parametrize("source", ["graphql", "html"])
@pytest.mark.parametrize("total", [0, 2456])
def test_an_empty_list_is_a_failure_never_an_empty_day(pipeline, sql, source, total):
    """Found when tried: a genre answered with zero items while IMDb's total was 2,456 loaded
    an empty day, and every check passed."""
    if source == "graphql":
        body = list_answer([], total)
    else:
        body = page(search([], total=total, genre="Drama")).encode()
    result = pipeline(body, source)
    assert not result.success
    message = _failure(result)
    assert f"the drama list of {DAY}" in message
    assert f"IMDb sent an empty list (its total: {total:,})" in message
    assert sql("SELECT to_regclass('staging.movie_rankings')") == [(None,)]


@one_backend
@pytest.mark.parametrize(
    ("source", "body", "cause"),
    [
        (
            "html",
            page(search([item()], genre="Drama")).encode()[:-2000],
            'no <script id="__NEXT_DATA__">',
        ),
        (
            "html",
            page(search([item()], genre="Drama")).replace('"total": 1', '"total": 1,,').encode(),
            "not valid JSON",
        ),
        ("html", b"\xff\xfe" + page(search([item()], genre="Drama")).encode(), "not valid UTF-8"),
        (
            "html",
            page(search([item()], total=None, genre="Drama"))
            .replace('"total": 1', '"total": "1"')
            .encode(),
            "total is str",
        ),
        (
            "html",
            page(search([item(ratingSummary={"aggregateRating": "high"})], genre="Drama")).encode(),
            "aggregateRating is str",
        ),
        ("html", page(search([item(titleId=...)], genre="Drama")).encode(), "titleId is missing"),
        (
            "html",
            b"<html><body>Something else entirely</body></html>",
            'no <script id="__NEXT_DATA__">',
        ),
        ("graphql", list_answer([drama("tt0000001")])[:-30], "the answer is not JSON"),
        ("graphql", b"\xff\xfe" + list_answer([drama("tt0000001")]), "the answer is not JSON"),
        (
            "graphql",
            json.dumps({"data": {"advancedTitleSearch": {"total": "1", "edges": []}}}).encode(),
            "advancedTitleSearch.total is str",
        ),
        (
            "graphql",
            list_answer([drama("tt0000001", ratingsSummary={"aggregateRating": "high"})]),
            "aggregateRating is str",
        ),
        ("graphql", list_answer([drama("tt0000001", titleText=None)]), "titleText.text is missing"),
        (
            "graphql",
            json.dumps({"errors": [{"message": "Rate exceeded"}], "data": None}).encode(),
            "IMDb answered with errors: Rate exceeded",
        ),
        (
            "graphql",
            json.dumps({"data": {"titles": []}}).encode(),
            "advancedTitleSearch is missing",
        ),
    ],
    ids=[
        "truncated-html",
        "broken-json",
        "invalid-utf8",
        "total-wrong-type",
        "rating-wrong-type",
        "no-title-id",
        "not-imdb",
        "gql-truncated",
        "gql-invalid-utf8",
        "gql-total-wrong-type",
        "gql-rating-wrong-type",
        "gql-null-title-text",
        "gql-errors",
        "gql-other-query",
    ],
)
def test_a_bad_answer_fails_clearly_and_leaves_the_warehouse_as_it_was(
    pipeline, sql, source, body, cause
):
    good = (
        list_answer([drama("tt0000001"), drama("tt0000002")])
        if source == "graphql"
        else page(search([item("tt0000001"), item("tt0000002")], genre="Drama")).encode()
    )
    assert pipeline(good, source).success
    before = (
        sql("SELECT * FROM staging.movie_rankings ORDER BY rank"),
        sql("SELECT * FROM raw.imdb_search_results"),
    )
    later = DAY + timedelta(days=1)
    result = pipeline(body, source, day=later)
    assert not result.success
    message = _failure(result)
    assert f"the drama list of {later}" in message and cause in message, message
    assert "none of its 1 archived captures loads" in message and "/archive/" in message
    after = (
        sql("SELECT * FROM staging.movie_rankings ORDER BY rank"),
        sql("SELECT * FROM raw.imdb_search_results"),
    )
    assert after == before


@one_backend
@pytest.mark.parametrize("source", ["graphql", "html"])
def test_an_answer_over_the_size_limit_is_refused_and_nothing_changes(
    database_url, sql, tmp_path, own_replay, source
):
    imdb = replay_client(own_replay, DAY, source, max_response_bytes=20_000)
    result = materialize(
        ASSETS,
        resources=pipeline_resources(database_url, imdb, tmp_path / "archive"),
        day=DAY,
        genres=["drama"],
        raise_on_error=False,
    )
    assert not result.success
    assert "over the limit of 20,000 bytes" in _failure(result)
    assert sql("SELECT to_regclass('raw.imdb_search_results')") == [(None,)]
    assert not (tmp_path / "archive").exists() or not any((tmp_path / "archive").rglob("*.gz"))
