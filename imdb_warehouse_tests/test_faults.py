"""A whole daily refresh through a mix of faults at a rate: every partition ends loaded exactly
once or failed with a message naming the cause, never partial; once the faults clear, running
the day again completes it."""

import dagster as dg
import pytest
from psycopg import sql as pgsql

from imdb_warehouse.assets import analytics, raw, staging, warehouse
from imdb_warehouse.replay.server import ReplayServer
from imdb_warehouse_tests.helpers import (
    REPLAY_DAY,
    materialize_day,
    pipeline_resources,
    replay_client,
)

DAY = REPLAY_DAY
GENRES = ["drama", "family", "fantasy"]  # a range of the genre partitions
ASSETS = dg.load_assets_from_modules([raw, staging, warehouse, analytics])
one_backend = pytest.mark.parametrize("backend_url", ["embedded"], indirect=True)


@pytest.fixture(scope="module")
def replay_seed() -> int:
    return 3


PASSING = {
    # a GraphQL day is a few requests: each fault strikes at most once, somewhere
    "graphql": [
        "503:rate=0.5,times=1", "429:rate=0.5,times=1,seconds=0", "504:rate=0.5,times=1",
        "rate-exceeded:rate=0.5,times=1", "partial:rate=0.5,times=1",
        "truncated:rate=0.5,times=1", "slow:rate=0.5,times=1,seconds=2",
    ],
    "html": [
        "503:rate=0.2", "429:rate=0.2,seconds=0", "truncated:rate=0.1", "slow:rate=0.05,seconds=2",
    ],
}  # fmt: skip
LASTING = {
    "graphql": ["rate-exceeded:rate=0.3", "503:rate=0.3", "drift:path=/graphql/TitleDetails"],
    "html": ["challenge:rate=0.3", "503:rate=0.2", "layout:path=/title/,rate=0.2"],
}
CAUSES = ("bot challenge", "HTTP 503", "__NEXT_DATA__", "Rate exceeded", "Cannot query field")


def _resources(database_url: str, replay: ReplayServer, tmp_path, source: str) -> dict:
    imdb = replay_client(replay, DAY, source, max_retries=8, read_timeout_seconds=1)
    return pipeline_resources(database_url, imdb, tmp_path / "archive")


def _refresh(resources: dict) -> list[dg.ExecuteInProcessResult]:
    """The day's run, as the schedule makes it."""
    return [materialize_day(resources, DAY, GENRES, raise_on_error=False)]


def _each_list_whole_or_absent(sql) -> dict[str, int]:
    """Rows per genre in staging and the fact; each list is all there, once, or not at all."""
    lists = {}
    for table in ("staging.movie_rankings", "warehouse.fact_movie_ranking"):
        if not sql("SELECT to_regclass(%s)", (table,))[0][0]:
            continue
        query = pgsql.SQL(
            "SELECT genre, count(*), count(DISTINCT rank), max(rank) FROM {} GROUP BY 1"
        )
        for genre, rows, ranks, last in sql(query.format(pgsql.Identifier(*table.split(".")))):
            assert rows == ranks == last == 50, f"{table} {genre}: {rows} rows"
            lists[f"{table}:{genre}"] = rows
    return lists


def _failure(results) -> str:
    return "\n".join(
        event.step_failure_data.error.message
        for result in results
        for event in result.all_events
        if event.is_step_failure
    )


@one_backend
@pytest.mark.parametrize("source", ["graphql", "html"])
def test_passing_faults_at_a_rate_are_retried_and_the_day_lands_once(
    database_url, sql, own_replay, tmp_path, source
):
    own_replay.set_faults(PASSING[source])
    results = _refresh(_resources(database_url, own_replay, tmp_path, source))
    assert [r.success for r in results] == [True], _failure(results)
    faults = [r.fault for r in own_replay.requests if r.fault]
    assert len({str(f).split(":")[0] for f in faults}) >= 3, faults  # the mix did happen
    lists = _each_list_whole_or_absent(sql)
    assert len(lists) == 2 * len(GENRES)
    ranked = sql("SELECT count(DISTINCT title_id) FROM staging.movie_rankings")[0][0]
    assert sql("SELECT count(*) FROM raw.imdb_title_pages") == [(ranked,)]


@one_backend
@pytest.mark.parametrize("source", ["graphql", "html"])
def test_lasting_faults_fail_naming_the_cause_and_a_rerun_completes_the_day(
    database_url, sql, own_replay, tmp_path, source
):
    resources = _resources(database_url, own_replay, tmp_path, source)
    own_replay.set_faults(LASTING[source])
    results = _refresh(resources)
    assert not results[-1].success
    message = _failure(results)
    assert any(cause in message for cause in CAUSES), message
    assert any(where in message for where in (" list of ", "details of ", "title page ")), message
    _each_list_whole_or_absent(sql)  # nothing partial

    own_replay.set_faults([])
    results = _refresh(resources)
    assert all(r.success for r in results), _failure(results)
    assert len(_each_list_whole_or_absent(sql)) == 2 * len(GENRES)
    assert sql(
        "SELECT count(*) = count(DISTINCT (snapshot_date, title_id)) FROM raw.imdb_title_pages"
    ) == [(True,)]
