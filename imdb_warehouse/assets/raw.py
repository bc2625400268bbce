"""Raw layer: IMDb's pages as fetched. Every page is archived; a row keeps where."""

import json
from datetime import date, timedelta

import dagster as dg
import polars as pl
from pydantic import Field

from imdb_warehouse.assets.keys import MOVIE_RANKINGS, OWNERS, SEARCH_RESULTS, TITLE_PAGES
from imdb_warehouse.checks import (
    DETAILS_MAX_AGE_DAYS,
    schema_check_spec,
    short_lists,
    validated,
    warn_result,
)
from imdb_warehouse.imdb.parse import (
    IgnoredFilterError,
    LayoutChangeError,
    parse_search_page,
    title_details_row,
    title_page_parts,
)
from imdb_warehouse.partitions import daily_partitions, date_genre_partitions, partition_days
from imdb_warehouse.resources import PostgresResource
from imdb_warehouse.resources.archive import ArchivedPage, PageArchive
from imdb_warehouse.resources.imdb_client import IMDB_POOL, UNAVAILABLE, ImdbClient, ImdbError
from imdb_warehouse.schemas import RawSearchResults, RawTitlePages, polars_schema, table_metadata


class PageError(Exception):
    """A page that cannot be read, with where it is archived."""


def _page_text(archived: ArchivedPage) -> str:
    try:
        return archived.page.decode("utf-8")
    except UnicodeDecodeError as error:
        raise PageError(
            f"the page is not valid UTF-8 ({error}); archived at {archived.path}"
        ) from None


def _obtain(
    imdb: ImdbClient, archive: PageArchive, kind: str, day: date, name: str, fetch
) -> ArchivedPage:
    """Today's page is fetched and archived; a past day's is read back from the archive."""
    today = imdb.now().date()
    if day == today:
        fetched = fetch()
        return archive.store(kind, day, name, fetched.body, fetched.fetched_at)
    archived = archive.load(kind, day, name)
    if archived is None:
        raise PageError(
            f"{day} is not today ({today}, UTC) and no page of that day is archived at "
            f"{archive.path(kind, day, name)}: IMDb shows only today's list, so a past day can "
            "only be re-read from its archived page"
        )
    return archived


@dg.asset(
    key=SEARCH_RESULTS,
    partitions_def=date_genre_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool=IMDB_POOL,
    group_name="raw",
    kinds={"python", "postgres"},
    owners=OWNERS,
    metadata=table_metadata(
        SEARCH_RESULTS,
        RawSearchResults,
        partition_expr={"date": "snapshot_date", "genre": "genre"},
        primary_key=["snapshot_date", "genre", "rank"],
    ),
    check_specs=[
        schema_check_spec(SEARCH_RESULTS, RawSearchResults),
        dg.AssetCheckSpec(
            "complete_lists",
            asset=SEARCH_RESULTS,
            description="Each list holds as many results as asked for (50), unless IMDb's "
            "total is smaller.",
        ),
    ],
)
def imdb_search_results(context: dg.AssetExecutionContext, imdb: ImdbClient, archive: PageArchive):
    """IMDb's advanced title search for each genre: the most popular English-language feature
    films, one row per result item exactly as IMDb sent it (its JSON), with its rank and the
    archived page. A page IMDb changed, or a search where IMDb dropped the genre filter, fails
    the run naming the archived page, rather than loading an empty day."""
    lists = []
    for key in context.partition_keys:
        parts = date_genre_partitions.get_partition_key_from_str(key).keys_by_dimension
        lists.append((date.fromisoformat(parts["date"]), parts["genre"]))
    frame = search_results_frame(imdb, archive, lists)
    yield from validated(SEARCH_RESULTS, RawSearchResults, frame)
    asked = int(imdb.search_params.get("count", 50))
    yield warn_result(SEARCH_RESULTS, "complete_lists", short_lists(frame, asked), "short_lists")


