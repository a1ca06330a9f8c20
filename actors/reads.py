"""The read model: every read of committed state, straight from Redis, in one module that routes and actors share.
Actors write before they reply, so what is here is what was acknowledged; writes never take this path (they go
through the owning actor). Routes read through these functions and never touch Redis keys themselves.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
import redis.asyncio as aioredis

from actors import keys
from actors.routing import Router, shard_count
from actors.store import Reads
from domain.carts import Cart
from domain.catalog import Offer
from domain.fraud_features import ShopperHistory
from domain.orders import Order, OrderLine
from domain.revocation import Revocation, refuse_if_revoked
from domain.serial import decode
from domain.users import User, email_key


class Context(Protocol):
    """Anything with an async Redis client and a router (Serve's Context, or an actor's own)."""

    @property
    def redis(self) -> aioredis.Redis: ...

    @property
    def router(self) -> Router: ...


# -- stock and catalog ---------------------------------------------------------------------------------------
async def stock_levels(ctx: Context, variant_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """variant_id -> {"on_hand", "reserved", "committed", "available", ...}; unknown variants are absent."""
    groups = ctx.router.group("inventory", variant_ids)
    shards = list(groups)
    replies = await asyncio.gather(*(ctx.redis.hmget(keys.inventory_stock(s), groups[s]) for s in shards))  # type: ignore[arg-type]
    levels: dict[str, dict[str, Any]] = {}
    for shard, raws in zip(shards, replies, strict=True):
        for variant_id, raw in zip(groups[shard], raws, strict=True):
            if raw is not None:
                levels[variant_id] = _level(raw)
    return levels


def _level(raw: str) -> dict[str, Any]:
    level: dict[str, Any] = orjson.loads(raw)
    level["available"] = level["on_hand"] - level["reserved"] - level["committed"]
    return level


def units_for_sale(groups: dict[int, list[str]], replies: Iterator[Any]) -> dict[str, int]:
    """variant_id -> units for sale (never below 0; 0 for a variant with no stock record), from the next reply of
    one HMGET per inventory shard, in the order of `groups` (shard -> its variant ids)."""
    available: dict[str, int] = {}
    for variant_ids in groups.values():
        for variant_id, raw in zip(variant_ids, next(replies), strict=True):
            available[variant_id] = max(0, _level(raw)["available"]) if raw is not None else 0
    return available


async def products(ctx: Context, product_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    ids = list(dict.fromkeys(product_ids))
    if not ids:
        return {}
    raws = await ctx.redis.hmget(keys.PRODUCTS, ids)  # type: ignore[misc]
    return {pid: json.loads(raw) for pid, raw in zip(ids, raws, strict=True) if raw is not None}


async def offers(ctx: Context, wanted: Iterable[tuple[str, str]]) -> dict[str, Offer]:
    """(product_id, variant_id) pairs -> the offer of each variant that still exists (on sale or not)."""
    pairs = list(wanted)
    found = await products(ctx, (pid for pid, _ in pairs))
    result: dict[str, Offer] = {}
    for product_id, variant_id in pairs:
        offer = Offer.find(found[product_id], variant_id) if product_id in found else None
        if offer is not None:
            result[variant_id] = offer
    return result


async def offers_and_stock(ctx: Context, wanted: Iterable[tuple[str, str]], revocation: Revocation | None = None
                           ) -> tuple[dict[str, Offer], dict[str, int]]:
    """The offers and each variant's available units, in one round trip to Redis. `revocation`: the caller's access
    token, refused (401 `token_revoked`) in the same round trip before anything read is looked at."""
    pipe = Reads(ctx.redis)
    check = _queue_revocation(pipe, revocation)
    parse = _queue_offers_and_stock(pipe, ctx.router, list(wanted))
    replies = iter(await pipe.execute())
    check(replies)
    return parse(replies)


def _queue_revocation(pipe: Reads, revocation: Revocation | None) -> Callable[[Iterator[Any]], None]:
    """Queue the token's revocation keys (first, so they are checked before anything else read is looked at); the
    function returned raises 401 `token_revoked` from their reply. No token: nothing queued, nothing checked."""
    if revocation is None:
        return lambda replies: None
    pipe.mget(revocation.keys)
    return lambda replies: refuse_if_revoked(next(replies), revocation.generation)


def _queue_offers_and_stock(pipe: Reads, router: Router, pairs: list[tuple[str, str]]
                            ) -> Callable[[Iterator[Any]], tuple[dict[str, Offer], dict[str, int]]]:
    """Queue the reads on `pipe`; the function returned takes their replies from the pipeline's."""
    product_ids = list(dict.fromkeys(pid for pid, _ in pairs))
    groups = router.group("inventory", (v for _, v in pairs))
    if product_ids:
        pipe.hmget(keys.PRODUCTS, product_ids)
    for shard, variant_ids in groups.items():
        pipe.hmget(keys.inventory_stock(shard), variant_ids)

    def parse(replies: Iterator[Any]) -> tuple[dict[str, Offer], dict[str, int]]:
        raws = next(replies) if product_ids else []
        found = {pid: json.loads(raw) for pid, raw in zip(product_ids, raws, strict=True) if raw is not None}
        offers: dict[str, Offer] = {}
        for product_id, variant_id in pairs:
            offer = Offer.find(found[product_id], variant_id) if product_id in found else None
            if offer is not None:
                offers[variant_id] = offer
        return offers, units_for_sale(groups, replies)

    return parse


