"""The simulation clock's store: one Redis string every process of a simulated shop follows (domain/clock.py).

Only `BAZAAR_ENV=simulation` installs it; in any other env `follow_simulation_clock` does nothing, so production
never reads (nor can be moved by) the key. Called where each process starts: every actor (actors/shard.py) and
every Serve replica (serve/context.py).
"""

from __future__ import annotations

from datetime import datetime

import redis
import redis.asyncio as aioredis

from actors import keys
from config import Settings
from domain import clock


def follow_simulation_clock(settings: Settings) -> bool:
    """In a simulation, make this process's business clock follow the shared offset; whether it does."""
    if settings.env != "simulation" or not settings.redis_url:
        return False
    client = redis.Redis.from_url(settings.redis_url, decode_responses=True, socket_timeout=2)

    def offset() -> float:
        stored = client.get(keys.SIMULATION_CLOCK)
        return float(stored) if isinstance(stored, str) else 0.0

    clock.follow(offset)
    return True


async def set_simulation_clock(client: aioredis.Redis, moment: datetime) -> float:
    """Move the shared business clock so that it reads `moment` now; returns the offset in seconds. Every
    process sees it within clock.REFRESH_SECONDS."""
    offset = moment.timestamp() - clock.epoch()
    await client.set(keys.SIMULATION_CLOCK, repr(offset))
    return offset
