"""The analytics run: the event lake's business metrics into a DuckDB file, a Parquet copy of each table beside it,
and a chart of revenue and orders per day.

    python -m pipelines.analytics [--reader ray|duckdb] [--quiet]     # or: make analytics

Reads `settings.lake_dir` (Ray Data, `analytics/source.py`), computes every table of `analytics/metrics.py` (what
each figure means is written there), and swaps in, each written whole under a new name and renamed over the old:
`settings.analytics_db` (default <data dir>/analytics/analytics.duckdb), `<that folder>/parquet/<table>.parquet`
and `<that folder>/revenue_per_day.svg`. A failed run leaves the previous output as it was. Runs standalone (a
local Ray is started when there is no cluster) or as a Ray Job on the shop's cluster.
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
from tqdm import tqdm

from analytics import chart
from analytics.files import ensure_ray
from analytics.metrics import TABLES, compute
from analytics.source import SOURCES, connect, load
from config import Settings, load_settings
from lake.files import swap, swapped_in, write_atomically
from lake.layout import Lake
from pipelines.summary import print_summary
from serve.main import plain_env_overrides

CHART = "revenue_per_day.svg"


@dataclass
class AnalyticsRun:
    database: Path
    events: int  # events read from the lake
    seconds: float
    rows: dict[str, int] = field(default_factory=dict)  # rows of each table written

    def __str__(self) -> str:
        return (f"analytics: {self.events:,} events read in {self.seconds:.1f} s "
                f"({self.events / max(self.seconds, 1e-9):,.0f} events/s); {len(self.rows)} tables in {self.database}")


def parquet_dir(settings: Settings) -> Path:
    return settings.analytics_db.parent / "parquet"


def run(settings: Settings, reader: str = "ray", progress: bool = True) -> AnalyticsRun:
    """One analytics run over the whole lake; see the module's docstring."""
    started = time.perf_counter()
    if reader != "duckdb":
        ensure_ray(settings)
    final = settings.analytics_db
    copies: list[tuple[Path, Path]] = []  # (draft, final) of each table's Parquet copy
    try:
        with swapped_in(final) as draft, tqdm(total=len(SOURCES) + len(TABLES) + 1, desc="analytics", unit="step",
                                              disable=not progress) as bar:
            connection = connect(str(draft))
            try:
                counts = load(connection, Lake(settings.lake_dir), reader=reader,
                              progress=lambda name, _: bar.update(1))
                rows = compute(connection, settings.analytics_clv_lifetime_months)
                bar.update(len(TABLES))
                copies = _parquet_copies(connection, parquet_dir(settings))
                svg = chart.revenue_svg(*_daily(connection, settings.currency))
                connection.execute("CHECKPOINT")
            finally:
                connection.close()
            bar.update(1)
        for draft_copy, copy in copies:  # the database is in place: its tables' copies follow
            swap(draft_copy, copy)
    finally:
        for draft_copy, _ in copies:  # what a failed run wrote
            draft_copy.unlink(missing_ok=True)
    write_atomically(final.parent / CHART, svg.encode())
    return AnalyticsRun(final, sum(counts.values()), time.perf_counter() - started, rows)


def _parquet_copies(connection: duckdb.DuckDBPyConnection, folder: Path) -> list[tuple[Path, Path]]:
    folder.mkdir(parents=True, exist_ok=True)
    copies = []
    for name in TABLES:
        final = folder / f"{name}.parquet"
        draft = final.with_name(f".{final.name}.{os.getpid()}.new")
        connection.execute(f"COPY {name} TO '{draft}' (FORMAT parquet, COMPRESSION zstd)")
        copies.append((draft, final))
    return copies


def _daily(connection: duckdb.DuckDBPyConnection, currency: str) -> tuple[list[tuple[date, int, int]], str]:
    """The chart's days: the shop's currency, or the busiest one when the shop's has no orders."""
    found = connection.execute(
        "SELECT currency FROM revenue WHERE granularity = 'day' GROUP BY currency "
        "ORDER BY currency = ? DESC, sum(orders) DESC LIMIT 1", [currency]).fetchall()
    chosen = found[0][0] if found else currency
    days = connection.execute(
        "SELECT period, revenue, orders FROM revenue WHERE granularity = 'day' AND currency = ? ORDER BY period",
        [chosen]).fetchall()
    return days, chosen


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m pipelines.analytics", description=__doc__.splitlines()[0])
    parser.add_argument("--reader", choices=("ray", "ray-data", "duckdb"), default="ray",
                        help="how the lake is read: Ray Data (default) or DuckDB itself (a local lake only)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    settings = load_settings(**plain_env_overrides(os.environ))
    result = run(settings, reader=args.reader, progress=not args.quiet)
    print(result)
    print_summary(sum(result.rows.values()))


if __name__ == "__main__":
    main()
