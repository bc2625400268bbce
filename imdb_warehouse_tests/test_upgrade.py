"""An installation of the version before the day × genre partitions (commit 4dfcbec, day
partitions) upgrades without losing anything: a week built by that version's own CLI keeps
every row; after the upgrade `refresh` adds today, and `rebuild` brings the old days into the
new partitions (docs/operations.md, "Upgrading to the genre partitions")."""

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
import urllib.request
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import psycopg
import pytest
from psycopg import sql

from imdb_warehouse import tables
from imdb_warehouse.partitions import (
    DAYS_PER_RUN,
    GENRES,
    RANGE_START,
    day_genre_partitions,
    partition_key,
)
from imdb_warehouse_tests.helpers import free_port

pytestmark = pytest.mark.slow  # a week built by the old version, then today and a rebuild

PROJECT = Path(__file__).resolve().parents[1]
CLI = str(Path(sys.executable).parent / "imdb-warehouse")
OLD_COMMIT = "4dfcbec"  # the last commit with day partitions: the code as users installed it
DAYS = [date(2025, 3, 1) + timedelta(days=n) for n in range(8)]
OLD_DAYS, TODAY = DAYS[:7], DAYS[7]
SCHEMAS = ("raw", "staging", "warehouse")
LISTED_IN = "listed_in"  # the column the genre partitions add to the tables of a movie's rows
CHART_STATS = "warehouse.fact_chart_stats"  # the one table added since the old version
one_backend = pytest.mark.parametrize("backend_url", ["embedded"], indirect=True)


@pytest.fixture(scope="module")
def old_code(tmp_path_factory) -> Path:
    """The package as it was at OLD_COMMIT, extracted from the repository's history."""
    found = subprocess.run(
        ["git", "-C", str(PROJECT), "rev-parse", "--verify", "--quiet", f"{OLD_COMMIT}^{{commit}}"],
        capture_output=True, text=True,
    )  # fmt: skip
    if found.returncode != 0:
        pytest.fail(
            f"commit {OLD_COMMIT} (the version before the genre partitions) is not in the "
            f"history of {PROJECT}: run the tests in a clone with full history",
            pytrace=False,
        )
    tree = tmp_path_factory.mktemp("old_code")
    archive = subprocess.run(
        ["git", "-C", str(PROJECT), "archive", "--format=tar", OLD_COMMIT],
        capture_output=True, check=True,
    )  # fmt: skip
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(tree, filter="data")
    return tree


def old_environment(old_code: Path) -> dict[str, str]:
    """This environment, with the old version's package imported from its tree: PYTHONPATH
    comes before the editable install's finder (and the working directory must be the old
    tree, which `python -m` puts first)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IMDB_", "DAGSTER_", "AWS_"))}
    return env | {"PYTHONPATH": str(old_code)}


class OldReplay:
    """The old version's offline IMDb (`imdb-warehouse replay`), in a process of its own, whose
    day is set through its control endpoint. The old one, because the current replay refuses
    the old details query's `$ids: [ID]!` (the schema subset became strict, as IMDb may be),
    while the old one answers both versions' queries; the catalogue it serves (catalogue.py,
    replay/graphql.py) is the same in both versions, so all eight days come from one IMDb."""

    def __init__(self, old_code: Path):
        self.url = f"http://127.0.0.1:{free_port()}"
        port = self.url.rsplit(":", 1)[1]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "imdb_warehouse.cli", "replay", "--port", port],
            env=old_environment(old_code), cwd=old_code,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.startswith("replay: serving IMDb"):
            self.stop()
            pytest.fail(f"the old version's replay did not start: {line}")

    def set_day(self, day: date) -> None:
        request = urllib.request.Request(
            f"{self.url}/__replay__/day", data=json.dumps(day.isoformat()).encode(), method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert json.load(answer) == {"day": day.isoformat()}

    def environment(self) -> dict[str, str]:
        return {
            "IMDB_BASE_URL": self.url,
            "IMDB_GRAPHQL_URL": f"{self.url}/",
            "IMDB_MIN_INTERVAL_SECONDS": "0",
        }

    def stop(self) -> None:
        self.process.terminate()
        self.process.communicate(timeout=30)


@pytest.fixture(scope="module")
def old_replay(old_code: Path):
    replay = OldReplay(old_code)
    yield replay
    replay.stop()


class Installation:
    """One user's installation: its home (archive, logs), warehouse and Dagster instance, run
    by either version of the code against the offline IMDb."""

    def __init__(self, home: Path, database_url: str, replay: OldReplay, old_code: Path):
        self.home, self.dagster_home = home, home / "dagster"
        self.database_url, self.replay, self.old_code = database_url, replay, old_code
        self.dagster_home.mkdir(parents=True)
        shutil.copy(old_code / "dev" / "dagster.yaml", self.dagster_home / "dagster.yaml")

    def environment(self, today: date, old: bool) -> dict[str, str]:
        env = (
            old_environment(self.old_code)
            if old
            else {
                k: v
                for k, v in os.environ.items()
                if not k.startswith(("IMDB_", "DAGSTER_", "AWS_"))
            }
        )
        return env | {
            "IMDB_WAREHOUSE_HOME": str(self.home),
            "DAGSTER_HOME": str(self.dagster_home),
            "IMDB_WAREHOUSE_DATABASE_URL": self.database_url,
            **self.replay.environment(),
            "IMDB_WAREHOUSE_TODAY": today.isoformat(),
        }

    def python(self, today: date, old: bool, *args: str) -> str:
        """`python *args` with either version's package (from the old tree, whose folder is
        also the working directory, or the installed one), today being `today`."""
        done = subprocess.run(
            [sys.executable, *args],
            env=self.environment(today, old),
            cwd=self.old_code if old else self.home,
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        return done.stdout

    def old_cli(self, today: date, *args: str) -> str:
        self.replay.set_day(today)
        return self.python(today, True, "-m", "imdb_warehouse.cli", *args)

    def new_cli(self, today: date, *args: str) -> str:
        self.replay.set_day(today)
        done = subprocess.run(
            [CLI, *args], env=self.environment(today, False), cwd=self.home,
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        return done.stdout


# What the old version's Dagster instance says of its day partitions, asked as its UI does
# (which also leaves the asset status cache an old installation has).
OLD_STATUS = """
import json, dagster as dg
from imdb_warehouse import tables
from imdb_warehouse.partitions import day_partitions
with dg.DagsterInstance.get() as instance:
    days = instance.get_dynamic_partitions("days")
    print(json.dumps({
        t.table_name: {k: str(v) for k, v in instance.get_status_by_partition(
            t.key, days, day_partitions).items()}
        for t in tables.TABLES if t.partitioned
    }))
