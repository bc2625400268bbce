"""The daily run, defined once: the job `refresh_day`, which the schedule, the UI ("refresh
this day": launch it for the day's partitions, all genres) and `imdb-warehouse refresh` all
run; and the sensors around it.

A day is ONE run over the range of that day's partitions (day, first genre) … (day, last
genre): every genre's list, every listed movie's details (fetched once, for all the lists),
the dimensions, bridges and facts (the calendar dimensions too while the warehouse lacks
them); one genre of a day is a run of that one partition. The analytics views are not in it:
the sensor `views_current` has them made when one is missing or its SQL changed, so a view
never makes a day fail nor waits on analysts' queries daily; nor is the daily report: the
sensor `report_after_the_day` makes it after each day's run. `refresh` makes both itself (it
runs without the daemon).
"""

import json
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from functools import partial

import dagster as dg
import requests

from imdb_warehouse import settings, tables
from imdb_warehouse.assets.analytics import (
    VIEW_KEYS,
    VIEWS,
    tables_ready,
    view_code_version,
    views_missing,
)
from imdb_warehouse.assets.report import DAILY_REPORT
from imdb_warehouse.partitions import GENRES, day_chunks, genre_blocks, open_days, range_tags
from imdb_warehouse.resources import PostgresResource
from imdb_warehouse.resources.archive import PageArchive
from imdb_warehouse.resources.imdb_client import ImdbClient, ImdbError
from imdb_warehouse.runs import (
    execute_here,
    failure_cause,
    owner_tags,
    release_dead_runs,
    without_events,
)

CODE_VERSION_TAG = "dagster/code_version"
IN_PROCESS_TAG = "imdb_warehouse/in_process"  # the runs of `imdb-warehouse refresh`

# the unpartitioned tables (the calendar dimensions) join a day's run while the warehouse lacks
# them; every partitioned table is in every day's run
CALENDAR = [table.key for table in tables.TABLES if not table.partitioned]
DAY_ASSETS = [table.key for table in tables.TABLES if table.partitioned]
day_job = dg.define_asset_job(
    "refresh_day",
    selection=[*CALENDAR, *DAY_ASSETS],
    description="A day's refresh, in one run over the day's partitions (all genres, or one): "
    "each genre's list, every listed movie's details, the dimensions, bridges and facts.",
)
views_job = dg.define_asset_job(
    "refresh_views",
    selection=dg.AssetSelection.groups("analytics"),
    description="The analytics views, (re)made when one is missing or its SQL changed.",
)
report_job = dg.define_asset_job(
    "refresh_report",
    selection=[DAILY_REPORT],
    description="The daily report of the newest day (HTML with charts).",
)
JOBS = (day_job, views_job, report_job)


def day_runs(
    day: date, genres: Sequence[str], postgres: PostgresResource, last: date | None = None
) -> list[dict]:
    """How to run the day (or the days `day`..`last`: a rebuild, a run per DAYS_PER_RUN days)
    for `genres`: one run over the range of its partitions, or one a block of neighbouring
    genres when not all (a range of a multi-partitioned asset is the product of its
    dimensions' ranges); with the calendar while the warehouse lacks it."""
    [(built,)] = postgres.query(
        "SELECT bool_and(to_regclass(name) IS NOT NULL) FROM unnest($1::text[]) AS t(name)",
        [[table.table_name for table in tables.TABLES if not table.partitioned]],
    )
    return [
        {
            "tags": range_tags(first, end, block),
            "asset_selection": DAY_ASSETS if built else [*CALENDAR, *DAY_ASSETS],
        }
        for first, end in day_chunks(day, last or day)
        for block in genre_blocks(genres)
    ]


def views_needed(postgres: PostgresResource, instance: dg.DagsterInstance) -> bool:
    """Whether a view is missing from the warehouse or was last materialized from other SQL
    (or never, as far as this instance knows), once the tables they read exist."""
    if not tables_ready(postgres):
        return False
    latest = instance.get_latest_materialization_events(VIEW_KEYS)
    changed = any(
        _code_version(latest.get(key)) != view_code_version(name)
        for name, key in zip(VIEWS, VIEW_KEYS, strict=True)
    )
    return changed or views_missing(postgres)


def _code_version(event: dg.EventLogEntry | None) -> str | None:
    materialization = event.asset_materialization if event else None
    return (materialization.tags or {}).get(CODE_VERSION_TAG) if materialization else None


@dg.schedule(
    cron_schedule=settings.DAILY_CRON.get(),
    job=day_job,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Refreshes today (UTC), in one run of refresh_day.",
)
def daily_refresh(
    context: dg.ScheduleEvaluationContext, postgres: PostgresResource
) -> dg.RunRequest:
    day = context.scheduled_execution_time.date()
    open_days(context.instance, [day])
    [options] = day_runs(day, GENRES, postgres)
    return dg.RunRequest(run_key=f"refresh_day:{day}", **options)


