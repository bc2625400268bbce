"""raw → staging through real Dagster runs: the offline IMDb over HTTP (its GraphQL API, and
its pages), real Postgres."""

import gzip
import hashlib
import json
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from imdb_warehouse import tables
from imdb_warehouse.assets import raw, staging
from imdb_warehouse.imdb.genres import GENRE_BY_SLUG
from imdb_warehouse_tests.helpers import (
    REPLAY_DAY,
    materialize,
    pipeline_resources,
    replay_client,
)

DAY = REPLAY_DAY
GENRES = ["action", "adventure", "animation"]  # the first three partitions, in order
ALL_ASSETS = [
    raw.imdb_search_results,
    staging.movie_rankings,
    raw.imdb_title_pages,
    staging.title_details,
]
one_backend = pytest.mark.parametrize("backend_url", ["embedded"], indirect=True)
STAGING_COLUMNS = "snapshot_date, genre, rank, title_id, title, rating, votes, genres, runtime_minutes, release_date, metascore"  # noqa: E501


@pytest.fixture(params=["graphql", "html"])
def source(request) -> str:
    return request.param


@pytest.fixture
def resources(database_url, tmp_path, replay, source):
    return pipeline_resources(
        database_url, replay_client(replay, DAY, source), tmp_path / "archive"
    )


def on_day(resources, replay, day: date, **client) -> dict:
    """The resources as they are on `day` (the replay serves that day)."""
    replay.set_day(day)
    source = resources["imdb"].source
    return {**resources, "imdb": replay_client(replay, day, source, **client)}


def run_lists(
    resources, day: date = DAY, genres: list[str] = GENRES, **kwargs
) -> dg.ExecuteInProcessResult:
    """raw/imdb_search_results and staging/movie_rankings for `genres` of `day`, in one run."""
    return materialize(
        ALL_ASSETS,
        selection=[tables.SEARCH_RESULTS.key, tables.MOVIE_RANKINGS.key],
        resources=resources,
        day=day,
        genres=genres,
        **kwargs,
    )


def run_titles(
    resources, day: date = DAY, genres: list[str] = GENRES, **kwargs
) -> dg.ExecuteInProcessResult:
    return materialize(
        ALL_ASSETS,
        selection=[tables.TITLE_PAGES.key, tables.TITLE_DETAILS.key],
        resources=resources,
        day=day,
        genres=genres,
        **kwargs,
    )


def failure(result: dg.ExecuteInProcessResult) -> str:
    return "\n".join(
        e.step_failure_data.error.message for e in result.all_events if e.is_step_failure
    )


def check(result: dg.ExecuteInProcessResult, name: str) -> dg.AssetCheckEvaluation:
    [found] = [c for c in result.get_asset_check_evaluations() if c.check_name == name]
    return found


def test_a_day_of_lists_lands_as_the_catalogue_has_it_and_a_rerun_replaces_it(
    resources, sql, catalogue, source
):
    result = run_lists(resources)
    assert result.success
    for key in (tables.SEARCH_RESULTS.key, tables.MOVIE_RANKINGS.key):  # each list's rows
        assert {
            e.materialization.partition: e.materialization.metadata["dagster/row_count"].value
            for e in result.get_asset_materialization_events()
            if e.asset_key == key
        } == {f"{DAY}|{genre}": 50 for genre in GENRES}
    for genre in GENRES:
        expected, total = catalogue.search(GENRE_BY_SLUG[genre], DAY, limit=50)
        rows = sql(
            "SELECT rank, title_id, rating, votes, title, source FROM staging.movie_rankings "
            "WHERE snapshot_date = %s AND genre = %s ORDER BY rank",
            (DAY, genre),
        )
        assert [r[1] for r in rows] == [m.movie.title_id for m in expected]
        assert [r[0] for r in rows] == list(range(1, len(expected) + 1))
        # an unrated movie: IMDb sends 0 votes, staging holds null
        assert [(r[2], r[3]) for r in rows] == [
            (m.rating, None if m.rating is None else m.votes) for m in expected
        ]
        assert [r[4] for r in rows] == [m.movie.title for m in expected]
        assert {r[5] for r in rows} == {source}
        raw_total = sql(
            "SELECT DISTINCT total_results, source FROM raw.imdb_search_results WHERE genre = %s",
            (genre,),
        )
        assert raw_total == [(total, source)]
    counts = sql("SELECT count(*), count(DISTINCT (genre, rank)) FROM staging.movie_rankings")
    assert counts == [(150, 150)]
    first_captures = {
        r[0] for r in sql("SELECT DISTINCT archive_path FROM raw.imdb_search_results")
    }

    assert run_lists(resources).success  # a second capture of the same day replaces the rows
    assert (
        sql("SELECT count(*), count(DISTINCT (genre, rank)) FROM staging.movie_rankings") == counts
    )
    assert sql("SELECT count(*) FROM raw.imdb_search_results") == [(150,)]
    now = {r[0] for r in sql("SELECT DISTINCT archive_path FROM raw.imdb_search_results")}
    assert len(now) == 3 and not now & first_captures  # rows name the new captures…
    assert all(Path(p).is_file() for p in first_captures | now)  # …and the old ones stay


