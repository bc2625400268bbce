"""IMDb's GraphQL API: the project's two queries, and reading their answers into rows.

A genre's list is one `advancedTitleSearch`; the details of the day's movies are `titles` in
batches. Both ask for the fields the website's title page holds, under the same names (the
gross worldwide as the alias `worldwideGross`), so one reader turns a page's data or a GraphQL
`Title` into a staging row (`parse.title_details_row`). The fields and their types are those
of `schema.graphql`, IMDb's own, checked against a public dump of its schema.

Errors arrive with HTTP 200: `errors` is read before `data`, and an answer that carries any is
never loaded (`GraphQLAnswerError`, transient or not).
"""

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from imdb_warehouse.imdb.fields import IgnoredFilterError, LayoutChangeError, required
from imdb_warehouse.imdb.genres import GENRE_BY_SLUG
from imdb_warehouse.imdb.parse import title_details_row

SCHEMA_PATH = Path(__file__).with_name("schema.graphql")
PUBLIC_ENDPOINT = "https://api.graphql.imdb.com/"
LICENSED_ENDPOINT = "https://api-fulfill.dataexchange.us-east-1.amazonaws.com/v1"
LIST_SIZE = 50
MAX_IDS = 250  # IMDb refuses more in one `titles` ("Too many ids. Maximum: 250")
TITLE_ID = re.compile(r"^tt\d{7,9}$")

_TITLE_FIELDS = """
fragment ListedTitle on Title {
  id
  titleText { text }
  originalTitleText { text }
  titleType { id }
  releaseYear { year }
  releaseDate { year month day }
  runtime { seconds }
  certificate { rating }
  titleGenres { genres { genre { genreId } } }
  plot { plotText { plainText } }
  ratingsSummary { aggregateRating voteCount }
  metacritic { metascore { score } }
}
"""

LIST_QUERY = (
    """
query GenreList($genre: String!, $titleType: String!, $language: String!, $first: Int!) {
  advancedTitleSearch(
    first: $first
    constraints: {
      genreConstraint: { allGenreIds: [$genre] }
      titleTypeConstraint: { anyTitleTypeIds: [$titleType] }
      languageConstraint: { anyPrimaryLanguages: [$language] }
    }
    sort: { sortBy: POPULARITY, sortOrder: ASC }
  ) {
    total
    pageInfo { hasNextPage endCursor }
    edges { node { title { ...ListedTitle } } }
  }
}
"""
    + _TITLE_FIELDS
).strip()

DETAILS_QUERY = (
    """
query TitleDetails($ids: [ID!]!) {
  titles(ids: $ids) {
    ...ListedTitle
    countriesOfOrigin { countries { id text } }
    spokenLanguages { spokenLanguages { id text } }
    principalCredits(filter: { categories: ["director", "writer", "cast"] }) {
      category { id }
      totalCredits
      credits { name { id nameText { text } } }
    }
    productionBudget { budget { amount currency } }
    worldwideGross: lifetimeGross(boxOfficeArea: WORLDWIDE) { total { amount currency } }
    lifetimeGross(boxOfficeArea: DOMESTIC) { total { amount currency } }
    openingWeekendGross(boxOfficeArea: DOMESTIC) {
      gross { total { amount currency } }
      weekendEndDate
    }
  }
}
"""
    + _TITLE_FIELDS
).strip()

# extensions.code values, and message words, of errors that a later try may not get.
TRANSIENT_CODES = frozenset(
    {"INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE", "TIMEOUT", "THROTTLED", "RATE_LIMITED"}
)
TRANSIENT_WORDS = re.compile(r"rate exceeded|throttl|timed? ?out|try again|unavailable", re.I)


class GraphQLAnswerError(Exception):
    """IMDb answered with `errors`; `transient` when trying again later may succeed."""

    def __init__(self, errors: list[dict]) -> None:
        self.errors = errors
        self.transient = all(_is_transient(error) for error in errors)
        super().__init__(error_text(errors))


def error_text(errors: list) -> str:
    """IMDb's errors in one line: message (code, path) of each, the first three."""
    parts = []
    for error in errors[:3]:
        if not isinstance(error, dict):
            parts.append(str(error)[:200])
            continue
        where = ".".join(str(p) for p in error.get("path") or [])
        code = (error.get("extensions") or {}).get("code")
        details = ", ".join(filter(None, [code, where and f"at {where}"]))
        parts.append(f"{error.get('message', '?')}" + (f" ({details})" if details else ""))
    more = f"; and {len(errors) - 3} more" if len(errors) > 3 else ""
    return "; ".join(parts) + more


def _is_transient(error) -> bool:
    if not isinstance(error, dict):
        return False
    code = (error.get("extensions") or {}).get("code")
    return code in TRANSIENT_CODES or bool(TRANSIENT_WORDS.search(str(error.get("message", ""))))


def list_variables(genre_slug: str, first: int = LIST_SIZE) -> dict:
    """The variables of LIST_QUERY for a genre's list of English-language feature films."""
    genre = GENRE_BY_SLUG.get(genre_slug)
    if genre is None:
        raise ValueError(f"unknown genre {genre_slug!r}; known: {', '.join(GENRE_BY_SLUG)}")
    return {"genre": genre, "titleType": "movie", "language": "en", "first": first}


