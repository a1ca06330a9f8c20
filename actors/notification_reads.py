"""The read model of notifications, wishlists, webhooks and deliveries (a part of actors/reads.py kept in its own
module): committed state straight from Redis, for the routes and the live stream. Writes go through the notifier
actor (inbox read state, webhooks, dead letters) and the user shards (wishlists)."""

from __future__ import annotations

import json
from typing import Any

from actors import keys
from actors.reads import Context
from domain.deliveries import Delivery, Queue
from domain.webhooks import Webhook


async def inbox_page(ctx: Context, user_id: str, page: int, page_size: int, unread_only: bool = False
                     ) -> tuple[list[dict[str, Any]], int, int]:
    """(notifications newest first, with `read`; how many in all (or unread, with `unread_only`); how many unread)."""
    index = keys.inbox_unread(user_id) if unread_only else keys.inbox_feed(user_id)
    start = (page - 1) * page_size
    pipe = ctx.redis.pipeline(transaction=False)
    pipe.zrevrange(index, start, start + page_size - 1)
    pipe.zcard(index)
    pipe.zcard(keys.inbox_unread(user_id))
    ids, total, unread = await pipe.execute()
    return await _documents(ctx, user_id, ids), int(total), int(unread)


async def inbox_after(ctx: Context, user_id: str, seq: int, limit: int = 1000) -> list[dict[str, Any]]:
    """The user's notifications after `seq`, oldest first (a stream resumed with Last-Event-ID)."""
    ids = await ctx.redis.zrangebyscore(keys.inbox_feed(user_id), f"({seq}", "+inf", start=0, num=limit)
    return await _documents(ctx, user_id, ids)


async def _documents(ctx: Context, user_id: str, ids: list[str]) -> list[dict[str, Any]]:
    if not ids:
        return []
    pipe = ctx.redis.pipeline(transaction=False)
    pipe.hmget(keys.inbox(user_id), ids)
    pipe.zmscore(keys.inbox_unread(user_id), ids)
    raws, unread = await pipe.execute()
    return [{**json.loads(raw), "read": score is None} for raw, score in zip(raws, unread, strict=True) if raw]


async def wishlist(ctx: Context, user_id: str) -> list[dict[str, Any]]:
    items = [json.loads(raw) for raw in (await ctx.redis.hgetall(keys.wishlist(user_id))).values()]  # type: ignore[misc]
    return sorted(items, key=lambda item: item["added_at"], reverse=True)


async def webhooks(ctx: Context, owner_id: str | None) -> list[Webhook]:
    """Every endpoint (owner None: an admin's view) or the owner's, oldest first."""
    found = [Webhook.from_dict(json.loads(raw)) for raw in (await ctx.redis.hgetall(keys.WEBHOOKS)).values()]  # type: ignore[misc]
    return sorted((w for w in found if owner_id is None or w.owner_id == owner_id), key=lambda w: w.id)


async def webhook(ctx: Context, webhook_id: str) -> Webhook | None:
    raw = await ctx.redis.hget(keys.WEBHOOKS, webhook_id)  # type: ignore[misc]
    return None if raw is None else Webhook.from_dict(json.loads(raw))


async def webhook_attempts(ctx: Context, webhook_id: str, limit: int) -> list[dict[str, Any]]:
    return [json.loads(raw) for raw in await ctx.redis.lrange(keys.webhook_attempts(webhook_id), 0, limit - 1)]  # type: ignore[misc]


async def dead_letters(ctx: Context, queue: Queue, page: int, page_size: int) -> tuple[list[dict[str, Any]], int]:
    start = (page - 1) * page_size
    pipe = ctx.redis.pipeline(transaction=False)
    pipe.zrevrange(keys.delivery_dead(queue), start, start + page_size - 1)
    pipe.zcard(keys.delivery_dead(queue))
    ids, total = await pipe.execute()
    raws = await ctx.redis.hmget(keys.delivery_jobs(queue), ids) if ids else []  # type: ignore[misc]
    return [Delivery.from_dict(json.loads(raw)).summary() for raw in raws if raw], int(total)
