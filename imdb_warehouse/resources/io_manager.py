"""PostgresPolarsIOManager: Polars frames in and out of Postgres tables.

Where an asset goes: Postgres schema = the first element of its key, table = the last.
What its definition metadata may say:

- `primary_key`: column or list of columns, made the table's PRIMARY KEY;
- `partition_expr`: the partition column (a dict dimension → column for multi-partitions);
- `write_mode`: `replace` (default) or `upsert`;
- `replace_within`: in replace mode, columns that narrow what a write replaces to the values
  the frame holds (a day's lists: `["genre"]`, so a run of some genres keeps the others');
- `newer_wins`: in upsert mode, a column whose smaller value never overwrites a larger one;
- `upsert_merge`: in upsert mode, {column: "least" | "coalesce"}: keep the smaller of the old
  and new value (e.g. a first-seen date), or keep the old value where the new one is null;
- `foreign_keys`: {column: "schema.table"}, a FOREIGN KEY to that table's primary key;
- `indexes`: column lists to index (partition columns are indexed without asking);
- `dagster/column_schema`: its column descriptions, kept as Postgres column comments.

Every write is ONE transaction: in replace mode, DELETE of the run's partitions (of the whole
table when unpartitioned) + COPY; in upsert mode, COPY into a temporary table +
INSERT … ON CONFLICT DO UPDATE. Concurrent readers see the table before or after it, never in
between; concurrent writers of one table take turns (an advisory lock). The frame's Polars
schema is kept in `polars_io.table_schemas`, so a load returns the dtypes that were written.
"""

import hashlib
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import dagster as dg
import polars as pl
import psycopg
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter

from imdb_warehouse.resources.errors import WarehouseError
from imdb_warehouse.resources.partition_slices import (
    ClientBoundParams,
    Params,
    PartitionSlice,
    partition_slice,
)
from imdb_warehouse.resources.pg_types import (
    copy_frame,
    polars_type_of_postgres,
    postgres_type,
    restore_dtypes,
    select_cast,
)
from imdb_warehouse.resources.postgres import PostgresResource

REGISTRY_SCHEMA = "polars_io"
REGISTRY = sql.Identifier(REGISTRY_SCHEMA, "table_schemas")
COPY_CHUNK_ROWS = 100_000
WRITE_MODES = ("replace", "upsert")
MERGE_POLICIES = ("least", "coalesce")


@dataclass(frozen=True)
class TableSpec:
    """A table and the asset metadata that says how to write and read it."""

    asset: str
    schema: str
    name: str
    primary_key: tuple[str, ...]
    write_mode: str
    newer_wins: str | None
    replace_within: tuple[str, ...]
    merge: Mapping[str, str]
    foreign_keys: Mapping[str, str]
    indexes: tuple[tuple[str, ...], ...]
    partitions: PartitionSlice | None
    descriptions: Mapping[str, str]

    @property
    def ident(self) -> sql.Identifier:
        return sql.Identifier(self.schema, self.name)

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"


def table_spec(
    asset_key: dg.AssetKey,
    metadata: Mapping[str, object],
    partitions_def: dg.PartitionsDefinition | None,
    partition_keys: Sequence[str] | None,
) -> TableSpec:
    path = asset_key.path
    asset = asset_key.to_user_string()
    primary_key = metadata.get("primary_key") or ()
    write_mode = metadata.get("write_mode", "replace")
    newer_wins = metadata.get("newer_wins")
    if write_mode not in WRITE_MODES:
        raise WarehouseError(
            f"asset {asset}: write_mode {write_mode!r} is not one of {WRITE_MODES}"
        )
    if write_mode == "upsert" and not primary_key:
        raise WarehouseError(f"asset {asset}: write_mode 'upsert' needs a primary_key in metadata")
    replace_within = metadata.get("replace_within") or ()
    if replace_within and write_mode != "replace":
        raise WarehouseError(f"asset {asset}: replace_within needs write_mode 'replace'")
    merge = dict(metadata.get("upsert_merge") or {})
    if (newer_wins or merge) and write_mode != "upsert":
        raise WarehouseError(f"asset {asset}: newer_wins and upsert_merge need write_mode 'upsert'")
    if bad := {c: p for c, p in merge.items() if p not in MERGE_POLICIES}:
        raise WarehouseError(f"asset {asset}: upsert_merge {bad}: policies are {MERGE_POLICIES}")
    foreign_keys = dict(metadata.get("foreign_keys") or {})
    if bad := [t for t in foreign_keys.values() if not isinstance(t, str) or t.count(".") != 1]:
        raise WarehouseError(f"asset {asset}: foreign_keys targets {bad} are not 'schema.table'")
    column_schema = metadata.get("dagster/column_schema")
    return TableSpec(
        asset=asset,
        schema=path[0] if len(path) > 1 else "public",
        name=path[-1],
        primary_key=(primary_key,) if isinstance(primary_key, str) else tuple(primary_key),
        write_mode=write_mode,
        newer_wins=newer_wins,
        replace_within=(replace_within,)
        if isinstance(replace_within, str)
        else tuple(replace_within),
        merge=merge,
        foreign_keys=foreign_keys,
        indexes=tuple(tuple(index) for index in metadata.get("indexes") or ()),
        partitions=None
        if partitions_def is None or partition_keys is None
        else partition_slice(
            partitions_def, partition_keys, metadata.get("partition_expr"), asset_key
        ),
        descriptions={c.name: c.description for c in column_schema.columns if c.description}
        if isinstance(column_schema, dg.TableSchema)
        else {},
    )


