"""IMDb's GraphQL API over the synthetic catalogue, executed by graphql-core.

Every query is parsed and validated against the project's schema subset (`imdb/schema.graphql`)
and executed over the catalogue's day, so aliases, arguments, nulls and errors come back as a
GraphQL server's would: errors with HTTP 200, `titles` in the order asked with null fields for
unknown ids, "Too many ids", one malformed id failing the whole request, total 0 for an unknown
genre. The faults that change an answer's content are applied here; the HTTP ones in `server`.
"""

import re
from collections.abc import Callable
from datetime import date
from functools import cache
from typing import Any

from graphql import GraphQLError, GraphQLSchema, build_schema, graphql_sync

from imdb_warehouse.imdb.genres import IMDB_GENRES
from imdb_warehouse.imdb.graphql import MAX_IDS, SCHEMA_PATH
from imdb_warehouse.replay.catalogue import Catalogue, Money, Person, TitleLookup

DISCLAIMER = (
    "Public, commercial, and/or non-private use of the IMDb data provided by this API is not "
    "allowed. For limited non-commercial use of this API, you must get permission from IMDb."
)
VALID_ID = re.compile(r"^tt\d{7,9}$")
SDL = SCHEMA_PATH.read_text()
SCHEMA = build_schema(SDL)


@cache
def drifted_schema(field: str) -> GraphQLSchema:
    """The schema after IMDb renamed the `Title` field `field` to `<field>V2` (as its pages
    moved from principalCredits to principalCreditsV2): queries asking for it are refused."""
    title = re.search(r"^type Title \{$.*?^\}$", SDL, re.M | re.S)
    assert title is not None, "schema.graphql has no type Title"
    block = title.group(0)
    renamed = re.sub(rf"^(\s+){field}\b", rf"\g<1>{field}V2", block, flags=re.M)
    if renamed == block:
        raise ValueError(f"drift: the schema's Title has no field {field!r}")
    return build_schema(SDL.replace(block, renamed))


def execute(
    catalogue: Catalogue, day: date, request: Any, fault: str | None, drifted: str | None = None
) -> dict:
    """The answer (a JSON object) to a GraphQL request body (already decoded from JSON);
    `drifted` names the field a `drift` fault removes."""
    if fault == "rate-exceeded":
        return _errors([{"message": "Rate exceeded", "code": "INTERNAL_SERVER_ERROR"}])
    if not isinstance(request, dict):
        return _errors([{"message": "the body must be a JSON object", "code": "BAD_REQUEST"}])
    query = request.get("query")
    if not isinstance(query, str):
        if (request.get("extensions") or {}).get("persistedQuery"):
            return _errors(
                [{"message": "PersistedQueryNotFound", "code": "PERSISTED_QUERY_NOT_FOUND"}]
            )
        return _errors([{"message": "Must provide query string.", "code": "BAD_REQUEST"}])
    variables = request.get("variables")
    result = graphql_sync(
        drifted_schema(drifted or "titleText") if fault == "drift" else SCHEMA,
        query,
        root_value=_Root(catalogue, day, fault),
        variable_values=variables if isinstance(variables, dict) else None,
        operation_name=request.get("operationName"),
    )
    answer: dict = {}
    if result.errors:
        answer["errors"] = [_formatted(error, result.data is None) for error in result.errors]
    answer["data"] = result.data
    if fault == "partial" and result.data:
        _break_first_title(answer)
    answer["extensions"] = {"disclaimer": DISCLAIMER}
    return answer


def _errors(errors: list[dict]) -> dict:
    return {
        "errors": [{"message": e["message"], "extensions": {"code": e["code"]}} for e in errors],
        "data": None,
        "extensions": {"disclaimer": DISCLAIMER},
    }


def _formatted(error: GraphQLError, before_execution: bool) -> dict:
    formatted = error.formatted
    extensions = dict(formatted.get("extensions") or {})
    extensions.setdefault(
        "code", "GRAPHQL_VALIDATION_FAILED" if before_execution else "INTERNAL_SERVER_ERROR"
    )
    return {**formatted, "extensions": extensions}


def _break_first_title(answer: dict) -> None:
    """A partial answer: the first title of the list, or of `titles`, null, with an error."""
    data = answer["data"]
    if isinstance(data.get("titles"), list) and data["titles"]:
        data["titles"][0], path = None, ["titles", 0]
    elif (data.get("advancedTitleSearch") or {}).get("edges"):
        data["advancedTitleSearch"]["edges"][0]["node"]["title"] = None
        path = ["advancedTitleSearch", "edges", 0, "node", "title"]
    else:
        return
    answer.setdefault("errors", []).append(
        {
            "message": "An error occurred while fetching data from a downstream service",
            "path": path,
            "extensions": {"code": "INTERNAL_SERVER_ERROR"},
        }
    )


def _user_error(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "BAD_USER_INPUT"})


