"""The lineage of the staging columns (`imdb/lineage.py`) against the readers themselves.

The samples are what the raw assets keep, made by the project's own offline IMDb: the `Title`s
of the replay's GraphQL answers to the project's two queries, the `titleListItems` of its
search pages and the `{aboveTheFoldData, mainColumnData}` of its title pages (every credit and
genre shape), each through JSON as the raw rows hold them. For every column read from IMDb's JSON:

- its path reaches a value in some sample, each shape of an `or` path too;
- in every sample, the value at the path, derived as the entry says, is what the reader returns;
- changing the value at the path changes that column of the reader's row, and only that one.
"""

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandera.polars as pa
import pytest

from imdb_warehouse.imdb import graphql
from imdb_warehouse.imdb.lineage import (
    DETAILS_SOURCES,
    LISTED_TITLE_SOURCES,
    ImdbField,
    alternatives,
    locate,
    parse_path,
    resolve,
)
from imdb_warehouse.imdb.parse import (
    parse_search_page,
    search_item_row,
    title_details_row,
    title_page_parts,
)
from imdb_warehouse.imdb.urls import DEFAULT_SEARCH_PARAMS
from imdb_warehouse.replay import graphql as replay_graphql
from imdb_warehouse.replay.catalogue import Catalogue
from imdb_warehouse.replay.pages import CREDITS_SHAPES, GENRES_SHAPES, search_page, title_page
from imdb_warehouse.schemas import MovieRankings, TitleDetails

DAY = date(2025, 6, 1)
SAMPLED_GENRES = ("action", "drama", "horror", "sci-fi")
RAW_COLUMNS = {"snapshot_date", "genre", "rank", "listed_in", "source", "scraped_at"}

Json = dict[str, Any]  # a JSON object
Reader = Callable[[Json], Json]


@dataclass(frozen=True)
class Case:
    """One reader over one kind of raw JSON: which lineage entry, paths and samples it has."""

    name: str
    fields: dict[str, ImdbField]
    source: str  # "graphql" or "html": which path of an ImdbField
    read: Reader
    samples: list[Json]

    def path(self, column: str) -> str | None:
        field = self.fields[column]
        return field.graphql if self.source == "graphql" else field.html


def _raw(value: Json) -> Json:
    """As a raw row holds it: through JSON, the way the raw assets write it."""
    kept: Json = json.loads(json.dumps(value, ensure_ascii=False))
    return kept


def _answer(catalogue: Catalogue, query: str, variables: Json, operation: str) -> Json:
    request = {"query": query, "variables": variables, "operationName": operation}
    answer = replay_graphql.execute(catalogue, DAY, _raw(request), None)
    return graphql.answer_data(json.dumps(answer).encode())


@pytest.fixture(scope="module")
def cases() -> dict[str, Case]:
    catalogue = Catalogue()
    listed, items = [], []
    for genre in SAMPLED_GENRES:
        data = _answer(catalogue, graphql.LIST_QUERY, graphql.list_variables(genre), "GenreList")
        listed += [_raw(title) for title in graphql.genre_list(data, genre).titles]
        html = search_page(catalogue, genre, DAY, {**DEFAULT_SEARCH_PARAMS, "genres": genre})
        items += [_raw(item) for item in parse_search_page(html, genre).items]
    ids = list(dict.fromkeys(title["id"] for title in listed))
    details = []
    for batch in graphql.batches(ids):
        data = _answer(
            catalogue, graphql.DETAILS_QUERY, graphql.details_variables(batch), "TitleDetails"
        )
        sent = graphql.titles(data, batch)
        assert all(title is not None for title in sent)  # every listed title is available
        details += [_raw(title) for title in sent if title is not None]
    pages = []
    for index, title_id in enumerate(ids):
        html = title_page(
            catalogue,
            title_id,
            DAY,
            credits_shape=CREDITS_SHAPES[index % 2],
            genres_shape=GENRES_SHAPES[index % 3],
        )
        atf, mcd = title_page_parts(html)
        pages.append(_raw({"aboveTheFoldData": atf, "mainColumnData": mcd}))
    found = [
        Case(
            "rankings-graphql",
            LISTED_TITLE_SOURCES,
            "graphql",
            lambda title: graphql.listed_title_row(title, 1),
            listed,
        ),
        Case(
            "rankings-html",
            LISTED_TITLE_SOURCES,
            "html",
            lambda item: search_item_row(item, 1),
            items,
        ),
        Case(
            "details-graphql",
            DETAILS_SOURCES,
            "graphql",
            lambda title: graphql.details_row(title, 0),
            details,
        ),
        Case(
            "details-html",
            DETAILS_SOURCES,
            "html",
            lambda page: title_details_row(page["aboveTheFoldData"], page["mainColumnData"]),
            pages,
        ),
    ]
    for case in found:
        assert len(case.samples) >= 150, case.name  # four lists of 50 (titles shared)
    return {case.name: case for case in found}


