"""The rows that belong to a run's partitions: a WHERE clause for Postgres, a check for a frame.

A slice is a union of boxes; a box is a conjunction of one condition per partition dimension:
a static dimension's column equals one of a set of keys, a time dimension's column falls in
one of a set of [start, end) windows. The usual cases (one key; one day × every genre; a range
of days) are one box, so the clause stays index-friendly.

A static dimension's column may be a list of keys instead (text[]): a row then belongs to every
partition its list names (a movie listed in two genres' lists belongs to both lists' partitions),
and lies in a slice when its list shares a key with it.
"""

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from math import prod
from typing import cast

import dagster as dg
import polars as pl
from psycopg import sql

from imdb_warehouse.resources.errors import WarehouseError

Window = tuple[datetime, datetime]


class Params(list):
    """Collects query values and hands out their `$n` placeholders."""

    def add(self, value: object) -> sql.Composable:
        self.append(value)
        return sql.SQL(f"${len(self)}")


class ClientBoundParams(Params):
    """Binds values client-side, as psycopg does for COPY: each is a psycopg-quoted literal."""

    def add(self, value: object) -> sql.Composable:
        return sql.Literal(value)


@dataclass(frozen=True)
class StaticCondition:
    column: str
    keys: tuple[str, ...]

    def where(self, params: Params, dtype: pl.DataType) -> sql.Composable:
        if is_membership(dtype):  # the row belongs to each key of its list
            keys = params.add(list(self.keys))
            return sql.SQL("{} && {}::text[]").format(sql.Identifier(self.column), keys)
        if isinstance(dtype, pl.Date):  # keys that are days (`2025-03-01`): dynamic partitions
            keys = params.add([date.fromisoformat(key) for key in self.keys])
            return sql.SQL("{} = ANY({}::date[])").format(sql.Identifier(self.column), keys)
        if not isinstance(dtype, pl.String | pl.Categorical | pl.Enum):
            raise WarehouseError(
                f"partition column {self.column!r} holds {dtype}; the keys of a static "
                "partition dimension are strings (or days, for a Date column), so its column "
                "must be a string or Date column"
            )
        keys = params.add(list(self.keys))
        return sql.SQL("{} = ANY({}::text[])").format(sql.Identifier(self.column), keys)

    def matches(self, value: object) -> bool:
        """Whether a row with `value` lies within the keys (a list: every key it names does)."""
        if isinstance(value, list):
            return bool(value) and all(key in self.keys for key in value)
        return (value.isoformat() if isinstance(value, date) else value) in self.keys

    def holds(self, value: object) -> bool:
        """Whether a row with `value` belongs to one of the keys (a list: names one)."""
        if isinstance(value, list):
            return any(key in self.keys for key in value)
        return self.matches(value)


@dataclass(frozen=True)
class TimeCondition:
    column: str
    windows: tuple[Window, ...]

    def where(self, params: Params, dtype: pl.DataType) -> sql.Composable:
        bound = _bound_type(self.column, dtype)
        ranges = [
            sql.SQL("({col} >= {start}::{t} AND {col} < {end}::{t})").format(
                col=sql.Identifier(self.column),
                start=params.add(_bound(start, dtype)),
                end=params.add(_bound(end, dtype)),
                t=sql.SQL(bound),
            )
            for start, end in self.windows
        ]
        return sql.SQL("({})").format(sql.SQL(" OR ").join(ranges))

    def matches(self, value: object) -> bool:
        if isinstance(value, datetime):
            return any(start <= _aware(value, start) < end for start, end in self.windows)
        if isinstance(value, date):
            return any(start.date() <= value < end.date() for start, end in self.windows)
        return False

    holds = matches


Condition = StaticCondition | TimeCondition


