"""The read model of reviews, seller ratings and the admin audit log (a part of actors/reads.py, kept apart for
size): committed state, straight from Redis."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from actors import keys
from actors.reads import Context
from domain.reviews import Review


async def reviews(ctx: Context, review_ids: list[str]) -> list[Review]:
    """These reviews, in this order; unknown ids are left out."""
    groups = ctx.router.group("reviews", review_ids)
    shards = list(groups)
    replies = await asyncio.gather(*(ctx.redis.hmget(keys.reviews(s), groups[s]) for s in shards))  # type: ignore[arg-type]
    found = {rid: Review.from_dict(json.loads(raw)) for s, raws in zip(shards, replies, strict=True)
             for rid, raw in zip(groups[s], raws, strict=True) if raw is not None}
    return [found[rid] for rid in review_ids if rid in found]


async def review(ctx: Context, review_id: str) -> Review | None:
    found = await reviews(ctx, [review_id])
    return found[0] if found else None


async def product_reviews(ctx: Context, product_id: str) -> list[Review]:
    """Every review of the product, whatever its state."""
    return await reviews(ctx, await ctx.redis.zrange(keys.product_reviews(product_id), 0, -1))


async def user_reviews(ctx: Context, user_id: str) -> list[Review]:
    return await reviews(ctx, await ctx.redis.zrange(keys.user_reviews(user_id), 0, -1))


async def user_votes(ctx: Context, user_id: str) -> list[str]:
    """The reviews the user found helpful."""
    return list(await ctx.redis.zrange(keys.user_votes(user_id), 0, -1))


async def queue_page(ctx: Context, state: str, page: int, page_size: int) -> tuple[list[Review], int]:
    """Held (or rejected) reviews, oldest first: the moderation queue."""
    index = keys.HELD_REVIEWS if state == "held" else keys.REJECTED_REVIEWS
    start = (page - 1) * page_size
    ids = await ctx.redis.zrange(index, start, start + page_size - 1)
    return await reviews(ctx, ids), int(await ctx.redis.zcard(index))


async def seller_ratings(ctx: Context, seller_ids: list[str]) -> dict[str, dict[str, Any]]:
    """seller_id -> {"average", "count"} for the sellers that have been rated."""
    ids = list(dict.fromkeys(seller_ids))
    raws = await ctx.redis.hmget(keys.SELLER_RATING_SUMMARY, ids) if ids else []  # type: ignore[misc]
    return {sid: json.loads(raw) for sid, raw in zip(ids, raws, strict=True) if raw is not None}


async def user_seller_ratings(ctx: Context, user_id: str) -> list[dict[str, Any]]:
    """The seller ratings the user gave: [{"seller_id", "order_id", "variant_id", "rating", "at"}]."""
    members = await ctx.redis.zrange(keys.user_seller_ratings(user_id), 0, -1)
    parsed = [member.split(":", 2) for member in members]
    groups = ctx.router.group("reviews", {seller_id for seller_id, _, _ in parsed})
    records: dict[str, dict[str, Any]] = {}
    for shard, seller_ids in groups.items():
        raws = await ctx.redis.hmget(keys.seller_ratings(shard), seller_ids)  # type: ignore[misc]
        records.update({sid: json.loads(raw) for sid, raw in zip(seller_ids, raws, strict=True) if raw})
    given = []
    for seller_id, order_id, variant_id in parsed:
        line = records.get(seller_id, {}).get("lines", {}).get(f"{order_id}:{variant_id}")
        if line is not None and line["user_id"] == user_id:
            given.append({"seller_id": seller_id, **line})
    return given


async def audit_page(ctx: Context, target_type: str | None, target_id: str | None, admin_id: str | None,
                     page: int, page_size: int) -> tuple[list[dict[str, Any]], int]:
    """Audit log entries, newest first, of one target and/or one admin (every entry when neither is given)."""
    if target_type and target_id:
        index = keys.audit_by_target(target_type, target_id)
    elif admin_id:
        index = keys.audit_by_admin(admin_id)
    else:
        index = keys.AUDIT_BY_TIME
    ids = await ctx.redis.zrevrange(index, 0, -1)
    raws = await ctx.redis.hmget(keys.AUDIT_LOG, ids) if ids else []  # type: ignore[misc]
    entries = [json.loads(raw) for raw in raws if raw]
    entries = [e for e in entries if (admin_id is None or e["admin_id"] == admin_id)
               and (target_type is None or e["target_type"] == target_type)
               and (target_id is None or e["target_id"] == target_id)]
    start = (page - 1) * page_size
    return entries[start:start + page_size], len(entries)
