"""Analytics layer: SQL views over the star schema, in the `analytics` schema.

A view reads the warehouse tables as they stand, so it is always current; materializing these
assets (re)creates the views, in one transaction. Each view's code version is a hash of its
SQL: the daily refresh re-creates the views only when one is missing or its SQL changed.
"""

import hashlib

import dagster as dg
from psycopg import sql

from imdb_warehouse import tables
from imdb_warehouse.resources import PostgresResource
from imdb_warehouse.tables import OWNERS

# A movie's box office on a day (b: fact_box_office, m: dim_movie), every amount beside its
# currency, the ratio only within one currency: box_office_daily and box_office_latest.
BOX_OFFICE_COLUMNS = """
        SELECT b.snapshot_date, m.title_id, m.title, m.release_year, m.release_date,
               b.snapshot_date - m.release_date AS days_in_release,
               b.gross_worldwide_amount, b.gross_worldwide_currency,
               b.gross_domestic_amount, b.gross_domestic_currency,
               b.opening_weekend_amount, b.opening_weekend_currency,
               b.opening_weekend_end_date, m.budget_amount, m.budget_currency,
               CASE WHEN m.budget_currency = b.gross_worldwide_currency
                    AND m.budget_amount > 0
                    THEN round(b.gross_worldwide_amount::numeric / m.budget_amount, 2)
               END AS worldwide_to_budget
"""

# Points: each day a list gives 51 − rank points to the movie at that rank (50 for the first,
# 1 for the fiftieth). They are summed over three periods ending on the newest day; a view of
# points is one UNION ALL branch per period, each with its period as a constant, so that a
# query filtering on `period` reads only the days of that period (Postgres drops the others).
POINT_PERIODS = {"week": 7, "month": 30, "all_time": None}


def _per_period(columns: str, group_by: str) -> str:
    """The chart rows (`c`) of each period, grouped by `group_by` into `columns`, as one
    UNION ALL with the period's name, first and last day."""
    branches = []
    for period, days in POINT_PERIODS.items():
        since = f"max(snapshot_date) - {days - 1}" if days else "min(snapshot_date)"
        branches.append(
            f"""
            SELECT '{period}'::text AS period, span.since, span.until, {columns}
            FROM (SELECT {since} AS since, max(snapshot_date) AS until
                  FROM warehouse.fact_chart_stats) span
            JOIN warehouse.fact_chart_stats c ON c.snapshot_date BETWEEN span.since AND span.until
            GROUP BY span.since, span.until, {group_by}"""  # noqa: S608 (constant SQL)
        )
    return "\n            UNION ALL".join(branches)


MOVIE_POINTS = _per_period(
    "c.movie_key, sum(c.points) AS points, count(*) AS list_entries, "
    "count(DISTINCT c.genre_key) AS lists, min(c.rank) AS best_rank",
    "c.movie_key",
)
GENRE_POINTS = _per_period(
    "c.genre_key, c.movie_key, sum(c.points) AS points, count(*) AS days, min(c.rank) AS best_rank",
    "c.genre_key, c.movie_key",
)

