"""IMDb URLs: the genre search page and the title page."""

from collections.abc import Mapping
from urllib.parse import urlencode

DEFAULT_BASE_URL = "https://www.imdb.com"

# Feature films, English language, IMDb's popularity order, 50 results. `genres` is added per genre.
DEFAULT_SEARCH_PARAMS: Mapping[str, str] = {
    "title_type": "feature",
    "languages": "en",
    "sort": "popularity,asc",
    "count": "50",
}


def search_url(
    base_url: str, genre_slug: str, params: Mapping[str, str] = DEFAULT_SEARCH_PARAMS
) -> str:
    query = {"title_type": params.get("title_type", "feature"), "genres": genre_slug}
    query.update({k: v for k, v in params.items() if k not in query})
    return f"{base_url.rstrip('/')}/search/title/?{urlencode(query, safe=',')}"


def title_url(base_url: str, title_id: str) -> str:
    return f"{base_url.rstrip('/')}/title/{title_id}/"
