"""Reservations per second on one hot SKU, sent straight to its inventory shard actor, every acknowledgement
durable (the shard writes to Redis, AOF `always`, before it replies); and, for scale, the same loop as a
PostgreSQL conditional UPDATE.

Each measurement is a fixed number of reservations, so a round takes longer on a busy machine instead of
measuring less; the modes of one round run back to back so that they share the machine's noise.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import ray
import redis
from tqdm import tqdm

from actors import keys
from actors.inventory import InventoryShard
from config import Settings

SHARD = 0
TTL_SECONDS = 3600.0  # nothing expires during the run, so the reserved total only grows


@dataclass
class Mode:
    """One way of feeding reservations, summed over the rounds."""

    name: str
    reservations: int = 0  # acknowledged
    seconds: float = 0.0
    calls: int = 0
    transactions: int = 0  # Redis MULTI/EXEC group commits by the shard while this mode ran
    commands: int = 0  # shard commands (one per call) in those transactions
    latencies: list[float] = field(default_factory=list)
    rounds: list[float] = field(default_factory=list)  # reservations per second of each measurement

    @property
    def rate(self) -> float:
        return self.reservations / self.seconds if self.seconds else 0.0

    def add(self, reservations: int, seconds: float, calls: int, stats: tuple[int, int] = (0, 0)) -> None:
        self.reservations += reservations
        self.seconds += seconds
        self.rounds.append(reservations / seconds if seconds else 0.0)
        self.calls += calls
        self.transactions += stats[0]
        self.commands += stats[1]


class _InProcessShard(InventoryShard):
    """The shard's own code without Ray around it (no ticker: nothing expires within a run)."""

    def _start_ticker(self, period: float) -> None:
        pass


