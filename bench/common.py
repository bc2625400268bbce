from dataclasses import dataclass

from imdb_warehouse.resources.postgres import temporary_database


@dataclass(frozen=True)
class Figure:
    metric: str
    value: float
    unit: str
    goal: str = ""
    met: bool | None = None


def scratch_database(admin_url: str):
    """A database of the bench's own, dropped when done."""
    return temporary_database(admin_url, prefix="imdbw_bench")
