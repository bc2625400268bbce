"""The synthetic catalogue and the pages rendered from it (in process; HTTP is test_replay)."""

import base64
import json
import re
import time
from collections import Counter
from datetime import date, timedelta

import pytest

from imdb_warehouse.imdb.genres import IMDB_GENRES, MOVIE_GENRES
from imdb_warehouse.imdb.urls import DEFAULT_SEARCH_PARAMS
from imdb_warehouse.replay import pages
from imdb_warehouse.replay.catalogue import Catalogue

DAY = date(2025, 6, 1)
NEXT_DATA = re.compile(r'<script id="__NEXT_DATA__" type="application/json">(.*?)</script>', re.S)


def query(genre: str, **overrides: str) -> dict[str, str]:
    return {"title_type": "feature", "genres": genre, **DEFAULT_SEARCH_PARAMS, **overrides}


def next_data(html: str) -> dict:
    match = NEXT_DATA.search(html)
    assert match, "no __NEXT_DATA__"
    return json.loads(match.group(1))


def results(html: str) -> dict:
    return next_data(html)["props"]["pageProps"]["searchResults"]["titleResults"]


def test_building_is_fast_and_makes_thousands_of_varied_movies():
    started = time.perf_counter()
    catalogue = Catalogue(seed=3)
    assert time.perf_counter() - started < 1.0
    catalogue.search("Drama", date(2026, 12, 31))  # makes the daily stream through 2026
    movies = catalogue.movies
    assert len(movies) > 6000
    assert all(re.fullmatch(r"tt\d{7,8}", m.title_id) for m in movies)
    assert len({m.title_id for m in movies}) == len(movies)
    assert all(len(m.title_id) == 10 for m in movies if m.debut >= date(2024, 1, 1))
    assert all(set(m.genres) <= set(MOVIE_GENRES) for m in movies)
    share = Counter(len(m.genres) for m in movies)
    assert share[2] + share[3] > len(movies) / 2
    assert sum(m.debut < date(2024, 1, 1) for m in movies) > len(movies) / 2

    def fraction(predicate) -> float:
        return sum(1 for m in movies if predicate(m)) / len(movies)

    assert 0.07 < fraction(lambda m: m.title != m.original_title) < 0.16
    assert 0.10 < fraction(lambda m: "en" not in m.language_ids) < 0.22
    assert 0.02 < fraction(lambda m: m.runtime_seconds is None) < 0.09
    assert 0.06 < fraction(lambda m: m.certificate is None) < 0.16
    assert 0.01 < fraction(lambda m: m.plot is None) < 0.06
    assert 0.22 < fraction(lambda m: m.metascore is None) < 0.40
    assert 0.01 < fraction(lambda m: m.unreleased) < 0.04
    assert 0.004 < fraction(lambda m: m.removed_on is not None) < 0.02
    assert any(not m.title.isascii() for m in movies if "en" in m.language_ids)
    assert any(re.search(r"[\u3040-\u30ff\u4e00-\u9fff\u0400-\u04ff]", m.title) for m in movies)
    currencies = {
        catalogue.details(m).budget.currency for m in movies[:3000] if catalogue.details(m).budget
    }
    assert {"USD", "GBP", "EUR", "JPY"} <= currencies


def test_the_same_seed_gives_the_same_pages_and_another_seed_does_not(catalogue):
    again = Catalogue(seed=0)
    assert pages.search_data(catalogue, "sci-fi", DAY, query("sci-fi")) == pages.search_data(
        again, "sci-fi", DAY, query("sci-fi")
    )
    title_id = catalogue.search("Sci-Fi", DAY, limit=1)[0][0].title_id
    assert pages.title_data(catalogue, title_id, DAY) == pages.title_data(again, title_id, DAY)
    other = Catalogue(seed=1).search("Sci-Fi", DAY, limit=50)[0]
    assert [m.title_id for m in other] != [
        m.title_id for m in catalogue.search("Sci-Fi", DAY)[0][:50]
    ]


