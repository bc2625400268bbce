"""The page parsers on the variations real IMDb pages show, and on pages IMDb changed."""

import copy
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from imdb_warehouse.imdb.parse import (
    IgnoredFilterError,
    LayoutChangeError,
    next_data,
    page_kind,
    parse_search_page,
    parse_title_page,
)

CLI = str(Path(sys.executable).parent / "imdb-warehouse")


def page(data: dict, pretty: bool = False) -> str:
    """An HTML page with `data` as its __NEXT_DATA__, in the middle of other markup."""
    payload = json.dumps(data, indent=2 if pretty else None, ensure_ascii=False)
    separator = "\n    " if pretty else ""
    return separator.join(
        [
            "<!DOCTYPE html><html><head><title>IMDb</title>",
            '<script>window.__NEXT_DATA__missing = "not this one";</script></head><body>',
            '<ul class="ipc-metadata-list"><li>only some results are rendered</li></ul>',
            f'<script type="application/json" id="__NEXT_DATA__">{payload}</script>',
            "<script>self.__next_f=[]</script><footer>© IMDb</footer></body></html>",
        ]
    )


def item(title_id: str = "tt0133093", **changes) -> dict:
    base = {
        "titleId": title_id,
        "titleText": "The Matrix",
        "originalTitleText": "The Matrix",
        "titleType": {"id": "movie", "text": "", "canHaveEpisodes": False},
        "releaseYear": 1999,
        "endYear": None,
        "releaseDate": {"day": 31, "month": 3, "year": 1999, "__typename": "ReleaseDate"},
        "ratingSummary": {"aggregateRating": 8.7, "voteCount": 2_100_000},
        "runtime": 8160,
        "certificate": "R",
        "genres": ["Action", "Sci-Fi"],
        "plot": "A hacker learns the truth.",
        "metascore": 73,
        "principalCredits": [],
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not ...}


def search(items: list[dict], total: int | None = None, genre: str | None = "Sci-Fi") -> dict:
    understood = {
        "titleTypes": {"include": ["movie"], "exclude": []},
        "count": 50,
        "sortBy": "POPULARITY",
        "sortOrder": "ASC",
    }
    if genre:
        understood["genres"] = {"allGenreIds": [genre], "excludeGenreIds": []}
    return {
        "props": {
            "pageProps": {
                "searchResults": {
                    "titleResults": {
                        "titleListItems": items,
                        "total": len(items) if total is None else total,
                        "endCursor": "eyJ9",
                    }
                },
                "searchInput": {"titleSearchInput": understood},
                "requestContext": {"queryParams": {"genres": "sci-fi", "count": "50"}},
            }
        },
        "page": "/search/[tab]",
        "query": {"title_type": "feature", "genres": "sci-fi"},
    }


def test_a_search_page_reads_every_item_of_the_json_in_order():
    items = [item(f"tt{1000000 + i}", titleText=f"Movie {i}") for i in range(50)]
    parsed = parse_search_page(page(search(items, total=1234)), "sci-fi")
    assert parsed.total == 1234
    rows = parsed.rows()
    assert [r["rank"] for r in rows] == list(range(1, 51))
    assert rows[0] == {
        "rank": 1,
        "title_id": "tt1000000",
        "title": "Movie 0",
        "original_title": "The Matrix",
        "title_type": "movie",
        "release_year": 1999,
        "release_date": date(1999, 3, 31),
        "runtime_minutes": 136,
        "certificate": "R",
        "genres": ["Action", "Sci-Fi"],
        "plot": "A hacker learns the truth.",
        "rating": 8.7,
        "votes": 2_100_000,
        "metascore": 73,
    }


