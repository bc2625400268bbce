"""The daily refresh: the schedule's tick, the runs it chains, and the failed-run alert."""

import json
import threading
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer

import dagster as dg
import pytest

from imdb_warehouse.assets.keys import FACT_MOVIE_RANKING
from imdb_warehouse.definitions import defs
from imdb_warehouse.partitions import GENRES, date_genre_partitions
from imdb_warehouse.replay.server import ReplayServer
from imdb_warehouse.schedules import (
    CALENDAR,
    DAY_TAG,
    DETAILS,
    VIEW_KEYS,
    after_details,
    after_lists,
    daily_refresh,
    facts_selection,
    refresh_in_process,
    report_failed_runs,
)

DAY = date(2025, 3, 1)
NEXT_DAY = date(2025, 3, 2)


def test_a_tick_requests_one_run_of_every_genre_of_that_day():
    context = dg.build_schedule_context(
        scheduled_execution_time=datetime(2025, 3, 1, 6, 0, tzinfo=UTC)
    )
    [request] = list(daily_refresh.evaluate_tick(context).run_requests)
    assert daily_refresh.cron_schedule == "0 6 * * *" and daily_refresh.execution_timezone == "UTC"
    assert daily_refresh.default_status == dg.DefaultScheduleStatus.RUNNING
    assert daily_refresh.job_name == "daily_lists"
    start = request.tags["dagster/asset_partition_range_start"]
    end = request.tags["dagster/asset_partition_range_end"]
    keys = date_genre_partitions.get_partition_keys_in_range(dg.PartitionKeyRange(start, end))
    assert sorted(keys) == sorted(f"2025-03-01|{genre}" for genre in GENRES)
    assert request.tags[DAY_TAG] == "2025-03-01" and request.run_key == "daily_lists:2025-03-01"
    selection = defs.resolve_job_def("daily_lists").asset_layer.executable_asset_keys
    assert {k.to_user_string() for k in selection} == {
        "raw/imdb_search_results",
        "staging/movie_rankings",
    }


@pytest.fixture
def environment(monkeypatch, database_url, tmp_path):
    with ReplayServer(day=DAY) as replay:
        for name, value in {
            "IMDB_WAREHOUSE_DATABASE_URL": database_url,
            "IMDB_BASE_URL": replay.url,
            "IMDB_GRAPHQL_URL": f"{replay.url}/",
            "IMDB_WAREHOUSE_TODAY": DAY.isoformat(),
            "IMDB_MIN_INTERVAL_SECONDS": "0",
            "IMDB_WAREHOUSE_ARCHIVE": str(tmp_path / "archive"),
        }.items():
            monkeypatch.setenv(name, value)
        yield replay


def _sensor_request(sensor, instance, result, **resources):
    run = instance.get_run_by_id(result.run_id)
    [event] = [e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_SUCCESS] or [
        result.all_events[-1]
    ]
    context = dg.build_run_status_sensor_context(
        sensor_name=sensor.name,
        dagster_event=event,
        dagster_instance=instance,
        dagster_run=run,
        resources=resources,
    )
    return sensor(context)


def test_each_run_of_a_day_chains_the_next_and_the_day_lands(environment, sql):
    from imdb_warehouse.resources import PostgresResource

    with dg.DagsterInstance.ephemeral() as instance:
        lists = defs.resolve_job_def("daily_lists").execute_in_process(
            instance=instance, tags=daily_refresh_tags(), raise_on_error=False
        )
        assert lists.success
        details_request = _sensor_request(after_lists, instance, lists, postgres=PostgresResource())
        assert details_request.partition_key == "2025-03-01"
        assert details_request.asset_selection == [*CALENDAR, *DETAILS]  # a new warehouse
        details = defs.resolve_job_def("daily_details").execute_in_process(
            instance=instance,
            partition_key=details_request.partition_key,
            asset_selection=details_request.asset_selection,
            tags=details_request.tags,
        )
        facts_request = _sensor_request(
            after_details, instance, details, postgres=PostgresResource()
        )
        assert facts_request.tags["dagster/asset_partition_range_start"] == "2025-03-01|action"
        assert facts_request.tags["dagster/asset_partition_range_end"] == "2025-03-01|action"
        assert facts_request.asset_selection == [FACT_MOVIE_RANKING, *VIEW_KEYS]  # no views yet
        facts = defs.resolve_job_def("daily_facts").execute_in_process(
            instance=instance,
            asset_selection=facts_request.asset_selection,
            tags=facts_request.tags,
        )
        assert facts.success
        assert (
            _sensor_request(
                after_lists, instance, lists, postgres=PostgresResource()
            ).asset_selection
            == DETAILS
        )
    assert sql("SELECT count(*) FROM analytics.daily_rankings") == [(50,)]


