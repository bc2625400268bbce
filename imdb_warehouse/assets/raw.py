"""Raw layer: what IMDb sent, row by row. Every answer is archived; each row names its capture.

Two sources (IMDB_SOURCE): `graphql`, IMDb's GraphQL API (a list is one `advancedTitleSearch`,
the day's details are `titles` in batches: every listed movie, every day), and `html`, its
pages (a search page per list, the title pages of new or stale movies). Today is fetched; a
past day is rebuilt from its archived captures, of whichever source made them, without a
request. An answer that cannot be loaded fails the day naming its capture; nothing of it lands.
"""

import json
from datetime import date, timedelta

import dagster as dg
import polars as pl
from pydantic import Field

from imdb_warehouse import tables
from imdb_warehouse.checks import DETAILS_MAX_AGE_DAYS
from imdb_warehouse.imdb import graphql
from imdb_warehouse.imdb.fields import IgnoredFilterError, LayoutChangeError
from imdb_warehouse.imdb.graphql import GraphQLAnswerError
from imdb_warehouse.imdb.parse import (
    parse_search_page,
    title_details_row,
    title_page_parts,
)
from imdb_warehouse.partitions import FIRST_DAY, partition_days, run_lists
from imdb_warehouse.resources import PostgresResource
from imdb_warehouse.resources.archive import Capture, PageArchive, capture_order, read_capture
from imdb_warehouse.resources.imdb_client import (
    UNAVAILABLE,
    ImdbClient,
    ImdbError,
    NoAnswerError,
    split_cause,
)
from imdb_warehouse.schemas import RawSearchResults, RawTitlePages, polars_schema

GRAPHQL_LISTS, GRAPHQL_TITLES = "graphql/lists", "graphql/titles"
HTML_SEARCH, HTML_TITLE = "search", "title"

log = dg.get_dagster_logger("imdb_warehouse.raw")


def day_refusal(day: date, today: date, archive: PageArchive) -> str | None:
    """Why `day` cannot be built (None when it can): a day to come, one before the first day
    the warehouse keeps, or a past day with nothing archived (IMDb answers only for today)."""
    if day > today:
        return f"{day} is after today ({today}, UTC): IMDb has no lists of a day to come"
    if day < FIRST_DAY:
        return f"{day} is before {FIRST_DAY}, the first day this warehouse keeps"
    if day != today and not archive.holds(day):
        return (
            f"{day} is not today ({today}, UTC) and nothing of it is archived under "
            f"{archive.resolved_root()}: IMDb answers only for today, so a past day can only "
            "be rebuilt from its archive"
        )
    return None


def _check_clock(imdb: ImdbClient) -> None:
    """A day to come or a malformed IMDB_WAREHOUSE_TODAY fails before any request or write."""
    try:
        imdb.now()
    except ImdbError as error:
        raise dg.Failure(str(error)) from None


class AnswerError(Exception):
    """An answer that cannot be loaded; the message says why (the caller adds where it is)."""


def _text(capture: Capture) -> str:
    try:
        return capture.content.decode("utf-8")
    except UnicodeDecodeError as error:
        raise AnswerError(f"the answer is not valid UTF-8 ({error})") from None


# --- the lists ---


@tables.SEARCH_RESULTS.asset
def imdb_search_results(context: dg.AssetExecutionContext, imdb: ImdbClient, archive: PageArchive):
    """Each genre's list of the most popular English-language feature films, one row per
    result exactly as IMDb sent it (`item_json`: the GraphQL `Title`, or the search page's
    item), with its rank, IMDb's total and the archived capture: one list per partition
    (day × genre). An empty list, a list shorter than asked while IMDb's total says more, an
    answer with errors, a changed format, or a list where IMDb dropped the genre filter fails
    the run naming the capture."""
    frame = search_results_frame(imdb, archive, run_lists(context))
    yield from tables.SEARCH_RESULTS.outputs(frame)


def search_results_frame(
    imdb: ImdbClient, archive: PageArchive, lists: list[tuple[date, str]]
) -> pl.DataFrame:
    """The results of each (day, genre) list: today's fetched, a past day's from its archive."""
    _check_clock(imdb)
    frames = [_list_rows(imdb, archive, day, genre) for day, genre in lists]
    return pl.concat(frames) if frames else pl.DataFrame(schema=polars_schema(RawSearchResults))