def test_absent_keys_are_nulls_and_integer_ratings_are_floats():
    sparse = item(
        "tt31314296",
        runtime=...,
        certificate=...,
        metascore=...,
        releaseDate=...,
        plot=...,
        ratingSummary={"aggregateRating": 5, "voteCount": 9527},
        titleText="Amélie — 東京物語",
    )
    [row] = parse_search_page(page(search([sparse]), pretty=True), "sci-fi").rows()
    assert row["runtime_minutes"] is None and row["certificate"] is None
    assert row["metascore"] is None and row["release_date"] is None and row["plot"] is None
    assert row["rating"] == 5.0 and isinstance(row["rating"], float)
    assert row["title"] == "Amélie — 東京物語"


def test_an_unreleased_title_has_no_rating_nor_votes_and_a_partial_date_is_no_date():
    unreleased = item(
        "tt38000001",
        releaseYear=None,
        releaseDate={"day": None, "month": None, "year": 2027},
        ratingSummary={"aggregateRating": None, "voteCount": 0},
    )
    [row] = parse_search_page(page(search([unreleased])), "sci-fi").rows()
    # IMDb sends 0 votes with no rating: unrated is null, as every missing value
    assert (row["release_year"], row["release_date"], row["rating"], row["votes"]) == (
        None,
        None,
        None,
        None,
    )


def test_a_page_with_total_zero_is_a_legitimate_empty_list():
    parsed = parse_search_page(page(search([], total=0)), "sci-fi")
    assert parsed.total == 0 and parsed.rows() == []


def test_a_search_where_imdb_dropped_the_genre_filter_is_an_error():
    with pytest.raises(IgnoredFilterError, match="dropped the genre filter 'Sci-Fi'"):
        parse_search_page(page(search([item()], genre=None)), "sci-fi")
    with pytest.raises(IgnoredFilterError):  # a different genre was understood
        parse_search_page(page(search([item()], genre="Drama")), "sci-fi")
    # without an explicit genre, the page's own URL parameters say what was asked
    with pytest.raises(IgnoredFilterError):
        parse_search_page(page(search([item()], genre=None)))


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda d: d["props"]["pageProps"].pop("searchResults"),
            "props.pageProps.searchResults.titleResults is missing",
        ),
        (
            lambda d: d["props"]["pageProps"]["searchResults"]["titleResults"].pop(
                "titleListItems"
            ),
            "titleResults.titleListItems is missing",
        ),
        (
            lambda d: d["props"]["pageProps"]["searchResults"]["titleResults"].update(total="many"),
            "total is str, expected int",
        ),
        (
            lambda d: d["props"]["pageProps"].pop("searchInput"),
            "searchInput.titleSearchInput is missing",
        ),
    ],
    ids=["no-results", "no-items", "total-not-int", "no-search-input"],
)
def test_a_search_page_without_the_expected_paths_is_a_layout_change(mutate, message):
    data = search([item()])
    mutate(data)
    with pytest.raises(LayoutChangeError, match=message):
        parse_search_page(page(data), "sci-fi")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"titleId": ...}, r"titleListItems\[0\].titleId is missing"),
        ({"ratingSummary": {"aggregateRating": "8.7", "voteCount": 1}}, "aggregateRating is str"),
        ({"runtime": True}, "runtime is bool"),
        ({"genres": ["Drama", 7]}, "genres holds a value that is not a string"),
    ],
)
def test_items_with_missing_ids_or_wrong_types_name_what_is_wrong(changes, message):
    with pytest.raises(LayoutChangeError, match=message):
        parse_search_page(page(search([item(**changes)])), "sci-fi").rows()


def test_a_page_without_next_data_is_a_layout_change():
    with pytest.raises(LayoutChangeError, match='no <script id="__NEXT_DATA__">'):
        next_data("<html><body><div id='__next'>IMDb</div></body></html>")
    with pytest.raises(LayoutChangeError, match="not valid JSON"):
        next_data('<script id="__NEXT_DATA__" type="application/json">{"props": </script>')
    with pytest.raises(LayoutChangeError, match="neither a search page"):
        page_kind(next_data(page({"props": {"pageProps": {"somethingNew": {}}}})))


