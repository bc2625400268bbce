"""The daily refresh: the schedule's tick, the runs it chains, and the failed-run alert."""

import json
import threading
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer

import dagster as dg
import pytest

from imdb_warehouse import tables
from imdb_warehouse.definitions import defs
from imdb_warehouse.schedules import (
    CALENDAR,
    DAY_ASSETS,
    VIEW_KEYS,
    daily_refresh,
    refresh_in_process,
    report_failed_runs,
    views_current,
    views_needed,
)
from imdb_warehouse_tests.helpers import REPLAY_DAY, replay_environment

DAY = REPLAY_DAY
NEXT_DAY = date(2025, 3, 2)


@pytest.fixture
def environment(monkeypatch, database_url, tmp_path, own_replay):
    for name, value in {
        "IMDB_WAREHOUSE_DATABASE_URL": database_url,
        **replay_environment(own_replay),
        "IMDB_WAREHOUSE_TODAY": DAY.isoformat(),
        "IMDB_WAREHOUSE_ARCHIVE": str(tmp_path / "archive"),
    }.items():
        monkeypatch.setenv(name, value)
    return own_replay


def test_a_tick_requests_one_run_of_the_whole_day(environment):
    from imdb_warehouse.resources import PostgresResource

    with dg.instance_for_test() as instance:
        context = dg.build_schedule_context(
            instance=instance,
            scheduled_execution_time=datetime(2025, 3, 1, 6, 0, tzinfo=UTC),
            resources={"postgres": PostgresResource()},
            repository_def=defs.get_repository_def(),
        )
        [request] = list(daily_refresh.evaluate_tick(context).run_requests)
        assert instance.get_dynamic_partitions("days") == ["2025-03-01"]  # the day it runs, opened
    assert daily_refresh.cron_schedule == "0 6 * * *" and daily_refresh.execution_timezone == "UTC"
    assert daily_refresh.default_status == dg.DefaultScheduleStatus.RUNNING
    assert daily_refresh.job_name == "refresh_day"
    assert request.run_key == "refresh_day:2025-03-01"
    assert (
        request.tags.items()
        >= {  # the day's range of partitions: every genre, in one run
            "dagster/asset_partition_range_start": "2025-03-01|action",
            "dagster/asset_partition_range_end": "2025-03-01|western",
        }.items()
    )
    assert request.partition_key is None and not request.run_config
    assert request.asset_selection == [*CALENDAR, *DAY_ASSETS]  # a new warehouse: the calendar too
    job = defs.resolve_job_def("refresh_day")
    assert set(job.asset_layer.executable_asset_keys) == {*CALENDAR, *DAY_ASSETS}


def test_the_day_lands_in_one_run_and_the_views_when_one_is_missing_or_its_sql_changed(
    environment, sql, monkeypatch
):
    from imdb_warehouse.resources import PostgresResource

    postgres = PostgresResource()
    with dg.DagsterInstance.ephemeral() as instance:
        first = refresh_in_process(DAY, ["action"], instance=instance, report=False)
        assert [r.job_def.name for r in first] == ["refresh_day", "refresh_views"]
        assert all(r.success for r in first)
        assert _materialized(first[0]) == {*CALENDAR, *DAY_ASSETS}
        assert _materialized(first[1]) == set(VIEW_KEYS)
        assert sql("SELECT count(*) FROM analytics.daily_rankings") == [(50,)]

        # views read the tables as they stand: the next day is one run, the views left alone
        environment.set_day(NEXT_DAY)
        monkeypatch.setenv("IMDB_WAREHOUSE_TODAY", NEXT_DAY.isoformat())
        [second] = refresh_in_process(NEXT_DAY, ["action"], instance=instance, report=False)
        assert second.success and _materialized(second) == set(DAY_ASSETS)
        assert sql("SELECT count(*) FROM analytics.daily_rankings") == [(100,)]
        assert views_current(_sensor_context(instance, postgres)).skip_message

        sql("DROP VIEW analytics.rank_movers")
        assert views_needed(postgres, instance)
        assert views_current(_sensor_context(instance, postgres)).run_key.startswith(
            "refresh_views:"
        )
        third = refresh_in_process(NEXT_DAY, ["action"], instance=instance, report=False)
        assert [r.job_def.name for r in third] == ["refresh_day", "refresh_views"]
        assert not views_needed(postgres, instance)

        # a view last made from other SQL (a deploy changed it) is made again
        instance.report_runless_asset_event(
            dg.AssetMaterialization(VIEW_KEYS[2], tags={"dagster/code_version": "older sql"})
        )
        assert views_needed(postgres, instance)


def _sensor_context(instance, postgres) -> dg.SensorEvaluationContext:
    return dg.build_sensor_context(instance=instance, resources={"postgres": postgres})


def _materialized(result: dg.ExecuteInProcessResult) -> set[dg.AssetKey]:
    return {event.asset_key for event in result.get_asset_materialization_events()}


