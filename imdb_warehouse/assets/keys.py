"""Every asset's key, in one place: Postgres schema = first element, table = last."""

import dagster as dg

SEARCH_RESULTS = dg.AssetKey(["raw", "imdb_search_results"])
TITLE_PAGES = dg.AssetKey(["raw", "imdb_title_pages"])
MOVIE_RANKINGS = dg.AssetKey(["staging", "movie_rankings"])
TITLE_DETAILS = dg.AssetKey(["staging", "title_details"])

OWNERS = ["team:data-platform"]