def _list_rows(imdb: ImdbClient, archive: PageArchive, day: date, genre: str) -> pl.DataFrame:
    where = f"the {genre} list of {day}"
    if day == imdb.now().date():
        try:
            source = imdb.resolved_source()
            if source == "graphql":
                variables = graphql.list_variables(genre)
                exchange = imdb.graphql(graphql.LIST_QUERY, variables, "GenreList")
                capture = archive.store(GRAPHQL_LISTS, day, genre, exchange)
            else:
                capture = archive.store(HTML_SEARCH, day, genre, imdb.fetch_search_page(genre))
        except ImdbError as error:
            raise dg.Failure(f"{where}: {error}") from None
        try:
            read = _read_list(capture, genre, source, imdb)
        except AnswerError as error:
            raise dg.Failure(f"{where}: {error}; IMDb's answer is kept at {capture.path}") from None
    else:
        source, capture, read = _archived_list(imdb, archive, day, genre)
    total, items = read
    n = len(items)
    return pl.DataFrame(
        {
            "snapshot_date": [day] * n,
            "genre": [genre] * n,
            "rank": range(1, n + 1),
            "title_id": [item["id"] if source == "graphql" else item["titleId"] for item in items],
            "item_json": [json.dumps(item, ensure_ascii=False) for item in items],
            "total_results": [total] * n,
            "source": [source] * n,
            "url": [_url(capture, imdb, genre)] * n,
            "archive_path": [capture.path] * n,
            "sha256": [capture.sha256] * n,
            "fetched_at": [capture.fetched_at] * n,
        },
        schema=polars_schema(RawSearchResults),
    )


def _url(capture: Capture, imdb: ImdbClient, genre: str) -> str:
    if capture.envelope is not None:
        return capture.envelope["request"]["url"]
    return imdb.search_url(genre)


def _read_list(
    capture: Capture, genre: str, source: str, imdb: ImdbClient
) -> tuple[int, list[dict]]:
    """(IMDb's total, the items in list order) of a list's capture, or AnswerError."""
    try:
        if source == "graphql":
            _check_exchange(capture, imdb)
            data = graphql.answer_data(capture.content)
            found = graphql.genre_list(data, genre)
            asked = capture.request_body["variables"]["first"]
            total, items = found.total, found.titles
        else:
            page = parse_search_page(_text(capture), genre)
            page.rows()  # every item must read as a staging row: a layout change fails here
            total, items, asked = page.total, page.items, int(imdb.search_params.get("count", 50))
    except (LayoutChangeError, IgnoredFilterError) as error:
        raise AnswerError(
            f"{error}. IMDb may have changed its {'schema' if source == 'graphql' else 'pages'}; "
            "`imdb-warehouse parse` reads the kept answer"
        ) from None
    except GraphQLAnswerError as error:
        raise AnswerError(f"IMDb answered with errors: {error}") from None
    if not items:
        raise AnswerError(
            f"IMDb sent an empty list (its total: {total:,}); an empty list is never loaded as "
            "a day without movies. Try again later; if it lasts, IMDb changed what the query means"
        )
    if len(items) < asked and total > len(items):
        raise AnswerError(
            f"IMDb sent {len(items)} of the {asked} results asked for while its total is "
            f"{total:,}: a short list is not loaded. Try again later"
        )
    return total, items


def _check_exchange(capture: Capture, imdb: ImdbClient) -> None:
    if capture.status != 200:
        raise AnswerError(imdb.refusal(capture.exchange()))


def _archived_list(
    imdb: ImdbClient, archive: PageArchive, day: date, genre: str
) -> tuple[str, Capture, tuple[int, list[dict]]]:
    """A past day's list from the newest of its captures that loads (of either source)."""
    captures = [(p, "graphql") for p in archive.captures(GRAPHQL_LISTS, day, [genre])]
    captures += [(p, "html") for p in archive.captures(HTML_SEARCH, day, [genre])]
    captures.sort(key=lambda found: capture_order(found[0]), reverse=True)
    reasons = []
    for path, source in captures:
        capture = read_capture(path)
        try:
            return source, capture, _read_list(capture, genre, source, imdb)
        except AnswerError as error:
            reasons.append(f"{path}: {error}")
    where = f"the {genre} list of {day}"
    if reasons:
        raise dg.Failure(
            f"{where}: none of its {len(reasons)} archived captures loads; the newest: {reasons[0]}"
        )
    raise dg.Failure(
        f"{where}: that day is not today ({imdb.now().date()}, UTC) and nothing of it is archived "
        f"(e.g. under {archive.folder(GRAPHQL_LISTS, day)}): IMDb answers only for today, so a "
        "past day can only be rebuilt from its archive"
    )