def test_the_in_process_refresh_reads_exactly_the_genres_asked_for(environment, sql):
    with dg.DagsterInstance.ephemeral() as instance:
        results = refresh_in_process(
            DAY, ["fantasy", "comedy", "family"], instance=instance, report=False
        )
    # a range of partitions holds neighbouring genres: comedy, then family and fantasy
    assert [r.job_def.name for r in results] == ["refresh_day", "refresh_day", "refresh_views"]
    assert [r.dagster_run.tags["dagster/asset_partition_range_start"] for r in results[:2]] == [
        f"{DAY}|comedy",
        f"{DAY}|family",
    ]
    assert all(r.success for r in results)
    assert sql(
        "SELECT genre, count(*) FROM warehouse.fact_movie_ranking GROUP BY 1 ORDER BY 1"
    ) == [("comedy", 50), ("family", 50), ("fantasy", 50)]


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
            [failed] = refresh_in_process(DAY, ["action"], instance=instance, report=False)
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
    assert alert["run_id"] == failed.run_id and alert["job"] == "refresh_day"
    assert "raw__imdb_search_results" in alert["text"] and "bot challenge" in alert["text"]


def test_the_days_offered_are_today_and_the_archived_days_in_order(tmp_path, monkeypatch):
    """The UI offers the partitions of `days`: only those that can be built."""
    from imdb_warehouse.partitions import day_partitions
    from imdb_warehouse.schedules import days_open

    archive = tmp_path / "archive"
    monkeypatch.setenv("IMDB_WAREHOUSE_ARCHIVE", str(archive))
    monkeypatch.setenv("IMDB_WAREHOUSE_TODAY", "2025-03-10")

    def archived(day: str) -> None:
        folder = archive / "graphql" / "lists" / day
        folder.mkdir(parents=True)
        (folder / "action.20250301T060000Z.json.gz").write_bytes(b"")

    def offered(instance) -> list[str]:
        return day_partitions.get_partition_keys(dynamic_partitions_store=instance)

    archived("2025-03-03")
    archived("2025-03-05")
    (archive / "graphql" / "lists" / "2025-03-07").mkdir()  # an empty folder: not a day held
    with dg.DagsterInstance.ephemeral() as instance:
        tick = days_open(dg.build_sensor_context(instance=instance))
        assert "opened 3 day(s): 2025-03-03, 2025-03-05, 2025-03-10" in tick.skip_message
        assert offered(instance) == ["2025-03-03", "2025-03-05", "2025-03-10"]
        assert (
            "opened 0 day(s)" in days_open(dg.build_sensor_context(instance=instance)).skip_message
        )

        archived("2025-03-01")  # an older archive restored: the days stay in calendar order
        days_open(dg.build_sensor_context(instance=instance))
        assert offered(instance) == ["2025-03-01", "2025-03-03", "2025-03-05", "2025-03-10"]

        monkeypatch.setenv("IMDB_WAREHOUSE_TODAY", "2025-13-01")
        tick = days_open(dg.build_sensor_context(instance=instance))
        assert "IMDB_WAREHOUSE_TODAY" in tick.skip_message and "2025-13-01" in tick.skip_message
        assert len(offered(instance)) == 4


def test_a_days_run_records_a_materialization_per_table_and_genre_and_no_more(environment):
    """The genre grid needs one materialization per (table, day, genre) with its row count;
    the large metadata (column schema, column lineage) goes once per table and run."""
    from imdb_warehouse.partitions import GENRES

    with dg.DagsterInstance.ephemeral() as instance:
        [day, _views] = refresh_in_process(DAY, GENRES, instance=instance, report=False)
        assert day.success
        events = [e.dagster_event for e in instance.all_logs(day.run_id) if e.dagster_event]
    materialized = [e for e in events if e.is_step_materialization]
    partitioned = [e for e in materialized if e.asset_key in DAY_ASSETS]
    assert len(partitioned) == len(DAY_ASSETS) * len(GENRES)
    assert {(e.asset_key, e.partition) for e in partitioned} == {
        (key, f"{DAY}|{genre}") for key in DAY_ASSETS for genre in GENRES
    }
    for event in partitioned:
        metadata = event.step_materialization_data.materialization.metadata
        assert isinstance(metadata["dagster/row_count"].value, int)
    written_by_itself = {t.key for t in tables.TABLES if t.writes_itself}
    for key in DAY_ASSETS:  # the large entries: on the table's latest materialization only
        mine = [e for e in partitioned if e.asset_key == key]
        carrying = [
            e
            for e in mine
            if "dagster/column_schema" in e.step_materialization_data.materialization.metadata
        ]
        # (a table its asset writes itself has its definition's columns: none recorded)
        assert carrying == ([] if key in written_by_itself else mine[-1:]), key
    per_partition = {e.event_type_value for e in events if e.partition}
    assert per_partition <= {"ASSET_MATERIALIZATION", "ASSET_MATERIALIZATION_PLANNED"}