class PostgresPolarsIOManager(dg.ConfigurableIOManager):
    """Stores each asset's Polars DataFrame as a Postgres table (schema = key prefix).

    Partitioned assets name their partition column(s) in `partition_expr` metadata; a write
    replaces exactly the run's partitions. See the module docstring for every metadata key.
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
        _check_frame(frame, spec)
        with self.postgres.connect() as conn:
            write_frame(conn, spec, frame)
        keys = context.asset_partition_keys if context.has_asset_partitions else []
        if len(keys) > 1:
            # Output metadata goes to every partition's materialization alike
            # (dagster-io/dagster#18123): each partition's own row count goes as asset metadata.
            for key in keys:
                rows = partition_slice(
                    context.asset_partitions_def,
                    [key],
                    (context.definition_metadata or {}).get("partition_expr"),
                    context.asset_key,
                ).rows_in(frame)
                context.step_context.add_asset_metadata(
                    {"dagster/row_count": rows}, asset_key=context.asset_key, partition_key=key
                )
        else:
            context.add_output_metadata({"dagster/row_count": frame.height})
        context.add_output_metadata(
            {
                "dagster/table_name": spec.qualified_name,
                "dagster/column_schema": dg.TableSchema(
                    columns=[
                        dg.TableColumn(
                            name,
                            postgres_type(dtype),
                            spec.descriptions.get(name),
                            dg.TableColumnConstraints(
                                nullable=name not in spec.primary_key,
                                unique=spec.primary_key == (name,),
                            ),
                        )
                        for name, dtype in frame.schema.items()
                    ]
                ),
            }
        )

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
        """The rows of `spec`'s table (of its partitions, if it names some), as written."""
        with self.postgres.connect() as conn:
            state = _table_state(conn, spec, registry=_registry_exists(conn))
            if state is None:
                raise WarehouseError(
                    f"table {spec.qualified_name} does not exist yet: materialize asset "
                    f"{spec.asset} before the assets that read it"
                )
            columns = state.columns
            schema = _expected_schema(columns, state.stored)
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
        return restore_dtypes(pl.from_arrow(self.postgres.fetch_arrow(query_text)), schema)


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


def _check_frame(frame: pl.DataFrame, spec: TableSpec) -> None:
    """Reject a frame that would break the table's keys or spill outside the run's partitions."""
    where = f"asset {spec.asset} (table {spec.qualified_name})"
    named = [*spec.primary_key, *([spec.newer_wins] if spec.newer_wins else []), *spec.merge]
    named += [*spec.foreign_keys, *(c for index in spec.indexes for c in index)]
    named += spec.replace_within
    if spec.partitions is not None:
        named += spec.partitions.columns
    missing = [c for c in dict.fromkeys(named) if c not in frame.columns]
    if missing:
        raise WarehouseError(f"{where}: its metadata names columns the frame lacks: {missing}")
    for column in [*spec.primary_key, *([spec.newer_wins] if spec.newer_wins else [])]:
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
    if spec.partitions is not None:
        outside = spec.partitions.rows_outside(frame)
        if outside:
            raise WarehouseError(
                f"{where}: rows with partition values {outside[:5]} lie outside the partitions "
                "of this run; a run writes only its own partitions"
            )


