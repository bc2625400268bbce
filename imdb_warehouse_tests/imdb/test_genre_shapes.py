"""The genres of a title page in every shape IMDb's pages have carried them, newest first:
`titleGenres.genres[].genre` with `text` only (2025: no `genreId`), `titleGenres` with `genreId`,
and `genres.genres[]{id,text}` alone (2023, the real pages in shared/imdb_reference). The replay
serves all three; the real pages are read as saved and rewritten into the newer shapes."""

import copy
import json
from datetime import date

import pytest
import requests

from imdb_warehouse.imdb.fields import LayoutChangeError
from imdb_warehouse.imdb.parse import next_data, parse_title_page, title_details_row
from imdb_warehouse.imdb.urls import title_url
from imdb_warehouse.replay.pages import GENRES_SHAPES, title_page

DAY = date(2025, 6, 1)
REAL_PAGES = {  # the saved page, and the genres it shows
    "title_tt0133093_2023-05.html": ["Action", "Sci-Fi"],
    "title_tt2402107_2023-05.html": ["Drama"],
}


@pytest.fixture(scope="module")
def replay_day() -> date:
    return DAY


def _atf(html: str) -> dict:
    return next_data(html)["props"]["pageProps"]["aboveTheFoldData"]


def _shape(atf: dict) -> str:
    """Which of the replay's GENRES_SHAPES a page's aboveTheFoldData carries."""
    if "titleGenres" not in atf:
        return "v1"
    genre = atf["titleGenres"]["genres"][0]["genre"]
    return "v2" if "genreId" in genre and "genres" in atf else "v3"


def _newer_shape(atf: dict, with_ids: bool) -> dict:
    """`atf` with its genres as `titleGenres` (text only, or with ids too), without `genres`."""
    changed = {k: v for k, v in atf.items() if k != "genres"}
    changed["titleGenres"] = {
        "genres": [
            {"genre": {"text": g["text"]} | ({"genreId": g["id"]} if with_ids else {})}
            for g in atf["genres"]["genres"]
        ]
    }
    return changed


@pytest.mark.parametrize("shape", GENRES_SHAPES)
def test_a_replay_title_page_of_each_genre_shape_reads_its_genres(catalogue, shape):
    movie_day = catalogue.search("Comedy", DAY, limit=1)[0][0]
    html = title_page(catalogue, movie_day.title_id, DAY, genres_shape=shape)
    atf = _atf(html)
    assert _shape(atf) == shape
    if shape == "v3":
        assert all("genreId" not in g["genre"] for g in atf["titleGenres"]["genres"])
    row = parse_title_page(html)
    assert row["genres"] == list(movie_day.movie.genres) and "Comedy" in row["genres"]


def test_the_replay_serves_every_genre_shape_over_http(replay, catalogue):
    seen: dict[str, list[str]] = {}
    for movie_day in catalogue.search("Drama", DAY, limit=30)[0]:
        response = requests.get(replay.url + title_url("", movie_day.title_id), timeout=10)
        assert response.status_code == 200
        shape = _shape(_atf(response.text))
        seen.setdefault(shape, []).append(movie_day.title_id)
        assert parse_title_page(response.text)["genres"] == list(movie_day.movie.genres)
    assert set(seen) == set(GENRES_SHAPES), seen
    again = requests.get(replay.url + title_url("", seen["v3"][0]), timeout=10)
    assert _shape(_atf(again.text)) == "v3"  # the same page comes the same way every time


@pytest.mark.parametrize("name", REAL_PAGES)
def test_a_real_page_reads_its_genres_as_saved_and_in_each_newer_shape(reference, name):
    data = next_data((reference / name).read_text())
    atf = data["props"]["pageProps"]["aboveTheFoldData"]
    mcd = data["props"]["pageProps"]["mainColumnData"]
    assert "titleGenres" not in atf  # saved in 2023: the oldest shape
    assert [g["text"] for g in atf["genres"]["genres"]] == REAL_PAGES[name]
    as_saved = title_details_row(atf, mcd)
    assert as_saved["genres"] == REAL_PAGES[name]
    for with_ids in (True, False):
        newer = title_details_row(_newer_shape(atf, with_ids), mcd)
        assert newer == as_saved  # every other column as well


def test_the_newest_shape_wins_when_a_page_carries_two(reference):
    data = next_data((reference / "title_tt0133093_2023-05.html").read_text())
    atf, mcd = (data["props"]["pageProps"][k] for k in ("aboveTheFoldData", "mainColumnData"))
    both = _newer_shape(atf, with_ids=False) | {"genres": atf["genres"]}
    both["titleGenres"]["genres"].append({"genre": {"text": "Thriller"}})
    assert title_details_row(both, mcd)["genres"] == ["Action", "Sci-Fi", "Thriller"]
    with_ids = _newer_shape(atf, with_ids=True)
    with_ids["titleGenres"]["genres"][0]["genre"]["text"] = "Acción"  # a localised text
    assert title_details_row(with_ids, mcd)["genres"] == ["Action", "Sci-Fi"]


@pytest.mark.parametrize(
    ("genres", "message"),
    [
        ([{"genre": {"genreId": "Action"}}, {"genre": {"text": "Sci-Fi"}}], "genre.genreId is"),
        ([{"genre": {"id": "Action"}}], "aboveTheFoldData.titleGenres.genres.genre.text is miss"),
        ([{"genre": {"text": 7}}], "titleGenres.genres.genre.text is int, expected string"),
    ],
    ids=["ids-on-some", "neither-id-nor-text", "text-not-a-string"],
)
def test_titlegenres_of_another_shape_is_a_layout_change(reference, genres, message):
    data = next_data((reference / "title_tt0133093_2023-05.html").read_text())
    atf = copy.deepcopy(data["props"]["pageProps"]["aboveTheFoldData"])
    atf["titleGenres"] = {"genres": genres}
    with pytest.raises(LayoutChangeError, match=message):
        title_details_row(json.loads(json.dumps(atf)), data["props"]["pageProps"]["mainColumnData"])
