"""The replay server over real HTTP on 127.0.0.1: pages, faults, control endpoints, the CLI."""

import http.client
import json
import re
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
import requests

from imdb_warehouse.imdb import graphql
from imdb_warehouse.imdb.urls import search_url, title_url
from imdb_warehouse.replay.server import Fault, ReplayServer, parse_fault
from imdb_warehouse_tests.helpers import free_port, replay_client

DAY = date(2025, 6, 1)
NEXT_DATA = re.compile(r'<script id="__NEXT_DATA__" type="application/json">(.*?)</script>', re.S)


@pytest.fixture(scope="module")
def replay_day() -> date:
    return DAY


def get(replay: ReplayServer, path: str, **kwargs) -> requests.Response:
    return requests.get(replay.url + path, timeout=kwargs.pop("timeout", 10), **kwargs)


def search_path(genre: str) -> str:
    """The search the project's client asks for, without the host."""
    return search_url("", genre)


def next_data(response: requests.Response) -> dict:
    match = NEXT_DATA.search(response.text)
    assert match, f"no __NEXT_DATA__ in {response.url}"
    return json.loads(match.group(1))


def results(response: requests.Response) -> dict:
    return next_data(response)["props"]["pageProps"]["searchResults"]["titleResults"]


def control(replay: ReplayServer, method: str, action: str, body=None) -> requests.Response:
    return requests.request(method, f"{replay.url}/__replay__/{action}", json=body, timeout=10)


# --- pages ---


def test_search_page_lists_english_movies_of_the_genre(replay, catalogue):
    response = get(replay, search_path("sci-fi"))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert int(response.headers["Content-Length"]) == len(response.content) > 500_000
    found = results(response)
    items = found["titleListItems"]
    assert len(items) == 50 <= found["total"]
    assert response.text.count('<li class="ipc-metadata-list-summary-item"') == 25
    for item in items:
        movie = catalogue.movie(item["titleId"])
        assert "Sci-Fi" in item["genres"] and "en" in movie.language_ids
    understood = next_data(response)["props"]["pageProps"]["searchInput"]["titleSearchInput"]
    assert understood["genres"] == {"allGenreIds": ["Sci-Fi"], "excludeGenreIds": []}


def test_search_without_a_known_genre_is_a_clear_400(replay):
    missing = get(replay, "/search/title/?title_type=feature")
    unknown = get(replay, "/search/title/?genres=space-opera")
    assert (missing.status_code, unknown.status_code) == (400, 400)
    assert "genres=" in missing.text and "unknown genre 'space-opera'" in unknown.text


def test_unknown_addresses_are_404(replay):
    assert get(replay, "/chart/top/").status_code == 404


def test_the_same_seed_and_day_serve_the_same_data(replay):
    with ReplayServer(day=DAY, seed=0) as twin:
        mine, theirs = get(replay, search_path("horror")), get(twin, search_path("horror"))
    assert results(mine) == results(theirs)


def test_figures_drift_and_new_movies_appear_from_day_to_day(replay, catalogue):
    votes: dict[str, list[int]] = {}
    rankings = []
    for day in ("2025-06-01", "2025-06-02", "2025-06-03"):
        assert control(replay, "POST", "day", {"day": day}).json() == {"day": day}
        items = results(get(replay, search_path("action")))["titleListItems"]
        rankings.append([item["titleId"] for item in items])
        for item in items:
            votes.setdefault(item["titleId"], []).append(item["ratingSummary"]["voteCount"])
    assert rankings[0] != rankings[1] != rankings[2]
    assert all(counts == sorted(counts) for counts in votes.values())
    assert any(counts[0] < counts[-1] for counts in votes.values())
    newcomer = next(m for m in catalogue.debuts_on(date(2025, 6, 3)) if "en" in m.language_ids)
    path = title_url("", newcomer.title_id)
    replay.set_day(date(2025, 6, 2))
    assert get(replay, path).status_code == 404
    replay.set_day(date(2025, 6, 3))
    assert get(replay, path).status_code == 200