# --- the details ---


class TitlePagesConfig(dg.Config):
    refresh_after_days: int = Field(
        default=DETAILS_MAX_AGE_DAYS,
        ge=1,
        description="The html source only: a title's page is read again when the last read is "
        "this many days old (the graphql source reads every listed movie every day)",
    )


@tables.TITLE_PAGES.asset
def imdb_title_pages(
    context: dg.AssetExecutionContext,
    config: TitlePagesConfig,
    imdb: ImdbClient,
    archive: PageArchive,
    postgres: PostgresResource,
    movie_rankings: pl.DataFrame,
):
    """The details of the movies the run's lists held, as IMDb sent them (`title_json`):
    credits, countries, languages, budget and box office, with the genres whose lists held each
    (`listed_in`: its partitions). The graphql source asks for every listed movie every day
    (`titles`, in batches of up to 250, once for all the run's lists), so people, votes and box
    office are daily series; the html source reads the title pages of movies not read in the
    last `refresh_after_days` days."""
    frame = title_pages_frame(
        imdb, archive, postgres, movie_rankings, partition_days(context), config.refresh_after_days
    )
    yield from tables.TITLE_PAGES.outputs(frame)


def title_pages_frame(
    imdb: ImdbClient,
    archive: PageArchive,
    postgres: PostgresResource,
    rankings: pl.DataFrame,
    days: list[date],
    refresh_after_days: int,
) -> pl.DataFrame:
    """For each day, the details of the titles in its lists: all of them (graphql), or those
    whose page was not read within the refresh age (html)."""
    _check_clock(imdb)
    read_on = _recent_reads(postgres, days[0], refresh_after_days)
    frames = []
    for day in days:
        ranked = (
            rankings.filter(pl.col("snapshot_date") == day)
            .sort("genre", "rank")["title_id"]
            .unique(maintain_order=True)
            .to_list()
        )
        if _details_source(imdb, archive, day) == "graphql":
            frames.append(_graphql_title_rows(imdb, archive, day, ranked))
            continue
        stale = [
            t
            for t in ranked
            if t not in read_on or read_on[t] <= day - timedelta(days=refresh_after_days)
        ]
        frames.append(_page_rows(imdb, archive, day, stale))
        read_on.update(dict.fromkeys(stale, day))
    if not frames:
        return pl.DataFrame(schema=polars_schema(RawTitlePages))
    return _with_lists(pl.concat(frames), rankings)


def _with_lists(frame: pl.DataFrame, rankings: pl.DataFrame) -> pl.DataFrame:
    """`frame`'s titles with `listed_in`: the genres whose lists held each on its day."""
    listed = rankings.group_by("snapshot_date", "title_id").agg(
        listed_in=pl.col("genre").unique().sort()
    )
    joined = frame.drop("listed_in", strict=False).join(
        listed, on=["snapshot_date", "title_id"], how="left"
    )
    return joined.select(polars_schema(RawTitlePages).names())


def _details_source(imdb: ImdbClient, archive: PageArchive, day: date) -> str:
    """Today: the configured source. A past day: the one its archive holds (graphql first)."""
    if day == imdb.now().date():
        return imdb.resolved_source()
    return "graphql" if archive.captures(GRAPHQL_TITLES, day) else "html"


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


def _detail_row(
    day: date,
    title_id: str,
    available: bool,
    status: int,
    title_json,
    capture: Capture,
    source: str,
    url: str,
    cause: str | None = None,
) -> dict:
    return {
        "snapshot_date": day,
        "title_id": title_id,
        "available": available,
        "http_status": status or None,  # 0: no answer came
        "unavailable_cause": cause,
        "title_json": None if title_json is None else json.dumps(title_json, ensure_ascii=False),
        "source": source,
        "url": url,
        "archive_path": capture.path,
        "sha256": capture.sha256,
        "fetched_at": capture.fetched_at,
    }


# A title id → (the title as IMDb sent it, or None; its capture; why IMDb failed it even alone)
Found = dict[str, tuple[dict | None, Capture, str | None]]
FAILED_ALONE_IN_A_ROW = 3  # single titles failing, nothing answered between: IMDb is failing