@one_backend
def test_the_raw_row_keeps_what_imdb_sent_with_its_request_and_digest(resources, sql, source):
    assert run_lists(resources, genres=["action"]).success
    item, path, digest, url = sql(
        "SELECT item_json, archive_path, sha256, url FROM raw.imdb_search_results WHERE rank = 1"
    )[0]
    kept = gzip.decompress(Path(path).read_bytes())
    if source == "graphql":
        exchange = json.loads(kept)
        assert exchange["request"]["body"]["operationName"] == "GenreList"
        assert exchange["request"]["body"]["variables"]["genre"] == "Action"
        assert "advancedTitleSearch" in exchange["request"]["body"]["query"]
        assert exchange["response"]["status"] == 200 and url == exchange["request"]["url"]
        answer = exchange["response"]["body"]
        first = json.loads(answer)["data"]["advancedTitleSearch"]["edges"][0]["node"]["title"]
        assert json.loads(item) == first
        kept = answer.encode()
    assert hashlib.sha256(kept).hexdigest() == digest


def test_details_land_with_people_and_box_office(resources, sql, catalogue, source):
    assert run_lists(resources).success
    assert run_titles(resources).success
    ranked = {r[0] for r in sql("SELECT DISTINCT title_id FROM staging.movie_rankings")}
    read = dict(sql("SELECT title_id, available FROM raw.imdb_title_pages"))
    assert set(read) == ranked and set(read.values()) == {True}
    details = pl.DataFrame(
        sql(
            "SELECT title_id, directors, stars, budget_amount, budget_currency, "
            "gross_worldwide_amount, gross_domestic_amount, opening_weekend_end_date, source "
            "FROM staging.title_details"
        ),
        schema=[
            "title_id",
            "directors",
            "stars",
            "budget_amount",
            "budget_currency",
            "gross_worldwide_amount",
            "gross_domestic_amount",
            "opening_weekend_end_date",
            "source",
        ],
        orient="row",
    )
    assert details.height == len(ranked) and set(details["source"]) == {source}
    for row in details.iter_rows(named=True):
        truth = catalogue.title(row["title_id"], DAY)
        people = [{"id": p.id, "name": p.name} for p in truth.details.directors]
        assert row["directors"] == (people or None if truth.details.total_directors else [])
        stars = [{"id": p.id, "name": p.name} for p in truth.details.stars]
        assert row["stars"] == (stars or None if truth.details.total_cast else [])
        budget = truth.details.budget
        assert (row["budget_amount"], row["budget_currency"]) == (
            (budget.amount, budget.currency) if budget else (None, None)
        )
        box = truth.box_office
        assert row["gross_worldwide_amount"] == (box.worldwide and box.worldwide.amount)
        assert row["gross_domestic_amount"] == (box.domestic and box.domestic.amount)
        weekend = box.weekend_end if box.opening_weekend else None
        assert row["opening_weekend_end_date"] == weekend


def test_both_sources_give_the_same_staging_rows(database_url, tmp_path, replay, sql):
    staged = {}
    for source in ("graphql", "html"):
        resources = pipeline_resources(
            database_url, replay_client(replay, DAY, source), tmp_path / source
        )
        assert run_lists(resources).success and run_titles(resources).success
        staged[source] = (
            sql(f"SELECT {STAGING_COLUMNS} FROM staging.movie_rankings ORDER BY genre, rank"),  # noqa: S608
            sql(
                "SELECT title_id, title, countries, languages, directors, writers, stars, "
                "budget_amount, budget_currency, gross_worldwide_amount, gross_domestic_amount, "
                "opening_weekend_amount, opening_weekend_end_date, certificate, plot "
                "FROM staging.title_details ORDER BY title_id"
            ),
        )
    assert staged["graphql"] == staged["html"]
    assert len(staged["graphql"][1]) > 100


