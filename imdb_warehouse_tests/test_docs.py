"""The analysts' documentation is true to the code: every table, column and view is in it."""

from pathlib import Path

from imdb_warehouse import schemas
from imdb_warehouse.assets.analytics import VIEWS
from imdb_warehouse.resources.pg_types import postgres_type

DOC = (Path(__file__).resolve().parents[1] / "docs" / "warehouse.md").read_text()
MODELS = [
    schemas.DimDate,
    schemas.DimGenre,
    schemas.DimMovie,
    schemas.DimPerson,
    schemas.BridgeMoviePerson,
    schemas.BridgeMovieGenre,
    schemas.FactMovieRanking,
    schemas.FactBoxOffice,
    schemas.FactChartStats,
]


def test_every_warehouse_column_is_documented_with_its_type_and_meaning():
    for model in MODELS:
        table = model.__doc__.split(":")[0]
        section = DOC.split(f"### {table}\n", 1)[1].split("\n### ", 1)[0]
        columns = model.to_schema().columns
        for name, dtype in schemas.polars_schema(model).items():
            row = f"| `{name}` | {postgres_type(dtype)} | {columns[name].description}"
            assert row in section, f"{table}.{name} is not documented as in the code"


def test_every_analytics_view_is_documented():
    for name in VIEWS:
        assert f"`analytics.{name}`" in DOC


def test_every_setting_is_in_the_readmes_configuration_table():
    from imdb_warehouse.settings import SETTINGS

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    missing = [s.name for s in SETTINGS if f"`{s.name}`" not in table]
    assert missing == []
