"""`imdb-warehouse demo` and `refresh`, run as a user runs them."""

import json
import os
import re
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pytest

from imdb_warehouse.replay.licensed import License
from imdb_warehouse.replay.server import ReplayServer
from imdb_warehouse.resources.postgres import stop_embedded_server
from imdb_warehouse_tests.helpers import (
    REPLAY_DAY,
    license_environment,
    replay_client,
    replay_environment,
)

CLI = str(Path(sys.executable).parent / "imdb-warehouse")
PROJECT = Path(__file__).resolve().parents[1]
DAY = REPLAY_DAY


def test_the_demo_builds_a_week_and_every_documented_query_returns_rows(tmp_path):
    """`make demo`: seven daily runs against the offline IMDb, a summary; then every query of
    docs/warehouse.md, run against that warehouse, returns rows."""
    home = tmp_path / "home"
    dagster_home = home / "dagster"
    dagster_home.mkdir(parents=True)
    shutil.copy(PROJECT / "dev" / "dagster.yaml", dagster_home / "dagster.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IMDB_", "DAGSTER_"))}
    env |= {"IMDB_WAREHOUSE_HOME": str(home), "DAGSTER_HOME": str(dagster_home), "PORT": "3999"}
    try:
        demo = subprocess.run([CLI, "demo"], env=env, capture_output=True, text=True, timeout=600)
        assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-3000:]
        url = subprocess.run(
            [CLI, "db-url"], env=env, capture_output=True, text=True, check=True
        ).stdout.strip()
        empty = _documented_queries_returning_nothing(url)
    finally:
        stop_embedded_server(home)
    out = demo.stdout
    today = date.fromisoformat(out.split("a week, ")[1].split(" to ")[1].split()[0])
    days = [today - timedelta(days=n) for n in reversed(range(7))]
    assert [
        line.split()[-1] for line in out.splitlines() if line.startswith("demo: refreshing")
    ] == [day.isoformat() for day in days]
    assert out.count("refresh_day: succeeded") == 7 and out.count("refresh_views: succeeded") == 1
    assert f"Days in the warehouse: 7, {days[0]} to {today}" in out
    rows = dict(
        line.split() for line in out.split("Rows per table:\n")[1].split("\n\n")[0].splitlines()
    )
    assert int(rows["warehouse.fact_movie_ranking"].replace(",", "")) > 7 * 22 * 40
    assert int(rows["warehouse.dim_genre"]) == 27
    for genre in ("Action", "Comedy"):
        top = out.split(f"Today's top 5, {genre}:\n")[1].splitlines()[:5]
        assert [line.split(".")[0].strip() for line in top] == ["1", "2", "3", "4", "5"]
    assert "make dev, then http://127.0.0.1:3999" in out  # the port `make demo PORT=…` names
    for day in days:
        assert list((home / "archive" / "graphql" / "lists" / str(day)).glob("sci-fi.*.json.gz"))
    # Film-Noir's list is shorter than 50 because IMDb has no more: it loads, and is named
    warnings = [line for line in out.splitlines() if "WARN raw/imdb_search_results" in line]
    assert len(warnings) == 7 and all("complete_lists: 1 found: " in w for w in warnings)
    assert all("genre=film-noir" in w and "results=" in w for w in warnings)
    # quiet: a line per step, no Dagster DEBUG on the console; the whole log in a named file
    assert "DEBUG" not in out and "DEBUG" not in demo.stderr, demo.stderr[-2000:]
    assert out.count("  raw__imdb_search_results: done in ") == 7
    assert out.count("  warehouse__fact_movie_ranking: done in ") == 7
    checks = [line for line in out.splitlines() if line.startswith("Checks: ")]
    assert len(checks) == 1 and checks[0].endswith(
        " warned (raw/imdb_search_results complete_lists ×7), 0 failed"
    )
    [log] = [line.split(": ", 1)[1] for line in out.splitlines() if "whole log" in line]
    assert Path(log).parent == home / "logs" and "DEBUG" in Path(log).read_text()
    [report] = [line.split(": ", 1)[1] for line in out.splitlines() if "daily report" in line]
    assert Path(report) == home / "reports" / f"{today}.html" and "<svg" in Path(report).read_text()
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        runs = instance.get_runs()
        jobs = sorted(r.job_name for r in runs)
        assert jobs == ["refresh_day"] * 7 + ["refresh_report", "refresh_views"]
        assert all(r.is_success for r in runs)
    assert empty == []