def test_film_noir_is_empty_early_and_short_later(replay):
    replay.set_day(date(2024, 1, 20))
    early = results(get(replay, search_path("film-noir")))
    assert (early["titleListItems"], early["total"]) == ([], 0)
    replay.set_day(date(2026, 6, 1))
    later = results(get(replay, search_path("film-noir")))
    assert 0 < len(later["titleListItems"]) == later["total"] < 50


def test_title_pages_for_present_unknown_and_removed_titles(replay, catalogue):
    present = catalogue.search("Drama", DAY, limit=1)[0][0].title_id
    page = get(replay, title_url("", present))
    assert page.status_code == 200
    assert next_data(page)["props"]["pageProps"]["aboveTheFoldData"]["id"] == present
    assert get(replay, f"/title/{present}").status_code == 200  # no trailing slash: tolerated
    assert get(replay, "/title/tt0000000/").status_code == 404
    removed = next(m for m in catalogue.movies if m.removed_on and m.removed_on <= DAY)
    assert get(replay, title_url("", removed.title_id)).status_code == removed.removed_status


def test_pages_come_pretty_and_minified_and_credits_in_both_shapes(replay, catalogue):
    shapes, layouts = set(), set()
    for movie_day in catalogue.search("Comedy", DAY, limit=12)[0]:
        page = get(replay, title_url("", movie_day.title_id))
        atf = next_data(page)["props"]["pageProps"]["aboveTheFoldData"]
        shapes.add("v2" if "principalCreditsV2" in atf else "v1")
        layouts.add("pretty" if page.text.count("\n") > 1000 else "minified")
    assert shapes == {"v1", "v2"} and layouts == {"pretty", "minified"}


# --- faults ---


def test_429_says_when_to_retry(replay):
    replay.set_faults(["429:seconds=3"])
    response = get(replay, search_path("war"))
    assert (response.status_code, response.headers["Retry-After"]) == (429, "3")
    assert replay.requests[-1].fault == "429"


def test_503(replay):
    replay.set_faults(["503"])
    assert get(replay, search_path("war")).status_code == 503


def test_slow_answers_after_the_client_gave_up(replay):
    replay.set_faults(["slow:seconds=2"])
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        get(replay, search_path("war"), timeout=0.5)
    assert time.monotonic() - started < 1.5
    assert replay.requests[-1].fault == "slow"


def test_truncated_announces_the_whole_body_and_sends_half(replay):
    replay.set_faults(["truncated"])
    connection = http.client.HTTPConnection("127.0.0.1", replay.port, timeout=10)
    connection.request("GET", search_path("war"))
    response = connection.getresponse()
    announced = int(response.headers["Content-Length"])
    with pytest.raises(http.client.IncompleteRead) as error:
        response.read()
    assert len(error.value.partial) == announced // 2
    connection.close()


def _titles(replay: ReplayServer, ids: list[str]) -> tuple[int, dict | None]:
    """A `titles` request of the project's details query, once: the status and answer."""
    imdb = replay_client(replay, DAY, max_retries=0)
    exchange = imdb.graphql(graphql.DETAILS_QUERY, {"ids": ids}, "TitleDetails")
    return exchange.status, json.loads(exchange.body) if exchange.status == 200 else None


def test_batch_504_fails_titles_batches_over_max_and_id_picks_the_batches_of_one_title(replay):
    ids = [f"tt{n:07d}" for n in range(1, 5)]
    replay.set_faults(["batch-504:max=2"])
    assert [_titles(replay, ids[:n])[0] for n in (4, 3, 2, 1)] == [504, 504, 200, 200]
    lists = replay_client(replay, DAY, max_retries=0).graphql(
        graphql.LIST_QUERY, graphql.list_variables("war"), "GenreList"
    )
    assert lists.status == 200  # a list is no batch of titles
    assert [r.fault for r in replay.requests] == ["batch-504", "batch-504", None, None, None]
    replay.set_faults([f"413:path=/graphql/TitleDetails,id={ids[1]}"])
    assert [_titles(replay, batch)[0] for batch in (ids, ids[2:], ids[1:2])] == [413, 200, 413]
    replay.set_faults([f"404:id={ids[1]}"])
    assert get(replay, f"/title/{ids[1]}/").status_code == 404
    assert get(replay, f"/title/{ids[2]}/").status_code == 404  # unknown to the catalogue
    assert replay.requests[-2].fault == "404" and replay.requests[-1].fault is None


