import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass

import requests

from imdb_warehouse.replay.server import CONTROL_PREFIX
from imdb_warehouse_tests.databases import temporary_database


@dataclass(frozen=True)
class Figure:
    metric: str
    value: float
    unit: str
    goal: str = ""
    met: bool | None = None


def scratch_database(admin_url: str):
    """A database of the bench's own, dropped when done."""
    return temporary_database(admin_url, prefix="imdbw_bench")


def child_report(module: str, *args: str) -> dict:
    """Run `python -m <module> <args>` in a process of its own; the JSON it prints."""
    with tempfile.TemporaryFile("w+") as report, tempfile.TemporaryFile("w+") as log:
        child = subprocess.Popen([sys.executable, "-m", module, *args], stdout=report, stderr=log)
        if child.wait() != 0:
            log.seek(0)
            raise RuntimeError(
                f"{module} {' '.join(args[:1])} failed (exit {child.returncode}):\n"
                f"{log.read()[-4000:]}"
            )
        report.seek(0)
        return json.loads(report.read())


def replay_control(replay_url: str, action: str, body=None):
    """Ask the replay server to change its day, reset its log, …; its answer."""
    if action == "requests":
        answer = requests.get(replay_url + CONTROL_PREFIX + action, timeout=30)
    else:
        answer = requests.post(replay_url + CONTROL_PREFIX + action, json=body, timeout=30)
    answer.raise_for_status()
    return answer.json()