def test_each_day_reads_the_details_of_every_listed_movie_on_graphql_stale_ones_on_html(
    resources, sql, replay, source
):
    assert run_lists(resources).success and run_titles(resources).success
    first_day = {r[0] for r in sql("SELECT title_id FROM raw.imdb_title_pages")}
    next_day = DAY + timedelta(days=1)
    later = on_day(resources, replay, next_day)
    replay.requests.clear()
    assert run_lists(later, day=next_day).success and run_titles(later, day=next_day).success
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
    if source == "graphql":
        assert read == ranked
        details = [r for r in replay.requests if r.operation == "TitleDetails"]
        assert len(details) == 1  # up to 250 titles a request: three lists take one
    else:
        assert read == ranked - first_day


def test_staging_of_a_past_day_rereads_raw_without_the_network(resources, sql, replay):
    assert run_lists(resources).success
    before = sql("SELECT * FROM staging.movie_rankings ORDER BY genre, rank")
    replay.set_faults(["503"])  # IMDb is down: staging must not need it
    replay.requests.clear()
    result = materialize(
        ALL_ASSETS,
        selection=[tables.MOVIE_RANKINGS.key],
        resources=resources,
        day=DAY,
    )
    assert result.success and replay.requests == []
    assert sql("SELECT * FROM staging.movie_rankings ORDER BY genre, rank") == before


def test_a_past_day_is_rebuilt_from_its_archive_without_a_request(resources, sql, replay):
    assert run_lists(resources).success and run_titles(resources).success
    archived = sql(
        "SELECT genre, rank, item_json, sha256 FROM raw.imdb_search_results ORDER BY 1, 2"
    )
    details = sql("SELECT * FROM staging.title_details ORDER BY title_id")
    sql("DELETE FROM raw.imdb_search_results; DELETE FROM raw.imdb_title_pages")
    sql("DELETE FROM staging.movie_rankings; DELETE FROM staging.title_details")
    later = on_day(resources, replay, DAY + timedelta(days=3))
    replay.requests.clear()
    assert run_lists(later).success and run_titles(later).success
    assert replay.requests == []
    assert (
        sql("SELECT genre, rank, item_json, sha256 FROM raw.imdb_search_results ORDER BY 1, 2")
        == archived
    )
    assert sql("SELECT * FROM staging.title_details ORDER BY title_id") == details

    result = run_lists(
        later, genres=["adventure"], day=DAY - timedelta(days=1), raise_on_error=False
    )
    assert not result.success
    message = failure(result)
    assert f"is not today ({DAY + timedelta(days=3)}, UTC) and nothing of it is archived" in message


@one_backend
def test_a_failed_recapture_keeps_the_good_capture_and_the_day_can_be_rebuilt(
    resources, sql, replay, source
):
    """Found when tried: a failed re-capture of a day overwrote its good archived page."""
    assert run_lists(resources, genres=["action"]).success
    good = sql("SELECT rank, item_json, archive_path FROM raw.imdb_search_results ORDER BY rank")
    replay.set_faults(["drift" if source == "graphql" else "layout"])
    assert not run_lists(resources, genres=["action"], raise_on_error=False).success
    replay.set_faults([])
    assert Path(good[0][2]).is_file()
    folder = Path(good[0][2]).parent
    assert len(list(folder.glob("action.*"))) == 2  # the failed capture beside the good one
    sql("DELETE FROM raw.imdb_search_results")
    later = on_day(resources, replay, DAY + timedelta(days=1))
    replay.requests.clear()
    assert run_lists(later, genres=["action"]).success and replay.requests == []
    assert (
        sql("SELECT rank, item_json, archive_path FROM raw.imdb_search_results ORDER BY rank")
        == good
    )


GRAPHQL_FAULTS = [
    ("rate-exceeded", "IMDb answered with errors: Rate exceeded (INTERNAL_SERVER_ERROR)"),
    ("partial", "IMDb answered with errors: An error occurred while fetching data"),
    ("drift", "Cannot query field 'titleText' on type 'Title'"),
    ("empty-list", "IMDb sent an empty list (its total: 723)"),
    ("short-list", "IMDb sent 20 of the 50 results asked for while its total is 723"),
    ("dropped-filter", "IMDb dropped the genre filter 'Adventure'"),
    ("503", "HTTP 503 after 3 tries"),
    ("504", "HTTP 504 after 3 tries"),
    ("429:seconds=0", "HTTP 429 after 3 tries"),
    ("slow:seconds=4", "no answer within 2 s"),
    ("truncated", "cut short"),
    ("challenge", "bot challenge"),
]
PAGE_FAULTS = [
    ("layout", 'no <script id="__NEXT_DATA__"> in the page'),
    ("dropped-filter", "IMDb dropped the genre filter 'Adventure'"),
    ("challenge", "bot challenge"),
    ("503", "HTTP 503 after 3 tries"),
    ("slow:seconds=4", "no answer within 2 s"),
    ("truncated", "cut short"),
    ("redirect-away", "redirected to https://elsewhere.invalid"),
]


