"""Notifications under load (issue 13), on its own Redis, Ray and Serve app (benchmarks.core's environment):

1. **Open streams**: `--streams` (1,000) Server-Sent Events streams open at once through HTTP (`--users` accounts,
   several streams each, like tabs), then `--events` events XADDed to the event stream at `--rate` a second, each
   notifying one user; the time from each XADD to its arrival on each of that user's open streams, p50/p99/max.
2. **Notifier lag at the checkout benchmark's rate**: the checkout load of benchmarks/http_checkout.py (16
   shoppers) while the notifier's consumer group is sampled every 0.25 s: its lag (entries not yet read) and
   pending entries, and the event rate the checkouts made.

    .venv/bin/python -m benchmarks.notifications            # about 3 minutes
    .venv/bin/python -m benchmarks.notifications --quick    # 200 streams, a short checkout run
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import ray
import redis
import redis.asyncio as aioredis
from tqdm import tqdm

from actors.event_ids import new_event_id, now_iso_ms
from benchmarks.core import shop_running
from benchmarks.http_checkout import CheckoutBench
from config import Settings
from tests.shop import Account, Shop


def percentile(samples: list[float], q: float) -> float:
    if not samples:
        return math.nan
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


async def open_streams(settings: Settings, accounts: list[Account], streams: int, events: int, rate: float
                       ) -> dict[str, Any]:
    base = f"http://127.0.0.1:{settings.http_port}"
    client = httpx.AsyncClient(base_url=base, timeout=httpx.Timeout(60, read=None),
                               limits=httpx.Limits(max_connections=streams + 10, max_keepalive_connections=0))
    sent: dict[str, float] = {}
    arrivals: list[float] = []
    firsts: dict[str, float] = {}  # order_id -> its first arrival on any stream: the notifier's share of the time
    opened, failed = 0, 0
    all_open = asyncio.Event()

    async def reader(account: Account) -> None:
        nonlocal opened, failed
        try:
            async with client.stream("GET", "/v1/notifications/stream", headers=account.headers) as response:
                if response.status_code != 200:
                    failed += 1
                    return
                opened += 1
                if opened == streams:
                    all_open.set()
                async for line in response.aiter_lines():
                    if line.startswith("data:"):
                        order_id = json.loads(line[5:])["data"].get("order_id")
                        if order_id in sent:
                            arrivals.append(time.time() - sent[order_id])
                            firsts.setdefault(order_id, arrivals[-1])
        except httpx.HTTPError:
            failed += 1

    started = time.perf_counter()
    tasks = [asyncio.create_task(reader(accounts[i % len(accounts)])) for i in range(streams)]
    with tqdm(total=streams, desc="  opening streams", unit="stream") as bar:
        while not all_open.is_set() and failed + opened < streams:
            await asyncio.sleep(0.2)
            bar.update(opened - bar.n)
        bar.update(opened - bar.n)
    open_seconds = time.perf_counter() - started
    redis_client = aioredis.from_url(settings.redis_url or "", decode_responses=True)
    per_user = streams // len(accounts)
    expected = events * per_user
    with tqdm(total=events, desc=f"  {events} events at {rate:g}/s", unit="event") as bar:
        for n in range(events):
            account, order_id = accounts[n % len(accounts)], f"ord_bench{n}"
            # a parcel's shipment: what a shopper is told of (`order.shipped` follows the last parcel's and is not
            # notified again, domain/notices.py), so the benchmark sends the event the notifier acts on
            data = {"order_id": order_id, "user_id": account.user["id"], "order_number": f"B-{n}",
                    "fulfilment_id": f"ful_bench{n}", "tracking_number": f"T{n}", "status": "shipped"}
            sent[order_id] = time.time()
            await redis_client.xadd(settings.events_stream, {"id": new_event_id(), "type": "fulfilment.shipped",
                                                             "at": now_iso_ms(), "data": json.dumps(data)})
            bar.update(1)
            await asyncio.sleep(1 / rate)
    deadline = time.monotonic() + 30
    while len(arrivals) < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await client.aclose()
    await redis_client.aclose()
    return {"streams": opened, "failed": failed, "open_seconds": open_seconds, "expected": expected,
            "arrived": len(arrivals), "p50_ms": 1000 * percentile(arrivals, 50),
            "p99_ms": 1000 * percentile(arrivals, 99), "max_ms": 1000 * max(arrivals, default=math.nan),
            "first_p50_ms": 1000 * percentile(list(firsts.values()), 50),
            "first_p99_ms": 1000 * percentile(list(firsts.values()), 99)}


def notifier_lag(settings: Settings, shop: Shop, shoppers: int, checkouts: int) -> dict[str, Any]:
    handle = ray.get_actor("notifier-0", namespace=settings.ray_namespace)
    client = redis.Redis.from_url(settings.redis_url or "", decode_responses=True)
    bench = CheckoutBench(shop, shoppers, stock=shoppers * (checkouts + 2) * 2)
    bench.prepare()
    samples: list[tuple[int, int]] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.25):
            group = ray.get(handle.stats.remote())["group"] or {}
            samples.append((int(group.get("lag") or 0), int(group.get("pending") or 0)))

    sampler = threading.Thread(target=sample, daemon=True)
    before_len, before = client.xlen(settings.events_stream), time.perf_counter()
    sampler.start()
    routes = bench.measure(1, checkouts, 1, shoppers)
    elapsed = time.perf_counter() - before
    drained = time.perf_counter()
    while (ray.get(handle.stats.remote())["group"] or {}).get("lag"):
        time.sleep(0.05)
    drain_seconds = time.perf_counter() - drained
    stop.set()
    sampler.join()
    events = int(client.xlen(settings.events_stream)) - int(before_len)  # type: ignore[arg-type]
    return {"checkouts_per_s": routes["checkout"].rate, "events": events, "events_per_s": events / elapsed,
            "lag_max": max((s[0] for s in samples), default=0), "pending_max": max((s[1] for s in samples), default=0),
            "lag_samples": len(samples), "drain_s_after_load": drain_seconds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--shoppers", type=int, default=16)
    parser.add_argument("--checkouts", type=int, default=20, help="per shopper")
    parser.add_argument("--no-haproxy", action="store_true")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.streams, args.users, args.events, args.checkouts = 200, 50, 50, 5
    with tempfile.TemporaryDirectory(prefix="bzn-") as tmp, \
            shop_running(Path(tmp), haproxy=not args.no_haproxy) as (settings, shop):
        accounts = [shop.register() for _ in tqdm(range(args.users), desc="  registering users", unit="user")]
        print(f"\n== 1. {args.streams} open SSE streams ({args.users} users), {args.events} events at "
              f"{args.rate:g}/s ==", flush=True)
        streams = asyncio.run(open_streams(settings, accounts, args.streams, args.events, args.rate))
        print(f"  open: {streams['streams']} (failed {streams['failed']}) in {streams['open_seconds']:.1f}s; "
              f"arrived {streams['arrived']}/{streams['expected']}; "
              f"XADD -> stream: p50 {streams['p50_ms']:.0f} ms, "
              f"p99 {streams['p99_ms']:.0f} ms, max {streams['max_ms']:.0f} ms; its first stream: "
              f"p50 {streams['first_p50_ms']:.0f} ms, p99 {streams['first_p99_ms']:.0f} ms", flush=True)
        print(f"\n== 2. notifier lag under checkout load ({args.shoppers} shoppers x {args.checkouts}) ==",
              flush=True)
        lag = notifier_lag(settings, shop, args.shoppers, args.checkouts)
        print(f"  {lag['checkouts_per_s']:.1f} checkouts/s, {lag['events_per_s']:.0f} events/s "
              f"({lag['events']} events); notifier lag max {lag['lag_max']} entries, pending max "
              f"{lag['pending_max']} ({lag['lag_samples']} samples); caught up {lag['drain_s_after_load']:.2f}s "
              "after the load ended", flush=True)
        ok = streams["arrived"] == streams["expected"] and streams["p99_ms"] < 1000
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
