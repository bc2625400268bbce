"""Read IMDb's search and title pages: the JSON in `<script id="__NEXT_DATA__">`, not the HTML.

Missing values are often absent keys rather than nulls; absent means null here, never 0 or "".
A page without that JSON or without the paths below is a layout change and raises
`LayoutChangeError` naming what is missing: an empty day is never made up from a page IMDb
changed. See shared/imdb_reference/FORMAT.md for what real pages hold.
"""

import json
from dataclasses import dataclass
from typing import Any

from bs4 import BeautifulSoup

from imdb_warehouse.imdb.fields import (
    IgnoredFilterError,
    LayoutChangeError,
    iso_date,
    lookup,
    minutes,
    optional,
    required,
    strings,
    texts,
    to_date,
    votes,
    whole,
)
from imdb_warehouse.imdb.genres import GENRE_BY_SLUG

SEARCH_RESULTS = ("props", "pageProps", "searchResults", "titleResults")
SEARCH_INPUT = ("props", "pageProps", "searchInput", "titleSearchInput")
ABOVE_THE_FOLD = ("props", "pageProps", "aboveTheFoldData")
MAIN_COLUMN = ("props", "pageProps", "mainColumnData")
ROLES = ("director", "writer", "star")


@dataclass(frozen=True)
class SearchPage:
    total: int
    items: list[dict]  # titleListItems as IMDb sent them, in page order
    asked_genre: str | None  # the IMDb genre name of the URL's `genres=`

    def rows(self) -> list[dict]:
        return [search_item_row(item, rank) for rank, item in enumerate(self.items, start=1)]


