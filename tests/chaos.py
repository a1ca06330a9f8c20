"""Chaos: checkout traffic from careful clients while processes die, then the whole store is audited.

    python -m tests.chaos                       # `make chaos`: every scenario, on a shop of its own
    python -m tests.chaos --quick --seed 7      # fewer shoppers

Each scenario runs a small flash sale (two SKUs on different inventory shards, fewer units than buyers) through
HTTP. Every shopper checks out once with its own Idempotency-Key and retries that same request until it gets a
definitive answer (201/200 order, 409 sold out), as a well-behaved client does. Meanwhile the scenario kills,
one after another: the worker process of a state-owning actor (SIGKILL, or `ray.kill` where named so), the API
replica's process, or redis-server itself (SIGKILL, then started again from its AOF, as a supervisor would).
Afterwards it waits for recovery to settle and checks: every acknowledged order exists (lost), no SKU sold more
than its stock (oversold), nobody has two orders or two live payments for one (double-charged), no unit is
committed without an order or held without a checkout (leaked units), and every invariant of the whole store
(pipelines/audit.py). Loopback only; deterministic for a seed (which victim, when).
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import ray

from actors.routing import Router
from config import Settings
from domain.audit import Violation
from pipelines import audit
from serve.local_redis import LocalRedis
from tests.shop import Account, Shop
from tests.support import until_answered, wait_until

DEFINITIVE = {200, 201, 409}  # an order, or sold out
WELCOME = "WELCOME10"  # once per shopper, in the default settings and the tests'
RETRYABLE = {0, 503}  # no connection, or a service restarting: anything else a careful client sees is a defect
SCENARIOS: dict[str, list[str]] = {  # scenario -> victims, killed in this order about a second apart
    "inventory shard (SIGKILL x2)": ["inventory", "inventory"],
    "shopper shard (SIGKILL x2)": ["shoppers", "shoppers"],
    "shopper shard (ray.kill)": ["shoppers:ray.kill"],
    "users, catalog, coupons (SIGKILL)": ["users", "catalog", "coupons"],
    "reviews, ratings, notifier (SIGKILL)": ["reviews", "ratings", "notifier"],
    "API replica (SIGKILL)": ["api"],
    "redis-server (SIGKILL, restart from AOF)": ["redis"],
    "shards restarting while redis-server is down": ["redis:down", "inventory", "shoppers", "redis:up"],
    "all of them in a row": ["shoppers", "inventory", "redis", "api", "shoppers"],
}
QUICK = ["shopper shard (SIGKILL x2)", "inventory shard (SIGKILL x2)", "redis-server (SIGKILL, restart from AOF)",
         "shards restarting while redis-server is down"]


@dataclass
class Outcome:
    scenario: str
    requests: int = 0
    acknowledged: int = 0
    sold_out: int = 0
    lost: int = 0
    oversold: int = 0
    double_charged: int = 0
    leaked_units: int = 0
    recovery_seconds: float = 0.0
    unexpected: Counter[int] = field(default_factory=Counter)  # statuses retried (0: no connection)
    violations: list[Violation] = field(default_factory=list)
    stuck: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.lost or self.oversold or self.double_charged or self.leaked_units or self.violations
                    or self.stuck or set(self.unexpected) - RETRYABLE)


def _sold_out_or_ok(response: httpx.Response) -> bool:
    """A 409 ends a careful client's purchase only when it says the stock ran out."""
    return response.status_code != 409 or response.json()["error"]["code"] in ("out_of_stock", "insufficient_stock")


