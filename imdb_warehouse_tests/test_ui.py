"""The Dagster UI in a real headless browser (Playwright driving Debian's chromium).

The webserver and daemon run as `make dev` starts them, against a warehouse that holds a
refreshed day. Screenshots go to test-artifacts/ui/.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from psycopg import sql as pgsql

from imdb_warehouse.replay.server import ReplayServer
from imdb_warehouse.resources.postgres import embedded_database_url
from imdb_warehouse_tests.databases import temporary_database
from imdb_warehouse_tests.helpers import free_port, replay_environment

pytestmark = pytest.mark.slow  # a browser against `make dev`

PROJECT = Path(__file__).resolve().parents[1]
ARTIFACTS = PROJECT / "test-artifacts" / "ui"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _listening_addresses(port: int) -> set[str]:
    """The local addresses of the TCP sockets listening on `port` (from /proc/net/tcp*)."""
    addresses = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, local_port = local.split(":")
            if state == "0A" and int(local_port, 16) == port:  # 0A: LISTEN
                raw = bytes.fromhex(address)
                if len(raw) == 4:  # little-endian IPv4
                    addresses.add(socket.inet_ntop(socket.AF_INET, raw[::-1]))
                else:  # IPv6, as four little-endian 32-bit words
                    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
                    addresses.add(socket.inet_ntop(socket.AF_INET6, words))
    return addresses


def _wait_for(url: str, process: subprocess.Popen, seconds: int = 120) -> None:
    deadline = time.monotonic() + seconds
    while True:
        assert process.poll() is None, "the UI process exited"
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            assert time.monotonic() < deadline, f"{url} did not answer within {seconds} s"
            time.sleep(1)


@pytest.fixture
def ui(tmp_path, monkeypatch, embedded_home):
    """`make dev` on a free port, over a warehouse holding today's Action list, with the
    offline IMDb serving today."""
    home = tmp_path / "home"
    dagster_home = home / "dagster"
    dagster_home.mkdir(parents=True)
    (dagster_home / "dagster.yaml").write_text((PROJECT / "dev" / "dagster.yaml").read_text())
    today = datetime.now(UTC).date()
    with (
        temporary_database(embedded_database_url(embedded_home), prefix="imdbw_ui") as url,
        ReplayServer(day=today) as replay,
    ):
        for name, value in {
            "IMDB_WAREHOUSE_DATABASE_URL": url,
            "IMDB_WAREHOUSE_HOME": str(home),
            **replay_environment(replay),
            "IMDB_WAREHOUSE_TODAY": today.isoformat(),
        }.items():
            monkeypatch.setenv(name, value)
        env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
        cli = subprocess.run(
            [str(Path(sys.executable).parent / "imdb-warehouse"), "refresh", "--genre", "action"],
            env={**env, "DAGSTER_HOME": str(dagster_home)}, capture_output=True, text=True,
            timeout=300,
        )  # fmt: skip
        assert cli.returncode == 0, cli.stdout + cli.stderr
        [cli_run] = [
            line.split("(run ")[1].rstrip(")")
            for line in cli.stdout.splitlines()
            if line.startswith("refresh_day: succeeded")
        ]
        port = free_port()
        process = subprocess.Popen(
            [
                "make",
                "-o",
                "install",
                "dev",
                f"PORT={port}",
                f"VENV={Path(sys.executable).parents[1]}",
            ],
            cwd=PROJECT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # dagster dev may ignore SIGTERM: we own and kill its group
        )
        try:
            _wait_for(f"http://127.0.0.1:{port}/server_info", process)
            assert _listening_addresses(port) == {"127.0.0.1"}, (
                "the UI must listen on localhost only"
            )
            yield f"http://127.0.0.1:{port}", today, url, cli_run
        finally:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_the_ui_shows_lineage_and_columns_and_refreshes_today_in_one_run(ui):
    from playwright.sync_api import sync_playwright

    base, today, database_url, cli_run = ui
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1800, "height": 1000})
        page.add_locator_handler(
            page.get_by_text("Join the Dagster community"),
            lambda: page.get_by_role("button", name="Skip").click(),
        )
        try:
            # the lineage of an analytics view, all the way up to the raw pages
            page.goto(
                f"{base}/assets/analytics/daily_rankings?view=lineage&lineageScope=upstream&lineageDepth=10",
                wait_until="networkidle",
            )
            for name in ("imdb_title_pages", "movie_rankings", "title_details", "dim_movie",
                         "fact_movie_ranking", "daily_rankings"):  # fmt: skip
                page.get_by_text(name, exact=True).first.wait_for(timeout=30_000)
            page.get_by_text(
                "imdb_sear", exact=False
            ).first.wait_for()  # imdb_search_results, cut short
            for group in ("raw", "staging", "warehouse", "analytics"):
                page.get_by_text(group, exact=True).first.wait_for()
            page.screenshot(path=ARTIFACTS / "lineage.png")

            # an asset page with its column schema
            page.goto(f"{base}/assets/staging/title_details", wait_until="networkidle")
            page.get_by_text("IMDb title id, tt…").wait_for(timeout=30_000)
            page.get_by_text(
                "Directors in billing order: {id nm…, name}; null when unknown"
            ).wait_for()
            page.screenshot(path=ARTIFACTS / "columns.png", full_page=True)

            # where each column comes from, on the latest materialization: the warehouse
            # column from staging's, staging's from IMDb's field
            page.goto(f"{base}/assets/warehouse/fact_box_office", wait_until="networkidle")
            sources = _metadata_text(page, "column_sources")
            assert "gross_worldwide_amount\tstaging/title_details.gross_worldwide_amount" in sources
            page.screenshot(path=ARTIFACTS / "column_sources.png")
            page.goto(f"{base}/assets/staging/title_details", wait_until="networkidle")
            sources = _metadata_text(page, "column_sources")
            assert "imdb/graphql_api.worldwideGross.total.amount" in sources, sources

            # a SQL check run on its own from its page ("Execute"): it checks the newest day
            page.goto(
                f"{base}/assets/warehouse/fact_movie_ranking?view=checks",
                wait_until="networkidle",
            )
            page.get_by_text("ranks_one_to_n", exact=True).first.click()
            page.get_by_text("Execute", exact=True).last.click()
            check_run = _check_run(base, "ranks_one_to_n")
            page.screenshot(path=ARTIFACTS / "check_executed.png")

            # the day `imdb-warehouse refresh` ran is a run of the job, on its page
            page.goto(f"{base}/locations/imdb_warehouse/jobs/refresh_day/runs")
            page.get_by_text(cli_run[:8], exact=True).first.wait_for(timeout=30_000)
            page.screenshot(path=ARTIFACTS / "cli_run_under_its_job.png")

            # "refresh this day": the job refresh_day for today's partition, from its page;
            # the daemon runs it. The days offered are those that can be built: today only
            # (the archive holds nothing older).
            page.goto(f"{base}/locations/imdb_warehouse/jobs/refresh_day", wait_until="networkidle")
            page.get_by_role("button", name="Materialize all…").first.click()
            dialog = page.get_by_role("dialog")
            dialog.get_by_text("Select a partition or create one").click()
            page.get_by_text("Select all (1)").wait_for()  # the days offered: today, only
            page.screenshot(path=ARTIFACTS / "days_offered.png")
            page.get_by_role("menuitem", name=today.isoformat()).click()
            dialog.get_by_role("button", name="Launch 1 run").click()
            run_id = _launched_run(base, today.isoformat())
            page.goto(f"{base}/runs/{run_id}", wait_until="networkidle")
            page.get_by_text("Success", exact=True).first.wait_for(timeout=120_000)
            page.screenshot(path=ARTIFACTS / "run.png")
        except Exception:
            page.screenshot(path=ARTIFACTS / "failure.png")
            raise
        finally:
            browser.close()
    fields = "status jobName assetSelection { path }"
    alone = _graphql(
        base,
        f'{{ runOrError(runId: "{check_run}") {{ ... on Run {{ status assetSelection {{ path }} '
        "assetCheckSelection { name } } } }",
    )["runOrError"]
    assert alone["status"] == "SUCCESS" and not alone["assetSelection"]  # no asset ran
    assert alone["assetCheckSelection"] == [{"name": "ranks_one_to_n"}]
    executions = _graphql(
        base,
        '{ assetCheckExecutions(assetKey: {path: ["warehouse", "fact_movie_ranking"]}, '
        'checkName: "ranks_one_to_n", limit: 5) { runId evaluation { success } } }',
    )["assetCheckExecutions"]  # the day's run launched later evaluated it too
    [alone_evaluation] = [e["evaluation"] for e in executions if e["runId"] == check_run]
    assert alone_evaluation["success"] is True
    run = _graphql(base, f'{{ runOrError(runId: "{run_id}") {{ ... on Run {{ {fields} }} }} }}')
    assert run["runOrError"]["status"] == "SUCCESS"
    assert run["runOrError"]["jobName"] == "refresh_day"
    assert len(run["runOrError"]["assetSelection"]) == 12  # the whole day, in this one run
    with psycopg.connect(database_url) as conn:  # every table of the warehouse holds the day
        for table, column in [
            ("fact_movie_ranking", "snapshot_date"), ("fact_box_office", "snapshot_date"),
            ("dim_movie", "last_seen_date"), ("dim_person", "last_seen_date"),
            ("bridge_movie_person", "last_seen_date"), ("bridge_movie_genre", "last_seen_date"),
        ]:  # fmt: skip
            query = pgsql.SQL("SELECT count(*) FROM {} WHERE {} = %s").format(
                pgsql.Identifier("warehouse", table), pgsql.Identifier(column)
            )
            assert conn.execute(query, [today]).fetchone()[0] > 0, table
        genres = conn.execute(
            "SELECT count(DISTINCT genre) FROM warehouse.fact_movie_ranking WHERE snapshot_date = %s",  # noqa: E501
            [today],
        ).fetchone()
        assert genres == (22,)  # the seeded day held one genre; the UI's run read them all


def _graphql(base: str, query: str) -> dict:
    request = urllib.request.Request(
        f"{base}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["data"]


def _metadata_text(page, key: str) -> str:
    """The text of the latest materialization's metadata entry `key` (a long markdown opens
    in a dialog)."""
    row = page.get_by_role("row").filter(has=page.get_by_text(key, exact=True)).first
    row.wait_for(timeout=30_000)
    show = row.get_by_text("[Show Markdown]")
    if not show.count():
        return row.inner_text()
    show.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("table").first.wait_for()
    text = dialog.inner_text()
    page.keyboard.press("Escape")
    return text


def _check_run(base: str, check: str) -> str:
    """The run of `check` alone that the UI just launched, once it has ended."""
    deadline = time.monotonic() + 120
    query = (
        "{ runsOrError(limit: 5) { ... on Runs { results { runId status "
        "assetCheckSelection { name } } } } }"
    )
    while time.monotonic() < deadline:
        for run in _graphql(base, query)["runsOrError"]["results"]:
            names = [c["name"] for c in run["assetCheckSelection"] or []]
            if names == [check] and run["status"] in ("SUCCESS", "FAILURE"):
                return run["runId"]
        time.sleep(1)
    raise AssertionError(f"the UI launched no run of {check} that ended")


def _launched_run(base: str, partition: str) -> str:
    """The run the UI just launched for `partition` (not one of the seeding runs)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        runs = _graphql(
            base,
            "{ runsOrError(limit: 5) { ... on Runs { results { runId tags { key value } } } } }",
        )
        for run in runs["runsOrError"]["results"]:
            tags = {tag["key"]: tag["value"] for tag in run["tags"]}
            if (
                tags.get("dagster/partition") == partition
                and "imdb_warehouse/in_process" not in tags
            ):
                return run["runId"]
        time.sleep(0.5)
    raise AssertionError("the UI launched no run")
