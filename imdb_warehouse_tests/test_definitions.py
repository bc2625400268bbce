"""The code location loads, as the UI, the daemon and `dg` load it."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg

from imdb_warehouse.definitions import defs
from imdb_warehouse.resources import PostgresPolarsIOManager, PostgresResource

PROJECT = Path(__file__).resolve().parents[1]


def test_the_definitions_store_assets_through_the_postgres_io_manager():
    resources = defs.resources
    assert isinstance(resources["io_manager"], PostgresPolarsIOManager)
    assert isinstance(resources["postgres"], PostgresResource)


def test_dg_check_defs_passes_with_the_dev_instance(tmp_path):
    shutil.copy(PROJECT / "dev" / "dagster.yaml", tmp_path / "dagster.yaml")
    result = subprocess.run(
        [str(Path(sys.executable).parent / "dg"), "check", "defs"],
        cwd=PROJECT,
        env={**os.environ, "DAGSTER_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "All definitions loaded successfully" in result.stdout + result.stderr


def test_dagster_commands_run_at_the_project_root_without_instance_settings():
    """The deployment's instance config is not at the root, where `dagster` would take it."""
    assert not (PROJECT / "dagster.yaml").exists()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAGSTER_")}
    result = subprocess.run(
        [str(Path(sys.executable).parent / "dagster"), "definitions", "validate", "-w", "workspace.yaml"],  # noqa: E501
        cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "DAGSTER_PG" not in result.stdout + result.stderr


def test_every_asset_explains_itself_in_the_catalogue():
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        name = key.to_user_string()
        assert node.description, name
        assert node.group_name == key.path[0], name  # raw, staging, warehouse, analytics
        assert node.kinds and node.owners == ["team:data-platform"], name
        if key.path[0] in ("reports", "imdb"):  # a page; IMDb's API and pages: no table
            continue
        assert node.metadata["dagster/table_name"] == f"{key.path[0]}.{key.path[-1]}", name
        if key.path[0] != "analytics":  # views have no column schema of their own
            columns = node.metadata["dagster/column_schema"].columns
            assert columns and all(c.description for c in columns), name
    checked = {check.asset_key for check in graph.asset_check_keys}
    tables = {
        k for k in graph.get_all_asset_keys() if k.path[0] not in ("analytics", "reports", "imdb")
    }
    assert tables - checked == {
        dg.AssetKey(["warehouse", "dim_date"]),
        dg.AssetKey(["warehouse", "dim_genre"]),
        dg.AssetKey(["warehouse", "dim_movie"]),
        dg.AssetKey(["warehouse", "dim_person"]),
    }


def test_the_daily_schedule_and_sensors_run_by_default():
    assert {s.name: s.default_status for s in defs.schedules} == {
        "daily_refresh": dg.DefaultScheduleStatus.RUNNING
    }
    assert {s.name: s.default_status for s in defs.sensors} == {
        "days_open": dg.DefaultSensorStatus.RUNNING,
        "views_current": dg.DefaultSensorStatus.RUNNING,
        "report_failed_runs": dg.DefaultSensorStatus.RUNNING,
        "release_dead_runs_sensor": dg.DefaultSensorStatus.RUNNING,
        "report_after_the_day": dg.DefaultSensorStatus.RUNNING,
    }