class _Root:
    """The Query type: graphql-core's default resolver calls these with (info, **arguments)."""

    def __init__(self, catalogue: Catalogue, day: date, fault: str | None) -> None:
        self.catalogue, self.day, self.fault = catalogue, day, fault

    def advancedTitleSearch(self, _info, first, after=None, constraints=None, sort=None):
        if not 0 < first <= MAX_IDS:
            raise _user_error(f"first must be between 1 and {MAX_IDS}")
        if after is not None:
            raise _user_error("the replay serves the first page only: no `after` cursors")
        constraints = constraints or {}
        genres = (constraints.get("genreConstraint") or {}).get("allGenreIds") or [None]
        if len(genres) > 1:
            raise _user_error("the replay takes one genre in allGenreIds")
        genre = None if self.fault == "dropped-filter" else genres[0]
        types = (constraints.get("titleTypeConstraint") or {}).get("anyTitleTypeIds")
        language = constraints.get("languageConstraint") or {}
        languages = language.get("anyPrimaryLanguages") or language.get("anyLanguages")
        descending = (sort or {}).get("sortOrder") == "DESC"
        if (types is not None and "movie" not in types) or (
            genre is not None and genre not in IMDB_GENRES
        ):
            shown, total = [], 0  # IMDb: an unknown genre or title type finds nothing
        elif descending:
            ranked, total = self.catalogue.search(genre, self.day, languages=languages)
            shown = ranked[::-1][:first]
        else:
            shown, total = self.catalogue.search(genre, self.day, languages=languages, limit=first)
        if self.fault in ("empty-list", "short-list"):
            shown = shown[: 20 if self.fault == "short-list" else 0]
        edges = [
            {"node": {"title": _title(self.catalogue.title(md.title_id, self.day), md.title_id)}}
            for md in shown
        ]
        return {
            "total": total,
            "pageInfo": {
                "hasNextPage": total > len(shown),
                "endCursor": f"replay:{len(shown)}" if shown else None,
            },
            "edges": edges,
        }

    def titles(self, _info, ids):
        if len(ids) > MAX_IDS:
            raise _user_error(f"Too many ids. Maximum: {MAX_IDS}")
        for title_id in ids:
            if not isinstance(title_id, str) or not VALID_ID.match(title_id):
                raise _user_error(f"{title_id} is not a valid ID")
        found: list[dict | None] = [_title(self.catalogue.title(t, self.day), t) for t in ids]
        if self.fault == "null-title" and found:
            found[0] = None
        return found

    def title(self, _info, id):
        if not VALID_ID.match(id):
            raise _user_error(f"{id} is not a valid ID")
        return _title(self.catalogue.title(id, self.day), id)


def _title(lookup: TitleLookup, title_id: str) -> dict:
    """A `Title`: the movie as it stands that day, or only its id (null fields) when IMDb does
    not have it (unknown, or removed)."""
    if lookup.status != 200:
        return {"id": title_id}
    assert lookup.movie_day and lookup.details and lookup.box_office
    movie_day, details, box_office = lookup.movie_day, lookup.details, lookup.box_office
    movie = movie_day.movie
    release = movie.release_date
    grosses = {"DOMESTIC": box_office.domestic, "WORLDWIDE": box_office.worldwide}
    groups = [
        ("director", "Directors", details.directors, details.total_directors, "Crew"),
        ("writer", "Writers", details.writers, details.total_writers, "Crew"),
        ("cast", "Stars", details.stars, details.total_cast, "Cast"),
    ]

    def principal_credits(_info, filter=None):
        wanted = (filter or {}).get("categories")
        return [
            {
                "category": {"id": category, "text": text},
                "totalCredits": total,
                "credits": [{"__typename": kind, "name": _name(p)} for p in people],
            }
            for category, text, people, total, kind in groups
            if wanted is None or category in wanted
        ]

    def opening_weekend(_info, boxOfficeArea):
        if boxOfficeArea != "DOMESTIC" or box_office.opening_weekend is None:
            return None
        return {
            "gross": {"total": _money(box_office.opening_weekend)},
            "weekendEndDate": box_office.weekend_end.isoformat()
            if box_office.weekend_end
            else None,
        }

    return {
        "id": movie.title_id,
        "titleText": {"text": movie.title},
        "originalTitleText": {"text": movie.original_title},
        "titleType": {"id": "movie", "text": "Movie"},
        "releaseYear": movie.release_year and {"year": movie.release_year, "endYear": None},
        "releaseDate": release
        and {"year": release.year, "month": release.month, "day": release.day},
        "runtime": movie.runtime_seconds and {"seconds": movie.runtime_seconds},
        "certificate": movie.certificate and {"rating": movie.certificate},
        "titleGenres": {"genres": [{"genre": {"genreId": g, "text": g}} for g in movie.genres]},
        "plot": movie.plot and {"plotText": {"plainText": movie.plot}},
        "ratingsSummary": {"aggregateRating": movie_day.rating, "voteCount": movie_day.votes},
        "metacritic": movie.metascore and {"metascore": {"score": movie.metascore}},
        "countriesOfOrigin": {"countries": _labels(details.countries)},
        "spokenLanguages": movie.languages and {"spokenLanguages": _labels(movie.languages)},
        "principalCredits": principal_credits,
        "productionBudget": details.budget and {"budget": _money(details.budget)},
        "lifetimeGross": _by_area(grosses),
        "openingWeekendGross": opening_weekend,
    }


def _by_area(grosses: dict[str, Money | None]) -> Callable:
    def lifetime_gross(_info, boxOfficeArea):
        money = grosses.get(boxOfficeArea)
        return money and {"total": _money(money)}

    return lifetime_gross


def _money(money: Money) -> dict:
    return {"amount": money.amount, "currency": money.currency}


def _name(person: Person) -> dict:
    return {"id": person.id, "nameText": {"text": person.name}}


def _labels(labels) -> list[dict]:
    return [{"id": label.id, "text": label.text} for label in labels]