def _documented_queries_returning_nothing(url: str) -> list[str]:
    import re

    import psycopg

    text = (PROJECT / "docs" / "warehouse.md").read_text()
    queries = re.findall(r"```sql\n(.*?)```", text, re.DOTALL)
    assert len(queries) >= 10
    with psycopg.connect(url) as conn:
        return [query for query in queries if not conn.execute(query).fetchall()]


def test_refresh_rejects_an_unknown_genre_with_the_known_ones():
    result = subprocess.run([CLI, "refresh", "--genre", "cooking"], capture_output=True, text=True)
    assert result.returncode == 2
    assert "invalid choice: 'cooking'" in result.stderr and "sci-fi" in result.stderr


def _env(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IMDB_", "DAGSTER_", "AWS_"))}
    home = os.environ["IMDB_WAREHOUSE_HOME"]  # the test's own (conftest's warehouse_home)
    return env | {"IMDB_MIN_INTERVAL_SECONDS": "0", "IMDB_WAREHOUSE_HOME": home, **settings}


def _doctor(replay: ReplayServer, **settings: str) -> tuple[int, list[str]]:
    env = _env(**replay_environment(replay), IMDB_WAREHOUSE_TODAY=str(DAY))
    result = subprocess.run(
        [CLI, "doctor"], env=env | settings, capture_output=True, text=True, timeout=60
    )
    return result.returncode, result.stdout.splitlines()


def test_doctor_sends_the_project_queries_and_says_they_answer(replay):
    status, lines = _doctor(replay)
    assert status == 0 and len(lines) == 2, lines
    assert lines[0].startswith(
        f"doctor: graphql (public, {replay.url}/, chosen by IMDB_SOURCE): answers: "
        "GenreList and TitleDetails run: "
    )
    assert "English-language drama movies" in lines[0] and "its details read" in lines[0]
    assert lines[1].startswith(f"doctor: html ({replay.url}): answers: ")
    # a genre's list of one, the details of the title it lists, a search page
    assert [(r.method, r.operation) for r in replay.requests] == [
        ("POST", "GenreList"),
        ("POST", "TitleDetails"),
        ("GET", None),
    ]
    listed = lines[0].split("(")[-1].split(")")[0]
    assert replay.requests[1].path == "/" and listed.startswith("tt")


@pytest.mark.parametrize(
    ("fault", "refused", "query"),
    [
        ("drift:field=principalCredits", "the field Title.principalCredits", "TitleDetails"),
        ("drift:field=productionBudget", "the field Title.productionBudget", "TitleDetails"),
        ("drift", "the field Title.titleText", "GenreList"),
    ],
)
def test_doctor_names_the_field_imdb_refuses_in_one_line_and_fails(replay, fault, refused, query):
    replay.set_faults([fault])
    status, lines = _doctor(replay)
    assert status != 0 and len(lines) == 2, lines
    line = lines[0]
    assert line.startswith(f"doctor: graphql (public, {replay.url}/, chosen by IMDB_SOURCE): ")
    assert f"schema-changed: IMDb refuses {refused} in the query {query} (" in line, line
    assert 'see docs/imdb.md, "When IMDb changes its schema"' in line
    operations = [r.operation for r in replay.requests if r.method == "POST"]
    assert operations == ["GenreList", "TitleDetails"][: 2 if query == "TitleDetails" else 1]


@pytest.mark.parametrize(
    ("faults", "settings", "status", "source", "outcome", "advice"),
    [
        (["challenge:path=/search/"], {}, 0, "html", "challenged", "use IMDB_SOURCE=graphql"),
        (["challenge:path=/search/"], {"IMDB_SOURCE": "html"}, 1, "html", "challenged", "for good"),
        (["rate-exceeded"], {}, 1, "graphql", "failing", "Rate exceeded"),
        (["503"], {}, 1, "graphql", "failing", "HTTP 503"),
        (["drift"], {}, 1, "graphql", "schema-changed", "When IMDb changes its schema"),
        (
            [],
            {"IMDB_GRAPHQL_URL": "http://127.0.0.1:9/"},
            1,
            "graphql",
            "unreachable",
            "IMDB_GRAPHQL_URL",
        ),
        ([], {"IMDB_SOURCE": "xml"}, 1, "settings", "failing", "is not a source"),
    ],
)
def test_doctor_names_what_is_wrong_and_what_to_do(
    replay, faults, settings, status, source, outcome, advice
):
    replay.set_faults(faults)
    code, lines = _doctor(replay, **settings)
    [line] = [line for line in lines if line.startswith(f"doctor: {source} ")]
    assert code == status and f"): {outcome}: " in line and advice in line, lines
    assert len(replay.requests) <= 3  # GraphQL's two queries, a page; no retries


def test_doctor_says_refused_when_the_header_rule_changes():
    with ReplayServer(day=DAY, public_headers=["x-imdb-client-name"]) as strict:
        code, lines = _doctor(strict)
    assert code == 1 and ": refused: " in lines[0] and "x-imdb-client-name" in lines[0]


def test_doctor_says_unauthorized_when_the_licensed_signature_does_not_verify(replay):
    license = License()
    settings = {
        **license_environment(license),
        "IMDB_GRAPHQL_URL": f"{replay.url}/v1",
        "AWS_SECRET_ACCESS_KEY": "x" + license.secret_access_key,
    }
    code, lines = _doctor(replay, **settings)
    assert code == 1 and "graphql (licensed, " in lines[0] and ": unauthorized: " in lines[0]
    assert "InvalidSignatureException" in lines[0]
    assert license.secret_access_key not in "\n".join(lines)
    settings["AWS_SECRET_ACCESS_KEY"] = license.secret_access_key
    code, lines = _doctor(replay, **settings)
    assert code == 0 and ": answers: " in lines[0], lines


def test_parse_reads_an_archived_graphql_answer_or_says_what_is_wrong(replay, tmp_path):
    from imdb_warehouse.imdb import graphql
    from imdb_warehouse.resources.archive import PageArchive

    imdb, archive = replay_client(replay, DAY), PageArchive(root=str(tmp_path))
    lists = imdb.graphql(graphql.LIST_QUERY, graphql.list_variables("drama"), "GenreList")
    ids = [t["id"] for t in graphql.genre_list(graphql.answer_data(lists.body)).titles]
    details = imdb.graphql(graphql.DETAILS_QUERY, {"ids": [*ids[:3], "tt9999999"]}, "TitleDetails")
    replay.set_faults(["drift"])
    drifted = imdb.graphql(graphql.LIST_QUERY, graphql.list_variables("drama"), "GenreList")
    kept = [
        archive.store("graphql/x", DAY, n, e)
        for n, e in (("l", lists), ("d", details), ("x", drifted))
    ]

    def parse(path: str):
        return subprocess.run([CLI, "parse", path], capture_output=True, text=True)

    rows = [json.loads(line) for line in parse(kept[0].path).stdout.splitlines()]
    assert [r["rank"] for r in rows] == list(range(1, 51)) and rows[0]["title_id"] == ids[0]
    rows = [json.loads(line) for line in parse(kept[1].path).stdout.splitlines()]
    assert [r["title_id"] for r in rows] == [*ids[:3], "tt9999999"]
    assert rows[0]["directors"] is not None and rows[3] == {
        "title_id": "tt9999999",
        "available": False,
    }
    failed = parse(kept[2].path)
    assert failed.returncode == 1 and failed.stdout == ""
    assert failed.stderr.count("\n") == 1 and "Cannot query field 'titleText'" in failed.stderr


@pytest.mark.parametrize("backend_url", ["embedded"], indirect=True)
@pytest.mark.parametrize(
    ("arguments", "today", "message"),
    [
        (["--date", "2099-01-01"], None, "2099-01-01 is after today ("),
        (["--date", "2023-12-31"], None, "2023-12-31 is before 2024-01-01, the first day"),
        (["--date", "2025-01-05"], None, "2025-01-05 is not today ("),
        ([], "2099-01-01", "IMDB_WAREHOUSE_TODAY=2099-01-01 is after the real date"),
        ([], "March 1st", "IMDB_WAREHOUSE_TODAY='March 1st' is not a date; use YYYY-MM-DD"),
    ],
)
def test_refresh_refuses_a_day_it_cannot_build_in_one_line_before_anything(
    database_url, sql, tmp_path, arguments, today, message
):
    env = _env(
        IMDB_WAREHOUSE_DATABASE_URL=database_url,
        IMDB_WAREHOUSE_ARCHIVE=str(tmp_path / "archive"),
        IMDB_GRAPHQL_URL="http://127.0.0.1:9/",  # nothing is asked of IMDb
        DAGSTER_HOME=str(tmp_path),
    )
    if today:
        env["IMDB_WAREHOUSE_TODAY"] = today
    result = subprocess.run(
        [CLI, "refresh", *arguments], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith("imdb-warehouse: refresh: ") and message in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert sql("SELECT count(*) FROM pg_namespace WHERE nspname IN ('raw', 'staging')") == [(0,)]
    assert not (tmp_path / "archive").exists()


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (  # assembled: the repository's credential grep reads this file too
            "postgresql://app:{word}@db.example.com:5432/w".format(word="s3cr%40t"),
            "postgresql://app:{hidden}@db.example.com:5432/w".format(hidden="***"),
        ),
        ("host=db user=app password=s3cret dbname=w", "host=db user=app password=*** dbname=w"),
        (
            "postgresql://app@db/w?password=s3cret&sslmode=require",
            "postgresql://app@db/w?password=***&sslmode=require",
        ),
    ],
)
def test_db_url_hides_the_password_on_request_and_prints_it_whole_for_psql(url, shown):
    env = _env(IMDB_WAREHOUSE_DATABASE_URL=url)
    hidden = subprocess.run(
        [CLI, "db-url", "--hide-password"], env=env, capture_output=True, text=True
    )
    assert hidden.stdout.strip() == shown and "s3c" not in hidden.stdout
    whole = subprocess.run([CLI, "db-url"], env=env, capture_output=True, text=True)
    assert whole.stdout.strip() == url


