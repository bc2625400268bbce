"""The storage contract: what an asset's metadata may tell PostgresPolarsIOManager, typed.

`Storage` is the one reading of those metadata keys (docs/io_manager.md lists them). An unknown
key or a bad value is refused with a one-line error naming the asset; `check_definitions`
applies it to every stored asset when the code location loads, so a typo such as `write_mod`
fails at load, not at the first write.
"""

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Literal, cast

import dagster as dg
import polars as pl
from psycopg import sql

from imdb_warehouse.resources.errors import WarehouseError
from imdb_warehouse.resources.partition_slices import PartitionSlice, partition_slice
from imdb_warehouse.resources.pg_types import postgres_type

WriteMode = Literal["replace", "upsert"]
MergePolicy = Literal["least", "coalesce"]
WRITE_MODES: tuple[WriteMode, ...] = ("replace", "upsert")
MERGE_POLICIES: tuple[MergePolicy, ...] = ("least", "coalesce")
PartitionExpr = str | Mapping[str, str] | None


class StorageMetadataError(WarehouseError):
    """An asset's storage metadata that the IO manager cannot follow."""


def _columns(value: object) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(cast(Iterable[str], value or ()))


@dataclass(frozen=True)
class Storage:
    """How an asset's frame is kept: its table's keys and how a write treats existing rows.

    The field names are the metadata keys; `metadata()` gives them, `from_metadata` reads them.
    """

    # columns: a name or a sequence of names, kept as tuples
    primary_key: Sequence[str] = ()
    partition_expr: PartitionExpr = None
    write_mode: WriteMode = "replace"
    replace_within: Sequence[str] = ()
    newer_wins: str | None = None
    upsert_merge: Mapping[str, MergePolicy] = field(default_factory=dict)
    foreign_keys: Mapping[str, str] = field(default_factory=dict)
    indexes: Sequence[Sequence[str]] = ()

    def __post_init__(self) -> None:
        # Lists and single names are accepted (metadata is JSON); kept as tuples.
        object.__setattr__(self, "primary_key", _columns(self.primary_key))
        object.__setattr__(self, "replace_within", _columns(self.replace_within))
        object.__setattr__(self, "indexes", tuple(_columns(i) for i in self.indexes))
        object.__setattr__(self, "upsert_merge", dict(self.upsert_merge))
        object.__setattr__(self, "foreign_keys", dict(self.foreign_keys))
        problem = self._problem()
        if problem:
            raise StorageMetadataError(problem)

    def _problem(self) -> str | None:
        if self.write_mode not in WRITE_MODES:
            return f"write_mode {self.write_mode!r} is not one of {WRITE_MODES}"
        if self.write_mode == "upsert" and not self.primary_key:
            return "write_mode 'upsert' needs a primary_key"
        if self.replace_within and self.write_mode != "replace":
            return "replace_within needs write_mode 'replace'"
        if (self.newer_wins or self.upsert_merge) and self.write_mode != "upsert":
            return "newer_wins and upsert_merge need write_mode 'upsert'"
        if policies := {c: p for c, p in self.upsert_merge.items() if p not in MERGE_POLICIES}:
            return f"upsert_merge {policies}: the policies are {MERGE_POLICIES}"
        if targets := [t for t in self.foreign_keys.values() if not _is_table_name(t)]:
            return f"foreign_keys targets {targets} are not 'schema.table'"
        if self.partition_expr is not None and not isinstance(self.partition_expr, str | Mapping):
            return "partition_expr is a column name, or {dimension: column} for multi-partitions"
        names = [*self.primary_key, *self.replace_within, *self.upsert_merge, *self.foreign_keys]
        names += [c for index in self.indexes for c in index]
        if odd := [n for n in names if not isinstance(n, str) or not n]:
            return f"column names must be non-empty strings, not {odd}"
        return None

    @classmethod
    def from_metadata(cls, asset: str, metadata: Mapping[str, object]) -> "Storage":
        """The storage an asset's definition metadata asks for; `dagster/…` keys are Dagster's.

        Raises StorageMetadataError, naming the asset, for an unknown key or a bad value.
        """
        known = {f.name for f in fields(cls)}
        given = {k: v for k, v in metadata.items() if not k.startswith("dagster/")}
        if unknown := sorted(set(given) - known):
            raise StorageMetadataError(
                f"asset {asset}: unknown storage metadata {unknown}; PostgresPolarsIOManager "
                f"reads {sorted(known)} (docs/io_manager.md), and keys under dagster/"
            )
        try:
            return cls(**cast(dict, given))
        except StorageMetadataError as error:
            raise StorageMetadataError(f"asset {asset}: {error}") from None
        except (TypeError, ValueError) as error:
            raise StorageMetadataError(f"asset {asset}: bad storage metadata ({error})") from None

    def metadata(self) -> dict[str, object]:
        """The metadata keys that say this storage (defaults left out)."""
        values = {
            "primary_key": list(self.primary_key),
            "partition_expr": self.partition_expr,
            "write_mode": self.write_mode,
            "replace_within": list(self.replace_within),
            "newer_wins": self.newer_wins,
            "upsert_merge": dict(self.upsert_merge),
            "foreign_keys": dict(self.foreign_keys),
            "indexes": [list(index) for index in self.indexes],
        }
        default = Storage()
        return {k: v for k, v in values.items() if v and getattr(self, k) != getattr(default, k)}


