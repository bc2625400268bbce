"""The daily report: one self-contained HTML page of the newest day, its charts drawn by
matplotlib as inline SVG (no script, no network needed to open it).

It reads the analytics views, and leads with what a chart reader looks for first: each genre's
top 10 of the day with its status badge (NEW, RE, ▲n, ▼n, =), days on the list and peak; then
the day's biggest climbers and its re-entries; each genre's entries and drop-outs on a line of
its own, folded; the week's points leaders (movies and people); the bump charts of each
genre's top 10 over the last 30 days (a genre whose list has one day only says so instead);
the box-office leaders' gross over time and budget against worldwide gross (US dollars only:
amounts are never mixed across currencies), and the people leaderboard. No table holds more
than TABLE_ROWS rows.
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
TABLE_ROWS = 50  # the most rows of any table of the page
LEADERS = 10
BADGES = {"NEW": "NEW", "RE": "RE", "UP": "▲", "DOWN": "▼", "SAME": "="}
BOX_OFFICE_CHARTS = 2


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
    lists = [_genre_of_the_day(postgres, day, genre, name) for genre, name in genres]
    box_office = _box_office(postgres)
    sections = [
        _section(f"Each genre's top {TOP} today", "".join(g.top for g in lists), "tops"),
        _section("The day's biggest climbers", _climbers(postgres, day)),
        _re_entries(postgres, day),
        _section("New entries and drop-outs, genre by genre", _changes(postgres, day)),
        _points_leaders(postgres),
        _section(
            f"Each genre's top {TOP}, the last {DAYS_SHOWN} days",
            "".join(g.bump for g in lists),
            "grid",
        ),
        _section("Box office", box_office),
        _section("People with the most ranked movies (30 days)", _people(postgres)),
    ]
    page = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>imdb_warehouse: the day {day}</title><style>{STYLE}</style></head><body>"
        f"<h1>IMDb's popular movies, {day}</h1>"
        f"<p>{len(genres)} genres' lists, from the warehouse's analytics views. "
        f"{_badge('NEW', None)} its first day on the list, {_badge('RE', None)} back after an "
        f"absence, {_badge('UP', 3)} {_badge('DOWN', 2)} places moved since the list's previous "
        f"snapshot, {_badge('SAME', None)} the same place; days: days on the list; peak: its "
        "best rank, and the first day at it.</p>" + "".join(sections) + "</body></html>"
    )
    header = "| genre | " + " | ".join(str(n) for n in range(1, TOP + 1)) + " |"
    rule = "|---" * (TOP + 1) + "|"
    markdown = [f"| {g.name} | " + " | ".join(g.titles) + " |" for g in lists]
    charts = sum(g.charted for g in lists) + BOX_OFFICE_CHARTS
    return Report(day, page, "\n".join([header, rule, *markdown]), charts)


@dataclass(frozen=True)
class _GenreOfTheDay:
    name: str
    titles: list[str]  # its top 10, for the UI's markdown table
    top: str  # its top 10 with badges, days on the list and peak
    bump: str  # its bump chart, or a note that it has no history yet
    charted: bool


def _genre_of_the_day(
    postgres: PostgresResource, day: date, genre: str, name: str
) -> _GenreOfTheDay:
    top = postgres.query(
        "SELECT rank, title_id, title, status, status_change, days_on_list, peak_rank, "
        "peak_date, previous_snapshot_date FROM analytics.chart_stats "
        "WHERE snapshot_date = $1 AND genre = $2 AND rank <= $3 ORDER BY rank",
        [day, genre, TOP],
    )
    entries = [
        (r, _badge(status, change), _e(title), d, f"{peak} ({peak_day:%b} {peak_day.day})")
        for r, _, title, status, change, d, peak, peak_day, _ in top
    ]
    first_day = all(row[-1] is None for row in top)
    note = "<p class='note'>The list's first day: no history yet.</p>" if first_day else ""
    table = _table(["#", "", "title", "days", "peak"], entries, raw=True)
    history = postgres.query(
        "SELECT title_id, snapshot_date, rank FROM analytics.daily_rankings "
        "WHERE genre = $1 AND snapshot_date > $2::date - $3::int "
        "AND title_id = ANY($4::text[]) ORDER BY snapshot_date",
        [genre, day, DAYS_SHOWN, [t for _, t, *_ in top]],
    )
    charted = len({d for _, d, _ in history}) >= 2
    chart = (
        _bump_chart(history, {title_id: title for _, title_id, title, *_ in top})
        if charted
        else "<p class='note'>One day of this list so far: no history to draw yet.</p>"
    )
    return _GenreOfTheDay(
        name=name,
        titles=[t.replace("|", "/") for _, _, t, *_ in top],
        top=f"<div><h3>{_e(name)}</h3>{note}{table}</div>",
        bump=f"<figure><figcaption>{_e(name)}</figcaption>{chart}</figure>",
        charted=charted,
    )


def _climbers(postgres: PostgresResource, day: date) -> str:
    climbers = postgres.query(
        "SELECT genre_name, title, status, status_change, previous_rank, rank, days_on_list "
        "FROM analytics.chart_stats WHERE snapshot_date = $1 AND status = 'UP' "
        "ORDER BY status_change DESC, rank LIMIT 15",
        [day],
    )
    moved = [(_e(g), _e(t), _badge(s, c), p, r, d) for g, t, s, c, p, r, d in climbers]
    columns = ["genre", "title", "", "previous rank", "rank", "days on the list"]
    return _table(columns, moved, raw=True)


def _re_entries(postgres: PostgresResource, day: date) -> str:
    back = postgres.query(
        "SELECT genre_name, title, rank, runs, days_on_list, peak_rank "
        "FROM analytics.chart_stats WHERE snapshot_date = $1 AND status = 'RE' "
        "ORDER BY rank, genre_name",
        [day],
    )
    columns = ["genre", "title", "rank", "runs", "days on the list", "peak"]
    shown = LEADERS * 2
    more = len(back) - shown
    return _section(
        f"Re-entries ({len(back)})",
        _table(columns, back[:shown])
        + (f"<p class='note'>and {more} more, further down their lists.</p>" if more > 0 else ""),
    )


def _points_leaders(postgres: PostgresResource) -> str:
    movies = postgres.query(
        "SELECT title, points, lists, best_rank, since, until FROM analytics.movie_points "
        "WHERE period = 'week' ORDER BY points DESC, best_rank, title_id LIMIT $1",
        [LEADERS],
    )
    people = postgres.query(
        "SELECT name, role, points, movies, best_rank FROM analytics.person_points "
        "WHERE period = 'week' ORDER BY points DESC, best_rank, person_id LIMIT $1",
        [LEADERS],
    )
    span = f" ({movies[0][4]} to {movies[0][5]})" if movies else ""
    return _section(
        f"The week's points leaders{span}",
        "<p class='note'>Each day a list gives 51 − rank points to the movie at that rank; a "
        "person scores the points of the movies they are credited on.</p>"
        "<div class='pair'>"
        + _table(["movie", "points", "lists", "best rank"], [m[:4] for m in movies], css="points")
        + _table(["person", "role", "points", "movies", "best rank"], people, css="points")
        + "</div>",
    )


def _box_office(postgres: PostgresResource) -> str:
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
    return (
        f"<figure><figcaption>Worldwide gross over time, the top 5 ({CURRENCY})</figcaption>"
        f"{_gross_chart(series, titles)}</figure>"
        f"<figure><figcaption>Budget against worldwide gross ({CURRENCY}, "
        f"{len(budgets)} movies)</figcaption>{_budget_chart(budgets)}</figure>"
        + _table(["title", f"worldwide ({CURRENCY})", f"budget ({CURRENCY})", "× budget"],
                 [(t, _money(w), _money(b), x) for _, t, w, b, x in leaders])
    )  # fmt: skip


def _people(postgres: PostgresResource) -> str:
    people = postgres.query(
        "SELECT name, role, ranked_movies, list_entries, best_rank "
        "FROM analytics.people_leaderboard ORDER BY ranked_movies DESC, best_rank, person_id "
        "LIMIT 15"
    )
    return _table(["name", "role", "ranked movies", "list entries", "best rank"], people)


def _badge(status: str, change: int | None) -> str:
    """A status as a small badge: NEW, RE, ▲3, ▼2, =."""
    text = BADGES[status] + (str(change) if change else "")
    return f"<span class='badge {status.lower()}'>{text}</span>"


def _changes(postgres: PostgresResource, day: date) -> str:
    """Each genre's entries (new or back) and drop-outs of the day: a line each, folded."""
    changes = postgres.query(
        "SELECT l.genre_name, l.change, l.rank, l.title, c.status FROM analytics.list_changes l "
        "LEFT JOIN analytics.chart_stats c ON c.snapshot_date = l.snapshot_date "
        "AND c.genre = l.genre AND c.title_id = l.title_id "
        "WHERE l.snapshot_date = $1 ORDER BY l.genre_name, l.rank",
        [day],
    )
    by_genre: dict[str, dict[str, list[str]]] = {}
    for genre, change, rank, title, status in changes:
        lines = by_genre.setdefault(genre, {"entered": [], "dropped_out": []})
        mark = f" {_badge(status, None)}" if status == "RE" else ""
        lines[change].append(f"{_e(title)} ({rank}){mark}")
    if not by_genre:
        return "<p class='note'>No list changed since its previous snapshot.</p>"
    return "".join(
        f"<details><summary><b>{_e(genre)}</b>: {len(lines['entered'])} in, "
        f"{len(lines['dropped_out'])} out</summary>"
        f"<p>In: {', '.join(lines['entered']) or 'none'}</p>"
        f"<p>Out (rank before): {', '.join(lines['dropped_out']) or 'none'}</p></details>"
        for genre, lines in by_genre.items()
    )


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


