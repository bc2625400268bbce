"""The `imdb-warehouse` command."""

import argparse
import gzip
import json
import os
import sys
from datetime import date
from pathlib import Path

from imdb_warehouse.imdb.genres import MOVIE_GENRE_SLUGS as GENRES
from imdb_warehouse.replay.faults import FAULT_KINDS

# Commands import what they need when they run: `parse` and `replay` start without Dagster.


def _fail(command: str, error: Exception | str) -> int:
    print(f"imdb-warehouse: {command}: {error}", file=sys.stderr)
    return 1


def _db_url(args: argparse.Namespace) -> int:
    from imdb_warehouse.resources.postgres import (
        EmbeddedPostgresError,
        configured_database_url,
        redacted,
    )

    try:
        url = configured_database_url()
        print(redacted(url) if args.hide_password else url)
    except EmbeddedPostgresError as error:
        return _fail("db-url", error)
    return 0


def _db_stop(_: argparse.Namespace) -> int:
    from imdb_warehouse import settings
    from imdb_warehouse.resources.postgres import stop_embedded_server

    home = settings.warehouse_home()
    if stop_embedded_server(home):
        print(f"stopped the embedded Postgres of {home}")
    else:
        print(f"no embedded Postgres is running for {home}")
    return 0


def _parse(args: argparse.Namespace) -> int:
    from imdb_warehouse.imdb.fields import IgnoredFilterError, LayoutChangeError
    from imdb_warehouse.imdb.graphql import GraphQLAnswerError
    from imdb_warehouse.imdb.parse import (
        next_data,
        page_kind,
        parse_search_page,
        parse_title_page,
    )

    try:
        raw = Path(args.file).read_bytes()
        text = (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode("utf-8")
        if text.lstrip().startswith("{"):  # a GraphQL answer, or an archived exchange
            rows = _graphql_rows(json.loads(text))
        elif page_kind(next_data(text)) == "search":
            rows = parse_search_page(text).rows()
        else:
            rows = [parse_title_page(text)]
    except (
        OSError,
        ValueError,  # invalid JSON or UTF-8, a layout change, a dropped filter
        GraphQLAnswerError,
        LayoutChangeError,
        IgnoredFilterError,
    ) as error:
        return _fail(f"parse {args.file}", error)
    try:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False, default=date.isoformat))
    except BrokenPipeError:  # the reader stopped early (`| head`): not an error
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115
    return 0


def _graphql_rows(sent: dict) -> list[dict]:
    from imdb_warehouse.imdb.graphql import answer_rows
    from imdb_warehouse.resources.archive import response_body

    if {"request", "response"} <= sent.keys():  # an exchange, as the archive keeps it
        status = sent["response"]["status"]
        if problem := sent["response"].get("problem"):
            raise ValueError(f"no answer came ({problem}): no GraphQL answer to read")
        if status != 200:
            raise ValueError(f"IMDb answered HTTP {status}: no GraphQL answer to read")
        asked = ((sent["request"].get("body") or {}).get("variables") or {}).get("ids")
        return answer_rows(json.loads(response_body(sent)), asked)
    return answer_rows(sent)


def _doctor(_: argparse.Namespace) -> int:
    from imdb_warehouse.doctor import diagnose

    findings = diagnose()
    for finding in findings:
        print(f"doctor: {finding.line()}")
    return 0 if all(f.ok for f in findings if f.chosen) else 1


