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
