"""Tables for PostgresPolarsIOManager: created from a frame's schema, evolved, keyed, indexed.

A frame's Polars schema is kept in `polars_io.table_schemas` beside the tables, so a read can
return the dtypes that were written (Postgres alone cannot tell Int8 from Int16, or a struct's
fields).
"""

import hashlib
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl
import psycopg
from psycopg import sql

from imdb_warehouse.resources.errors import WarehouseError
from imdb_warehouse.resources.partition_slices import is_membership
from imdb_warehouse.resources.pg_types import polars_type_of_postgres, postgres_type
from imdb_warehouse.resources.storage import TableSpec

REGISTRY_SCHEMA = "polars_io"
REGISTRY = sql.Identifier(REGISTRY_SCHEMA, "table_schemas")


def prepare_table(
    conn: psycopg.Connection, spec: TableSpec, frame: pl.DataFrame
) -> "TableState | None":
    """Make `spec`'s table ready for `frame` (inside the caller's transaction, which holds the
    table's lock): create it, or add the frame's new columns; then its keys and indexes.
    Returns the table's state before, None if it did not exist."""
    _ensure_registry(conn)
    state = table_state(conn, spec, registry=True)
    if state is None:
        _ensure_schema(conn, spec.schema)
        _create_table(conn, spec, frame)
    else:
        _evolve_table(conn, spec, frame, state)
    _ensure_keys_and_indexes(conn, spec, state.names if state else set(), frame.schema)
    return state


def remember_schema(
    conn: psycopg.Connection, spec: TableSpec, schema: pl.Schema, before: "TableState | None"
) -> None:
    """Keep the Polars schema written, for reads (only when it changed)."""
    if before is not None and before.stored == schema:
        return
    conn.execute(
        sql.SQL(
            "INSERT INTO {} (table_schema, table_name, polars_schema, described) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT (table_schema, table_name) DO UPDATE SET "
            "polars_schema = EXCLUDED.polars_schema, described = EXCLUDED.described, "
            "updated_at = now()"
        ).format(REGISTRY),
        [spec.schema, spec.name, _schema_bytes(schema), str(schema)],
    )


def _ensure_keys_and_indexes(
    conn: psycopg.Connection, spec: TableSpec, present: set[str], dtypes: pl.Schema
) -> None:
    """Create the asset's foreign keys and indexes that the table does not have yet (an index
    on the partition columns, but a list column's)."""
    wanted_indexes = list(spec.storage.indexes)
    if spec.partitions is not None:
        columns = tuple(c for c in spec.partitions.columns if not is_membership(dtypes[c]))
        if spec.primary_key[: len(columns)] != columns:
            wanted_indexes.append(columns)
    names: dict[str, str | tuple[str, ...]] = {
        f"fk_{spec.name}_{c}": c for c in spec.storage.foreign_keys
    }
    names |= {
        "ix_{}_{}".format(spec.name, "_".join(index)): tuple(index) for index in wanted_indexes
    }
    names = {_short_name(name): what for name, what in names.items()}
    for name, what in names.items():
        if name in present:
            continue
        if isinstance(what, str):  # a foreign key column
            target = spec.storage.foreign_keys[what]
            target_schema, target_table = target.split(".")
            if not conn.execute(
                "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = $1 AND c.relname = $2",
                [target_schema, target_table],
            ).fetchone():
                raise WarehouseError(
                    f"table {spec.qualified_name} (asset {spec.asset}) references "
                    f"{target}, which does not exist yet: materialize it first"
                )
            conn.execute(
                sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {}").format(
                    spec.ident,
                    sql.Identifier(name),
                    sql.Identifier(what),
                    sql.Identifier(target_schema, target_table),
                )
            )
        else:
            conn.execute(
                sql.SQL("CREATE INDEX {} ON {} ({})").format(
                    sql.Identifier(name), spec.ident, sql.SQL(", ").join(map(sql.Identifier, what))
                )
            )


def _short_name(name: str) -> str:
    """A constraint or index name within Postgres's 63 bytes, still unique."""
    if len(name.encode()) <= 63:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:10]
    return name.encode()[:50].decode(errors="ignore") + "_" + digest


def _ensure_registry(conn: psycopg.Connection) -> None:
    if registry_exists(conn):
        return
    _ensure_schema(conn, REGISTRY_SCHEMA)
    conn.execute(
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {} (table_schema text, table_name text, "
            "polars_schema bytea NOT NULL, described text NOT NULL, "
            "updated_at timestamptz NOT NULL DEFAULT now(), "
            "PRIMARY KEY (table_schema, table_name))"
        ).format(REGISTRY)
    )


def registry_exists(conn: psycopg.Connection) -> bool:
    row = conn.execute("SELECT to_regclass('polars_io.table_schemas')").fetchone()
    return row is not None and row[0] is not None


def _ensure_schema(conn: psycopg.Connection, schema: str) -> None:
    if conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = $1", [schema]).fetchone():
        return
    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [f"polars_io:{schema}"])
    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))


@dataclass(frozen=True)
class TableState:
    """What Postgres holds of a table, read in one round trip."""

    columns: dict[str, str]  # name → Postgres type, in table order
    comments: dict[str, str | None]
    primary_key: tuple[str, ...]
    names: set[str]  # its constraints and indexes
    stored: pl.Schema  # the Polars schema last written (empty if none)


