"""The code location loads, as the UI, the daemon and `dg` load it."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

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
