"""The `imdb-warehouse` command."""

import argparse
import gzip
import json
import os
import sys
from datetime import date
from pathlib import Path

# Commands import what they need when they run: `parse` and `replay` start without Dagster.


def _fail(command: str, error: Exception) -> int:
    print(f"imdb-warehouse: {command}: {error}", file=sys.stderr)
    return 1


def _db_url(_: argparse.Namespace) -> int:
    from imdb_warehouse.resources.postgres import EmbeddedPostgresError, configured_database_url

    try:
        print(configured_database_url())
    except EmbeddedPostgresError as error:
        return _fail("db-url", error)
    return 0


def _db_stop(_: argparse.Namespace) -> int:
    from imdb_warehouse.resources.postgres import stop_embedded_server, warehouse_home

    home = warehouse_home()
    if stop_embedded_server(home):
        print(f"stopped the embedded Postgres of {home}")
    else:
        print(f"no embedded Postgres is running for {home}")
    return 0


def _parse(args: argparse.Namespace) -> int:
    from imdb_warehouse.imdb.parse import (
        IgnoredFilterError,
        LayoutChangeError,
        next_data,
        page_kind,
        parse_search_page,
        parse_title_page,
    )

    try:
        raw = Path(args.file).read_bytes()
        html = (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode("utf-8")
        if page_kind(next_data(html)) == "search":
            rows = parse_search_page(html).rows()
        else:
            rows = [parse_title_page(html)]
    except (OSError, UnicodeDecodeError, LayoutChangeError, IgnoredFilterError) as error:
        return _fail(f"parse {args.file}", error)
    try:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False, default=date.isoformat))
    except BrokenPipeError:  # the reader stopped early (`| head`): not an error
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115
    return 0


def _fault_spec(spec: str):
    from imdb_warehouse.imdb.replay import parse_fault

    try:
        return parse_fault(spec)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _replay(args: argparse.Namespace) -> int:
    import signal
    import threading

    from imdb_warehouse.imdb.replay import ReplayServer

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="imdb-warehouse",
        description="IMDb genre rankings kept as a star schema in Postgres, built with Dagster.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "db-url",
        help="print the warehouse Postgres URL in effect (starts the embedded server if needed)",
    ).set_defaults(run=_db_url)
    commands.add_parser(
        "db-stop", help="stop the embedded Postgres server of IMDB_WAREHOUSE_HOME"
    ).set_defaults(run=_db_stop)
    parse = commands.add_parser(
        "parse",
        help="read a saved IMDb search or title page (.html or archived .html.gz) and print "
        "its rows as JSON lines",
    )
    parse.add_argument("file", help="the saved page")
    parse.set_defaults(run=_parse)
    replay = commands.add_parser(
        "replay", help="serve the offline IMDb (synthetic catalogue, optional faults) over HTTP"
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
        help="faults to inject, KIND[:key=value,...]: kinds 429, 503, slow, truncated, "
        "challenge, layout, dropped-filter, redirect-away, 404, 410; keys path, rate, times, "
        "seconds",
    )
    replay.add_argument("--seed", type=int, default=0, help="the synthetic catalogue's seed")
    replay.set_defaults(run=_replay)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