def _table(header: list[str], rows: list[tuple], raw: bool = False, css: str = "") -> str:
    """A table of at most TABLE_ROWS rows; `raw`: the cells are HTML already."""
    if len(rows) > TABLE_ROWS:
        raise ValueError(f"a table of {len(rows)} rows: the report shows at most {TABLE_ROWS}")
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{_cell(v, raw)}</td>" for v in row) + "</tr>" for row in rows
    )
    return f"<table class='{css}'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(value: object, raw: bool) -> str:
    text = "" if value is None else str(value)
    return text if raw else _e(text)


def _money(amount: int | None) -> str:
    return "" if amount is None else f"{amount:,}"


def _e(value: object) -> str:
    return html.escape(str(value))


STYLE = (
    "body{font-family:sans-serif;margin:2em;color:#222}"
    "section.tops{display:grid;grid-template-columns:repeat(auto-fill,minmax(330px,1fr));"
    "gap:0 1.5em}section.tops h2{grid-column:1/-1}h3{margin:.6em 0 0}"
    "section.tops table{font-size:80%;margin:.3em 0}.note{color:#666;font-size:90%}"
    ".badge{display:inline-block;min-width:2.4em;text-align:center;border-radius:3px;"
    "font-size:80%;padding:0 3px;color:#fff;background:#888}.badge.new{background:#1565c0}"
    ".badge.re{background:#6a1b9a}.badge.up{background:#2e7d32}.badge.down{background:#c62828}"
    ".badge.same{background:#9e9e9e}details{margin:.2em 0}details p{margin:.2em 0 .2em 1.5em}"
    ".pair{display:flex;flex-wrap:wrap;gap:2em}"
    "section.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(420px,1fr));gap:1em}"
    "section.grid h2{grid-column:1/-1}figure{margin:0}figcaption{font-weight:bold}"
    "svg{max-width:100%;height:auto}table{border-collapse:collapse;margin:1em 0;font-size:90%}"
    "td,th{border-bottom:1px solid #ddd;padding:2px 8px;text-align:left}"
)
