"""The contract of the project's two GraphQL queries, on REAL data: IMDb's saved pages.

IMDb's GraphQL API cannot be reached from here, but its website's pages hold the answers of the
same fields: a title page's `aboveTheFoldData` and `mainColumnData` together are a `Title`, and
a search page's items are `Title`s in a flatter shape. So:

1. a resolver maps every field and argument the queries ask to that JSON, explicitly (`Title`
   fields that the page keeps elsewhere or under another name, aliases, `lifetimeGross(
   boxOfficeArea:)`, `principalCredits(filter:)`); a field it does not map, an argument it does
   not know, or a key the page lacks is an error of the execution, never a silent null;
2. graphql-core executes the project's queries (`LIST_QUERY`'s Title selection and
   `DETAILS_QUERY`, with the project's variables) over a schema built from the project's
   subset, so types, non-null fields, aliases and abstract credits are checked as a server
   would;
3. the answer goes through JSON and the project's readers (`answer_data`, `genre_list`,
   `titles`, then `listed_title_row` / `details_row`, as raw → staging does);
4. each column is compared with the value the page shows, read here on its own (not through the
   resolver; from another part of the page where the page has two: the main column's title and
   year, the above-the-fold release date, the displayed runtime "2h 16m", the main column's
   directors, writers and billed cast).

A value a page lacks is listed as absent (the reader must give null, but it is not counted as
compared); the tables of compared and absent columns are printed (`pytest -rP`), and each page
must reach a stated number of compared columns.
"""

import json
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from graphql import GraphQLError, build_schema, graphql_sync

from imdb_warehouse.imdb import graphql
from imdb_warehouse.imdb.parse import next_data

SCHEMA = build_schema(graphql.SCHEMA_PATH.read_text())
TITLE_PAGES = ("title_tt0133093_2023-05.html", "title_tt2402107_2023-05.html")
SEARCH_PAGE = "search_feature_user-rating-desc_count10_2025-06.html"
SEARCH_SUBTREE = "search_results_subtree_movies_popularity_2024-06.json"

RANKING_COLUMNS = graphql.RANKING_FIELDS
PEOPLE = ("directors", "writers", "stars")
MONEY = ("budget", "gross_worldwide", "gross_domestic", "opening_weekend")
DETAILS_COLUMNS = (
    *RANKING_COLUMNS,
    "countries",
    "languages",
    *PEOPLE,
    *(f"{money}_{part}" for money in MONEY for part in ("amount", "currency")),
    "opening_weekend_end_date",
)
BOX_OFFICE = {c for c in DETAILS_COLUMNS if c.startswith(("gross_", "opening_weekend_"))}
# Compared columns each page must reach: The Matrix shows every one; Existence has no metascore
# and no box office but its budget (FORMAT.md).
MIN_DETAILS_COMPARED = {
    "tt0133093": len(DETAILS_COLUMNS),
    "tt2402107": len(DETAILS_COLUMNS) - 1 - len(BOX_OFFICE),
}
# Search items lack the release date (2024), and some the runtime, certificate or metascore.
MIN_RANKING_COMPARED_PER_ITEM = len(RANKING_COLUMNS) - 4

Json = dict[str, Any]


# --- the resolver: IMDb's pages as GraphQL `Title`s ------------------------------------------


def strict_field(source: Any, info, **arguments: Any) -> Any:
    """graphql-core's resolver of every field here: the value the mapping gives, a function of
    the field's arguments, or an error. Never graphql-core's default (a missing key as null)."""
    where = f"{info.parent_type.name}.{info.field_name}"
    if not isinstance(source, dict) or info.field_name not in source:
        raise GraphQLError(f"{where}: the page carries no such value (the resolver maps none)")
    value = source[info.field_name]
    if callable(value):
        return value(**arguments)
    if arguments:
        raise GraphQLError(f"{where}({', '.join(arguments)}): the resolver maps no arguments")
    return value