class Traffic:
    """Careful clients: each retries the same request (same Idempotency-Key) until it gets a definitive answer."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.lock = threading.Lock()
        self.requests = 0
        self.sold_out = 0
        self.unexpected: Counter[int] = Counter()
        self.acknowledged: dict[str, set[str]] = {}  # user id -> the orders the shop confirmed to it
        self.recoveries: list[float] = []  # per kill: seconds until a request sent after it got its answer
        self.stuck: list[str] = []  # clients that gave up: no definitive answer in time
        self.surprises: dict[int, str] = {}  # the first answer of each status a careful client should never see
        self._killed_at: float | None = None

    def wait_for_requests(self, count: int, deadline_s: float) -> None:
        deadline = time.monotonic() + deadline_s
        while self.requests < count and time.monotonic() < deadline:
            time.sleep(0.01)

    def killed(self) -> None:
        with self.lock:
            self._killed_at = time.monotonic()

    def buy(self, account: Account, token: str, products: list[dict[str, Any]], purchases: int) -> None:
        try:
            self._buy(account, token, products, purchases)
        except Exception as exc:  # a client that never got its answer: the scenario fails
            with self.lock:
                self.stuck.append(f"{account.email}: {exc!r}")

    def _buy(self, account: Account, token: str, products: list[dict[str, Any]], purchases: int) -> None:
        body = {"shipping_address": Shop.address(), "payment_token": token}
        with httpx.Client(base_url=self.base_url, timeout=60) as client:
            for n in range(purchases):
                product = products[n % len(products)]
                item = {"product_id": product["id"], "variant_id": product["variants"][0]["id"],
                        "quantity": 1 + n % 2}
                added = self._definitive(client, "/v1/cart/items", item, account.headers, {200, 409})
                if added.status_code == 409:  # insufficient_stock: sold out
                    break
                headers = {**account.headers, "Idempotency-Key": uuid.uuid4().hex}
                coupon = {"coupon_code": WELCOME} if n == 0 else {}  # a limited coupon's claim, and its release
                answer = self._definitive(client, "/v1/checkout", {**body, **coupon}, headers, DEFINITIVE)
                if answer.status_code == 409:
                    with self.lock:
                        self.sold_out += 1
                    break
                with self.lock:
                    self.acknowledged.setdefault(account.user["id"], set()).add(answer.json()["order"]["id"])

    def _definitive(self, client: httpx.Client, path: str, body: dict[str, Any], headers: dict[str, str],
                    definitive: set[int], deadline_s: float = 180) -> httpx.Response:
        deadline = time.monotonic() + deadline_s
        while True:
            sent = time.monotonic()
            try:
                r: httpx.Response | None = client.post(path, json=body, headers=headers)
            except httpx.TransportError:
                r = None
            with self.lock:
                self.requests += 1
                if r is not None and r.status_code in definitive and _sold_out_or_ok(r):
                    if self._killed_at is not None and sent > self._killed_at:
                        self.recoveries.append(time.monotonic() - self._killed_at)
                        self._killed_at = None
                    return r
                status = 0 if r is None else r.status_code
                self.unexpected[status] += 1
                if r is not None and status not in RETRYABLE:
                    self.surprises.setdefault(status, f"{path}: {r.text[:300]}")
            assert time.monotonic() < deadline, f"{path} never got a definitive answer"
            time.sleep(0.1)


class Chaos:
    def __init__(self, shop: Shop, settings: Settings, redis_server: LocalRedis, seed: int = 20261203) -> None:
        self.shop = shop
        self.settings = settings
        self.redis_server = redis_server
        self.rng = random.Random(seed)
        self.router = Router(settings)

    # -- the victims -----------------------------------------------------------------------------------------
    def kill(self, victim: str, variant_ids: list[str]) -> None:
        kind, _, how = victim.partition(":")
        if kind == "redis":  # "redis": down and up again; "redis:down" ... "redis:up": an outage around others
            if how in ("", "down"):
                process = self.redis_server.process
                assert process is not None
                process.send_signal(signal.SIGKILL)
                process.wait()
            if how in ("", "up"):
                time.sleep(0.5)  # a supervisor notices and starts it again, from the AOF
                self.redis_server.start()
            return
        if kind == "api":
            os.kill(self._api_replica_pid(), signal.SIGKILL)
            return
        if kind == "inventory":
            handle = self.router.owner("inventory", self.rng.choice(variant_ids))
        else:
            handle = self.router.handle(kind, self.rng.randrange(self._count(kind)))
        if how == "ray.kill":
            ray.kill(handle, no_restart=False)
        else:  # the process of the actor as it is now (it may still be coming back from the last kill)
            os.kill(wait_until(lambda: ray.get(handle.ready.remote(), timeout=10), 60)["pid"], signal.SIGKILL)

    def _count(self, kind: str) -> int:
        from actors.routing import shard_count

        return shard_count(self.settings, kind)

    @staticmethod
    def _api_replica_pid() -> int:
        """The API replica's worker process: a descendant of this process (the driver that started Ray)."""
        from benchmarks.cpu_budget import snapshot

        pids = [pid for pid, sample in snapshot().items() if sample.label == "ray::ServeReplica:bazaar:api"]
        assert pids, "no API replica process found under this driver"
        return pids[0]

    # -- one scenario ----------------------------------------------------------------------------------------
    def run(self, scenario: str, victims: list[str], shoppers: int, purchases: int = 3) -> Outcome:
        """`shoppers` careful clients each buy up to `purchases` times (1 or 2 units of one of two SKUs, with
        about one unit in stock per shopper per SKU, so the sale sells out part-way) while the victims die."""
        until_answered(lambda: self.shop.http.get("/readyz"))  # the last scenario's victims are back
        stock = shoppers
        products = self._products(stock)
        variant_ids = [p["variants"][0]["id"] for p in products]
        buyers = [self.shop.register() for _ in range(shoppers)]
        tokens = {b.user["id"]: self.shop.card_token(b) for b in buyers}
        traffic = Traffic(self.shop.base_url)
        threads = [threading.Thread(target=traffic.buy, daemon=True,
                                    args=(b, tokens[b.user["id"]], self.rng.sample(products, 2), purchases))
                   for b in buyers]
        for thread in threads:
            thread.start()
        expected = shoppers * purchases * 2  # requests, were nothing to fail or sell out
        try:
            for number, victim in enumerate(victims):  # each kill lands inside the traffic, a little further on
                traffic.wait_for_requests(int(expected * (0.1 + 0.15 * number)), deadline_s=30)
                time.sleep(self.rng.uniform(0, 0.2))  # fault timing, not synchronization
                self.kill(victim, variant_ids)
                traffic.killed()
        finally:  # whatever went wrong, the shop is left with its Redis running
            if self.redis_server.process is None or self.redis_server.process.poll() is not None:
                self.redis_server.start()
        for thread in threads:
            thread.join()
        outcome = Outcome(scenario, traffic.requests, unexpected=traffic.unexpected,
                          stuck=traffic.stuck + [f"{s}: {text}" for s, text in traffic.surprises.items()])
        settled = self._settle()
        outcome.recovery_seconds = max([*traffic.recoveries, settled])
        self._verify(outcome, buyers, traffic, variant_ids, stock)
        return outcome

    def _products(self, stock: int) -> list[dict[str, Any]]:
        """Two products whose SKUs live on different inventory shards (when there are several)."""
        first = self.shop.product(stock=stock, price=1500)
        for _ in range(20):
            second = self.shop.product(stock=stock, price=2500)
            if (self.router.shard("inventory", second["variants"][0]["id"])
                    != self.router.shard("inventory", first["variants"][0]["id"])):
                break
        return [first, second]

    def _settle(self, timeout: float = 120) -> float:
        """Seconds until no checkout saga is left unfinished (read from Redis: actors may still be restarting)."""
        import redis

        started = time.monotonic()
        client = redis.Redis.from_url(self.settings.redis_url or "", decode_responses=True)
        try:
            from actors import keys

            while time.monotonic() - started < timeout:
                try:
                    if not any(client.hlen(keys.sagas(s)) for s in range(self._count("shoppers"))):
                        return time.monotonic() - started
                except redis.RedisError:
                    pass
                time.sleep(0.2)
        finally:
            client.close()
        return time.monotonic() - started

    def _verify(self, outcome: Outcome, buyers: list[Account], traffic: Traffic, variant_ids: list[str],
                stock: int) -> None:
        sold: Counter[str] = Counter()
        for account in buyers:
            orders = until_answered(lambda a=account: self.shop.http.get(
                "/v1/orders", params={"page_size": 100}, headers=a.headers)).json()["items"]
            found = {order["id"] for order in orders}
            acknowledged = traffic.acknowledged.get(account.user["id"], set())
            outcome.acknowledged += len(acknowledged)
            outcome.lost += len(acknowledged - found)
            outcome.double_charged += len(found - acknowledged)  # an order its shopper was never told of
            for order in orders:
                sold.update({i["variant_id"]: i["quantity"] for i in order["items"]})
        outcome.sold_out = traffic.sold_out
        outcome.oversold = sum(max(0, sold[v] - stock) for v in variant_ids)
        violations, _ = audit.run(self.settings, recovery_seconds=30)
        outcome.violations = violations
        outcome.double_charged += sum(1 for v in violations if "charged more than once" in v.problem)
        outcome.leaked_units = sum(v.units for v in violations)


