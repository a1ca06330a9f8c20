"""What a route needs, built once per Serve replica and reached through `request.app.state.ctx`."""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis

from actors.routing import Router
from config import Settings


@dataclass
class Context:
    settings: Settings
    router: Router
    redis: aioredis.Redis  # reads of committed state, rate limits; writes go through the owning actor

    @classmethod
    def create(cls, settings: Settings) -> Context:
        assert settings.redis_url
        return cls(settings, Router(settings), aioredis.from_url(settings.redis_url, decode_responses=True))