# Every view names a list's genre twice, as the fact table does and as IMDb shows it:
# `genre` is the slug (`sci-fi`, as in warehouse.fact_movie_ranking), `genre_name` the
# display name (`Sci-Fi`).
VIEWS = {
    "daily_rankings": (
        "Each genre's list of each day, with names instead of keys.",
        [tables.FACT_MOVIE_RANKING.key, tables.DIM_GENRE.key, tables.DIM_MOVIE.key],
        """
        SELECT f.snapshot_date, g.slug AS genre, g.imdb_name AS genre_name, f.rank,
               m.title_id, m.title, m.release_year, m.runtime_minutes, m.certificate,
               f.rating, f.votes, f.metascore
        FROM warehouse.fact_movie_ranking f
        JOIN warehouse.dim_genre g USING (genre_key)
        JOIN warehouse.dim_movie m USING (movie_key)
        """,
    ),
    "rank_movers": (
        "Each movie's rank in each list against the list's previous snapshot, whatever the "
        "gap (a missed day included): rank_change > 0 moved up; previous_rank is null and "
        "new_entry true for a movie not in that snapshot; the first snapshot of a list has "
        "no previous_snapshot_date.",
        [tables.FACT_MOVIE_RANKING.key, tables.DIM_GENRE.key, tables.DIM_MOVIE.key],
        """
        SELECT f.snapshot_date, previous.snapshot_date AS previous_snapshot_date,
               g.slug AS genre, g.imdb_name AS genre_name, m.title_id, m.title, f.rank,
               p.rank AS previous_rank, p.rank - f.rank AS rank_change,
               p.rank IS NULL AS new_entry
        FROM warehouse.fact_movie_ranking f
        JOIN warehouse.dim_genre g USING (genre_key)
        JOIN warehouse.dim_movie m USING (movie_key)
        LEFT JOIN LATERAL (
            SELECT b.date_key, b.snapshot_date FROM warehouse.fact_movie_ranking b
            WHERE b.genre_key = f.genre_key AND b.date_key < f.date_key
            ORDER BY b.date_key DESC LIMIT 1
        ) previous ON true
        LEFT JOIN warehouse.fact_movie_ranking p
          ON p.date_key = previous.date_key AND p.genre_key = f.genre_key
         AND p.movie_key = f.movie_key
        """,
    ),
    "list_changes": (
        "The movies that entered or dropped out of each list between its previous snapshot "
        "and this one, whatever the gap: change is 'entered' (rank: its rank now) or "
        "'dropped_out' (rank: its rank in the previous snapshot). A list's first snapshot has "
        "no changes.",
        [tables.FACT_MOVIE_RANKING.key, tables.DIM_GENRE.key, tables.DIM_MOVIE.key],
        """
        WITH pairs AS NOT MATERIALIZED (  -- each list (its rank 1) and its previous snapshot
            SELECT l.date_key, l.snapshot_date, l.genre_key, previous.date_key AS previous_key,
                   previous.snapshot_date AS previous_snapshot_date
            FROM warehouse.fact_movie_ranking l
            JOIN LATERAL (
                SELECT b.date_key, b.snapshot_date FROM warehouse.fact_movie_ranking b
                WHERE b.genre_key = l.genre_key AND b.date_key < l.date_key
                ORDER BY b.date_key DESC LIMIT 1
            ) previous ON true
            WHERE l.rank = 1
        ),
        changes AS (
            SELECT pairs.snapshot_date, pairs.previous_snapshot_date, pairs.genre_key,
                   f.movie_key, 'entered' AS change, f.rank
            FROM pairs
            JOIN warehouse.fact_movie_ranking f
              ON f.date_key = pairs.date_key AND f.genre_key = pairs.genre_key
            WHERE NOT EXISTS (
                SELECT FROM warehouse.fact_movie_ranking p
                WHERE p.date_key = pairs.previous_key AND p.genre_key = pairs.genre_key
                  AND p.movie_key = f.movie_key)
            UNION ALL
            SELECT pairs.snapshot_date, pairs.previous_snapshot_date, pairs.genre_key,
                   p.movie_key, 'dropped_out', p.rank
            FROM pairs
            JOIN warehouse.fact_movie_ranking p
              ON p.date_key = pairs.previous_key AND p.genre_key = pairs.genre_key
            WHERE NOT EXISTS (
                SELECT FROM warehouse.fact_movie_ranking f
                WHERE f.date_key = pairs.date_key AND f.genre_key = pairs.genre_key
                  AND f.movie_key = p.movie_key)
        )
        SELECT c.snapshot_date, c.previous_snapshot_date, g.slug AS genre,
               g.imdb_name AS genre_name, c.change, c.rank, m.title_id, m.title
        FROM changes c
        JOIN warehouse.dim_genre g USING (genre_key)
        JOIN warehouse.dim_movie m USING (movie_key)
        """,
    ),
    "box_office_daily": (
        "Each listed movie's box office as IMDb showed it each day, every amount beside its "
        "own currency (never summed across currencies), with the movie's budget; "
        "worldwide_to_budget only where both are in the same currency.",
        [tables.FACT_BOX_OFFICE.key, tables.DIM_MOVIE.key],
        BOX_OFFICE_COLUMNS
        + """
        FROM warehouse.fact_box_office b
        JOIN warehouse.dim_movie m USING (movie_key)
        """,
    ),
    "box_office_latest": (
        "Each movie's newest box office (the last day its details were read), as "
        "box_office_daily shows it: one row per movie.",
        [tables.FACT_BOX_OFFICE.key, tables.DIM_MOVIE.key],
        BOX_OFFICE_COLUMNS  # noqa: S608 (this module's constant SQL, no value from outside)
        + """
        FROM warehouse.dim_movie m
        JOIN LATERAL (
            SELECT * FROM warehouse.fact_box_office b WHERE b.movie_key = m.movie_key
            ORDER BY b.snapshot_date DESC LIMIT 1
        ) b ON true
        """,
    ),
    "ranked_credits": (
        "Who was behind each ranked movie of each list of each day: one row per person, role "
        "and list entry. Group it by person_id (names are not unique) over any window for a "
        "leaderboard of your own.",
        [
            tables.FACT_MOVIE_RANKING.key,
            tables.BRIDGE_MOVIE_PERSON.key,
            tables.DIM_PERSON.key,
            tables.DIM_MOVIE.key,
            tables.DIM_GENRE.key,
        ],
        """
        SELECT f.snapshot_date, g.slug AS genre, g.imdb_name AS genre_name, f.rank,
               m.title_id, m.title, p.person_id, p.name, b.role, b.billing_order
        FROM warehouse.fact_movie_ranking f
        JOIN warehouse.dim_genre g USING (genre_key)
        JOIN warehouse.dim_movie m USING (movie_key)
        JOIN warehouse.bridge_movie_person b USING (movie_key)
        JOIN warehouse.dim_person p USING (person_key)
        """,
    ),
    "people_leaderboard": (
        "The people with the most ranked movies over the last 30 days of lists (ending on the "
        "newest day): distinct movies, list entries and best rank, per role.",
        [tables.FACT_MOVIE_RANKING.key, tables.BRIDGE_MOVIE_PERSON.key, tables.DIM_PERSON.key],
        """
        WITH span AS (
            SELECT max(snapshot_date) - 29 AS since, max(snapshot_date) AS until
            FROM warehouse.fact_movie_ranking
        ),
        per_movie AS (  -- each ranked movie's entries in the span, then its people
            SELECT f.movie_key, count(*) AS entries, min(f.rank) AS best_rank
            FROM span
            JOIN warehouse.fact_movie_ranking f
              ON f.snapshot_date BETWEEN span.since AND span.until
            GROUP BY f.movie_key
        )
        SELECT p.person_id, p.name, b.role,
               count(*) AS ranked_movies,
               sum(pm.entries) AS list_entries, min(pm.best_rank) AS best_rank,
               span.since, span.until
        FROM span
        CROSS JOIN per_movie pm
        JOIN warehouse.bridge_movie_person b USING (movie_key)
        JOIN warehouse.dim_person p USING (person_key)
        GROUP BY p.person_id, p.name, b.role, span.since, span.until
        """,
    ),
    "genre_daily_stats": (
        "Per genre and day: movies listed, their mean and median rating, total votes, mean "
        "metascore, mean runtime, and how many were unrated.",
        [tables.FACT_MOVIE_RANKING.key, tables.DIM_GENRE.key, tables.DIM_MOVIE.key],
        """
        SELECT f.snapshot_date, g.slug AS genre, g.imdb_name AS genre_name, count(*) AS movies,
               round(avg(f.rating)::numeric, 2) AS mean_rating,
               round(percentile_cont(0.5) WITHIN GROUP (ORDER BY f.rating)::numeric, 2)
                   AS median_rating,
               sum(f.votes) AS total_votes,
               round(avg(f.metascore)::numeric, 1) AS mean_metascore,
               round(avg(m.runtime_minutes)::numeric, 1) AS mean_runtime_minutes,
               count(*) FILTER (WHERE f.rating IS NULL) AS unrated
        FROM warehouse.fact_movie_ranking f
        JOIN warehouse.dim_genre g USING (genre_key)
        JOIN warehouse.dim_movie m USING (movie_key)
        GROUP BY f.snapshot_date, g.slug, g.imdb_name
        """,
    ),
}


