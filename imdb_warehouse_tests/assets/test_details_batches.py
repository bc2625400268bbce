"""A details batch that IMDb fails in a way a smaller one may get through (HTTP 504, a timeout…)
is split in half down to single titles: real Dagster runs of a day against the replay over
HTTP, the request counts read from the replay's log, real Postgres."""

import subprocess
import sys
from datetime import date, timedelta
from math import ceil
from pathlib import Path

import dagster as dg
import pytest
from psycopg import sql as pgsql

from imdb_warehouse.assets.raw import FAILED_ALONE_IN_A_ROW, GRAPHQL_TITLES
from imdb_warehouse.imdb import graphql
from imdb_warehouse.replay.server import ReplayServer
from imdb_warehouse.resources.archive import PageArchive
from imdb_warehouse_tests.helpers import (
    REPLAY_DAY,
    materialize_day,
    pipeline_resources,
    replay_client,
)

DAY = REPLAY_DAY
GENRES = ["drama", "family", "fantasy"]  # ~150 titles: two batches of 100 and the rest
BATCH = 100
RETRIES = 2
one_backend = pytest.mark.parametrize("backend_url", ["embedded"], indirect=True)
pytestmark = one_backend
CLI = str(Path(sys.executable).parent / "imdb-warehouse")
DETAILS_TABLES = ("raw.imdb_title_pages", "staging.title_details")


def _resources(database_url, replay: ReplayServer, tmp_path, today: date = DAY, **client):
    settings = {"details_batch_size": BATCH, "max_retries": RETRIES, **client}
    imdb = replay_client(replay, today, **settings)
    return pipeline_resources(database_url, imdb, tmp_path / "archive")


def _asked(replay: ReplayServer, operation: str = "TitleDetails") -> int:
    return sum(1 for r in replay.requests if r.operation == operation)


def _failure(result: dg.ExecuteInProcessResult) -> str:
    return "\n".join(
        e.step_failure_data.error.message for e in result.all_events if e.is_step_failure
    )


def _plan(batch: list[str], name: str, fails, first: bool = True) -> list[tuple[str, int, bool]]:
    """The requests the halving makes for `batch` when `fails(batch)` says which fail: (the
    name archived, the tries it takes, whether it fails), in the order asked. The first ask of
    a batch gets the client's retries; its halves are asked once each."""
    if not fails(batch):
        return [(name, 1, False)]
    asked = [(name, 1 + RETRIES if first else 1, True)]
    if len(batch) > 1:
        half = ceil(len(batch) / 2)
        asked += _plan(batch[:half], name + "a", fails, first=False)
        asked += _plan(batch[half:], name + "b", fails, first=False)
    return asked


def _day_plan(title_ids: list[str], fails) -> list[tuple[str, int, bool]]:
    return [
        asked
        for index, batch in enumerate(graphql.batches(title_ids, BATCH))
        for asked in _plan(batch, f"batch-{index + 1:03d}", fails)
    ]


def _statuses(replay: ReplayServer) -> list[int]:
    return [r.status for r in replay.requests if r.operation == "TitleDetails"]


def _day_titles(sql) -> list[str]:
    """The day's listed titles in the order the details ask for them."""
    ranked = sql("SELECT title_id FROM staging.movie_rankings ORDER BY genre, rank")
    return list(dict.fromkeys(title_id for (title_id,) in ranked))


def _archived(tmp_path) -> list[str]:
    archive = PageArchive(root=str(tmp_path / "archive"))
    paths = archive.captures(GRAPHQL_TITLES, DAY)
    return sorted(archive.capture_name(path) for path in paths)


def _listed(replay: ReplayServer, genre: str) -> list[str]:
    """A genre's list of the day, as the replay answers it (its requests then forgotten)."""
    imdb = replay_client(replay, DAY)
    exchange = imdb.graphql(graphql.LIST_QUERY, graphql.list_variables(genre), "GenreList")
    replay.reset()
    return [title["id"] for title in graphql.genre_list(graphql.answer_data(exchange.body)).titles]


def _rebuilt_from_the_archive(database_url, replay, tmp_path, sql) -> list[tuple]:
    """Raw details of DAY as they stand, then as a rebuild of the day a day later makes them
    from the archive alone (it asserts that no request is made)."""
    rows = "SELECT * FROM raw.imdb_title_pages ORDER BY title_id"
    before = sql(rows)
    replay.reset()
    later = _resources(database_url, replay, tmp_path, today=DAY + timedelta(days=1))
    assert materialize_day(later, DAY, GENRES).success
    assert replay.requests == []
    assert sql(rows) == before
    return before