def _graphql_title_rows(
    imdb: ImdbClient, archive: PageArchive, day: date, title_ids: list[str]
) -> pl.DataFrame:
    if day == imdb.now().date():
        found = _DetailsFetch(imdb, archive, day, len(title_ids)).titles(title_ids)
    else:
        found = _archived_titles(imdb, archive, day, title_ids)
    _check_most_answered(day, title_ids, found, archive)
    rows = []
    for title_id in title_ids:
        title, capture, cause = found[title_id]
        available = not graphql.is_unavailable(title)
        url = capture.exchange().url
        rows.append(
            _detail_row(
                day, title_id, available, capture.status, title, capture, "graphql", url, cause
            )
        )
    return pl.DataFrame(rows, schema=polars_schema(RawTitlePages))


class _DetailsFetch:
    """Today's `titles` batches. A batch that IMDb fails in a way a smaller one may get through
    (`split_cause`: HTTP 413, 502, 503, 504, no answer in time, a body cut short), after the
    client's usual retries, is split in half and its halves asked, each once, split again when
    they fail, down to single titles; a title that fails alone is recorded with its cause. Every
    request is archived: batch-001, its halves batch-001a and batch-001b, theirs batch-001aa…
    (sorted by name, they come in the order asked)."""

    def __init__(self, imdb: ImdbClient, archive: PageArchive, day: date, total: int) -> None:
        self.imdb, self.archive, self.day, self.total = imdb, archive, day, total
        self.found: Found = {}
        self.failed_in_a_row = 0

    def titles(self, title_ids: list[str]) -> Found:
        for index, batch in enumerate(graphql.batches(title_ids, self.imdb.details_batch_size)):
            self._ask(batch, f"batch-{index + 1:03d}", first=True)
        return self.found

    def _ask(self, batch: list[str], name: str, first: bool) -> None:
        where = f"details of {self.day}, {name} ({len(batch)} titles)"
        try:
            variables = graphql.details_variables(batch)
            exchange = self.imdb.graphql(
                graphql.DETAILS_QUERY, variables, "TitleDetails", retry_splittable=first
            )
        except NoAnswerError as error:
            exchange = error.exchange
        except (ImdbError, ValueError) as error:
            raise dg.Failure(f"{where}: {error}") from None
        capture = self.archive.store(GRAPHQL_TITLES, self.day, name, exchange)
        cause = split_cause(exchange)
        if cause is None:
            try:
                self.found.update(_read_titles(capture, self.imdb))
            except AnswerError as error:
                raise dg.Failure(
                    f"{where}: {error}; IMDb's answer is kept at {capture.path}"
                ) from None
            self.failed_in_a_row = 0
        elif len(batch) > 1:
            half = (len(batch) + 1) // 2
            log.warning(f"IMDb: {where}: {cause}; asking its halves ({half} + {len(batch) - half})")
            self._ask(batch[:half], name + "a", first=False)
            self._ask(batch[half:], name + "b", first=False)
        else:
            log.warning(f"IMDb: {where}: {cause}; {batch[0]} is recorded unavailable")
            self.found[batch[0]] = (None, capture, cause)
            self.failed_in_a_row += 1
            if self.failed_in_a_row >= FAILED_ALONE_IN_A_ROW:
                raise dg.Failure(
                    f"details of {self.day}: IMDb failed {self.failed_in_a_row} titles in a row "
                    f"even asked alone ({cause}), answering nothing between: it is failing, not "
                    f"the batch size, so {self.total - len(self.found):,} of the day's "
                    f"{self.total:,} titles are left unread and none is loaded. Try the day again "
                    f"later (`imdb-warehouse refresh`); the answers are kept under "
                    f"{self.archive.folder(GRAPHQL_TITLES, self.day)}"
                )


def _check_most_answered(day: date, title_ids: list[str], found: Found, archive: PageArchive):
    """The day fails when most of its titles failed even asked alone."""
    failed = [t for t in title_ids if found[t][2] is not None]
    if 2 * len(failed) > len(title_ids):
        causes = ", ".join(sorted({str(found[t][2]) for t in failed}))
        raise dg.Failure(
            f"details of {day}: {len(failed):,} of the day's {len(title_ids):,} titles failed "
            f"even asked alone ({causes}): IMDb is failing, and none was loaded. Try the day "
            f"again later (`imdb-warehouse refresh`); the answers are kept under "
            f"{archive.folder(GRAPHQL_TITLES, day)}"
        )


