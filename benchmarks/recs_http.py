"""`python -m benchmarks.recs_http`: p50/p99 of the recommendation routes through HTTP at 16 clients, with a
trained store.

It starts its own shop as `benchmarks.core` does (redis-server, local Ray with 2 CPUs, every actor, the Serve
app behind HAProxy), lists `--products` products in 12 categories and registers the shoppers over HTTP; a
dozen of them buy something (so the "already bought" filter has orders to read). A seeded world of shoppers with
tastes (tests/recsys_world.py) over those real ids, plus `--extra-shoppers` made-up ones, is written into the
shop's lake, and `pipelines.recommendations` trains on it and publishes the store. Then, per route, `--clients`
threads (three in four signed in as shoppers the model knows, the rest as shoppers it does not) each send
`--requests` timed requests on a keep-alive connection, next to GET /healthz (the no-op) and a product page
(one product and its stock read) as references.
"""

from __future__ import annotations

import argparse
import http.client
import random
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from benchmarks import wrk
from benchmarks.core import shop_running
from lake.layout import Lake
from pipelines.recommendations import report, train
from tests.recsys_world import make_world
from tests.shop import Account, Shop

LIMIT = 10


@dataclass
class Stage:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0
    empty: int = 0  # answers with no items

    def line(self) -> str:
        ms = np.array(self.latencies) * 1000
        rate = len(ms) / self.seconds if self.seconds else 0.0
        p50, p90, p99 = (np.percentile(ms, q) for q in (50, 90, 99)) if len(ms) else (0.0, 0.0, 0.0)
        return (f"{self.name:<44} {len(ms):>7} {rate:>8.1f} {p50:>7.1f} {p90:>7.1f} {p99:>7.1f}  "
                f"{self.errors or 'none'}; {self.empty} empty")


def measure(port: int, name: str, paths: list[str], tokens: list[str | None], requests: int, warmup: int = 5
            ) -> Stage:
    stage = Stage(name)
    lock = threading.Lock()
    start = threading.Barrier(len(tokens) + 1)
    bar = tqdm(total=len(tokens) * (requests + warmup), desc=f"  {name}", unit="req", leave=False)

    def work(number: int, token: str | None) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        rng = random.Random(number)
        try:
            for step in range(warmup + requests):
                if step == warmup:
                    start.wait()
                began = time.perf_counter()
                conn.request("GET", rng.choice(paths), headers=headers)
                response = conn.getresponse()
                body = response.read()
                elapsed = time.perf_counter() - began
                bar.update()
                if step < warmup:
                    continue
                with lock:
                    if response.status != 200:
                        stage.errors[response.status] = stage.errors.get(response.status, 0) + 1
                    else:
                        stage.latencies.append(elapsed)
                        stage.empty += body.startswith(b'{"items":[]')
        finally:
            conn.close()

    threads = [threading.Thread(target=work, args=(n, t), daemon=True) for n, t in enumerate(tokens)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    stage.seconds = time.perf_counter() - began
    bar.close()
    return stage


def prepare(shop: Shop, products: int, shoppers: int) -> tuple[list[dict[str, Any]], list[Account]]:
    categories = [shop.category()["id"] for _ in range(12)]
    listed = [shop.product(stock=1000, category_id=categories[n % 12], brand=f"Brand{n % 8}")
              for n in tqdm(range(products), desc="  listing products", leave=False)]
    accounts = [shop.register() for _ in tqdm(range(shoppers), desc="  registering shoppers", leave=False)]
    for account in accounts[:12]:
        assert shop.add_to_cart(account, random.Random(account.email).choice(listed)).status_code == 200
        assert shop.checkout(account, shop.checkout_body(account)).status_code == 201
    return listed, accounts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.recs_http", description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=300)
    parser.add_argument("--extra-shoppers", type=int, default=3000, help="made-up shoppers in the store")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=150, help="timed requests per client and route")
    parser.add_argument("--seconds", type=float, default=10, help="per route with wrk, after the Python client")
    parser.add_argument("--no-haproxy", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bzr-") as folder, \
            shop_running(Path(folder), haproxy=not args.no_haproxy) as (settings, shop):
        known = args.clients - args.clients // 4
        listed, accounts = prepare(shop, args.products, max(known, 12))
        newcomers = [shop.register() for _ in range(args.clients - known)]
        lake = Lake(settings.lake_dir)
        world = make_world(seed=5, product_ids=[(p["id"], p["variants"][0]["id"]) for p in listed],
                           user_ids=[a.user["id"] for a in accounts]
                           + [f"usr_{n:026d}" for n in range(args.extra_shoppers)])
        world.write(lake)
        trained = train(lake)
        print(report(trained, lake))
        time.sleep(settings.recsys_reload_seconds + 1)  # every replica looks for the new store by then
        tokens: list[str | None] = [a.access_token for a in [*accounts[:known], *newcomers]]
        port = settings.http_port
        anonymous: list[str | None] = [None] * args.clients
        routes: list[tuple[str, list[str], list[str | None]]] = [
            ("GET /healthz (no-op)", ["/healthz"], anonymous),
            ("GET /v1/products/{id} (a product page)", [f"/v1/products/{p['id']}" for p in listed], anonymous),
            ("GET /v1/recommendations", [f"/v1/recommendations?limit={LIMIT}"], tokens),
            ("GET /v1/products/{id}/related", [f"/v1/products/{p['id']}/related?limit={LIMIT}" for p in listed],
             anonymous),
        ]
        stages = [measure(port, name, paths, callers, args.requests) for name, paths, callers in routes]
        loaded = [(name, wrk.run(port, paths, callers, args.clients, args.seconds))
                  for name, paths, callers in tqdm(routes, desc="  wrk", unit="route", leave=False)
                  ] if wrk.available() else []
    print(f"\n{args.clients} clients, limit={LIMIT}, {args.products} products, store of "
          f"{trained.metrics['shoppers_served']} shoppers; latency through HTTP in ms")
    print(f"{'Python client (16 threads, one interpreter lock)':<44} {'requests':>7} {'req/s':>8} {'p50':>7} "
          f"{'p90':>7} {'p99':>7}  errors")
    for stage in stages:
        print(stage.line())
    if not loaded:
        print("(wrk is not installed: `make bench-deps` installs it as root; only the Python client's figures)")
        return
    print(f"{f'wrk, {args.seconds:g} s per route':<44} {'requests':>7} {'req/s':>8} {'p50':>7} {'p90':>7} "
          f"{'p99':>7}  errors")
    for name, r in loaded:
        print(f"{name:<44} {r.requests:>7} {r.rate:>8.1f} {r.p50_ms:>7.1f} {r.p90_ms:>7.1f} {r.p99_ms:>7.1f}  "
              f"{r.non_2xx} non-2xx, {r.socket_errors} socket errors; max {r.max_ms:.1f}")


if __name__ == "__main__":
    main()
