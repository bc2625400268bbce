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
