"""Every asset's key, in one place: Postgres schema = first element, table = last."""

import dagster as dg

SEARCH_RESULTS = dg.AssetKey(["raw", "imdb_search_results"])
TITLE_PAGES = dg.AssetKey(["raw", "imdb_title_pages"])
MOVIE_RANKINGS = dg.AssetKey(["staging", "movie_rankings"])
TITLE_DETAILS = dg.AssetKey(["staging", "title_details"])

OWNERS = ["team:data-platform"]

DIM_DATE = dg.AssetKey(["warehouse", "dim_date"])
DIM_GENRE = dg.AssetKey(["warehouse", "dim_genre"])
DIM_MOVIE = dg.AssetKey(["warehouse", "dim_movie"])
DIM_PERSON = dg.AssetKey(["warehouse", "dim_person"])
BRIDGE_MOVIE_PERSON = dg.AssetKey(["warehouse", "bridge_movie_person"])
BRIDGE_MOVIE_GENRE = dg.AssetKey(["warehouse", "bridge_movie_genre"])
FACT_MOVIE_RANKING = dg.AssetKey(["warehouse", "fact_movie_ranking"])
FACT_BOX_OFFICE = dg.AssetKey(["warehouse", "fact_box_office"])
