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

import dagster as dg

HOST_TAG, PID_TAG = "imdb_warehouse/host", "imdb_warehouse/pid"
UNFINISHED = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def owner_tags() -> dict[str, str]:
    """The tags naming this process as the one running a run."""
    return {HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())}


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