@one_backend
@pytest.mark.parametrize(
    ("source", "fault", "cause"),
    [("graphql", *case) for case in GRAPHQL_FAULTS] + [("html", *case) for case in PAGE_FAULTS],
    indirect=["source"],
)
def test_a_lasting_fault_fails_the_day_naming_the_cause_and_writes_no_row(
    resources, sql, replay, source, fault, cause
):
    assert run_lists(resources).success
    before = sql("SELECT * FROM staging.movie_rankings ORDER BY genre, rank")
    raw_before = sql("SELECT * FROM raw.imdb_search_results ORDER BY genre, rank")
    kind, _, options = fault.partition(":")
    path = (
        "/graphql/GenreList"
        if source == "graphql"
        else "/search/title/?title_type=feature&genres=adventure"
    )
    replay.set_faults([f"{kind}:path={path}" + (f",{options}" if options else "")])
    result = run_lists(resources, genres=["adventure"], raise_on_error=False)
    assert not result.success
    message = failure(result)
    assert f"the adventure list of {DAY}" in message and cause in message, message
    assert "\n" not in message.strip()  # one line
    answered = kind not in ("slow", "truncated", "challenge", "redirect-away")
    if answered and (source == "graphql" or kind in ("layout", "dropped-filter")):
        assert "IMDb's answer is kept at " in message
        kept = message.split("IMDb's answer is kept at ")[1].split()[0]
        assert Path(kept).is_file()
    assert sql("SELECT * FROM staging.movie_rankings ORDER BY genre, rank") == before
    assert sql("SELECT * FROM raw.imdb_search_results ORDER BY genre, rank") == raw_before


def test_a_list_shorter_than_asked_because_imdb_has_no_more_passes_with_a_warning(
    resources, sql, catalogue
):
    _, total = catalogue.search("Film-Noir", DAY)
    assert 0 < total < 50
    result = run_lists(resources, genres=["film-noir"])
    assert result.success
    assert sql("SELECT count(*) FROM staging.movie_rankings") == [(total,)]
    warning = check(result, "complete_lists")
    assert not warning.passed and warning.severity == dg.AssetCheckSeverity.WARN
    assert f"| film-noir | {total} | {total} |" in warning.metadata["short_lists"].value


def test_a_title_imdb_no_longer_has_is_recorded_and_warned_about_not_failed(
    resources, sql, replay, source
):
    assert run_lists(resources).success
    [(first,)] = sql(
        "SELECT title_id FROM staging.movie_rankings WHERE genre = 'action' AND rank = 1"
    )
    if source == "graphql":
        replay.set_faults(["null-title:path=/graphql/TitleDetails"])
        ranked = sql("SELECT title_id FROM staging.movie_rankings ORDER BY genre, rank")
        first = ranked[0][0]  # the first title asked for comes back null
    else:
        replay.set_faults([f"410:path=/title/{first}/"])
    result = run_titles(resources)
    assert result.success
    assert sql(
        "SELECT available, http_status, title_json IS NULL FROM raw.imdb_title_pages "
        "WHERE title_id = %s",
        (first,),
    ) == [(False, 200 if source == "graphql" else 410, True)]
    assert sql("SELECT count(*) FROM staging.title_details WHERE title_id = %s", (first,)) == [(0,)]
    warning = check(result, "titles_available")
    assert not warning.passed and warning.severity == dg.AssetCheckSeverity.WARN
    assert first in warning.metadata["unavailable_titles"].value


def test_an_unknown_or_malformed_id_is_handled_before_and_by_imdb(replay):
    from imdb_warehouse.imdb import graphql

    imdb = replay_client(replay, DAY)
    with pytest.raises(ValueError, match="'tt12' is not an IMDb title id"):
        graphql.details_variables(["tt0133093", "tt12"])
    exchange = imdb.graphql(graphql.DETAILS_QUERY, {"ids": ["tt9999999"]}, "TitleDetails")
    [title] = graphql.titles(graphql.answer_data(exchange.body), ["tt9999999"])
    assert graphql.is_unavailable(title) and title["id"] == "tt9999999"
    refused = imdb.graphql(graphql.DETAILS_QUERY, {"ids": ["tt0133093", "tt12"]}, "TitleDetails")
    with pytest.raises(graphql.GraphQLAnswerError, match="tt12 is not a valid ID"):
        graphql.answer_data(refused.body)


