"""Reads of committed state straight from Redis. Actors write before they reply, so what is here is what was
acknowledged; writes never take this path."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from typing import Any

from actors import keys
from serve.context import Context


async def stock_levels(ctx: Context, variant_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """variant_id -> {"on_hand", "reserved", "committed", "available", ...}; unknown variants are absent."""
    groups = ctx.router.group("inventory", variant_ids)
    shards = list(groups)
    replies = await asyncio.gather(*(ctx.redis.hmget(keys.inventory_stock(s), groups[s]) for s in shards))
    levels: dict[str, dict[str, Any]] = {}
    for shard, raws in zip(shards, replies, strict=True):
        for variant_id, raw in zip(groups[shard], raws, strict=True):
            if raw is not None:
                level = json.loads(raw)
                level["available"] = level["on_hand"] - level["reserved"] - level["committed"]
                levels[variant_id] = level
    return levels


async def products(ctx: Context, product_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    ids = list(dict.fromkeys(product_ids))
    if not ids:
        return {}
    raws = await ctx.redis.hmget(keys.PRODUCTS, ids)
    return {pid: json.loads(raw) for pid, raw in zip(ids, raws, strict=True) if raw is not None}