_CHART = [tables.FACT_CHART_STATS.key, tables.DIM_GENRE.key, tables.DIM_MOVIE.key]
VIEWS |= {
    "chart_stats": (
        "Each listed movie's history on each genre's list up to each day, with names: status "
        "against the list's previous snapshot and its badge (NEW, RE, UP n, DOWN n, SAME), days "
        "on the list, current and longest run (consecutive snapshots of that list), runs, peak "
        "and the first day at it, points (51 − rank).",
        _CHART,
        """
        SELECT c.snapshot_date, g.slug AS genre, g.imdb_name AS genre_name, c.rank,
               m.title_id, m.title, c.status, c.status_change,
               CASE WHEN c.status_change IS NULL THEN c.status
                    ELSE c.status || ' ' || c.status_change END AS badge,
               c.previous_snapshot_date, c.previous_rank, c.first_seen_date, c.days_on_list,
               c.current_run, c.longest_run, c.runs, c.peak_rank, c.peak_date, c.points
        FROM warehouse.fact_chart_stats c
        JOIN warehouse.dim_genre g USING (genre_key)
        JOIN warehouse.dim_movie m USING (movie_key)
        """,
    ),
    "chart_turnover": (
        "Per genre's list and day: movies listed, new entries (first day ever on the list), "
        "re-entries (back after an absence) and drop-outs (in the previous snapshot, not in "
        "this one), against the list's previous snapshot whatever the gap.",
        [tables.FACT_CHART_STATS.key, tables.DIM_GENRE.key],
        """
        SELECT c.snapshot_date, g.slug AS genre, g.imdb_name AS genre_name,
               c.previous_snapshot_date, count(*) AS listed,
               count(*) FILTER (WHERE c.status = 'NEW') AS new_entries,
               count(*) FILTER (WHERE c.status = 'RE') AS re_entries,
               (SELECT count(*) FROM warehouse.fact_chart_stats p
                WHERE p.snapshot_date = c.previous_snapshot_date AND p.genre = c.genre)
               - count(c.previous_rank) AS drop_outs
        FROM warehouse.fact_chart_stats c
        JOIN warehouse.dim_genre g USING (genre_key)
        GROUP BY c.snapshot_date, c.genre, g.slug, g.imdb_name, c.previous_snapshot_date
        """,
    ),
    "movie_points": (
        "Each movie's points over every list (51 − rank a list and day: a movie in two lists "
        "scores in both) for the period (`week`: the 7 days ending on the newest day, `month`: "
        "30 days, `all_time`: every day held; since..until): list entries, lists, best rank.",
        _CHART,
        f"""
        SELECT p.period, p.since, p.until, m.title_id, m.title, p.points, p.list_entries,
               p.lists, p.best_rank
        FROM ({MOVIE_POINTS}
        ) p
        JOIN warehouse.dim_movie m USING (movie_key)
        """,  # noqa: S608 (this module's constant SQL)
    ),
    "genre_points": (
        "Each movie's points on one genre's list (51 − rank a day) for the period (`week`: the "
        "7 days ending on the newest day, `month`: 30 days, `all_time`: every day held; "
        "since..until): days on the list in the period, best rank.",
        _CHART,
        f"""
        SELECT p.period, p.since, p.until, g.slug AS genre, g.imdb_name AS genre_name,
               m.title_id, m.title, p.points, p.days, p.best_rank
        FROM ({GENRE_POINTS}
        ) p
        JOIN warehouse.dim_genre g USING (genre_key)
        JOIN warehouse.dim_movie m USING (movie_key)
        """,  # noqa: S608 (this module's constant SQL)
    ),
    "person_points": (
        "Each person's points per role for the period (`week`, `month`, `all_time`, as "
        "movie_points): the sum of the points of the movies they are credited on now (the "
        "credits of each movie's latest details read), the movies that scored, their best rank.",
        [*_CHART, tables.BRIDGE_MOVIE_PERSON.key, tables.DIM_PERSON.key],
        f"""
        SELECT p.period, p.since, p.until, pe.person_id, pe.name, b.role,
               sum(p.points) AS points, count(*) AS movies, min(p.best_rank) AS best_rank
        FROM ({MOVIE_POINTS}
        ) p
        JOIN warehouse.dim_movie m USING (movie_key)
        JOIN warehouse.bridge_movie_person b  -- the credits of the latest details read:
          ON b.movie_key = p.movie_key        -- no credit is seen after it, so >= is =
         AND b.last_seen_date >= (m.details_scraped_at AT TIME ZONE 'UTC')::date
        JOIN warehouse.dim_person pe ON pe.person_key = b.person_key
        GROUP BY p.period, p.since, p.until, pe.person_id, pe.name, b.role
        """,  # noqa: S608 (this module's constant SQL)
    ),
}