@dataclass(frozen=True)
class PartitionSlice:
    boxes: tuple[tuple[Condition, ...], ...]

    @property
    def columns(self) -> list[str]:
        return [condition.column for condition in self.boxes[0]]

    def where(self, params: Params, dtypes: Mapping[str, pl.DataType]) -> sql.Composable:
        return sql.SQL(" OR ").join(
            sql.SQL("({})").format(
                sql.SQL(" AND ").join(c.where(params, dtypes[c.column]) for c in box)
            )
            for box in self.boxes
        )

    def rows_in(self, frame: pl.DataFrame) -> int:
        """How many rows of `frame` belong to this slice."""
        counts = frame.group_by(self.columns).agg(pl.len().alias("__rows__"))
        return sum(
            row["__rows__"]
            for row in counts.iter_rows(named=True)
            if any(all(c.holds(row[c.column]) for c in box) for box in self.boxes)
        )

    def narrowed(self, frame: pl.DataFrame) -> pl.DataFrame:
        """`frame`'s rows as they belong to this slice: a list partition column keeps only the
        keys within it (a row read for one genre's partition belongs, for its reader, to that
        genre alone)."""
        shared = self.membership_column(frame.schema)
        if shared is None or frame.is_empty():
            return frame
        column, others = shared.column, [c for c in self.columns if c != shared.column]
        keyed = frame.with_row_index("__row").select("__row", *others, column).explode(column)
        combinations = keyed.select(*others, column).unique()
        kept = combinations.filter(
            pl.Series(
                [
                    any(all(c.holds(row[c.column]) for c in box) for box in self.boxes)
                    for row in combinations.iter_rows(named=True)
                ],
                dtype=pl.Boolean,
            )
        )
        lists = (
            keyed.join(kept, on=[*others, column], nulls_equal=True)
            .group_by("__row")
            .agg(pl.col(column).sort())
        )
        return (
            frame.with_row_index("__row")
            .drop(column)
            .join(lists, on="__row", how="left")
            .with_columns(pl.col(column).fill_null(pl.lit([], dtype=frame.schema[column])))
            .select(frame.columns)
        )

    def membership_column(self, dtypes: Mapping[str, pl.DataType]) -> StaticCondition | None:
        """The condition on a list column (rows shared between partitions), if there is one."""
        for condition in self.boxes[0]:
            if isinstance(condition, StaticCondition) and is_membership(dtypes[condition.column]):
                return condition
        return None

    def rows_outside(self, frame: pl.DataFrame) -> list[dict]:
        """The distinct partition values of `frame` that lie outside this slice."""
        return [
            row
            for row in frame.select(self.columns).unique().iter_rows(named=True)
            if not any(all(c.matches(row[c.column]) for c in box) for box in self.boxes)
        ]


def is_membership(dtype: pl.DataType) -> bool:
    """A partition column that lists the keys of the partitions its row belongs to."""
    return isinstance(dtype, pl.List) and isinstance(dtype.inner, pl.String)


def rows_per_partition(
    partitions_def: dg.PartitionsDefinition,
    partition_keys: Sequence[str],
    partition_expr: object,
    asset_key: dg.AssetKey,
    frame: pl.DataFrame,
) -> dict[str, int]:
    """How many rows of `frame` each of `partition_keys` holds (a row whose partition column
    is a list counts for each key it names)."""
    dimensions, columns = _dimensions(partitions_def, partition_expr, asset_key)
    if any(isinstance(p, dg.TimeWindowPartitionsDefinition) for p in dimensions.values()):
        return {
            key: partition_slice(partitions_def, [key], partition_expr, asset_key).rows_in(frame)
            for key in partition_keys
        }
    names = list(columns.values())  # keys are strings: days as `2025-06-01`
    values = frame.select(
        pl.col(c).cast(pl.List(pl.String) if is_membership(frame.schema[c]) else pl.String)
        for c in names
    )
    for name in names:
        if is_membership(values.schema[name]):
            values = values.explode(name)
    counts = {tuple(row[:-1]): row[-1] for row in values.group_by(names).len().iter_rows()}
    return {
        key: counts.get(tuple(part[d] for d in columns), 0)
        for key, part in zip(partition_keys, _parts(partitions_def, partition_keys), strict=True)
    }


