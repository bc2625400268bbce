"""`imdb-warehouse demo` and `refresh`, run as a user runs them."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg

from imdb_warehouse.resources.postgres import stop_embedded_server

CLI = str(Path(sys.executable).parent / "imdb-warehouse")
PROJECT = Path(__file__).resolve().parents[1]


def test_the_demo_refreshes_today_from_the_offline_imdb_and_summarises(tmp_path):
    home = tmp_path / "home"
    dagster_home = home / "dagster"
    dagster_home.mkdir(parents=True)
    shutil.copy(PROJECT / "dev" / "dagster.yaml", dagster_home / "dagster.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IMDB_", "DAGSTER_"))}
    env |= {"IMDB_WAREHOUSE_HOME": str(home), "DAGSTER_HOME": str(dagster_home)}
    try:
        demo = subprocess.run([CLI, "demo"], env=env, capture_output=True, text=True, timeout=300)
    finally:
        stop_embedded_server(home)
    assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-3000:]
    out = demo.stdout
    for step in ("daily_lists", "daily_details", "daily_facts"):
        assert f"{step}: succeeded" in out
    rows = dict(
        line.split() for line in out.split("Rows per table:\n")[1].split("\n\n")[0].splitlines()
    )
    assert int(rows["warehouse.fact_movie_ranking"].replace(",", "")) > 22 * 40
    assert int(rows["warehouse.dim_genre"]) == 27
    for genre in ("Action", "Comedy"):
        top = out.split(f"Today's top 5, {genre}:\n")[1].splitlines()[:5]
        assert [line.split(".")[0].strip() for line in top] == ["1", "2", "3", "4", "5"]
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        runs = instance.get_runs()
        assert sorted(r.job_name for r in runs) == ["daily_details", "daily_facts", "daily_lists"]
        assert all(r.is_success for r in runs)


def test_refresh_rejects_an_unknown_genre_with_the_known_ones():
    result = subprocess.run([CLI, "refresh", "--genre", "cooking"], capture_output=True, text=True)
    assert result.returncode == 2
    assert "invalid choice: 'cooking'" in result.stderr and "sci-fi" in result.stderr
