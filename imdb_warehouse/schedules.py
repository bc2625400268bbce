"""The daily refresh: a schedule, the runs it chains, and the alert on failed runs.

Dagster 1.13 runs only assets of one partitions definition together, and the refresh spans
two (date × genre, and date). So a day is three runs, each covering every partition it needs:

1. `daily_lists`: every genre's list of the day (raw search results → staging rankings);
2. `daily_details`: every listed movie's details, the dimensions, bridges and box office;
3. `daily_facts`: every genre's rankings fact of the day, and the analytics views when one
   is missing or its SQL changed (a view is always current; re-creating it daily would only
   wait on, and then block, analysts' queries).

The schedule starts run 1 at 06:00 UTC (IMDB_WAREHOUSE_DAILY_CRON); a sensor starts each next
run when the one before it succeeds. `imdb-warehouse refresh` runs the same three in-process.
"""

import json
from collections.abc import Callable, Sequence
from datetime import date

import dagster as dg
import requests

from imdb_warehouse import settings
from imdb_warehouse.assets import keys
from imdb_warehouse.assets.analytics import VIEW_KEYS, VIEWS, view_code_version, views_missing
from imdb_warehouse.partitions import GENRES
from imdb_warehouse.resources import PostgresResource
from imdb_warehouse.runs import owner_tags, release_dead_runs

CODE_VERSION_TAG = "dagster/code_version"
DAY_TAG = "imdb_warehouse/day"
GENRES_TAG = "imdb_warehouse/genres"
IN_PROCESS_TAG = "imdb_warehouse/in_process"  # runs `imdb-warehouse refresh` chains itself

lists_job = dg.define_asset_job(
    "daily_lists",
    selection=[keys.SEARCH_RESULTS, keys.MOVIE_RANKINGS],
    description="Step 1 of the daily refresh: every genre's list of the day.",
)
CALENDAR = [keys.DIM_DATE, keys.DIM_GENRE]
DETAILS = [
    keys.TITLE_PAGES,
    keys.TITLE_DETAILS,
    keys.DIM_MOVIE,
    keys.DIM_PERSON,
    keys.BRIDGE_MOVIE_PERSON,
    keys.BRIDGE_MOVIE_GENRE,
    keys.FACT_BOX_OFFICE,
]
details_job = dg.define_asset_job(
    "daily_details",
    selection=[*CALENDAR, *DETAILS],
    description="Step 2 of the daily refresh: the details of every listed movie, dimensions, "
    "bridges, box office.",
)
facts_job = dg.define_asset_job(
    "daily_facts",
    selection=dg.AssetSelection.assets(keys.FACT_MOVIE_RANKING)
    | dg.AssetSelection.groups("analytics"),
    description="Step 3 of the daily refresh: the rankings fact, and the analytics views when "
    "one is missing or its SQL changed.",
)
STEPS = (lists_job, details_job, facts_job)


def lists_tags(day: date, genres: Sequence[str] = GENRES) -> dict[str, str]:
    """The tags of a run over `day` × `genres` (a contiguous range of the genre partitions)."""
    first, last = sorted(genres, key=GENRES.index)[0], sorted(genres, key=GENRES.index)[-1]
    return {
        "dagster/asset_partition_range_start": f"{day}|{first}",
        "dagster/asset_partition_range_end": f"{day}|{last}",
        DAY_TAG: day.isoformat(),
        GENRES_TAG: ",".join(GENRES[GENRES.index(first) : GENRES.index(last) + 1]),
    }


def genre_ranges(genres: Sequence[str]) -> list[list[str]]:
    """`genres` as runs of neighbours in the genre partitions: western and action are two."""
    ranges: list[list[str]] = []
    for genre in sorted(set(genres), key=GENRES.index):
        if ranges and GENRES.index(genre) == GENRES.index(ranges[-1][-1]) + 1:
            ranges[-1].append(genre)
        else:
            ranges.append([genre])
    return ranges


def details_selection(postgres: PostgresResource) -> list[dg.AssetKey]:
    """The details run's assets: with the calendar dimensions while the warehouse lacks them."""
    [(built,)] = postgres.query(
        "SELECT to_regclass('warehouse.dim_date') IS NOT NULL "
        "AND to_regclass('warehouse.dim_genre') IS NOT NULL"
    )
    return DETAILS if built else [*CALENDAR, *DETAILS]


def facts_selection(postgres: PostgresResource, instance: dg.DagsterInstance) -> list[dg.AssetKey]:
    """The facts run's assets: with the views while one is missing from the warehouse or was
    last materialized from other SQL (or never, as far as this instance knows)."""
    latest = instance.get_latest_materialization_events(VIEW_KEYS)
    changed = any(
        _code_version(latest.get(key)) != view_code_version(name)
        for name, key in zip(VIEWS, VIEW_KEYS, strict=True)
    )
    if changed or views_missing(postgres):
        return [keys.FACT_MOVIE_RANKING, *VIEW_KEYS]
    return [keys.FACT_MOVIE_RANKING]