def credits_v1() -> list[dict]:
    def group(category_id: str, text: str, people: list[tuple[str, str]], total: int | None = None):
        return {
            "totalCredits": len(people) if total is None else total,
            "category": {"text": text, "id": category_id},
            "credits": [{"name": {"nameText": {"text": name}, "id": nm}} for nm, name in people],
        }

    return [
        group(
            "director",
            "Directors",
            [("nm0905154", "Lana Wachowski"), ("nm0905152", "Lilly Wachowski")],
        ),
        group("writer", "Writers", [("nm0905152", "Lilly Wachowski")]),
        group(
            "cast",
            "Stars",
            [("nm0000206", "Keanu Reeves"), ("nm0000401", "L. Fishburne"), ("nm5", "Zoë")],
        ),
    ]


def credits_v2() -> list[dict]:
    return [
        {
            "grouping": {"text": group["category"]["text"]},
            "credits": [
                {"name": {"id": c["name"]["id"], "nameText": c["name"]["nameText"]}}
                for c in group["credits"]
            ],
        }
        for group in credits_v1()
    ]


def title(**atf_changes) -> dict:
    atf = {
        "id": "tt0133093",
        "titleText": {"text": "The Matrix"},
        "originalTitleText": {"text": "The Matrix"},
        "titleType": {"id": "movie", "text": "Movie"},
        "releaseYear": {"year": 1999, "endYear": None},
        "runtime": {"seconds": 8160},
        "certificate": {"rating": "R"},
        "genres": {
            "genres": [{"text": "Action", "id": "Action"}, {"text": "Sci-Fi", "id": "Sci-Fi"}]
        },
        "plot": {"plotText": {"plainText": "A hacker learns the truth."}},
        "ratingsSummary": {"aggregateRating": 8.7, "voteCount": 1956171},
        "metacritic": {"metascore": {"score": 73}},
        "principalCredits": credits_v1(),
    }
    atf.update(atf_changes)
    mcd = {
        "releaseDate": {
            "day": 31,
            "month": 3,
            "year": 1999,
            "country": {"id": "US", "text": "United States"},
        },
        "countriesOfOrigin": {
            "countries": [{"id": "US", "text": "United States"}, {"id": "AU", "text": "Australia"}]
        },
        "spokenLanguages": {"spokenLanguages": [{"id": "en", "text": "English"}]},
        "productionBudget": {"budget": {"amount": 250000, "currency": "NZD"}},
        "worldwideGross": {"total": {"amount": 467222728, "currency": "USD"}},
        "lifetimeGross": None,
        "openingWeekendGross": {
            "gross": {"total": {"amount": 27788331, "currency": "USD"}},
            "weekendEndDate": "1999-04-04",
        },
    }
    atf = {k: v for k, v in atf.items() if v is not ...}
    return {
        "props": {
            "pageProps": {"tconst": atf["id"], "aboveTheFoldData": atf, "mainColumnData": mcd}
        }
    }


def test_a_title_page_reads_people_in_billing_order_and_money_with_independent_nulls():
    row = parse_title_page(page(title()))
    assert row["directors"] == [
        {"id": "nm0905154", "name": "Lana Wachowski"},
        {"id": "nm0905152", "name": "Lilly Wachowski"},
    ]
    assert [s["name"] for s in row["stars"]] == ["Keanu Reeves", "L. Fishburne", "Zoë"]
    assert (row["budget_amount"], row["budget_currency"]) == (250000, "NZD")
    assert (row["gross_worldwide_amount"], row["gross_worldwide_currency"]) == (467222728, "USD")
    assert (row["gross_domestic_amount"], row["gross_domestic_currency"]) == (None, None)
    assert row["opening_weekend_end_date"] == date(1999, 4, 4)
    assert row["countries"] == ["United States", "Australia"] and row["languages"] == ["English"]
    assert (row["runtime_minutes"], row["rating"], row["metascore"]) == (136, 8.7, 73)


