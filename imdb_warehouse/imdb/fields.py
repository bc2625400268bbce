"""Reading values out of IMDb's JSON (page data or GraphQL answers) by path.

Missing values are often absent keys rather than nulls: absent means null here, never 0 or "".
A value of the wrong type, or a required one that is missing, is a change of IMDb's format and
raises `LayoutChangeError` naming the path.
"""

from datetime import date
from typing import Any, TypeGuard


class LayoutChangeError(ValueError):
    """IMDb's answer is not shaped like the answers this project knows."""


class IgnoredFilterError(ValueError):
    """IMDb answered a search without applying a filter that was asked for."""


def lookup(obj: Any, path: tuple[str, ...]) -> tuple[bool, Any]:
    for key in path:
        if not isinstance(obj, dict) or key not in obj:
            return False, None
        obj = obj[key]
    return True, obj


def _type_name(types: type | tuple[type, ...]) -> str:
    names = [t.__name__ for t in (types if isinstance(types, tuple) else (types,))]
    return " or ".join(
        {"str": "string", "dict": "object", "list": "array"}.get(n, n) for n in names
    )


def required(obj: Any, path: tuple[str, ...], types, where: str | tuple[str, ...] = "") -> Any:
    where = ".".join(where) if isinstance(where, tuple) else where
    name = ".".join(p for p in (where, *path) if p)
    found, value = lookup(obj, path)
    if not found or value is None:
        raise LayoutChangeError(f"{name} is missing")
    if isinstance(value, bool) or not isinstance(value, types):
        raise LayoutChangeError(f"{name} is {type(value).__name__}, expected {_type_name(types)}")
    return value


def optional(obj: Any, path: tuple[str, ...], types, where: str) -> Any:
    found, value = lookup(obj, path)
    if not found or value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, types):
        name = ".".join(p for p in (where, *path) if p)
        raise LayoutChangeError(f"{name} is {type(value).__name__}, expected {_type_name(types)}")
    return value


def votes(rating: float | None, count: int | None) -> int | None:
    """The votes of a rating: null for an unrated title (IMDb sends 0 votes with no rating),
    as every missing value is null."""
    return None if rating is None and not count else count


def whole(value: int | float | None, where: str) -> int | None:
    """A whole number that may arrive as a float (GraphQL's Float: `63000000.0`)."""
    if value is None or isinstance(value, int):
        return value
    if not value.is_integer():
        raise LayoutChangeError(f"{where} is {value!r}, expected a whole number")
    return int(value)


def strings(values: list | None, where: str) -> list[str]:
    if values is None:
        return []
    if not all(isinstance(v, str) for v in values):
        raise LayoutChangeError(f"{where} holds a value that is not a string")
    return values


def texts(obj: dict, path: tuple[str, ...], where: str) -> list[str] | None:
    values = optional(obj, path, list, where)
    if values is None:
        return None
    return [required(v, ("text",), str, f"{where}.{'.'.join(path)}") for v in values]


def _whole(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def to_date(parts: dict | None) -> date | None:
    """A {year, month, day} object as a date; a partial date (a year, a month) is None."""
    if not parts:
        return None
    year, month, day = parts.get("year"), parts.get("month"), parts.get("day")
    if not (_whole(year) and _whole(month) and _whole(day)):
        return None
    try:
        return date(year, month, day)
    except ValueError:
        raise LayoutChangeError(f"release date {year}-{month}-{day} is not a date") from None


def iso_date(value: str | None, where: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise LayoutChangeError(f"{where} is {value!r}, expected YYYY-MM-DD") from None


def minutes(seconds: int | None) -> int | None:
    return None if seconds is None else round(seconds / 60)