@dg.sensor(
    job=views_job,
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Has the analytics views made when one is missing or its SQL changed.",
)
def views_current(context: dg.SensorEvaluationContext, postgres: PostgresResource):
    if not tables_ready(postgres):
        return dg.SkipReason("the warehouse holds no day yet: the views wait for the first")
    if not views_needed(postgres, context.instance):
        return dg.SkipReason("every view is there, from the SQL of this code")
    code = "+".join(view_code_version(name) for name in VIEWS)
    return dg.RunRequest(run_key=f"refresh_views:{code}")


@dg.sensor(
    minimum_interval_seconds=600,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Opens the days that can be built as partitions: today (UTC) and every day the "
    "archive holds; the UI offers those, and no other.",
)
def days_open(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    try:
        today = ImdbClient().now().date()
    except ImdbError as error:
        return dg.SkipReason(str(error))
    opened = open_days(context.instance, [today, *PageArchive().days()])
    return dg.SkipReason(f"opened {len(opened)} day(s): {', '.join(opened) or 'none'}")


@dg.run_failure_sensor(
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Reports every failed run in the log, and to the webhook in "
    f"{settings.ALERT_WEBHOOK.name} if set.",
)
def report_failed_runs(context: dg.RunFailureSensorContext) -> None:
    run = context.dagster_run
    causes = [
        f"{event.step_key}: {failure_cause(event)}" for event in context.get_step_failure_events()
    ]
    message = "; ".join(causes) or context.failure_event.message or "the run failed"
    context.log.error(f"run {run.run_id} of {run.job_name} failed: {message}")
    webhook = settings.ALERT_WEBHOOK.get()
    if webhook:
        payload = {
            "text": f"imdb_warehouse: run {run.run_id} of {run.job_name} failed: {message}",
            "run_id": run.run_id,
            "job": run.job_name,
            "tags": dict(run.tags),
        }
        response = requests.post(webhook, data=json.dumps(payload), timeout=10,
                                 headers={"Content-Type": "application/json"})  # fmt: skip
        response.raise_for_status()


@dg.sensor(
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Every minute: runs whose process died (kill -9, out of memory, a restart) are "
    "marked failed and their `imdb` pool slots freed, so that no refresh waits for them.",
)
def release_dead_runs_sensor(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    released = release_dead_runs(context.instance)
    return dg.SkipReason(f"released {len(released)} run(s) whose process died: {released}")


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[day_job],
    request_job=report_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Makes the daily report after each successful day's run.",
)
def report_after_the_day(context: dg.RunStatusSensorContext) -> dg.RunRequest:
    return dg.RunRequest(run_key=f"refresh_report:{context.dagster_run.run_id}")


SCHEDULES = [daily_refresh]
SENSORS = [
    days_open,
    views_current,
    report_after_the_day,
    report_failed_runs,
    release_dead_runs_sensor,
]


def refresh_in_process(
    day: date,
    genres: Sequence[str] = GENRES,
    *,
    instance: dg.DagsterInstance,
    on_run: Callable[[dg.JobExecutionResult], None] | None = None,
    on_event: Callable[[dg.DagsterEvent], None] | None = None,
    last: date | None = None,
    report: bool = True,
) -> list[dg.JobExecutionResult]:
    """The day's run in this process (`refresh_day`, as the schedule runs it; one a block of
    neighbouring genres when not all; with `last`, the days `day`..`last`, a run per
    DAYS_PER_RUN days), then the views' when one is missing or its SQL changed, then the daily
    report's (unless `report` is false); stops at a failed run. They use the project's
    resources, configured from the environment; `on_event` hears of each event as it happens,
    `on_run` of each run as it ends. Of several day runs (a rebuild), only the last one's
    result keeps its events."""
    release_dead_runs(instance)
    open_days(instance, [day + timedelta(days=n) for n in range(((last or day) - day).days + 1)])
    process = {IN_PROCESS_TAG: "true", **owner_tags()}

    def nth_day_run(n: int) -> dict:  # asked when it starts: the calendar joins the first only
        return day_runs(day, genres, PostgresResource(), last)[n]

    day_runs_made = len(day_chunks(day, last or day)) * len(genre_blocks(genres))
    runs: list[tuple[dg.UnresolvedAssetJobDefinition, Callable[[], dict | None]]] = [
        (day_job, partial(nth_day_run, n)) for n in range(day_runs_made)
    ]
    runs.append((views_job, lambda: {} if views_needed(PostgresResource(), instance) else None))
    if report:
        runs.append((report_job, dict))
    results: list[dg.JobExecutionResult] = []
    for job, options in runs:
        chosen = options()
        if chosen is None:
            continue
        tags = {**chosen.pop("tags", {}), **process}
        if job is day_job and results:  # a rebuild's earlier runs, heard: their run only
            results[-1] = without_events(results[-1])
        result = execute_here(job.name, instance, tags, on_event, **chosen)
        results.append(result)
        if on_run:
            on_run(result)
        if not result.success:
            break
    return results