def test_drift_refuses_the_field_it_names_as_imdbs_validation_would(replay):
    replay.set_faults(["drift:field=principalCredits"])
    status, answer = _titles(replay, ["tt0000001"])
    assert status == 200 and answer is not None and answer["data"] is None
    [error] = answer["errors"]
    assert error["message"].startswith("Cannot query field 'principalCredits' on type 'Title'.")
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    listed = replay_client(replay, DAY).graphql(
        graphql.LIST_QUERY, graphql.list_variables("war"), "GenreList"
    )
    assert "errors" not in json.loads(listed.body)  # the list query does not ask for it


def test_challenge_is_a_202_with_the_waf_header_and_no_data(replay):
    replay.set_faults(["challenge"])
    response = get(replay, search_path("war"))
    assert response.status_code == 202
    assert response.headers["x-amzn-waf-action"] == "challenge"
    assert "__NEXT_DATA__" not in response.text and "AwsWafIntegration" in response.text


def test_layout_change_keeps_the_data_somewhere_else(replay, catalogue):
    replay.set_faults(["layout"])
    title_id = catalogue.search("Drama", DAY, limit=1)[0][0].title_id
    for path in (search_path("war"), title_url("", title_id)):
        response = get(replay, path)
        assert response.status_code == 200 and "__NEXT_DATA__" not in response.text
    assert title_id in response.text


def test_dropped_filter_returns_other_genres_and_says_so(replay):
    replay.set_faults(["dropped-filter"])
    data = next_data(get(replay, search_path("western")))["props"]["pageProps"]
    assert "genres" not in data["searchInput"]["titleSearchInput"]
    items = data["searchResults"]["titleResults"]["titleListItems"]
    assert not all("Western" in item["genres"] for item in items)


def test_redirect_away_points_off_site(replay):
    replay.set_faults(["redirect-away:path=/search/"])
    response = get(replay, search_path("war"), allow_redirects=False)
    assert response.status_code == 302
    assert response.headers["Location"] == "https://elsewhere.invalid" + search_path("war")


@pytest.mark.parametrize("status", [404, 410])
def test_404_and_410(replay, catalogue, status):
    title_id = catalogue.search("Drama", DAY, limit=1)[0][0].title_id
    replay.set_faults([f"{status}:path=/title/"])
    assert get(replay, title_url("", title_id)).status_code == status
    assert get(replay, search_path("war")).status_code == 200  # other paths unaffected


def test_rate_decides_the_same_way_every_run(replay):
    def run() -> list[int]:
        replay.set_faults(["503:rate=0.5"])
        return [get(replay, "/nowhere/").status_code for _ in range(24)]

    first = run()
    assert first == run()
    assert set(first) == {404, 503}


def test_times_limits_how_often_a_fault_applies(replay):
    replay.set_faults(["429:times=2"])
    assert [get(replay, "/nowhere/").status_code for _ in range(4)] == [429, 429, 404, 404]


