"""The daily report: an HTML page of the newest day, with charts (`imdb_warehouse.report`),
kept under `$IMDB_WAREHOUSE_HOME/reports/<day>.html`."""

import os
import tempfile

import dagster as dg

from imdb_warehouse import settings
from imdb_warehouse.assets.analytics import VIEW_KEYS
from imdb_warehouse.report import render
from imdb_warehouse.resources import PostgresResource
from imdb_warehouse.tables import OWNERS

DAILY_REPORT = dg.AssetKey(["reports", "daily_report"])


@dg.asset(
    key=DAILY_REPORT,
    deps=VIEW_KEYS,
    group_name="reports",
    kinds={"html"},
    owners=OWNERS,
    description="The newest day as one self-contained HTML page with charts: each genre's top "
    "10 with status badges (NEW, RE, ▲n, ▼n, =), days on the list and peak; the day's climbers "
    "and re-entries; each genre's entries and drop-outs, folded; the week's points leaders; "
    "each genre's top 10 over 30 days (bump charts); box-office leaders (gross over time, "
    "budget against worldwide gross, US dollars) and the people leaderboard. Made after each "
    "day's run.",
)
def daily_report(context: dg.AssetExecutionContext, postgres: PostgresResource):
    report = render(postgres)
    folder = settings.warehouse_home() / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{report.day}.html"
    with tempfile.NamedTemporaryFile("w", dir=folder, suffix=".tmp", delete=False) as draft:
        draft.write(report.html)
    os.replace(draft.name, path)  # a reader never sees half a page
    context.log.info(f"the report of {report.day}: {path}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "day": report.day.isoformat(),
            "charts": report.charts,
            "top_10": dg.MetadataValue.md(report.top10_markdown),
        }
    )
