"""`python -m benchmarks.lake_export [--events 500000] [--batch 50000]`: events exported into the lake per second.

A fresh redis-server of its own (AOF, `appendfsync everysec` for the fill) on a free port in a temporary directory
is filled with `--events` stream entries of a shop's traffic, written as the shards write them (`Changes`, one
transaction per checkout's events, through `Store.commit`): searches and product views (a type the contract does
not list yet, so its whole `data` goes to `extra`), cart lines, and checkouts (checkout.started,
payment.authorized, inventory.committed, order.created, cart.checked_out, checkout.completed), with some low-stock
and price events, spread over ten days. Then the exporter (`Exporter.recover` + `run(once=True)`, the CLI's work)
moves them all into a lake on local disk (every file and offset record fsynced). Printed: the export's wall time
and events/s, this process's CPU, files and bytes written, and what the stream held after the trim.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from redis import Redis

from actors.store import Changes, Store
from benchmarks.core import cpu_speed
from lake.exporter import Exporter
from lake.layout import Lake
from serve.local_redis import LocalRedis, free_port

STREAM = "bz:events"
DAY_MS = 86_400_000
QUERIES = ["shoes", "red dress", "usb c cable", "laptop stand", "coffee", "running shoes", "qwzx", "desk lamp"]


def checkout(changes: Changes, n: int, rng: random.Random) -> None:
    user, saga, order = f"usr_{rng.randrange(20_000)}", f"chk_{n}", f"ord_{n}"
    variant, quantity, price = f"var_{rng.randrange(5000)}", rng.randint(1, 3), rng.choice((499, 1299, 4900, 15900))
    total = quantity * price
    changes.emit("cart.item_added", user_id=user, product_id=f"prd_{variant[4:]}", variant_id=variant,
                 quantity=quantity)
    changes.emit("checkout.started", saga_id=saga, user_id=user, order_id=order, total=total, held_for_review=False)
    changes.emit("payment.authorized", payment_id=f"pay_{n}", reference=order, status="authorized", amount=total,
                 currency="USD", captured=0, refunded=0, brand="visa", last4="4242")
    changes.emit("inventory.committed", shard=n % 4, reservation_id=f"{saga}-{n % 4}", lines={variant: quantity})
    changes.emit("order.created", order_id=order, user_id=user, status="placed", payment_status="authorized",
                 order_number=f"BZ-{n}", total=total, currency="USD",
                 items=[{"variant_id": variant, "quantity": quantity, "price": price, "seller_id": None}])
    changes.emit("cart.checked_out", user_id=user, order_id=order)
    changes.emit("checkout.completed", saga_id=saga, user_id=user, order_id=order)


def browsing(changes: Changes, n: int, rng: random.Random) -> None:
    query = rng.choice(QUERIES)
    total = 0 if query == "qwzx" else rng.randrange(1, 400)
    changes.emit("search.performed", query=query, filters={"in_stock": True} if n % 3 else {}, sort="relevance",
                 page=1, page_size=24, total=total, took_ms=round(rng.uniform(0.5, 9.0), 2), zero_result=total == 0)
    for _ in range(3):
        changes.emit("product.viewed", product_id=f"prd_{rng.randrange(5000)}", user_id=f"usr_{rng.randrange(20_000)}",
                     source="search")
    if n % 50 == 0:
        changes.emit("inventory.low_stock", shard=n % 4, variant_id=f"var_{n % 5000}", available=3, threshold=5,
                     reorder_point=10)
        changes.emit("product.price_changed", product_id=f"prd_{n % 5000}", variant_id=f"var_{n % 5000}",
                     currency="USD", old_price=1299, old_sale_price=None, price=1199, sale_price=None)


def fill(url: str, events: int, seed: int = 7) -> int:
    """About `events` entries, one transaction per shopper's turn; returns how many were written."""
    rng = random.Random(seed)
    store = Store(url, STREAM, 10_000_000)

    async def write() -> int:
        written = n = 0
        while written < events:
            changes = Changes()
            browsing(changes, n, rng)
            if n % 2 == 0:
                checkout(changes, n, rng)
            day = min(9, n * 75 // events)  # about 7.5 events a turn: ten days of traffic, day by day
            # dated back as a simulated clock would date them (Changes stamps the wall clock)
            changes._events = [(event_id, type, _shift(at, day), data) for event_id, type, at, data in changes._events]
            written += len(changes._events)
            await store.commit(changes)
            n += 1
        await store.redis.aclose()
        return written

    return asyncio.run(write())


def _shift(at: str, day: int) -> str:
    """`at` on the `day`th of ten dates (so ten partitions per type)."""
    return f"2026-11-{10 + day:02d}{at[10:]}"


def export(url: str, lake_dir: Path, batch: int) -> dict[str, Any]:
    client = Redis.from_url(url, decode_responses=True)
    exporter = Exporter(client, Lake(str(lake_dir)), [STREAM], batch_max=batch)
    cpu_before, started = _cpu(), time.perf_counter()
    exporter.recover()
    exported = exporter.run(once=True)
    seconds = time.perf_counter() - started
    cpu = _cpu() - cpu_before
    size = sum(path.stat().st_size for path in lake_dir.rglob("*.parquet"))
    return {"events": exported.events, "files": exported.files, "seconds": seconds, "cpu": cpu, "bytes": size,
            "left": client.xlen(STREAM)}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument("--batch", type=int, default=50_000, help="lake_batch_max: entries per batch")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bazaar-lake-bench-"))
    server = LocalRedis(workdir / "redis", free_port(), appendfsync="everysec").start()
    try:
        print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
              f"pure-Python speed {cpu_speed():.1f} M loop steps/s", flush=True)
        started = time.perf_counter()
        written = fill(server.url, args.events)
        print(f"filled {written:,} events in {time.perf_counter() - started:.1f} s", flush=True)
        result = export(server.url, workdir / "lake", args.batch)
        rate = result["events"] / result["seconds"]
        print(f"exported {result['events']:,} events into {result['files']:,} Parquet files "
              f"({result['bytes'] / 2**20:.1f} MiB) in {result['seconds']:.2f} s: {rate:,.0f} events/s "
              f"(CPU of this process {result['cpu']:.2f} s, {result['cpu'] / result['events'] * 1e6:.1f} us/event); "
              f"{result['left']:,} entries left in the stream")
        print(f"load average at end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