"""


@one_backend
def test_a_week_built_by_the_old_version_keeps_every_row_and_joins_the_genre_partitions(
    database_url, old_replay, old_code, tmp_path
):
    installation = Installation(tmp_path / "home", database_url, old_replay, old_code)
    imported = installation.python(
        OLD_DAYS[0], True, "-c", "import imdb_warehouse; print(imdb_warehouse.__file__)"
    )
    assert Path(imported.strip()) == old_code / "imdb_warehouse" / "__init__.py"

    started = time.monotonic()
    for day in OLD_DAYS:  # a week of daily refreshes, as the old version's `make run` made them
        out = installation.old_cli(day, "refresh")
        assert f"refresh: {day}, genres all" in out and "refresh_day: succeeded" in out, out
    old_week = time.monotonic() - started
    old_status = json.loads(installation.python(OLD_DAYS[-1], True, "-c", OLD_STATUS))
    assert old_status and all(
        statuses == {day.isoformat(): "AssetPartitionStatus.MATERIALIZED" for day in OLD_DAYS}
        for statuses in old_status.values()
    ), old_status
    before = snapshot(database_url)
    assert sorted(before) == sorted(
        t.table_name for t in tables.TABLES if t.table_name != CHART_STATS
    )
    added = _added_columns(before)  # listed_in, and columns other changes added since
    assert {name for name, columns in added.items() if LISTED_IN in columns} == set(LISTED_TABLES)

    started = time.monotonic()
    out = installation.new_cli(TODAY, "refresh")  # the upgrade's first day
    assert f"refresh: {TODAY}, genres all" in out and "refresh_day: succeeded" in out, out
    refresh = time.monotonic() - started
    upgraded = snapshot(database_url)
    _every_row_kept(before, upgraded)
    for name, columns in added.items():  # the old days' rows wait for the rebuild
        rows, day = upgraded[name].dicts(), _day_column(name)
        old_days = [row for row in rows if row[day] != str(TODAY)]
        assert old_days and all(row[c] is None for row in old_days for c in columns), name
        if LISTED_IN in columns:
            assert all(row[LISTED_IN] for row in rows if row[day] == str(TODAY)), name
    _chart_stats_of_every_day(upgraded)  # its first update computes the whole history
    grid = _genre_grid(installation.dagster_home)
    assert grid == {table: set(_keys([TODAY])) for table in grid}  # the old days: not yet

    started = time.monotonic()
    out = installation.new_cli(
        TODAY, "rebuild", "--from", f"{OLD_DAYS[0]}", "--to", f"{OLD_DAYS[-1]}"
    )
    assert f"rebuild: {OLD_DAYS[0]} to {OLD_DAYS[-1]} from the archive" in out, out
    rebuild = time.monotonic() - started
    after = snapshot(database_url)
    print(f"\nupgrade: old week {old_week:.0f} s, refresh {refresh:.0f} s, rebuild {rebuild:.0f} s")

    _every_row_kept(before, after)
    for name, table in after.items():  # the rebuild changed nothing but the lists
        columns = before[name].columns if name in before else None
        assert table.rows(columns) == upgraded[name].rows(columns), name
    _listed_in_is_every_list_of_the_day(after)
    grid = _genre_grid(installation.dagster_home)
    assert grid == {table: set(_keys(DAYS)) for table in grid}
    with dg.DagsterInstance.from_config(str(installation.dagster_home)) as instance:
        assert instance.get_dynamic_partitions("days") == [day.isoformat() for day in DAYS]
        runs = instance.get_runs(filters=dg.RunsFilter(job_name="refresh_day"))
    assert all(run.is_success for run in runs)
    assert [(run.tags.get(RANGE_START), run.tags.get("dagster/partition")) for run in runs] == [
        (partition_key(OLD_DAYS[DAYS_PER_RUN], GENRES[0]), None),  # the rebuild: runs of 5 days
        (partition_key(OLD_DAYS[0], GENRES[0]), None),
        (partition_key(TODAY, GENRES[0]), None),
        *((None, day.isoformat()) for day in reversed(OLD_DAYS)),  # the old version's runs
    ]


LISTED_TABLES = [
    "raw.imdb_title_pages",
    "staging.title_details",
    "warehouse.dim_movie",
    "warehouse.dim_person",
    "warehouse.bridge_movie_person",
    "warehouse.bridge_movie_genre",
    "warehouse.fact_box_office",
]


def _day_column(name: str) -> str:
    [declared] = [table for table in tables.TABLES if table.table_name == name]
    return declared.day_column


def _added_columns(before: dict[str, "Rows"]) -> dict[str, list[str]]:
    """The columns the tables' declarations have and the old version's tables lack."""
    added = {
        table.table_name: [c for c in table.columns if c not in before[table.table_name].columns]
        for table in tables.TABLES
        if table.table_name in before
    }
    return {name: columns for name, columns in added.items() if columns}


def _every_row_kept(before: dict[str, "Rows"], now: dict[str, "Rows"]) -> None:
    """Every table as the old version left it (no column dropped, the new ones added), with
    today's rows added."""
    assert sorted(now) == sorted([*before, CHART_STATS])
    added = _added_columns(before)
    for name in before:
        assert sorted(now[name].columns) == sorted(before[name].columns + added.get(name, [])), name
    for declared in tables.TABLES:
        name = declared.table_name
        if name == CHART_STATS:
            continue
        if not declared.partitioned:  # the calendar dimensions: as they were
            assert now[name].rows() == before[name].rows(), name
        elif declared.day_column == "snapshot_date":
            _same_old_days_and_today(name, before[name], now[name])
        else:
            _same_dimension_rows(name, declared, before[name], now[name])


