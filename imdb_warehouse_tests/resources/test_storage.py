"""The storage contract: what an asset's metadata may tell the IO manager, refused at load."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from imdb_warehouse.resources import PostgresPolarsIOManager, PostgresResource
from imdb_warehouse.resources.storage import Storage, StorageMetadataError, check_definitions


def _validate(module: Path) -> subprocess.CompletedProcess:
    dagster = Path(sys.executable).parent / "dagster"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAGSTER_")}
    return subprocess.run(
        [str(dagster), "definitions", "validate", "-f", str(module)],
        capture_output=True, text=True, timeout=120, env=env, cwd=module.parent,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("metadata", "error"),
    [
        ({"primary_key": "k", "write_mod": "upsert"}, "unknown storage metadata ['write_mod']"),
        ({"primary_key": "k", "write_mode": "upsrt"}, "write_mode 'upsrt' is not one of"),
        ({"write_mode": "upsert"}, "write_mode 'upsert' needs a primary_key"),
        ({"foreign_keys": {"k": "dim_movie"}}, "foreign_keys targets ['dim_movie'] are not"),
    ],
)
def test_bad_storage_metadata_fails_the_definitions(metadata, error):
    @dg.asset(key=["warehouse", "t"], metadata=metadata)
    def t() -> pl.DataFrame:
        return pl.DataFrame({"k": [1]})

    defs = dg.Definitions(
        assets=[t], resources={"io_manager": PostgresPolarsIOManager(postgres=PostgresResource())}
    )
    with pytest.raises(StorageMetadataError) as raised:
        check_definitions(defs)
    assert str(raised.value).startswith(f"asset warehouse/t: {error}")
    assert "\n" not in str(raised.value)


def test_a_misspelled_storage_key_fails_when_the_code_location_loads(tmp_path):
    metadata = {"primary_key": "k", "write_mod": "upsert"}
    module = tmp_path / "bad_defs.py"
    module.write_text(
        textwrap.dedent(
            f"""
            import dagster as dg
            import polars as pl

            from imdb_warehouse.resources import PostgresPolarsIOManager, PostgresResource
            from imdb_warehouse.resources.storage import check_definitions

            @dg.asset(key=["warehouse", "t"], metadata={metadata!r})
            def t() -> pl.DataFrame:
                return pl.DataFrame({{"k": [1]}})

            defs = dg.Definitions(
                assets=[t],
                resources={{"io_manager": PostgresPolarsIOManager(postgres=PostgresResource())}},
            )
            check_definitions(defs)
            """
        )
    )
    result = _validate(module)
    assert result.returncode != 0
    said = result.stdout + result.stderr
    assert "asset warehouse/t: unknown storage metadata ['write_mod']" in said


def test_the_project_s_definitions_pass_the_same_check(tmp_path):
    module = tmp_path / "project_defs.py"
    module.write_text("from imdb_warehouse.definitions import defs  # noqa: F401\n")
    result = _validate(module)
    assert result.returncode == 0, result.stderr[-2000:]


def test_a_typed_storage_refuses_what_metadata_would():
    with pytest.raises(TypeError):
        Storage(write_mod="upsert")  # type: ignore[call-arg]
    with pytest.raises(StorageMetadataError, match="newer_wins and upsert_merge need"):
        Storage(newer_wins="last_seen_date")
    with pytest.raises(StorageMetadataError, match=r"upsert_merge \{'a': 'max'\}"):
        Storage(primary_key="k", write_mode="upsert", upsert_merge={"a": "max"})  # type: ignore[dict-item]


def test_storage_round_trips_through_metadata():
    storage = Storage(
        primary_key=["movie_key"],
        write_mode="upsert",
        newer_wins="last_seen_date",
        partition_expr="last_seen_date",
        upsert_merge={"first_seen_date": "least"},
        foreign_keys={"genre_key": "warehouse.dim_genre"},
        indexes=[["genre_key"]],
    )
    assert Storage.from_metadata("a", storage.metadata()) == storage
    assert Storage.from_metadata("a", {"dagster/table_name": "x.y"}) == Storage()
