"""The daily report: one self-contained HTML page of the newest day, its charts drawn by
matplotlib as inline SVG (no script, no network needed to open it).

It reads the analytics views: each genre's top 10 over the last 30 days (a bump chart), the
day's biggest movers, entries and drop-outs, the box-office leaders' gross over time and
budget against worldwide gross (US dollars only: amounts are never mixed across currencies),
and the people leaderboard.
"""

import html
import io
import warnings
from dataclasses import dataclass
from datetime import date

import matplotlib

matplotlib.use("Agg")  # no display: draw to SVG
# text stays text in the SVG: the browser draws every script (CJK titles too) in its own fonts
matplotlib.rcParams["svg.fonttype"] = "none"
import matplotlib.pyplot as plt  # noqa: E402

from imdb_warehouse.resources import PostgresResource  # noqa: E402

TOP = 10
DAYS_SHOWN = 30
CURRENCY = "USD"


@dataclass(frozen=True)
class Report:
    day: date
    html: str
    top10_markdown: str  # a table of each genre's top 10 of the day, for the Dagster UI
    charts: int


def render(postgres: PostgresResource) -> Report:
    """The report of the newest day the warehouse holds."""
    [(day,)] = postgres.query("SELECT max(snapshot_date) FROM warehouse.fact_movie_ranking")
    if day is None:
        raise ValueError("the warehouse holds no day yet: refresh a day first")
    genres = postgres.query(
        "SELECT DISTINCT genre, genre_name FROM analytics.daily_rankings "
        "WHERE snapshot_date = $1 ORDER BY genre_name",
        [day],
    )
    sections, charts, markdown = [], 0, []
    bumps = []
    for genre, name in genres:
        top = postgres.query(
            "SELECT rank, title_id, title, rating FROM analytics.daily_rankings "
            "WHERE snapshot_date = $1 AND genre = $2 AND rank <= $3 ORDER BY rank",
            [day, genre, TOP],
        )
        cells = [t.replace("|", "/") for _, _, t, _ in top]
        markdown.append(f"| {name} | " + " | ".join(cells) + " |")
        history = postgres.query(
            "SELECT title_id, snapshot_date, rank FROM analytics.daily_rankings "
            "WHERE genre = $1 AND snapshot_date > $2::date - $3::int "
            "AND title_id = ANY($4::text[]) ORDER BY snapshot_date",
            [genre, day, DAYS_SHOWN, [t for _, t, _, _ in top]],
        )
        titles = {title_id: title for _, title_id, title, _ in top}
        bumps.append(f"<figure><figcaption>{_e(name)}</figcaption>"
                     f"{_bump_chart(history, titles)}</figure>")  # fmt: skip
        charts += 1
    sections.append(_section(f"Each genre's top {TOP}, the last {DAYS_SHOWN} days", "".join(bumps),
                             "grid"))  # fmt: skip

    movers = postgres.query(
        "SELECT genre_name, title, previous_rank, rank, rank_change, previous_snapshot_date "
        "FROM analytics.rank_movers WHERE snapshot_date = $1 AND NOT new_entry "
        "ORDER BY rank_change DESC, rank LIMIT 15",
        [day],
    )
    climbers = ["genre", "title", "previous rank", "rank", "change", "compared with"]
    sections.append(_section("The day's biggest climbers", _table(climbers, movers)))
    for change, heading in (("entered", "New entries"), ("dropped_out", "Drop-outs")):
        rows = postgres.query(
            "SELECT genre_name, rank, title FROM analytics.list_changes "
            "WHERE snapshot_date = $1 AND change = $2 ORDER BY genre_name, rank",
            [day, change],
        )
        rank = "rank" if change == "entered" else "rank before"
        sections.append(
            _section(f"{heading} ({len(rows)})", _table(["genre", rank, "title"], rows))
        )

    leaders = postgres.query(
        "SELECT title_id, title, gross_worldwide_amount, budget_amount, worldwide_to_budget "
        "FROM analytics.box_office_latest WHERE gross_worldwide_currency = $1 "
        "ORDER BY gross_worldwide_amount DESC NULLS LAST LIMIT 10",
        [CURRENCY],
    )
    series = postgres.query(
        "SELECT title_id, snapshot_date, gross_worldwide_amount FROM analytics.box_office_daily "
        "WHERE title_id = ANY($1::text[]) AND gross_worldwide_currency = $2 "
        "ORDER BY snapshot_date",
        [[row[0] for row in leaders[:5]], CURRENCY],
    )
    budgets = postgres.query(
        "SELECT budget_amount, gross_worldwide_amount FROM analytics.box_office_latest "
        "WHERE budget_currency = $1 AND gross_worldwide_currency = $1 "
        "AND budget_amount > 0 AND gross_worldwide_amount > 0",
        [CURRENCY],
    )
    titles = {row[0]: row[1] for row in leaders}
    box_office = (
        f"<figure><figcaption>Worldwide gross over time, the top 5 ({CURRENCY})</figcaption>"
        f"{_gross_chart(series, titles)}</figure>"
        f"<figure><figcaption>Budget against worldwide gross ({CURRENCY}, "
        f"{len(budgets)} movies)</figcaption>{_budget_chart(budgets)}</figure>"
        + _table(["title", f"worldwide ({CURRENCY})", f"budget ({CURRENCY})", "× budget"],
                 [(t, _money(w), _money(b), x) for _, t, w, b, x in leaders])
    )  # fmt: skip
    charts += 2
    sections.append(_section("Box office", box_office))

    people = postgres.query(
        "SELECT name, role, ranked_movies, list_entries, best_rank "
        "FROM analytics.people_leaderboard ORDER BY ranked_movies DESC, best_rank, person_id "
        "LIMIT 15"
    )
    sections.append(_section("People with the most ranked movies (30 days)", _table(
        ["name", "role", "ranked movies", "list entries", "best rank"], people)))  # fmt: skip

    page = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>imdb_warehouse: the day {day}</title><style>{STYLE}</style></head><body>"
        f"<h1>IMDb's popular movies, {day}</h1>"
        f"<p>{len(genres)} genres' lists, from the warehouse's analytics views.</p>"
        + "".join(sections)
        + "</body></html>"
    )
    header = "| genre | " + " | ".join(str(n) for n in range(1, TOP + 1)) + " |"
    rule = "|---" * (TOP + 1) + "|"
    return Report(day, page, "\n".join([header, rule, *markdown]), charts)