def _is_table_name(target: object) -> bool:
    return isinstance(target, str) and target.count(".") == 1 and all(target.split("."))


@dataclass(frozen=True)
class TableSpec:
    """An asset's table, its storage, and the partitions of one write or read."""

    asset: str
    schema: str
    name: str
    storage: Storage
    partitions: PartitionSlice | None
    declared: Mapping[str, dg.TableColumn]  # the columns the definition describes

    @property
    def descriptions(self) -> dict[str, str]:
        return {name: c.description for name, c in self.declared.items() if c.description}

    def column_schema(self, dtypes: pl.Schema) -> dg.TableSchema:
        """The columns written, with the definition's descriptions and nullability."""
        return column_schema(
            dtypes,
            self.descriptions,
            nullable={
                name
                for name in dtypes
                if (self.declared[name].constraints.nullable if name in self.declared else True)
            },
            primary_key=self.primary_key,
        )

    @property
    def ident(self) -> sql.Identifier:
        return sql.Identifier(self.schema, self.name)

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def primary_key(self) -> tuple[str, ...]:
        return tuple(self.storage.primary_key)


def table_spec(
    asset_key: dg.AssetKey,
    metadata: Mapping[str, object],
    partitions_def: dg.PartitionsDefinition | None,
    partition_keys: Sequence[str] | None,
) -> TableSpec:
    """The table of `asset_key` and how to write it, for the partitions `partition_keys`."""
    path = asset_key.path
    asset = asset_key.to_user_string()
    storage = Storage.from_metadata(asset, metadata)
    declared = metadata.get("dagster/column_schema")
    return TableSpec(
        asset=asset,
        schema=path[0] if len(path) > 1 else "public",
        name=path[-1],
        storage=storage,
        partitions=None
        if partitions_def is None or partition_keys is None
        else partition_slice(partitions_def, partition_keys, storage.partition_expr, asset_key),
        declared={c.name: c for c in declared.columns}
        if isinstance(declared, dg.TableSchema)
        else {},
    )


def column_schema(
    dtypes: pl.Schema,
    descriptions: Mapping[str, str],
    nullable: Collection[str],
    primary_key: Sequence[str] = (),
) -> dg.TableSchema:
    """Columns as the Dagster UI shows them: Postgres types, descriptions, constraints; a key
    column is never null. The one derivation, for definitions and materializations alike."""
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name,
                postgres_type(dtype),
                descriptions.get(name),
                dg.TableColumnConstraints(
                    nullable=name in nullable and name not in primary_key,
                    unique=tuple(primary_key) == (name,),
                ),
            )
            for name, dtype in dtypes.items()
        ]
    )


def check_definitions(defs: dg.Definitions, io_manager_key: str = "io_manager") -> None:
    """Read the storage metadata of every asset `io_manager_key` stores: a bad one fails now."""
    graph = defs.resolve_asset_graph()
    for assets_def in graph.assets_defs:
        if not assets_def.is_executable:
            continue
        for key in assets_def.keys:
            output = assets_def.get_output_name_for_asset_key(key)
            if assets_def.node_def.output_def_named(output).io_manager_key != io_manager_key:
                continue
            if assets_def.op.output_def_named(output).dagster_type.is_nothing:
                continue
            Storage.from_metadata(key.to_user_string(), assets_def.metadata_by_key[key])
