"""How Polars columns are stored in Postgres columns, written through COPY CSV and read back.

Every supported Polars dtype has one Postgres type. Where Postgres has no exact equivalent
(Int8, unsigned ints, a time zone name, a struct's field types) the frame's own Polars schema,
kept beside the table by the IO manager, restores the dtype on load.

- scalars map to their Postgres type; unsigned ints to the next wider signed type
  (UInt64 to numeric(20,0));
- Datetime with a time zone to timestamptz (stored as UTC, read back in the frame's zone);
- List of a scalar to a Postgres array; Struct, Array and nested lists to jsonb.
"""

from typing import cast

import polars as pl
from polars.datatypes import DataTypeClass

from imdb_warehouse.resources.errors import WarehouseError

_SCALAR_TYPES: dict[type[pl.DataType], str] = {
    pl.Int8: "smallint",
    pl.Int16: "smallint",
    pl.Int32: "integer",
    pl.Int64: "bigint",
    pl.UInt8: "smallint",
    pl.UInt16: "integer",
    pl.UInt32: "bigint",
    pl.UInt64: "numeric(20,0)",
    pl.Float32: "real",
    pl.Float64: "double precision",
    pl.Boolean: "boolean",
    pl.String: "text",
    pl.Categorical: "text",
    pl.Enum: "text",
    pl.Date: "date",
    pl.Time: "time without time zone",
    pl.Binary: "bytea",
}

# What a table created outside this IO manager reads back as, by Postgres type.
_POLARS_BY_POSTGRES: dict[str, pl.DataType] = {
    "smallint": pl.Int16(),
    "integer": pl.Int32(),
    "bigint": pl.Int64(),
    "real": pl.Float32(),
    "double precision": pl.Float64(),
    "boolean": pl.Boolean(),
    "text": pl.String(),
    "character varying": pl.String(),
    "date": pl.Date(),
    "time without time zone": pl.Time(),
    "timestamp without time zone": pl.Datetime("us"),
    "timestamp with time zone": pl.Datetime("us", "UTC"),
    "bytea": pl.Binary(),
    "numeric": pl.Float64(),
}


class UnsupportedTypeError(WarehouseError):
    pass


def _is_json(dtype: pl.DataType) -> bool:
    return isinstance(dtype, pl.Struct | pl.Array) or (
        isinstance(dtype, pl.List) and dtype.inner.is_nested()
    )


def _instance(dtype: pl.DataType | DataTypeClass) -> pl.DataType:
    """`dtype` itself, or an instance of a bare class (the inner type of pl.List(pl.String))."""
    return dtype if isinstance(dtype, pl.DataType) else cast(pl.DataType, dtype())


def postgres_type(given: pl.DataType | DataTypeClass) -> str:
    """The Postgres column type that stores `given`."""
    dtype = _instance(given)
    if _is_json(dtype):
        return "jsonb"
    if isinstance(dtype, pl.List):
        return postgres_type(dtype.inner) + "[]"
    if isinstance(dtype, pl.Datetime):
        if dtype.time_unit == "ns":
            raise UnsupportedTypeError(
                "Datetime with nanoseconds is finer than Postgres timestamps (microseconds): "
                "cast the column to Datetime('us') before returning the frame"
            )
        zone = "with" if dtype.time_zone else "without"
        return f"timestamp {zone} time zone"
    if isinstance(dtype, pl.Decimal):
        return f"numeric({dtype.precision},{dtype.scale})" if dtype.precision else "numeric"
    for polars_type, name in _SCALAR_TYPES.items():
        if isinstance(dtype, polars_type):
            return name
    raise UnsupportedTypeError(f"Polars type {dtype} has no Postgres column type here")


def polars_type_of_postgres(pg_type: str) -> pl.DataType:
    """The dtype a column of a table the IO manager did not create loads as."""
    base = pg_type.split("(")[0]
    if base.endswith("[]"):
        return pl.List(polars_type_of_postgres(base[:-2]))
    if base in ("json", "jsonb"):
        return pl.String()
    return _POLARS_BY_POSTGRES.get(base, pl.String())


def _text(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """A scalar as Postgres reads it in a COPY CSV field or an array element."""
    if isinstance(dtype, pl.Datetime):
        fmt = "%Y-%m-%dT%H:%M:%S%.6f" + ("%:z" if dtype.time_zone else "")
        return expr.dt.to_string(fmt)
    if isinstance(dtype, pl.Binary):
        return pl.lit("\\x") + expr.bin.encode("hex")
    return expr.cast(pl.String)


def _array_literal(expr: pl.Expr, inner: pl.DataType | DataTypeClass) -> pl.Expr:
    element = _text(pl.element(), _instance(inner)).str.replace_all("\\", "\\\\", literal=True)
    quoted = pl.lit('"') + element.str.replace_all('"', '\\"', literal=True) + pl.lit('"')
    items = expr.list.eval(
        pl.when(pl.element().is_null()).then(pl.lit("NULL")).otherwise(quoted)
    ).list.join(",")
    return pl.lit("{") + items + pl.lit("}")


def _json_text(expr: pl.Expr) -> pl.Expr:
    # Polars encodes structs only: wrap the value as {"v": …} and cut the wrapper off again.
    wrapped = pl.struct(expr.alias("v")).struct.json_encode()
    return (
        pl.when(expr.is_null())
        .then(None)
        .otherwise(wrapped.str.slice(5, wrapped.str.len_chars() - 6))
    )


def copy_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with every column that COPY CSV cannot read as it is turned into Postgres text."""
    conversions = []
    for name, dtype in frame.schema.items():
        column = pl.col(name)
        if _is_json(dtype):
            conversions.append(_json_text(column).alias(name))
        elif isinstance(dtype, pl.List):
            conversions.append(_array_literal(column, dtype.inner).alias(name))
        elif isinstance(dtype, pl.Binary):
            conversions.append(_text(column, dtype).alias(name))
    return frame.with_columns(conversions) if conversions else frame


def select_cast(pg_type: str) -> str:
    """The cast a column is selected with so that ADBC hands over a type Polars can cast from."""
    if pg_type.startswith("numeric"):
        return "text[]" if pg_type.endswith("[]") else "text"
    if pg_type in ("jsonb", "json"):
        return "text"
    return ""


def restore_dtypes(frame: pl.DataFrame, schema: pl.Schema) -> pl.DataFrame:
    """Cast a frame read from Postgres back to the Polars `schema` it was written with."""
    casts = []
    for name, dtype in schema.items():
        if frame.schema[name] == dtype:
            continue
        column = pl.col(name)
        casts.append(
            (column.str.json_decode(dtype) if _is_json(dtype) else column.cast(dtype)).alias(name)
        )
    return frame.with_columns(casts) if casts else frame