def _read_titles(capture: Capture, imdb: ImdbClient) -> Found:
    """{title id asked: (the title as IMDb sent it, its capture, None)}."""
    try:
        _check_exchange(capture, imdb)
        asked = capture.request_body["variables"]["ids"]
        titles = graphql.titles(graphql.answer_data(capture.content), asked)
        for index, title in enumerate(titles):
            if title is not None and not graphql.is_unavailable(title):
                graphql.details_row(title, index)  # every title must read: a change fails here
    except LayoutChangeError as error:
        raise AnswerError(
            f"{error}. IMDb may have changed its schema; `imdb-warehouse parse` reads the kept "
            "answer"
        ) from None
    except GraphQLAnswerError as error:
        raise AnswerError(f"IMDb answered with errors: {error}") from None
    return {title_id: (title, capture, None) for title_id, title in zip(asked, titles, strict=True)}


def _archived_titles(
    imdb: ImdbClient, archive: PageArchive, day: date, title_ids: list[str]
) -> Found:
    """A past day's titles from its archived batches, the newest loadable answer of each; a
    title in none, whose request failed even alone, as that failure recorded it."""
    found: Found = {}
    failed: Found = {}
    for path in archive.captures(GRAPHQL_TITLES, day):
        capture = read_capture(path)
        try:
            for title_id, answer in _read_titles(capture, imdb).items():
                found.setdefault(title_id, answer)
        except AnswerError:  # a failed capture: an older one may hold the titles
            asked = capture.request_body.get("variables", {}).get("ids") or []
            cause = split_cause(capture.exchange())
            if len(asked) == 1 and cause is not None:
                failed.setdefault(asked[0], (None, capture, cause))
    found = {**failed, **found}
    missing = [t for t in title_ids if t not in found]
    if missing:
        raise dg.Failure(
            f"details of {day}: that day is not today ({imdb.now().date()}, UTC) and "
            f"{len(missing)} of its titles are in no loadable answer archived under "
            f"{archive.folder(GRAPHQL_TITLES, day)} (e.g. {', '.join(missing[:5])}): a past "
            "day can only be rebuilt from its archive"
        )
    return found


def _page_rows(
    imdb: ImdbClient, archive: PageArchive, day: date, title_ids: list[str]
) -> pl.DataFrame:
    rows = []
    missing = []
    for title_id in title_ids:
        try:
            status, capture = _title_page(imdb, archive, day, title_id)
        except LookupError:
            missing.append(title_id)
            continue
        except ImdbError as error:
            raise dg.Failure(f"title page {title_id} ({day}): {error}") from None
        title_json = None
        if status == 200:
            try:
                atf, mcd = title_page_parts(_text(capture))
                title_details_row(atf, mcd)  # a layout change fails here, loudly
            except (LayoutChangeError, AnswerError) as error:
                raise dg.Failure(
                    f"title page {title_id} ({day}): {error}. IMDb may have changed its pages; "
                    f"the page is kept at {capture.path} (`imdb-warehouse parse` reads it)"
                ) from None
            title_json = {"aboveTheFoldData": atf, "mainColumnData": mcd}
        url = imdb.title_url(title_id)
        rows.append(
            _detail_row(day, title_id, status == 200, status, title_json, capture, "html", url)
        )
    if missing:
        raise dg.Failure(
            f"title pages of {day}: {day} is not today ({imdb.now().date()}, UTC) and "
            f"{len(missing)} pages are not archived under {archive.folder(HTML_TITLE, day)} "
            f"(e.g. {', '.join(missing[:5])}): a past day can only be rebuilt from its archive"
        )
    return pl.DataFrame(rows, schema=polars_schema(RawTitlePages))


def _title_page(
    imdb: ImdbClient, archive: PageArchive, day: date, title_id: str
) -> tuple[int, Capture]:
    """Today's page, fetched; a past day's newest archived one. LookupError when none is."""
    if day == imdb.now().date():
        exchange = imdb.fetch_title_page(title_id)
        name = title_id if exchange.status == 200 else f"{title_id}.{exchange.status}"
        return exchange.status, archive.store(HTML_TITLE, day, name, exchange)
    names = [title_id] + [f"{title_id}.{s}" for s in UNAVAILABLE]
    for path in archive.captures(HTML_TITLE, day, names):
        name = archive.capture_name(path)
        return (200 if name == title_id else int(name.rsplit(".", 1)[1])), read_capture(path)
    raise LookupError(title_id)