def _same_old_days_and_today(name: str, before: "Rows", after: "Rows") -> None:
    """A table of the day's rows: the old days' rows as they were, and today's added."""
    days = {day.isoformat() for day in DAYS}
    assert set(before.values("snapshot_date")) == days - {TODAY.isoformat()}, name
    assert set(after.values("snapshot_date")) == days, name
    old_rows = after.rows(before.columns, where=lambda row: row["snapshot_date"] != str(TODAY))
    assert old_rows == before.rows(), f"{name}: the old days' rows changed"


def _same_dimension_rows(name: str, declared, before: "Rows", after: "Rows") -> None:
    """A dimension or bridge (upserted by the day last seen): every row is still there; a row
    today did not see is as it was; one it saw moves its last day to today, never its first."""
    key = list(declared.storage.primary_key)
    was = before.by(key)
    now = after.by(key, before.columns)
    assert set(was) <= set(now), f"{name}: rows lost"
    assert {row["last_seen_date"] for row in was.values()} <= {d.isoformat() for d in OLD_DAYS}
    assert max(row["last_seen_date"] for row in now.values()) == str(TODAY), name
    for k, row in now.items():
        if row["last_seen_date"] != str(TODAY):
            assert row == was[k], f"{name}: {k} changed"
        elif k in was and "first_seen_date" in row:
            assert row["first_seen_date"] == was[k]["first_seen_date"], f"{name}: {k}"
    assert set(now) - set(was) and set(now) & set(was), name  # today brought new rows and old
    if "first_seen_date" in before.columns:
        assert min(row["first_seen_date"] for row in now.values()) == str(OLD_DAYS[0]), name


