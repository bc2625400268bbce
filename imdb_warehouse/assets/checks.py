"""The SQL checks of the warehouse tables, as standalone asset checks: one step per table, after
its write, on the days of the run; each can be run alone from the UI ("Execute" on the check),
where it checks the newest day the table holds."""

from collections.abc import Iterator, Sequence

import dagster as dg
from psycopg import sql

from imdb_warehouse.checks import sql_check_results, sql_check_spec
from imdb_warehouse.partitions import partition_days
from imdb_warehouse.resources import PostgresResource
from imdb_warehouse.tables import TABLES, Table


def _days(context: dg.AssetCheckExecutionContext, postgres: PostgresResource, table: Table):
    """The run's days; on its own (a run without partitions), the newest day written."""
    if context.has_partition_key or context.has_partition_key_range:
        return partition_days(context)
    [(newest,)] = postgres.query(
        sql.SQL("SELECT max({}) FROM {}")
        .format(sql.Identifier(table.day_column), sql.Identifier(*table.key.path))
        .as_string()
    )
    return [newest] if newest else []


def sql_results(
    postgres: PostgresResource, table: Table, days: list, names: Sequence[str] | None = None
) -> Iterator[dg.AssetCheckResult]:
    """The results of `table`'s SQL checks (or of those `names`) on the rows of `days`."""
    yield from sql_check_results(
        postgres,
        table.key,
        table.checked_in_sql if names is None else names,
        table.day_column,
        days,
        dict(table.stored.foreign_keys),
    )


def table_checks(table: Table) -> dg.AssetChecksDefinition:
    """The SQL checks of `table` as one multi-asset check (each selectable on its own)."""

    @dg.multi_asset_check(
        name=f"{table.key.path[-1]}_sql_checks",
        specs=[sql_check_spec(table.key, name) for name in table.checked_in_sql],
        can_subset=True,
        description=f"The SQL checks of {table.table_name} on the days of the run.",
    )
    def checks(context: dg.AssetCheckExecutionContext, postgres: PostgresResource):
        selected = {key.name for key in context.selected_asset_check_keys}
        names = [name for name in table.checked_in_sql if name in selected]
        yield from sql_results(postgres, table, _days(context, postgres, table), names)

    return checks


SQL_CHECKS = [table_checks(table) for table in TABLES if table.checked_in_sql]
