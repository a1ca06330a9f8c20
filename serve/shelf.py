"""What the recommendation routes read per request, with this replica's short-lived copies of what changes rarely,
so that a warm request is one Redis round trip (one script) (benchmarks/README.md, "Recommendations through HTTP").

- Products (parsed, each variant's inventory shard worked out) are kept `PRODUCT_SECONDS`: a product deactivated
  or edited shows its new state within that time. Missing and expired ones are read with HMGET, the fresh ones the
  cache has are not. An expired product's stock is read in the same round trip with the variants it had (they
  rarely change), so only a product never seen, or one whose variants changed, costs a second round trip; an
  unchanged product is not parsed again.
- Stock is never kept: every request reads each candidate variant's level (one HMGET per inventory shard).
- A shopper's order ids are read on every request (ZREVRANGE); only what an order holds is kept, per order id,
  `ORDER_SECONDS`. An order placed a moment ago is a new id, so it is read at once and its products are never
  shown again; a cancelled order's products come back within `ORDER_SECONDS` (only ever hiding too much).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import orjson

from actors import keys, reads
from actors.routing import shard_of
from domain.revocation import refuse_if_revoked
from serve import sessions
from serve.context import Context
from serve.tokens import AccessToken

PRODUCT_SECONDS = 2.0
ORDER_SECONDS = 30.0
# The warm request's one round trip, as one script rather than a pipeline of five or so commands (redis-py packing
# them was most of the route's own CPU). KEYS: the token's revocation keys (ARGV[1] of them), the shopper's order
# index (when ARGV[2] is 1), the products hash, then one stock hash per inventory shard; ARGV[3]: orders to read;
# ARGV[4]: how many product ids follow; then per stock hash its count of variant ids and the ids. Returns, in that
# order, what MGET, ZREVRANGE, HMGET (products, only when ids were given) and each HMGET of stock answer.
READ_SCRIPT = """
local nrev, orders_read, nfields = tonumber(ARGV[1]), tonumber(ARGV[3]), tonumber(ARGV[4])
local out, k = {}, 1
if nrev > 0 then
  out[#out + 1] = redis.call('MGET', unpack(KEYS, 1, nrev))
  k = nrev + 1
end
if ARGV[2] == '1' then
  out[#out + 1] = redis.call('ZREVRANGE', KEYS[k], 0, orders_read - 1)
  k = k + 1
end
local a = 5
if nfields > 0 then out[#out + 1] = redis.call('HMGET', KEYS[k], unpack(ARGV, a, a + nfields - 1)) end
k, a = k + 1, a + nfields
while k <= #KEYS do
  local n = tonumber(ARGV[a])
  out[#out + 1] = redis.call('HMGET', KEYS[k], unpack(ARGV, a + 1, a + n))
  k, a = k + 1, a + n + 1
end
return out
"""
MAX_ENTRIES = 100_000  # either cache is emptied when it grows past this (a replica's memory stays bounded)
ORDERS_READ = 100  # the shopper's latest orders that count as "already bought"


@dataclass(frozen=True)
class Entry:
    product: dict[str, Any]  # as stored, without `available`
    stock: tuple[tuple[str, int], ...]  # (variant id, inventory shard)
    raw: str  # what Redis held, to see an unchanged product without parsing it

    def available(self, levels: dict[str, int]) -> bool:
        return any(levels.get(variant_id, 0) > 0 for variant_id, _ in self.stock)

    def shown(self, levels: dict[str, int], link: str) -> dict[str, Any]:
        """The product as the routes answer it: each variant with its `available` units, and the `link`."""
        product = self.product
        return {**product, "variants": [{**v, "available": levels.get(v["id"], 0)} for v in product["variants"]],
                "link": link}


class Shelf:
    """One per replica (Context.shelf)."""

    def __init__(self) -> None:
        self.products: dict[str, Entry | None] = {}  # None: not in the catalog (kept as long)
        self.product_at: dict[str, float] = {}
        self.orders: dict[str, tuple[frozenset[str], float]] = {}  # order id -> products bought (none: cancelled)
        self._read_script: Any = None

    def _script(self, ctx: Context) -> Any:
        if self._read_script is None:
            self._read_script = ctx.redis.register_script(READ_SCRIPT)
        return self._read_script

    async def read(self, ctx: Context, product_ids: list[str], user_id: str | None, fresh: str | None = None,
                   token: AccessToken | None = None
                   ) -> tuple[dict[str, Entry], dict[str, int], set[str], dict[str, Any] | None]:
        """The candidates that exist, the available units of their variants, the products of the shopper's latest
        orders that were not cancelled, and `fresh`, a product read from Redis now (not from the cache).
        Unauthorized when `token` (signed, not checked for revocation yet) was revoked."""
        now = time.monotonic()
        known = {p: self.products[p] for p in product_ids if p in self.products}
        cached = {p: e for p, e in known.items() if now - self.product_at[p] < PRODUCT_SECONDS}
        stale = [e for p, e in known.items() if p not in cached and e is not None]
        misses = [p for p in product_ids if p not in cached]
        fields = [*misses, *([fresh] if fresh is not None else [])]
        shards = _stock_to_read([*(e for e in cached.values() if e is not None), *stale])
        revocation = sessions.revocation_of(token) if token is not None else None
        revocation_keys = revocation.keys if revocation is not None else []
        first = await self._script(ctx)(
            keys=[*revocation_keys, *([keys.user_orders(user_id)] if user_id is not None else []), keys.PRODUCTS,
                  *(keys.inventory_stock(shard) for shard in shards)],
            args=[len(revocation_keys), int(user_id is not None), ORDERS_READ, len(fields), *fields,
                  *(arg for variant_ids in shards.values() for arg in (len(variant_ids), *variant_ids))])
        replies = iter(first)
        if revocation is not None:
            refuse_if_revoked(next(replies), revocation.generation)
        order_ids: list[str] = next(replies) if user_id is not None else []
        raw_products: list[str | None] = next(replies) if fields else []
        levels = reads.units_for_sale(shards, replies)
        fresh_product = None
        if fresh is not None:
            raw = raw_products.pop()
            fresh_product = None if raw is None else orjson.loads(raw)
        before = {e.product["id"]: e.stock for e in stale}
        read_now = [self._remember(ctx, p, raw, now) for p, raw in zip(misses, raw_products, strict=True)]
        entries = [e for e in (*cached.values(), *read_now) if e is not None]
        new_entries = [e for e in read_now if e is not None and before.get(e.product["id"]) != e.stock]
        bought: set[str] = set()
        unknown = []
        for order_id in order_ids:
            held = self.orders.get(order_id)
            if held is not None and now - held[1] < ORDER_SECONDS:
                bought |= held[0]
            else:
                unknown.append(order_id)
        if unknown or new_entries:  # a second round trip: only after a miss
            pipe = ctx.redis.pipeline(transaction=False)
            if unknown:
                pipe.mget([keys.order(o) for o in unknown])
            more = _queue_stock(pipe, new_entries)
            rest = iter(await pipe.execute())
            if unknown:
                bought |= self._learn_orders(unknown, next(rest), now)
            levels.update(reads.units_for_sale(more, rest))
        found = {e.product["id"]: e for e in entries}
        return found, levels, bought, fresh_product

    def _remember(self, ctx: Context, product_id: str, raw: str | None, now: float) -> Entry | None:
        if len(self.products) > MAX_ENTRIES:
            self.products.clear()
            self.product_at.clear()
        entry = self.products.get(product_id)
        if raw is None:
            entry = None
        elif entry is None or entry.raw != raw:
            product = orjson.loads(raw)
            entry = Entry(product, tuple((v["id"], shard_of(ctx.settings, "inventory", v["id"]))
                                         for v in product["variants"]), raw)
        self.products[product_id] = entry
        self.product_at[product_id] = now
        return entry

    def _learn_orders(self, order_ids: list[str], raws: list[str | None], now: float) -> set[str]:
        """Remembers what these orders hold; returns all of it."""
        if len(self.orders) > MAX_ENTRIES:
            self.orders.clear()
        bought: set[str] = set()
        for order_id, raw in zip(order_ids, raws, strict=True):
            placed = orjson.loads(raw) if raw else None
            held: frozenset[str] = frozenset() if placed is None or placed["status"] == "cancelled" else frozenset(
                line["product_id"] for line in placed["items"])
            self.orders[order_id] = (held, now)
            bought |= held
        return bought


def _stock_to_read(entries: list[Entry]) -> dict[int, list[str]]:
    shards: dict[int, list[str]] = {}
    for entry in entries:
        for variant_id, shard in entry.stock:
            shards.setdefault(shard, []).append(variant_id)
    return shards


def _queue_stock(pipe: Any, entries: list[Entry]) -> dict[int, list[str]]:
    shards = _stock_to_read(entries)
    for shard, variant_ids in shards.items():
        pipe.hmget(keys.inventory_stock(shard), variant_ids)
    return shards