def _chart_stats_of_every_day(now: dict[str, "Rows"]) -> None:
    """The chart statistics the old version lacked: one row for each movie on each list of
    each day, the old days' included."""
    lists = Counter(
        (row["snapshot_date"], row["genre"], int(row["title_id"][2:]))
        for row in now["staging.movie_rankings"].dicts()
    )
    held = Counter(
        (row["snapshot_date"], row["genre"], int(row["movie_key"]))
        for row in now[CHART_STATS].dicts()
    )
    assert set(now[CHART_STATS].values("snapshot_date")) == {day.isoformat() for day in DAYS}
    assert held == lists


def _listed_in_is_every_list_of_the_day(after: dict[str, "Rows"]) -> None:
    """Every row of a movie now names the lists that held the movie on the row's day (the old
    days' rows too, filled by the rebuild); a person's row, the lists of their movies."""
    lists: dict[tuple[str, int], set[str]] = {}
    for row in after["staging.movie_rankings"].dicts():
        lists.setdefault((row["snapshot_date"], int(row["title_id"][2:])), set()).add(row["genre"])

    def movie(row: dict) -> int:
        return int(row["movie_key"] if "movie_key" in row else row["title_id"][2:])

    people: dict[tuple[str, str], set[str]] = {}
    for name in [n for n in LISTED_TABLES if n != "warehouse.dim_person"]:
        rows, day_column = after[name].dicts(), _day_column(name)
        wrong = [row for row in rows if _genres(row) != lists[(row[day_column], movie(row))]]
        assert rows and not wrong, f"{name}: {len(wrong)} rows, e.g. {wrong[:1]}"
        if name == "warehouse.bridge_movie_person":
            for row in rows:
                person = (row["last_seen_date"], row["person_key"])
                people.setdefault(person, set()).update(_genres(row))
    persons = after["warehouse.dim_person"].dicts()
    wrong = [p for p in persons if _genres(p) != people[(p["last_seen_date"], p["person_key"])]]
    assert persons and not wrong, f"dim_person: {len(wrong)} rows, e.g. {wrong[:1]}"
    assert {d for d, _ in people} == {d.isoformat() for d in DAYS}


def _genres(row: dict) -> set[str]:
    listed = row[LISTED_IN]
    assert listed and listed.startswith("{") and listed != "{}", row
    genres = listed.strip("{}").split(",")
    assert set(genres) <= set(GENRES), row
    return set(genres)


def _keys(days: list[date]) -> list[str]:
    return [partition_key(day, genre) for day in days for genre in GENRES]


def _genre_grid(dagster_home: Path) -> dict[str, set[str]]:
    """The UI's grid: the (day, genre) partitions of the eight days that each table of a day
    shows materialized."""
    keys = _keys(DAYS)
    assert f"{DAYS[0]}|{GENRES[0]}" in keys
    grid = {}
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        for declared in tables.TABLES:
            if declared.partitioned:
                statuses = instance.get_status_by_partition(
                    declared.key, keys, day_genre_partitions
                )
                assert statuses is not None, declared.table_name
                grid[declared.table_name] = {
                    k for k in keys if statuses[k] == dg.AssetPartitionStatus.MATERIALIZED
                }
    assert len(grid) == len([table for table in tables.TABLES if table.partitioned])
    return grid


class Rows:
    """A table's rows, every column as Postgres writes it as text (null: None)."""

    def __init__(self, columns: list[str], rows: list[tuple]):
        self.columns, self._rows = columns, rows

    def dicts(self) -> list[dict]:
        return [dict(zip(self.columns, row, strict=True)) for row in self._rows]

    def values(self, column: str) -> list:
        index = self.columns.index(column)
        return [row[index] for row in self._rows]

    def rows(self, columns: list[str] | None = None, where=lambda row: True) -> Counter:
        """The rows (a multiset) of `columns` (all), those `where` keeps."""
        columns = columns or self.columns
        return Counter(tuple(row[c] for c in columns) for row in self.dicts() if where(row))

    def by(self, key: list[str], columns: list[str] | None = None) -> dict[tuple, dict]:
        found = {tuple(r[c] for c in key): r for r in self.dicts()}
        assert len(found) == len(self._rows), f"duplicate keys {key}"
        return {k: {c: r[c] for c in columns or self.columns} for k, r in found.items()}


def snapshot(database_url: str) -> dict[str, Rows]:
    """Every table of the raw, staging and warehouse schemas: all its rows, all its columns."""
    found = {}
    with psycopg.connect(database_url) as conn:
        names = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema = ANY(%s) AND table_type = 'BASE TABLE'",
            [list(SCHEMAS)],
        ).fetchall()
        for schema, name in names:
            columns = [
                column
                for (column,) in conn.execute(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
                    [schema, name],
                )
            ]
            query = sql.SQL("SELECT {} FROM {}").format(
                sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(c)) for c in columns),
                sql.Identifier(schema, name),
            )
            found[f"{schema}.{name}"] = Rows(columns, conn.execute(query).fetchall())
    return found