CASE_NAMES = ("rankings-graphql", "rankings-html", "details-graphql", "details-html")
COLUMNS_READ = [
    (name, column)
    for name in CASE_NAMES
    for column, field in (
        DETAILS_SOURCES if name.startswith("details") else LISTED_TITLE_SOURCES
    ).items()
    if field.graphql is not None
]


# --- (1) every column, and nothing else ---------------------------------------------------


@pytest.mark.parametrize(
    ("model", "fields"),
    [(MovieRankings, LISTED_TITLE_SOURCES), (TitleDetails, DETAILS_SOURCES)],
    ids=["movie_rankings", "title_details"],
)
def test_every_staging_column_has_an_entry_and_no_entry_names_another(
    model: type[pa.DataFrameModel], fields: dict[str, ImdbField]
) -> None:
    columns = set(model.to_schema().columns)
    assert set(fields) == columns
    unread = {column for column, field in fields.items() if field == ImdbField(None, None)}
    assert unread == RAW_COLUMNS & columns
    for column, field in fields.items():
        # Both sources give every column read from IMDb's JSON.
        assert (field.graphql is None) == (field.html is None), column


@pytest.mark.parametrize("name", CASE_NAMES)
def test_the_columns_with_a_path_are_the_ones_the_reader_returns(
    cases: dict[str, Case], name: str
) -> None:
    case = cases[name]
    row = case.read(case.samples[0])
    read = {column for column in case.fields if case.path(column) is not None}
    # `rank` the list readers take as an argument: the raw row's rank, not IMDb's JSON.
    assert set(row) - {"rank"} == read


def test_every_path_is_written_in_the_notation() -> None:
    for fields in (LISTED_TITLE_SOURCES, DETAILS_SOURCES):
        for field in fields.values():
            for path in filter(None, (field.graphql, field.html)):
                for shape in alternatives(path):
                    assert parse_path(shape)


# --- (2) every path reaches a value in real-shaped data -----------------------------------


@pytest.mark.parametrize(("name", "column"), COLUMNS_READ)
def test_every_path_and_each_of_its_shapes_reaches_a_value(
    cases: dict[str, Case], name: str, column: str
) -> None:
    case = cases[name]
    path = case.path(column)
    assert path is not None
    for shape in alternatives(path):
        reached = [found for doc in case.samples if (found := resolve(doc, shape))]
        assert reached, f"{name}: {column}: {shape} reaches nothing in {len(case.samples)} samples"
        for found in reached:
            for value in found:
                assert value is not None
                if isinstance(value, dict):  # a `{…}`: some of its parts are there
                    assert any(part is not None for part in value.values())


def _whole(value: float | None) -> int | None:
    return None if value is None else int(value)


def _date(parts: Json | None) -> date | None:
    if parts is None or not all(isinstance(parts[key], int) for key in ("year", "month", "day")):
        return None
    return date(parts["year"], parts["month"], parts["day"])


def _people(found: list[Json]) -> list[Json]:
    return [{"id": person["id"], "name": person["nameText.text"]} for person in found]


def _expected(case: Case, column: str, doc: Json) -> tuple[Any, ...]:
    """What the reader may return for `column`, computed from the values at its path alone."""
    path = case.path(column)
    assert path is not None
    found = resolve(doc, path)
    first = found[0] if found else None
    if column in ("directors", "writers", "stars"):
        # No names: unknown (null) or none (totalCredits 0), which the path does not tell.
        return (_people(found),) if found else (None, [])
    if path.endswith("[]") or "[]." in path:
        return (found,) if found else (None, [])
    derived: dict[str, Callable[[Any], Any]] = {
        "release_date": _date,
        "runtime_minutes": lambda seconds: None if seconds is None else round(seconds / 60),
        "certificate": lambda text: text or None,
        "plot": lambda text: text or None,
        "rating": lambda rating: None if rating is None else float(rating),
        "opening_weekend_end_date": lambda text: None if text is None else date.fromisoformat(text),
    }
    if column == "votes":
        rating_path = case.path("rating")
        assert rating_path is not None
        rated = bool(resolve(doc, rating_path))
        return (None if not rated and not first else first,)
    if column.endswith("_amount"):
        return (_whole(first),)
    return (derived.get(column, lambda value: value)(first),)


@pytest.mark.parametrize(("name", "column"), COLUMNS_READ)
def test_in_every_sample_the_reader_returns_what_the_path_holds(
    cases: dict[str, Case], name: str, column: str
) -> None:
    case = cases[name]
    for doc in case.samples:
        row = case.read(doc)
        assert row[column] in _expected(case, column, doc), (name, column, row["title_id"])


AMOUNTS = {c for c in DETAILS_SOURCES if c.endswith("_amount")}
DERIVED = {"release_date", "runtime_minutes", "certificate", "plot", "votes"}
DERIVED_DETAILS = DERIVED | {"directors", "writers", "stars", "opening_weekend_end_date"}


