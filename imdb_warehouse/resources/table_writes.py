"""Writes of PostgresPolarsIOManager: one frame into one table, in one transaction.

`replace`: DELETE of the run's partitions (narrowed by `replace_within`), then COPY. `upsert`:
COPY into a temporary table, then INSERT … ON CONFLICT DO UPDATE with the `newer_wins` and
`upsert_merge` rules. Writers of one table take turns (a transaction-level advisory lock).

A partition column that is a list (a row shared by the partitions it names, see
partition_slices.py): `replace` takes the run's partitions out of every row's list and deletes
the rows left in none, then upserts the frame's rows, whose lists join what remains; `upsert`
joins the lists of a row of the same `newer_wins` value, and takes the newer row's otherwise.
"""

from collections.abc import Sequence
from typing import Literal

import polars as pl
import psycopg
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter

from imdb_warehouse.resources.errors import WarehouseError
from imdb_warehouse.resources.partition_slices import Params, StaticCondition
from imdb_warehouse.resources.pg_types import copy_frame
from imdb_warehouse.resources.storage import TableSpec
from imdb_warehouse.resources.table_ddl import prepare_table, remember_schema

COPY_CHUNK_ROWS = 100_000


def check_frame(frame: pl.DataFrame, spec: TableSpec) -> None:
    """Reject a frame that would break the table's keys or spill outside the run's partitions."""
    where = f"asset {spec.asset} (table {spec.qualified_name})"
    named = [
        *spec.primary_key,
        *([spec.storage.newer_wins] if spec.storage.newer_wins else []),
        *spec.storage.upsert_merge,
    ]
    named += [*spec.storage.foreign_keys, *(c for index in spec.storage.indexes for c in index)]
    named += spec.storage.replace_within
    if spec.partitions is not None:
        named += spec.partitions.columns
    missing = [c for c in dict.fromkeys(named) if c not in frame.columns]
    if missing:
        raise WarehouseError(f"{where}: its metadata names columns the frame lacks: {missing}")
    for column in [
        *spec.primary_key,
        *([spec.storage.newer_wins] if spec.storage.newer_wins else []),
    ]:
        nulls = frame[column].null_count()
        if nulls:
            raise WarehouseError(f"{where}: column {column!r} has {nulls} null values; it must not")
    if spec.primary_key:
        duplicates = frame.filter(pl.struct(spec.primary_key).is_duplicated())
        if duplicates.height:
            sample = duplicates.select(spec.primary_key).unique().head(5).to_dicts()
            raise WarehouseError(
                f"{where}: {duplicates.height} rows share a primary key {list(spec.primary_key)}, "
                f"e.g. {sample}"
            )
    shared = spec.partitions.membership_column(frame.schema) if spec.partitions else None
    if shared is not None and not spec.primary_key:
        raise WarehouseError(
            f"{where}: its rows are shared between partitions (a list partition column), "
            "so a write needs a primary_key to find them"
        )
    if spec.partitions is not None:
        outside = spec.partitions.rows_outside(frame)
        if outside:
            raise WarehouseError(
                f"{where}: rows with partition values {outside[:5]} lie outside the partitions "
                "of this run; a run writes only its own partitions"
            )


def lock_table(conn: psycopg.Connection, qualified_name: str) -> None:
    """Take the writers' turn on a table until the caller's transaction ends (a writer that
    reads the table before it writes holds it from its read on)."""
    conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [f"polars_io:{qualified_name}"]
    )


def write_frame(conn: psycopg.Connection, spec: TableSpec, frame: pl.DataFrame) -> None:
    """Write `frame` into `spec`'s table inside the caller's transaction."""
    lock_table(conn, spec.qualified_name)
    before = prepare_table(conn, spec, frame)
    names = sql.SQL(", ").join(map(sql.Identifier, frame.columns))
    shared = spec.partitions.membership_column(frame.schema) if spec.partitions else None
    if spec.storage.write_mode == "replace" and shared is not None:
        _leave_partitions(conn, spec, frame.schema, shared)
        _upsert(conn, spec, names, frame, shared.column)
    elif spec.storage.write_mode == "replace":
        params = Params()
        where = [spec.partitions.where(params, frame.schema)] if spec.partitions else []
        for column in spec.storage.replace_within:
            values = params.add(frame.get_column(column).unique().to_list())
            where.append(sql.SQL("{} = ANY({})").format(sql.Identifier(column), values))
        delete = sql.SQL("DELETE FROM {}").format(spec.ident)
        if where:
            delete += sql.SQL(" WHERE ") + sql.SQL(" AND ").join(
                sql.SQL("({})").format(w) for w in where
            )
        conn.execute(delete, params)
        _copy(conn, spec.ident, names, frame)
    else:
        _upsert(conn, spec, names, frame, shared.column if shared else None)
    remember_schema(conn, spec, frame.schema, before)