def test_figures_drift_from_day_to_day_votes_only_grow_and_ranks_shuffle(catalogue):
    days = [DAY + timedelta(n) for n in range(30)]
    movies = [m.movie for m in catalogue.search("Action", DAY, limit=40)[0] if m.rating]
    ratings_changed = votes_grew = 0
    for movie in movies:
        states = [catalogue.title(movie.title_id, day).movie_day for day in days]
        votes = [state.votes for state in states]
        assert votes == sorted(votes)
        votes_grew += votes[-1] > votes[0]
        ratings_changed += len({state.rating for state in states}) > 1
        assert all(1.0 <= s.rating <= 10.0 and s.rating == round(s.rating, 1) for s in states)
    assert ratings_changed > len(movies) / 2
    assert votes_grew > len(movies) / 2
    rankings = [
        [m.title_id for m in catalogue.search("Action", day, limit=50)[0]] for day in days[:3]
    ]
    assert rankings[0] != rankings[1] != rankings[2]
    assert len(set(rankings[0]) & set(rankings[1])) > 25  # a shuffle, not a new list


def test_new_movies_debut_every_day_from_2024_and_join_the_search(catalogue):
    for day in (date(2024, 1, 1), DAY, date(2030, 12, 31)):
        assert 2 <= len(catalogue.debuts_on(day)) <= 6
    newcomers = [m for m in catalogue.debuts_on(DAY) if "en" in m.language_ids]
    movie = next(m for m in newcomers if not m.removed_on)
    genre = movie.genres[0]
    before = {m.title_id for m in catalogue.search(genre, DAY - timedelta(1))[0]}
    after = {m.title_id for m in catalogue.search(genre, DAY)[0]}
    assert movie.title_id not in before and movie.title_id in after
    assert catalogue.title(movie.title_id, DAY - timedelta(1)).status == 404


@pytest.mark.parametrize("genre", ["Sci-Fi", "Western", "Drama"])
def test_search_finds_english_movies_of_the_genre_most_popular_first(catalogue, genre):
    ranked, total = catalogue.search(genre, DAY)
    assert total == len(ranked) > 50
    assert all(genre in m.movie.genres and "en" in m.movie.language_ids for m in ranked)
    assert all(m.movie.present_on(DAY) for m in ranked)
    popularity = [m.popularity for m in ranked]
    assert popularity == sorted(popularity, reverse=True)
    shown, same_total = catalogue.search(genre, DAY, limit=50)
    assert len(shown) == 50 and same_total == total


def test_film_noir_is_empty_before_february_2024_and_short_after(catalogue):
    assert catalogue.search("Film-Noir", date(2024, 1, 31)) == ([], 0)
    ranked, total = catalogue.search("Film-Noir", date(2026, 6, 1))
    assert 0 < len(ranked) == total < 50
    assert all(m.movie.debut >= date(2024, 2, 1) for m in ranked)


def test_removed_movies_leave_the_search_and_their_page_answers_404_or_410(catalogue):
    catalogue.search("Drama", date(2027, 12, 31))
    removed = [
        m
        for m in catalogue.movies
        if m.removed_on
        and date(2024, 3, 1) < m.removed_on < date(2027, 12, 31)
        and "en" in m.language_ids
    ]
    assert {m.removed_status for m in removed} == {404, 410}
    movie = removed[0]
    last_day = movie.removed_on - timedelta(1)
    assert catalogue.title(movie.title_id, last_day).status == 200
    gone = catalogue.title(movie.title_id, movie.removed_on)
    assert (gone.status, gone.reason) == (movie.removed_status, "removed")
    genre = movie.genres[0]
    assert movie.title_id in {m.title_id for m in catalogue.search(genre, last_day)[0]}
    assert movie.title_id not in {m.title_id for m in catalogue.search(genre, movie.removed_on)[0]}
    assert catalogue.title("tt0000000", DAY).status == 404