def _fault_spec(spec: str):
    from imdb_warehouse.replay.faults import parse_fault

    try:
        return parse_fault(spec)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _replay(args: argparse.Namespace) -> int:
    import signal
    import threading

    from imdb_warehouse.replay.server import ReplayServer

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    server = ReplayServer(args.host, args.port, args.date, args.faults or (), args.seed)
    try:
        server.start()
    except OSError as error:
        return _fail("replay", error)
    try:
        day = args.date.isoformat() if args.date else "today (UTC)"
        print(f"replay: serving IMDb for {day} at {server.url}", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    return 0


def _instance():
    import dagster as dg

    if os.environ.get("DAGSTER_HOME"):
        return dg.DagsterInstance.get()
    print("imdb-warehouse: DAGSTER_HOME is not set: these runs will not show in the UI "
          "(`make run` and `make demo` set it)", file=sys.stderr)  # fmt: skip
    return dg.DagsterInstance.ephemeral()


def _stoppable(refresh, instance):
    """`refresh()` in a worker thread, so that SIGINT and SIGTERM reach this process even while
    a step waits for the `imdb` pool (Dagster does not look at them then): on either, this
    process's runs are marked canceled, their pool slots freed, and it exits (130). Every write
    is one transaction, so nothing is left half-written."""
    import signal
    import threading

    from imdb_warehouse.runs import end_runs_of_this_process

    done: dict = {}

    def work() -> None:
        try:
            done["results"] = refresh()
        except BaseException as error:  # handed to the main thread
            done["error"] = error

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    worker = threading.Thread(target=work, name="refresh", daemon=True)
    worker.start()
    while worker.is_alive() and not stop.wait(0.2):
        pass
    if stop.is_set() and worker.is_alive():
        ended = end_runs_of_this_process(instance, "stopped by a signal to imdb-warehouse")
        print(f"imdb-warehouse: stopped; {len(ended)} run(s) marked canceled", file=sys.stderr)
        sys.stderr.flush()
        sys.stdout.flush()
        os._exit(130)
    if "error" in done:
        raise done["error"]
    return done["results"]


class _Console:
    """What `refresh`, `rebuild` and `demo` print: a line per step that succeeded, each run's
    outcome with each failing step's cause and each WARN check, and at the end the checks'
    tally and the file that keeps Dagster's whole log (DEBUG included) of every run."""

    def __init__(self, command: str, instance) -> None:
        from datetime import UTC, datetime

        from imdb_warehouse import settings

        self.instance = instance
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        self.log_path = settings.warehouse_home() / "logs" / f"{command}-{stamp}.log"
        self.passed = 0
        self.warned: list[str] = []  # the checks that warned, by name
        self.failed: list[str] = []
        self.report_path: str | None = None

    def event(self, event) -> None:
        if event.is_step_success:
            seconds = event.event_specific_data.duration_ms / 1000
            print(f"  {event.step_key}: done in {seconds:.1f} s", flush=True)

    def run(self, result) -> None:
        import dagster as dg

        from imdb_warehouse.runs import failure_cause

        outcome = "succeeded" if result.success else "FAILED"
        print(f"{result.job_def.name}: {outcome} (run {result.run_id})")
        for event in result.all_events:
            if event.is_step_failure:
                print(f"  {event.step_key}: {failure_cause(event)}")
        for check in result.get_asset_check_evaluations():
            name = f"{check.asset_key.to_user_string()} {check.check_name}"
            if check.passed:
                self.passed += 1
            elif check.severity == dg.AssetCheckSeverity.WARN:
                self.warned.append(name)
                print(f"  WARN {name}: {_found(check)}")
            else:
                self.failed.append(name)
        for event in result.get_asset_materialization_events():
            path = event.materialization.metadata.get("path")
            if path is not None and event.asset_key.path[-1] == "daily_report":
                self.report_path = path.value
        self._keep_log(result.run_id)
        sys.stdout.flush()

    def _keep_log(self, run_id: str) -> None:
        from datetime import UTC, datetime

        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("a", encoding="utf-8") as log:
            for entry in self.instance.all_logs(run_id):
                moment = datetime.fromtimestamp(entry.timestamp, UTC).isoformat(timespec="seconds")
                kind = entry.dagster_event.event_type_value if entry.dagster_event else "LOG"
                level = logging_level_name(entry.level)
                step = entry.step_key or "-"
                log.write(f"{moment} {level} {entry.job_name} {run_id} {step} {kind} "
                          f"{entry.user_message or entry.message}\n")  # fmt: skip

    def summary(self) -> None:
        from collections import Counter

        counted = Counter(self.warned)
        warned = ", ".join(f"{name} ×{n}" if n > 1 else name for name, n in counted.items())
        warned = f" ({warned})" if warned else ""
        failed = f" ({', '.join(self.failed)})" if self.failed else ""
        print(
            f"\nChecks: {self.passed} passed, {len(self.warned)} warned{warned}, "
            f"{len(self.failed)} failed{failed}"
        )
        print(f"Dagster's whole log of these runs: {self.log_path}")
        if self.report_path:
            print(f"The daily report: {self.report_path}")


def logging_level_name(level: int | str) -> str:
    import logging

    return level if isinstance(level, str) else logging.getLevelName(level)


def _status(results) -> int:
    return 0 if results and all(r.success for r in results) else 1


def _found(check) -> str:
    """What a WARN check found, in one line: the rows of its table (the first five)."""
    count = check.metadata.get("count")
    tables = [
        v.value for k, v in check.metadata.items() if k != "count" and isinstance(v.value, str)
    ]
    lines = [line for line in (tables[0] if tables else "").splitlines() if line.startswith("|")]

    def cells(line: str) -> list[str]:
        return [cell.strip() for cell in line.strip().strip("|").split("|")]

    header, rows = (cells(lines[0]), lines[2:]) if len(lines) > 2 else ([], [])
    shown = "; ".join(
        " ".join(f"{name}={value}" for name, value in zip(header, cells(row), strict=False))
        for row in rows[:5]
    )
    return f"{count.value if count else len(rows)} found: {shown}"


def _refresh(args: argparse.Namespace) -> int:
    import psycopg

    from imdb_warehouse.assets.raw import day_refusal
    from imdb_warehouse.resources import PostgresResource
    from imdb_warehouse.resources.archive import PageArchive
    from imdb_warehouse.resources.imdb_client import ImdbClient, ImdbError
    from imdb_warehouse.resources.postgres import EmbeddedPostgresError

    try:
        today = ImdbClient().now().date()
    except ImdbError as error:
        return _fail("refresh", error)
    day = args.date or today
    if refusal := day_refusal(day, today, PageArchive()):
        return _fail("refresh", refusal)
    print(f"refresh: {day}, genres {', '.join(args.genre) if args.genre else 'all'}", flush=True)
    with _instance() as instance:
        console = _Console("refresh", instance)
        try:
            results = _refresh_here(console, day, args.genre or GENRES)
        except (psycopg.Error, EmbeddedPostgresError) as error:  # before any run: the warehouse
            return _fail("refresh", " / ".join(line.strip() for line in str(error).splitlines()))
        if _status(results) == 0:
            _warehouse_summary(PostgresResource())
        console.summary()
    if _status(results) == 0:
        _ui_hint()
    return _status(results)


def _refresh_here(
    console: "_Console", day: date, genres, last: date | None = None, report: bool = True
):
    """`refresh_in_process`, stoppable by a signal, told on `console`."""
    from imdb_warehouse.schedules import refresh_in_process

    return _stoppable(
        lambda: refresh_in_process(
            day, genres, instance=console.instance, on_run=console.run, on_event=console.event,
            last=last, report=report,
        ),
        console.instance,
    )  # fmt: skip


def _rebuild(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from imdb_warehouse.assets.raw import day_refusal
    from imdb_warehouse.partitions import DAYS_PER_RUN, day_chunks
    from imdb_warehouse.resources.archive import PageArchive
    from imdb_warehouse.resources.imdb_client import ImdbClient, ImdbError

    try:
        today = ImdbClient().now().date()
    except ImdbError as error:
        return _fail("rebuild", error)
    first, last = args.first, args.last or args.first
    if last < first:
        return _fail("rebuild", f"--to {last} is before --from {first}")
    if last >= today:
        return _fail(
            "rebuild", f"{last} is not a past day (today is {today}, UTC): refresh today instead"
        )
    archive = PageArchive()
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    if refusals := [r for day in days if (r := day_refusal(day, today, archive))]:
        return _fail(
            "rebuild", f"{len(refusals)} of the {len(days)} days cannot be rebuilt: {refusals[0]}"
        )
    runs = len(day_chunks(first, last))
    print(
        f"rebuild: {first} to {last} from the archive, every genre, in {runs} run(s) of up to "
        f"{DAYS_PER_RUN} days",
        flush=True,
    )
    with _instance() as instance:
        console = _Console("rebuild", instance)
        results = _refresh_here(console, first, GENRES, last)
        console.summary()
    return _status(results)


DEMO_DAYS = 7


def _demo(args: argparse.Namespace) -> int:
    """A week against the offline IMDb: seven consecutive days, each a normal daily run (the
    replay serves that day; the day is "today" while it runs), so that history, movers and
    trends have something to show."""
    from datetime import timedelta

    from imdb_warehouse import settings
    from imdb_warehouse.replay.server import ReplayServer
    from imdb_warehouse.resources import PostgresResource
    from imdb_warehouse.resources.imdb_client import ImdbClient, ImdbError
    from imdb_warehouse.resources.postgres import EmbeddedPostgresError, embedded_database_url

    try:
        today = ImdbClient().now().date()
        url = embedded_database_url(settings.warehouse_home())
    except (ImdbError, EmbeddedPostgresError) as error:
        return _fail("demo", error)
    days = [today - timedelta(days=n) for n in reversed(range(DEMO_DAYS))]
    print(f"demo: the embedded warehouse at {url}", flush=True)
    with ReplayServer(day=days[0]) as replay, _instance() as instance:
        console = _Console("demo", instance)
        print(f"demo: the offline IMDb at {replay.url}; a week, {days[0]} to {today}", flush=True)
        status = 0
        for day in days:
            replay.set_day(day)
            print(f"demo: refreshing {day}", flush=True)
            demo_settings: dict[settings.Setting, str] = {
                settings.DATABASE_URL: url,
                settings.GRAPHQL_URL: f"{replay.url}/",
                settings.BASE_URL: replay.url,
                settings.TODAY: day.isoformat(),
                settings.MIN_INTERVAL: "0",  # our own replay: no need to wait
            }
            with settings.given(demo_settings):
                status = _status(_refresh_here(console, day, GENRES, report=day == today))
            if status:
                break
    if status == 0:
        postgres = PostgresResource(database_url=url)
        _warehouse_summary(postgres)
        _top_fives(postgres, today)
    console.summary()
    if status == 0:
        _ui_hint()
    return status


def _warehouse_summary(postgres) -> None:
    """The days the warehouse covers and the rows of each table."""
    from psycopg import sql

    tables = postgres.query(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema IN ('raw', 'staging', 'warehouse') ORDER BY 1, 2"
    )
    print("\nRows per table:")
    for schema, table in tables:
        [(count,)] = postgres.query(
            sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, table)).as_string()
        )
        print(f"  {schema + '.' + table:<32} {count:>8,}")
    [(first, last, days)] = postgres.query(
        "SELECT min(snapshot_date), max(snapshot_date), count(DISTINCT snapshot_date) "
        "FROM warehouse.fact_movie_ranking"
    )
    print(f"\nDays in the warehouse: {days}, {first} to {last}")


