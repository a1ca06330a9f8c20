"""One hot SKU, every acknowledgement durable: what the four engines of `make bench` share, and PostgreSQL.

Each engine is fed one-unit reservations by the strongest client that suits it and reports them into a `Mode`:
a fixed number per measurement, so a round takes longer on a busy machine instead of measuring less. The modes
of one round run back to back so that they share the machine's noise. The engines:

- Bazaar's shard (`benchmarks.hot_sku_shard`): InventoryShard as a Ray actor, fed `reserve_many` batches;
- a Redis SET NX lock around read-check-write, and one Redis Lua check-and-decrement (`benchmarks.hot_sku_redis`);
- PostgreSQL's conditional UPDATE (here).

Each also runs an oversell check (`Oversell`): a fresh SKU with N units and more than N buyers at once.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from benchmarks import cpu_budget


@dataclass
class Mode:
    """One engine (or one way of feeding it), summed over the rounds."""

    name: str
    client: str = ""  # what the load generator gave it
    reservations: int = 0  # acknowledged
    seconds: float = 0.0
    calls: int = 0
    transactions: int = 0  # Redis MULTI/EXEC group commits by the shard while this mode ran
    commands: int = 0  # shard commands (one per call) in those transactions
    latencies: list[float] = field(default_factory=list)
    rounds: list[float] = field(default_factory=list)  # reservations per second of each measurement
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds by process kind, over all measurements

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


@dataclass(frozen=True)
class Oversell:
    """A fresh SKU with `stock` units, `buyers` concurrent buyers of one unit each: what was acknowledged, and
    what the system of record says is left."""

    stock: int
    buyers: int
    acknowledged: int
    remaining: int
    agrees: bool = True  # the engine's own records (the shard's reservation records) agree with `remaining`

    @property
    def oversold(self) -> int:
        return max(0, self.acknowledged - self.stock)

    @property
    def ok(self) -> bool:
        return self.agrees and self.acknowledged <= self.stock and self.stock - self.remaining == self.acknowledged


class LoopBench:
    """One event loop for a bench's whole run: an async Redis client is bound to the loop it was first used in."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()

    def run(self, work: Awaitable[Any]) -> Any:
        async def wrap() -> Any:
            return await work

        return self.loop.run_until_complete(wrap())

    def attempts(self, count: int, workers: int, attempt: Callable[[], Awaitable[int]], bar: Any = None) -> int:
        """`workers` concurrent buyers share `count` attempts; the number acknowledged."""
        numbers = iter(range(count))

        async def worker() -> int:
            acked = 0
            for _ in numbers:  # one iterator shared by all workers: each attempt is made once
                acked += await attempt()
                if bar is not None:
                    bar.update(1)
            return acked

        async def run() -> int:
            return sum(await asyncio.gather(*(worker() for _ in range(workers))))

        return int(self.run(run()))

    def close(self) -> None:
        self.loop.close()


def progress(mode: Mode, total: int) -> tqdm:
    return tqdm(total=total, desc=f"  {mode.name}", unit="resv", leave=False, mininterval=0.5)


# -- CPU by process, ours only (the machine is shared) -----------------------------------------------------
def our_processes(extra: set[int]) -> set[int]:
    """This process and everything it started (redis-server, Ray's raylet, GCS and workers), plus `extra`
    (the PostgreSQL backends serving our connections)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            children.setdefault(int(stat[stat.rindex(")") + 2:].split()[1]), []).append(int(entry.name))
    ours, todo = set(), [os.getpid()]
    while todo:
        pid = todo.pop()
        ours.add(pid)
        todo += children.get(pid, [])
    return ours | extra


@contextmanager
def cpu_of(mode: Mode, extra: Callable[[], set[int]] = set) -> Iterator[None]:
    """Add the CPU seconds our processes spend inside the block to `mode.cpu`, by process kind."""
    before = cpu_budget.snapshot()
    yield
    after = cpu_budget.snapshot()
    backends = extra()
    for pid in our_processes(backends):
        if pid in after:
            used = after[pid].cpu_seconds - (before[pid].cpu_seconds if pid in before else 0.0)
            label = "postgres" if pid in backends else after[pid].label
            mode.cpu[label] = mode.cpu.get(label, 0.0) + used


# -- PostgreSQL --------------------------------------------------------------------------------------------
class PostgresBench(LoopBench):
    """One autocommitted conditional UPDATE per reservation (synchronous_commit on, so durable), from a pool of
    connections each with one statement in flight: a single row's lock serializes them, so more connections
    queue rather than help."""

    def __init__(self, dsn: str, stock: int, connections: int) -> None:
        super().__init__()
        self.dsn = dsn
        self.stock = stock
        self.connections = connections
        self.table = f"bench_stock_{uuid.uuid4().hex[:8]}"
        self.acknowledged = 0
        self.version = ""
        self.pool: Any = None
        self.backends: set[int] = set()
        self.client = f"asyncpg, {connections} connections, 1 statement in flight each, autocommit"

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

    def setup(self) -> None:
        import asyncpg

        async def create() -> None:
            self.pool = await asyncpg.create_pool(self.dsn, min_size=self.connections, max_size=self.connections)
            async with self.pool.acquire() as conn:
                self.version = str(await conn.fetchval("SHOW server_version"))
                await conn.execute(f"CREATE TABLE {self.table} (id text PRIMARY KEY, available bigint NOT NULL)")
                await conn.execute(f"INSERT INTO {self.table} VALUES ('hot', $1)", self.stock)

            async def backend() -> int:
                async with self.pool.acquire() as conn:
                    await asyncio.sleep(0.01)  # hold it, so that every connection of the pool is asked once
                    return int(await conn.fetchval("SELECT pg_backend_pid()"))

            self.backends = set(await asyncio.gather(*(backend() for _ in range(self.connections))))

        self.run(create())

    def _take(self, row: str, count: int, bar: tqdm | None = None) -> int:
        update = f"UPDATE {self.table} SET available = available - 1 WHERE id = $1 AND available >= 1"

        async def attempt() -> int:
            return int(await self.pool.execute(update, row) == "UPDATE 1")

        return self.attempts(count, self.connections, attempt, bar)

    def reserve(self, mode: Mode, count: int) -> None:
        with progress(mode, count) as bar:
            started = time.perf_counter()
            acked = self._take("hot", count, bar)
            mode.add(acked, time.perf_counter() - started, count)
        self.acknowledged += acked

    def _available(self, row: str) -> int:
        return int(self.run(self.pool.fetchval(f"SELECT available FROM {self.table} WHERE id = $1", row)))

    def oversell(self, stock: int, buyers: int) -> Oversell:
        row = f"sale-{uuid.uuid4().hex[:8]}"
        self.run(self.pool.execute(f"INSERT INTO {self.table} VALUES ($1, $2)", row, stock))
        acked = self._take(row, buyers)
        return Oversell(stock, buyers, acked, self._available(row))

    def verify(self) -> dict[str, Any]:
        taken = self.stock - self._available("hot")
        return {"ok": taken == self.acknowledged, "acknowledged": self.acknowledged, "postgres_taken": taken}

    def close(self) -> None:
        if self.pool is not None:
            self.run(self.pool.execute(f"DROP TABLE IF EXISTS {self.table}"))
            self.run(self.pool.close())
        super().close()