class ShardBench:
    """A standalone InventoryShard with one hot SKU, called through Ray (an actor, as in production) or
    in-process (the same object called directly, to see what the shard itself costs without Ray's per-call
    overhead). Give each its own Redis database, away from the HTTP app's keys."""

    def __init__(self, settings: Settings, stock: int, through_ray: bool = True) -> None:
        self.settings = settings
        self.sku = f"hot-{uuid.uuid4().hex[:8]}"
        self.stock = stock
        self.through_ray = through_ray
        self.loop = asyncio.new_event_loop()  # one loop for the run: the in-process shard's Redis client is bound to it
        if through_ray:
            remote_cls: Any = ray.remote(InventoryShard)
            self.shard = remote_cls.options(num_cpus=0, max_concurrency=1000).remote(settings, SHARD)
        else:
            self.shard = _InProcessShard(settings, SHARD)
        self.run(self.call("create_stock", [{"variant_id": self.sku, "on_hand": stock}]))
        self.acknowledged = 0

    def call(self, method: str, *args: Any) -> Awaitable[Any]:
        if self.through_ray:
            return getattr(self.shard, method).remote(*args)
        return getattr(self.shard, method)(*args)

    def run(self, work: Awaitable[Any]) -> Any:
        async def wrap() -> Any:
            return await work

        return self.loop.run_until_complete(wrap())

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

    def one_per_call(self, mode: Mode, count: int, in_flight: int) -> None:
        """`reserve`: one call per reservation, `in_flight` calls outstanding at any time."""
        prefix = uuid.uuid4().hex[:8]
        numbers = iter(range(count))
        bar = tqdm(total=count, desc=f"  {mode.name}", unit="resv", leave=False, mininterval=0.5)

        async def caller() -> int:
            acked = 0
            for i in numbers:  # one iterator shared by all callers: each number is taken once
                await self.call("reserve", f"r1-{prefix}-{i}", {self.sku: 1}, TTL_SECONDS)
                acked += 1
                bar.update(1)
            return acked

        with bar:
            self._measure(mode, count, [caller() for _ in range(in_flight)])

    def batched(self, mode: Mode, count: int, batch: int, in_flight: int) -> None:
        """`reserve_many`: `batch` independent reservations per call, `in_flight` calls outstanding."""
        prefix = uuid.uuid4().hex[:8]
        starts = iter(range(0, count, batch))
        bar = tqdm(total=count, desc=f"  {mode.name}", unit="resv", leave=False, mininterval=0.5)

        async def caller() -> int:
            acked = 0
            for start in starts:
                requests = [(f"rb-{prefix}-{i}", {self.sku: 1}) for i in range(start, min(start + batch, count))]
                results = await self.call("reserve_many", requests, TTL_SECONDS)
                acked += sum(1 for r in results if not isinstance(r, BaseException))
                bar.update(len(requests))
            return acked

        with bar:
            self._measure(mode, -(-count // batch), [caller() for _ in range(in_flight)])

    def sequential(self, mode: Mode, count: int) -> None:
        """One `reserve` at a time: the latency of one durable reservation."""
        prefix = uuid.uuid4().hex[:8]

        async def caller() -> int:
            for i in tqdm(range(count), desc=f"  {mode.name}", unit="resv", leave=False, mininterval=0.5):
                t0 = time.perf_counter()
                await self.call("reserve", f"rs-{prefix}-{i}", {self.sku: 1}, TTL_SECONDS)
                mode.latencies.append(time.perf_counter() - t0)
            return count

        self._measure(mode, count, [caller()])

    def verify(self) -> dict[str, Any]:
        """The system of record agrees with the acknowledgements: every acknowledged reservation is in Redis."""
        client: Any = redis.Redis.from_url(self.settings.redis_url or "", decode_responses=True)
        try:
            level = json.loads(client.hget(keys.inventory_stock(SHARD), self.sku) or "{}")
            held = int(client.hlen(keys.inventory_reservations(SHARD)))
            fsync = client.config_get("appendfsync").get("appendfsync")
        finally:
            client.close()
        memory = self.run(self.call("levels", [self.sku]))[self.sku]
        reserved = int(level.get("reserved", -1))
        ok = (reserved == held == self.acknowledged == memory["reserved"]
              and level.get("on_hand") == self.stock and fsync == "always")
        return {"ok": ok, "acknowledged": self.acknowledged, "redis_reserved": reserved,
                "redis_reservation_records": held, "actor_reserved": memory["reserved"], "appendfsync": fsync}

    def stop(self) -> None:
        if self.through_ray:
            ray.kill(self.shard)
        else:
            tasks = asyncio.all_tasks(self.loop)  # the shard's idle group-commit writer
            for task in tasks:
                task.cancel()
            self.run(asyncio.gather(*tasks, return_exceptions=True))
            self.run(self.shard.store.redis.aclose())
        self.loop.close()


class _NoOpShard:
    """An async actor whose `reserve` does nothing: the floor that Ray's per-call cost sets on this machine."""

    async def reserve(self, reservation_id: str, lines: dict[str, int], ttl_seconds: float | None = None
                      ) -> dict[str, Any]:
        return {"id": reservation_id, "lines": lines}


def noop_calls(mode: Mode, count: int, in_flight: int) -> None:
    """`count` calls of a no-op actor method, `in_flight` outstanding, the same way `one_per_call` sends them."""
    remote_cls: Any = ray.remote(_NoOpShard)
    actor = remote_cls.options(num_cpus=0, max_concurrency=1000).remote()
    numbers = iter(range(count))

    async def caller() -> int:
        done = 0
        for i in numbers:
            await actor.reserve.remote(f"noop-{i}", {"noop": 1}, TTL_SECONDS)
            done += 1
        return done

    async def run() -> int:
        return sum(await asyncio.gather(*(caller() for _ in range(in_flight))))

    try:
        ray.get(actor.reserve.remote("warm-up", {}))
        started = time.perf_counter()
        done = asyncio.run(run())
        mode.add(done, time.perf_counter() - started, done)
    finally:
        ray.kill(actor)


class PostgresBench:
    """The same hot-SKU loop as one autocommitted conditional UPDATE per reservation (synchronous_commit on)."""

    def __init__(self, dsn: str, stock: int, connections: int) -> None:
        self.dsn = dsn
        self.stock = stock
        self.connections = connections
        self.table = f"bench_stock_{uuid.uuid4().hex[:8]}"
        self.acknowledged = 0
        self.version = ""

    @staticmethod
    def unavailable(dsn: str) -> str | None:
        """Why PostgreSQL can't be measured here (None when it can)."""
        try:
            import asyncpg
        except ImportError:
            return "asyncpg is not installed (pip install -e '.[bench]')"

        async def probe() -> None:
            conn = await asyncpg.connect(dsn, timeout=3)
            await conn.close()

        try:
            asyncio.run(probe())
        except Exception as exc:
            return f"PostgreSQL at {dsn} is not reachable ({type(exc).__name__}: {exc})"
        return None

    def _run(self, work: Callable[[Any], Awaitable[Any]]) -> Any:
        import asyncpg

        async def go() -> Any:
            conn = await asyncpg.connect(self.dsn, timeout=5)
            try:
                return await work(conn)
            finally:
                await conn.close()

        return asyncio.run(go())

    def setup(self) -> None:
        async def create(conn: Any) -> None:
            self.version = str(await conn.fetchval("SHOW server_version"))
            await conn.execute(f"CREATE TABLE {self.table} (id text PRIMARY KEY, available bigint NOT NULL)")
            await conn.execute(f"INSERT INTO {self.table} VALUES ('hot', $1)", self.stock)

        self._run(create)

    def measure(self, mode: Mode, count: int) -> None:
        import asyncpg

        update = f"UPDATE {self.table} SET available = available - 1 WHERE id = $1 AND available >= 1"
        numbers = iter(range(count))
        bar = tqdm(total=count, desc=f"  {mode.name}", unit="resv", leave=False, mininterval=0.5)

        async def run() -> int:
            async with asyncpg.create_pool(self.dsn, min_size=self.connections, max_size=self.connections) as pool:

                async def caller() -> int:
                    acked = 0
                    async with pool.acquire() as conn:
                        for _ in numbers:
                            acked += await conn.execute(update, "hot") == "UPDATE 1"
                            bar.update(1)
                    return acked

                started = time.perf_counter()
                acked = sum(await asyncio.gather(*(caller() for _ in range(self.connections))))
                mode.add(acked, time.perf_counter() - started, count)
                return acked

        with bar:
            self.acknowledged += asyncio.run(run())

    def verify(self) -> dict[str, Any]:
        async def read(conn: Any) -> int:
            return int(await conn.fetchval(f"SELECT available FROM {self.table} WHERE id = 'hot'"))

        available = self._run(read)
        return {"ok": self.stock - available == self.acknowledged, "acknowledged": self.acknowledged,
                "postgres_taken": self.stock - available}

    def teardown(self) -> None:
        async def drop(conn: Any) -> None:
            await conn.execute(f"DROP TABLE IF EXISTS {self.table}")

        self._run(drop)
