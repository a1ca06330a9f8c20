"""The two Redis baselines on the same redis-server as the shard (AOF, `appendfsync always`, so each write is
fsynced before its reply), each on a database of its own, both through redis-py's asyncio client with hiredis:

- `LuaBench`: one Lua check-and-decrement script per reservation (EVALSHA), sent in pipelines: `connections`
  connections, each with a pipeline of `depth` scripts in flight. Pipelining is what makes Redis fast (the
  server fsyncs once per event-loop turn, for every write that turn read), so this is Lua at its strongest.
- `SetNxBench`: the classic lock around read-check-write, done correctly: `SET lock token NX PX` (retried with
  a short randomized back-off while someone else holds it), `GET`, check, `SET`, then unlock only if the lock
  is still ours (compare-and-delete, the script Redis documents). `buyers` buyers try at once, each with its
  own connection. Its weakness is the expiry: a holder stalled past it could write after someone else took
  the lock; the expiry here (10 s) is far above any stall the run sees, and the oversell check counts.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
import uuid
from typing import Any

import redis.asyncio as aioredis

from actors.event_ids import new_event_id, now_iso_ms
from actors.store import dumps
from benchmarks.hot_sku import LoopBench, Mode, Oversell, progress

RESERVE = """
local available = tonumber(redis.call('GET', KEYS[1]) or '0')
local quantity = tonumber(ARGV[1])
if available < quantity then return 0 end
redis.call('DECRBY', KEYS[1], quantity)
return 1
"""
# the same, plus the writes Bazaar's shard makes for each reservation: its record and its event
RESERVE_AND_RECORD = """
local available = tonumber(redis.call('GET', KEYS[1]) or '0')
local quantity = tonumber(ARGV[1])
if available < quantity then return 0 end
redis.call('DECRBY', KEYS[1], quantity)
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], '*', 'id', ARGV[5], 'type', 'inventory.reserved',
           'at', ARGV[6], 'data', ARGV[7])
return 1
"""
UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
LOCK_MS = 10_000
LOCK_RETRY_SECONDS = 0.001  # mean back-off while the lock is taken (uniform 0..2x)


class _RedisBench(LoopBench):
    def __init__(self, url: str, stock: int, connections: int) -> None:
        super().__init__()
        self.redis = aioredis.from_url(url, max_connections=connections, decode_responses=True)
        self.stock = stock
        self.key = f"hot-{uuid.uuid4().hex[:8]}"
        self.acknowledged = 0
        self.run(self.redis.set(self.key, stock))

    def _take(self, key: str, count: int, bar: Any = None) -> int:
        raise NotImplementedError

    def reserve(self, mode: Mode, count: int) -> None:
        with progress(mode, count) as bar:
            started = time.perf_counter()
            acked = self._take(self.key, count, bar)
            mode.add(acked, time.perf_counter() - started, count)
        self.acknowledged += acked

    def oversell(self, stock: int, buyers: int) -> Oversell:
        key = f"sale-{uuid.uuid4().hex[:8]}"
        self.run(self.redis.set(key, stock))
        acked = self._take(key, buyers)
        return Oversell(stock, buyers, acked, int(self.run(self.redis.get(key))))

    def verify(self) -> dict[str, Any]:
        taken = self.stock - int(self.run(self.redis.get(self.key)))
        fsync = self.run(self.redis.config_get("appendfsync")).get("appendfsync")
        return {"ok": taken == self.acknowledged and fsync == "always", "acknowledged": self.acknowledged,
                "redis_taken": taken, "appendfsync": fsync}

    def close(self) -> None:
        self.run(self.redis.aclose())
        super().close()


class LuaBench(_RedisBench):
    script = RESERVE

    def __init__(self, url: str, stock: int, connections: int, depth: int) -> None:
        super().__init__(url, stock, connections)
        self.connections = connections
        self.depth = depth
        self.sha = self.run(self.redis.script_load(self.script))
        self.client = (f"redis-py asyncio + hiredis, {connections} connections, pipelines of {depth} EVALSHA "
                       "in flight on each")

    def _queue(self, pipe: Any, key: str) -> None:
        pipe.evalsha(self.sha, 1, key, 1)

    def _take(self, key: str, count: int, bar: Any = None) -> int:
        starts = iter(range(0, count, self.depth))

        async def connection() -> int:
            acked = 0
            for start in starts:
                pipe = self.redis.pipeline(transaction=False)
                for _ in range(start, min(start + self.depth, count)):
                    self._queue(pipe, key)
                replies = await pipe.execute()
                acked += sum(replies)
                if bar is not None:
                    bar.update(len(replies))
            return acked

        async def run() -> int:
            return sum(await asyncio.gather(*(connection() for _ in range(self.connections))))

        return int(self.run(run()))


class LuaRecordBench(LuaBench):
    """Lua doing the durable work the shard does per reservation: check-and-decrement, the reservation's record
    (JSON, as the shard writes it) and its event on a stream (docs/events.md's fields), built by the client."""

    script = RESERVE_AND_RECORD

    def __init__(self, url: str, stock: int, connections: int, depth: int) -> None:
        super().__init__(url, stock, connections, depth)
        self.numbers = itertools.count()
        self.prefix = uuid.uuid4().hex[:8]

    def _queue(self, pipe: Any, key: str) -> None:
        reservation_id, now = f"{self.prefix}-{next(self.numbers)}", time.time()
        lines = {key: 1}
        record = {"id": reservation_id, "lines": lines, "expires_at": now + 3600, "status": "held", "updated_at": now}
        data = {"reservation_id": reservation_id, "lines": lines, "expires_at": now + 3600, "shard": 0}
        pipe.evalsha(self.sha, 3, key, f"{key}:resv", f"{key}:events", 1, reservation_id, dumps(record), 1_000_000,
                     new_event_id(), now_iso_ms(), dumps(data))


class SetNxBench(_RedisBench):
    def __init__(self, url: str, stock: int, buyers: int) -> None:
        super().__init__(url, stock, buyers)
        self.buyers = buyers
        self.unlock = self.redis.register_script(UNLOCK)
        self.client = (f"redis-py asyncio + hiredis, {buyers} buyers at once, one connection each; lock retried "
                       f"after ~{LOCK_RETRY_SECONDS * 1000:.0f} ms")

    async def _buy(self, key: str) -> int:
        lock, token = f"{key}:lock", uuid.uuid4().hex
        while not await self.redis.set(lock, token, nx=True, px=LOCK_MS):
            await asyncio.sleep(random.uniform(0, 2 * LOCK_RETRY_SECONDS))
        try:
            available = int(await self.redis.get(key))
            if available < 1:
                return 0
            await self.redis.set(key, available - 1)
            return 1
        finally:
            await self.unlock(keys=[lock], args=[token])

    def _take(self, key: str, count: int, bar: Any = None) -> int:
        return self.attempts(count, self.buyers, lambda: self._buy(key), bar)