def page_title(atf: Json, mcd: Json) -> Json:
    """A title page's data as a `Title`: each field the queries ask, from where the page keeps
    it. The nested objects are the page's own (their keys are the schema's field names)."""

    def principal_credits(filter: Json | None = None) -> list[Json]:
        wanted = None if filter is None else filter["categories"]
        groups = atf["principalCredits"]
        return [g for g in groups if wanted is None or g["category"]["id"] in wanted]

    def lifetime_gross(boxOfficeArea: str) -> Json | None:
        # The page asked both areas: the worldwide gross under the alias `worldwideGross`.
        by_area = {"WORLDWIDE": mcd["worldwideGross"], "DOMESTIC": mcd["lifetimeGross"]}
        if boxOfficeArea not in by_area:
            raise GraphQLError(f"lifetimeGross({boxOfficeArea}) is not on the page")
        return by_area[boxOfficeArea]

    def opening_weekend_gross(boxOfficeArea: str) -> Json | None:
        if boxOfficeArea != "DOMESTIC":
            raise GraphQLError(f"openingWeekendGross({boxOfficeArea}) is not on the page")
        return mcd["openingWeekendGross"]

    above_the_fold = (
        "id", "titleText", "originalTitleText", "titleType", "releaseYear", "runtime",
        "certificate", "plot", "ratingsSummary", "metacritic",
    )  # fmt: skip
    return {
        **{field: atf[field] for field in above_the_fold},
        "releaseDate": mcd["releaseDate"],  # the main column's, as the website asks it
        # Pages of 2023 carry the older `genres{id,text}`: the same genres, ids named genreId.
        "titleGenres": {
            "genres": [
                {"genre": {"genreId": g["id"], "text": g["text"]}} for g in atf["genres"]["genres"]
            ]
        },
        "countriesOfOrigin": mcd["countriesOfOrigin"],  # above the fold: the first one only
        "spokenLanguages": mcd["spokenLanguages"],
        "principalCredits": principal_credits,
        "productionBudget": mcd["productionBudget"],
        "lifetimeGross": lifetime_gross,
        "openingWeekendGross": opening_weekend_gross,
    }


def search_item_title(item: Json) -> Json:
    """A search page's item as a `Title`. The item is flat (`titleText` a string, `runtime`
    seconds, `ratingSummary`) and omits a key it has no value for (FORMAT.md): null here."""

    def wrapped(key: str, make: Callable[[Any], Json]) -> Json | None:
        return make(item[key]) if item.get(key) is not None else None

    return {
        "id": item["titleId"],
        "titleText": {"text": item["titleText"]},
        "originalTitleText": {"text": item["originalTitleText"]},
        "titleType": item["titleType"],
        "releaseYear": {"year": item["releaseYear"], "endYear": item["endYear"]},
        "releaseDate": item.get("releaseDate"),  # the search pages of 2024 carry none
        "runtime": wrapped("runtime", lambda seconds: {"seconds": seconds}),
        "certificate": wrapped("certificate", lambda rating: {"rating": rating}),
        # Genre ids are the genre names (test_imdbs_genre_ids_are_its_genre_names).
        "titleGenres": {
            "genres": [{"genre": {"genreId": name, "text": name}} for name in item["genres"]]
        },
        "plot": wrapped("plot", lambda text: {"plotText": {"plainText": text}}),
        "ratingsSummary": item["ratingSummary"],
        "metacritic": wrapped("metascore", lambda score: {"metascore": {"score": score}}),
    }


def query_root(titles: list[Json], total: int, asked: list[Json]) -> Json:
    """The Query type over recorded `Title`s. `advancedTitleSearch` answers with the recorded
    list in its order (it was made by another search: the constraints are recorded in `asked`,
    not applied); `titles` answers the ids asked, in their order."""

    def advanced_title_search(first: int, constraints=None, sort=None, after=None) -> Json:
        asked.append({"first": first, "constraints": constraints, "sort": sort, "after": after})
        shown = titles[:first]
        return {
            "total": total,
            "pageInfo": {"hasNextPage": total > len(shown), "endCursor": None},
            "edges": [{"node": {"title": title}} for title in shown],
        }

    by_id = {title["id"]: title for title in titles}
    return {
        "advancedTitleSearch": advanced_title_search,
        "titles": lambda ids: [by_id[title_id] for title_id in ids],
    }