def table_state(conn: psycopg.Connection, spec: TableSpec, registry: bool) -> TableState | None:
    stored = (
        sql.SQL(
            "(SELECT polars_schema FROM {} s WHERE s.table_schema = n.nspname "
            "AND s.table_name = c.relname)"
        ).format(REGISTRY)
        if registry
        else sql.SQL("NULL::bytea")
    )
    row = conn.execute(
        sql.SQL(
            "SELECT (SELECT json_agg(json_build_array(a.attname, "
            "  format_type(a.atttypid, a.atttypmod), col_description(c.oid, a.attnum)) "
            "  ORDER BY a.attnum) FROM pg_attribute a "
            "  WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), "
            "(SELECT array_agg(a.attname ORDER BY k.position) FROM pg_index x "
            "  CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, position) "
            "  JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum "
            "  WHERE x.indrelid = c.oid AND x.indisprimary), "
            "(SELECT array_agg(conname) FROM pg_constraint WHERE conrelid = c.oid), "
            "(SELECT array_agg(i.relname) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            "  WHERE x.indrelid = c.oid), "
            "{} "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = $1 AND c.relname = $2"
        ).format(stored),
        [spec.schema, spec.name],
    ).fetchone()
    if row is None:
        return None
    columns, key, constraints, indexes, schema = row
    return TableState(
        columns={name: pg_type for name, pg_type, _ in columns or []},
        comments={name: comment for name, _, comment in columns or []},
        primary_key=tuple(key or ()),
        names={*(constraints or ()), *(indexes or ())},
        stored=pl.read_ipc(io.BytesIO(schema)).schema if schema else pl.Schema(),
    )


def expected_schema(columns: Mapping[str, str], stored: pl.Schema) -> pl.Schema:
    return pl.Schema(
        {name: stored.get(name) or polars_type_of_postgres(pg) for name, pg in columns.items()}
    )


def _schema_bytes(schema: pl.Schema) -> bytes:
    return pl.DataFrame(schema=schema).write_ipc(None).getvalue()


def _create_table(conn: psycopg.Connection, spec: TableSpec, frame: pl.DataFrame) -> None:
    definitions = [
        sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(postgres_type(dtype)))
        for name, dtype in frame.schema.items()
    ]
    if spec.primary_key:
        definitions.append(
            sql.SQL("PRIMARY KEY ({})").format(
                sql.SQL(", ").join(map(sql.Identifier, spec.primary_key))
            )
        )
    conn.execute(
        sql.SQL("CREATE TABLE {} ({})").format(spec.ident, sql.SQL(", ").join(definitions))
    )
    _comment_columns(conn, spec, frame.columns)


def _evolve_table(
    conn: psycopg.Connection, spec: TableSpec, frame: pl.DataFrame, state: TableState
) -> None:
    """Add the frame's new columns; refuse a frame that lacks or retypes existing ones."""
    columns, stored = state.columns, state.stored
    where = f"table {spec.qualified_name} (asset {spec.asset})"
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise WarehouseError(
            f"{where} has columns the frame lacks: {missing}. Return them (null where unknown), "
            "or drop them from the table first"
        )
    retyped = [
        f"{name}: table {stored[name] if name in stored else columns[name]}, frame {dtype}"
        for name, dtype in frame.schema.items()
        if name in columns
        and (stored[name] != dtype if name in stored else postgres_type(dtype) != columns[name])
    ]
    if retyped:
        raise WarehouseError(
            f"{where}: the frame changes the type of columns ({'; '.join(retyped)}). Cast them "
            "back, or migrate the table first"
        )
    existing_key = state.primary_key
    if existing_key != spec.primary_key and (existing_key or spec.primary_key):
        if existing_key:
            raise WarehouseError(
                f"{where} has primary key {list(existing_key)}, the asset says "
                f"{list(spec.primary_key)}: migrate the table first"
            )
        conn.execute(
            sql.SQL("ALTER TABLE {} ADD PRIMARY KEY ({})").format(
                spec.ident, sql.SQL(", ").join(map(sql.Identifier, spec.primary_key))
            )
        )
    for name in frame.columns:
        if name not in columns:
            conn.execute(
                sql.SQL("ALTER TABLE {} ADD COLUMN {} {}").format(
                    spec.ident, sql.Identifier(name), sql.SQL(postgres_type(frame.schema[name]))
                )
            )
    changed = [
        c for c in frame.columns if spec.descriptions.get(c) not in (None, state.comments.get(c))
    ]
    _comment_columns(conn, spec, changed)


def _comment_columns(conn: psycopg.Connection, spec: TableSpec, names: Sequence[str]) -> None:
    """Keep the asset's column descriptions as Postgres column comments, for analysts' tools."""
    for name in names:
        if not (description := spec.descriptions.get(name)):
            continue
        # COMMENT takes no parameters: psycopg quotes the literal.
        conn.execute(
            sql.SQL("COMMENT ON COLUMN {}.{} IS {}").format(
                spec.ident, sql.Identifier(name), sql.Literal(description)
            )
        )
