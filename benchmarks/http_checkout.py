"""Checkout latency through HTTP at N concurrent shoppers, next to a no-op route (`GET /healthz`) of the same
Serve app, so the figure that matters is the ratio: what a checkout costs above the HTTP path itself.

Each shopper is one coroutine with its own keep-alive connection that adds an item to its cart and then
checks out, again and again; only the `POST /v1/checkout` is timed (the add-to-cart is timed on its own line).
Rounds alternate no-op and checkout so both see the same noise.

The load generator shares the machine's 2 cores with the server, so it has to be cheap: `http.client` spends
about 0.4 ms of CPU per request here where httpx.AsyncClient spent about 4 ms (half a core at 110 req/s), and
sixteen threads each with an `http.client` connection (stop 19) cost 0.8 ms a checkout loop; every shopper is now
a coroutine on one uvloop event loop writing its requests as bytes.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import uvloop
from tqdm import tqdm

from benchmarks import cpu_budget
from tests.shop import Account, Shop


@dataclass
class Route:
    name: str
    latencies: list[float] = field(default_factory=list)  # seconds
    seconds: float = 0.0  # wall time of the rounds that drove this route
    client_cpu: float = 0.0  # CPU seconds this (the load-generating) process used in those rounds
    errors: dict[int, int] = field(default_factory=dict)
    marks: list[int] = field(default_factory=list)  # len(latencies) at the end of each round

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def end_round(self, seconds: float, client_cpu: float) -> None:
        self.seconds += seconds
        self.client_cpu += client_cpu
        self.marks.append(len(self.latencies))

    def percentile(self, q: float, round: int | None = None) -> float:
        """Nearest-rank percentile in milliseconds, of all rounds or of one (counting from 0)."""
        samples = self.latencies
        if round is not None:
            samples = samples[(self.marks[round - 1] if round else 0):self.marks[round]]
        if not samples:
            return math.nan
        ordered = sorted(samples)
        return 1000 * ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]

    def record(self, status: int, seconds: float, expected: int) -> None:
        if status == expected:
            self.latencies.append(seconds)
        else:
            self.errors[status] = self.errors.get(status, 0) + 1


class Connection:
    """One keep-alive HTTP/1.1 connection on the load generator's event loop. A request is written as bytes and its
    answer read by status line, headers and Content-Length (or chunks): no client library in between, so the load
    generator costs the shared cores as little as it can."""

    def __init__(self, base_url: str) -> None:
        url = urlsplit(base_url)
        self.host, self.port = url.hostname or "127.0.0.1", url.port or 80
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def request(self, method: str, path: str, headers: dict[str, str], body: Any = None) -> tuple[int, float]:
        """(status, seconds from sending the request to the last byte of the response); status 0 when the
        connection failed (it reconnects on the next request)."""
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}",
                 *(f"{name}: {value}" for name, value in headers.items())]
        data = b""
        if body is not None:
            data = json.dumps(body).encode()
            lines += ["Content-Type: application/json", f"Content-Length: {len(data)}"]
        request = "\r\n".join([*lines, "", ""]).encode() + data
        started = time.perf_counter()
        try:
            async with asyncio.timeout(120):
                if self.streams is None:
                    self.streams = await asyncio.open_connection(self.host, self.port)
                reader, writer = self.streams
                writer.write(request)
                status, keep = await _response(reader)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError):
            self.close()
            return 0, time.perf_counter() - started
        if not keep:
            self.close()
        return status, time.perf_counter() - started

    def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None


async def _response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one response; (status, whether the connection stays open)."""
    head = (await reader.readuntil(b"\r\n\r\n")).split(b"\r\n")
    status = int(head[0].split(b" ", 2)[1])
    fields = {name.strip().lower(): value.strip().lower()
              for name, _, value in (line.partition(b":") for line in head[1:])}
    if fields.get(b"transfer-encoding") == b"chunked":
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            await reader.readexactly(size + 2)
        await reader.readuntil(b"\r\n")  # no trailers are sent: the empty line after the last chunk
    else:
        await reader.readexactly(int(fields.get(b"content-length", b"0")))
    return status, fields.get(b"connection") != b"close"


@dataclass
class Shopper:
    account: Account
    token: str


def run_concurrently(coroutines: list[Coroutine[Any, Any, None]]) -> None:
    """Run the coroutines together on a new event loop (uvloop's, as the shop's processes use) until all are done."""
    async def together() -> None:
        await asyncio.gather(*coroutines)

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(together())