def write_frame(conn: psycopg.Connection, spec: TableSpec, frame: pl.DataFrame) -> None:
    """Write `frame` into `spec`'s table inside the caller's transaction."""
    conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
        [f"polars_io:{spec.qualified_name}"],
    )
    _ensure_registry(conn)
    state = _table_state(conn, spec, registry=True)
    if state is None:
        _ensure_schema(conn, spec.schema)
        _create_table(conn, spec, frame)
    else:
        _evolve_table(conn, spec, frame, state)
    _ensure_keys_and_indexes(conn, spec, state.names if state else set())
    names = sql.SQL(", ").join(map(sql.Identifier, frame.columns))
    if spec.write_mode == "replace":
        params = Params()
        where = [spec.partitions.where(params, frame.schema)] if spec.partitions else []
        for column in spec.replace_within:
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
        staging = sql.Identifier("polars_io_upsert")
        conn.execute(
            sql.SQL("CREATE TEMP TABLE {} (LIKE {}) ON COMMIT DROP").format(staging, spec.ident)
        )
        _copy(conn, staging, names, frame)
        updates = [c for c in frame.columns if c not in spec.primary_key]
        action = _upsert_action(spec, updates) if updates else sql.SQL("DO NOTHING")
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
    if state is not None and state.stored == frame.schema:
        return
    conn.execute(
        sql.SQL(
            "INSERT INTO {} (table_schema, table_name, polars_schema, described) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT (table_schema, table_name) DO UPDATE SET "
            "polars_schema = EXCLUDED.polars_schema, described = EXCLUDED.described, "
            "updated_at = now()"
        ).format(REGISTRY),
        [spec.schema, spec.name, _schema_bytes(frame.schema), str(frame.schema)],
    )


def _upsert_action(spec: TableSpec, updates: Sequence[str]) -> sql.Composable:
    """ON CONFLICT's DO UPDATE: new values replace old ones, unless the new row is older
    (`newer_wins`), with the per-column `upsert_merge` policies."""
    old = lambda c: sql.SQL("{}.{}").format(spec.ident, sql.Identifier(c))  # noqa: E731
    new = lambda c: sql.SQL("EXCLUDED.{}").format(sql.Identifier(c))  # noqa: E731
    values = {
        c: sql.SQL("COALESCE({}, {})").format(new(c), old(c))
        if spec.merge.get(c) == "coalesce"
        else new(c)
        for c in updates
    }
    newer = (
        sql.SQL("{} <= {}").format(old(spec.newer_wins), new(spec.newer_wins))
        if spec.newer_wins
        else None
    )
    least = [c for c in updates if spec.merge.get(c) == "least"]
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


def _ensure_keys_and_indexes(conn: psycopg.Connection, spec: TableSpec, present: set[str]) -> None:
    """Create the asset's foreign keys and indexes that the table does not have yet."""
    wanted_indexes = list(spec.indexes)
    if spec.partitions is not None:
        columns = tuple(spec.partitions.columns)
        if spec.primary_key[: len(columns)] != columns:
            wanted_indexes.append(columns)
    names = {f"fk_{spec.name}_{c}": c for c in spec.foreign_keys}
    names |= {"ix_{}_{}".format(spec.name, "_".join(index)): index for index in wanted_indexes}
    names = {_short_name(name): what for name, what in names.items()}
    for name, what in names.items():
        if name in present:
            continue
        if isinstance(what, str):  # a foreign key column
            target_schema, target_table = spec.foreign_keys[what].split(".")
            if not conn.execute(
                "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = $1 AND c.relname = $2",
                [target_schema, target_table],
            ).fetchone():
                raise WarehouseError(
                    f"table {spec.qualified_name} (asset {spec.asset}) references "
                    f"{spec.foreign_keys[what]}, which does not exist yet: materialize it first"
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


def _copy(
    conn: psycopg.Connection, target: sql.Identifier, names: sql.Composable, frame: pl.DataFrame
) -> None:
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(target, names)
    # In a one-column CSV a lone \. would read as COPY's end-of-data marker, unless quoted.
    quote_style = "non_numeric" if frame.width == 1 else "necessary"
    cursor = conn.cursor()
    # The queued writer sends one chunk from a thread while Polars renders the next.
    with cursor.copy(statement, writer=QueuedLibpqWriter(cursor)) as copy:
        for chunk in copy_frame(frame).iter_slices(COPY_CHUNK_ROWS):
            copy.write(chunk.write_csv(include_header=False, quote_style=quote_style))


def _ensure_registry(conn: psycopg.Connection) -> None:
    if _registry_exists(conn):
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


def _registry_exists(conn: psycopg.Connection) -> bool:
    return conn.execute("SELECT to_regclass('polars_io.table_schemas')").fetchone()[0] is not None


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


def _table_state(conn: psycopg.Connection, spec: TableSpec, registry: bool) -> TableState | None:
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


def _expected_schema(columns: Mapping[str, str], stored: pl.Schema) -> pl.Schema:
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
