"""What the catalogue shows of every asset and check, compared with a reviewed snapshot.

A refactor of how assets are declared must leave this unchanged; a deliberate change of an
asset rewrites the snapshot (`IMDB_WAREHOUSE_UPDATE_SNAPSHOT=1 pytest <this file>`), and the
snapshot's diff is what a reviewer reads.
"""

import json
import os
from pathlib import Path

import dagster as dg

from imdb_warehouse.definitions import defs

SNAPSHOT = Path(__file__).with_name("asset_specs.json")


def _value(value: object) -> object:
    if isinstance(value, dg.TableSchema):
        return [
            {
                "name": c.name,
                "type": c.type,
                "description": c.description,
                "nullable": c.constraints.nullable,
                "unique": c.constraints.unique,
            }
            for c in value.columns
        ]
    if isinstance(value, dg.TableColumnLineage):
        return {
            column: sorted(f"{d.asset_key.to_user_string()}.{d.column_name}" for d in deps)
            for column, deps in value.deps_by_column.items()
        }
    if isinstance(value, dg.AssetKey):
        return value.to_user_string()
    if isinstance(value, dg.MetadataValue):
        return _value(value.value)
    if isinstance(value, dict):
        return {k: _value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_value(v) for v in value]
    return value


def asset_specs() -> dict:
    graph = defs.resolve_asset_graph()
    checks: dict[str, dict] = {}
    for check_key in graph.asset_check_keys:
        node = graph.get_check_spec(check_key)
        checks.setdefault(check_key.asset_key.to_user_string(), {})[check_key.name] = {
            "blocking": node.blocking,
            "description": node.description,
        }
    specs = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        name = key.to_user_string()
        specs[name] = {
            "group": node.group_name,
            "kinds": sorted(node.kinds),
            "owners": list(node.owners),
            "description": node.description,
            "partitions": type(node.partitions_def).__name__ if node.partitions_def else None,
            "backfill_policy": str(node.backfill_policy) if node.backfill_policy else None,
            "pool": node.pools and sorted(node.pools),
            "deps": sorted(k.to_user_string() for k in node.parent_keys),
            "metadata": {k: _value(v) for k, v in sorted(node.metadata.items())},
            "checks": dict(sorted(checks.get(name, {}).items())),
        }
    return specs


def test_the_assets_and_checks_are_what_the_snapshot_says():
    specs = asset_specs()
    if os.environ.get("IMDB_WAREHOUSE_UPDATE_SNAPSHOT") == "1":
        SNAPSHOT.write_text(json.dumps(specs, indent=1, ensure_ascii=False, default=str) + "\n")
    expected = json.loads(SNAPSHOT.read_text())
    actual = json.loads(json.dumps(specs, default=str))
    assert sorted(actual) == sorted(expected)
    for name in expected:
        assert actual[name] == expected[name], name