def table(outcomes: list[Outcome]) -> str:
    header = (f"{'scenario':<42} {'requests':>8} {'acked':>6} {'sold out':>8} {'lost':>5} {'oversold':>8} "
              f"{'double-charged':>14} {'leaked':>6} {'recovery s':>10}  retried statuses")
    rows = [header]
    for o in outcomes:
        retried = ", ".join(f"{s or 'no connection'} x{n}" for s, n in sorted(o.unexpected.items())) or "-"
        rows.append(f"{o.scenario:<42} {o.requests:>8} {o.acknowledged:>6} {o.sold_out:>8} {o.lost:>5} "
                    f"{o.oversold:>8} {o.double_charged:>14} {o.leaked_units:>6} {o.recovery_seconds:>10.1f}  "
                    f"{retried}")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.chaos", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK)}, with fewer shoppers")
    parser.add_argument("--shoppers", type=int, help="buyers per scenario (default 30, quick 12)")
    parser.add_argument("--seed", type=int, default=20261203)
    args = parser.parse_args(argv)
    import tempfile

    from actors.system import bootstrap, spawn_all
    from benchmarks.core import ADMIN_EMAIL, ADMIN_PASSWORD, environment
    from serve.app import deploy

    shoppers = args.shoppers or (12 if args.quick else 30)
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="bzc-") as tmp, environment(Path(tmp), haproxy=True) as (settings, server):
        spawn_all(settings)
        bootstrap(settings)
        deploy(settings)
        with Shop(f"http://127.0.0.1:{settings.http_port}", ADMIN_EMAIL, ADMIN_PASSWORD) as shop:
            chaos = Chaos(shop, settings, server, args.seed)
            for name in QUICK if args.quick else SCENARIOS:
                print(f"scenario: {name} ...", flush=True)
                outcome = chaos.run(name, SCENARIOS[name], shoppers)
                outcomes.append(outcome)
                for violation in outcome.violations:
                    print(f"  {violation}", flush=True)
    print(table(outcomes))
    return 0 if all(o.clean for o in outcomes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
