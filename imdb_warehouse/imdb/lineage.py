"""Where IMDb sends each column of the staging tables: the JSON path of every value the readers
read, in a GraphQL `Title` and in the HTML source's JSON.

`LISTED_TITLE_SOURCES` maps each column of staging.movie_rankings (model `MovieRankings`) and
`DETAILS_SOURCES` each column of staging.title_details (model `TitleDetails`) to an `ImdbField`:

- `graphql`: the path inside the GraphQL `Title`, as raw.imdb_search_results.item_json (an
  `advancedTitleSearch` edge's `node.title`) or raw.imdb_title_pages.title_json (an entry of
  `titles`) holds it. Paths name the keys of the answer, so an alias appears under its alias:
  `worldwideGross` is `lifetimeGross(boxOfficeArea: WORLDWIDE)`, and `lifetimeGross` is asked
  with `boxOfficeArea: DOMESTIC` (`graphql.DETAILS_QUERY`).
- `html`: the path inside a search page's `titleListItems[]` item (item_json), or inside the
  title page's `{"aboveTheFoldData": …, "mainColumnData": …}` (title_json), the object the raw
  asset keeps; the title page paths therefore start with one of those two keys.
- `derived`: how the column is made of the value(s) at the path when it is not the value as
  sent; None when it is (a number read as the column's type, `5` as the rating 5.0, counts as
  sent).

Both are None for the columns that are not read from IMDb's JSON (`snapshot_date`, `genre`,
`rank`, `source`, `scraped_at`): they come from the raw row's own columns.

The readers are `graphql.listed_title_row` / `parse.search_item_row` (lists) and
`graphql.details_row` / `parse.title_details_row` (details); absent or null anywhere on a path
means the column is null (an empty list for `genres`).

Path notation
-------------
- `a.b.c`: key `c` of the object at key `b` of the object at key `a`.
- `a[]`: every element of the array at `a`, in order; the rest of the path applies to each
  (`countriesOfOrigin.countries[].text`: the `text` of every country).
- `a[p.q=v]`, `a[p.q=v|w]`: the elements of the array at `a` whose value at the path `p.q` is
  the string `v` (or `w`): `principalCredits[category.id=director]`. The filters name the labels
  IMDb sends; the reader matches a credits group by its meaning (`parse._role`: `category.id`,
  else `category.text`, else `grouping.text`, any case, singular or plural, `cast` for stars).
- `a{x,y.z}` (last step only): the object at `a` read as several values at once, the paths
  `x` and `y.z` inside it: `releaseDate{year,month,day}` makes one date,
  `credits[].name{id,nameText.text}` one person `{id, name}` per credit.
- `P or Q`: shapes IMDb sends, in the order the reader tries them; `resolve` reads the first
  shape that reaches anything. Two columns of the title page have several: the credits,
  `principalCredits` (the long-standing shape) or `principalCreditsV2` (seen since late 2025;
  the reader takes each role from the first group with names, `principalCredits` first), and
  the genres, newest first: `titleGenres` by `genreId`, `titleGenres` by `text` (pages of 2025
  send no id), `genres` (pages of 2023). A page may carry two of them.

`resolve(document, path)` returns the values a path reaches, `locate(document, path)` where they
sit (to change one in place); both raise ValueError for a path that breaks the notation.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ImdbField:
    """Where IMDb sends one staging column (see the module's notation)."""

    graphql: str | None  # path in the GraphQL Title
    html: str | None  # path in the HTML search item, or in {aboveTheFoldData, mainColumnData}
    derived: str | None = None  # how the column is made of the value(s), when not as sent


_NOT_FROM_JSON = ImdbField(None, None)
_ATF = "aboveTheFoldData"
_MCD = "mainColumnData"

_RELEASE_DATE = (
    "a date of the three parts; null unless all three are whole numbers (a year or a month "
    "alone is no date)"
)
_RUNTIME = "seconds / 60, rounded to whole minutes"
_VOTES = "null when there is no rating and the count is 0 (IMDb sends 0 for an unrated title)"
_CERTIFICATE = '"" is null'
_PLOT = '"" is null'
_PEOPLE = (
    "[{id, name: nameText.text}] in billing order, from the first group of that role with "
    "names; null when no group of that role names anyone, unless its totalCredits is 0 (then "
    "[]): an unreleased title's credits are unknown, not empty"
)
_WHOLE = "a whole number (GraphQL sends a Float: 63000000.0); a fraction fails the row"


def _credits(category: str, v2_labels: str) -> ImdbField:
    """A role's people: by `category.id` in GraphQL and a page's `principalCredits`, by the
    grouping's label in a page's `principalCreditsV2`."""
    person = "credits[].name{id,nameText.text}"
    return ImdbField(
        graphql=f"principalCredits[category.id={category}].{person}",
        html=(
            f"{_ATF}.principalCredits[category.id={category}].{person} or "
            f"{_ATF}.principalCreditsV2[grouping.text={v2_labels}].{person}"
        ),
        derived=_PEOPLE,
    )


def _money(graphql: str, html: str) -> tuple[ImdbField, ImdbField]:
    """The amount and currency fields of a Money object at `graphql` / `html`."""
    return (
        ImdbField(f"{graphql}.amount", f"{html}.amount", _WHOLE),
        ImdbField(f"{graphql}.currency", f"{html}.currency"),
    )


LISTED_TITLE_SOURCES: dict[str, ImdbField] = {
    "snapshot_date": _NOT_FROM_JSON,
    "genre": _NOT_FROM_JSON,
    "rank": _NOT_FROM_JSON,
    "title_id": ImdbField("id", "titleId"),
    "title": ImdbField("titleText.text", "titleText"),
    "original_title": ImdbField("originalTitleText.text", "originalTitleText"),
    "title_type": ImdbField("titleType.id", "titleType.id"),
    "release_year": ImdbField("releaseYear.year", "releaseYear"),
    "release_date": ImdbField(
        "releaseDate{year,month,day}", "releaseDate{year,month,day}", _RELEASE_DATE
    ),
    "runtime_minutes": ImdbField("runtime.seconds", "runtime", _RUNTIME),
    "certificate": ImdbField("certificate.rating", "certificate", _CERTIFICATE),
    "genres": ImdbField("titleGenres.genres[].genre.genreId", "genres[]"),
    "plot": ImdbField("plot.plotText.plainText", "plot", _PLOT),
    "rating": ImdbField("ratingsSummary.aggregateRating", "ratingSummary.aggregateRating"),
    "votes": ImdbField("ratingsSummary.voteCount", "ratingSummary.voteCount", _VOTES),
    "metascore": ImdbField("metacritic.metascore.score", "metascore"),
    "source": _NOT_FROM_JSON,
    "scraped_at": _NOT_FROM_JSON,
}

_BUDGET = _money("productionBudget.budget", f"{_MCD}.productionBudget.budget")
_WORLDWIDE = _money("worldwideGross.total", f"{_MCD}.worldwideGross.total")
_DOMESTIC = _money("lifetimeGross.total", f"{_MCD}.lifetimeGross.total")
_OPENING = _money("openingWeekendGross.gross.total", f"{_MCD}.openingWeekendGross.gross.total")

DETAILS_SOURCES: dict[str, ImdbField] = {
    "snapshot_date": _NOT_FROM_JSON,
    "listed_in": _NOT_FROM_JSON,
    "title_id": ImdbField("id", f"{_ATF}.id"),
    "title": ImdbField("titleText.text", f"{_ATF}.titleText.text"),
    "original_title": ImdbField("originalTitleText.text", f"{_ATF}.originalTitleText.text"),
    "title_type": ImdbField("titleType.id", f"{_ATF}.titleType.id"),
    "release_year": ImdbField("releaseYear.year", f"{_ATF}.releaseYear.year"),
    "release_date": ImdbField(
        "releaseDate{year,month,day}", f"{_MCD}.releaseDate{{year,month,day}}", _RELEASE_DATE
    ),
    "runtime_minutes": ImdbField("runtime.seconds", f"{_ATF}.runtime.seconds", _RUNTIME),
    "certificate": ImdbField("certificate.rating", f"{_ATF}.certificate.rating", _CERTIFICATE),
    "genres": ImdbField(
        "titleGenres.genres[].genre.genreId",
        f"{_ATF}.titleGenres.genres[].genre.genreId or {_ATF}.titleGenres.genres[].genre.text "
        f"or {_ATF}.genres.genres[].text",
    ),
    "plot": ImdbField("plot.plotText.plainText", f"{_ATF}.plot.plotText.plainText", _PLOT),
    "rating": ImdbField("ratingsSummary.aggregateRating", f"{_ATF}.ratingsSummary.aggregateRating"),
    "votes": ImdbField("ratingsSummary.voteCount", f"{_ATF}.ratingsSummary.voteCount", _VOTES),
    "metascore": ImdbField("metacritic.metascore.score", f"{_ATF}.metacritic.metascore.score"),
    "countries": ImdbField(
        "countriesOfOrigin.countries[].text", f"{_MCD}.countriesOfOrigin.countries[].text"
    ),
    "languages": ImdbField(
        "spokenLanguages.spokenLanguages[].text",
        f"{_MCD}.spokenLanguages.spokenLanguages[].text",
    ),
    "directors": _credits("director", "Directors|Director"),
    "writers": _credits("writer", "Writers|Writer"),
    "stars": _credits("cast", "Stars|Star"),
    "budget_amount": _BUDGET[0],
    "budget_currency": _BUDGET[1],
    "gross_worldwide_amount": _WORLDWIDE[0],
    "gross_worldwide_currency": _WORLDWIDE[1],
    "gross_domestic_amount": _DOMESTIC[0],
    "gross_domestic_currency": _DOMESTIC[1],
    "opening_weekend_amount": _OPENING[0],
    "opening_weekend_currency": _OPENING[1],
    "opening_weekend_end_date": ImdbField(
        "openingWeekendGross.weekendEndDate",
        f"{_MCD}.openingWeekendGross.weekendEndDate",
        "an ISO date string (YYYY-MM-DD) read as a date",
    ),
    "source": _NOT_FROM_JSON,
    "scraped_at": _NOT_FROM_JSON,
}


# --- reading a path -------------------------------------------------------------------------

_STEP = re.compile(
    r"(?P<key>[A-Za-z_][A-Za-z0-9_]*)"
    r"(?:\[(?P<filter>[^\[\]]*)\])?"
    r"(?:\{(?P<fields>[^{}]*)\})?"
)
_FILTER = re.compile(r"(?P<path>[A-Za-z_][A-Za-z0-9_.]*)=(?P<values>[^=|]+(?:\|[^=|]+)*)")


@dataclass(frozen=True)
class Location:
    """Where one value sits: its object and key, or its array and index."""

    container: dict[str, Any] | list[Any]
    key: str | int

    def get(self) -> Any:
        if isinstance(self.container, dict):
            return self.container[str(self.key)]
        return self.container[int(self.key)]

    def set(self, value: object) -> None:
        if isinstance(self.container, dict):
            self.container[str(self.key)] = value
        else:
            self.container[int(self.key)] = value


@dataclass(frozen=True)
class Step:
    """One step of a path: a key, then maybe `[]` or `[filter]`, then maybe `{…}`."""

    key: str
    each: bool  # `[]` or a filter: every (matching) element of the array
    where: tuple[str, frozenset[str]] | None  # a filter's path and accepted values
    fields: tuple[str, ...] | None  # `{…}`: sub-paths read inside the object (last step only)


def alternatives(path: str) -> list[str]:
    """The shapes of a path (`P or Q`), in the order the reader tries them."""
    return [part.strip() for part in path.split(" or ")]


def _split(path: str, separator: str) -> list[str]:
    """`path` split at `separator` outside brackets and braces."""
    parts, depth, start = [], 0, 0
    for at, char in enumerate(path):
        if char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
            if depth < 0:
                raise ValueError(f"unbalanced {char!r} in path {path!r}")
        elif char == separator and depth == 0:
            parts.append(path[start:at])
            start = at + 1
    if depth != 0:
        raise ValueError(f"unbalanced brackets in path {path!r}")
    return [*parts, path[start:]]


def parse_path(path: str) -> list[Step]:
    """The steps of one shape of a path (no `or`); ValueError when it breaks the notation."""
    if " or " in path:
        raise ValueError(f"{path!r} holds alternatives: parse each of alternatives(path)")
    steps = []
    texts = _split(path, ".")
    for index, text in enumerate(texts):
        match = _STEP.fullmatch(text)
        if match is None:
            raise ValueError(f"{text!r} is no step of the path notation (in {path!r})")
        where = None
        if match["filter"]:
            found = _FILTER.fullmatch(match["filter"])
            if found is None:
                raise ValueError(f"[{match['filter']}] is no filter `[path=value|…]` in {path!r}")
            parse_path(found["path"])
            where = (found["path"], frozenset(found["values"].split("|")))
        fields = None
        if match["fields"] is not None:
            if index != len(texts) - 1:
                raise ValueError(f"{{…}} ends a path, not its middle: {path!r}")
            fields = tuple(_split(match["fields"], ","))
            for field in fields:
                parse_path(field)
        each = match["filter"] is not None
        steps.append(Step(match["key"], each, where, fields))
    return steps


def _matches(element: object, where: tuple[str, frozenset[str]] | None) -> bool:
    if where is None:
        return True
    return any(isinstance(v, str) and v in where[1] for v in _values(element, where[0]))


def _walk(document: object, steps: list[Step]) -> Iterator[tuple[Location, Step]]:
    """The location of each value the steps reach (absent or null values are not reached),
    with the last step (its `{…}` still to read)."""
    if not steps:
        return
    step, rest = steps[0], steps[1:]
    if not isinstance(document, dict) or document.get(step.key) is None:
        return
    value = document[step.key]
    if not step.each:
        if rest:
            yield from _walk(value, rest)
        else:
            yield Location(document, step.key), step
        return
    if not isinstance(value, list):
        return
    for index, element in enumerate(value):
        if element is None or not _matches(element, step.where):
            continue
        if rest:
            yield from _walk(element, rest)
        else:
            yield Location(value, index), step


def _values(document: object, path: str) -> list[Any]:
    found = []
    for at, step in _walk(document, parse_path(path)):
        value = at.get()
        if step.fields is not None:
            value = {field: next(iter(_values(value, field)), None) for field in step.fields}
        found.append(value)
    return found


def resolve(document: object, path: str) -> list[Any]:
    """The values `path` reaches in `document`, in order: one for a plain path, one per element
    for `[]`, an object `{sub-path: value or None}` per object read with `{…}`; of `P or Q`,
    those of the first shape that reaches any. Empty when nothing is there (absent or null)."""
    for shape in alternatives(path):
        found = _values(document, shape)
        if found:
            return found
    return []


def locate(document: object, path: str) -> list[Location]:
    """Where the values `path` reaches sit, to read or change them in place: the sub-paths of a
    `{…}` each on its own (those present); of `P or Q`, the first shape that reaches any."""
    for shape in alternatives(path):
        found: list[Location] = []
        for at, step in _walk(document, parse_path(shape)):
            if step.fields is None:
                found.append(at)
            else:
                inner = at.get()
                found += [place for field in step.fields for place in locate(inner, field)]
        if found:
            return found
    return []