class CheckoutBench:
    def __init__(self, shop: Shop, shoppers: int, stock: int) -> None:
        self.shop = shop
        self.workers = shoppers
        self.product = shop.product(stock=stock, price=999)
        self.shoppers: list[Shopper] = []
        self.cpu_rows: list[tuple[str, float, int]] = []

    def prepare(self) -> None:
        """Register the shoppers, each with a saved card token (a token pays for any number of its shopper's
        orders until it expires, like a saved card)."""
        with tqdm(total=self.workers, desc="  preparing shoppers and card tokens", unit="shopper") as bar:
            for _ in range(self.workers):
                account = self.shop.register()
                self.shoppers.append(Shopper(account, self.shop.card_token(account)))
                bar.update(1)

    async def checkouts(self, shopper: Shopper, count: int, checkout: Route, cart: Route, bar: Any) -> None:
        """One shopper's loop on the running event loop: add to the cart, check out, `count` times."""
        item = {"product_id": self.product["id"], "variant_id": self.product["variants"][0]["id"], "quantity": 1}
        conn = Connection(self.shop.base_url)
        try:
            for _ in range(count):
                status, seconds = await conn.request("POST", "/v1/cart/items", shopper.account.headers, item)
                cart.record(status, seconds, 200)
                body = {"shipping_address": Shop.address(), "payment_token": shopper.token}
                headers = {**shopper.account.headers, "Idempotency-Key": uuid.uuid4().hex}
                status, seconds = await conn.request("POST", "/v1/checkout", headers, body)
                checkout.record(status, seconds, 201)
                bar.update(1)
        finally:
            conn.close()

    async def _noops(self, count: int, noop: Route, bar: tqdm[Any]) -> None:
        conn = Connection(self.shop.base_url)
        try:
            for _ in range(count):
                status, seconds = await conn.request("GET", "/healthz", {})
                noop.record(status, seconds, 200)
                bar.update(1)
        finally:
            conn.close()

    @staticmethod
    def _timed(routes: list[Route], label: str, total: int,
               workers: list[Callable[[tqdm[Any]], Coroutine[Any, Any, None]]]) -> None:
        """Run the workers together on one event loop and charge the wall and CPU time to `routes`."""
        with tqdm(total=total, desc=f"  {label}", unit="req", leave=False, mininterval=0.5) as bar:
            started, cpu = time.perf_counter(), time.process_time()
            run_concurrently([work(bar) for work in workers])
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        for route in routes:
            route.end_round(elapsed, cpu)

    def measure(self, rounds: int, checkouts_per_round: int, noops_per_round: int,
                concurrency: int) -> dict[str, Route]:
        """With `concurrency` shoppers (and as many no-op workers): warm up (one checkout per shopper, 20 no-ops
        per worker, all discarded), then alternate rounds of no-ops and checkouts. Counts are per worker and round.
        The CPU each process used during the checkout rounds is kept in `cpu_rows` (per checkout)."""
        shoppers = self.shoppers[:concurrency]
        routes = {name: Route(name) for name in ("noop", "checkout", "cart")}
        warm = {name: Route(name) for name in routes}
        self._timed([], "warm-up", concurrency * 21, [
            *(partial(self.checkouts, s, 1, warm["checkout"], warm["cart"]) for s in shoppers),
            *(partial(self._noops, 20, warm["noop"]) for _ in shoppers)])
        checkout_cpu: dict[int, cpu_budget.Sample] = {}
        for r in range(1, rounds + 1):
            self._timed([routes["noop"]], f"{concurrency} clients, round {r}/{rounds}: GET /healthz",
                        concurrency * noops_per_round,
                        [partial(self._noops, noops_per_round, routes["noop"]) for _ in shoppers])
            before = cpu_budget.snapshot()
            self._timed([routes["checkout"], routes["cart"]], f"{concurrency} shoppers, round {r}/{rounds}: checkout",
                        concurrency * checkouts_per_round,
                        [partial(self.checkouts, s, checkouts_per_round, routes["checkout"], routes["cart"])
                         for s in shoppers])
            after = cpu_budget.snapshot()
            for pid, sample in after.items():  # accumulate each process's CPU over the checkout rounds only
                used = sample.cpu_seconds - (before[pid].cpu_seconds if pid in before else 0.0)
                prior = checkout_cpu.get(pid)
                checkout_cpu[pid] = cpu_budget.Sample(sample.label, used + (prior.cpu_seconds if prior else 0.0))
        self.cpu_rows = cpu_budget.budget({}, checkout_cpu, len(routes["checkout"].latencies))
        return routes
