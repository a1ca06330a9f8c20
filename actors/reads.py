"""Reads of committed state straight from Redis. Actors write before they reply, so what is here is what was
acknowledged; writes never take this path. Used by Serve routes and by actors that orchestrate (checkout)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from typing import Any, Protocol

import redis.asyncio as aioredis

from actors import keys
from actors.routing import Router


class Context(Protocol):
    """Anything with an async Redis client and a router (Serve's Context, or an actor's own)."""

    @property
    def redis(self) -> aioredis.Redis: ...

    @property
    def router(self) -> Router: ...


async def stock_levels(ctx: Context, variant_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """variant_id -> {"on_hand", "reserved", "committed", "available", ...}; unknown variants are absent."""
    groups = ctx.router.group("inventory", variant_ids)
    shards = list(groups)
    replies = await asyncio.gather(*(ctx.redis.hmget(keys.inventory_stock(s), groups[s]) for s in shards))  # type: ignore[arg-type]
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
    raws = await ctx.redis.hmget(keys.PRODUCTS, ids)  # type: ignore[misc]
    return {pid: json.loads(raw) for pid, raw in zip(ids, raws, strict=True) if raw is not None}


async def variant_offers(ctx: Context, wanted: Iterable[tuple[str, str]]) -> dict[str, dict[str, Any]]:
    """(product_id, variant_id) pairs -> what a cart or checkout needs of each variant that still exists:
    product_id, name, status, seller_id, price, sale_price, unit_price, currency, image."""
    from domain.catalog import Product

    pairs = list(wanted)
    found = await products(ctx, (pid for pid, _ in pairs))
    offers: dict[str, dict[str, Any]] = {}
    for product_id, variant_id in pairs:
        raw = found.get(product_id)
        if raw is None:
            continue
        product = Product.from_dict(raw)
        variant = next((v for v in product.variants if v.id == variant_id), None)
        if variant is None:
            continue
        offers[variant_id] = {
            "product_id": product.id, "variant_id": variant.id, "name": product.name, "status": product.status,
            "seller_id": product.seller_id, "sku": variant.sku, "price": variant.price,
            "sale_price": variant.sale_price, "unit_price": variant.unit_price, "currency": variant.currency,
            "image": variant.images[0] if variant.images else None,
        }
    return offers
