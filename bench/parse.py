"""Parse throughput of search and title pages rendered by the offline IMDb (real-page size)."""

import time
from datetime import date

from bench.common import Figure
from imdb_warehouse.imdb.parse import parse_search_page, parse_title_page
from imdb_warehouse.imdb.urls import DEFAULT_SEARCH_PARAMS
from imdb_warehouse.partitions import GENRES
from imdb_warehouse.replay.catalogue import Catalogue
from imdb_warehouse.replay.pages import search_page, title_page

DAY = date(2025, 6, 1)


def _rate(pages: list[str], parse) -> float:
    start = time.process_time()  # CPU time of this one process: "on one core"
    for html in pages:
        parse(html)
    return len(pages) / (time.process_time() - start)


def run(_: str) -> list[Figure]:
    catalogue = Catalogue()
    searches = [
        search_page(
            catalogue, genre, DAY, {**DEFAULT_SEARCH_PARAMS, "genres": genre}, pretty=i % 2 == 1
        )
        for i, genre in enumerate(GENRES * 3)
    ]
    ids = [m.movie.title_id for m in catalogue.search(None, DAY, limit=150)[0]]
    titles = [
        title_page(
            catalogue, title_id, DAY, credits_shape="v2" if i % 2 else "v1", pretty=i % 3 == 0
        )
        for i, title_id in enumerate(ids)
    ]
    search_rate = _rate(searches, lambda html: parse_search_page(html).rows())
    title_rate = _rate(titles, parse_title_page)
    kb = sum(map(len, searches)) / len(searches) / 1000
    return [
        Figure(
            "parse_search_pages",
            search_rate,
            "pages/s",
            f"≥ 50 (pages of ~{kb:.0f} kB)",
            search_rate >= 50,
        ),
        Figure("parse_title_pages", title_rate, "pages/s", "≥ 30", title_rate >= 30),
    ]