def test_fault_specs_parse_strictly():
    assert parse_fault("429:path=/search/title/?sort=popularity,asc,rate=0.5,seconds=2") == Fault(
        "429", path="/search/title/?sort=popularity,asc", rate=0.5, seconds=2.0
    )
    assert str(parse_fault("slow:times=3,seconds=2")) == "slow:times=3,seconds=2"
    assert parse_fault("batch-504:max=60") == Fault("batch-504", max=60)
    assert str(parse_fault("504:id=tt0133093,path=/graphql/TitleDetails")) == (
        "504:path=/graphql/TitleDetails,id=tt0133093"
    )
    assert parse_fault("drift:field=principalCredits").drifted_field == "principalCredits"
    for bad, message in [
        ("teapot", "unknown fault kind"),
        ("503:colour=red", "unknown fault option"),
        ("503:rate=2", "between 0 and 1"),
        ("503:rate=often", "bad fault option value"),
        ("503:path=search", "must start with '/'"),
        ("503:times", "not key=value"),
        ("503:times=1,times=2", "given twice"),
        ("batch-504:max=-1", "max must not be negative"),
        ("batch-504:max=many", "bad fault option value"),
        ("503:field=titleText", "only for drift"),
        ("drift:field=nope", "Title has no field 'nope'"),
    ]:
        with pytest.raises(ValueError, match=message):
            parse_fault(bad)
    with pytest.raises(ValueError, match="unknown fault kind 'nope'"):
        ReplayServer(faults=["nope"])


# --- control endpoints and the request log ---


def test_control_endpoints(replay):
    assert control(replay, "POST", "faults", ["503:path=/title/", "slow:seconds=2"]).json() == {
        "faults": ["503:path=/title/", "slow:seconds=2"]
    }
    assert control(replay, "GET", "faults").json()["faults"] == [
        "503:path=/title/",
        "slow:seconds=2",
    ]
    bad = control(replay, "POST", "faults", ["bogus"])
    assert bad.status_code == 400 and "unknown fault kind" in bad.json()["error"]
    assert [str(f) for f in replay.faults] == ["503:path=/title/", "slow:seconds=2"]  # unchanged
    control(replay, "POST", "faults", [])
    assert control(replay, "POST", "day", {"day": None}).json() == {"day": None}
    today = next_data(get(replay, search_path("war")))["props"]["pageProps"]["requestContext"]
    assert today["timestamp"][:10] == time.strftime("%Y-%m-%d", time.gmtime())
    assert control(replay, "POST", "day", {"day": "nonsense"}).status_code == 400
    control(replay, "POST", "day", {"day": "2025-06-01"})
    assert replay.day == DAY
    assert len(control(replay, "GET", "requests").json()) == 1  # control calls are not logged
    assert control(replay, "POST", "reset").status_code == 200
    assert control(replay, "GET", "requests").json() == [] == replay.requests


def test_the_request_log_records_each_page_request(replay):
    headers = {"User-Agent": "test-agent/1.0", "Accept-Language": "en-US,en;q=0.5"}
    replay.set_faults(["503:path=/nowhere/"])
    get(replay, search_path("war"), headers=headers)
    get(replay, "/nowhere/", headers=headers)
    first, second = replay.requests
    assert first.path == search_path("war") and first.method == "GET"
    assert (first.user_agent, first.accept_language) == (
        headers["User-Agent"],
        headers["Accept-Language"],
    )
    assert (first.status, first.fault, second.status, second.fault) == (200, None, 503, "503")
    assert first.started <= first.finished <= second.started
    logged = control(replay, "GET", "requests").json()
    assert [entry["status"] for entry in logged] == [200, 503]


# --- the command ---


def test_the_replay_command_serves_until_interrupted():
    port = free_port()
    command = Path(sys.executable).parent / "imdb-warehouse"
    process = subprocess.Popen(
        [
            str(command),
            "replay",
            "--port",
            str(port),
            "--date",
            "2025-06-01",
            "--faults",
            "410:path=/title/tt0000001/",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert line == f"replay: serving IMDb for 2025-06-01 at http://127.0.0.1:{port}\n"
        url = f"http://127.0.0.1:{port}"
        assert requests.get(url + search_path("war"), timeout=10).status_code == 200
        assert requests.get(url + "/title/tt0000001/", timeout=10).status_code == 410
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    finally:
        process.kill()
        process.wait()
