"""ImdbClient over real HTTP to the offline IMDb (the replay server): its GraphQL endpoints,
public and licensed, and its pages, faults included."""

import json
import logging
from itertools import pairwise

import pytest
import requests

from imdb_warehouse.imdb import graphql
from imdb_warehouse.replay.licensed import License
from imdb_warehouse.replay.server import ReplayServer
from imdb_warehouse.resources.imdb_client import (
    ImdbClient,
    ImdbError,
    NoAnswerError,
    split_cause,
)
from imdb_warehouse_tests.helpers import REPLAY_DAY, license_environment, replay_client

DAY = REPLAY_DAY
SEARCH = "/search/title/?title_type=feature&genres=drama"
LICENSE = License()
IDS = ["tt0000001", "tt0000002"]


def client(replay: ReplayServer, **overrides) -> ImdbClient:
    return replay_client(replay, DAY, **{"read_timeout_seconds": 0.5, **overrides})


def ask_list(imdb: ImdbClient, genre: str = "drama"):
    return imdb.graphql(graphql.LIST_QUERY, graphql.list_variables(genre), "GenreList")


def statuses(replay: ReplayServer) -> list[int]:
    return [r.status for r in replay.requests]


def gaps(replay: ReplayServer) -> list[float]:
    """Seconds from the end of each request to the start of the next."""
    return [after.started - before.finished for before, after in pairwise(replay.requests)]


@pytest.fixture
def licensed(monkeypatch, replay):
    """The environment of a licensed subscription, with the replay's test credentials."""
    for name, value in license_environment(LICENSE).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return client(replay, graphql_url=f"{replay.url}/v1")


# --- manners, on every path ---


def test_requests_go_one_at_a_time_spaced_and_identify_themselves(replay):
    imdb = client(replay, min_interval_seconds=0.5)
    for genre in ("drama", "comedy"):
        assert ask_list(imdb, genre).status == 200
        assert imdb.fetch_search_page(genre).status == 200
    requests_ = replay.requests
    assert [r.method for r in requests_] == ["POST", "GET", "POST", "GET"]
    assert all(gap >= 0.49 for gap in gaps(replay))  # never two in flight, always spaced
    assert all(
        r.user_agent.startswith("imdb_warehouse/") and "(+https://" in r.user_agent
        for r in requests_
    )
    assert "Mozilla" not in requests_[0].user_agent  # no browser disguise
    assert requests_[1].path == (
        "/search/title/?title_type=feature&genres=drama&languages=en&sort=popularity,asc&count=50"
    )


@pytest.mark.parametrize(
    "fault", ["503", "504", "429:seconds=0", "rate-exceeded", "partial", "truncated"]
)
def test_retries_are_spaced_by_the_interval_too(replay, fault):
    replay.set_faults([f"{fault},times=2" if ":" in fault else f"{fault}:times=2"])
    exchange = ask_list(client(replay, min_interval_seconds=0.4, backoff_seconds=0.0))
    assert exchange.status == 200 and exchange.attempts == 3
    assert "errors" not in json.loads(exchange.body)
    assert len(replay.requests) == 3
    assert all(gap >= 0.39 for gap in gaps(replay)), gaps(replay)


def test_the_html_path_spaces_its_retries_as_well(replay):
    replay.set_faults([f"503:path={SEARCH},times=2"])
    page = client(replay, min_interval_seconds=0.4, backoff_seconds=0.0).fetch_search_page("drama")
    assert page.status == 200 and statuses(replay) == [503, 503, 200]
    assert all(gap >= 0.39 for gap in gaps(replay))


def test_a_retry_after_longer_than_the_interval_is_honoured_and_logged(replay, caplog):
    replay.set_faults(["429:times=1,seconds=1"])
    with caplog.at_level(logging.WARNING):
        exchange = ask_list(client(replay, min_interval_seconds=0.1))
    assert exchange.status == 200 and statuses(replay) == [429, 200]
    assert gaps(replay)[0] >= 0.95
    assert "HTTP 429; retry 1 of 2 in 1.0 s" in caplog.text


