"""IMDb pages rendered from the synthetic catalogue, in the shape of the real ones.

A page is a Next.js document of ~0.5–1 MB: a head full of inline scripts and CSS, a rendered
body (the search page renders only the first 25 results), the page's data as JSON in
`<script id="__NEXT_DATA__" type="application/json">` in the middle, and more scripts after it.
The bulk (CSS, scripts, navigation, translations) is generated filler, made once and reused.
"""

import base64
import functools
import hashlib
import json
import random
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from html import escape
from json.encoder import encode_basestring
from typing import NamedTuple
from urllib.parse import urlencode

from imdb_warehouse.imdb.genres import GENRE_BY_SLUG, IMDB_GENRES
from imdb_warehouse.replay.catalogue import (
    BoxOffice,
    Catalogue,
    Label,
    Money,
    Movie,
    MovieDay,
    MovieDetails,
    Person,
    TitleLookup,
)

BUILD_ID = "rPl4yBu1ld-" + hashlib.sha256(b"imdb-replay build 1").hexdigest()[:10]
ASSET_PREFIX = "https://static.imdb-replay.invalid"
IMAGE_HOST = "https://images.imdb-replay.invalid"
RENDERED_RESULTS = 25  # the search page renders this many results; its JSON holds them all
DEFAULT_COUNT = 50
MAX_COUNT = 250
CREDITS_SHAPES = ("v1", "v2")
# The genres of a title page, as IMDb's pages carried them over the years: "v1"
# `genres.genres[]{id,text}` (2023), "v2" `titleGenres.genres[].genre{genreId,text}` (here beside
# the older `genres`, so that a page holds two shapes), "v3" `titleGenres` with `text` only (2025).
GENRES_SHAPES = ("v1", "v2", "v3")

TITLE_TYPES = {  # the search URL's title_type values and IMDb's ids for them
    "feature": "movie", "tv_movie": "tvMovie", "tv_series": "tvSeries", "short": "short",
    "tv_special": "tvSpecial", "video": "video", "documentary": "documentary",
}  # fmt: skip
SORTS = {"popularity,asc": ("POPULARITY", "ASC"), "popularity,desc": ("POPULARITY", "DESC")}


class TitleUnavailable(LookupError):
    """The title has no page on that day: `status` is 404 (unknown or removed) or 410."""

    def __init__(self, title_id: str, status: int, reason: str) -> None:
        super().__init__(f"{title_id} is {reason} (HTTP {status})")
        self.status = status
        self.reason = reason


# --- public pages ----------------------------------------------------------------------------


def search_page(
    catalogue: Catalogue,
    genre_slug: str,
    day: date,
    query: Mapping[str, str],
    *,
    pretty: bool = False,
    drop_genre: bool = False,
    now: datetime | None = None,
) -> str:
    """The advanced title search page for one genre on `day` (HTML). `query` is the URL's
    parameters; `count` is honoured. With `drop_genre` IMDb has silently ignored the genre."""
    data = search_data(catalogue, genre_slug, day, query, drop_genre=drop_genre, now=now)
    results = data["props"]["pageProps"]["searchResults"]["titleResults"]
    main = _search_main(results["titleListItems"][:RENDERED_RESULTS], results["total"])
    head = [
        _el("title", {}, "Advanced title search"),
        _el("meta", {"name": "description", "content": "Find titles by genre, rating and more"}),
        _el("meta", {"property": "og:title", "content": "Advanced title search"}),
    ]
    return _document("search", head, main, data, pretty)


def title_page(
    catalogue: Catalogue,
    title_id: str,
    day: date,
    *,
    credits_shape: str = "v1",
    genres_shape: str = "v1",
    pretty: bool = False,
    now: datetime | None = None,
) -> str:
    """The title page of `title_id` on `day` (HTML); TitleUnavailable when it has none.
    `credits_shape` "v1" gives `principalCredits`, "v2" the newer `principalCreditsV2`;
    `genres_shape` is one of GENRES_SHAPES."""
    lookup = _title_lookup(catalogue, title_id, day)
    data = _title_data(lookup, credits_shape, now, genres_shape)
    assert lookup.movie_day and lookup.details and lookup.box_office
    movie = lookup.movie_day.movie
    year = f" ({movie.release_year})" if movie.release_year else ""
    description = f"{movie.title}: {movie.plot or ''}".strip()
    head = [
        _el("title", {}, f"{movie.title}{year} - IMDb"),
        _el("meta", {"name": "description", "content": description}),
        _el(
            "script",
            {"type": "application/ld+json"},
            _Raw(_ld_json(lookup.movie_day, lookup.details)),
        ),
    ]
    main = _title_main(lookup.movie_day, lookup.details, lookup.box_office)
    return _document("title", head, main, data, pretty)


def not_found_page() -> str:
    """IMDb's error page for a title or address that does not exist (or no longer does)."""
    return (
        '<!DOCTYPE html><html lang="en-US"><head><meta charSet="utf-8"/>'
        "<title>404 Error - IMDb</title></head><body>"
        '<div class="error-page"><h1>404 Error</h1>'
        "<p>The requested URL was not found on our server.</p>"
        '<p><a href="/">Go to the homepage</a></p></div></body></html>'
    )