def test_a_day_under_504s_for_large_batches_completes_with_the_fewest_requests(
    database_url, sql, own_replay, tmp_path
):
    own_replay.set_faults(["batch-504:max=30"])
    result = materialize_day(_resources(database_url, own_replay, tmp_path), DAY, GENRES)
    assert result.success, _failure(result)

    titles = _day_titles(sql)
    plan = _day_plan(titles, lambda batch: len(batch) > 30)
    # 150-odd titles: 100 → 50 + 50 → 25 × 4, and the rest likewise
    assert [name for name, _, _ in plan][:7] == [
        "batch-001", "batch-001a", "batch-001aa", "batch-001ab", "batch-001b", "batch-001ba",
        "batch-001bb",
    ]  # fmt: skip
    assert _statuses(own_replay) == [
        status for _, tries, fails in plan for status in [504 if fails else 200] * tries
    ]
    assert _asked(own_replay, "GenreList") == len(GENRES)
    assert _archived(tmp_path) == sorted(name for name, _, _ in plan)  # each ask kept
    assert sql("SELECT count(*), bool_and(available) FROM raw.imdb_title_pages") == [
        (len(titles), True)
    ]
    assert sql("SELECT count(*) FROM staging.title_details") == [(len(titles),)]
    paths = sql("SELECT DISTINCT archive_path FROM raw.imdb_title_pages")
    assert all(".json.gz" in path and "batch-0" in path for (path,) in paths)
    _rebuilt_from_the_archive(database_url, own_replay, tmp_path, sql)


@pytest.mark.parametrize(
    ("fault", "cause", "status", "parsed"),
    [
        ("504", "HTTP 504", 504, "IMDb answered HTTP 504"),
        ("slow:seconds=1", "no answer within 0.5 s", None, "no answer came (no answer within"),
    ],
)
def test_a_title_that_fails_alone_is_recorded_with_its_cause_and_the_day_succeeds(
    database_url, sql, own_replay, tmp_path, fault, cause, status, parsed
):
    victim = _listed(own_replay, "family")[7]
    kind, _, options = fault.partition(":")
    spec = f"{kind}:path=/graphql/TitleDetails,id={victim}" + (f",{options}" if options else "")
    own_replay.set_faults([spec])
    resources = _resources(database_url, own_replay, tmp_path, read_timeout_seconds=0.5)
    result = materialize_day(resources, DAY, GENRES)
    assert result.success, _failure(result)

    plan = _day_plan(_day_titles(sql), lambda batch: victim in batch)
    assert _asked(own_replay) == sum(tries for _, tries, _ in plan)
    assert sql(
        "SELECT available, http_status, unavailable_cause, title_json FROM raw.imdb_title_pages "
        "WHERE title_id = %s",
        (victim,),
    ) == [(False, status, cause, None)]
    assert sql("SELECT count(*) FROM raw.imdb_title_pages WHERE NOT available") == [(1,)]
    assert sql("SELECT count(*) FROM staging.title_details WHERE title_id = %s", (victim,)) == [
        (0,)
    ]
    [warning] = [
        c for c in result.get_asset_check_evaluations() if c.check_name == "titles_available"
    ]
    assert not warning.passed and warning.severity == dg.AssetCheckSeverity.WARN
    shown = warning.metadata["unavailable_titles"].value
    assert f"| {victim} |" in shown and cause in shown, shown
    [(kept,)] = sql("SELECT archive_path FROM raw.imdb_title_pages WHERE title_id = %s", (victim,))
    read = subprocess.run([CLI, "parse", kept], capture_output=True, text=True, timeout=60)
    assert read.returncode == 1 and parsed in read.stderr, read.stderr
    _rebuilt_from_the_archive(database_url, own_replay, tmp_path, sql)


def _snapshot(sql) -> dict[str, list[tuple]]:
    """The details and warehouse tables, each row as text, in order."""
    tables = sql("SELECT tablename FROM pg_tables WHERE schemaname = 'warehouse' ORDER BY 1")
    names = [*(name.split(".") for name in DETAILS_TABLES), *(["warehouse", t] for (t,) in tables)]
    assert len(names) > 4
    query = pgsql.SQL("SELECT t::text FROM {} AS t ORDER BY 1")
    return {".".join(name): sql(query.format(pgsql.Identifier(*name))) for name in names}


def _every_other_third(listed: list[str]) -> list[str]:
    """Two titles of every three: most fail, never three in a row."""
    return [title_id for index, title_id in enumerate(listed) if index % 3 != 2]


@pytest.mark.parametrize(
    ("faults", "message"),
    [
        (
            lambda listed: [
                f"504:path=/graphql/TitleDetails,id={t}" for t in _every_other_third(listed)
            ],
            "34 of the day's 50 titles failed even asked alone (HTTP 504): IMDb is failing",
        ),
        (
            lambda listed: ["batch-504"],
            f"IMDb failed {FAILED_ALONE_IN_A_ROW} titles in a row even asked alone (HTTP 504)",
        ),
    ],
    ids=["most-titles-fail", "every-request-fails"],
)
def test_the_day_fails_when_most_titles_fail_and_leaves_the_warehouse_as_it_was(
    database_url, sql, own_replay, tmp_path, faults, message
):
    resources = _resources(database_url, own_replay, tmp_path, details_batch_size=50)
    assert materialize_day(resources, DAY, ["drama"]).success
    before = _snapshot(sql)
    own_replay.set_faults(faults(_listed(own_replay, "drama")))
    result = materialize_day(resources, DAY, ["drama"], raise_on_error=False)
    assert not result.success
    failure = _failure(result)
    assert message in failure and "Try the day again later" in failure, failure
    assert "\n" not in failure.strip()
    assert _snapshot(sql) == before
    if "in a row" in message:  # it stopped asking after three single titles failed
        halves, singles, pair = [25, 13, 7, 4, 2], 2, 1  # 50 → … → 2 → 1, 1; the next 2 → 1
        assert _asked(own_replay) == 1 + RETRIES + len(halves) + singles + pair + 1
