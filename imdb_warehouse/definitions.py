"""The one Definitions object of the project."""

import dagster as dg

from imdb_warehouse.resources import PostgresPolarsIOManager, PostgresResource

postgres = PostgresResource()

defs = dg.Definitions(
    resources={
        "postgres": postgres,
        "io_manager": PostgresPolarsIOManager(postgres=postgres),
    },
)
