"""PostgresPolarsIOManager: Polars frames in and out of Postgres tables.

Where an asset goes: Postgres schema = the first element of its key, table = the last. Its
definition metadata says how (`Storage`, in storage.py; docs/io_manager.md); table_ddl.py
creates and evolves the table, table_writes.py writes a frame in one transaction. A load
returns the dtypes that were written.
"""

from typing import Any

import dagster as dg
import polars as pl
from psycopg import sql

from imdb_warehouse.resources.errors import WarehouseError
from imdb_warehouse.resources.partition_slices import ClientBoundParams, rows_per_partition
from imdb_warehouse.resources.pg_types import restore_dtypes, select_cast
from imdb_warehouse.resources.postgres import PostgresResource
from imdb_warehouse.resources.storage import TableSpec, table_spec
from imdb_warehouse.resources.table_ddl import expected_schema, registry_exists, table_state
from imdb_warehouse.resources.table_writes import check_frame, write_frame


class PostgresPolarsIOManager(dg.ConfigurableIOManager):
    """Stores each asset's Polars DataFrame as a Postgres table (schema = key prefix).

    Partitioned assets name their partition column(s) in `partition_expr` metadata; a write
    replaces exactly the run's partitions. docs/io_manager.md gives every metadata key.
    """

    postgres: PostgresResource

    def handle_output(self, context: dg.OutputContext, obj: object) -> None:
        spec = table_spec(
            context.asset_key,
            context.definition_metadata or {},
            context.asset_partitions_def if context.has_asset_partitions else None,
            context.asset_partition_keys if context.has_asset_partitions else None,
        )
        frame = _as_frame(obj, spec)
        check_frame(frame, spec)
        with self.postgres.connect() as conn:
            write_frame(conn, spec, frame)
        keys = context.asset_partition_keys if context.has_asset_partitions else []
        lineage = _lineage_metadata(
            (context.definition_metadata or {}).get("dagster/column_lineage")
        )
        once = {
            "dagster/table_name": spec.qualified_name,
            "dagster/column_schema": spec.column_schema(frame.schema),
            **lineage,
        }
        if len(keys) > 1:
            # Output metadata goes to every partition's materialization alike
            # (dagster-io/dagster#18123): each partition's own row count goes as asset metadata,
            # and the large entries (the column schema, the lineage: ~20 kB) only with the
            # newest partition's, the latest materialization.
            counts = rows_per_partition(
                context.asset_partitions_def,
                keys,
                spec.storage.partition_expr,
                context.asset_key,
                frame,
            )
            for key in keys:
                context.step_context.add_asset_metadata(
                    {"dagster/row_count": counts[key], **(once if key == keys[-1] else {})},
                    asset_key=context.asset_key,
                    partition_key=key,
                )
        else:
            context.add_output_metadata({"dagster/row_count": frame.height, **once})

    def load_input(self, context: dg.InputContext) -> pl.DataFrame | pl.LazyFrame:
        upstream = context.upstream_output
        spec = table_spec(
            context.asset_key,
            (upstream.definition_metadata if upstream else None) or {},
            context.asset_partitions_def if context.has_asset_partitions else None,
            context.asset_partition_keys if context.has_asset_partitions else None,
        )
        frame = self.read_table(spec)
        if context.dagster_type.typing_type is pl.LazyFrame:
            return frame.lazy()
        return frame

    def read_table(self, spec: TableSpec) -> pl.DataFrame:
        """The rows of `spec`'s table (of its partitions, if it names some), as written; a row
        shared by several partitions lists only those read (partition_slices.py)."""
        with self.postgres.connect() as conn:
            state = table_state(conn, spec, registry=registry_exists(conn))
            if state is None:
                raise WarehouseError(
                    f"table {spec.qualified_name} does not exist yet: materialize asset "
                    f"{spec.asset} before the assets that read it"
                )
            columns = state.columns
            schema = expected_schema(columns, state.stored)
            selected = [
                sql.SQL("{}::{} AS {}").format(sql.Identifier(c), sql.SQL(cast), sql.Identifier(c))
                if (cast := select_cast(pg_type))
                else sql.Identifier(c)
                for c, pg_type in columns.items()
            ]
            query = sql.SQL("SELECT {} FROM {}").format(sql.SQL(", ").join(selected), spec.ident)
            if spec.partitions is not None:
                # ADBC reads at full speed only through COPY, which takes no parameters.
                query += sql.SQL(" WHERE ") + spec.partitions.where(ClientBoundParams(), schema)
            query_text = query.as_string(conn)
        frame = pl.from_arrow(self.postgres.fetch_arrow(query_text))
        assert isinstance(frame, pl.DataFrame)  # a table reads as a frame, never a series
        frame = restore_dtypes(frame, schema)
        return spec.partitions.narrowed(frame) if spec.partitions is not None else frame


def _as_frame(obj: object, spec: TableSpec) -> pl.DataFrame:
    if isinstance(obj, pl.LazyFrame):
        return obj.collect()
    if isinstance(obj, pl.DataFrame):
        return obj
    raise WarehouseError(
        f"asset {spec.asset} returned {type(obj).__name__}, but PostgresPolarsIOManager stores "
        "Polars DataFrames: return a polars.DataFrame (or LazyFrame), or give the asset "
        "another io_manager_key"
    )


def _lineage_metadata(lineage: object) -> dict[str, Any]:
    """The definition's column lineage on each materialization, where Dagster reads it, and as
    a table (`column_sources`) that the open-source UI shows among the metadata."""
    if not isinstance(lineage, dg.TableColumnLineage):
        return {}
    rows = []
    for column, deps in lineage.deps_by_column.items():
        sources = ", ".join(f"{d.asset_key.to_user_string()}.{d.column_name}" for d in deps)
        escaped = sources.replace("|", r"\|")  # a path's alternatives, not a table cell
        rows.append(f"| {column} | {escaped} |")
    table = "\n".join(["| column | comes from |", "|---|---|", *rows])
    return {"dagster/column_lineage": lineage, "column_sources": dg.MetadataValue.md(table)}