def test_both_credit_shapes_read_the_same():
    v1 = parse_title_page(page(title()))
    v2 = parse_title_page(
        page(title(principalCredits=..., principalCreditsV2=credits_v2()), pretty=True)
    )
    assert [v1[r] for r in ("directors", "writers", "stars")] == [
        v2[r] for r in ("directors", "writers", "stars")
    ]


def test_an_unreleased_title_has_unknown_people_not_none():
    unknown = [
        {"totalCredits": 3, "category": {"text": "Director", "id": "director"}, "credits": []},
        {"totalCredits": 0, "category": {"text": "Writers", "id": "writer"}, "credits": []},
    ]
    row = parse_title_page(
        page(
            title(
                principalCredits=unknown,
                ratingsSummary={"aggregateRating": None, "voteCount": 0},
                metacritic=None,
                runtime=None,
                certificate=None,
                releaseYear=None,
            )
        )
    )
    assert row["directors"] is None  # IMDb counts 3 but shows none: unknown
    assert row["writers"] == []  # IMDb says there are none
    assert row["stars"] is None  # not on the page: unknown
    assert (row["rating"], row["metascore"], row["runtime_minutes"], row["release_year"]) == (
        None,
    ) * 4


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda d: d["props"]["pageProps"].pop("mainColumnData"),
            "props.pageProps.mainColumnData is missing",
        ),
        (
            lambda d: d["props"]["pageProps"]["aboveTheFoldData"].pop("id"),
            "aboveTheFoldData.id is missing",
        ),
        (
            lambda d: d["props"]["pageProps"]["mainColumnData"]["productionBudget"][
                "budget"
            ].update(amount="1M"),
            "amount is str, expected int",
        ),
        (
            lambda d: d["props"]["pageProps"]["mainColumnData"]["openingWeekendGross"].update(
                weekendEndDate="soon"
            ),
            "weekendEndDate is 'soon'",
        ),
    ],
    ids=["no-main-column", "no-id", "money-not-int", "bad-date"],
)
def test_a_title_page_without_the_expected_paths_is_a_layout_change(mutate, message):
    data = copy.deepcopy(title())
    mutate(data)
    with pytest.raises(LayoutChangeError, match=message):
        parse_title_page(page(data))


def test_the_parse_command_prints_json_lines_for_either_page_kind(tmp_path):
    search_file = tmp_path / "search.html"
    search_file.write_text(page(search([item("tt0000001"), item("tt0000002", runtime=...)])))
    title_file = tmp_path / "title.html"
    title_file.write_text(page(title()), encoding="utf-8")

    out = subprocess.run(
        [CLI, "parse", str(search_file)], capture_output=True, text=True, check=True
    ).stdout
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["title_id"] for line in lines] == ["tt0000001", "tt0000002"]
    assert lines[0]["release_date"] == "1999-03-31" and lines[1]["runtime_minutes"] is None
    assert "snapshot_date" not in lines[0] and "scraped_at" not in lines[0]

    out = subprocess.run(
        [CLI, "parse", str(title_file)], capture_output=True, text=True, check=True
    ).stdout
    [line] = [json.loads(x) for x in out.splitlines()]
    assert (
        line["stars"][2] == {"id": "nm5", "name": "Zoë"} and line["gross_domestic_amount"] is None
    )


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"<html><body>A new IMDb</body></html>", 'no <script id="__NEXT_DATA__"> in the page'),
        (b"\xff\xfe not utf-8", "can't decode byte 0xff"),
        (page({"props": {"pageProps": {}}}).encode(), "neither a search page"),
    ],
    ids=["layout-change", "not-utf8", "unknown-kind"],
)
def test_the_parse_command_fails_with_a_one_line_reason(tmp_path, content, reason):
    path = tmp_path / "saved.html"
    path.write_bytes(content)
    result = subprocess.run([CLI, "parse", str(path)], capture_output=True, text=True)
    assert result.returncode == 1 and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(f"imdb-warehouse: parse {path}: ") and reason in line