def test_the_definitions_group_and_describe_every_source_asset():
    from imdb_warehouse.definitions import defs

    graph = defs.resolve_asset_graph()
    for key in (
        tables.SEARCH_RESULTS.key,
        tables.TITLE_PAGES.key,
        tables.MOVIE_RANKINGS.key,
        tables.TITLE_DETAILS.key,
    ):
        node = graph.get(key)
        assert node.group_name == key.path[0]
        assert node.description and node.owners == ["team:data-platform"]
        columns = {c.name for c in node.metadata["dagster/column_schema"].columns}
        assert "source" in columns
        assert node.pools == {"imdb"} if key.path[0] == "raw" else not node.pools


@one_backend
def test_a_row_that_breaks_the_staging_model_blocks_the_write_and_shows_the_row(
    resources, sql, source
):
    assert run_lists(resources).success
    before = sql("SELECT * FROM staging.movie_rankings ORDER BY genre, rank")
    rating = "ratingsSummary" if source == "graphql" else "ratingSummary"
    sql(
        "UPDATE raw.imdb_search_results SET item_json = jsonb_set(item_json::jsonb, "
        "%s::text[], '11')::text WHERE genre = 'action' AND rank = 3",
        ([rating, "aggregateRating"],),
    )
    result = materialize(
        ALL_ASSETS,
        selection=[tables.MOVIE_RANKINGS.key],
        resources=resources,
        day=DAY,
        raise_on_error=False,
    )
    assert not result.success
    assert "rating in_range(1, 10) (1 rows)" in failure(result)
    failed = check(result, "rows_match_schema")
    assert not failed.passed
    failing = failed.metadata["failing_rows"].value  # the row, with its values
    assert "| action | 3 |" in failing and "| 11.0 |" in failing
    assert sql("SELECT * FROM staging.movie_rankings ORDER BY genre, rank") == before


@one_backend
def test_passing_faults_are_retried_and_the_day_lands_once(resources, sql, replay, source):
    replay.reset()
    faults = ["503:times=1", "429:times=1,seconds=0", "truncated:times=1"]
    if source == "graphql":
        faults += ["rate-exceeded:times=1", "partial:times=1", "504:times=1"]
    replay.set_faults(faults)
    resources = {**resources, "imdb": replay_client(replay, DAY, source, max_retries=8)}
    assert run_lists(resources).success
    assert sql("SELECT count(*), count(DISTINCT (genre, rank)) FROM staging.movie_rankings") == [
        (150, 150)
    ]
    statuses = [r.status for r in replay.requests]
    assert len(statuses) == 3 + len(faults)  # each fault cost one try, then three whole lists


@one_backend
@pytest.mark.parametrize(
    ("today", "message"),
    [
        ("2099-01-01", "IMDB_WAREHOUSE_TODAY=2099-01-01 is after the real date"),
        ("01/03/2025", "IMDB_WAREHOUSE_TODAY='01/03/2025' is not a date"),
    ],
)
def test_a_day_to_come_or_a_bad_today_fails_before_any_request_or_write(
    resources, sql, replay, monkeypatch, today, message
):
    monkeypatch.setenv("IMDB_WAREHOUSE_TODAY", today)
    replay.requests.clear()
    imdb = replay_client(replay, None, resources["imdb"].source)
    result = run_lists({**resources, "imdb": imdb}, raise_on_error=False)
    assert not result.success and message in failure(result)
    assert replay.requests == []
    assert sql("SELECT to_regclass('raw.imdb_search_results')") == [(None,)]


@one_backend
def test_a_run_of_some_genres_replaces_their_lists_and_keeps_the_others(resources, sql):
    assert run_lists(resources).success
    before = dict(sql("SELECT genre, min(archive_path) FROM raw.imdb_search_results GROUP BY 1"))
    assert run_lists(resources, genres=["adventure"]).success
    after = dict(sql("SELECT genre, min(archive_path) FROM raw.imdb_search_results GROUP BY 1"))
    assert set(after) == set(GENRES)
    assert after["adventure"] != before["adventure"]  # read again…
    assert {g: after[g] for g in ("action", "animation")} == {
        g: before[g] for g in ("action", "animation")
    }  # …the others kept
    assert sql("SELECT genre, count(*) FROM staging.movie_rankings GROUP BY 1 ORDER BY 1") == [
        (genre, 50) for genre in GENRES
    ]