def test_a_retry_after_over_the_cap_fails_at_once_naming_the_wait(replay):
    replay.set_faults(["429:seconds=600"])
    with pytest.raises(ImdbError, match=r"asks to wait 600 s \(Retry-After\), longer than"):
        ask_list(client(replay, max_retry_after_seconds=60))
    assert statuses(replay) == [429]


def test_a_lasting_failure_gives_the_last_answer_and_its_tries(replay):
    replay.set_faults(["rate-exceeded"])
    exchange = ask_list(client(replay))
    assert exchange.status == 200 and exchange.attempts == 3
    with pytest.raises(graphql.GraphQLAnswerError, match="Rate exceeded") as error:
        graphql.answer_data(exchange.body)
    assert error.value.transient
    replay.set_faults(["503"])
    exchange = ask_list(client(replay))
    assert exchange.status == 503
    assert "HTTP 503 after 3 tries with backoff" in client(replay).refusal(exchange)


def test_a_graphql_error_that_is_not_transient_is_not_retried(replay):
    replay.set_faults(["drift"])
    exchange = ask_list(client(replay))
    assert exchange.attempts == 1 and len(replay.requests) == 1
    with pytest.raises(graphql.GraphQLAnswerError, match="Cannot query field 'titleText'"):
        graphql.answer_data(exchange.body)


# --- failures a smaller request may get through: the caller splits instead of retrying ---


def ask_titles(imdb: ImdbClient, ids: list[str], **options):
    return imdb.graphql(graphql.DETAILS_QUERY, {"ids": ids}, "TitleDetails", **options)


@pytest.mark.parametrize("fault", ["504", "503", "batch-504"])
def test_a_failure_worth_splitting_is_returned_at_once_when_the_caller_splits(replay, fault):
    replay.set_faults([fault])
    exchange = ask_titles(client(replay), IDS)
    assert (exchange.status, exchange.attempts, len(replay.requests)) == (int(fault[-3:]), 3, 3)
    replay.reset()
    exchange = ask_titles(client(replay), IDS, retry_splittable=False)
    assert (exchange.status, exchange.attempts, len(replay.requests)) == (int(fault[-3:]), 1, 1)
    assert split_cause(exchange) == f"HTTP {fault[-3:]}"


def test_a_413_is_never_retried_at_the_same_size(replay):
    replay.set_faults(["413"])
    exchange = ask_titles(client(replay), IDS)
    assert (exchange.status, exchange.attempts, statuses(replay)) == (413, 1, [413])
    assert split_cause(exchange) == "HTTP 413"


def test_the_caller_splitting_still_gets_429s_retried_and_retry_after_honoured(replay):
    replay.set_faults(["429:times=1,seconds=1"])
    exchange = ask_titles(client(replay, min_interval_seconds=0), IDS, retry_splittable=False)
    assert exchange.status == 200 and statuses(replay) == [429, 200]
    assert gaps(replay)[0] >= 0.95
    replay.reset()
    replay.set_faults(["503:times=1,seconds=1"])  # not retried, but the next request waits
    imdb = client(replay, min_interval_seconds=0)
    assert ask_titles(imdb, IDS, retry_splittable=False).status == 503
    assert ask_titles(imdb, IDS[:1], retry_splittable=False).status == 200
    assert gaps(replay)[0] >= 0.95


