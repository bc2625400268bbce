"""The warehouse's SQL checks: standalone asset checks, in the day's run and on their own."""

from datetime import timedelta

import dagster as dg
import pytest

from imdb_warehouse import tables
from imdb_warehouse.assets import analytics, checks, raw, staging, warehouse
from imdb_warehouse.checks import SQL_CHECKS
from imdb_warehouse_tests.helpers import (
    REPLAY_DAY,
    materialize_day,
    pipeline_resources,
    replay_client,
)

GENRES = ["action", "adventure"]
RANKS = dg.AssetCheckKey(tables.FACT_MOVIE_RANKING.key, "ranks_one_to_n")
REFERENTIAL = dg.AssetCheckKey(tables.FACT_BOX_OFFICE.key, "referential_integrity")


@pytest.fixture
def built(database_url, tmp_path, replay):
    """Two days of two genres, built by the day's runs; the resources and the instance."""
    instance = dg.DagsterInstance.ephemeral()
    resources = pipeline_resources(database_url, replay_client(replay, REPLAY_DAY), tmp_path)
    for day in (REPLAY_DAY, REPLAY_DAY + timedelta(days=1)):
        replay.set_day(day)
        day_resources = {**resources, "imdb": replay_client(replay, day)}
        result = materialize_day(day_resources, day, GENRES, instance=instance)
        assert result.success
    return resources, instance, result


def _alone(resources, instance, *check_keys: dg.AssetCheckKey) -> dg.ExecuteInProcessResult:
    """A run of only these checks, as the UI's "Execute" on a check launches it."""
    defs = dg.Definitions(
        assets=dg.load_assets_from_modules([raw, staging, warehouse, analytics]),
        asset_checks=checks.SQL_CHECKS,
        jobs=[dg.define_asset_job("alone", selection=dg.AssetSelection.checks(*check_keys))],
        resources=resources,
    )
    return defs.resolve_job_def("alone").execute_in_process(instance=instance, raise_on_error=False)


def test_the_day_s_run_evaluates_every_sql_check_of_its_days(built):
    _, _, result = built
    evaluated = {
        (e.asset_key.to_user_string(), e.check_name): e
        for e in result.get_asset_check_evaluations()
    }
    expected = {(table.name, name) for table in tables.TABLES for name in table.checked_in_sql}
    assert len(expected) == 10 and expected <= set(evaluated)
    assert all(evaluated[key].passed for key in expected)


def test_a_check_run_alone_checks_the_newest_day_and_fails_with_the_rows(built, sql):
    resources, instance, _ = built
    newest = REPLAY_DAY + timedelta(days=1)
    sql(
        "UPDATE warehouse.fact_movie_ranking SET rank = rank + 100 "
        "WHERE genre = 'adventure' AND rank = 1 AND snapshot_date = %s",
        (newest,),
    )
    result = _alone(resources, instance, RANKS)
    [evaluation] = result.get_asset_check_evaluations()
    assert evaluation.check_name == "ranks_one_to_n" and not evaluation.passed
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert evaluation.metadata["count"].value == 1
    broken = evaluation.metadata["broken_lists"].value
    assert "adventure" in broken and str(newest) in broken and "action" not in broken
    # blocking: the check's step fails, so a run with assets downstream would stop there
    assert not result.success
    failures = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert "blocking asset check" in failures[0].event_specific_data.error.message


def test_a_check_run_alone_passes_on_a_sound_table_and_runs_no_asset(built):
    resources, instance, _ = built
    result = _alone(resources, instance, REFERENTIAL)
    assert result.success
    [evaluation] = result.get_asset_check_evaluations()
    assert evaluation.passed and evaluation.metadata["foreign_keys"].value == 2
    assert result.get_asset_materialization_events() == []


def test_every_sql_check_is_described_once():
    assert set(SQL_CHECKS) == {name for table in tables.TABLES for name in table.checked_in_sql}
