"""Bazaar's engine: the real InventoryShard, as a Ray actor (as in production) or in-process (the same object
called directly, to see what the shard itself costs without Ray), holding one hot SKU. Every reply comes after
the shard's group commit (one MULTI/EXEC with the records and one stream entry per reservation) is written.

Callers coalesce, as the checkout does: each call is a `reserve_many` of `batch` independent one-unit
reservations, `in_flight` calls outstanding.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import uuid
from collections.abc import Awaitable, Coroutine
from typing import Any

import orjson
import ray
import redis

from actors import keys
from actors.inventory import InventoryShard
from benchmarks.hot_sku import LoopBench, Mode, Oversell, progress
from config import Settings

SHARD = 0
TTL_SECONDS = 3600.0  # nothing expires during the run, so the reserved total only grows


class _InProcessShard(InventoryShard):
    """The shard's own code without Ray around it (no ticker: nothing expires within a run)."""

    def _start_ticker(self, period: float) -> None:
        pass  # the ticker needs an actor; nothing expires within a run


class ShardBench(LoopBench):
    """Give each its own Redis database, away from the HTTP app's keys."""

    def __init__(self, settings: Settings, stock: int, batch: int, in_flight: int, through_ray: bool = True) -> None:
        super().__init__()
        self.settings = settings
        self.sku = f"hot-{uuid.uuid4().hex[:8]}"
        self.stock = stock
        self.batch = batch
        self.in_flight = in_flight
        self.through_ray = through_ray
        self.prefix = f"h{uuid.uuid4().hex[:6]}"
        self.numbers = 0
        if through_ray:
            remote_cls: Any = ray.remote(InventoryShard)
            self.shard = remote_cls.options(num_cpus=0, max_concurrency=1000).remote(settings, SHARD)
        else:
            self.shard = _InProcessShard(settings, SHARD)
        self.run(self.call("create_stock", [{"variant_id": self.sku, "on_hand": stock}]))
        self.pid = int(self.run(self.call("ready"))["pid"])
        self.nice = self._same_priority()
        self.acknowledged = 0
        where = "Ray actor" if through_ray else "in-process, no Ray"
        self.client = (f"{where}; reserve_many of {batch} reservations per call, {in_flight} calls in flight"
                       + (f"; shard process at nice {self.nice}" if through_ray else ""))

    def _same_priority(self) -> int:
        """Ray starts its workers at nice 15 unless told (the benchmark's Ray is told, as the shop's is:
        `serve.main.local_ray_environment`), below redis-server, PostgreSQL and this driver (nice 0): on a shared
        machine that would measure the OS scheduler, not the design. Give the shard the driver's priority."""
        if self.through_ray:
            with contextlib.suppress(OSError):  # not permitted: the table says so (it prints the nice value)
                os.setpriority(os.PRIO_PROCESS, self.pid, os.getpriority(os.PRIO_PROCESS, 0))
        return os.getpriority(os.PRIO_PROCESS, self.pid)

    def call(self, method: str, *args: Any) -> Awaitable[Any]:
        if self.through_ray:
            return getattr(self.shard, method).remote(*args)
        return getattr(self.shard, method)(*args)

    def _counters(self) -> tuple[int, int]:
        ready = self.run(self.call("ready"))
        return ready["batches"], ready["commands"]

    def _measure(self, mode: Mode, calls: int, callers: list[Coroutine[Any, Any, int]]) -> None:
        async def gather() -> list[int]:
            return await asyncio.gather(*callers)

        before = self._counters()
        started = time.perf_counter()
        acked = sum(self.run(gather()))
        seconds = time.perf_counter() - started
        after = self._counters()
        self.acknowledged += acked
        mode.add(acked, seconds, calls, (after[0] - before[0], after[1] - before[1]))

    def _batches(self, sku: str, prefix: str, count: int, bar: Any = None) -> list[Coroutine[Any, Any, int]]:
        """`in_flight` callers that share `count` one-unit reservations of `sku`, `batch` per call."""
        starts = iter(range(0, count, self.batch))

        async def caller() -> int:
            acked = 0
            for start in starts:  # one iterator shared by all callers: each batch is taken once
                requests = [(f"{prefix}-{i}", {sku: 1}) for i in range(start, min(start + self.batch, count))]
                results = await self.call("reserve_many", requests, TTL_SECONDS)
                acked += sum(1 for r in results if not isinstance(r, BaseException))
                if bar is not None:
                    bar.update(len(requests))
            return acked

        return [caller() for _ in range(self.in_flight)]

    def reserve(self, mode: Mode, count: int) -> None:
        prefix = f"{self.prefix}-{self.numbers}"
        self.numbers += 1
        with progress(mode, count) as bar:
            self._measure(mode, -(-count // self.batch), self._batches(self.sku, prefix, count, bar))

    def one_per_call(self, mode: Mode, count: int, in_flight: int) -> None:
        """`reserve`: one call per reservation, `in_flight` calls outstanding (no coalescing, for scale)."""
        prefix = f"{self.prefix}-{self.numbers}"
        self.numbers += 1
        numbers = iter(range(count))

        async def caller() -> int:
            acked = 0
            for i in numbers:
                await self.call("reserve", f"{prefix}-{i}", {self.sku: 1}, TTL_SECONDS)
                acked += 1
                bar.update(1)
            return acked

        with progress(mode, count) as bar:
            self._measure(mode, count, [caller() for _ in range(in_flight)])

    def sequential(self, mode: Mode, count: int) -> None:
        """One `reserve` at a time: the latency of one durable reservation."""
        prefix = f"{self.prefix}-{self.numbers}"
        self.numbers += 1

        async def caller() -> int:
            for i in range(count):
                t0 = time.perf_counter()
                await self.call("reserve", f"{prefix}-{i}", {self.sku: 1}, TTL_SECONDS)
                mode.latencies.append(time.perf_counter() - t0)
            return count

        self._measure(mode, count, [caller()])

    def oversell(self, stock: int, buyers: int) -> Oversell:
        sku = f"sale-{uuid.uuid4().hex[:8]}"
        self.run(self.call("create_stock", [{"variant_id": sku, "on_hand": stock}]))

        async def gather() -> list[int]:
            return await asyncio.gather(*self._batches(sku, sku, buyers))

        acked = sum(self.run(gather()))
        level = self._redis_level(sku)
        records = self._redis_records(f"{sku}-*")
        remaining = level["on_hand"] - level["reserved"] - level["committed"]
        return Oversell(stock, buyers, acked, remaining, agrees=records == level["reserved"] == acked)

    def _redis(self) -> Any:
        return redis.Redis.from_url(self.settings.redis_url or "", decode_responses=True)

    def _redis_level(self, sku: str) -> dict[str, Any]:
        with self._redis() as client:
            return dict(orjson.loads(client.hget(keys.inventory_stock(SHARD), sku) or "{}"))

    def _redis_records(self, match: str) -> int:
        with self._redis() as client:
            return sum(1 for _ in client.hscan_iter(keys.inventory_reservations(SHARD), match=match, count=10_000))

    def verify(self) -> dict[str, Any]:
        """The system of record agrees with the acknowledgements: every acknowledged reservation is in Redis."""
        level = self._redis_level(self.sku)
        held = self._redis_records(f"{self.prefix}-*")
        with self._redis() as client:
            fsync = client.config_get("appendfsync").get("appendfsync")
        memory = self.run(self.call("levels", [self.sku]))[self.sku]
        reserved = int(level.get("reserved", -1))
        ok = (reserved == held == self.acknowledged == memory["reserved"]
              and level.get("on_hand") == self.stock and fsync == "always")
        return {"ok": ok, "acknowledged": self.acknowledged, "redis_reserved": reserved,
                "redis_reservation_records": held, "actor_reserved": memory["reserved"], "appendfsync": fsync}

    def close(self) -> None:
        if self.through_ray:
            ray.kill(self.shard)
        else:
            tasks = asyncio.all_tasks(self.loop)  # the shard's idle group-commit writer
            for task in tasks:
                task.cancel()
            self.run(asyncio.gather(*tasks, return_exceptions=True))
            self.run(self.shard.store.redis.aclose())
        super().close()