@pytest.mark.parametrize(
    ("fault", "problem"),
    [("slow:seconds=1", "no answer within 0.5 s"), ("truncated", "the answer was cut short")],
)
def test_no_answer_gives_the_request_for_the_archive_to_keep(replay, tmp_path, fault, problem):
    from imdb_warehouse.resources.archive import PageArchive, read_capture

    replay.set_faults([fault])
    with pytest.raises(NoAnswerError, match=problem) as raised:
        ask_titles(client(replay), IDS, retry_splittable=False)
    assert len(replay.requests) == 1
    exchange = raised.value.exchange
    assert (exchange.status, exchange.body, exchange.problem) == (0, b"", problem)
    assert exchange.request_body["variables"] == {"ids": IDS}
    assert split_cause(exchange) == problem
    kept = PageArchive(root=str(tmp_path)).store("graphql/titles", DAY, "batch-001a", exchange)
    again = read_capture(kept.path).exchange()
    assert (again.status, again.problem, again.request_body) == (0, problem, exchange.request_body)
    assert problem in client(replay).refusal(again)
    replay.reset()
    with pytest.raises(NoAnswerError, match=f"{problem}, still after 2 retries"):
        ask_titles(client(replay), IDS)
    assert len(replay.requests) == 3


# --- the public endpoint's header rule ---


def test_the_replay_enforces_the_public_header_rule(replay):
    body = json.dumps({"query": graphql.LIST_QUERY, "variables": graphql.list_variables("drama")})
    url = f"{replay.url}/"
    assert requests.post(url, data=body, timeout=5).status_code == 403
    referer = {"Referer": "https://www.imdb.com/"}
    assert requests.post(url, data=body, headers=referer, timeout=5).status_code == 415
    json_type = {**referer, "Content-Type": "application/json"}
    answer = requests.post(url, data=body, headers=json_type, timeout=5)
    assert answer.status_code == 200
    assert "Public, commercial" in answer.json()["extensions"]["disclaimer"]
    sent = ask_list(client(replay)).request_headers
    assert sent["Content-Type"] == "application/json" and sent["Referer"]


def test_a_refusal_by_the_header_rule_says_so():
    with ReplayServer(day=DAY, public_headers=["x-imdb-client-name"]) as strict:
        exchange = ask_list(client(strict))
        assert exchange.status == 403
        message = client(strict).refusal(exchange)
    assert "refuses requests without `Content-Type: application/json` and a `Referer`" in message


# --- the licensed endpoint ---


def test_the_licensed_endpoint_gets_the_key_the_ids_and_a_signature_that_verifies(replay, licensed):
    exchange = ask_list(licensed)
    assert exchange.status == 200, exchange.body
    assert graphql.genre_list(graphql.answer_data(exchange.body), "drama").titles
    assert replay.requests[-1].path == "/v1"
    kept = exchange.request_headers
    assert kept["x-amzn-dataexchange-asset-id"] == LICENSE.asset_id
    assert not {"x-api-key", "Authorization", "X-Amz-Date"} & set(kept)


@pytest.mark.parametrize(
    ("variable", "value", "refusal"),
    [
        ("AWS_SECRET_ACCESS_KEY", "not-the-secret", "InvalidSignatureException"),
        ("AWS_ACCESS_KEY_ID", "SOMEONEELSE", "UnrecognizedClientException"),
        ("IMDB_API_KEY", "wrong-key", "ForbiddenException"),
        ("IMDB_ASSET_ID", "another-asset", "AccessDeniedException"),
    ],
)
def test_a_licensed_request_that_does_not_verify_is_refused_without_the_secret(
    replay, licensed, monkeypatch, caplog, variable, value, refusal
):
    monkeypatch.setenv(variable, value)
    with caplog.at_level(logging.DEBUG):
        exchange = ask_list(licensed)
        message = licensed.refusal(exchange)
    assert exchange.status == 403 and refusal in message
    assert "licensed IMDb API refused" in message
    shown = message + caplog.text + repr(exchange)
    for secret in (LICENSE.secret_access_key, LICENSE.api_key, "not-the-secret", "wrong-key"):
        assert secret not in shown


def test_licensed_settings_that_are_missing_are_named(replay, licensed, monkeypatch):
    monkeypatch.delenv("IMDB_REVISION_ID")
    with pytest.raises(ImdbError, match="needs IMDB_REVISION_ID"):
        ask_list(licensed)
    monkeypatch.setenv("IMDB_REVISION_ID", LICENSE.revision_id)
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(ImdbError, match=r"no(ne were)? found"):
        ask_list(licensed)
    assert replay.requests == []


