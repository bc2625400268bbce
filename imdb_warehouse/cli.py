"""The `imdb-warehouse` command."""

import argparse
import sys

from imdb_warehouse.resources.errors import WarehouseError
from imdb_warehouse.resources.postgres import (
    EmbeddedPostgresError,
    configured_database_url,
    stop_embedded_server,
    warehouse_home,
)


def _db_url(_: argparse.Namespace) -> int:
    print(configured_database_url())
    return 0


def _db_stop(_: argparse.Namespace) -> int:
    home = warehouse_home()
    if stop_embedded_server(home):
        print(f"stopped the embedded Postgres of {home}")
    else:
        print(f"no embedded Postgres is running for {home}")
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
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (EmbeddedPostgresError, WarehouseError) as error:
        print(f"imdb-warehouse: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