def _top_fives(postgres, day: date) -> None:
    for genre in ("Action", "Comedy"):
        print(f"\nToday's top 5, {genre}:")
        for rank, title, year, rating in postgres.query(
            "SELECT rank, title, release_year, rating FROM analytics.daily_rankings "
            "WHERE snapshot_date = $1 AND genre_name = $2 ORDER BY rank LIMIT 5",
            [day, genre],
        ):
            print(
                f"  {rank}. {title} ({year or '?'}), rated {rating if rating is not None else '-'}"
            )


def _ui_hint() -> None:
    from imdb_warehouse import settings

    print(f"\nSee it in the Dagster UI: make dev, then http://127.0.0.1:{settings.UI_PORT.get()}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="imdb-warehouse",
        description="IMDb genre rankings kept as a star schema in Postgres, built with Dagster.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    db_url = commands.add_parser(
        "db-url",
        help="print the warehouse Postgres URL in effect (starts the embedded server if needed)",
    )
    db_url.add_argument(
        "--hide-password", action="store_true", help="show the password as *** (for screens)"
    )
    db_url.set_defaults(run=_db_url)
    commands.add_parser(
        "db-stop", help="stop the embedded Postgres server of IMDB_WAREHOUSE_HOME"
    ).set_defaults(run=_db_stop)
    parse = commands.add_parser(
        "parse",
        help="read what IMDb sent, as saved or archived (a GraphQL answer or exchange, .json or "
        ".json.gz; a search or title page, .html or .html.gz), and print its rows as JSON lines",
    )
    parse.add_argument("file", help="the saved page")
    parse.set_defaults(run=_parse)
    commands.add_parser(
        "doctor",
        help="send the project's queries to each configured IMDb source (three requests) and "
        "say in a line each whether it answers or refuses a field (run it before the first "
        "`make run`)",
    ).set_defaults(run=_doctor)
    replay = commands.add_parser(
        "replay",
        help="serve the offline IMDb (GraphQL at POST /, licensed at /v1, pages; synthetic "
        "catalogue, optional faults) over HTTP",
    )
    replay.add_argument("--host", default="127.0.0.1")
    replay.add_argument("--port", type=int, default=8000)
    replay.add_argument(
        "--date", type=date.fromisoformat, help="the day served, YYYY-MM-DD (default: today, UTC)"
    )
    replay.add_argument(
        "--faults",
        type=_fault_spec,
        action="extend",
        nargs="+",
        metavar="SPEC",
        help=f"faults to inject, KIND[:key=value,...]: kinds {', '.join(FAULT_KINDS)}; keys "
        "path (a page's path and query, or /graphql/GenreList, /graphql/TitleDetails), rate, "
        "times, seconds",
    )
    replay.add_argument("--seed", type=int, default=0, help="the synthetic catalogue's seed")
    replay.set_defaults(run=_replay)
    refresh = commands.add_parser(
        "refresh",
        help="run the daily refresh in this process against the configured IMDb "
        "(IMDB_SOURCE: IMDb's GraphQL API by default; `doctor` checks it first)",
    )
    refresh.add_argument(
        "--date", type=date.fromisoformat, help="the day, YYYY-MM-DD (default: today, UTC)"
    )
    refresh.add_argument(
        "--genre", action="append", choices=GENRES, metavar="GENRE",
        help=f"a genre to refresh (repeatable; default all): {', '.join(GENRES)}",
    )  # fmt: skip
    refresh.set_defaults(run=_refresh)
    rebuild = commands.add_parser(
        "rebuild",
        help="rebuild past days from the archive, every genre, in runs of several days (no "
        "request to IMDb): after a fix of the readers, or an upgrade",
    )
    rebuild.add_argument(
        "--from", dest="first", type=date.fromisoformat, required=True, metavar="DAY"
    )
    rebuild.add_argument(
        "--to",
        dest="last",
        type=date.fromisoformat,
        metavar="DAY",
        help="the last day (default: --from)",
    )
    rebuild.set_defaults(run=_rebuild)
    commands.add_parser(
        "demo",
        help="the embedded warehouse, the offline IMDb on a free port, today's refresh, and a "
        "summary of the tables",
    ).set_defaults(run=_demo)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
