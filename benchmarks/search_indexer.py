"""`python -m benchmarks.search_indexer [--rate 30] [--seconds 20]`: what the search indexer costs per checkout.

The real platform's actors on their own redis-server and local Ray (2 CPUs); one product listed through the catalog
actor; then, at `--rate` checkouts a second, the stream entries one checkout journals (docs/events.md: the cart
line, checkout.started, payment.authorized, inventory.committed, order.created, cart.checked_out,
checkout.completed), appended in one pipeline per checkout, as the shards would. Printed: the indexer process's CPU
(from /proc) idle and under that traffic, per checkout, and how many documents it rewrote and commits it made.
Only the indexer is measured: the other actors receive no calls.
"""

from __future__ import annotations

import argparse
import os
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

import ray
import redis

from actors.store import Event
from config import Settings, load_settings
from serve.local_redis import LocalRedis, free_port

IDLE_SECONDS = 10.0


def checkout_events(n: int, product_id: str, variant_id: str) -> list[Event]:
    saga, order, user = f"chk_bench{n}", f"ord_bench{n}", "usr_bench"
    line = {variant_id: 1}
    return [
        Event("cart.item_added", {"user_id": user, "product_id": product_id, "variant_id": variant_id, "quantity": 1}),
        Event("checkout.started", {"saga_id": saga, "user_id": user, "order_id": order, "total": 4900,
                                   "held_for_review": False}),
        Event("payment.authorized", {"payment_id": f"pay_bench{n}", "reference": order, "status": "authorized",
                                     "amount": 4900, "currency": "USD", "captured": 0, "refunded": 0,
                                     "brand": "visa", "last4": "4242"}),
        Event("inventory.committed", {"reservation_id": f"{saga}-0", "lines": line, "shard": 0}),
        Event("order.created", {"order_id": order, "user_id": user, "status": "confirmed",
                                "payment_status": "authorized", "order_number": f"BZ-{n}", "total": 4900,
                                "currency": "USD", "items": [{"variant_id": variant_id, "quantity": 1, "price": 4900,
                                                              "seller_id": None}]}),
        Event("cart.checked_out", {"user_id": user, "order_id": order}),
        Event("checkout.completed", {"saga_id": saga, "user_id": user, "order_id": order}),
    ]


def cpu_seconds(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(settings: Settings, rate: float, seconds: float) -> dict[str, Any]:
    from actors.routing import Router
    from actors.system import spawn_all

    spawn_all(settings)
    router = Router(settings)
    catalog, indexer = router.handle("catalog"), router.handle("search_indexer")
    category = ray.get(catalog.create_category.remote("Lamps"))
    product = ray.get(catalog.create_product.remote(
        {"name": "Brass Desk Lamp", "category_id": category["id"], "brand": "Lumo", "description": "A warm light",
         "tags": ["lamp"], "variants": [{"sku": "LMP-1", "price": 4900, "currency": "USD",
                                         "initial_stock": 10**6}]}, None))
    pid = ray.get(indexer.ready.remote())["pid"]
    time.sleep(2)  # the listing indexed
    started, cpu = time.monotonic(), cpu_seconds(pid)
    time.sleep(IDLE_SECONDS)
    idle = (cpu_seconds(pid) - cpu) / (time.monotonic() - started)
    before = ray.get(indexer.stats.remote())
    client = redis.Redis.from_url(settings.redis_url or "")
    count = int(rate * seconds)
    started, cpu = time.monotonic(), cpu_seconds(pid)
    for n in range(count):
        pipe = client.pipeline(transaction=False)
        for event in checkout_events(n, product["id"], product["variants"][0]["id"]):
            pipe.xadd(settings.events_stream, event.fields())  # type: ignore[arg-type]
        pipe.execute()
        time.sleep(max(0.0, started + (n + 1) / rate - time.monotonic()))
    time.sleep(settings.search_commit_seconds * 2)  # the last batch applied
    busy = (cpu_seconds(pid) - cpu) / (time.monotonic() - started)
    after = ray.get(indexer.stats.remote())
    client.close()
    return {"checkouts": count, "rate": rate, "idle_ms_per_s": 1000 * idle, "busy_ms_per_s": 1000 * busy,
            **{key: after.get(key, 0) - before.get(key, 0) for key in ("events", "upserted", "commits", "stock_flips",
                                                         "popularity_counts")}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.search_indexer", description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=30.0, help="checkouts a second (default 30)")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long the traffic lasts (default 20)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bzi-") as tmp:
        server = LocalRedis(Path(tmp) / "redis", free_port(), appendfsync="everysec").start()
        try:
            settings = load_settings(env="test", data_dir=Path(tmp), redis_url=server.url, http_port=free_port(),
                                     ray_namespace=f"bazaar-indexer-bench-{os.getpid()}",
                                     jwt_secret=secrets.token_urlsafe(48))
            ray.init(address="local", num_cpus=2, include_dashboard=False, namespace=settings.ray_namespace,
                     log_to_driver=False, configure_logging=False)
            try:
                figures = measure(settings, args.rate, args.seconds)
            finally:
                ray.shutdown()
        finally:
            server.stop()
    n = figures["checkouts"]
    print(f"search indexer, {n:,} checkouts at {figures['rate']:.0f}/s ({figures['events']:,} stream entries; "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}):\n"
          f"  CPU idle {figures['idle_ms_per_s']:.1f} ms/s, under the traffic {figures['busy_ms_per_s']:.1f} ms/s: "
          f"{figures['busy_ms_per_s'] / figures['rate']:.2f} ms per checkout, "
          f"{(figures['busy_ms_per_s'] - figures['idle_ms_per_s']) / figures['rate']:.2f} ms above idle\n"
          f"  documents rewritten {figures['upserted']} ({figures['upserted'] / n:.3f} per checkout; popularity "
          f"counted {figures['popularity_counts']} times, in-stock flips {figures['stock_flips']}), "
          f"commits {figures['commits']} ({figures['commits'] / n:.3f} per checkout)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