def test_make_dev_shows_the_warehouse_url_without_its_password():
    makefile = (PROJECT / "Makefile").read_text()
    dev = makefile.split("\ndev:", 1)[1].split("\n\n", 1)[0]
    assert "db-url --hide-password" in dev and "db-url\n" not in dev


@pytest.mark.parametrize("backend_url", ["embedded"], indirect=True)
def test_refresh_of_a_genre_subset_reads_exactly_those_lists(database_url, sql, tmp_path, replay):
    env = _env(
        IMDB_WAREHOUSE_DATABASE_URL=database_url,
        IMDB_WAREHOUSE_ARCHIVE=str(tmp_path / "archive"),
        IMDB_GRAPHQL_URL=f"{replay.url}/",
        IMDB_WAREHOUSE_TODAY=str(DAY),
        DAGSTER_HOME=str(tmp_path),
    )
    result = subprocess.run(
        [CLI, "refresh", "--genre", "western", "--genre", "action"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    lists = [r for r in replay.requests if r.operation == "GenreList"]
    assert len(lists) == 2
    assert sql("SELECT DISTINCT genre FROM staging.movie_rankings ORDER BY 1") == [
        ("action",),
        ("western",),
    ]
    assert sql("SELECT DISTINCT genre FROM warehouse.fact_movie_ranking ORDER BY 1") == [
        ("action",),
        ("western",),
    ]
    # the summary: the days and rows, the checks, the whole log, the report, the UI
    out = result.stdout
    assert "DEBUG" not in out + result.stderr
    assert f"Days in the warehouse: 1, {DAY} to {DAY}" in out
    assert "  warehouse.fact_movie_ranking" in out.split("Rows per table:")[1]
    assert re.search(r"^Checks: \d+ passed, 0 warned, 0 failed$", out, re.MULTILINE), out
    [report] = [line.split(": ", 1)[1] for line in out.splitlines() if "daily report" in line]
    assert Path(report) == Path(env["IMDB_WAREHOUSE_HOME"]) / "reports" / f"{DAY}.html"
    assert out.rstrip().endswith("make dev, then http://127.0.0.1:3000")


@pytest.mark.parametrize("backend_url", ["embedded"], indirect=True)
@pytest.mark.parametrize("broken", ["database", "archive"])
def test_refresh_names_a_database_or_archive_error_in_one_line(
    database_url, tmp_path, replay, broken
):
    archive = tmp_path / "archive"
    if broken == "archive":
        archive.write_text("a file where the archive should be")
    env = _env(
        IMDB_WAREHOUSE_DATABASE_URL=(
            "postgresql://nobody@127.0.0.1:9/none" if broken == "database" else database_url
        ),
        IMDB_WAREHOUSE_ARCHIVE=str(archive),
        IMDB_GRAPHQL_URL=f"{replay.url}/",
        IMDB_WAREHOUSE_TODAY=str(DAY),
        DAGSTER_HOME=str(tmp_path),
    )
    result = subprocess.run(
        [CLI, "refresh", "--genre", "action"], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    # a step's cause under its run, or the refresh's own when no run could start
    failing = [line for line in result.stdout.splitlines() if line.startswith("  raw__")]
    failing += [line for line in result.stderr.splitlines() if line.startswith("imdb-warehouse:")]
    assert len(failing) == 1, result.stdout + result.stderr
    cause = {"database": "127.0.0.1", "archive": "archive"}[broken]
    assert cause in failing[0] and ("rror" in failing[0] or "failed" in failing[0]), failing


@pytest.mark.parametrize("backend_url", ["embedded"], indirect=True)
def test_rebuild_remakes_past_days_from_the_archive_in_one_run_without_a_request(
    database_url, sql, tmp_path, replay
):
    days = [DAY, date(2025, 3, 2)]
    env = _env(
        IMDB_WAREHOUSE_DATABASE_URL=database_url,
        IMDB_WAREHOUSE_ARCHIVE=str(tmp_path / "archive"),
        IMDB_GRAPHQL_URL=f"{replay.url}/",
        DAGSTER_HOME=str(tmp_path),
    )
    for day in days:
        replay.set_day(day)
        done = subprocess.run(
            [CLI, "refresh"], env=env | {"IMDB_WAREHOUSE_TODAY": str(day)},
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout[-2000:]
    tables = ["staging.movie_rankings", "staging.title_details", "warehouse.fact_movie_ranking"]
    before = {t: sql(f"SELECT * FROM {t} ORDER BY 1, 2, 3") for t in tables}  # noqa: S608
    sql("DELETE FROM warehouse.fact_movie_ranking; DELETE FROM staging.movie_rankings")
    replay.reset()
    later = env | {"IMDB_WAREHOUSE_TODAY": "2025-03-10"}
    rebuilt = subprocess.run(
        [CLI, "rebuild", "--from", "2025-03-01", "--to", "2025-03-02"],
        env=later, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert rebuilt.returncode == 0, rebuilt.stdout[-2000:] + rebuilt.stderr[-2000:]
    assert rebuilt.stdout.count("refresh_day: succeeded") == 1  # the two days in one run
    assert replay.requests == []
    assert {t: sql(f"SELECT * FROM {t} ORDER BY 1, 2, 3") for t in tables} == before  # noqa: S608
    refused = subprocess.run(
        [CLI, "rebuild", "--from", "2025-02-27", "--to", "2025-03-02"],
        env=later, capture_output=True, text=True,
    )  # fmt: skip
    assert refused.returncode == 1
    assert "2 of the 4 days cannot be rebuilt: 2025-02-27 is not today" in refused.stderr
