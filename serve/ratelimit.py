"""Fixed-window rate limits in Redis (INCR, EXPIRE NX), shared by the routes that need one (registration, card
tokenization; sign-in has its backoff in serve/login_guard.py). A counter is ephemeral bookkeeping of the HTTP
layer, not actor state."""

from __future__ import annotations

from actors import keys
from domain.errors import RateLimited
from serve.context import Context

WINDOW_SECONDS = 60


async def take_slot(ctx: Context, bucket: str, limit: int, window_seconds: int = WINDOW_SECONDS) -> None:
    """One attempt in the bucket's current window; RateLimited once more than `limit` were taken."""
    key = keys.rate_limit(bucket)
    pipe = ctx.redis.pipeline(transaction=True)
    pipe.incr(key)
    pipe.expire(key, window_seconds, nx=True)
    pipe.ttl(key)
    count, _, ttl = await pipe.execute()
    if count > limit:
        retry_after = max(1, int(ttl))
        raise RateLimited("rate_limited", f"Too many attempts; retry in {retry_after} s",
                          {"retry_after": retry_after})


async def give_back_slot(ctx: Context, bucket: str, window_seconds: int = WINDOW_SECONDS) -> None:
    """An attempt that should not count (a right current password); EXPIRE NX again in case the window ended."""
    pipe = ctx.redis.pipeline(transaction=True)
    pipe.decr(keys.rate_limit(bucket))
    pipe.expire(keys.rate_limit(bucket), window_seconds, nx=True)
    await pipe.execute()