def search_results_frame(
    imdb: ImdbClient, archive: PageArchive, lists: list[tuple[date, str]]
) -> pl.DataFrame:
    """The result items of each (day, genre) list's search page, fetched or archived."""
    frames = [_search_rows(imdb, archive, day, genre) for day, genre in lists]
    return pl.concat(frames) if frames else pl.DataFrame(schema=polars_schema(RawSearchResults))


def _search_rows(imdb: ImdbClient, archive: PageArchive, day: date, genre: str) -> pl.DataFrame:
    where = f"{day}|{genre}"
    try:
        archived = _obtain(
            imdb, archive, "search", day, genre, lambda: imdb.fetch_search_page(genre)
        )
        page = parse_search_page(_page_text(archived), genre)
        page.rows()  # every item must read as a staging row: a layout change fails here, loudly
    except (LayoutChangeError, IgnoredFilterError) as error:
        raise dg.Failure(
            f"search page {where}: {error}. IMDb may have changed its pages; the page is "
            f"archived at {archive.path('search', day, genre)} (`imdb-warehouse parse` reads it)"
        ) from None
    except (PageError, ImdbError) as error:
        raise dg.Failure(f"search page {where}: {error}") from None
    n = len(page.items)
    return pl.DataFrame(
        {
            "snapshot_date": [day] * n,
            "genre": [genre] * n,
            "rank": range(1, n + 1),
            "title_id": [item["titleId"] for item in page.items],
            "item_json": [json.dumps(item, ensure_ascii=False) for item in page.items],
            "total_results": [page.total] * n,
            "url": [imdb.search_url(genre)] * n,
            "archive_path": [archived.path] * n,
            "sha256": [archived.sha256] * n,
            "fetched_at": [archived.fetched_at] * n,
        },
        schema=polars_schema(RawSearchResults),
    )


class TitlePagesConfig(dg.Config):
    refresh_after_days: int = Field(
        default=DETAILS_MAX_AGE_DAYS,
        ge=1,
        description="A title's page is read again when the last read is this many days old",
    )


@dg.asset(
    key=TITLE_PAGES,
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool=IMDB_POOL,
    group_name="raw",
    kinds={"python", "postgres"},
    owners=OWNERS,
    ins={
        "movie_rankings": dg.AssetIn(
            key=MOVIE_RANKINGS,
            partition_mapping=dg.MultiToSingleDimensionPartitionMapping(
                partition_dimension_name="date"
            ),
        )
    },
    metadata=table_metadata(
        TITLE_PAGES,
        RawTitlePages,
        partition_expr="snapshot_date",
        primary_key=["snapshot_date", "title_id"],
    ),
    check_specs=[
        schema_check_spec(TITLE_PAGES, RawTitlePages),
        dg.AssetCheckSpec(
            "titles_available",
            asset=TITLE_PAGES,
            description="Every title page read answered 200; 404/410 (removed or merged "
            "titles) are recorded and tried again after the refresh age.",
        ),
    ],
)
def imdb_title_pages(
    context: dg.AssetExecutionContext,
    config: TitlePagesConfig,
    imdb: ImdbClient,
    archive: PageArchive,
    postgres: PostgresResource,
    movie_rankings: pl.DataFrame,
):
    """The title page of each movie in the day's lists that was not read in the last
    `refresh_after_days` days: new movies, and those whose details are stale. People and box
    office come from here. The page's JSON is kept (aboveTheFoldData, mainColumnData)."""
    frame = title_pages_frame(
        imdb, archive, postgres, movie_rankings, partition_days(context), config.refresh_after_days
    )
    yield from validated(TITLE_PAGES, RawTitlePages, frame)
    yield warn_result(
        TITLE_PAGES,
        "titles_available",
        frame.filter(pl.col("http_status") != 200).select(
            "snapshot_date", "title_id", "http_status"
        ),
        "unavailable_titles",
    )


