"""Replenishment: per variant, a reorder point and a reorder quantity from its recent sales and the lead time.

    python -m pipelines.replenishment [--as-of YYYY-MM-DD] [--reader ray|duckdb] [--quiet]   # or: make replenishment

For each variant sold in the window (`settings.replenishment_window_days` up to the last order in the lake, or up
to the end of `--as-of`): the daily rate is the units of `order.created` items in the window / the window's days;
the reorder point covers the lead time and the safety days (`ceil(rate x (lead_time_days + safety_days))`), the
reorder quantity the sales of `cover_days` (`ceil(rate x cover_days)`). Written beside the analytics database,
each swapped in whole: `replenishment.parquet` (the `replenishment` table) and `replenishment.json`, which the
inventory settings and purchase orders take: `{"as_of", "window_days", ..., "variants": {variant_id:
{"product_id", "units_sold", "daily_rate", "reorder_point", "reorder_quantity"}}}`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from fractions import Fraction
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from analytics.files import ensure_ray
from analytics.metrics import VARIANT_PRODUCT
from analytics.source import connect, load
from config import Settings, load_settings
from lake.files import swapped_in, write_atomically
from lake.layout import Lake
from pipelines.summary import print_summary
from serve.main import plain_env_overrides

SOURCES = ("order_created", "product_created", "product_updated")
SOLD = f"""
WITH owner AS ({VARIANT_PRODUCT}),
lines AS (SELECT unnest(items) AS item FROM order_created WHERE event_at > $start AND event_at <= $end)
SELECT item.variant_id, any_value(owner.product_id), sum(item.quantity) FROM lines
LEFT JOIN owner ON owner.variant_id = item.variant_id WHERE item.variant_id IS NOT NULL
GROUP BY item.variant_id HAVING sum(item.quantity) > 0 ORDER BY item.variant_id"""


@dataclass(frozen=True)
class Reorder:
    variant_id: str
    product_id: str | None
    units_sold: int
    daily_rate: float
    reorder_point: int
    reorder_quantity: int


def reorder(variant_id: str, product_id: str | None, units: int, settings: Settings) -> Reorder:
    """Exact arithmetic: 30 units over 30 days and 7 days' lead time is a reorder point of 7, not 8."""
    rate = Fraction(units, settings.replenishment_window_days)
    lead = Fraction(str(settings.replenishment_lead_time_days)) + Fraction(str(settings.replenishment_safety_days))
    cover = Fraction(str(settings.replenishment_cover_days))
    return Reorder(variant_id, product_id, units, float(rate), math.ceil(rate * lead), math.ceil(rate * cover))


def run(settings: Settings, as_of: date | None = None, reader: str = "ray",
        progress: bool = True) -> tuple[datetime | None, list[Reorder]]:
    """Compute and write the suggestions; returns the end of the window and them."""
    if reader != "duckdb":
        ensure_ray(settings)
    connection = connect()
    try:
        with tqdm(total=len(SOURCES) + 1, desc="replenishment", unit="step", disable=not progress) as bar:
            load(connection, Lake(settings.lake_dir), SOURCES, reader, progress=lambda name, _: bar.update(1))
            end = (datetime.combine(as_of, time()) + timedelta(days=1) if as_of is not None else
                   connection.execute("SELECT max(event_at) FROM order_created").fetchall()[0][0])
            sold = [] if end is None else connection.execute(SOLD, {
                "start": end - timedelta(days=settings.replenishment_window_days), "end": end}).fetchall()
            bar.update(1)
    finally:
        connection.close()
    suggestions = [reorder(variant, product, int(units), settings) for variant, product, units in sold]
    _write(settings, end, suggestions)
    return end, suggestions


def output_dir(settings: Settings) -> Path:
    return settings.analytics_db.parent


def _write(settings: Settings, end: datetime | None, suggestions: list[Reorder]) -> None:
    rows = [asdict(s) for s in suggestions]
    schema = pa.schema([("variant_id", pa.string()), ("product_id", pa.string()), ("units_sold", pa.int64()),
                        ("daily_rate", pa.float64()), ("reorder_point", pa.int64()), ("reorder_quantity", pa.int64())])
    with swapped_in(output_dir(settings) / "replenishment.parquet") as draft:
        pq.write_table(pa.Table.from_pylist(rows, schema=schema), draft, compression="zstd")
    document = {"as_of": end.isoformat() + "Z" if end else None,
                "window_days": settings.replenishment_window_days,
                "lead_time_days": settings.replenishment_lead_time_days,
                "safety_days": settings.replenishment_safety_days, "cover_days": settings.replenishment_cover_days,
                "variants": {row.pop("variant_id"): row for row in rows}}
    write_atomically(output_dir(settings) / "replenishment.json", json.dumps(document, indent=1).encode())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m pipelines.replenishment", description=__doc__.splitlines()[0])
    parser.add_argument("--as-of", type=date.fromisoformat, help="the window's last day (default: the last order's)")
    parser.add_argument("--reader", choices=("ray", "ray-data", "duckdb"), default="ray")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    settings = load_settings(**plain_env_overrides(os.environ))
    end, suggestions = run(settings, args.as_of, args.reader, progress=not args.quiet)
    print(f"replenishment: {len(suggestions)} variants sold in the {settings.replenishment_window_days} days up to "
          f"{end}; written to {output_dir(settings)}/replenishment.parquet and replenishment.json")
    print_summary(len(suggestions))


if __name__ == "__main__":
    main()