async def product_of_variant(ctx: Context, variant_id: str) -> dict[str, Any] | None:
    product_id = await ctx.redis.hget(keys.VARIANTS, variant_id)  # type: ignore[misc]
    return (await products(ctx, [product_id])).get(product_id) if product_id else None


# -- what watches the stock: rules, purchase orders, low-stock alerts, history (domain/stock_watch.py) -----------
async def stock_watches(ctx: Context, variant_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """variant_id -> its watch (seller, reorder quantity, supplier, open purchase order); unknown ones are absent."""
    return await _per_shard(ctx, keys.inventory_watches, variant_ids)


async def purchase_orders_by_id(ctx: Context, order_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Purchase orders by id (an order id hashes to its variant's inventory shard); unknown ones are absent."""
    return await _per_shard(ctx, keys.purchase_orders, order_ids)


async def _per_shard(ctx: Context, table: Callable[[int], str], ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    groups = ctx.router.group("inventory", ids)
    pipe = ctx.redis.pipeline(transaction=False)
    for shard, members in groups.items():
        pipe.hmget(table(shard), members)
    found: dict[str, dict[str, Any]] = {}
    for members, raws in zip(groups.values(), await pipe.execute(), strict=True):
        found.update({m: orjson.loads(raw) for m, raw in zip(members, raws, strict=True) if raw is not None})
    return found


async def purchase_orders(ctx: Context) -> list[dict[str, Any]]:
    """Every purchase order of every inventory shard."""
    return await _all_shards(ctx, keys.purchase_orders)


async def low_stock_alerts(ctx: Context) -> list[dict[str, Any]]:
    """Every open low-stock alert."""
    return await _all_shards(ctx, keys.low_stock_alerts)


async def _all_shards(ctx: Context, table: Callable[[int], str]) -> list[dict[str, Any]]:
    pipe = ctx.redis.pipeline(transaction=False)
    for shard in range(shard_count(ctx.router.settings, "inventory")):
        pipe.hvals(table(shard))
    return [orjson.loads(raw) for raws in await pipe.execute() for raw in raws]


async def stock_history(ctx: Context, variant_id: str, limit: int) -> list[dict[str, Any]]:
    """The variant's latest `limit` stock changes, newest first."""
    return [orjson.loads(raw) for raw in await ctx.redis.zrevrange(keys.stock_history(variant_id), 0, limit - 1)]


# -- shoppers: carts and orders ------------------------------------------------------------------------------
async def cart(ctx: Context, user_id: str) -> Cart:
    raw = await ctx.redis.hget(keys.carts(ctx.router.shard("shoppers", user_id)), user_id)  # type: ignore[misc]
    return Cart.from_dict(json.loads(raw)) if raw else Cart(user_id)


async def order(ctx: Context, order_id: str) -> Order | None:
    raw = await ctx.redis.get(keys.order(order_id))
    return None if raw is None else Order.from_dict(json.loads(raw))


async def orders_page(ctx: Context, user_id: str | None, page: int, page_size: int, held: bool = False
                      ) -> tuple[list[Order], int]:
    """A page of a shopper's orders (every order when `user_id` is None; only those held for review with `held`),
    newest first, and how many there are."""
    index = keys.HELD_ORDERS if held else keys.ORDERS_BY_TIME if user_id is None else keys.user_orders(user_id)
    start = (page - 1) * page_size
    pipe = ctx.redis.pipeline(transaction=False)
    pipe.zrevrange(index, start, start + page_size - 1)
    pipe.zcard(index)
    ids, total = await pipe.execute()
    return await orders_by_id(ctx, ids), int(total)


# what a shopper has received: the one place that says so, for reviews (verified purchase) and seller ratings
RECEIVED = frozenset({"delivered", "return_requested", "returned", "refunded"})  # statuses after delivery


def received_lines(order: Order) -> list[OrderLine]:
    """The lines of an order that reached its shopper: those with delivered units (their seller's parcel was
    delivered, docs/api-fulfilment.md), or every line of a delivered order placed before orders had fulfilments."""
    legacy = not order.fulfilments and order.status in RECEIVED
    return [line for line in order.items if line.delivered > 0 or legacy]


async def delivered_purchase(ctx: Context, user_id: str, product_id: str) -> OrderLine | None:
    """A line of the product that the shopper bought and received (the newest), or None: a verified purchase."""
    orders = await shopper_orders(ctx, user_id)
    return next((line for order in orders for line in received_lines(order) if line.product_id == product_id), None)


async def delivered_line(ctx: Context, user_id: str, order_id: str, variant_id: str) -> OrderLine | None:
    """The line of the shopper's order with that variant, if the shopper received it."""
    found = await order(ctx, order_id)
    if found is None or found.user_id != user_id:
        return None
    return next((line for line in received_lines(found) if line.variant_id == variant_id), None)


async def shopper_orders(ctx: Context, user_id: str) -> list[Order]:
    """Every order of the shopper, newest first."""
    ids = await ctx.redis.zrevrange(keys.user_orders(user_id), 0, -1)
    raws = await ctx.redis.mget([keys.order(i) for i in ids]) if ids else []
    return [Order.from_dict(json.loads(raw)) for raw in raws if raw]


# -- users and sellers ---------------------------------------------------------------------------------------
async def user(ctx: Context, user_id: str) -> User | None:
    raw = await ctx.redis.hget(keys.users(ctx.router.shard("users", user_id)), user_id)  # type: ignore[misc]
    return None if raw is None else User.from_dict(json.loads(raw))


async def users(ctx: Context, user_ids: Iterable[str]) -> dict[str, User]:
    """user_id -> User for those that exist, one HMGET per user shard."""
    groups = ctx.router.group("users", user_ids)
    shards = list(groups)
    replies = await asyncio.gather(*(ctx.redis.hmget(keys.users(s), groups[s]) for s in shards))  # type: ignore[arg-type]
    return {user_id: User.from_dict(json.loads(raw)) for shard, raws in zip(shards, replies, strict=True)
            for user_id, raw in zip(groups[shard], raws, strict=True) if raw}


async def user_by_email(ctx: Context, email: str) -> User | None:
    user_id = await ctx.redis.hget(keys.USER_EMAILS, email_key(email))  # type: ignore[misc]
    return None if user_id is None else await user(ctx, user_id)


async def seller(ctx: Context, seller_id: str) -> dict[str, Any] | None:
    raw = await ctx.redis.hget(keys.SELLERS, seller_id)  # type: ignore[misc]
    return None if raw is None else json.loads(raw)


async def sellers(ctx: Context) -> list[dict[str, Any]]:
    return [json.loads(raw) async for _, raw in ctx.redis.hscan_iter(keys.SELLERS, count=500)]


# -- a seller's share of orders (docs/api-fulfilment.md) ----------------------------------------------------------
async def seller_ledger(ctx: Context, seller_id: str) -> list[dict[str, Any]]:
    """Every entry of the seller's ledger, oldest first."""
    raws = await ctx.redis.hvals(keys.seller_ledger(seller_id))  # type: ignore[misc]
    return sorted((json.loads(raw) for raw in raws), key=lambda e: (e["at"], e["id"]))


async def seller_page(ctx: Context, index: str, page: int, page_size: int) -> tuple[list[str], int]:
    """A page of ids from one of a seller's indexes (keys.seller_orders, keys.seller_returns), newest first."""
    start = (page - 1) * page_size
    pipe = ctx.redis.pipeline(transaction=False)
    pipe.zrevrange(index, start, start + page_size - 1)
    pipe.zcard(index)
    ids, total = await pipe.execute()
    return list(ids), int(total)


async def orders_by_id(ctx: Context, order_ids: Iterable[str]) -> list[Order]:
    ids = list(order_ids)
    raws = await ctx.redis.mget([keys.order(i) for i in ids]) if ids else []
    return [Order.from_dict(json.loads(raw)) for raw in raws if raw]


# -- what a checkout reads of its shopper ---------------------------------------------------------------------
@dataclass(frozen=True)
class ShopperRecords:
    idempotency: dict[str, Any] | None  # the record of this Idempotency-Key, if it was used before
    user: User | None  # read only when asked for (a saved shipping address, the account's age)
    recent: dict[tuple[str, str], int]  # (velocity kind, subject) -> entries since the window's start
    history: ShopperHistory  # the shopper's earlier orders, as the fraud model sees them


def _queue_shopper_records(pipe: Reads, router: Router, user_id: str, idempotency_key: str, with_user: bool,
                           recent: list[tuple[str, str]], since: float) -> Callable[[Iterator[Any]], ShopperRecords]:
    pipe.get(keys.idempotency(user_id, idempotency_key))
    if with_user:
        pipe.hget(keys.users(router.shard("users", user_id)), user_id)
    for kind, subject in recent:
        pipe.zcount(keys.velocity(kind, subject), since, "+inf")
    pipe.hget(keys.fraud_history(router.shard("shoppers", user_id)), user_id)

    def parse(replies: Iterator[Any]) -> ShopperRecords:
        record = next(replies)
        raw_user = next(replies) if with_user else None
        counts = {subject: int(next(replies)) for subject in recent}
        raw_history = next(replies)
        return ShopperRecords(None if record is None else json.loads(record),
                              None if raw_user is None else User.from_dict(json.loads(raw_user)), counts,
                              ShopperHistory() if raw_history is None else decode(raw_history, ShopperHistory))

    return parse


async def checkout_reads(ctx: Context, user_id: str, idempotency_key: str, wanted: Iterable[tuple[str, str]],
                         with_user: bool, recent: list[tuple[str, str]], since: float,
                         revocation: Revocation | None = None
                         ) -> tuple[dict[str, Offer], dict[str, int], ShopperRecords]:
    """What a checkout reads before it starts, in one round trip: the cart's offers and stock, the key's record,
    the shopper (for a saved address), and the velocity counts (subject -> entries since `since`). `revocation`:
    the caller's access token, refused (401 `token_revoked`) before anything read is looked at."""
    pipe = Reads(ctx.redis)
    check = _queue_revocation(pipe, revocation)
    stock = _queue_offers_and_stock(pipe, ctx.router, list(wanted))
    records = _queue_shopper_records(pipe, ctx.router, user_id, idempotency_key, with_user, recent, since)
    replies = iter(await pipe.execute())
    check(replies)
    offers, available = stock(replies)
    return offers, available, records(replies)


async def refuse_revoked(ctx: Context, revocation: Revocation) -> None:
    refuse_if_revoked(await ctx.redis.mget(revocation.keys), revocation.generation)


async def recent_counts(ctx: Context, subjects: list[tuple[str, str]], since: float) -> dict[tuple[str, str], int]:
    pipe = ctx.redis.pipeline(transaction=False)
    for kind, subject in subjects:
        pipe.zcount(keys.velocity(kind, subject), since, "+inf")
    return {subject: int(count) for subject, count in zip(subjects, await pipe.execute(), strict=True)}
