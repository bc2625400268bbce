"""`make bench`: every figure of the project, each beside its goal.

Prints each suite's figures as it ends (`bench.<suite>: <metric> = <value> <unit>`), then one
table, then one line per figure: `bench: <metric> = <value> <unit>`.
Runs against the warehouse Postgres in effect (IMDB_WAREHOUSE_DATABASE_URL, else the
embedded server), in a scratch database it creates and drops.
"""

import os
import platform
import sys
import time
from datetime import UTC, datetime

from bench import analytics, floor, io_manager, parse, rebuild, refresh, sources, warehouse
from bench.common import Figure, scratch_database
from imdb_warehouse.resources.postgres import configured_database_url

SUITES = [parse, io_manager, warehouse, analytics, floor, refresh, rebuild, sources]


def main() -> int:
    started = time.monotonic()
    figures: list[Figure] = []
    with scratch_database(configured_database_url()) as url:
        for suite in SUITES:
            done = suite.run(url)
            for f in done:  # as each suite ends: a long bench interrupted keeps what it measured
                print(f"{suite.__name__}: {f.metric} = {f.value:.4g} {f.unit}", flush=True)
            figures += done
    print(
        f"imdb_warehouse benchmarks, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"{platform.node()} ({platform.machine()}, {os.cpu_count()} cores), "
        f"Python {platform.python_version()}"
    )
    print()
    widths = [max(len(f.metric) for f in figures), 14, 8, 24]
    header = ("metric", "value", "unit", "goal")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + "  met")
    for f in figures:
        row = (
            f.metric,
            f"{f.value:,.2f}" if f.value < 100 else f"{f.value:,.0f}",
            f.unit,
            f.goal or "-",
        )
        met = "-" if f.met is None else ("yes" if f.met else "NO")
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + f"  {met}")
    print()
    for f in figures:
        print(f"bench: {f.metric} = {f.value:.4g} {f.unit}")
    print(f"\n(took {time.monotonic() - started:.0f} s)")
    missed = [f.metric for f in figures if f.met is False]
    if missed:
        print(f"goals missed: {', '.join(missed)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
