"""No credentials in the repository; hostile names and values are quoted, never executed."""

import re
import subprocess
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
# What may stand where a secret would: placeholders, env references, and the throwaway
# password "pw" the tests give the roles they create on the trust-auth test server.
PLACEHOLDER = re.compile(r"^(\$|\{|<|:|change-me|pw$|password$|unused-with-trust-auth$)")
SECRETS = [
    # a quoted literal given to a secret-named key (in code, YAML or JSON)
    re.compile(
        r"(?i)\b(?:password|passwd|secret|token|api_?key)\b['\"]?(?:\s*=\s*|:\s*)['\"]([^'\"]+)['\"]"
    ),
    # an env-file or shell assignment: FOO_PASSWORD=…
    re.compile(r"^\s*(?:export\s+)?[A-Z_]*(?:PASSWORD|SECRET|TOKEN|API_KEY)[A-Z_]*=(\S+)"),
    # a URL with a password in it: scheme://user:password@host
    re.compile(r"://[^:/\s'\"]+:([^@/\s'\"]+)@"),
]
KEYS = [re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"), re.compile(r"\bAKIA[0-9A-Z]{16}\b")]


def _tracked_files() -> list[Path]:
    names = subprocess.run(
        ["git", "ls-files"], cwd=PROJECT, capture_output=True, text=True, check=True
    ).stdout.split()
    return [PROJECT / name for name in names if (PROJECT / name).is_file()]


def _secrets_in(line: str) -> list[str]:
    found = ["a private key" for key in KEYS if key.search(line)]
    for pattern in SECRETS:
        found += [m.group(1) for m in pattern.finditer(line) if not PLACEHOLDER.match(m.group(1))]
    return found


def test_no_credentials_are_committed():
    found = []
    for path in _tracked_files():
        try:
            lines = path.read_text().splitlines()
        except UnicodeDecodeError:
            continue
        found += [
            f"{path.relative_to(PROJECT)}:{number}: {line.strip()[:100]}"
            for number, line in enumerate(lines, start=1)
            if _secrets_in(line)
        ]
    assert found == []


def test_the_grep_sees_each_kind_of_committed_secret():
    # Assembled here so that this file, which the grep also reads, holds no secret-shaped line.
    value = "hunter" + "2"
    for line in [
        f'IMDB_WAREHOUSE_DATABASE_URL = "postgresql://app:{value}@db.example.com/warehouse"',
        f"WAREHOUSE_PASSWORD={value}",
        f'password: "{value}"',
        f"token = '{value}'",
        "-----BEGIN RSA " + "PRIVATE KEY-----",
    ]:
        assert _secrets_in(line), line
    for line in [
        "password: {env: DAGSTER_PG_PASSWORD}",
        "POSTGRES_PASSWORD=change-me-superuser",
        "CREATE ROLE :\"analyst_role\" LOGIN PASSWORD :'analyst_password';",
        "IMDB_WAREHOUSE_DATABASE_URL: postgresql://warehouse:${WAREHOUSE_PASSWORD}@postgres:5432/x",
    ]:
        assert not _secrets_in(line), line


def test_the_licensed_secrets_reach_no_log_metadata_archive_row_or_error(
    database_url, tmp_path, monkeypatch, caplog, sql
):
    """A licensed refresh with known secrets, then one that IMDb refuses: the API key and the
    AWS secret are looked for in the Dagster event log (metadata included), the Python logs,
    the archive, the warehouse's raw and staging rows, and the errors."""
    import gzip
    import logging
    import uuid
    from datetime import date

    import dagster as dg
    from dagster._serdes import serialize_value

    from imdb_warehouse import tables
    from imdb_warehouse.assets import raw, staging
    from imdb_warehouse.replay.licensed import License
    from imdb_warehouse.replay.server import ReplayServer
    from imdb_warehouse_tests.helpers import (
        license_environment,
        materialize,
        pipeline_resources,
        replay_client,
    )

    day = date(2025, 3, 1)

    license = License(api_key=f"key-{uuid.uuid4().hex}", secret_access_key=uuid.uuid4().hex)
    secrets = [license.api_key, license.secret_access_key]
    for name, value in license_environment(license).items():
        monkeypatch.setenv(name, value)
    shown = []
    with (
        ReplayServer(day=day, license=license) as replay,
        dg.DagsterInstance.ephemeral() as instance,
    ):
        imdb = replay_client(replay, day, graphql_url=f"{replay.url}/v1")
        resources = pipeline_resources(database_url, imdb, tmp_path / "archive")
        assets = [
            raw.imdb_search_results,
            staging.movie_rankings,
            raw.imdb_title_pages,
            staging.title_details,
        ]
        with caplog.at_level(logging.DEBUG):
            runs = [
                materialize(
                    assets,
                    selection=[tables.SEARCH_RESULTS.key, tables.MOVIE_RANKINGS.key],
                    resources=resources,
                    day=day,
                    genres=["drama"],
                    instance=instance,
                ),
                materialize(
                    assets,
                    selection=[tables.TITLE_PAGES.key, tables.TITLE_DETAILS.key],
                    resources=resources,
                    day=day,
                    instance=instance,
                ),
            ]
            assert all(run.success for run in runs)
            assert replay.requests and {r.path for r in replay.requests} == {"/v1"}
            monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x" + license.secret_access_key)
            refused = materialize(
                assets,
                selection=[tables.SEARCH_RESULTS.key],
                resources=resources,
                day=day,
                genres=["comedy"],
                instance=instance,
                raise_on_error=False,
            )
        assert not refused.success
        error = "\n".join(
            e.step_failure_data.error.to_string() for e in refused.all_events if e.is_step_failure
        )
        assert "InvalidSignatureException" in error
        for run in [*runs, refused]:
            shown += [serialize_value(entry) for entry in instance.all_logs(run.run_id)]
            record = instance.get_run_by_id(run.run_id)
            shown.append(serialize_value(record.run_config) + serialize_value(record.tags))
    shown += [error, caplog.text]
    shown += [
        gzip.decompress(p.read_bytes()).decode() for p in (tmp_path / "archive").rglob("*.gz")
    ]
    for table in ("raw.imdb_search_results", "raw.imdb_title_pages", "staging.movie_rankings"):
        shown.append(str(sql(f"SELECT * FROM {table}")))  # noqa: S608
    assert len(shown) > 20 and any("x-amzn-dataexchange-asset-id" in s for s in shown)
    for secret in secrets:
        assert not [s[:200] for s in shown if secret in s]