def execute(query: str, variables: Json, operation: str, root: Json) -> bytes:
    """The answer IMDb would send, as bytes: `data`, and `errors` when there are any."""
    result = graphql_sync(
        SCHEMA,
        query,
        root_value=root,
        variable_values=variables,
        operation_name=operation,
        field_resolver=strict_field,
    )
    answer: Json = {"data": result.data}
    if result.errors:
        answer["errors"] = [error.formatted for error in result.errors]
    return json.dumps(answer).encode()


# --- the real material -----------------------------------------------------------------------


def _read_title_page(path: Path) -> tuple[Json, Json]:
    page_props = next_data(path.read_text())["props"]["pageProps"]
    return page_props["aboveTheFoldData"], page_props["mainColumnData"]


@pytest.fixture(scope="module")
def title_pages(reference) -> dict[str, tuple[Json, Json]]:
    """(aboveTheFoldData, mainColumnData) of each real title page, by title id."""
    pages = [_read_title_page(reference / name) for name in TITLE_PAGES]
    return {atf["id"]: (atf, mcd) for atf, mcd in pages}


@pytest.fixture(scope="module")
def search_sources(reference) -> dict[str, tuple[list[Json], int]]:
    """(items, IMDb's total) of each real search result list."""
    page = next_data((reference / SEARCH_PAGE).read_text())
    subtree = json.loads((reference / SEARCH_SUBTREE).read_text())
    return {
        name: (found["titleListItems"], found["total"])
        for name, found in (
            (SEARCH_PAGE, page["props"]["pageProps"]["searchResults"]["titleResults"]),
            (SEARCH_SUBTREE, subtree["titleResults"]),
        )
    }


# --- what the pages show, read independently -------------------------------------------------


def _runtime_shown(text: str) -> int:
    """Minutes of IMDb's displayed runtime: "2h 16m", "1h", "45m"."""
    match = re.fullmatch(r"(?:(\d+)h)?\s*(?:(\d+)m)?", text.strip())
    assert match and any(match.groups()), text
    hours, minutes = (int(part or 0) for part in match.groups())
    return hours * 60 + minutes


def _people(credits: list[Json]) -> list[Json]:
    return [{"id": c["name"]["id"], "name": c["name"]["nameText"]["text"]} for c in credits]


def _money(shown: Json, prefix: str, money: Json | None) -> None:
    if money is not None:
        shown[f"{prefix}_amount"], shown[f"{prefix}_currency"] = money["amount"], money["currency"]


def shown_on_title_page(atf: Json, mcd: Json) -> Json:
    """The columns a title page shows a value for, and those values; the others it lacks."""
    shown: Json = {
        "title_id": atf["id"],
        "title": mcd["titleText"]["text"],
        "original_title": mcd["originalTitleText"]["text"],
        "title_type": mcd["titleType"]["id"],
        "release_year": mcd["releaseYear"]["year"],
        "release_date": date(*(atf["releaseDate"][k] for k in ("year", "month", "day"))),
        "runtime_minutes": _runtime_shown(
            atf["runtime"]["displayableProperty"]["value"]["plainText"]
        ),
        "certificate": atf["certificate"]["rating"],
        "genres": [genre["text"] for genre in atf["genres"]["genres"]],
        "plot": atf["plot"]["plotText"]["plainText"],
        "countries": [country["text"] for country in mcd["countriesOfOrigin"]["countries"]],
        "languages": [language["text"] for language in mcd["spokenLanguages"]["spokenLanguages"]],
        "directors": _people([c for group in mcd["directors"] for c in group["credits"]]),
        "writers": _people([c for group in mcd["writers"] for c in group["credits"]]),
        # The stars the page names are the first three billed of its cast.
        "stars": _people([edge["node"] for edge in mcd["cast"]["edges"][:3]]),
    }
    ratings = atf["ratingsSummary"]
    if ratings["aggregateRating"] is not None:
        shown["rating"], shown["votes"] = ratings["aggregateRating"], ratings["voteCount"]
    if atf["metacritic"] is not None:
        shown["metascore"] = atf["metacritic"]["metascore"]["score"]
    _money(shown, "budget", (mcd["productionBudget"] or {}).get("budget"))
    _money(shown, "gross_worldwide", (mcd["worldwideGross"] or {}).get("total"))
    _money(shown, "gross_domestic", (mcd["lifetimeGross"] or {}).get("total"))
    opening = mcd["openingWeekendGross"]
    if opening is not None:
        _money(shown, "opening_weekend", opening["gross"]["total"])
        shown["opening_weekend_end_date"] = date.fromisoformat(opening["weekendEndDate"])
    return shown


