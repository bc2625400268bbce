"""The parsers over pages the offline IMDb generates, checked against the catalogue's truth.

The sample is large enough to hold every variation real pages show; each test first asserts
that the variation it relies on is in the sample, so a change of catalogue cannot hollow it.
"""

from datetime import date

import pytest

from imdb_warehouse.imdb.parse import parse_search_page, parse_title_page
from imdb_warehouse.imdb.urls import DEFAULT_SEARCH_PARAMS
from imdb_warehouse.partitions import GENRES
from imdb_warehouse.replay.pages import search_page, title_page

DAY = date(2025, 6, 1)


@pytest.fixture(scope="module")
def searched(catalogue) -> list[tuple[dict, object]]:
    """(parsed row, catalogue truth) for every result of every genre, pages pretty and minified."""
    pairs = []
    for i, genre in enumerate(GENRES):
        html = search_page(
            catalogue, genre, DAY, {**DEFAULT_SEARCH_PARAMS, "genres": genre}, pretty=i % 2 == 0
        )
        page = parse_search_page(html, genre)
        truth, total = catalogue.search(page.asked_genre, DAY, limit=50)
        assert page.total == total
        pairs += list(zip(page.rows(), truth, strict=True))
    return pairs


def test_search_rows_are_the_catalogues_movies_in_order(searched):
    for row, truth in searched:
        movie = truth.movie
        assert row["title_id"] == movie.title_id
        assert (row["title"], row["original_title"]) == (movie.title, movie.original_title)
        assert (row["rating"], row["votes"]) == (truth.rating, _votes(truth))
        assert row["metascore"] == movie.metascore
        assert row["certificate"] == movie.certificate and row["plot"] == movie.plot
        expected_minutes = (
            None if movie.runtime_seconds is None else round(movie.runtime_seconds / 60)
        )
        assert row["runtime_minutes"] == expected_minutes
        assert row["release_year"] == movie.release_year
        assert row["release_date"] in (movie.release_date, None)
        assert row["genres"] == list(movie.genres)


def test_the_sample_holds_every_search_variation(searched):
    rows = [row for row, _ in searched]
    assert any(r["runtime_minutes"] is None for r in rows)  # runtime key absent
    assert any(r["certificate"] is None for r in rows)  # certificate key absent
    assert any(r["metascore"] is None for r in rows)  # metascore key absent
    assert any(r["rating"] is not None and r["rating"] == int(r["rating"]) for r in rows)  # "5"
    assert any(r["rating"] is None for r in rows)  # unreleased
    assert any(not r["title"].isascii() for r in rows)  # non-ASCII titles
    assert any(r["title"] != r["original_title"] for r in rows)


@pytest.fixture(scope="module")
def titled(catalogue, searched) -> list[tuple[dict, object, str]]:
    """(parsed row, catalogue truth, credits shape) for every ranked title, both shapes."""
    ids = list(dict.fromkeys(truth.movie.title_id for _, truth in searched))
    pairs = []
    for i, title_id in enumerate(ids):
        shape = ("v1", "v2")[i % 2]
        html = title_page(catalogue, title_id, DAY, credits_shape=shape, pretty=i % 3 == 0)
        pairs.append((parse_title_page(html), catalogue.title(title_id, DAY), shape))
    return pairs


def _people(people) -> list[dict]:
    return [{"id": p.id, "name": p.name} for p in people]


def test_title_rows_carry_the_catalogues_people_countries_and_money(titled):
    for row, truth, _ in titled:
        details, box_office = truth.details, truth.box_office
        for role, people, total in (
            ("directors", details.directors, details.total_directors),
            ("writers", details.writers, details.total_writers),
            ("stars", details.stars, details.total_cast),
        ):
            expected = _people(people) if people else (None if total else [])
            assert row[role] == expected, (row["title_id"], role)
        assert row["countries"] == [c.text for c in details.countries]
        languages = truth.movie_day.movie.languages
        assert row["languages"] == (
            None if languages is None else [lang.text for lang in languages]
        )
        budget = details.budget
        assert (row["budget_amount"], row["budget_currency"]) == (
            (budget.amount, budget.currency) if budget else (None, None)
        )
        for prefix, money in (
            ("gross_worldwide", box_office.worldwide),
            ("gross_domestic", box_office.domestic),
            ("opening_weekend", box_office.opening_weekend),
        ):
            assert (row[f"{prefix}_amount"], row[f"{prefix}_currency"]) == (
                (money.amount, money.currency) if money else (None, None)
            )
        assert row["opening_weekend_end_date"] == box_office.weekend_end
        assert row["rating"] == truth.movie_day.rating
        assert row["votes"] == _votes(truth.movie_day)


def test_the_sample_holds_every_title_variation(titled):
    rows = [row for row, _, _ in titled]
    assert {shape for _, _, shape in titled} == {"v1", "v2"}
    assert any(r["directors"] is None for r in rows)  # unreleased: credits unknown
    currencies = {r["budget_currency"] for r in rows} - {None}
    assert len(currencies) >= 3 and "USD" in currencies  # budgets in several currencies
    assert any(r["budget_amount"] and r["gross_worldwide_amount"] is None for r in rows)
    assert any(r["gross_worldwide_amount"] and r["opening_weekend_amount"] is None for r in rows)
    assert any(r["metascore"] is None for r in rows) and any(
        r["runtime_minutes"] is None for r in rows
    )
    assert any(not r["title"].isascii() for r in rows)


def _votes(movie_day) -> int | None:
    """IMDb sends 0 votes for an unrated title; the rows hold null, as for any missing value."""
    return None if movie_day.rating is None else movie_day.votes
