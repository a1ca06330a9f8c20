"""Synthetic events straight into a lake, for volume (the analytics run's 10-million-event target).

    python -m benchmarks.analytics_events --events 10000000 --lake var/bench-lake

Every file is written as the exporter writes it (lake/layout.py paths, lake/schemas.py schemas, zstd), with the
business events' shares of a shop's day: views and searches most, carts, then checkouts with their payment, stock
and order events, a few cancellations, shipments and registrations. Values are random but consistent enough for
every metric to have something to count (orders of catalog variants, shipments of stock that exists). Columns are
built with numpy and Arrow, not one Python object per event. Deterministic for a seed. (The world branch's
`simulation/synthetic.py` is the shop's own generator; this one exists until it lands.)
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from tqdm import tqdm

from lake.layout import Lake
from lake.schemas import COMMON, ITEMS, LINES, ORDER_ITEM, schema_for

STREAM = "bz:events"
START = datetime(2026, 1, 1, tzinfo=UTC)
SHARES = {  # of the generated events; the catalog's events come on top
    "product.viewed": 0.34, "search.performed": 0.14, "cart.item_added": 0.14, "cart.item_removed": 0.03,
    "checkout.started": 0.04, "payment.authorized": 0.04, "inventory.committed": 0.04, "order.created": 0.04,
    "cart.checked_out": 0.04, "checkout.completed": 0.04, "order.cancelled": 0.004, "order.shipped": 0.03,
    "inventory.shipped": 0.03, "payment.captured": 0.03, "user.registered": 0.01, "inventory.adjusted": 0.006,
    "order.delivered": 0.02,
}
VIEWED_SCHEMA = pa.schema([*COMMON, ("product_id", pa.string()), ("user_id", pa.string()),
                           ("source", pa.string()), ("extra", pa.string())])
QUERIES = np.array(["tea", "teapot", "green tea", "kettle", "mug", "cup", "oolong", "matcha", "xq7", "zzfoo"])

def generate(lake_dir: str, events: int, seed: int = 11, days: int = 90, progress: bool = True) -> int:
    """Write about `events` events over `days` days into the lake at `lake_dir`; returns how many were written."""
    rng = np.random.default_rng(seed)
    lake = Lake(lake_dir)
    users, products, categories = max(100, events // 50), max(20, events // 500), 40
    written = _catalog(lake, products, categories)
    with tqdm(total=events, unit="event", desc="generating events", disable=not progress) as bar:
        for event_type, share in SHARES.items():
            count = int(events * share)
            millis = np.sort(rng.integers(0, days * 86_400_000, count)) + int(START.timestamp() * 1000)
            columns = _fields(event_type, count, rng, users, products)
            written += _write(lake, event_type, millis, columns)
            bar.update(count)
    return written

def _ids(prefix: str, numbers: np.ndarray) -> pa.Array:
    return pc.binary_join_element_wise(prefix, pc.cast(pa.array(numbers), pa.string()), "")

def _fields(event_type: str, n: int, rng: np.random.Generator, users: int, products: int) -> dict[str, pa.Array]:
    user = _ids("usr_", rng.zipf(1.6, n) % users)
    product = rng.zipf(1.3, n) % products
    variant = _ids("var_", product * 2 + rng.integers(0, 2, n))
    if event_type == "product.viewed":
        return {"product_id": _ids("prd_", product), "user_id": user,
                "source": pa.array(rng.choice(["search", "home", "related"], n))}
    if event_type == "search.performed":
        took = rng.lognormal(1.5, 0.6, n)
        query = pa.array(QUERIES[rng.integers(0, len(QUERIES), n)])
        zero = pc.is_in(query, pa.array(["xq7", "zzfoo"]))
        return {"query": query, "took_ms": pa.array(took), "zero_result": zero,
                "total": pa.array(np.where(zero.to_numpy(zero_copy_only=False), 0, rng.integers(1, 500, n)))}
    if event_type in ("cart.item_added", "cart.item_removed"):
        return {"user_id": user, "product_id": _ids("prd_", product), "variant_id": variant,
                "quantity": pa.array(rng.integers(1, 4, n))}
    if event_type == "order.created":
        quantity, price = rng.integers(1, 4, n), rng.integers(500, 20000, n)
        items = pa.ListArray.from_arrays(pa.array(np.arange(n + 1, dtype=np.int32)), pa.StructArray.from_arrays(
            [variant, pa.array(quantity), pa.array(price), pa.nulls(n, pa.string())], fields=list(ORDER_ITEM)))
        return {"order_id": _ids("ord_", np.arange(n)), "user_id": user, "total": pa.array(quantity * price),
                "currency": pa.repeat(pa.scalar("USD"), n), "items": items.cast(ITEMS)}
    if event_type == "order.cancelled":
        return {"order_id": _ids("ord_", rng.integers(0, n * 10, n)), "user_id": user}
    if event_type == "user.registered":
        return {"user_id": _ids("usr_", np.arange(n) % users), "role": pa.repeat(pa.scalar("customer"), n)}
    if event_type == "inventory.adjusted":
        delta = rng.integers(10, 200, n)
        return {"variant_id": variant, "delta": pa.array(delta), "on_hand": pa.array(delta + 1000)}
    if event_type == "inventory.shipped":
        return {"lines": pa.MapArray.from_arrays(pa.array(np.arange(n + 1, dtype=np.int32)), variant,
                                                 pa.array(rng.integers(1, 4, n))).cast(LINES)}
    return {"user_id": user}

def _catalog(lake: Lake, products: int, categories: int) -> int:
    millis = np.full(products, int(START.timestamp() * 1000) - 86_400_000)
    variants = pa.ListArray.from_arrays(pa.array(np.arange(0, 2 * products + 1, 2, dtype=np.int32)),
                                        _ids("var_", np.arange(2 * products)))
    written = _write(lake, "category.created", millis[:categories], {
        "category_id": _ids("cat_", np.arange(categories)), "name": _ids("Category ", np.arange(categories))})
    written += _write(lake, "product.created", millis, {
        "product_id": _ids("prd_", np.arange(products)), "category_id": _ids("cat_", np.arange(products) % categories),
        "variant_ids": variants})
    added = pa.ListArray.from_arrays(pa.array([0, 1], pa.int32()), pa.array(["var_added_0"]))
    written += _write(lake, "product.updated", millis[:1] + 3_600_000, {
        "product_id": pa.array(["prd_0"]), "added_variant_ids": added})
    return written + _write(lake, "inventory.created", np.repeat(millis, 2), {
        "variant_id": _ids("var_", np.arange(2 * products)), "on_hand": pa.array(np.full(2 * products, 500))})

def _write(lake: Lake, event_type: str, millis: np.ndarray, columns: dict[str, pa.Array]) -> int:
    schema = VIEWED_SCHEMA if event_type == "product.viewed" else schema_for(event_type)
    n = len(millis)
    common = {"event_id": _ids(f"evt_{event_type}_", np.arange(n)), "type": pa.repeat(pa.scalar(event_type), n),
              "event_at": pa.array(millis, pa.timestamp("ms", tz="UTC")), "stream": pa.repeat(pa.scalar(STREAM), n),
              "stream_id": pc.binary_join_element_wise(pc.cast(pa.array(millis), pa.string()), "0", "-")}
    arrays = [common.get(field.name, columns.get(field.name)) for field in schema]
    table = pa.Table.from_arrays(
        [pa.nulls(n, field.type) if array is None else array.cast(field.type) for array, field in zip(arrays, schema,
                                                                                                      strict=True)],
        schema=schema)
    days = (millis // 86_400_000).astype(np.int64)
    files = []
    for day in np.unique(days):
        rows = np.flatnonzero(days == day)
        part = table.slice(int(rows[0]), len(rows))  # millis are sorted: a day is one slice
        date = datetime.fromtimestamp(int(day) * 86400, UTC).strftime("%Y-%m-%d")
        ids = part.column("stream_id")
        files.append((lake.part_path(event_type, date, STREAM, str(ids[0]), str(ids[-1])), part))
    lake.write_parquet(files)
    return n

def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.analytics_events", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--lake", required=True, help="the lake folder to write into")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--days", type=int, default=90)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    written = generate(args.lake, args.events, args.seed, args.days)
    print(f"{written} events written to {args.lake} in {time.perf_counter() - started:.1f} s")

if __name__ == "__main__":
    main()