def test_search_page_is_shaped_like_imdbs(catalogue):
    started = time.perf_counter()
    html = pages.search_page(catalogue, "sci-fi", DAY, query("sci-fi"))
    assert time.perf_counter() - started < 0.5  # the first page also makes the filler
    assert 500_000 < len(html.encode()) < 1_200_000
    match = NEXT_DATA.search(html)
    assert 0.2 < match.start() / len(html) < 0.9  # in the middle, scripts after it
    data = next_data(html)
    assert (data["page"], data["buildId"]) == ("/search/[tab]", pages.BUILD_ID)
    assert data["query"] == {**query("sci-fi"), "tab": "title"}
    page_props = data["props"]["pageProps"]
    found = page_props["searchResults"]["titleResults"]
    assert len(found["titleListItems"]) == 50 < found["total"]
    assert html.count('<li class="ipc-metadata-list-summary-item"') == 25
    assert page_props["searchInput"]["titleSearchInput"] == {
        "titleTypes": {"include": ["movie"], "exclude": []},
        "genres": {"allGenreIds": ["Sci-Fi"], "excludeGenreIds": []},
        "languages": {"anyLanguages": ["en"]},
        "count": 50,
        "sortBy": "POPULARITY",
        "sortOrder": "ASC",
    }
    assert [facet["id"] for facet in page_props["searchItemMetadata"]["genres"]] == list(
        IMDB_GENRES
    )
    context = page_props["requestContext"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", context["timestamp"])
    assert context["requestPath"].startswith("/search/title/?title_type=feature&genres=sci-fi")
    cursor = json.loads(base64.b64decode(found["endCursor"]))
    effective = json.loads(cursor["filter"])
    assert effective["constraints"]["genreConstraint"]["allGenreIds"] == ["Sci-Fi"]
    assert effective["sort"] == {"sortBy": "POPULARITY", "sortOrder": "ASC"}
    assert cursor["esToken"][-1] == found["titleListItems"][-1]["titleId"]
    for item in found["titleListItems"]:
        assert "Sci-Fi" in item["genres"] and item["principalCredits"] == []
        assert item["titleType"]["id"] == "movie"
        for key in ("runtime", "certificate", "metascore"):
            assert item.get(key, "absent") is not None  # absent, never null


def test_search_items_leave_unknown_values_out_and_write_whole_ratings_as_integers(catalogue):
    items = []
    for genre in ("drama", "comedy", "horror", "action", "thriller"):
        items += results(pages.search_page(catalogue, genre, DAY, query(genre, count="250")))[
            "titleListItems"
        ]
    assert len(items) == 5 * 250
    for key in ("runtime", "certificate", "metascore", "releaseDate"):
        assert any(key not in item for item in items), key
        assert any(key in item for item in items), key
    ratings = [item["ratingSummary"]["aggregateRating"] for item in items]
    assert any(isinstance(r, int) for r in ratings) and any(isinstance(r, float) for r in ratings)


def test_count_is_honoured_and_dropping_the_genre_is_visible(catalogue):
    few = results(pages.search_page(catalogue, "war", DAY, query("war", count="7")))
    assert len(few["titleListItems"]) == 7
    data = next_data(pages.search_page(catalogue, "war", DAY, query("war"), drop_genre=True))
    understood = data["props"]["pageProps"]["searchInput"]["titleSearchInput"]
    assert "genres" not in understood
    items = data["props"]["pageProps"]["searchResults"]["titleResults"]["titleListItems"]
    assert not all("War" in item["genres"] for item in items)
    with pytest.raises(ValueError, match="unknown genre"):
        pages.search_page(catalogue, "nope", DAY, query("nope"))


def test_pretty_and_minified_pages_hold_the_same_data(catalogue):
    minified = pages.search_page(catalogue, "crime", DAY, query("crime"))
    pretty = pages.search_page(catalogue, "crime", DAY, query("crime"), pretty=True)
    assert minified.count("\n") < 50 < 1000 < pretty.count("\n")
    assert next_data(minified) == next_data(pretty)


def test_title_page_carries_the_movie_in_either_credits_shape(catalogue):
    movie_day = catalogue.search("Drama", DAY, limit=1)[0][0]
    lookup = catalogue.title(movie_day.title_id, DAY)
    v1 = next_data(pages.title_page(catalogue, movie_day.title_id, DAY))
    v2 = next_data(pages.title_page(catalogue, movie_day.title_id, DAY, credits_shape="v2"))
    atf, mcd = (
        v1["props"]["pageProps"]["aboveTheFoldData"],
        v1["props"]["pageProps"]["mainColumnData"],
    )
    assert atf["id"] == movie_day.title_id and atf["titleText"]["text"] == movie_day.movie.title
    groups = {g["category"]["id"]: g for g in atf["principalCredits"]}
    assert [c["name"]["id"] for c in groups["cast"]["credits"]] == [
        p.id for p in lookup.details.stars
    ]
    assert groups["cast"]["category"]["text"] == "Stars"
    assert "principalCreditsV2" not in atf
    atf2 = v2["props"]["pageProps"]["aboveTheFoldData"]
    assert "principalCredits" not in atf2
    assert [g["grouping"]["text"] for g in atf2["principalCreditsV2"]] == [
        "Directors",
        "Writers",
        "Stars",
    ]
    assert len(mcd["cast"]["edges"]) == len(lookup.details.cast) <= 18
    assert (
        mcd["countriesOfOrigin"]["countries"][0]["id"]
        == atf["countriesOfOrigin"]["countries"][0]["id"]
    )
    assert "__typename" in atf and "__typename" in mcd["releaseYear"]


def test_title_pages_show_money_and_missing_values_as_imdb_does(catalogue):
    seen = Counter()
    for movie_day in catalogue.search(None, DAY, limit=300)[0]:
        mcd = pages.title_data(catalogue, movie_day.title_id, DAY)["props"]["pageProps"][
            "mainColumnData"
        ]
        if mcd["productionBudget"]:
            seen[mcd["productionBudget"]["budget"]["currency"]] += 1
        for key in ("worldwideGross", "lifetimeGross", "openingWeekendGross", "releaseDate"):
            seen[key, mcd[key] is None] += 1
        if mcd["openingWeekendGross"]:
            assert re.fullmatch(r"\d{4}-\d\d-\d\d", mcd["openingWeekendGross"]["weekendEndDate"])
    assert seen["USD"] > seen["GBP"] > 0 and seen["EUR"] > 0
    for key in ("worldwideGross", "lifetimeGross", "openingWeekendGross", "releaseDate"):
        assert seen[key, True] and seen[key, False], key


def test_an_unreleased_movie_has_no_rating_and_unknown_credits(catalogue):
    movie = next(m for m in catalogue.movies if m.unreleased and m.present_on(DAY))
    atf = pages.title_data(catalogue, movie.title_id, DAY)["props"]["pageProps"]["aboveTheFoldData"]
    assert atf["ratingsSummary"]["aggregateRating"] is None
    assert atf["ratingsSummary"]["voteCount"] == 0
    for group in atf["principalCredits"]:
        assert group["credits"] == [] and group["totalCredits"] > 0


def test_title_page_of_an_unknown_title_is_unavailable(catalogue):
    with pytest.raises(pages.TitleUnavailable) as error:
        pages.title_page(catalogue, "tt0000000", DAY)
    assert error.value.status == 404


def test_other_pages_hold_no_next_data(catalogue):
    assert "__NEXT_DATA__" not in pages.challenge_page()
    assert "__NEXT_DATA__" not in pages.not_found_page()
    title_id = catalogue.search("Drama", DAY, limit=1)[0][0].title_id
    changed = pages.layout_changed_page(pages.title_data(catalogue, title_id, DAY))
    assert "__NEXT_DATA__" not in changed and title_id in changed


def test_pages_render_fast(catalogue):
    title_ids = [m.title_id for m in catalogue.search("Comedy", DAY, limit=20)[0]]
    pages.search_page(catalogue, "comedy", DAY, query("comedy"), pretty=True)  # filler made
    timings = []
    for n, title_id in enumerate(title_ids):
        started = time.perf_counter()
        pages.search_page(catalogue, "comedy", DAY, query("comedy"), pretty=n % 2 == 0)
        pages.title_page(catalogue, title_id, DAY, pretty=n % 2 == 1)
        timings.append(time.perf_counter() - started)
    assert sorted(timings)[len(timings) // 2] < 0.030  # both pages: 15 ms each, with slack
