"""The one persistence path. A command records its state changes and events in a `Changes`; the owning actor
writes them to Redis in one MULTI/EXEC transaction *before* it replies, so a reply means durable.

Changes of many commands can be merged into one `Changes` (group commit): the last value per key wins and
events keep their order.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis
from redis import Redis

from domain.clock import now_iso
from domain.ids import new_id

_DELETE = object()


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


@dataclass(frozen=True)
class Event:
    """One entry of the event stream: `type` like `order.created`, `data` a JSON object. See docs/events.md."""

    type: str
    data: dict[str, Any]
    id: str = field(default_factory=lambda: new_id("evt"))
    at: str = field(default_factory=now_iso)

    def fields(self) -> dict[str, str]:
        return {"id": self.id, "type": self.type, "at": self.at, "data": dumps(self.data)}


class Changes:
    def __init__(self) -> None:
        self._hash: dict[tuple[str, str], Any] = {}
        self._string: dict[str, tuple[Any, float | None]] = {}
        self._zset: dict[tuple[str, str], Any] = {}
        self._trims: dict[str, tuple[float, int]] = {}
        self.events: list[Event] = []

    def hset(self, key: str, field: str, value: Any) -> None:
        self._hash[(key, field)] = value

    def hdel(self, key: str, field: str) -> None:
        self._hash[(key, field)] = _DELETE

    def set(self, key: str, value: Any, ttl_seconds: float | None = None) -> None:
        self._string[key] = (value, ttl_seconds)

    def delete(self, key: str) -> None:
        self._string[key] = (_DELETE, None)

    def zadd(self, key: str, member: str, score: float) -> None:
        self._zset[(key, member)] = score

    def zrem(self, key: str, member: str) -> None:
        self._zset[(key, member)] = _DELETE

    def trim_zset(self, key: str, max_score: float, ttl_seconds: int) -> None:
        """After this batch's adds, drop the zset's members scored at or below `max_score`, and let the whole key
        expire `ttl_seconds` after its last change (a sliding window that cannot grow without bound)."""
        self._trims[key] = (max_score, ttl_seconds)

    def emit(self, type: str, **data: Any) -> None:
        self.events.append(Event(type, data))

    def merge(self, other: Changes) -> None:
        self._hash.update(other._hash)
        self._string.update(other._string)
        self._zset.update(other._zset)
        self._trims.update(other._trims)
        self.events.extend(other.events)

    def __bool__(self) -> bool:
        return bool(self._hash or self._string or self._zset or self._trims or self.events)

    def write_to(self, pipe: Any, stream: str, maxlen: int) -> None:
        for (key, fld), value in self._hash.items():
            if value is _DELETE:
                pipe.hdel(key, fld)
            else:
                pipe.hset(key, fld, _encode(value))
        for key, (value, ttl) in self._string.items():
            if value is _DELETE:
                pipe.delete(key)
            elif ttl is None:
                pipe.set(key, _encode(value))
            else:
                pipe.set(key, _encode(value), px=max(1, int(ttl * 1000)))
        for (key, member), score in self._zset.items():
            if score is _DELETE:
                pipe.zrem(key, member)
            else:
                pipe.zadd(key, {member: score})
        for key, (max_score, ttl) in self._trims.items():
            pipe.zremrangebyscore(key, "-inf", max_score)
            pipe.expire(key, ttl)
        for event in self.events:
            pipe.xadd(stream, event.fields(), maxlen=maxlen, approximate=True)


def _encode(value: Any) -> str:
    return value if isinstance(value, str) else dumps(value)


class Store:
    """Redis access for one actor: an async client for commits and reads, a sync one for loading at start."""

    def __init__(self, redis_url: str, stream: str, maxlen: int) -> None:
        self.redis_url = redis_url
        self.stream = stream
        self.maxlen = maxlen
        self._client: aioredis.Redis | None = None

    @property
    def redis(self) -> aioredis.Redis:
        if self._client is None:
            self._client = aioredis.from_url(self.redis_url, decode_responses=True)
        return self._client

    def sync_client(self) -> Redis:
        return Redis.from_url(self.redis_url, decode_responses=True)

    async def commit(self, changes: Changes) -> None:
        if not changes:
            return
        pipe = self.redis.pipeline(transaction=True)
        changes.write_to(pipe, self.stream, self.maxlen)
        await pipe.execute()

    async def get_json(self, key: str) -> Any:
        raw: str | None = await self.redis.get(key)
        return None if raw is None else json.loads(raw)

    async def hget_json(self, key: str, field: str) -> Any:
        raw: str | None = await self.redis.hget(key, field)  # type: ignore[misc]
        return None if raw is None else json.loads(raw)


def load_hash(client: Redis, key: str) -> dict[str, Any]:
    """All of a hash, decoded, read in pages so a large shard loads without one giant reply."""
    return {fld: json.loads(raw) for fld, raw in client.hscan_iter(key, count=2000)}
