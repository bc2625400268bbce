"""The process of a run killed with SIGKILL in the middle of a load leaves every table as it
was, and two runs materializing one partition at once leave one copy of it. Real Dagster runs
(`materialize`) in processes of their own, real Postgres."""

import os
import signal
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.slow  # runs killed mid-load

WRITER = """
import sys
import dagster as dg
import polars as pl
from imdb_warehouse.resources import PostgresPolarsIOManager, PostgresResource

url, mode, partition, rows, version = sys.argv[1:6]
rows, version = int(rows), int(version)
metadata = {"partition_expr": "genre", "primary_key": ["genre", "id"]}
if mode == "upsert":
    metadata |= {"write_mode": "upsert"}

@dg.asset(key=["staging", "crash"], partitions_def=dg.StaticPartitionsDefinition(["a", "b"]),
          metadata=metadata)
def crash(context: dg.AssetExecutionContext) -> pl.DataFrame:
    frame = pl.DataFrame({"genre": [context.partition_key] * rows,
                          "id": pl.int_range(rows, eager=True)})
    return frame.with_columns(
        note=pl.format("row {} of version {}", "id", pl.lit(version)), version=pl.lit(version)
    )

io_manager = PostgresPolarsIOManager(postgres=PostgresResource(database_url=url))
result = dg.materialize([crash], partition_key=partition, resources={"io_manager": io_manager})
print("committed" if result.success else "failed", flush=True)
sys.exit(0 if result.success else 1)
"""


def _writer(url: str, mode: str, partition: str, rows: int, version: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, url, mode, partition, str(rows), str(version)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _state(sql) -> list[tuple]:
    return sql(
        "SELECT genre, count(*), sum(version), md5(string_agg(note, ',' ORDER BY id)) "
        "FROM staging.crash GROUP BY genre ORDER BY genre"
    )


def _backend_of(sql, statement: str, seconds: float = 60) -> int:
    """The pid of the server backend running `statement…` for the writer, once it runs."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        rows = sql(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'imdb_warehouse' "
            "AND state = 'active' AND query LIKE %s",
            (statement + "%",),
        )
        if rows:
            return rows[0][0]
        time.sleep(0.05)
    raise AssertionError(f"no backend ran {statement} within {seconds} s")


def _gone(sql, backend: int, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while sql("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (backend,)):
        assert time.monotonic() < deadline, "the killed writer's transaction is still open"
        time.sleep(0.1)


@pytest.mark.parametrize(
    ("mode", "statement"),
    [("replace", "COPY"), ("upsert", "INSERT INTO")],
    ids=["in-the-middle-of-COPY", "in-the-middle-of-an-upsert"],
)
def test_a_run_killed_mid_load_leaves_the_table_as_it_was(database_url, sql, mode, statement):
    for partition, rows in (("a", 50_000), ("b", 1_000)):
        writer = _writer(database_url, mode, partition, rows, 1)
        assert writer.wait(timeout=120) == 0, writer.stderr.read()
    before = _state(sql)

    writer = _writer(database_url, mode, "a", 600_000, 2)
    backend = _backend_of(sql, statement)
    time.sleep(0.3)  # well inside the statement
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    _gone(sql, backend)
    assert _state(sql) == before
    assert sql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'") == [(0,)]

    again = _writer(database_url, mode, "a", 60_000, 3)  # the re-run succeeds
    assert again.wait(timeout=300) == 0, again.stderr.read()
    after = dict((genre, (n, total)) for genre, n, total, _ in _state(sql))
    assert after["a"] == (60_000, 3 * 60_000) and after["b"] == (1_000, 1_000)


def test_two_runs_materializing_one_partition_at_once_leave_one_copy(database_url, sql):
    first = _writer(database_url, "replace", "a", 40_000, 1)
    assert first.wait(timeout=120) == 0, first.stderr.read()
    writers = [_writer(database_url, "replace", "a", 200_000, version) for version in (2, 3)]
    assert [w.wait(timeout=300) for w in writers] == [0, 0]
    [(genre, rows, total, _)] = _state(sql)
    assert (genre, rows) == ("a", 200_000)
    assert total in (2 * 200_000, 3 * 200_000)  # one writer's rows, whole
