"""The daily report in a real headless browser (Playwright driving Debian's chromium), opened
from disk with every request to the network refused. Screenshot: test-artifacts/ui/."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from imdb_warehouse.replay.server import ReplayServer
from imdb_warehouse.report import TABLE_ROWS
from imdb_warehouse.schedules import refresh_in_process
from imdb_warehouse_tests.helpers import replay_environment
from imdb_warehouse_tests.test_ui import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.slow  # a browser

# Two lists read three days, a third only on the last day: it has no history yet.
LISTS = ["action", "adventure"]
NEW_LIST = "animation"


def test_the_daily_report_leads_with_badges_and_points_and_opens_offline(
    database_url, monkeypatch, warehouse_home
):
    """Three days refreshed the way `imdb-warehouse refresh` does (the report made after the
    last); the page opens from disk in chromium without the network and logs no error: each
    genre's top 10 with its badges, the week's points tables, entries and drop-outs folded per
    genre, no table over TABLE_ROWS rows, a bump chart per genre with history and a note for
    the genre without."""
    from playwright.sync_api import sync_playwright

    today = datetime.now(UTC).date()
    days = [today - timedelta(days=n) for n in (2, 1, 0)]
    with ReplayServer(day=days[0]) as replay, dg.DagsterInstance.ephemeral() as instance:
        for name, value in {
            "IMDB_WAREHOUSE_DATABASE_URL": database_url,
            **replay_environment(replay),
        }.items():
            monkeypatch.setenv(name, value)
        for day in days:
            replay.set_day(day)
            monkeypatch.setenv("IMDB_WAREHOUSE_TODAY", day.isoformat())
            genres = [*LISTS, NEW_LIST] if day == today else LISTS
            results = refresh_in_process(day, genres, instance=instance, report=day == today)
            assert all(r.success for r in results)
        [made] = results[-1].get_asset_materialization_events()
    metadata = made.materialization.metadata
    path = Path(metadata["path"].value)
    assert path == warehouse_home / "reports" / f"{today}.html" and path.exists()
    assert metadata["charts"].value == len(LISTS) + 2  # the new list has no bump chart
    lines = metadata["top_10"].value.splitlines()  # a markdown table: a genre's top 10 a row
    assert lines[0] == "| genre | " + " | ".join(str(n) for n in range(1, 11)) + " |"
    assert [line.split(" | ")[0] for line in lines[2:]] == ["| Action", "| Adventure",
                                                            "| Animation"]  # fmt: skip
    assert all(line.count(" | ") == 10 for line in lines[2:])

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors, outside = [], []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.route("http*://**", lambda route: (outside.append(route.request.url), route.abort()))
        page.goto(path.as_uri(), wait_until="load")
        page.screenshot(path=ARTIFACTS / "daily_report.png", full_page=True)
        height = page.evaluate("document.documentElement.scrollHeight")
        print(f"the daily report of {today} ({len(LISTS) + 1} lists): {height} pixels tall")

        # it leads with the top 10s and their badges: one a movie, the new list's all NEW
        headings = page.locator("h2").all_inner_texts()
        assert headings[0] == "Each genre's top 10 today", headings
        order = ["The day's biggest climbers", "Re-entries", "New entries and drop-outs",
                 "The week's points leaders", "Each genre's top 10, the last 30 days",
                 "Box office", "People with the most ranked movies"]  # fmt: skip
        found = [next(i for i, h in enumerate(headings) if h.startswith(o)) for o in order]
        assert found == sorted(found), headings
        tops = page.locator("section.tops table")  # the legend's badges are outside
        assert tops.count() == len(LISTS) + 1
        badges = [tops.nth(i).locator(".badge").all_inner_texts() for i in range(tops.count())]
        assert [len(b) for b in badges] == [10] * (len(LISTS) + 1)
        assert badges[-1] == ["NEW"] * 10  # the new list's first day
        moves = {b.rstrip("0123456789") for genre in badges[:-1] for b in genre}
        assert moves <= {"NEW", "RE", "▲", "▼", "="} and {"▲", "▼"} <= moves, moves
        assert page.get_by_text("The list's first day: no history yet.").count() == 1

        # the week's points: the movies' and the people's
        points = page.locator("table.points")
        assert points.count() == 2
        assert [points.nth(i).locator("tbody tr").count() for i in range(2)] == [10, 10]
        assert points.first.locator("th").all_inner_texts()[:2] == ["movie", "points"]

        # entries and drop-outs: a folded line per genre that changed
        folded = page.locator("details summary").all_inner_texts()
        assert [s.split(":")[0] for s in folded] == ["Action", "Adventure"], folded

        # no long table anywhere
        rows = [t.locator("tbody tr").count() for t in page.locator("table").all()]
        assert rows and max(rows) <= TABLE_ROWS, rows

        # a bump chart per list with history, a note for the new one; the box office charts
        charts = page.locator("figure svg")
        assert charts.count() == len(LISTS) + 2
        for index in range(charts.count()):  # data is drawn clipped to the axes: lines, points
            drawn = charts.nth(index).locator("[clip-path]").count()
            assert drawn >= (10 if index < len(LISTS) else 1), (index, drawn)  # a line a movie
            assert charts.nth(index).bounding_box()["height"] > 100
        assert page.get_by_text("One day of this list so far").count() == 1
        browser.close()
    assert errors == [] and outside == []