@pytest.mark.parametrize(
    ("fields", "derived"),
    [(LISTED_TITLE_SOURCES, DERIVED), (DETAILS_SOURCES, DERIVED_DETAILS | AMOUNTS)],
    ids=["movie_rankings", "title_details"],
)
def test_the_entries_that_say_derived_are_those_the_reader_derives(
    fields: dict[str, ImdbField], derived: set[str]
) -> None:
    # `_expected` derives these columns from their values; every other is the value as sent.
    assert {column for column, field in fields.items() if field.derived} == derived


# --- (3) the path is the one read: change the value there, the column changes -------------


def _changed(value: Any) -> Any:
    """Another value of the same kind, which the readers still accept."""
    if isinstance(value, bool):
        raise AssertionError(f"no boolean is read: {value!r}")
    if isinstance(value, int):
        return value + 1 if value < 10 else value // 2  # a day or month stays one
    if isinstance(value, float):
        return value + 1.0 if value < 5 else value - 1.0  # a whole float stays whole
    if isinstance(value, str):
        try:
            return (date.fromisoformat(value) + timedelta(days=1)).isoformat()
        except ValueError:
            return value + " (changed)"
    raise AssertionError(f"a path of a column reaches {type(value).__name__}: {value!r}")


def _changeable(column: str, doc: Json, path: str) -> bool:
    found = resolve(doc, path)
    if not found:
        return False
    if isinstance(found[0], dict):  # a `{…}`: every part is there
        if any(part is None for part in found[0].values()):
            return False
        # A day that exists in every month, so a changed year or month stays a date.
        return column != "release_date" or found[0]["day"] <= 28
    return True


@pytest.mark.parametrize(("name", "column"), COLUMNS_READ)
def test_changing_the_value_at_the_path_changes_that_column_only(
    cases: dict[str, Case], name: str, column: str
) -> None:
    case = cases[name]
    path = case.path(column)
    assert path is not None
    shapes = alternatives(path)
    for at, shape in enumerate(shapes):
        # Each shape on its own: a sample that holds it and none of the shapes read before it.
        doc = next(
            (
                d
                for d in case.samples
                if _changeable(column, d, shape) and not any(resolve(d, s) for s in shapes[:at])
            ),
            None,
        )
        assert doc is not None, f"{name}: {column}: no sample holds {shape} alone"
        if len(shapes) > 1:
            assert resolve(doc, path) == resolve(doc, shape)  # the reader reads this shape here
        before = case.read(doc)
        parts = len(resolve(doc, shape)[0]) if shape.endswith("}") else 1
        for index in range(parts):  # each part of a `{…}`; else the first value reached
            changed = copy.deepcopy(doc)
            place = locate(changed, shape)[index]
            original = place.get()
            place.set(_changed(original))
            after = case.read(changed)
            differs = {c for c in before if before[c] != after[c]}
            assert differs == {column}, (name, column, shape, index, original, place.get())


# --- the resolver itself --------------------------------------------------------------------

DOC = {
    "a": {"b": 1, "n": None},
    "groups": [
        {"kind": {"id": "x"}, "items": [{"v": 1, "w": {"t": "one"}}, {"v": 2}]},
        None,
        {"kind": {"id": "y"}, "items": [{"v": 3, "w": {"t": "three"}}]},
    ],
    "other": [{"label": "Y", "items": [{"v": 9}]}],
}


def test_the_resolver_reads_the_notation() -> None:
    assert resolve(DOC, "a.b") == [1]
    assert resolve(DOC, "a.n") == [] and resolve(DOC, "a.missing.deeper") == []
    assert resolve(DOC, "groups[].items[].v") == [1, 2, 3]
    assert resolve(DOC, "groups[kind.id=y].items[].v") == [3]
    assert resolve(DOC, "groups[kind.id=x|y].items[].v") == [1, 2, 3]
    assert resolve(DOC, "groups[kind.id=z].items[].v") == []
    assert resolve(DOC, "groups[].items[]{v,w.t}") == [
        {"v": 1, "w.t": "one"},
        {"v": 2, "w.t": None},
        {"v": 3, "w.t": "three"},
    ]
    assert resolve(DOC, "groups[kind.id=y].items[].v or other[].items[].v") == [3]
    assert resolve(DOC, "groups[kind.id=z].items[].v or other[label=Y].items[].v") == [9]
    assert resolve(DOC, "a.b[]") == []  # `[]` of what is no array reaches nothing


def test_locate_says_where_each_value_sits() -> None:
    doc = copy.deepcopy(DOC)
    places = locate(doc, "groups[].items[]{v,w.t}")
    assert [place.get() for place in places] == [1, "one", 2, 3, "three"]
    locate(doc, "groups[kind.id=y].items[].v")[0].set(30)
    assert resolve(doc, "groups[].items[].v") == [1, 2, 30]


@pytest.mark.parametrize(
    "path", ["a..b", "a[b]", "a{b}.c", "a[b.c=]", "a[", "a]", "1a", "a.b{c,}", "a or b"]
)
def test_a_path_outside_the_notation_is_refused(path: str) -> None:
    with pytest.raises(ValueError):
        parse_path(path)
