"""What one Redis round trip costs a Bazaar process in CPU, with redis-py's connection pool and with `QuickPool`
(actors/store.py), alternating in one run:

    .venv/bin/python -m benchmarks.redis_pool [--readers 8] [--round-trips 3000] [--rounds 3]

`--readers` coroutines on one uvloop event loop (as in an API replica or a shard under load) each make
`--round-trips` round trips one after another: a `Reads` of a GET and an HMGET (the hot paths' reads), and a plain
redis-py GET. Starts its own redis-server (AOF, `appendfsync always`) on a free port.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import redis.asyncio as aioredis
import uvloop

from actors.store import Reads, async_client
from serve.local_redis import LocalRedis, free_port


async def _measure(client: aioredis.Redis, readers: int, round_trips: int, kind: str) -> tuple[float, float]:
    """Round trips a second and microseconds of this process's CPU per round trip."""
    await client.set("bench:pool:k", "v")

    async def reader() -> None:
        for _ in range(round_trips):
            if kind == "Reads":
                reads = Reads(client)
                reads.get("bench:pool:k")
                reads.hmget("bench:pool:h", ["a", "b"])
                await reads.execute()
            else:
                await client.get("bench:pool:k")

    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(reader() for _ in range(readers)))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    await client.aclose()
    done = readers * round_trips
    return done / wall, cpu / done * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.redis_pool", description=__doc__.split("\n")[0])
    parser.add_argument("--readers", type=int, default=8)
    parser.add_argument("--round-trips", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    pools: dict[str, Callable[[str], aioredis.Redis]] = {
        "redis-py's pool": lambda url: aioredis.from_url(url, decode_responses=True),
        "QuickPool": async_client,
    }
    with tempfile.TemporaryDirectory(prefix="bzpool-") as tmp:
        server = LocalRedis(Path(tmp), free_port(), appendfsync="always").start()
        try:
            print(f"{args.readers} readers on one uvloop loop, {args.round_trips} round trips each, "
                  f"{args.rounds} rounds")
            print(f"{'kind':6} {'pool':16} {'round trips/s':>14} {'CPU us each':>12}   per round")
            for kind in ("Reads", "GET"):
                figures: dict[str, list[tuple[float, float]]] = {name: [] for name in pools}
                for _ in range(args.rounds):
                    for name, make in pools.items():
                        figures[name].append(uvloop.run(_measure(make(server.url), args.readers, args.round_trips,
                                                                 kind)))
                for name, rows in figures.items():
                    rate = sum(r for r, _ in rows) / len(rows)
                    cpu = sum(c for _, c in rows) / len(rows)
                    each = ", ".join(f"{r:,.0f}/s {c:.1f} us" for r, c in rows)
                    print(f"{kind:6} {name:16} {rate:14,.0f} {cpu:12.1f}   {each}")
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