def _code_version(event: dg.EventLogEntry | None) -> str | None:
    materialization = event.asset_materialization if event else None
    return materialization.tags.get(CODE_VERSION_TAG) if materialization else None


@dg.schedule(
    cron_schedule=settings.DAILY_CRON.get(),
    job=lists_job,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Starts the daily refresh of today's lists (UTC); sensors chain the rest.",
)
def daily_refresh(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    day = context.scheduled_execution_time.date()
    return dg.RunRequest(run_key=f"daily_lists:{day}", tags=lists_tags(day))


def _chained(context: dg.RunStatusSensorContext) -> dict[str, str] | None:
    tags = context.dagster_run.tags
    if DAY_TAG not in tags or tags.get(IN_PROCESS_TAG):
        return None
    return {DAY_TAG: tags[DAY_TAG], GENRES_TAG: tags.get(GENRES_TAG, ",".join(GENRES))}


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[lists_job],
    request_job=details_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="When a day's lists landed, reads that day's details and builds the dims.",
)
def after_lists(context: dg.RunStatusSensorContext, postgres: PostgresResource):
    if (tags := _chained(context)) is None:
        return dg.SkipReason("not a day's refresh run")
    day = tags[DAY_TAG]
    return dg.RunRequest(
        run_key=f"daily_details:{day}:{context.dagster_run.run_id}",
        partition_key=day,
        asset_selection=details_selection(postgres),
        tags=tags,
    )


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[details_job],
    request_job=facts_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="When a day's details landed, builds that day's rankings fact (and the views "
    "when one is missing or its SQL changed).",
)
def after_details(context: dg.RunStatusSensorContext, postgres: PostgresResource):
    if (tags := _chained(context)) is None:
        return dg.SkipReason("not a day's refresh run")
    day = date.fromisoformat(tags[DAY_TAG])
    return dg.RunRequest(
        run_key=f"daily_facts:{day}:{context.dagster_run.run_id}",
        asset_selection=facts_selection(postgres, context.instance),
        tags=lists_tags(day, tags[GENRES_TAG].split(",")),
    )


@dg.run_failure_sensor(
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Reports every failed run in the log, and to the webhook in "
    f"{settings.ALERT_WEBHOOK.name} if set.",
)
def report_failed_runs(context: dg.RunFailureSensorContext) -> None:
    run = context.dagster_run
    causes = [
        f"{event.step_key}: {event.step_failure_data.error.message.strip()}"
        for event in context.get_step_failure_events()
        if event.step_failure_data.error
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


SCHEDULES = [daily_refresh]
SENSORS = [after_lists, after_details, report_failed_runs, release_dead_runs_sensor]


def refresh_in_process(
    day: date,
    genres: Sequence[str] = GENRES,
    *,
    instance: dg.DagsterInstance,
    on_run: Callable[[dg.ExecuteInProcessResult], None] | None = None,
) -> list[dg.ExecuteInProcessResult]:
    """The day's runs, one after the other, in this process; stops at a failed one: the lists,
    the details, the facts (a lists and a facts run for each range of `genres` that are next to
    each other in the genre partitions, so that exactly those genres are read).

    They use the project's resources, configured from the environment; `on_run` hears of each
    run as it ends."""
    from imdb_warehouse.definitions import defs

    release_dead_runs(instance)
    process = {IN_PROCESS_TAG: "true", **owner_tags()}
    ranges = genre_ranges(genres)
    asked = {
        DAY_TAG: day.isoformat(),
        GENRES_TAG: ",".join(g for r in ranges for g in r),
        **process,
    }
    # Each run's options are chosen when it starts, after the runs before it, as the sensors do.
    steps = [(lists_job, lambda r=r: {"tags": {**lists_tags(day, r), **process}}) for r in ranges]
    steps.append(
        (
            details_job,
            lambda: {
                "partition_key": day.isoformat(),
                "asset_selection": details_selection(PostgresResource()),
                "tags": asked,
            },
        )
    )
    steps += [
        (
            facts_job,
            lambda r=r: {
                "asset_selection": facts_selection(PostgresResource(), instance),
                "tags": {**lists_tags(day, r), **process},
            },
        )
        for r in ranges
    ]
    results = []
    for job, options in steps:
        result = defs.resolve_job_def(job.name).execute_in_process(
            instance=instance, raise_on_error=False, **options()
        )
        results.append(result)
        if on_run:
            on_run(result)
        if not result.success:
            break
    return results
