"""The parsers and `imdb-warehouse parse` on real, redacted IMDb pages (shared/imdb_reference).

Those pages are reference material and are never copied into the project; the tests read them
where they lie (the `reference` fixture: IMDB_REFERENCE_DIR, or shared/imdb_reference beside
the checkout or beside the checkout it was cloned from). Where they are not found, the tests fail.
"""

import json
import subprocess
import sys
from pathlib import Path

from imdb_warehouse.imdb.parse import parse_search_page, parse_title_page, search_item_row

CLI = str(Path(sys.executable).parent / "imdb-warehouse")


def _parse_cli(page: Path) -> list[dict]:
    out = subprocess.run(
        [CLI, "parse", str(page)], capture_output=True, text=True, check=True
    ).stdout
    return [json.loads(line) for line in out.splitlines()]


def test_the_search_page_gives_its_ten_results_as_rows(reference):
    rows = _parse_cli(reference / "search_feature_user-rating-desc_count10_2025-06.html")
    assert len(rows) == 10 and [r["rank"] for r in rows] == list(range(1, 11))
    assert all(r["title_id"].startswith("tt") and r["title_type"] == "movie" for r in rows)
    # sorted by user rating, descending, within the 4–5 range that page asked for
    ratings = [r["rating"] for r in rows]
    assert ratings == sorted(ratings, reverse=True) and all(4 <= x <= 5 for x in ratings)
    assert any(isinstance(x, float) and x == int(x) for x in ratings)  # "5" read as 5.0
    assert all(r["runtime_minutes"] is None or 40 < r["runtime_minutes"] < 300 for r in rows)
    page = parse_search_page(
        (reference / "search_feature_user-rating-desc_count10_2025-06.html").read_text()
    )
    assert page.total > len(page.items) == 10


def test_the_matrix_has_two_directors_a_budget_and_every_gross(reference):
    [matrix] = _parse_cli(reference / "title_tt0133093_2023-05.html")
    assert matrix["title_id"] == "tt0133093" and matrix["title"] == "The Matrix"
    assert len(matrix["directors"]) == 2
    assert all(p["id"].startswith("nm") for p in matrix["directors"] + matrix["stars"])
    assert len(matrix["stars"]) == 3 and matrix["writers"]
    assert matrix["budget_currency"] == "USD" and matrix["budget_amount"] > 0
    for gross in ("gross_worldwide", "gross_domestic", "opening_weekend"):
        assert matrix[f"{gross}_amount"] > 0 and matrix[f"{gross}_currency"] == "USD"
    assert matrix["opening_weekend_end_date"] == "1999-04-04"
    assert matrix["release_year"] == 1999 and matrix["runtime_minutes"] == 136
    assert matrix["metascore"] is not None and "Sci-Fi" in matrix["genres"]


def test_existence_has_a_budget_in_nzd_no_gross_and_no_metascore(reference):
    [existence] = _parse_cli(reference / "title_tt2402107_2023-05.html")
    assert existence["budget_currency"] == "NZD" and existence["budget_amount"] > 0
    for gross in ("gross_worldwide", "gross_domestic", "opening_weekend"):
        assert existence[f"{gross}_amount"] is None and existence[f"{gross}_currency"] is None
    assert existence["opening_weekend_end_date"] is None
    assert existence["metascore"] is None
    assert existence["countries"] == ["New Zealand"]


def test_every_item_of_the_50_movie_search_subtree_reads(reference):
    subtree = json.loads(
        (reference / "search_results_subtree_movies_popularity_2024-06.json").read_text()
    )
    items = subtree["titleResults"]["titleListItems"]
    rows = [search_item_row(item, rank) for rank, item in enumerate(items, start=1)]
    assert len(rows) == 50 and len({r["title_id"] for r in rows}) == 50
    assert all(r["release_date"] is None for r in rows)  # absent in 2024 pages
    assert any(r["metascore"] is None for r in rows) and any(r["metascore"] for r in rows)


def test_title_pages_parse_the_same_through_the_function_and_the_command(reference):
    name = "title_tt0133093_2023-05.html"
    direct = parse_title_page((reference / name).read_text())
    assert json.loads(json.dumps(direct, default=str)) == _parse_cli(reference / name)[0]
