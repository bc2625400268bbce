"""Runs and the processes that run them: a run names its process in its tags, so that a run
whose process died (kill -9, out of memory, a restart) is found, marked failed and made to let
go of its `imdb` pool slot, and the next refresh never waits for it.

Every run executes in one process (the in-process executor), so its process is the one that
tagged it: `imdb-warehouse refresh` tags its runs when it creates them; a run launched from the
UI or the schedule is tagged by its first step that reads IMDb (`ImdbClient`), the only steps
that take pool slots. The sensor `release_dead_runs` looks every minute; `refresh` looks before
it starts.
"""

import os
import socket
import sys
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, cast

import dagster as dg

if TYPE_CHECKING:
    from dagster._core.execution.context.system import PlanExecutionContext

# The code location the UI, the daemon and the deployment load (workspace.yaml, deploy/,
# pyproject's [tool.dg.project]): the runs of `imdb-warehouse refresh` are runs of it.
CODE_LOCATION = "imdb_warehouse"
DEFINITIONS = "imdb_warehouse.definitions"
HOST_TAG, PID_TAG = "imdb_warehouse/host", "imdb_warehouse/pid"
UNFINISHED = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def owner_tags() -> dict[str, str]:
    """The tags naming this process as the one running a run."""
    return {HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())}


def failure_cause(step_failure: dg.DagsterEvent) -> str:
    """A failed step's cause in one line: the innermost error (Dagster wraps what the code
    raised), without the class path of a `Failure` (its text says it all)."""
    error = step_failure.step_failure_data.error
    while error is not None and error.cause is not None:
        error = error.cause
    message = error.message if error is not None else (step_failure.message or "it failed")
    message = message.removeprefix("dagster._core.definitions.events.Failure: ")
    return " / ".join(line.strip() for line in message.strip().splitlines() if line.strip())


def release_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Runs of `imdb-warehouse refresh` on this host whose process is gone (killed, out of
    memory, a restart) without ending them: each is marked failed and its pool slots freed, so
    the next refresh never waits for a slot a dead run holds. The ids of the runs released."""
    dead = [run for run in _unfinished_runs_here(instance) if not _alive(run.tags[PID_TAG])]
    for run in dead:
        instance.report_run_failed(
            run,
            f"its process ({run.tags[PID_TAG]}) ended before the run did; marked failed by the "
            "next refresh",
        )
    # a run that ended holds no pool slot, nor waits for one
    holding = instance.event_log_storage.get_concurrency_run_ids()
    ended = instance.get_runs(filters=dg.RunsFilter(run_ids=list(holding))) if holding else []
    released = [run.run_id for run in dead]
    for run_id in {*released, *(run.run_id for run in ended if run.is_finished)}:
        instance.event_log_storage.free_concurrency_slots_for_run(run_id)
    return released


def end_runs_of_this_process(instance: dg.DagsterInstance, why: str) -> list[str]:
    """This process's unfinished runs, marked canceled with their pool slots freed."""
    mine = [r for r in _unfinished_runs_here(instance) if r.tags[PID_TAG] == str(os.getpid())]
    for run in mine:
        instance.report_run_canceled(run, f"canceled: {why}")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
    return [run.run_id for run in mine]


def _unfinished_runs_here(instance: dg.DagsterInstance) -> list[dg.DagsterRun]:
    runs = instance.get_runs(
        filters=dg.RunsFilter(statuses=UNFINISHED, tags={HOST_TAG: socket.gethostname()})
    )
    return [run for run in runs if PID_TAG in run.tags]


def _alive(pid: str) -> bool:
    """Whether the process `pid` of this host runs."""
    if not pid.isdigit() or int(pid) <= 0:
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it runs
        pass
    return True


# the caller prints what matters (a line per step, each failure's cause); the whole log is
# kept by the instance
QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def execute_here(
    job_name: str,
    instance: dg.DagsterInstance,
    tags: Mapping[str, str],
    on_event: Callable[[dg.DagsterEvent], None] | None = None,
    **options,
) -> dg.JobExecutionResult:
    """A run of the code location's job `job_name`, executed in this process (`refresh`,
    `demo`): it shows under its job in the UI and reaches the run failure sensor like a run the
    UI or the schedule launched. `options`: `run_config`, `asset_selection`, `partition_key`.
    Dagster's console log is silent (the whole log is in the instance); `on_event` hears
    each of its events as it happens."""
    from dagster._core.definitions.reconstruct import ReconstructableJob, ReconstructableRepository
    from dagster._core.execution.api import execute_run_iterator
    from dagster._core.remote_origin import (
        ManagedGrpcPythonEnvCodeLocationOrigin,
        RemoteRepositoryOrigin,
    )
    from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

    job = ReconstructableJob(ReconstructableRepository.for_module(DEFINITIONS, "defs"), job_name)
    location = ManagedGrpcPythonEnvCodeLocationOrigin(
        LoadableTargetOrigin(executable_path=sys.executable, module_name=DEFINITIONS),
        location_name=CODE_LOCATION,
    )
    partition = options.get("partition_key")
    selection = options.get("asset_selection")
    run = instance.create_run_for_job(
        job_def=job.get_definition(),
        run_config={**(options.get("run_config") or {}), **QUIET_CONSOLE},
        tags={**tags, **({"dagster/partition": partition} if partition else {})},
        asset_selection=frozenset(selection) if selection else None,
        remote_job_origin=RemoteRepositoryOrigin(location, "__repository__").get_job_origin(
            job_name
        ),
        job_code_origin=job.get_python_origin(),
    )
    events = []
    for event in execute_run_iterator(job, run, instance):
        events.append(event)
        if on_event:
            on_event(event)
    ended = instance.get_run_by_id(run.run_id)
    return _result(job.get_definition(), events, ended or run)


def without_events(result: dg.JobExecutionResult) -> dg.JobExecutionResult:
    """`result` that tells its run only: a run's events take megabytes (a rebuild's runs keep
    theirs in the instance, where the UI and the log file read them)."""
    return _result(result.job_def, [], result.dagster_run)


def _result(
    job: dg.JobDefinition, events: list[dg.DagsterEvent], run: dg.DagsterRun
) -> dg.JobExecutionResult:
    # no execution context to reconstruct: the result tells the run and its events, not the
    # outputs' values (they are in the warehouse)
    no_context = cast("AbstractContextManager[PlanExecutionContext]", nullcontext())
    return dg.JobExecutionResult(job, no_context, events, run)