def challenge_page() -> str:
    """An AWS-WAF-style JavaScript challenge: no data, only a script that would set a token."""
    props = json.dumps(
        {
            "key": base64.b64encode(hashlib.sha256(b"key").digest()).decode(),
            "iv": base64.b64encode(hashlib.md5(b"iv").digest()).decode(),
            "context": base64.b64encode(hashlib.sha512(b"context").digest() * 3).decode(),
        }
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title></title>
    <style>
        body {{ font-family: "Arial", sans-serif; }}
        #challenge-container {{ margin: 40px auto; width: 320px; }}
    </style>
    <script type="text/javascript">
    window.awsWafCookieDomainList = [];
    window.gokuProps = {props};
    </script>
    <script src="https://challenge.waf-replay.invalid/challenge.js"></script>
</head>
<body>
    <div id="challenge-container"></div>
    <script type="text/javascript">
        AwsWafIntegration.saveReferrer();
        AwsWafIntegration.checkForceRefresh().then((forceRefresh) => {{
            if (forceRefresh) {{
                AwsWafIntegration.forceRefreshToken().then(() => {{
                    window.location.reload(true);
                }});
            }} else {{
                AwsWafIntegration.getToken().then(() => {{ window.location.reload(true); }});
            }}
        }});
    </script>
    <noscript>
        <h1>JavaScript is disabled</h1>
        To continue, your browser must show that it is not a robot. This requires JavaScript.
        Enable JavaScript and then reload the page.
    </noscript>
</body>
</html>
"""


def layout_changed_page(next_data: Mapping, *, title: str = "IMDb") -> str:
    """A plausible page after a site redesign: the same data, but streamed in React Server
    Component chunks (`self.__next_f.push`) instead of a `__NEXT_DATA__` script."""
    page_props = dict(next_data.get("props", {}).get("pageProps", {}))
    page_props.pop("translationContext", None)
    payload = json.dumps(page_props, ensure_ascii=False, separators=(",", ":"))
    chunks = [payload[i : i + 16_000] for i in range(0, len(payload), 16_000)]
    pushes = "".join(
        f"<script>self.__next_f.push([1,{_script_safe(json.dumps(f'{n:x}:{chunk}'))}])</script>"
        for n, chunk in enumerate(chunks, start=1)
    )
    filler = _filler(pretty=False)
    return (
        '<!DOCTYPE html><html lang="en-US"><head><meta charSet="utf-8"/>'
        f"<title>{escape(title)}</title>{filler.head_scripts}"
        f'<style data-emotion="css">{filler.css}</style></head><body>'
        f"<script>(self.__next_f=self.__next_f||[]).push([0])</script>{filler.nav}"
        '<main id="app-root"><div data-slot="page-content"></div></main>'
        f"{filler.footer}{pushes}{filler.trailing_scripts}</body></html>"
    )


# --- the pages' data (the __NEXT_DATA__ object) ----------------------------------------------


def search_data(
    catalogue: Catalogue,
    genre_slug: str,
    day: date,
    query: Mapping[str, str],
    *,
    drop_genre: bool = False,
    now: datetime | None = None,
) -> dict:
    """The search page's `__NEXT_DATA__` object. ValueError for an unknown genre."""
    genre = GENRE_BY_SLUG.get(genre_slug)
    if genre is None:
        raise ValueError(f"unknown genre {genre_slug!r}")
    count = _count(query.get("count"))
    title_types = [
        TITLE_TYPES.get(name, name) for name in query.get("title_type", "feature").split(",")
    ]
    languages = [code for code in query.get("languages", "").split(",") if code] or None
    sort_by, sort_order = SORTS.get(query.get("sort", ""), SORTS["popularity,asc"])

    if "movie" in title_types:
        genre_filter = None if drop_genre else genre
        if sort_order == "ASC":
            shown, total = catalogue.search(genre_filter, day, languages=languages, limit=count)
        else:
            ranked, total = catalogue.search(genre_filter, day, languages=languages)
            shown = ranked[::-1][:count]
    else:
        shown, total = [], 0

    search_input: dict = {"titleTypes": {"include": title_types, "exclude": []}}
    constraints: dict = {
        "titleTypeConstraint": {"anyTitleTypeIds": title_types, "excludeTitleTypeIds": []}
    }
    if not drop_genre:
        search_input["genres"] = {"allGenreIds": [genre], "excludeGenreIds": []}
        constraints["genreConstraint"] = {"allGenreIds": [genre], "excludeGenreIds": []}
    if languages:
        search_input["languages"] = {"anyLanguages": languages}
        constraints["languageConstraint"] = {"anyPrimaryLanguages": languages}
    search_input.update(count=count, sortBy=sort_by, sortOrder=sort_order)
    cursor_filter = {
        "constraints": constraints,
        "language": "en-US",
        "sort": {"sortBy": sort_by, "sortOrder": sort_order},
        "resultIndex": len(shown) - 1,
    }

    genre_totals = catalogue.genre_totals(day, languages=languages)
    page_props = {
        "currentTab": {
            "labelId": "advanced_search_tab_titles",
            "defaultMessage": "Titles",
            "subPageType": "title",
            "refTagBase": "adv_srch_title",
            "preIconName": "movie",
        },
        "tabID": "title",
        "searchResults": {
            "titleResults": {
                "titleListItems": [_search_item(movie_day) for movie_day in shown],
                "total": total,
                "endCursor": _end_cursor(shown, cursor_filter) if shown else None,
            }
        },
        "searchInput": {"titleSearchInput": search_input},
        "initialStringCache": {},
        "searchItemMetadata": {
            "titleTypes": [
                {"id": type_id, "text": type_id[0].upper() + type_id[1:], "total": 0}
                | ({"total": sum(genre_totals.values())} if type_id == "movie" else {})
                for type_id in TITLE_TYPES.values()
            ],
            "genres": [
                {"id": name, "text": name, "total": genre_totals.get(name, 0)}
                for name in IMDB_GENRES
            ],
            "keywords": _keyword_facets(),
            "jobCategories": [],
        },
        "requestContext": _request_context(
            now, day, f"/search/title/?{urlencode(query, safe=',')}", dict(query)
        ),
        "cmsContext": {"transformedPlacements": {}, "isValid": True, "isDebug": False},
        "translationContext": _translations(),
        "urqlState": None,
        "fetchState": None,
    }
    return {
        "props": {"pageProps": page_props, "__N_SSP": True},
        "page": "/search/[tab]",
        "query": {**query, "tab": "title"},
        "buildId": BUILD_ID,
        "assetPrefix": ASSET_PREFIX,
        "runtimeConfig": _runtime_config(),
        "isFallback": False,
        "gssp": True,
        "locale": "en-US",
        "locales": ["en-US", "de", "es", "es-ES", "fr", "fr-CA", "hi", "it", "pt"],
        "defaultLocale": "en-US",
        "scriptLoader": [],
    }


def title_data(
    catalogue: Catalogue,
    title_id: str,
    day: date,
    *,
    credits_shape: str = "v1",
    genres_shape: str = "v1",
    now: datetime | None = None,
) -> dict:
    """The title page's `__NEXT_DATA__` object; TitleUnavailable when the title has no page."""
    lookup = _title_lookup(catalogue, title_id, day)
    return _title_data(lookup, credits_shape, now, genres_shape)


def _title_lookup(catalogue: Catalogue, title_id: str, day: date) -> TitleLookup:
    lookup = catalogue.title(title_id, day)
    if lookup.status != 200:
        raise TitleUnavailable(title_id, lookup.status, lookup.reason)
    return lookup


def _title_data(
    lookup: TitleLookup, credits_shape: str, now: datetime | None, genres_shape: str = "v1"
) -> dict:
    if credits_shape not in CREDITS_SHAPES:
        raise ValueError(f"credits_shape must be one of {CREDITS_SHAPES}, not {credits_shape!r}")
    if genres_shape not in GENRES_SHAPES:
        raise ValueError(f"genres_shape must be one of {GENRES_SHAPES}, not {genres_shape!r}")
    assert lookup.movie_day and lookup.details and lookup.box_office
    movie_day, details = lookup.movie_day, lookup.details
    title_id, day = movie_day.title_id, movie_day.day
    page_props = {
        "tconst": title_id,
        "aboveTheFoldData": _above_the_fold(movie_day, details, credits_shape, genres_shape),
        "mainColumnData": _main_column(movie_day, details, lookup.box_office),
        "requestContext": _request_context(now, day, f"/title/{title_id}/", {"tconst": title_id}),
        "cmsContext": {"transformedPlacements": {}, "isValid": True, "isDebug": False},
        "translationContext": _translations(),
        "urqlState": None,
        "fetchState": None,
    }
    return {
        "props": {"pageProps": page_props, "__N_SSP": True},
        "page": "/title/[tconst]",
        "query": {"tconst": title_id},
        "buildId": BUILD_ID,
        "assetPrefix": ASSET_PREFIX,
        "runtimeConfig": _runtime_config(),
        "isFallback": False,
        "dynamicIds": [31337, 42, 2718],
        "gssp": True,
        "customServer": True,
        "scriptLoader": [],
    }


class PageChoices(NamedTuple):
    pretty: bool
    credits_shape: str
    genres_shape: str


def page_choices(path: str, seed: int) -> PageChoices:
    """How a page comes: a stable function of its path and the seed, so a run sees both layouts
    and every shape of credits and genres (IMDb's pages changed shape page by page, not all at
    once), the same way every time."""
    digest = hashlib.sha256(f"{seed}|{path}".encode()).digest()
    return PageChoices(
        bool(digest[0] & 1), CREDITS_SHAPES[digest[1] & 1], GENRES_SHAPES[digest[2] % 3]
    )


# --- data pieces -----------------------------------------------------------------------------


def _count(value: str | None) -> int:
    try:
        return min(MAX_COUNT, max(1, int(value or DEFAULT_COUNT)))
    except ValueError:
        return DEFAULT_COUNT


def _number(value: float | None) -> float | int | None:
    """IMDb writes integer-valued ratings as integers: `5`, not `5.0`."""
    if value is None:
        return None
    return int(value) if value == int(value) else value


def _timestamp(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _request_context(now: datetime | None, day: date, path: str, params: dict) -> dict:
    moment = now or datetime.combine(day, time(12, 0), tzinfo=UTC)
    return {"timestamp": _timestamp(moment), "requestPath": path, "queryParams": params}


def _runtime_config() -> dict:
    return {
        "env": "production",
        "stage": "Replay",
        "cachedGraphQLEndpoint": "https://graphql-cache.imdb-replay.invalid/",
        "graphQLEndpoint": "https://graphql.imdb-replay.invalid/",
        "graphQLTimeout": "11000",
    }


def _end_cursor(shown: Sequence[MovieDay], cursor_filter: dict) -> str:
    last = shown[-1]
    token = [str(round(last.popularity * 1000)), str(len(shown)), last.movie.title_id]
    cursor = {"esToken": token, "filter": json.dumps(cursor_filter, separators=(",", ":"))}
    return base64.b64encode(json.dumps(cursor, separators=(",", ":")).encode()).decode()


def _unit(movie: Movie, salt: str) -> float:
    """A stable number in [0, 1) for a movie's incidental details (image sizes, counts...)."""
    digest = hashlib.blake2b(f"{movie.key}/{salt}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def _image(movie: Movie) -> dict | None:
    if _unit(movie, "image") < 0.04:
        return None
    token = hashlib.blake2b(movie.title_id.encode(), digest_size=24).hexdigest()
    return {
        "caption": f"{movie.title} ({movie.release_year or 'TBA'})",
        "id": f"rm{int(_unit(movie, 'rm') * 4_000_000_000):010d}",
        "height": 1500 + int(_unit(movie, "h") * 2600),
        "url": f"{IMAGE_HOST}/M/MV5B{token}._V1_.jpg",
        "width": 1000 + int(_unit(movie, "w") * 1800),
    }


def _production_status(movie: Movie) -> dict:
    stage = ("pre-production", "Pre-production") if movie.unreleased else ("released", "Released")
    return {
        "currentProductionStage": {
            "id": stage[0],
            "text": stage[1],
            "__typename": "ProductionStage",
        },
        "__typename": "ProductionStatusDetails",
    }


def _search_item(movie_day: MovieDay) -> dict:
    movie = movie_day.movie
    item: dict = {"canRate": not movie.unreleased}
    if movie.certificate is not None:
        item["certificate"] = movie.certificate
    item.update(endYear=None, genres=list(movie.genres), hasWatchOption=_unit(movie, "w2w") < 0.3)
    if movie.metascore is not None:
        item["metascore"] = movie.metascore
    item.update(
        originalTitleText=movie.original_title,
        plot=movie.plot,
        primaryImage=_image(movie),
        ratingSummary={
            "aggregateRating": _number(movie_day.rating),
            "voteCount": movie_day.votes,
        },
        releaseYear=movie.release_year,
    )
    if movie.release_date is not None:
        item["releaseDate"] = {
            "day": movie.release_date.day,
            "month": movie.release_date.month,
            "year": movie.release_date.year,
            "__typename": "ReleaseDate",
        }
    item["productionStatus"] = _production_status(movie)
    if movie.runtime_seconds is not None:
        item["runtime"] = movie.runtime_seconds
    item.update(
        titleId=movie.title_id,
        titleText=movie.title,
        titleType={"canHaveEpisodes": False, "id": "movie", "text": "Movie"},
        trailerId=None if _unit(movie, "trailer") < 0.2 else f"vi{movie.key % 4_000_000_000:010d}",
        principalCredits=[],
    )
    return item


def _text(value: str, typename: str = "TitleText") -> dict:
    return {"text": value, "__typename": typename}


def _money(money: Money) -> dict:
    return {"amount": money.amount, "currency": money.currency, "__typename": "Money"}


def _total(value: int, typename: str) -> dict:
    return {"total": value, "__typename": typename}


def _release_year(movie: Movie) -> dict | None:
    if movie.release_year is None:
        return None
    return {"year": movie.release_year, "endYear": None, "__typename": "YearRange"}


def _runtime_text(seconds: int) -> str:
    hours, minutes = divmod(seconds // 60, 60)
    return " ".join(part for part in (f"{hours}h" * bool(hours), f"{minutes}m" * bool(minutes)))


def _name(person: Person) -> dict:
    return {"nameText": _text(person.name, "NameText"), "id": person.id, "__typename": "Name"}


def _credit_groups(details: MovieDetails) -> list[tuple[str, str, str, tuple[Person, ...], int]]:
    """(category id, plural label, singular label, people shown, total) per principal group."""
    return [
        ("director", "Directors", "Director", details.directors, details.total_directors),
        ("writer", "Writers", "Writer", details.writers, details.total_writers),
        ("cast", "Stars", "Star", details.stars, details.total_cast),
    ]


def _principal_credits(details: MovieDetails) -> list[dict]:
    groups = []
    for category, plural, singular, people, total in _credit_groups(details):
        label = singular if total == 1 and category != "cast" else plural
        groups.append(
            {
                "totalCredits": total,
                "category": {"text": label, "id": category, "__typename": "CreditCategory"},
                "credits": [
                    {
                        "name": _name(person),
                        "attributes": None,
                        "__typename": "Cast" if category == "cast" else "Crew",
                    }
                    for person in people
                ],
                "__typename": "PrincipalCreditsForCategory",
            }
        )
    return groups


def _principal_credits_v2(details: MovieDetails) -> list[dict]:
    return [
        {
            "grouping": {
                "groupingId": "amzn1.imdb.concept.name_credit_group."
                + str(uuid.uuid5(uuid.NAMESPACE_URL, f"imdb-replay/{category}")),
                "text": plural,
                "__typename": "PrincipalCreditsGrouping",
            },
            "credits": [
                {
                    "name": {
                        "id": person.id,
                        "nameText": _text(person.name, "NameText"),
                        "__typename": "Name",
                    },
                    "creditedRoles": {"edges": [], "__typename": "CreditedRoleConnection"},
                    "__typename": "PrincipalCreditV2",
                }
                for person in people
            ],
            "__typename": "PrincipalCreditGroup",
        }
        for category, plural, _, people, _ in _credit_groups(details)
    ]


def _above_the_fold(
    movie_day: MovieDay, details: MovieDetails, credits_shape: str, genres_shape: str
) -> dict:
    movie = movie_day.movie
    image = _image(movie)
    atf: dict = {
        "id": movie.title_id,
        "productionStatus": _production_status(movie),
        "canHaveEpisodes": False,
        "series": None,
        "titleText": _text(movie.title),
        "titleType": {
            "displayableProperty": {
                "value": {"plainText": "", "__typename": "Markdown"},
                "__typename": "DisplayableTitleTypeProperty",
            },
            "text": "Movie",
            "id": "movie",
            "isSeries": False,
            "isEpisode": False,
            "categories": [{"value": "movie", "__typename": "TitleTypeCategory"}],
            "canHaveEpisodes": False,
            "__typename": "TitleType",
        },
        "originalTitleText": _text(movie.original_title),
        "certificate": movie.certificate
        and {"rating": movie.certificate, "__typename": "Certificate"},
        "releaseYear": _release_year(movie),
        "releaseDate": movie.release_date
        and {
            "day": movie.release_date.day,
            "month": movie.release_date.month,
            "year": movie.release_date.year,
            "__typename": "ReleaseDate",
        },
        "runtime": movie.runtime_seconds
        and {
            "seconds": movie.runtime_seconds,
            "displayableProperty": {
                "value": {
                    "plainText": _runtime_text(movie.runtime_seconds),
                    "__typename": "Markdown",
                },
                "__typename": "DisplayableTitleRuntimeProperty",
            },
            "__typename": "Runtime",
        },
        "canRate": {"isRatable": not movie.unreleased, "__typename": "CanRate"},
        "ratingsSummary": {
            "aggregateRating": _number(movie_day.rating),
            "voteCount": movie_day.votes,
            "__typename": "RatingsSummary",
        },
        "meterRanking": None,
        "primaryImage": image
        and {
            "id": image["id"],
            "width": image["width"],
            "height": image["height"],
            "url": image["url"],
            "caption": {"plainText": image["caption"], "__typename": "Markdown"},
            "__typename": "Image",
        },
        "images": _total(int(_unit(movie, "images") * 300), "ImageConnection"),
        "videos": _total(int(_unit(movie, "videos") * 20), "VideoConnection"),
        "externalLinks": _total(int(_unit(movie, "links") * 200), "ExternalLinkConnection"),
        "metacritic": movie.metascore
        and {
            "metascore": {"score": movie.metascore, "__typename": "Metascore"},
            "__typename": "Metacritic",
        },
        "keywords": {
            "total": 5 + int(_unit(movie, "keywords") * 200),
            "edges": [
                {"node": _text(word, "TitleKeyword"), "__typename": "TitleKeywordEdge"}
                for word in _keywords_of(movie)
            ],
            "__typename": "TitleKeywordConnection",
        },
        **_genres(movie, genres_shape),
        "plot": movie.plot
        and {
            "plotText": {"plainText": movie.plot, "__typename": "Markdown"},
            "language": {"id": "en-US", "__typename": "DisplayableLanguage"},
            "__typename": "Plot",
        },
        "credits": _total(details.total_cast + details.total_writers + 40, "CreditConnection"),
    }
    if credits_shape == "v2":
        atf["principalCreditsV2"] = _principal_credits_v2(details)
    else:
        atf["principalCredits"] = _principal_credits(details)
    atf.update(
        reviews=_total(int(_unit(movie, "reviews") * 3000), "ReviewConnection"),
        criticReviewsTotal=_total(int(_unit(movie, "critics") * 400), "ExternalLinkConnection"),
        triviaTotal=_total(int(_unit(movie, "trivia") * 100), "TriviaConnection"),
        meta={
            "canonicalId": movie.title_id,
            "publicationStatus": "PUBLISHED",
            "__typename": "TitleMeta",
        },
        castPageTitle={
            "edges": [
                {"node": {"name": {"nameText": _text(c.person.name, "NameText")}}}
                for c in details.cast[:4]
            ],
            "__typename": "CreditConnection",
        },
        countriesOfOrigin={
            "countries": [
                {"id": country.id, "__typename": "CountryOfOrigin"}
                for country in details.countries[:1]
            ],
            "__typename": "CountriesOfOrigin",
        },
        featuredReviews={"edges": [], "__typename": "ReviewConnection"},
        __typename="Title",
    )
    return atf


def _genres(movie: Movie, shape: str) -> dict:
    """The page's genre keys in one of GENRES_SHAPES."""
    older = {
        "genres": {
            "genres": [{"text": g, "id": g, "__typename": "Genre"} for g in movie.genres],
            "__typename": "Genres",
        }
    }
    if shape == "v1":
        return older
    newer = {
        "titleGenres": {
            "genres": [
                {
                    "genre": {"text": g, "__typename": "GenreItem"}
                    | ({"genreId": g} if shape == "v2" else {}),
                    "__typename": "TitleGenre",
                }
                for g in movie.genres
            ],
            "__typename": "TitleGenres",
        }
    }
    return older | newer if shape == "v2" else newer


def _labels(labels: Sequence[Label], typename: str) -> list[dict]:
    return [{"id": label.id, "text": label.text, "__typename": typename} for label in labels]


def _crew_groups(people: Sequence[Person], total: int, plural: str, singular: str) -> list[dict]:
    return [
        {
            "totalCredits": total,
            "category": {
                "text": singular if total == 1 else plural,
                "__typename": "CreditCategory",
            },
            "credits": [
                {"name": _name(person), "attributes": None, "__typename": "Crew"}
                for person in people
            ],
            "__typename": "PrincipalCreditsForCategory",
        }
    ]


def _main_column(movie_day: MovieDay, details: MovieDetails, box_office: BoxOffice) -> dict:
    movie = movie_day.movie
    release_country = details.countries[0]
    image = _image(movie)
    return {
        "id": movie.title_id,
        "wins": _total(int(_unit(movie, "wins") ** 3 * 60), "AwardNominationConnection"),
        "nominations": _total(int(_unit(movie, "noms") ** 2 * 90), "AwardNominationConnection"),
        "prestigiousAwardSummary": None,
        "ratingsSummary": {"topRanking": None, "__typename": "RatingsSummary"},
        "episodes": None,
        "videos": _total(int(_unit(movie, "videos") * 20), "VideoConnection"),
        "titleMainImages": {
            "total": int(_unit(movie, "images") * 300),
            "edges": [],
            "__typename": "ImageConnection",
        },
        "productionStatus": _production_status(movie),
        "primaryImage": image and {"id": image["id"], "__typename": "Image"},
        "imageUploadLink": None,
        "titleType": {"id": "movie", "canHaveEpisodes": False, "__typename": "TitleType"},
        "cast": {
            "edges": [
                {
                    "node": {
                        "name": {
                            "id": credit.person.id,
                            "nameText": _text(credit.person.name, "NameText"),
                            "primaryImage": None,
                            "__typename": "Name",
                        },
                        "attributes": None,
                        "category": {
                            "id": "actress" if credit.person.female else "actor",
                            "__typename": "CreditCategory",
                        },
                        "characters": [{"name": credit.character, "__typename": "Character"}],
                        "episodeCredits": {
                            "total": 0,
                            "yearRange": None,
                            "__typename": "EpisodeCastConnection",
                        },
                        "__typename": "Cast",
                    },
                    "__typename": "CreditEdge",
                }
                for credit in details.cast
            ],
            "__typename": "CreditConnection",
        },
        "creators": [],
        "directors": _crew_groups(
            details.directors, details.total_directors, "Directors", "Director"
        ),
        "writers": _crew_groups(details.writers, details.total_writers, "Writers", "Writer"),
        "isAdult": False,
        "moreLikeThisTitles": {"edges": [], "__typename": "TitleConnection"},
        "triviaTotal": _total(int(_unit(movie, "trivia") * 100), "TriviaConnection"),
        "goofsTotal": _total(int(_unit(movie, "goofs") * 40), "GoofConnection"),
        "quotesTotal": _total(int(_unit(movie, "quotes") * 60), "TitleQuoteConnection"),
        "titleText": _text(movie.title),
        "originalTitleText": _text(movie.original_title),
        "releaseYear": _release_year(movie),
        "reviews": _total(int(_unit(movie, "reviews") * 3000), "ReviewConnection"),
        "featuredReviews": {"edges": [], "__typename": "ReviewConnection"},
        "canRate": {"isRatable": not movie.unreleased, "__typename": "CanRate"},
        "iframeAddReviewLink": None,
        "faqsTotal": _total(int(_unit(movie, "faqs") * 30), "FaqConnection"),
        "releaseDate": movie.release_date
        and {
            "day": movie.release_date.day,
            "month": movie.release_date.month,
            "year": movie.release_date.year,
            "country": {
                "id": release_country.id,
                "text": release_country.text,
                "__typename": "LocalizedDisplayableCountry",
            },
            "__typename": "ReleaseDate",
        },
        "countriesOfOrigin": {
            "countries": _labels(details.countries, "CountryOfOrigin"),
            "__typename": "CountriesOfOrigin",
        },
        "detailsExternalLinks": _total(int(_unit(movie, "links") * 200), "ExternalLinkConnection"),
        "spokenLanguages": movie.languages
        and {
            "spokenLanguages": _labels(movie.languages, "SpokenLanguage"),
            "__typename": "SpokenLanguages",
        },
        "akas": {
            "edges": [
                {
                    "node": {"text": movie.original_title, "__typename": "Aka"},
                    "__typename": "AkaEdge",
                }
            ],
            "__typename": "AkaConnection",
        },
        "filmingLocations": _total(
            int(_unit(movie, "locations") * 12), "FilmingLocationConnection"
        ),
        "companies": _total(1 + int(_unit(movie, "companies") * 15), "CompanyCreditConnection"),
        "productionBudget": details.budget
        and {"budget": _money(details.budget), "__typename": "ProductionBudget"},
        "lifetimeGross": box_office.domestic
        and {"total": _money(box_office.domestic), "__typename": "BoxOfficeGross"},
        "openingWeekendGross": box_office.opening_weekend
        and {
            "gross": {
                "total": _money(box_office.opening_weekend),
                "__typename": "BoxOfficeGross",
            },
            "weekendEndDate": box_office.weekend_end and box_office.weekend_end.isoformat(),
            "__typename": "OpeningWeekendGross",
        },
        "worldwideGross": box_office.worldwide
        and {"total": _money(box_office.worldwide), "__typename": "BoxOfficeGross"},
        "technicalSpecifications": {
            "soundMixes": {"items": [], "__typename": "SoundMixes"},
            "aspectRatios": {"items": [], "__typename": "AspectRatios"},
            "colorations": {"items": [], "__typename": "Colorations"},
            "__typename": "TechnicalSpecifications",
        },
        "runtime": movie.runtime_seconds
        and {"seconds": movie.runtime_seconds, "__typename": "Runtime"},
        "series": None,
        "canHaveEpisodes": False,
        "__typename": "Title",
    }


KEYWORDS = (
    "friendship", "revenge", "small town", "betrayal", "road trip", "heist", "coming of age",
    "family secret", "time loop", "survival", "rivalry", "undercover", "first love", "exile",
    "island", "storm", "inheritance", "detective", "artificial intelligence", "space station",
    "haunted house", "wedding", "boxing", "orchestra", "kidnapping", "border", "courtroom",
    "desert", "winter", "train", "election", "pandemic", "chef", "painter", "lighthouse",
)  # fmt: skip


def _keywords_of(movie: Movie) -> list[str]:
    start = movie.key % len(KEYWORDS)
    return [KEYWORDS[(start + step * 7) % len(KEYWORDS)] for step in range(5)]


@functools.cache
def _keyword_facets() -> list[dict]:
    return [
        {"id": word.replace(" ", "-"), "text": word, "total": 9000 // (rank + 1) + 37}
        for rank, word in enumerate(KEYWORDS)
    ]


def _ld_json(movie_day: MovieDay, details: MovieDetails) -> str:
    movie = movie_day.movie
    data: dict = {
        "@context": "https://schema.org",
        "@type": "Movie",
        "url": f"/title/{movie.title_id}/",
        "name": movie.title,
        "description": movie.plot,
        "genre": list(movie.genres),
        "director": [
            {"@type": "Person", "url": f"/name/{person.id}/", "name": person.name}
            for person in details.directors
        ],
    }
    if movie_day.rating is not None:
        data["aggregateRating"] = {
            "@type": "AggregateRating",
            "ratingCount": movie_day.votes,
            "bestRating": 10,
            "worstRating": 1,
            "ratingValue": _number(movie_day.rating),
        }
    if movie.certificate:
        data["contentRating"] = movie.certificate
    if movie.release_date:
        data["datePublished"] = movie.release_date.isoformat()
    if movie.runtime_seconds:
        hours, minutes = divmod(movie.runtime_seconds // 60, 60)
        data["duration"] = f"PT{hours}H{minutes}M"
    return _script_safe(json.dumps(data, ensure_ascii=False, separators=(",", ":")))


# --- rendered HTML ---------------------------------------------------------------------------


class _Raw(str):
    """Markup emitted as is (already escaped, or script and style text)."""


@dataclass(slots=True)
class _El:
    tag: str
    attrs: Mapping[str, str | None]
    children: list = field(default_factory=list)


def _el(tag: str, attrs: Mapping[str, str | None] | None = None, *children) -> _El:
    """An element; children that are None, False or empty (left out by `and`) are dropped."""
    kept = [
        child for child in children if isinstance(child, _El) or (isinstance(child, str) and child)
    ]
    return _El(tag, attrs or {}, kept)


VOID_TAGS = frozenset({"meta", "link", "img", "br", "input", "hr"})


def _html(node, pretty: bool, depth: int = 0) -> str:
    out: list[str] = []
    _write(node, out, pretty, depth)
    return "".join(out)


def _write(node, out: list[str], pretty: bool, depth: int) -> None:
    indent = "  " * depth if pretty else ""
    newline = "\n" if pretty else ""
    if isinstance(node, _Raw):
        out.append(node + newline if pretty and not node.endswith("\n") else node)
        return
    if isinstance(node, str):
        out.append(f"{indent}{escape(node, quote=False)}{newline}")
        return
    attrs = "".join(
        f" {name}" if value is None else f' {name}="{escape(value)}"'
        for name, value in node.attrs.items()
    )
    if node.tag in VOID_TAGS:
        out.append(f"{indent}<{node.tag}{attrs}/>{newline}")
        return
    children = node.children
    if not pretty or all(type(child) is str for child in children):
        inner = "".join(
            child
            if isinstance(child, _Raw)
            else escape(child, quote=False)
            if isinstance(child, str)
            else _html(child, False)
            for child in children
        )
        out.append(f"{indent}<{node.tag}{attrs}>{inner}</{node.tag}>{newline}")
        return
    out.append(f"{indent}<{node.tag}{attrs}>\n")
    for child in children:
        _write(child, out, pretty, depth + 1)
    out.append(f"{indent}</{node.tag}>\n")


@functools.cache
def _class(component: str, part: int = 0) -> str:
    """A styled-components class name: opaque and different for every build, like IMDb's."""
    digest = hashlib.blake2b(f"{BUILD_ID}/{component}".encode(), digest_size=8).hexdigest()
    suffix = "".join(chr(97 + int(c, 16) % 26) for c in digest[8:13])
    return f"sc-{digest[:8]}-{part} {suffix}"


def _votes_text(votes: int) -> str:
    if votes >= 1_000_000:
        return f"{votes / 1_000_000:.1f}M".replace(".0M", "M")
    if votes >= 1000:
        return f"{votes / 1000:.1f}K".replace(".0K", "K")
    return str(votes)


STAR_PATH = (
    "M12 20.1l5.8 3.7c1.1.7 2.4-.3 2.1-1.6l-1.5-6.9 5.1-4.7c.9-.9.4-2.5-.8-2.6l-6.8-.6L13.3.9"
    "a1.4 1.4 0 0 0-2.6 0L8.1 7.4l-6.8.6C.1 8.1-.5 9.7.5 10.6l5.1 4.7-1.5 6.9c-.3 1.3 1 2.3 2.1"
    " 1.6L12 20.1z"
)


def _star_icon() -> _El:
    return _el(
        "svg",
        {"width": "24", "height": "24", "class": "ipc-icon ipc-icon--star-inline",
         "viewBox": "0 0 24 24", "fill": "currentColor", "role": "presentation"},
        _el("path", {"d": STAR_PATH}),
    )  # fmt: skip


def _search_result(position: int, item: dict) -> _El:
    title_id = item["titleId"]
    metadata = [str(item["releaseYear"])] if item["releaseYear"] else []
    if "runtime" in item:
        metadata.append(_runtime_text(item["runtime"]))
    if "certificate" in item:
        metadata.append(item["certificate"])
    rating = item["ratingSummary"]["aggregateRating"]
    votes = item["ratingSummary"]["voteCount"]
    image = item["primaryImage"]
    return _el(
        "li",
        {"class": "ipc-metadata-list-summary-item"},
        _el(
            "div",
            {"class": "ipc-metadata-list-summary-item__c"},
            _el(
                "div",
                {"class": _class("poster") + " dli-poster-container"},
                image
                and _el(
                    "img",
                    {
                        "alt": image["caption"],
                        "class": "ipc-image",
                        "loading": "lazy",
                        "src": image["url"].replace("._V1_", "._V1_QL75_UX140_"),
                        "width": "140",
                    },
                ),
            ),
            _el(
                "div",
                {"class": _class("title") + " dli-title"},
                _el(
                    "a",
                    {
                        "href": f"/title/{title_id}/?ref_=sr_t_{position}",
                        "class": "ipc-title-link-wrapper",
                        "tabindex": "0",
                    },
                    _el("h3", {"class": "ipc-title__text"}, f"{position}. {item['titleText']}"),
                ),
            ),
            _el(
                "div",
                {"class": _class("metadata", 7) + " dli-title-metadata"},
                *(
                    _el("span", {"class": _class("metadata", 8) + " dli-title-metadata-item"}, m)
                    for m in metadata
                ),
                "metascore" in item
                and _el(
                    "span",
                    {"class": "metacritic-score-box"},
                    str(item["metascore"]),
                ),
            ),
            rating is not None
            and _el(
                "span",
                {
                    "aria-label": f"IMDb rating: {float(rating):.1f}",
                    "class": "ipc-rating-star ipc-rating-star--imdb ratingGroup--imdb-rating",
                    "data-testid": "ratingGroup--imdb-rating",
                },
                _star_icon(),
                _el("span", {"class": "ipc-rating-star--rating"}, f"{float(rating):.1f}"),
                _el(
                    "span", {"class": "ipc-rating-star--voteCount"}, f"\u00a0({_votes_text(votes)})"
                ),
            ),
            item["plot"]
            and _el(
                "div",
                {"class": "ipc-html-content-inner-div", "role": "presentation"},
                item["plot"],
            ),
        ),
    )


def _search_main(items: Sequence[dict], total: int) -> _El:
    shown = len(items)
    summary = f"1-{shown} of {total:,}" if shown else "No results"
    return _el(
        "main",
        {"role": "main", "class": "ipc-page-wrapper ipc-page-wrapper--base"},
        _el(
            "section",
            {"class": "ipc-page-section ipc-page-section--base " + _class("results")},
            _el("h1", {"class": "ipc-title__text"}, "Advanced title search"),
            _el("div", {"class": _class("results", 3) + " results-count"}, summary),
            _el(
                "ul",
                {
                    "class": "ipc-metadata-list detailed-list-view " + _class("list"),
                    "role": "presentation",
                },
                *(_search_result(n, item) for n, item in enumerate(items, start=1)),
            ),
            shown
            and _el(
                "div",
                {"class": "ipc-see-more"},
                _el("button", {"class": "ipc-see-more__button"}, "50 more"),
            ),
        ),
    )


def _title_main(movie_day: MovieDay, details: MovieDetails, box_office: BoxOffice) -> _El:
    movie = movie_day.movie
    facts = [str(movie.release_year or "TBA")]
    if movie.certificate:
        facts.append(movie.certificate)
    if movie.runtime_seconds:
        facts.append(_runtime_text(movie.runtime_seconds))
    credit_rows = [
        _el(
            "li",
            {"class": "ipc-metadata-list__item", "data-testid": "title-pc-principal-credit"},
            _el("span", {"class": "ipc-metadata-list-item__label"}, label),
            *(
                _el(
                    "a",
                    {
                        "class": "ipc-metadata-list-item__list-content-item",
                        "href": f"/name/{person.id}/?ref_=tt_ov_{category[:2]}",
                    },
                    person.name,
                )
                for person in people
            ),
        )
        for category, label, _, people, _ in _credit_groups(details)
    ]
    cast_items = [
        _el(
            "div",
            {"data-testid": "title-cast-item", "class": _class("cast-item")},
            _el(
                "a",
                {"data-testid": "title-cast-item__actor", "href": f"/name/{c.person.id}/"},
                c.person.name,
            ),
            _el("span", {"class": _class("cast-item", 4)}, c.character),
        )
        for c in details.cast
    ]
    details_rows = [
        ("Release date", movie.release_date.isoformat() if movie.release_date else None),
        ("Countries of origin", ", ".join(country.text for country in details.countries)),
        ("Languages", ", ".join(lang.text for lang in movie.languages or ()) or None),
    ]
    money_rows = [
        ("Budget", details.budget),
        ("Gross US & Canada", box_office.domestic),
        ("Opening weekend US & Canada", box_office.opening_weekend),
        ("Gross worldwide", box_office.worldwide),
    ]
    rating = movie_day.rating
    return _el(
        "main",
        {"role": "main", "class": "ipc-page-wrapper ipc-page-wrapper--base"},
        _el(
            "section",
            {"class": "ipc-page-background " + _class("hero")},
            _el(
                "h1",
                {"data-testid": "hero__pageTitle", "class": _class("hero", 1)},
                _el("span", {"class": _class("hero", 2)}, movie.title),
            ),
            movie.original_title != movie.title
            and _el("div", {"class": _class("hero", 3)}, f"Original title: {movie.original_title}"),
            _el(
                "ul",
                {"class": "ipc-inline-list ipc-inline-list--show-dividers"},
                *(_el("li", {"class": "ipc-inline-list__item"}, fact) for fact in facts),
            ),
            _el(
                "div",
                {"data-testid": "hero-rating-bar__aggregate-rating"},
                _el(
                    "span",
                    {"class": _class("rating", 1)},
                    f"{rating:.1f}" if rating is not None else "—",
                ),
                _el("span", {"class": _class("rating", 2)}, "/10"),
                _el("div", {"class": _class("rating", 3)}, _votes_text(movie_day.votes)),
            ),
            _el(
                "div",
                {"class": "ipc-chip-list__scroller"},
                *(
                    _el(
                        "a",
                        {
                            "class": "ipc-chip ipc-chip--on-baseAlt",
                            "href": f"/search/title/?genres={genre.lower()}&explore=genres",
                        },
                        _el("span", {"class": "ipc-chip__text"}, genre),
                    )
                    for genre in movie.genres
                ),
            ),
            movie.plot
            and _el("span", {"data-testid": "plot-xl", "role": "presentation"}, movie.plot),
            _el("ul", {"class": "ipc-metadata-list title-pc-list"}, *credit_rows),
        ),
        _el(
            "section",
            {"data-testid": "title-cast", "class": "ipc-page-section ipc-page-section--base"},
            _el("h3", {"class": "ipc-title__text"}, "Top cast"),
            *cast_items,
        ),
        _el(
            "section",
            {"data-testid": "Details", "class": "ipc-page-section ipc-page-section--base"},
            _el("h3", {"class": "ipc-title__text"}, "Details"),
            *(
                _el(
                    "li",
                    {"class": "ipc-metadata-list__item"},
                    _el("span", {"class": "ipc-metadata-list-item__label"}, label),
                    value,
                )
                for label, value in details_rows
                if value
            ),
        ),
        _el(
            "section",
            {"data-testid": "BoxOffice", "class": "ipc-page-section ipc-page-section--base"},
            _el("h3", {"class": "ipc-title__text"}, "Box office"),
            *(
                _el(
                    "li",
                    {"class": "ipc-metadata-list__item"},
                    _el("span", {"class": "ipc-metadata-list-item__label"}, label),
                    f"{money.currency} {money.amount:,}",
                )
                for label, money in money_rows
                if money is not None
            ),
        ),
    )


# --- the document and its filler ------------------------------------------------------------

TRANSLATIONS_MARK = "@@replay-translations@@"


def _document(kind: str, head: list, main: _El, data: dict, pretty: bool) -> str:
    filler = _filler(pretty)
    nl = "\n" if pretty else ""
    head_html = "".join(_html(node, pretty, 2) for node in head)
    return "".join(
        (
            '<!DOCTYPE html>\n<html lang="en-US" xmlns:og="http://opengraphprotocol.org/schema/">',
            nl,
            "  <head>\n" if pretty else "<head>",
            '    <meta charSet="utf-8"/>\n' if pretty else '<meta charSet="utf-8"/>',
            filler.head_scripts,
            head_html,
            filler.ads_scripts,
            filler.style,
            filler.chunk_scripts[kind],
            filler.style,
            '  </head>\n  <body id="styleguide-v2" class="fixed">\n'
            if pretty
            else '</head><body id="styleguide-v2" class="fixed">',
            filler.body_script,
            filler.nav,
            _html(main, pretty, 2),
            filler.footer,
            "    " if pretty else "",
            '<script id="__NEXT_DATA__" type="application/json">',
            _next_data_json(data, pretty),
            "</script>",
            nl,
            filler.trailing_scripts,
            "  </body>\n</html>\n" if pretty else "</body></html>",
        )
    )


def _script_safe(text: str) -> str:
    return text.replace("</", "<\\/")


def _next_data_json(data: dict, pretty: bool) -> str:
    """The data as JSON, with the (big, constant) translations spliced in pre-serialised."""
    props = data["props"]
    page_props = props["pageProps"]
    marked = {
        **data,
        "props": {**props, "pageProps": {**page_props, "translationContext": TRANSLATIONS_MARK}},
    }
    if pretty:
        text = _pretty_json(marked)
    else:
        text = json.dumps(marked, ensure_ascii=False, separators=(",", ":"))
    text = _script_safe(text)
    mark = f'"{TRANSLATIONS_MARK}"'
    at = text.index(mark)
    indent = 0
    if pretty:
        line_start = text.rindex("\n", 0, at) + 1
        indent = len(text[line_start:at]) - len(text[line_start:at].lstrip(" "))
    return text[:at] + _translations_json(indent if pretty else None) + text[at + len(mark) :]


def _scalar_json(value) -> str:
    """JSON for a string, number, boolean or null, without the encoder's per-call set-up."""
    if isinstance(value, str):
        return encode_basestring(value)
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    return repr(value)  # int, or a finite float: as json.dumps writes them


def _pretty_json(value, depth: int = 0, width: int = 100) -> str:
    """Indented JSON (2 spaces) that keeps short objects and arrays of plain values on one
    line, like Prettier. Written by hand: `json.dumps(indent=…)` is slow in Python 3.11."""
    if not isinstance(value, dict | list):
        return _scalar_json(value)
    if not value:
        return "{}" if isinstance(value, dict) else "[]"
    is_dict = isinstance(value, dict)
    children = value.values() if isinstance(value, dict) else value
    if not any(isinstance(child, dict | list) for child in children):
        if isinstance(value, dict):
            one_line = ", ".join(
                f"{encode_basestring(k)}: {_scalar_json(v)}" for k, v in value.items()
            )
            one_line = "{" + one_line + "}"
        else:
            one_line = "[" + ", ".join(_scalar_json(v) for v in value) + "]"
        if len(one_line) + 2 * depth <= width:
            return one_line
    inner = "\n" + "  " * (depth + 1)
    if isinstance(value, dict):
        parts = [
            f"{inner}{encode_basestring(key)}: {_pretty_json(item, depth + 1, width)}"
            for key, item in value.items()
        ]
    else:
        parts = [f"{inner}{_pretty_json(item, depth + 1, width)}" for item in value]
    return (
        ("{" if is_dict else "[")
        + ",".join(parts)
        + "\n"
        + "  " * depth
        + ("}" if is_dict else "]")
    )


@functools.cache
def _translations() -> dict:
    """A big constant table of UI strings, like the i18n resources real pages carry."""
    rng = random.Random(7)
    words = FILLER_WORDS
    resources = {}
    for area in ("common", "search", "title", "name", "navbar", "footer", "ads", "account"):
        for n in range(330):
            key = f"{area}_{rng.choice(words)}_{rng.choice(words)}_{n}"
            resources[key] = " ".join(rng.choice(words) for _ in range(3 + rng.randrange(9)))
            resources[key] = resources[key].capitalize()
    return {"i18n": {"translations": {"resources": resources}, "locale": "en-US"}}


@functools.cache
def _translations_json(indent: int | None) -> str:
    if indent is None:
        return _script_safe(json.dumps(_translations(), ensure_ascii=False, separators=(",", ":")))
    text = _pretty_json(_translations(), depth=indent // 2)
    return _script_safe(text)


FILLER_WORDS = (
    "add", "watchlist", "rating", "sign", "in", "your", "list", "more", "see", "all", "menu",
    "close", "open", "share", "title", "movie", "show", "trailer", "video", "photo", "gallery",
    "top", "picks", "new", "popular", "release", "calendar", "news", "awards", "events", "help",
    "center", "settings", "account", "language", "browse", "genre", "keyword", "filter", "sort",
    "results", "view", "grid", "compact", "detailed", "episode", "season", "cast", "crew",
    "review", "user", "critic", "score", "vote", "rate", "this", "from", "with", "and", "the",
)  # fmt: skip


@dataclass(frozen=True)
class _Filler:
    head_scripts: str
    ads_scripts: str
    style: str
    css: str
    chunk_scripts: dict[str, str]
    body_script: str
    nav: str
    footer: str
    trailing_scripts: str


@functools.cache
def _filler(pretty: bool) -> _Filler:
    """The bulk of a page, the same on every page: made once per layout."""
    rng = random.Random(20240601)
    css = _css(rng, 1450, pretty)
    nl = "\n" if pretty else ""
    chunks = [f"{n}-{rng.getrandbits(64):016x}" for n in rng.sample(range(100, 9999), 30)]

    def scripts(sources: Sequence[str]) -> str:
        pad = "    " if pretty else ""
        return "".join(
            f'{pad}<script src="{ASSET_PREFIX}/_next/static/chunks/{s}.js" defer=""></script>{nl}'
            for s in sources
        )

    return _Filler(
        head_scripts=_inline_scripts(rng, 4, 2500, pretty, "    "),
        ads_scripts=_inline_scripts(rng, 6, 900, pretty, "    "),
        style=(
            f'    <style data-styled="" data-styled-version="6.1.0">{nl}{css}{nl}    </style>{nl}'
        ),
        css=css,
        chunk_scripts={
            kind: scripts(
                [*chunks[:22], f"pages/{page}-{hashlib.md5(page.encode()).hexdigest()[:16]}"]
            )
            for kind, page in (("search", "search/[tab]"), ("title", "title/[tconst]"))
        },
        body_script=_inline_scripts(rng, 1, 15_000, pretty, "    "),
        nav=_html(_nav(rng), pretty, 2),
        footer=_html(_footer(rng), pretty, 2),
        trailing_scripts=_inline_scripts(rng, 3, 20_000, pretty, "    "),
    )


def _identifier(rng: random.Random) -> str:
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(1 + rng.randrange(3)))


def _statements(rng: random.Random, size: int) -> Iterator[str]:
    """Plausible minified JavaScript statements, about `size` characters in all."""
    written = 0
    while written < size:
        a, b, c = _identifier(rng), _identifier(rng), _identifier(rng)
        word = rng.choice(FILLER_WORDS)
        statement = rng.choice(
            (
                f"var {a}=function({b},{c}){{return {b}&&{c}?{b}.concat({c}):[]}};",
                f"window.{a}{word.title()}=window.{a}{word.title()}||{{q:[],t:{rng.randrange(10**12)}}};",
                f'if(typeof {a}==="function"){{{a}("{word}",{{wb:{rng.randrange(2)}}})}}',
                f'{a}.{word}={b}.map(function({c}){{return {c}.{word}||"{word}"}});',
                f"try{{{a}({b})}}catch({c}){{console.warn({c})}}",
            )
        )
        written += len(statement)
        yield statement


def _inline_scripts(rng: random.Random, count: int, size: int, pretty: bool, pad: str) -> str:
    scripts = []
    for _ in range(count):
        statements = list(_statements(rng, size))
        if pretty:
            body = "\n".join(pad + "  " + s for s in statements)
            scripts.append(f"{pad}<script>\n{body}\n{pad}</script>\n")
        else:
            scripts.append(f"<script>{''.join(statements)}</script>")
    return "".join(scripts)


CSS_PROPERTIES = (
    ("display", ("flex", "block", "inline-flex", "grid", "none", "inline-block")),
    ("align-items", ("center", "flex-start", "baseline", "stretch")),
    ("margin", ("0", "0 auto", "0 0 .5rem", "1rem 0", "0 .25rem")),
    ("padding", ("0", ".5rem 1rem", "0 var(--page-margin)", "1.5rem 0")),
    ("color", ("var(--text-primary)", "var(--text-secondary)", "#f5c518", "inherit")),
    ("font-size", (".875rem", "1rem", "1.25rem", "2rem")),
    ("line-height", ("1.25rem", "1.5rem", "2.5rem")),
    ("border-radius", (".25rem", "50%", "0")),
    ("transition", ("opacity .2s ease-in", "transform .3s cubic-bezier(.4,0,.2,1)")),
    ("min-width", ("0", "7rem", "100%")),
)  # fmt: skip


def _css(rng: random.Random, rules: int, pretty: bool) -> str:
    out = []
    for n in range(rules):
        selector = f".{_identifier(rng)}{rng.getrandbits(24):06x}"
        if n % 9 == 0:
            selector = (
                f"@media screen and (min-width:{rng.choice((600, 1024, 1280))}px){{{selector}"
            )
        declarations = [
            f"{name}:{rng.choice(values)}"
            for name, values in rng.sample(CSS_PROPERTIES, 3 + rng.randrange(5))
        ]
        close = "}}" if selector.startswith("@media") else "}"
        if pretty:
            body = "".join(f"\n      {d};" for d in declarations)
            out.append(f"    {selector} {{{body}\n    {close}")
        else:
            out.append(f"{selector}{{{';'.join(declarations)};{close}")
    return ("\n" if pretty else "").join(out)


def _icon(rng: random.Random) -> _El:
    points = " ".join(f"{rng.randrange(24)} {rng.randrange(24)}" for _ in range(8))
    return _el(
        "svg",
        {"width": "24", "height": "24", "viewBox": "0 0 24 24", "fill": "currentColor",
         "class": f"ipc-icon ipc-icon--{rng.choice(FILLER_WORDS)}", "role": "presentation"},
        _el("path", {"d": f"M{points}z"}),
    )  # fmt: skip


def _nav(rng: random.Random) -> _El:
    groups = []
    for group in range(14):
        links = [
            _el(
                "a",
                {
                    "class": "ipc-list__item nav-link",
                    "href": f"/{rng.choice(FILLER_WORDS)}/?ref_=nv_{group}_{n}",
                    "role": "menuitem",
                    "tabindex": "-1",
                },
                _icon(rng),
                _el(
                    "span",
                    {"class": "ipc-list-item__text"},
                    f"{rng.choice(FILLER_WORDS).title()} {rng.choice(FILLER_WORDS)}",
                ),
            )
            for n in range(9)
        ]
        groups.append(
            _el("div", {"class": _class("nav", group), "role": "group"},
                _el("span", {"class": "navlinkcat__title"}, rng.choice(FILLER_WORDS).title()),
                _el("ul", {"class": "ipc-list", "role": "menu"}, *links))
        )  # fmt: skip
    return _el(
        "nav",
        {"id": "imdbHeader", "class": _class("header") + " imdb-header imdb-header--react"},
        _el("a", {"href": "/?ref_=nv_home", "aria-label": "Home"}, _icon(rng)),
        _el("input", {"type": "text", "name": "q", "placeholder": "Search IMDb"}),
        *groups,
    )


def _footer(rng: random.Random) -> _El:
    links = [
        _el("a", {"class": "ipc-link", "href": f"/{rng.choice(FILLER_WORDS)}/?ref_=ft_{n}"},
            rng.choice(FILLER_WORDS).title())
        for n in range(40)
    ]  # fmt: skip
    return _el(
        "footer",
        {"class": _class("footer") + " imdb-footer footer"},
        _el("div", {"class": "imdb-footer__links"}, *links),
        _el("p", {"class": "imdb-footer__copyright"}, "© 1990-2030 by the offline IMDb replay"),
    )