def _bump_chart(history: list[tuple], titles: dict[str, str]) -> str:
    figure, axes = plt.subplots(figsize=(4.2, 2.6))
    for title_id, title in titles.items():
        points = [(d, r) for t, d, r in history if t == title_id]
        if points:
            axes.plot(*zip(*points, strict=True), marker="o", markersize=2.5, linewidth=1.2,
                      label=title[:24])  # fmt: skip
    axes.invert_yaxis()
    axes.set_ylabel("rank")
    axes.tick_params(labelsize=6)
    figure.autofmt_xdate()
    axes.legend(fontsize=4.5, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return _svg(figure)


def _gross_chart(series: list[tuple], titles: dict[str, str]) -> str:
    figure, axes = plt.subplots(figsize=(6.5, 3.2))
    for title_id in dict.fromkeys(t for t, _, _ in series):
        points = [(d, g / 1e6) for t, d, g in series if t == title_id and g is not None]
        axes.plot(*zip(*points, strict=True), marker="o", markersize=3,
                  label=titles.get(title_id, title_id))  # fmt: skip
    axes.set_ylabel(f"millions of {CURRENCY}")
    figure.autofmt_xdate()
    axes.legend(fontsize=7, frameon=False)
    return _svg(figure)


def _budget_chart(budgets: list[tuple]) -> str:
    figure, axes = plt.subplots(figsize=(5, 3.6))
    axes.scatter([b / 1e6 for b, _ in budgets], [w / 1e6 for _, w in budgets], s=8, alpha=0.6)
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel(f"budget, millions of {CURRENCY}")
    axes.set_ylabel(f"worldwide gross, millions of {CURRENCY}")
    return _svg(figure)


def _svg(figure) -> str:
    buffer = io.StringIO()
    with warnings.catch_warnings():  # matplotlib's own font lacks some scripts' glyphs
        warnings.filterwarnings("ignore", "Glyph .* missing from font", UserWarning)
        figure.tight_layout()
        figure.savefig(buffer, format="svg")
    plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _section(heading: str, body: str, css: str = "") -> str:
    return f"<section class='{css}'><h2>{_e(heading)}</h2>{body}</section>"


def _table(header: list[str], rows: list[tuple]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{_e('' if v is None else v)}</td>" for v in row) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _money(amount: int | None) -> str:
    return "" if amount is None else f"{amount:,}"


def _e(value: object) -> str:
    return html.escape(str(value))


STYLE = (
    "body{font-family:sans-serif;margin:2em;color:#222}"
    "section.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(420px,1fr));gap:1em}"
    "section.grid h2{grid-column:1/-1}figure{margin:0}figcaption{font-weight:bold}"
    "svg{max-width:100%;height:auto}table{border-collapse:collapse;margin:1em 0;font-size:90%}"
    "td,th{border-bottom:1px solid #ddd;padding:2px 8px;text-align:left}"
)