def title_pages_frame(
    imdb: ImdbClient,
    archive: PageArchive,
    postgres: PostgresResource,
    rankings: pl.DataFrame,
    days: list[date],
    refresh_after_days: int,
) -> pl.DataFrame:
    """For each day, the pages of the titles in its lists not read within the refresh age."""
    read_on = _recent_reads(postgres, days[0], refresh_after_days)
    frames = []
    for day in days:
        ranked = (
            rankings.filter(pl.col("snapshot_date") == day)
            .sort("genre", "rank")["title_id"]
            .unique(maintain_order=True)
            .to_list()
        )
        stale = [
            t
            for t in ranked
            if t not in read_on or read_on[t] <= day - timedelta(days=refresh_after_days)
        ]
        frames.append(_title_rows(imdb, archive, day, stale))
        read_on.update(dict.fromkeys(stale, day))
    return pl.concat(frames) if frames else pl.DataFrame(schema=polars_schema(RawTitlePages))


def _recent_reads(
    postgres: PostgresResource, first: date, refresh_after_days: int
) -> dict[str, date]:
    """The last day (before `first`) each title's page was read, within the refresh age."""
    if postgres.query("SELECT to_regclass('raw.imdb_title_pages')")[0][0] is None:
        return {}
    rows = postgres.query(
        "SELECT title_id, max(snapshot_date) FROM raw.imdb_title_pages "
        "WHERE snapshot_date > $1 AND snapshot_date < $2 GROUP BY title_id",
        [first - timedelta(days=refresh_after_days), first],
    )
    return dict(rows)


def _title_rows(
    imdb: ImdbClient, archive: PageArchive, day: date, title_ids: list[str]
) -> pl.DataFrame:
    rows = []
    missing = []
    for title_id in title_ids:
        try:
            status, archived = _title_page(imdb, archive, day, title_id)
        except PageError:
            missing.append(title_id)
            continue
        except ImdbError as error:
            raise dg.Failure(f"title page {title_id} ({day}): {error}") from None
        page_props = None
        if status == 200:
            try:
                atf, mcd = title_page_parts(_page_text(archived))
                title_details_row(atf, mcd)  # a layout change fails here, loudly
            except (LayoutChangeError, PageError) as error:
                raise dg.Failure(
                    f"title page {title_id} ({day}): {error}. IMDb may have changed its pages; "
                    f"the page is archived at {archived.path} (`imdb-warehouse parse` reads it)"
                ) from None
            page_props = json.dumps(
                {"aboveTheFoldData": atf, "mainColumnData": mcd}, ensure_ascii=False
            )
        rows.append(
            {
                "snapshot_date": day,
                "title_id": title_id,
                "http_status": status,
                "page_props": page_props,
                "url": imdb.title_url(title_id),
                "archive_path": archived.path,
                "sha256": archived.sha256,
                "fetched_at": archived.fetched_at,
            }
        )
    if missing:
        raise dg.Failure(
            f"title pages of {day}: {day} is not today ({imdb.now().date()}, UTC) and "
            f"{len(missing)} pages are not archived under {archive.path('title', day, '').parent} "
            f"(e.g. {', '.join(missing[:5])}): a past day can only be re-read from its archive"
        )
    return pl.DataFrame(rows, schema=polars_schema(RawTitlePages))


def _title_page(
    imdb: ImdbClient, archive: PageArchive, day: date, title_id: str
) -> tuple[int, ArchivedPage]:
    if day == imdb.now().date():
        fetched = imdb.fetch_title_page(title_id)
        name = title_id if fetched.status == 200 else f"{title_id}.{fetched.status}"
        return fetched.status, archive.store("title", day, name, fetched.body, fetched.fetched_at)
    for status, name in [(200, title_id)] + [(s, f"{title_id}.{s}") for s in UNAVAILABLE]:
        if (archived := archive.load("title", day, name)) is not None:
            return status, archived
    raise PageError(title_id)