def details_variables(title_ids: Sequence[str]) -> dict:
    """The variables of DETAILS_QUERY. One malformed id fails IMDb's whole batch, so every id
    is checked here first: ValueError names the first bad one."""
    if not 0 < len(title_ids) <= MAX_IDS:
        raise ValueError(f"a batch holds 1 to {MAX_IDS} ids, not {len(title_ids)}")
    for title_id in title_ids:
        if not isinstance(title_id, str) or not TITLE_ID.match(title_id):
            raise ValueError(f"{title_id!r} is not an IMDb title id (tt and 7 to 9 digits)")
    return {"ids": list(title_ids)}


def batches(title_ids: Sequence[str], size: int = MAX_IDS) -> list[list[str]]:
    if not 0 < size <= MAX_IDS:
        raise ValueError(f"a batch holds 1 to {MAX_IDS} ids, not {size}")
    return [list(title_ids[i : i + size]) for i in range(0, len(title_ids), size)]


def answer_data(body: bytes | str) -> dict:
    """The `data` of a GraphQL answer. GraphQLAnswerError when it carries `errors` (even with
    data: a partial answer is not loaded); LayoutChangeError when it is no GraphQL answer."""
    try:
        answer = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise LayoutChangeError(f"the answer is not JSON: {error}") from None
    if not isinstance(answer, dict):
        raise LayoutChangeError("the answer is not a JSON object")
    errors = answer.get("errors")
    if errors:
        raise GraphQLAnswerError(errors if isinstance(errors, list) else [errors])
    return required(answer, ("data",), dict)


@dataclass(frozen=True)
class GenreList:
    total: int
    titles: list[dict]  # the `title` of each edge, as IMDb sent it, in list order


def genre_list(data: dict, genre_slug: str | None = None) -> GenreList:
    """The titles of LIST_QUERY's answer. When `genre_slug` is given, every title must have
    that genre: IgnoredFilterError otherwise (IMDb dropped the filter)."""
    where = "advancedTitleSearch"
    search = required(data, (where,), dict)
    total = required(search, ("total",), int, where)
    edges = required(search, ("edges",), list, where)
    titles = [
        required(edge, ("node", "title"), dict, f"{where}.edges[{index}]")
        for index, edge in enumerate(edges)
    ]
    genre = GENRE_BY_SLUG.get(genre_slug or "")
    for index, title in enumerate(titles):
        row = listed_title_row(title, index + 1)
        if genre is not None and genre not in row["genres"]:
            raise IgnoredFilterError(
                f"IMDb dropped the genre filter {genre!r}: result {index + 1} "
                f"({row['title_id']}) has genres {row['genres']}"
            )
    return GenreList(total, titles)


def listed_title_row(title: dict, rank: int) -> dict:
    """One list result as a staging.movie_rankings row (no snapshot_date, genre, scraped_at)."""
    where = f"edges[{rank - 1}].node.title"
    row = title_details_row(title, title, where=(where, where))
    return {"rank": rank, **{k: row[k] for k in RANKING_FIELDS}}


RANKING_FIELDS = (
    "title_id", "title", "original_title", "title_type", "release_year", "release_date",
    "runtime_minutes", "certificate", "genres", "plot", "rating", "votes", "metascore",
)  # fmt: skip


def titles(data: dict, asked: Sequence[str | None]) -> list[dict | None]:
    """DETAILS_QUERY's titles as sent, in the order asked (`is_unavailable` tells the titles
    IMDb does not have: null, or with null fields)."""
    found = required(data, ("titles",), list)
    if len(found) != len(asked):
        raise LayoutChangeError(f"titles holds {len(found)} titles for {len(asked)} ids asked")
    for index, title in enumerate(found):
        if title is not None and not isinstance(title, dict):
            raise LayoutChangeError(f"titles[{index}] is {type(title).__name__}, expected object")
    return found


def is_unavailable(title: dict | None) -> bool:
    return title is None or (isinstance(title, dict) and title.get("titleText") is None)


def details_row(title: dict, index: int) -> dict:
    """A `titles` entry as a staging.title_details row (without snapshot_date, scraped_at)."""
    where = f"titles[{index}]"
    return title_details_row(title, title, where=(where, where))


def answer_rows(answer: dict, asked: Sequence[str] | None = None) -> list[dict]:
    """The rows of a GraphQL answer: a list's staging.movie_rankings rows, or the
    staging.title_details rows of `titles` (`{"title_id", "available": false}` for a title IMDb
    does not have; `asked`, the ids of the request, name them). GraphQLAnswerError or
    LayoutChangeError say what is wrong."""
    if not isinstance(answer, dict):
        raise LayoutChangeError("the answer is not a JSON object")
    errors = answer.get("errors")
    if errors:
        raise GraphQLAnswerError(errors if isinstance(errors, list) else [errors])
    data = required(answer, ("data",), dict)
    if "advancedTitleSearch" in data:
        found = genre_list(data)
        return [listed_title_row(title, rank) for rank, title in enumerate(found.titles, 1)]
    if "titles" in data:
        sent = required(data, ("titles",), list)
        ids: list[str | None] = (
            list(asked) if asked is not None else [(t or {}).get("id") for t in sent]
        )
        return [
            {"title_id": title_id, "available": False}
            if title is None or is_unavailable(title)
            else details_row(title, index)
            for index, (title_id, title) in enumerate(zip(ids, titles(data, ids), strict=True))
        ]
    raise LayoutChangeError("data holds neither advancedTitleSearch nor titles")