def test_the_facts_run_makes_the_views_only_when_one_is_missing_or_its_sql_changed(
    environment, sql, monkeypatch
):
    from imdb_warehouse.resources import PostgresResource

    postgres = PostgresResource()
    with dg.DagsterInstance.ephemeral() as instance:
        first = refresh_in_process(DAY, ["action"], instance=instance)
        assert first[-1].success
        assert _materialized(first[-1]) == {FACT_MOVIE_RANKING, *VIEW_KEYS}

        # views read the tables as they stand: the next day's run leaves them alone
        environment.set_day(NEXT_DAY)
        monkeypatch.setenv("IMDB_WAREHOUSE_TODAY", NEXT_DAY.isoformat())
        second = refresh_in_process(NEXT_DAY, ["action"], instance=instance)
        assert second[-1].success and _materialized(second[-1]) == {FACT_MOVIE_RANKING}
        assert sql("SELECT count(*) FROM analytics.daily_rankings") == [(100,)]

        sql("DROP VIEW analytics.rank_movers")
        assert facts_selection(postgres, instance) == [FACT_MOVIE_RANKING, *VIEW_KEYS]
        third = refresh_in_process(NEXT_DAY, ["action"], instance=instance)
        assert third[-1].success and _materialized(third[-1]) == {FACT_MOVIE_RANKING, *VIEW_KEYS}
        assert facts_selection(postgres, instance) == [FACT_MOVIE_RANKING]

        # a view last made from other SQL (a deploy changed it) is made again
        instance.report_runless_asset_event(
            dg.AssetMaterialization(VIEW_KEYS[2], tags={"dagster/code_version": "older sql"})
        )
        assert facts_selection(postgres, instance) == [FACT_MOVIE_RANKING, *VIEW_KEYS]


def _materialized(result: dg.ExecuteInProcessResult) -> set[dg.AssetKey]:
    return {event.asset_key for event in result.get_asset_materialization_events()}


def daily_refresh_tags() -> dict[str, str]:
    from imdb_warehouse.schedules import lists_tags

    return lists_tags(DAY, ["action"])


def test_the_in_process_refresh_runs_the_three_steps_for_exactly_the_genres_asked(environment, sql):
    with dg.DagsterInstance.ephemeral() as instance:
        results = refresh_in_process(DAY, ["drama", "fantasy"], instance=instance)
    # drama and fantasy are not neighbours in the genre partitions (family lies between):
    # a lists and a facts run each, so that family is not read
    assert [r.job_def.name for r in results] == [
        "daily_lists", "daily_lists", "daily_details", "daily_facts", "daily_facts",
    ]  # fmt: skip
    assert all(r.success for r in results)
    assert sql(
        "SELECT genre, count(*) FROM warehouse.fact_movie_ranking GROUP BY 1 ORDER BY 1"
    ) == [("drama", 50), ("fantasy", 50)]


class _Webhook(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):
        self.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_a_failed_run_is_reported_to_the_webhook(environment, monkeypatch):
    environment.set_faults(["challenge"])
    _Webhook.received = []
    server = HTTPServer(("127.0.0.1", 0), _Webhook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv(
        "IMDB_WAREHOUSE_ALERT_WEBHOOK", f"http://127.0.0.1:{server.server_port}/hook"
    )
    try:
        with dg.DagsterInstance.ephemeral() as instance:
            [failed] = refresh_in_process(DAY, ["action"], instance=instance)
            assert not failed.success
            run = instance.get_run_by_id(failed.run_id)
            [event] = [
                e for e in failed.all_events if e.event_type == dg.DagsterEventType.RUN_FAILURE
            ]
            context = dg.build_run_status_sensor_context(
                sensor_name=report_failed_runs.name,
                dagster_event=event,
                dagster_instance=instance,
                dagster_run=run,
            ).for_run_failure()
            report_failed_runs(context)
    finally:
        server.shutdown()
    [alert] = _Webhook.received
    assert alert["run_id"] == failed.run_id and alert["job"] == "daily_lists"
    assert "raw__imdb_search_results" in alert["text"] and "bot challenge" in alert["text"]