def test_the_licensed_endpoint_is_the_default_once_a_key_is_set(monkeypatch):
    monkeypatch.delenv("IMDB_GRAPHQL_URL", raising=False)
    monkeypatch.delenv("IMDB_API_KEY", raising=False)
    assert ImdbClient().resolved_graphql_url() == "https://api.graphql.imdb.com/"
    monkeypatch.setenv("IMDB_API_KEY", "k")
    assert ImdbClient().resolved_graphql_url().startswith("https://api-fulfill.dataexchange.")


# --- pages ---


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("503", "HTTP 503 after 3 tries"),
        ("slow:seconds=2", "no answer within 0.5 s, still after 2 retries"),
        ("truncated", "the answer was cut short, still after 2 retries"),
        ("challenge", "bot challenge (HTTP 202, x-amzn-waf-action: challenge)"),
        ("redirect-away", "redirected to https://elsewhere.invalid/"),
        ("404", "HTTP 404"),
    ],
)
def test_lasting_page_failures_fail_with_a_message_naming_the_cause(replay, fault, message):
    replay.set_faults([fault])
    with pytest.raises(ImdbError, match=message.replace("(", r"\(").replace(")", r"\)")) as error:
        client(replay).fetch_search_page("drama")
    assert f"{replay.url}/search/title/" in str(error.value)


def test_a_challenge_is_not_retried_and_says_the_wall_is_permanent(replay):
    replay.set_faults(["challenge"])
    with pytest.raises(ImdbError, match=r"for good.*use IMDB_SOURCE=graphql"):
        client(replay).fetch_search_page("drama")
    assert statuses(replay) == [202]


def test_a_removed_title_answers_its_status_instead_of_failing(replay):
    replay.set_faults(["404:path=/title/tt0000404/", "410:path=/title/tt0000410/"])
    imdb = client(replay)
    assert imdb.fetch_title_page("tt0000404").status == 404
    assert imdb.fetch_title_page("tt0000410").status == 410


def test_an_answer_over_the_size_limit_is_refused(replay):
    with pytest.raises(ImdbError, match="over the limit of 10,000 bytes"):
        client(replay, max_response_bytes=10_000).fetch_search_page("drama")
    with pytest.raises(ImdbError, match="over the limit of 10,000 bytes"):
        ask_list(client(replay, max_response_bytes=10_000))


# --- configuration ---


def test_the_endpoints_come_from_the_environment(monkeypatch, replay):
    monkeypatch.setenv("IMDB_BASE_URL", replay.url)
    monkeypatch.setenv("IMDB_GRAPHQL_URL", f"{replay.url}/")
    monkeypatch.setenv("IMDB_CONTACT", "mailto:operator@example.org")
    imdb = ImdbClient(min_interval_seconds=0.0, today=DAY.isoformat())
    assert imdb.resolved_source() == "graphql"
    assert ask_list(imdb).status == 200
    assert replay.requests[-1].user_agent.endswith("(+mailto:operator@example.org)")
    assert imdb.search_url("sci-fi").startswith(f"{replay.url}/search/title/?")
    monkeypatch.delenv("IMDB_BASE_URL")
    assert ImdbClient().resolved_base_url() == "https://www.imdb.com"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("IMDB_SOURCE", "xml", "IMDB_SOURCE='xml' is not a source; use graphql"),
        ("IMDB_WAREHOUSE_TODAY", "tomorrow", "IMDB_WAREHOUSE_TODAY='tomorrow' is not a date"),
        ("IMDB_MIN_INTERVAL_SECONDS", "soon", "IMDB_MIN_INTERVAL_SECONDS='soon' is not a number"),
    ],
)
def test_bad_settings_are_named_in_one_line(monkeypatch, variable, value, message):
    monkeypatch.setenv(variable, value)
    imdb = ImdbClient()
    with pytest.raises(ImdbError, match=message):
        imdb.resolved_source()
        imdb.now()
        imdb.interval()