VIEW_KEYS = [dg.AssetKey(["analytics", name]) for name in VIEWS]


def view_code_version(name: str) -> str:
    """A hash of the view's SQL and description: it changes when the view does."""
    description, _, query = VIEWS[name]
    return hashlib.sha256(f"{description}\n{query}".encode()).hexdigest()[:16]


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            key,
            description=description,
            deps=deps,
            group_name="analytics",
            code_version=view_code_version(name),
            kinds={"postgres", "sql"},
            owners=OWNERS,
            metadata={
                "dagster/table_name": f"analytics.{name}",
                "view_sql": dg.MetadataValue.md(f"```sql{query}```"),
            },
        )
        for key, (name, (description, deps, query)) in zip(VIEW_KEYS, VIEWS.items(), strict=True)
    ],
)
def analytics_views(postgres: PostgresResource):
    """(Re)create the analytics views in one transaction."""
    create_views(postgres)
    for key in VIEW_KEYS:
        yield dg.MaterializeResult(asset_key=key)


def create_views(postgres: PostgresResource) -> None:
    """Drop and create every analytics view, with its description, in one transaction."""
    with postgres.connect() as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS analytics")
        for name, (description, _, query) in VIEWS.items():
            view = sql.Identifier("analytics", name)
            conn.execute(sql.SQL("DROP VIEW IF EXISTS {}").format(view))
            conn.execute(sql.SQL("CREATE VIEW {} AS ").format(view) + sql.SQL(query))
            conn.execute(sql.SQL("COMMENT ON VIEW {} IS {}").format(view, sql.Literal(description)))


def views_missing(postgres: PostgresResource) -> bool:
    """Whether any analytics view is missing from the warehouse."""
    return _missing(postgres, [f"analytics.{name}" for name in VIEWS]) > 0


def tables_ready(postgres: PostgresResource) -> bool:
    """Whether every warehouse table a view reads exists (a first day has been loaded)."""
    tables = {".".join(key.path) for _, deps, _ in VIEWS.values() for key in deps}
    return _missing(postgres, sorted(tables)) == 0


def _missing(postgres: PostgresResource, relations: list[str]) -> int:
    [(missing,)] = postgres.query(
        "SELECT count(*) FROM unnest($1::text[]) AS v(name) WHERE to_regclass(v.name) IS NULL",
        [relations],
    )
    return missing
