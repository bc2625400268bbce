"""The table declarations: column lineage from IMDb's fields to every warehouse column."""

import dagster as dg
import pytest

from imdb_warehouse import tables
from imdb_warehouse.definitions import defs
from imdb_warehouse.imdb.lineage import DETAILS_SOURCES, LISTED_TITLE_SOURCES

GRAPH = defs.resolve_asset_graph()
# made in code, not read: the calendar and IMDb's genre list
GENERATED = {tables.DIM_DATE, tables.DIM_GENRE}


def _columns(key: dg.AssetKey) -> set[str]:
    return {c.name for c in GRAPH.get(key).metadata["dagster/column_schema"].columns}


def _lineage(key: dg.AssetKey) -> dict[str, list[dg.TableColumnDep]]:
    lineage = GRAPH.get(key).metadata.get("dagster/column_lineage")
    return dict(lineage.deps_by_column) if lineage else {}


@pytest.mark.parametrize(
    "table",
    [t for t in tables.TABLES if t.key.path[0] in ("staging", "warehouse") and t not in GENERATED],
    ids=lambda t: t.name,
)
def test_every_staging_and_warehouse_column_names_where_it_comes_from(table):
    lineage = _lineage(table.key)
    assert set(lineage) == _columns(table.key), "columns without lineage"
    for column, deps in lineage.items():
        assert deps, column
        for dep in deps:
            assert dep.column_name in _columns(dep.asset_key), f"{column} ← {dep}"


def test_every_staging_column_read_from_json_names_imdb_s_fields():
    sources = {
        tables.MOVIE_RANKINGS: LISTED_TITLE_SOURCES,
        tables.TITLE_DETAILS: DETAILS_SOURCES,
    }
    for table, fields in sources.items():
        lineage = _lineage(table.key)
        for column, field in fields.items():
            named = {(d.asset_key, d.column_name) for d in lineage[column]}
            if field.graphql:
                assert (tables.IMDB_GRAPHQL, field.graphql) in named, column
            if field.html:
                assert (tables.IMDB_HTML, field.html) in named, column
            if not (field.graphql or field.html):  # the raw row's own column
                assert {key.path[0] for key, _ in named} == {"raw"}, column


def _back_to_imdb(key: dg.AssetKey, column: str) -> set[tuple[str, str]]:
    """Every source of a column, followed hop by hop to IMDb's fields."""
    found: set[tuple[str, str]] = set()
    for dep in _lineage(key).get(column, []):
        if dep.asset_key.path[0] == "imdb":
            found.add((dep.asset_key.to_user_string(), dep.column_name))
        else:
            found |= {(dep.asset_key.to_user_string(), dep.column_name)}
            found |= _back_to_imdb(dep.asset_key, dep.column_name)
    return found


def test_an_analyst_follows_worldwide_gross_back_to_imdb():
    sources = _back_to_imdb(tables.FACT_BOX_OFFICE.key, "gross_worldwide_amount")
    assert ("staging/title_details", "gross_worldwide_amount") in sources
    assert ("raw/imdb_title_pages", "title_json") in sources
    assert ("imdb/graphql_api", "worldwideGross.total.amount") in sources
    assert any(asset == "imdb/html_pages" for asset, _ in sources)


def test_a_declaration_refuses_a_column_its_model_lacks():
    with pytest.raises(ValueError, match="has no column 'gross'"):
        tables.TITLE_DETAILS.col("gross")
    with pytest.raises(ValueError, match=r"\['movie'\] are not columns of FactBoxOffice"):
        tables.Table(
            dg.AssetKey(["warehouse", "x"]),
            tables.FACT_BOX_OFFICE.model,
            tables.FACT_BOX_OFFICE.storage,
            references={"movie": tables.DIM_MOVIE},
        )