def shown_in_search_item(item: Json) -> Json:
    """The columns a search item shows a value for, and those values."""
    shown: Json = {
        "title_id": item["titleId"],
        "title": item["titleText"],
        "original_title": item["originalTitleText"],
        "title_type": item["titleType"]["id"],
        "release_year": item["releaseYear"],
        "genres": item["genres"],
    }
    if item.get("releaseDate"):
        shown["release_date"] = date(*(item["releaseDate"][k] for k in ("year", "month", "day")))
    for column, key in (
        ("certificate", "certificate"),
        ("plot", "plot"),
        ("metascore", "metascore"),
    ):
        if item.get(key) is not None:
            shown[column] = item[key]
    if item.get("runtime") is not None:
        shown["runtime_minutes"] = round(item["runtime"] / 60)
    if item["ratingSummary"]["aggregateRating"] is not None:
        shown["rating"] = item["ratingSummary"]["aggregateRating"]
        shown["votes"] = item["ratingSummary"]["voteCount"]
    return shown


def compare(row: Json, shown: Json, columns: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """(compared, absent) columns of one title: each shown value must be the row's; a value
    the page lacks must be null in the row (an empty list for genres), and is only listed."""
    compared, absent = [], []
    for column in columns:
        if column in shown:
            assert row[column] == shown[column], (row["title_id"], column)
            assert type(row[column]) is type(shown[column]) or column == "rating", column
            compared.append(column)
        else:
            assert row[column] is None or row[column] == [], (row["title_id"], column)
            absent.append(column)
    return compared, absent


def report(title: str, compared: list[str], absent: list[str]) -> None:
    print(f"{title}: compared {len(compared)}: {', '.join(compared)}")
    print(f"{title}: absent on this page {len(absent)}: {', '.join(absent) or '-'}")


# --- the contract ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def details_rows(title_pages) -> dict[str, Json]:
    """The details query over both real title pages in one batch, read by the project's
    reader the way raw → staging does."""
    ids = list(title_pages)
    root = query_root([page_title(*title_pages[i]) for i in ids], len(ids), [])
    body = execute(graphql.DETAILS_QUERY, graphql.details_variables(ids), "TitleDetails", root)
    titles = graphql.titles(graphql.answer_data(body), ids)
    kept = [json.loads(json.dumps(title)) for title in titles]  # as raw.title_json holds them
    return {ids[i]: graphql.details_row(title, i) for i, title in enumerate(kept)}


@pytest.mark.parametrize("title_id", list(MIN_DETAILS_COMPARED))
def test_the_details_query_over_a_real_title_page_reads_what_the_page_shows(
    title_pages, details_rows, title_id, record_property
):
    row = details_rows[title_id]
    assert set(row) == set(DETAILS_COLUMNS)
    compared, absent = compare(row, shown_on_title_page(*title_pages[title_id]), DETAILS_COLUMNS)
    report(f"details {title_id}", compared, absent)
    record_property("compared", compared)
    record_property("absent", absent)
    assert len(compared) >= MIN_DETAILS_COMPARED[title_id], absent


def _listed_rows(titles: list[Json], total: int, genre: str) -> list[Json]:
    """The list query over `titles`: the rows the project reads (and the arguments that reach
    IMDb are the project's variables)."""
    asked: list[Json] = []
    variables = graphql.list_variables(genre)
    body = execute(graphql.LIST_QUERY, variables, "GenreList", query_root(titles, total, asked))
    found = graphql.genre_list(graphql.answer_data(body))
    kept = [json.loads(json.dumps(title)) for title in found.titles]  # as raw.item_json
    assert asked == [
        {
            "first": 50,
            "constraints": {
                "genreConstraint": {"allGenreIds": [variables["genre"]]},
                "titleTypeConstraint": {"anyTitleTypeIds": ["movie"]},
                "languageConstraint": {"anyPrimaryLanguages": ["en"]},
            },
            "sort": {"sortBy": "POPULARITY", "sortOrder": "ASC"},
            "after": None,
        }
    ]
    assert found.total == total
    return [graphql.listed_title_row(title, rank) for rank, title in enumerate(kept, 1)]


def test_the_list_query_over_the_real_title_pages_reads_what_they_show(
    title_pages, record_property
):
    titles = [page_title(*pages) for pages in title_pages.values()]
    rows = _listed_rows(titles, len(titles), "sci-fi")
    assert [row["rank"] for row in rows] == [1, 2]
    for row, pages in zip(rows, title_pages.values(), strict=True):
        compared, absent = compare(row, shown_on_title_page(*pages), RANKING_COLUMNS)
        report(f"list {row['title_id']}", compared, absent)
        record_property(f"compared {row['title_id']}", compared)
        assert len(compared) >= len(RANKING_COLUMNS) - 1  # Existence: no metascore


@pytest.mark.parametrize("source", [SEARCH_PAGE, SEARCH_SUBTREE])
def test_the_list_query_over_real_search_items_reads_what_they_show(
    search_sources, source, record_property
):
    items, total = search_sources[source]
    rows = _listed_rows([search_item_title(item) for item in items], total, "drama")
    assert len(rows) == len(items) in (10, 50)
    absent_counts: dict[str, int] = {}
    compared_total = 0
    for row, item in zip(rows, items, strict=True):
        compared, absent = compare(row, shown_in_search_item(item), RANKING_COLUMNS)
        assert len(compared) >= MIN_RANKING_COMPARED_PER_ITEM, (row["title_id"], absent)
        compared_total += len(compared)
        for column in absent:
            absent_counts[column] = absent_counts.get(column, 0) + 1
    absent_text = ", ".join(f"{c} on {n} of {len(items)}" for c, n in absent_counts.items())
    print(f"list {source}: {len(items)} items, {compared_total} values compared")
    print(f"list {source}: absent: {absent_text or '-'}")
    record_property("compared values", compared_total)
    record_property("absent", absent_counts)
    assert compared_total >= len(items) * MIN_RANKING_COMPARED_PER_ITEM


# --- the ground the mapping stands on --------------------------------------------------------


def test_imdbs_genre_ids_are_its_genre_names(reference, title_pages):
    # The resolver gives a search item's genre names as `genreId`: the pages say they are one.
    page = next_data((reference / SEARCH_PAGE).read_text())
    facets = page["props"]["pageProps"]["searchItemMetadata"]["genres"]
    assert len(facets) == 27 and all(facet["id"] == facet["text"] for facet in facets)
    for atf, _ in title_pages.values():
        assert all(genre["id"] == genre["text"] for genre in atf["genres"]["genres"])


@pytest.mark.parametrize(
    ("query", "refusal"),
    [
        (
            'query { titles(ids: ["tt0133093"]) { lifetimeGross(boxOfficeArea: INTERNATIONAL)'
            " { total { amount } } } }",
            "lifetimeGross(INTERNATIONAL) is not on the page",
        ),
        ('query { title(id: "tt0133093") { id } }', "Query.title: the page carries no such"),
        (
            'query { titles(ids: ["tt0133093"]) { plot { plotText { plainText('
            "showOriginalTitleText: true) } } } }",
            "Markdown.plainText(showOriginalTitleText): the resolver maps no arguments",
        ),
    ],
    ids=["an-area-the-page-lacks", "a-field-not-mapped", "an-argument-not-mapped"],
)
def test_the_resolver_answers_only_what_the_page_carries(title_pages, query, refusal):
    atf, mcd = title_pages["tt0133093"]
    body = execute(query, {}, None, query_root([page_title(atf, mcd)], 1, []))
    with pytest.raises(graphql.GraphQLAnswerError, match=re.escape(refusal)):
        graphql.answer_data(body)
