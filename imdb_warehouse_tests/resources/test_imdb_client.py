"""ImdbClient over real HTTP to the offline IMDb (the replay server), faults included."""

from datetime import date
from itertools import pairwise

import pytest

from imdb_warehouse.replay.server import ReplayServer
from imdb_warehouse.resources.imdb_client import ImdbClient, ImdbError

DAY = date(2025, 3, 1)
SEARCH = "/search/title/?title_type=feature&genres=drama"


@pytest.fixture(scope="module")
def replay():
    with ReplayServer(day=DAY) as server:
        yield server


@pytest.fixture
def server(replay):
    replay.set_faults([])
    replay.requests.clear()
    yield replay
    replay.set_faults([])


def client(server: ReplayServer, **overrides) -> ImdbClient:
    settings = {
        "base_url": server.url,
        "min_interval_seconds": 0.0,
        "backoff_seconds": 0.05,
        "max_retries": 2,
        "read_timeout_seconds": 0.5,
        "today": DAY.isoformat(),
    }
    return ImdbClient(**{**settings, **overrides})


def statuses(server: ReplayServer) -> list[int]:
    return [r.status for r in server.requests if not r.path.startswith("/__replay__")]


def test_requests_go_one_at_a_time_a_second_apart_and_identify_themselves(server):
    imdb = client(server, min_interval_seconds=1.0)
    for genre in ("drama", "comedy", "horror"):
        assert imdb.fetch_search_page(genre).status == 200
    requests = server.requests
    assert len(requests) == 3
    for before, after in pairwise(requests):
        assert after.started - before.started >= 0.99
        assert after.started >= before.finished  # never two in flight
    assert all("Mozilla/5.0" in r.user_agent and "imdb_warehouse" in r.user_agent for r in requests)
    assert all(r.accept_language.startswith("en-US") for r in requests)
    assert requests[0].path == (
        "/search/title/?title_type=feature&genres=drama&languages=en&sort=popularity,asc&count=50"
    )


def test_a_429_is_retried_after_the_time_it_asks_for(server):
    server.set_faults([f"429:path={SEARCH},times=1,seconds=1"])
    page = client(server).fetch_search_page("drama")
    assert page.status == 200 and b"__NEXT_DATA__" in page.body
    first, second = server.requests
    assert (first.status, second.status) == (429, 200)
    assert second.started - first.finished >= 0.95  # Retry-After: 1


@pytest.mark.parametrize("kind", ["503", "slow", "truncated"])
def test_passing_failures_are_retried_to_success(server, kind):
    server.set_faults([f"{kind}:path={SEARCH},times=2,seconds=2"])
    page = client(server).fetch_search_page("drama")
    assert page.status == 200 and page.body.rstrip().endswith(b"</html>")
    assert len(statuses(server)) == 3


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("503", "HTTP 503 after 2 retries"),
        ("slow:seconds=2", "no answer within 0.5 s in 3 tries"),
        ("truncated", "the response was cut short 3 times"),
        ("challenge", "bot challenge (HTTP 202, x-amzn-waf-action: challenge)"),
        ("redirect-away", "redirected to https://elsewhere.invalid/"),
        ("404", "HTTP 404"),
    ],
)
def test_lasting_failures_fail_with_a_message_naming_the_cause(server, fault, message):
    server.set_faults([fault])
    with pytest.raises(ImdbError, match=message.replace("(", r"\(").replace(")", r"\)")) as error:
        client(server).fetch_search_page("drama")
    assert f"{server.url}/search/title/" in str(error.value)


def test_a_challenge_is_not_retried(server):
    server.set_faults(["challenge"])
    with pytest.raises(ImdbError):
        client(server).fetch_search_page("drama")
    assert statuses(server) == [202]


def test_a_removed_title_answers_its_status_instead_of_failing(server):
    server.set_faults(["404:path=/title/tt0000404/", "410:path=/title/tt0000410/"])
    imdb = client(server)
    assert imdb.fetch_title_page("tt0000404").status == 404
    assert imdb.fetch_title_page("tt0000410").status == 410


def test_a_response_over_the_size_limit_is_refused(server):
    with pytest.raises(ImdbError, match="over the limit of 10,000 bytes"):
        client(server, max_response_bytes=10_000).fetch_search_page("drama")


def test_the_base_url_comes_from_the_environment(monkeypatch, server):
    monkeypatch.setenv("IMDB_BASE_URL", server.url)
    imdb = ImdbClient(min_interval_seconds=0.0, today=DAY.isoformat())
    assert imdb.search_url("sci-fi").startswith(f"{server.url}/search/title/?")
    assert imdb.fetch_title_page(_some_title(server)).status == 200
    monkeypatch.delenv("IMDB_BASE_URL")
    assert ImdbClient().resolved_base_url() == "https://www.imdb.com"


def _some_title(server: ReplayServer) -> str:
    from imdb_warehouse.replay.catalogue import Catalogue

    movies, _ = Catalogue().search("Drama", DAY)
    return movies[0].title_id