def _dimensions(
    partitions_def: dg.PartitionsDefinition, partition_expr: object, asset_key: dg.AssetKey
) -> tuple[dict[str, dg.PartitionsDefinition], dict[str, str]]:
    """{dimension: its definition} and {dimension: its column} (one unnamed dimension when
    the definition is not multi-dimensional)."""
    if isinstance(partitions_def, dg.MultiPartitionsDefinition):
        dimensions = {d.name: d.partitions_def for d in partitions_def.partitions_defs}
        if not isinstance(partition_expr, Mapping) or set(partition_expr) != set(dimensions):
            raise WarehouseError(
                f"asset {asset_key.to_user_string()} is partitioned by {sorted(dimensions)}: "
                "its metadata must name the column of each dimension, e.g. "
                f"partition_expr={{{', '.join(f'{d!r}: <column>' for d in sorted(dimensions))}}}"
            )
        return dimensions, dict(partition_expr)
    if not isinstance(partition_expr, str) or not partition_expr:
        raise WarehouseError(
            f"asset {asset_key.to_user_string()} is partitioned but its metadata names no "
            "partition column: add metadata={'partition_expr': '<column>'} so that a "
            "write replaces only its own partitions"
        )
    return {"": partitions_def}, {"": partition_expr}


def _parts(
    partitions_def: dg.PartitionsDefinition, partition_keys: Sequence[str]
) -> list[dict[str, str]]:
    if isinstance(partitions_def, dg.MultiPartitionsDefinition):
        return [
            dict(partitions_def.get_partition_key_from_str(key).keys_by_dimension)
            for key in partition_keys
        ]
    return [{"": key} for key in partition_keys]


def partition_slice(
    partitions_def: dg.PartitionsDefinition,
    partition_keys: Sequence[str],
    partition_expr: object,
    asset_key: dg.AssetKey,
) -> PartitionSlice:
    """The slice of `partition_keys`, with each dimension's column taken from `partition_expr`."""
    dimensions, columns = _dimensions(partitions_def, partition_expr, asset_key)
    parts = _parts(partitions_def, partition_keys)

    time_dims = [
        d for d, p in dimensions.items() if isinstance(p, dg.TimeWindowPartitionsDefinition)
    ]
    static_dims = [d for d in dimensions if d not in time_dims]

    windows_by_statics: dict[tuple[str, ...], set[Window]] = defaultdict(set)
    for part in parts:
        statics = tuple(part[d] for d in static_dims)
        for d in time_dims:
            time_def = cast(dg.TimeWindowPartitionsDefinition, dimensions[d])
            window = time_def.time_window_for_partition_key(part[d])
            windows_by_statics[statics].add((window.start, window.end))
        windows_by_statics.setdefault(statics, set())

    statics_by_windows: dict[tuple[Window, ...], set[tuple[str, ...]]] = defaultdict(set)
    for statics, day_windows in windows_by_statics.items():
        statics_by_windows[_merge(day_windows)].add(statics)

    boxes = []
    for merged, combinations in statics_by_windows.items():
        keys_per_dim = [sorted({s[i] for s in combinations}) for i in range(len(static_dims))]
        if prod(len(keys) for keys in keys_per_dim) == len(combinations):
            groups = [keys_per_dim]
        else:  # not a cross product: one box per combination
            groups = [[[key] for key in combination] for combination in sorted(combinations)]
        for group in groups:
            box: list[Condition] = [
                StaticCondition(columns[d], tuple(keys))
                for d, keys in zip(static_dims, group, strict=True)
            ]
            box += [TimeCondition(columns[d], merged) for d in time_dims]
            boxes.append(tuple(box))
    return PartitionSlice(tuple(boxes))


def _merge(windows: set[Window]) -> tuple[Window, ...]:
    merged: list[Window] = []
    for start, end in sorted(windows):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return tuple(merged)


def _bound_type(column: str, dtype: pl.DataType) -> str:
    if isinstance(dtype, pl.Date):
        return "date"
    if isinstance(dtype, pl.Datetime):
        return "timestamptz" if dtype.time_zone else "timestamp"
    raise WarehouseError(
        f"partition column {column!r} holds {dtype}; a time partition dimension needs a "
        "Date or Datetime column"
    )


def _bound(moment: datetime, dtype: pl.DataType) -> str:
    if isinstance(dtype, pl.Date):
        return moment.date().isoformat()
    if isinstance(dtype, pl.Datetime) and not dtype.time_zone:
        return moment.replace(tzinfo=None).isoformat()
    return moment.isoformat()


def _aware(value: datetime, like: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=like.tzinfo)