def _leave_partitions(
    conn: psycopg.Connection, spec: TableSpec, dtypes: pl.Schema, shared: StaticCondition
) -> None:
    """The run's partitions taken out of the shared rows: a row that no other partition holds
    is deleted, the others keep the rest of their list."""
    assert spec.partitions is not None
    column = sql.Identifier(shared.column)
    for box in spec.partitions.boxes:
        for statement in (
            "DELETE FROM {t} WHERE {others} AND {c} <@ {keys}::text[]",
            "UPDATE {t} SET {c} = ARRAY(SELECT k FROM unnest({c}) AS k "
            "WHERE k <> ALL({keys}::text[]) ORDER BY k) WHERE {others} AND {c} && {keys}::text[]",
        ):
            params = Params()
            [keys] = [
                c.keys for c in box if isinstance(c, StaticCondition) and c.column == shared.column
            ]
            others = [c.where(params, dtypes[c.column]) for c in box if c.column != shared.column]
            conn.execute(
                sql.SQL(statement).format(
                    t=spec.ident,
                    c=column,
                    others=sql.SQL(" AND ").join(others) if others else sql.SQL("true"),
                    keys=params.add(list(keys)),
                ),
                params,
            )


def _upsert(
    conn: psycopg.Connection,
    spec: TableSpec,
    names: sql.Composable,
    frame: pl.DataFrame,
    shared: str | None = None,
) -> None:
    """COPY into a temporary table, then INSERT … ON CONFLICT on the primary key."""
    staging = sql.Identifier("polars_io_upsert")
    conn.execute(
        sql.SQL("CREATE TEMP TABLE {} (LIKE {}) ON COMMIT DROP").format(staging, spec.ident)
    )
    _copy(conn, staging, names, frame)
    updates = [c for c in frame.columns if c not in spec.primary_key]
    action = _upsert_action(spec, updates, shared) if updates else sql.SQL("DO NOTHING")
    conn.execute(
        sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} ON CONFLICT ({}) {}").format(
            spec.ident,
            names,
            names,
            staging,
            sql.SQL(", ").join(map(sql.Identifier, spec.primary_key)),
            action,
        )
    )


def _upsert_action(
    spec: TableSpec, updates: Sequence[str], shared: str | None = None
) -> sql.Composable:
    """ON CONFLICT's DO UPDATE: new values replace old ones, unless the new row is older
    (`newer_wins`), with the per-column `upsert_merge` policies; the list of partitions of a
    shared row (`shared`) joins the old one when the rows are of the same `newer_wins` value."""
    old = lambda c: sql.SQL("{}.{}").format(spec.ident, sql.Identifier(c))  # noqa: E731
    new = lambda c: sql.SQL("EXCLUDED.{}").format(sql.Identifier(c))  # noqa: E731
    values = {
        c: sql.SQL("COALESCE({}, {})").format(new(c), old(c))
        if spec.storage.upsert_merge.get(c) == "coalesce"
        else new(c)
        for c in updates
    }
    if shared is not None:
        joined = sql.SQL(
            "ARRAY(SELECT DISTINCT k FROM unnest(COALESCE({}, '{{}}') || COALESCE({}, '{{}}')) "
            "AS k ORDER BY k)"
        ).format(old(shared), new(shared))
        same = (
            sql.SQL("{} = {}").format(old(spec.storage.newer_wins), new(spec.storage.newer_wins))
            if spec.storage.newer_wins
            else sql.SQL("true")
        )
        values[shared] = sql.SQL("CASE WHEN {} THEN {} ELSE {} END").format(
            same, joined, new(shared)
        )
    newer = (
        sql.SQL("{} <= {}").format(old(spec.storage.newer_wins), new(spec.storage.newer_wins))
        if spec.storage.newer_wins
        else None
    )
    least = [c for c in updates if spec.storage.upsert_merge.get(c) == "least"]
    if newer is not None and least:  # the smaller value counts even from an older row
        values = {
            c: sql.SQL("CASE WHEN {} THEN {} ELSE {} END").format(newer, v, old(c))
            for c, v in values.items()
        }
    for c in least:
        values[c] = sql.SQL("LEAST({}, {})").format(old(c), new(c))
    action = sql.SQL("DO UPDATE SET {}").format(
        sql.SQL(", ").join(
            sql.SQL("{} = {}").format(sql.Identifier(c), v) for c, v in values.items()
        )
    )
    if newer is not None and not least:
        action += sql.SQL(" WHERE ") + newer
    return action


def _copy(
    conn: psycopg.Connection, target: sql.Identifier, names: sql.Composable, frame: pl.DataFrame
) -> None:
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(target, names)
    # In a one-column CSV a lone \. would read as COPY's end-of-data marker, unless quoted.
    quote_style: Literal["non_numeric", "necessary"] = (
        "non_numeric" if frame.width == 1 else "necessary"
    )
    cursor = conn.cursor()
    # The queued writer sends one chunk from a thread while Polars renders the next.
    with cursor.copy(statement, writer=QueuedLibpqWriter(cursor)) as copy:
        for chunk in copy_frame(frame).iter_slices(COPY_CHUNK_ROWS):
            copy.write(chunk.write_csv(include_header=False, quote_style=quote_style))