def next_data(html: str) -> dict:
    """The `__NEXT_DATA__` JSON of a page."""
    script = _next_data_script(html)
    if script is None:
        raise LayoutChangeError('no <script id="__NEXT_DATA__"> in the page')
    try:
        data = json.loads(script.string or "")
    except json.JSONDecodeError as error:
        raise LayoutChangeError(f"__NEXT_DATA__ is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise LayoutChangeError("__NEXT_DATA__ is not a JSON object")
    return data


def _next_data_script(html: str):
    # BeautifulSoup reads just the element: tokenising a whole 1 MB page would take ~50 ms.
    at = html.find("__NEXT_DATA__")
    while at != -1:
        start, end = html.rfind("<script", 0, at), html.find("</script>", at)
        if start != -1 and end != -1:
            soup = BeautifulSoup(html[start : end + len("</script>")], "html.parser")
            script = soup.find("script", id="__NEXT_DATA__")
            if script is not None:
                return script
        at = html.find("__NEXT_DATA__", at + 1)
    return BeautifulSoup(html, "html.parser").find("script", id="__NEXT_DATA__")


def page_kind(data: dict) -> str:
    """`search` or `title`, from the JSON's own content."""
    page_props = (
        data.get("props", {}).get("pageProps") if isinstance(data.get("props"), dict) else None
    )
    if isinstance(page_props, dict) and "searchResults" in page_props:
        return "search"
    if isinstance(page_props, dict) and "aboveTheFoldData" in page_props:
        return "title"
    raise LayoutChangeError(
        "neither a search page (props.pageProps.searchResults) "
        "nor a title page (props.pageProps.aboveTheFoldData)"
    )


def parse_search_page(html: str, genre: str | None = None) -> SearchPage:
    """The results of a genre search page; `genre` (slug or name) is what was asked for.

    Without `genre`, the page's own URL parameters (`genres=`) say what was asked.
    """
    data = next_data(html)
    results = required(data, SEARCH_RESULTS, dict)
    items = required(results, ("titleListItems",), list, SEARCH_RESULTS)
    total = required(results, ("total",), int, SEARCH_RESULTS)
    understood = required(data, SEARCH_INPUT, dict)
    asked = _genre_name(genre if genre is not None else _asked_genre(data))
    if asked is not None and not _applies_genre(understood, asked):
        raise IgnoredFilterError(
            f"IMDb dropped the genre filter {asked!r}: the query it understood "
            f"(searchInput.titleSearchInput) has no such genre: {json.dumps(understood)[:300]}"
        )
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise LayoutChangeError(
                f"searchResults.titleResults.titleListItems[{index}] is not an object"
            )
    return SearchPage(total=total, items=items, asked_genre=asked)


def search_item_row(item: dict, rank: int) -> dict:
    """One search result as a staging.movie_rankings row (no snapshot_date, genre, scraped_at)."""
    where = f"titleListItems[{rank - 1}]"
    title_id = required(item, ("titleId",), str, where)
    rating = optional(item, ("ratingSummary", "aggregateRating"), (int, float), where)
    return {
        "rank": rank,
        "title_id": title_id,
        "title": required(item, ("titleText",), str, where),
        "original_title": optional(item, ("originalTitleText",), str, where),
        "title_type": optional(item, ("titleType", "id"), str, where),
        "release_year": optional(item, ("releaseYear",), int, where),
        "release_date": to_date(optional(item, ("releaseDate",), dict, where)),
        "runtime_minutes": minutes(optional(item, ("runtime",), int, where)),
        "certificate": optional(item, ("certificate",), str, where) or None,
        "genres": strings(optional(item, ("genres",), list, where), f"{where}.genres"),
        "plot": optional(item, ("plot",), str, where) or None,
        "rating": float(rating) if rating is not None else None,
        "votes": votes(rating, optional(item, ("ratingSummary", "voteCount"), int, where)),
        "metascore": optional(item, ("metascore",), int, where),
    }


def parse_title_page(html: str) -> dict:
    """A title page as a staging.title_details row (without scraped_at)."""
    return title_details_row(*title_page_parts(html))


def title_page_parts(html: str) -> tuple[dict, dict]:
    """A title page's aboveTheFoldData and mainColumnData: all the details come from these."""
    data = next_data(html)
    return required(data, ABOVE_THE_FOLD, dict), required(data, MAIN_COLUMN, dict)


def title_details_row(
    atf: dict, mcd: dict, where: tuple[str, str] = ("aboveTheFoldData", "mainColumnData")
) -> dict:
    """The details of a title from its page's aboveTheFoldData and mainColumnData, or from a
    GraphQL `Title` (passed as both: the page's data is the answer of the same fields)."""
    a, m = where
    rating = optional(atf, ("ratingsSummary", "aggregateRating"), (int, float), a)
    row = {
        "title_id": required(atf, ("id",), str, a),
        "title": required(atf, ("titleText", "text"), str, a),
        "original_title": optional(atf, ("originalTitleText", "text"), str, a),
        "title_type": optional(atf, ("titleType", "id"), str, a),
        "release_year": optional(atf, ("releaseYear", "year"), int, a),
        "release_date": to_date(optional(mcd, ("releaseDate",), dict, m)),
        "runtime_minutes": minutes(optional(atf, ("runtime", "seconds"), int, a)),
        "certificate": optional(atf, ("certificate", "rating"), str, a) or None,
        "genres": _genres(atf, a),
        "plot": optional(atf, ("plot", "plotText", "plainText"), str, a) or None,
        "rating": float(rating) if rating is not None else None,
        "votes": votes(rating, optional(atf, ("ratingsSummary", "voteCount"), int, a)),
        "metascore": optional(atf, ("metacritic", "metascore", "score"), int, a),
        "countries": texts(mcd, ("countriesOfOrigin", "countries"), m),
        "languages": texts(mcd, ("spokenLanguages", "spokenLanguages"), m),
        **_credits(atf, a),
    }
    for prefix, path in (
        ("budget", ("productionBudget", "budget")),
        ("gross_worldwide", ("worldwideGross", "total")),
        ("gross_domestic", ("lifetimeGross", "total")),
        ("opening_weekend", ("openingWeekendGross", "gross", "total")),
    ):
        money = optional(mcd, path, dict, m) or {}
        at = f"{m}.{'.'.join(path)}"
        row[f"{prefix}_amount"] = whole(optional(money, ("amount",), (int, float), at), at)
        row[f"{prefix}_currency"] = optional(money, ("currency",), str, at)
    weekend_end = optional(mcd, ("openingWeekendGross", "weekendEndDate"), str, m)
    row["opening_weekend_end_date"] = iso_date(
        weekend_end, f"{m}.openingWeekendGross.weekendEndDate"
    )
    return row


def _genres(title: dict, where: str) -> list[str]:
    """The title's genres, from the newest shape that holds any (a page may carry two):
    `titleGenres.genres[].genre` by its `genreId` (GraphQL, pages with ids), or by its `text`
    where IMDb sends no id (pages of 2025); else `genres.genres[].text` (pages of 2023). IMDb's
    genre ids are the English names (`Sci-Fi`), so every shape gives the same list."""
    listed = optional(title, ("titleGenres", "genres"), list, where)
    if listed:
        ids = any(lookup(g, ("genre", "genreId"))[1] is not None for g in listed)
        path = ("genre", "genreId" if ids else "text")
        return [required(g, path, str, f"{where}.titleGenres.genres") for g in listed]
    return [
        required(g, ("text",), str, f"{where}.genres.genres")
        for g in optional(title, ("genres", "genres"), list, where) or []
    ]


def _credits(atf: dict, within: str) -> dict[str, list[dict] | None]:
    """Directors, writers and stars in billing order, from either credit shape.

    A role the page does not show, or shows with no names while it counts some (unreleased
    titles), is unknown: None, not an empty list.
    """
    found: dict[str, list[dict] | None] = dict.fromkeys(ROLES)
    for key in ("principalCredits", "principalCreditsV2"):
        for index, group in enumerate(optional(atf, (key,), list, within) or []):
            where = f"{within}.{key}[{index}]"
            if not isinstance(group, dict):
                raise LayoutChangeError(f"{where} is not an object")
            role = _role(group)
            credits = optional(group, ("credits",), list, where) or []
            people = [
                {
                    "id": required(c, ("name", "id"), str, f"{where}.credits"),
                    "name": required(c, ("name", "nameText", "text"), str, f"{where}.credits"),
                }
                for c in credits
            ]
            if (
                role is not None
                and found[role] is None
                and (people or group.get("totalCredits") == 0)
            ):
                found[role] = people
    return {f"{role}s": people for role, people in found.items()}


def _role(group: dict) -> str | None:
    """director, writer or star, from what the group means: its text or its category id."""
    labels = [
        group.get("category", {}).get("id") if isinstance(group.get("category"), dict) else None,
        group.get("category", {}).get("text") if isinstance(group.get("category"), dict) else None,
        group.get("grouping", {}).get("text") if isinstance(group.get("grouping"), dict) else None,
    ]
    for label in filter(None, labels):
        word = str(label).strip().lower().rstrip("s")
        if word in ("director", "writer", "star"):
            return word
        if word == "cast":
            return "star"
    return None


def _asked_genre(data: dict) -> str | None:
    for path in (("query",), ("props", "pageProps", "requestContext", "queryParams")):
        params = optional(data, path, dict, "")
        if params and isinstance(params.get("genres"), str):
            return params["genres"]
    return None


def _genre_name(genre: str | None) -> str | None:
    if genre is None:
        return None
    return GENRE_BY_SLUG.get(genre.lower(), genre)


def _applies_genre(understood: dict, genre: str) -> bool:
    """Whether IMDb's understood query includes `genre` under a key about genres."""
    included: set[str] = set()

    def walk(value: Any, under_genre: bool) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                if "exclude" not in key.lower():
                    walk(inner, under_genre or "genre" in key.lower())
        elif isinstance(value, list):
            for inner in value:
                walk(inner, under_genre)
        elif isinstance(value, str) and under_genre:
            included.add(value.lower())

    walk(understood, False)
    return genre.lower() in included
