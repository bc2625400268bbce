"""The Dagster UI in a real headless browser (Playwright driving Debian's chromium).

The webserver and daemon run as `make dev` starts them, against a warehouse that holds a genre
of yesterday and one of today, each refreshed by the CLI. Screenshots go to test-artifacts/ui/.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from psycopg import sql as pgsql

from imdb_warehouse.partitions import GENRES, RANGE_END, RANGE_START
from imdb_warehouse.replay.server import ReplayServer
from imdb_warehouse.resources.postgres import embedded_database_url
from imdb_warehouse.schedules import CALENDAR, DAY_ASSETS
from imdb_warehouse_tests.databases import temporary_database
from imdb_warehouse_tests.helpers import free_port, replay_environment

pytestmark = pytest.mark.slow  # a browser against `make dev`

FAILING = "horror"  # the genre whose list IMDb fails to send once today
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


@dataclass(frozen=True)
class UI:
    """`make dev`'s UI at `base`, over the warehouse at `database_url` and the offline IMDb
    `replay` (serving `today`); `cli_run` is the run of today's `refresh --genre action`."""

    base: str
    today: date
    yesterday: date
    database_url: str
    replay: ReplayServer
    cli_run: str


@pytest.fixture(scope="module")
def ui(tmp_path_factory, embedded_home):
    """`make dev` on a free port, over a warehouse holding yesterday's Horror list and today's
    Action list (each refreshed by `imdb-warehouse refresh`, as IMDb served it that day), with
    the offline IMDb serving today."""
    home = tmp_path_factory.mktemp("ui") / "home"
    dagster_home = home / "dagster"
    dagster_home.mkdir(parents=True)
    (dagster_home / "dagster.yaml").write_text((PROJECT / "dev" / "dagster.yaml").read_text())
    today = datetime.now(UTC).date()
    yesterday = today - timedelta(days=1)
    with (
        temporary_database(embedded_database_url(embedded_home), prefix="imdbw_ui") as url,
        ReplayServer(day=yesterday) as replay,
    ):
        env = {
            **{k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"},
            "IMDB_WAREHOUSE_DATABASE_URL": url,
            "IMDB_WAREHOUSE_HOME": str(home),
            **replay_environment(replay),
        }
        _refresh(env, dagster_home, yesterday, FAILING)
        replay.set_day(today)
        cli_run = _refresh(env, dagster_home, today, "action")
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
            env={**env, "IMDB_WAREHOUSE_TODAY": today.isoformat()},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # dagster dev may ignore SIGTERM: we own and kill its group
        )
        try:
            _wait_for(f"http://127.0.0.1:{port}/server_info", process)
            assert _listening_addresses(port) == {"127.0.0.1"}, (
                "the UI must listen on localhost only"
            )
            yield UI(f"http://127.0.0.1:{port}", today, yesterday, url, replay, cli_run)
        finally:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _refresh(env: dict[str, str], dagster_home: Path, day: date, genre: str) -> str:
    """`imdb-warehouse refresh --genre <genre>` on `day` (as the replay serves it); its run."""
    cli = subprocess.run(
        [str(Path(sys.executable).parent / "imdb-warehouse"), "refresh", "--genre", genre],
        env={**env, "DAGSTER_HOME": str(dagster_home), "IMDB_WAREHOUSE_TODAY": day.isoformat()},
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert cli.returncode == 0, cli.stdout + cli.stderr
    [run] = [
        line.split("(run ")[1].rstrip(")")
        for line in cli.stdout.splitlines()
        if line.startswith("refresh_day: succeeded")
    ]
    return run


@contextmanager
def _browser(name: str) -> Iterator:
    """A page of a headless chromium, the Dagster community prompt skipped whenever it shows;
    the page is screenshot to `<name>_failure.png` if the block fails."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1800, "height": 1300})  # a day's 22 genres
        page.add_locator_handler(
            page.get_by_text("Join the Dagster community"),
            lambda: page.get_by_role("button", name="Skip").click(),
        )
        try:
            yield page
        except Exception:
            page.screenshot(path=ARTIFACTS / f"{name}_failure.png")
            raise
        finally:
            browser.close()


def test_the_ui_shows_lineage_and_columns_and_runs_a_check_alone(ui):
    with _browser("lineage") as page:
        # the lineage of an analytics view, all the way up to the raw pages
        page.goto(
            f"{ui.base}/assets/analytics/daily_rankings?view=lineage&lineageScope=upstream&lineageDepth=10",
            wait_until="networkidle",
        )
        for name in ("imdb_title_pages", "movie_rankings", "title_details", "dim_movie",
                     "fact_movie_ranking", "daily_rankings"):  # fmt: skip
            page.get_by_text(name, exact=True).first.wait_for(timeout=30_000)
        page.get_by_text("imdb_sear", exact=False).first.wait_for()  # imdb_search_results, cut
        for group in ("raw", "staging", "warehouse", "analytics"):
            page.get_by_text(group, exact=True).first.wait_for()
        page.screenshot(path=ARTIFACTS / "lineage.png")

        # an asset page with its column schema
        page.goto(f"{ui.base}/assets/staging/title_details", wait_until="networkidle")
        page.get_by_text("IMDb title id, tt…").wait_for(timeout=30_000)
        page.get_by_text("Directors in billing order: {id nm…, name}; null when unknown").wait_for()
        page.screenshot(path=ARTIFACTS / "columns.png", full_page=True)

        # where each column comes from, on the latest materialization: the warehouse
        # column from staging's, staging's from IMDb's field
        page.goto(f"{ui.base}/assets/warehouse/fact_box_office", wait_until="networkidle")
        sources = _metadata_text(page, "column_sources")
        assert "gross_worldwide_amount\tstaging/title_details.gross_worldwide_amount" in sources
        page.screenshot(path=ARTIFACTS / "column_sources.png")
        page.goto(f"{ui.base}/assets/staging/title_details", wait_until="networkidle")
        sources = _metadata_text(page, "column_sources")
        assert "imdb/graphql_api.worldwideGross.total.amount" in sources, sources

        # a SQL check run on its own from its page ("Execute"): it checks the newest day
        page.goto(
            f"{ui.base}/assets/warehouse/fact_movie_ranking?view=checks", wait_until="networkidle"
        )
        page.get_by_text("ranks_one_to_n", exact=True).first.click()
        page.get_by_text("Execute", exact=True).last.click()
        check_run = _check_run(ui.base, "ranks_one_to_n")
        page.screenshot(path=ARTIFACTS / "check_executed.png")

        # the day `imdb-warehouse refresh` ran is a run of the job, on its page
        page.goto(f"{ui.base}/locations/imdb_warehouse/jobs/refresh_day/runs")
        page.get_by_text(ui.cli_run[:8], exact=True).first.wait_for(timeout=30_000)
        page.screenshot(path=ARTIFACTS / "cli_run_under_its_job.png")
    alone = _graphql(
        ui.base,
        f'{{ runOrError(runId: "{check_run}") {{ ... on Run {{ status assetSelection {{ path }} '
        "assetCheckSelection { name } } } }",
    )["runOrError"]
    assert alone["status"] == "SUCCESS" and not alone["assetSelection"]  # no asset ran
    assert alone["assetCheckSelection"] == [{"name": "ranks_one_to_n"}]
    executions = _graphql(
        ui.base,
        '{ assetCheckExecutions(assetKey: {path: ["warehouse", "fact_movie_ranking"]}, '
        'checkName: "ranks_one_to_n", limit: 5) { runId evaluation { success } } }',
    )["assetCheckExecutions"]
    [alone_evaluation] = [e["evaluation"] for e in executions if e["runId"] == check_run]
    assert alone_evaluation["success"] is True


GRID_ASSETS = ("raw/imdb_search_results", "warehouse/fact_movie_ranking")


def test_the_partitions_tab_shows_days_by_genres_and_the_ui_runs_a_genre_or_a_day(ui):
    """The grid of days × genres on an asset's Partitions tab, read from the page as each
    launch from the job's page changes it: one genre of today (one run of that partition,
    only its rows change), that genre failing and then rebuilt (red for that day only, then
    green), and the whole day (one run over the range of its 22 partitions)."""
    today, yesterday, alone = ui.today, ui.yesterday, "comedy"
    seeded = {yesterday: {FAILING}, today: {"action"}}
    with _browser("partitions") as page:
        for asset in GRID_ASSETS:  # each refresh materialized its one list, and nothing else
            for day, materialized in seeded.items():
                _expect_grid(page, ui.base, asset, day, materialized)
        page.screenshot(path=ARTIFACTS / "grid_seeded.png")

        # one genre of today, picked in the job's partition picker: one run of that partition,
        # at most two requests to IMDb (its list, its movies' details); only its rows change
        lists = _lists(ui.database_url)
        ui.replay.reset()
        [run] = _launch(page, ui.base, today, alone)
        assert run["status"] == "SUCCESS", run
        assert run["tags"]["dagster/partition"] == f"{today}|{alone}"
        assert len(ui.replay.requests) <= 2, ui.replay.requests
        after = _lists(ui.database_url)
        assert {key: rows for key, rows in after.items() if key != (today, alone)} == lists
        assert len(after[(today, alone)]) == 50
        assert _box_office_of(ui.database_url, today, alone) > 0
        for asset in GRID_ASSETS:
            _expect_grid(page, ui.base, asset, today, {"action", alone})
        page.screenshot(path=ARTIFACTS / "grid_one_genre.png")

        # IMDb sends an empty Horror list once: the run of today's Horror fails; that
        # partition is red, the same genre yesterday and the other genres today stay as they were
        ui.replay.reset()
        ui.replay.set_faults(["empty-list:path=/graphql/GenreList,times=1"])
        try:
            [run] = _launch(page, ui.base, today, FAILING)
        finally:
            ui.replay.set_faults([])
        assert run["status"] == "FAILURE", run
        assert [(r.operation, r.fault) for r in ui.replay.requests] == [("GenreList", "empty-list")]
        assert _lists(ui.database_url) == after  # nothing of it landed
        page.goto(f"{ui.base}/runs/{run['runId']}", wait_until="networkidle")
        page.get_by_text("IMDb sent an empty list", exact=False).first.wait_for(timeout=30_000)
        page.screenshot(path=ARTIFACTS / "run_failed.png")
        for asset in GRID_ASSETS:
            _expect_grid(page, ui.base, asset, yesterday, {FAILING})
            _expect_grid(page, ui.base, asset, today, {"action", alone}, failed={FAILING})
        page.screenshot(path=ARTIFACTS / "grid_failed.png")

        # IMDb answers again: the same partition launched again turns green
        [run] = _launch(page, ui.base, today, FAILING)
        assert run["status"] == "SUCCESS", run
        for asset in GRID_ASSETS:
            _expect_grid(page, ui.base, asset, today, {"action", alone, FAILING})
        page.screenshot(path=ARTIFACTS / "grid_rebuilt.png")

        # "refresh this day": today, all genres, from the job's page: ONE run over the range
        # of the day's 22 partitions, at most 30 requests to IMDb
        ui.replay.reset()
        [run] = _launch(page, ui.base, today, None)
        assert run["status"] == "SUCCESS", run
        assert "dagster/backfill" in run["tags"]  # "Launch backfill": its one run
        assert (run["tags"][RANGE_START], run["tags"][RANGE_END]) == (
            f"{today}|{GENRES[0]}",
            f"{today}|{GENRES[-1]}",
        )
        # the whole day, in this one run: every table of a day, and the calendar
        assert len(run["assetSelection"]) == len(CALENDAR) + len(DAY_ASSETS)
        assert len(ui.replay.requests) <= 30
        page.goto(f"{ui.base}/runs/{run['runId']}", wait_until="networkidle")
        page.get_by_text("Success", exact=True).first.wait_for(timeout=30_000)
        page.screenshot(path=ARTIFACTS / "run.png")
        for asset in GRID_ASSETS:
            _expect_grid(page, ui.base, asset, yesterday, {FAILING})
            _expect_grid(page, ui.base, asset, today, set(GENRES))
        page.screenshot(path=ARTIFACTS / "grid_day.png")
    with psycopg.connect(ui.database_url) as conn:  # every table of the warehouse holds the day
        for table, column in [
            ("fact_movie_ranking", "snapshot_date"), ("fact_box_office", "snapshot_date"),
            ("dim_movie", "last_seen_date"), ("dim_person", "last_seen_date"),
            ("bridge_movie_person", "last_seen_date"), ("bridge_movie_genre", "last_seen_date"),
        ]:  # fmt: skip
            query = pgsql.SQL("SELECT count(*) FROM {} WHERE {} = %s").format(
                pgsql.Identifier("warehouse", table), pgsql.Identifier(column)
            )
            assert conn.execute(query, [today]).fetchone()[0] > 0, table
    final = _lists(ui.database_url)
    assert {genre for day, genre in final if day == today} == set(GENRES)
    assert {key: rows for key, rows in final.items() if key[0] == yesterday} == {
        key: rows for key, rows in lists.items() if key[0] == yesterday
    }  # today's runs never rewrote yesterday's list


def _launch(page, base: str, day: date, genre: str | None) -> list[dict]:
    """Launch the job refresh_day from its page ("Materialize all…") for `day` × `genre` (None:
    all genres); the runs it made, once each has ended (and the backfill, when one was made)."""
    page.goto(f"{base}/locations/imdb_warehouse/jobs/refresh_day", wait_until="networkidle")
    before = {run["runId"] for run in _runs(base)}
    page.get_by_role("button", name="Materialize all…").first.click()
    dialog = page.get_by_role("dialog")
    menu = _open_menu(page, dialog.get_by_text("Select a partition or create one").first)  # day
    menu.get_by_text("Select all (2)").wait_for()  # the days offered: those archived, only
    if genre is None:
        page.screenshot(path=ARTIFACTS / "days_offered.png")
    menu.get_by_title(day.isoformat(), exact=True).click()
    _close(page, menu)
    if genre is None:
        dialog.get_by_role("button", name="All", exact=True).last.click()  # every genre
        dialog.get_by_text("22 partitions", exact=True).wait_for()
        launch = "Launch backfill"
    else:
        menu = _open_menu(page, dialog.get_by_text("Select a partition or create one"))
        page.get_by_placeholder("Filter partitions").fill(genre)  # the menu shows a few only
        menu.get_by_title(genre, exact=True).click()
        _close(page, menu)
        dialog.get_by_text("1 partition", exact=True).wait_for()
        launch = "Launch 1 run"
    page.screenshot(path=ARTIFACTS / f"launch_{genre or 'day'}.png")
    dialog.get_by_role("button", name=launch).click()
    dialog.wait_for(state="hidden")
    return _new_runs(base, before, backfill=genre is None)


def _open_menu(page, picker):
    """The menu of a partition picker, clicked open (again while the dialog, still loading its
    partitions, closes it)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    menu = page.get_by_role("menu").filter(has_text="Select all").first  # nested: the outer
    for _ in range(3):
        picker.click()
        try:
            menu.wait_for(timeout=5_000)
            return menu
        except PlaywrightTimeout:
            continue
    raise AssertionError("the partition picker did not open")


def _close(page, menu) -> None:
    page.keyboard.press("Escape")
    menu.wait_for(state="hidden")  # gone, before another picker opens


def _runs(base: str) -> list[dict]:
    """The runs of refresh_day, newest first."""
    runs = _graphql(
        base,
        '{ runsOrError(filter: {pipelineName: "refresh_day"}) { ... on Runs { results { '
        "runId status tags { key value } assetSelection { path } } } } }",
    )["runsOrError"]["results"]
    return [{**run, "tags": {tag["key"]: tag["value"] for tag in run["tags"]}} for run in runs]


ENDED = {"SUCCESS", "FAILURE", "CANCELED"}
BACKFILL_ENDED = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}


def _new_runs(base: str, before: set[str], backfill: bool, seconds: int = 180) -> list[dict]:
    """The runs of refresh_day not in `before`, once there is one and all have ended (and,
    for a `backfill`, the newest backfill has ended too: it makes no more)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        new = [run for run in _runs(base) if run["runId"] not in before]
        ended = new and all(run["status"] in ENDED for run in new)
        if ended and (not backfill or _newest_backfill_status(base) in BACKFILL_ENDED):
            return new
        time.sleep(1)
    raise AssertionError(f"the runs launched from the UI did not end within {seconds} s")


def _newest_backfill_status(base: str) -> str:
    backfills = _graphql(
        base,
        "{ partitionBackfillsOrError(limit: 1) { ... on PartitionBackfills { "
        "results { status } } } }",
    )["partitionBackfillsOrError"]["results"]
    return backfills[0]["status"] if backfills else "NONE"


# The status of a partition, by the colour of its dot on the Partitions tab
DOTS = {
    "var(--color-accent-green)": "materialized",
    "var(--color-accent-gray)": "missing",
    "var(--color-accent-red)": "failed",
}
READ_GRID = """genres => Object.fromEntries(genres.map(genre => {
    const row = document.querySelector(`[data-tooltip="${genre}"]`);
    const dots = row ? [...row.parentElement.children].filter(e => e !== row) : [];
    return [genre, dots.map(dot => dot.style.background)];
}))"""


def _grid(page, base: str, asset: str, day: date) -> dict[str, str]:
    """Each genre's status on `day`, as the Partitions tab of `asset` shows it: its days on the
    left, the genres of the day clicked in the middle, a dot of its status beside each."""
    page.goto(f"{base}/assets/{asset}?view=partitions", wait_until="networkidle")
    page.get_by_placeholder("Filter by day…").wait_for(timeout=30_000)
    page.locator(f'[data-tooltip="{day.isoformat()}"]').last.click()
    page.wait_for_url(f"**partition={day.isoformat()}*")
    page.get_by_placeholder("Filter by genre…").wait_for()
    dots = page.evaluate(READ_GRID, GENRES)
    return {genre: "/".join(DOTS.get(dot, dot) for dot in dots[genre]) for genre in GENRES}


def _expect_grid(
    page,
    base: str,
    asset: str,
    day: date,
    materialized: set[str],
    failed: frozenset[str] = frozenset(),
) -> None:
    """The grid of `asset` on `day` shows `materialized` and `failed` so, and every other genre
    missing (read again for a while: the UI refreshes the statuses of a run just ended)."""
    expected = {
        genre: "materialized" if genre in materialized else "failed" if genre in failed
        else "missing"
        for genre in GENRES
    }  # fmt: skip
    deadline = time.monotonic() + 30
    while (shown := _grid(page, base, asset, day)) != expected and time.monotonic() < deadline:
        page.wait_for_timeout(1000)
    assert shown == expected, (asset, day, shown)


def _lists(database_url: str) -> dict[tuple[date, str], list[str]]:
    """The lists in warehouse.fact_movie_ranking: each (day, genre)'s rows, as the versions of
    them Postgres holds (a row rewritten gets a new xmin)."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT snapshot_date, genre, array_agg(rank || ':' || movie_key || ':' || xmin "
            "ORDER BY rank) FROM warehouse.fact_movie_ranking GROUP BY 1, 2"
        ).fetchall()
    return {(day, genre): versions for day, genre, versions in rows}


def _box_office_of(database_url: str, day: date, genre: str) -> int:
    """How many box-office rows of `day` belong to `genre`'s partition."""
    with psycopg.connect(database_url) as conn:
        return conn.execute(
            "SELECT count(*) FROM warehouse.fact_box_office "
            "WHERE snapshot_date = %s AND %s = ANY(listed_in)",
            [day, genre],
        ).fetchone()[0]


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
