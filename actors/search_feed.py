"""What the search index needs of the catalog, and how catalog events turn into index changes.

The index is derived state: every change re-reads the product's committed state from Redis (the product JSON,
its variants' stock, its category path, its popularity) rather than trusting the event's payload, so applying an
event twice, late, or out of order still leaves the document right. Only the search indexer actor (and the
rebuild CLI when the shop is down) writes the index; both go through `IndexUpdater` (actors/search_updater.py).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis

from actors import keys, reads
from actors.routing import Router
from config import Settings
from domain.catalog import is_listed
from search.documents import product_document

log = logging.getLogger(__name__)

PRODUCT_EVENTS = frozenset({"product.created", "product.updated", "product.price_changed",
                            "product.status_changed"})
# inventory changes that can move a variant's available units across zero
STOCK_EVENTS = frozenset({"inventory.created", "inventory.adjusted", "inventory.reserved", "inventory.committed",
                          "inventory.released", "inventory.expired", "inventory.shipped"})
Entry = tuple[str, dict[str, str] | None]  # a stream entry: (entry id, fields); fields None once trimmed


@dataclass
class Touched:
    """What a batch of events asks of the index."""

    products: set[str] = field(default_factory=set)  # re-read and upsert (or delete when not active)
    stock_variants: set[str] = field(default_factory=set)  # re-check the product's in-stock state
    ordered: dict[str, int] = field(default_factory=dict)  # variant_id -> units ordered (popularity)
    order_entries: list[str] = field(default_factory=list)  # ids of the entries that only count popularity
    categories: bool = False  # a category was created: refresh the tree

    def __bool__(self) -> bool:
        return bool(self.products or self.stock_variants or self.ordered or self.categories)


def touched(entries: Iterable[Entry]) -> Touched:
    """The index work of a batch of stream entries; other event types (and unreadable entries) ask nothing."""
    work = Touched()
    for entry_id, fields in entries:
        kind = (fields or {}).get("type", "")
        if not (kind in PRODUCT_EVENTS or kind in STOCK_EVENTS or kind in ("order.created", "category.created")):
            continue
        try:
            data = json.loads((fields or {}).get("data") or "{}")
        except ValueError:
            log.warning("skipping event %s: its data is not JSON", entry_id)
            continue
        if kind in PRODUCT_EVENTS:
            work.products.add(str(data.get("product_id")))
        elif kind == "order.created":
            for item in data.get("items") or []:
                work.ordered[item["variant_id"]] = work.ordered.get(item["variant_id"], 0) + int(item["quantity"])
            work.order_entries.append(entry_id)
        elif kind == "category.created":
            work.categories = True
        elif "variant_id" in data:
            work.stock_variants.add(data["variant_id"])
        else:
            work.stock_variants.update(data.get("lines") or {})
    return work


@dataclass
class Documents:
    upserts: list[dict[str, Any]] = field(default_factory=list)
    deletes: list[str] = field(default_factory=list)
    in_stock: dict[str, bool] = field(default_factory=dict)  # product_id -> any variant available


class CatalogFeed:
    """Committed catalog state, read from Redis (async client) in batches."""

    def __init__(self, settings: Settings, redis: aioredis.Redis) -> None:
        self.redis = redis
        self.router = Router(settings)  # `group` only: stock reads hash variants to their shards, no Ray calls
        self._categories: dict[str, tuple[str, str | None]] = {}  # id -> (name, parent id)

    async def refresh_categories(self) -> None:
        raw = await self.redis.hgetall(keys.CATEGORIES)  # type: ignore[misc]
        self._categories = {cid: (c["name"], c.get("parent_id")) for cid, c in
                            ((cid, json.loads(value)) for cid, value in raw.items())}

    async def category_path(self, category_id: str) -> tuple[list[str], list[str]]:
        """The ids of the category and its ancestors, nearest first, and their names."""
        if category_id not in self._categories:
            await self.refresh_categories()
        ids: list[str] = []
        current: str | None = category_id
        while current is not None and current in self._categories and current not in ids:
            ids.append(current)
            current = self._categories[current][1]
        return ids, [self._categories[cid][0] for cid in ids]

    async def products_of(self, variant_ids: Iterable[str]) -> dict[str, str]:
        """variant_id -> product_id, for the variants the catalog knows."""
        ids = list(dict.fromkeys(variant_ids))
        if not ids:
            return {}
        owners = await self.redis.hmget(keys.VARIANTS, ids)  # type: ignore[misc]
        return {v: p for v, p in zip(ids, owners, strict=True) if p is not None}

    async def available(self, variant_ids: Iterable[str]) -> dict[str, int]:
        """variant_id -> units available now (never below 0), for the variants that have a stock record."""
        levels = await reads.stock_levels(self, variant_ids)
        return {variant_id: max(0, int(level["available"])) for variant_id, level in levels.items()}

    async def count_orders(self, ordered: dict[str, int]) -> set[str]:
        """Add ordered units to each product's popularity; returns the products whose popularity moved.
        Delivery is at least once, so a crash between this and the acknowledgement may count an order twice:
        popularity is a ranking signal, not a ledger."""
        owners = await self.products_of(ordered)
        units: dict[str, int] = {}
        for variant_id, product_id in owners.items():
            units[product_id] = units.get(product_id, 0) + ordered[variant_id]
        if units:
            pipe = self.redis.pipeline(transaction=False)
            for product_id, count in units.items():
                pipe.hincrby(keys.SEARCH_POPULARITY, product_id, count)
            await pipe.execute()
        return set(units)

    async def documents(self, product_ids: Iterable[str]) -> Documents:
        return await self.documents_of(await reads.products(self, product_ids))

    async def documents_of(self, products: dict[str, dict[str, Any]]) -> Documents:
        """The index documents of these products (their JSON as stored), deletions for those not active."""
        out = Documents()
        ids = list(products)
        if not ids:
            return out
        levels = await reads.stock_levels(self, (v["id"] for p in products.values() for v in p["variants"]))
        popularity = await self.redis.hmget(keys.SEARCH_POPULARITY, ids)  # type: ignore[misc]
        for (product_id, product), units in zip(products.items(), popularity, strict=True):
            available = {v["id"]: max(0, levels.get(v["id"], {}).get("available", 0)) for v in product["variants"]}
            out.in_stock[product_id] = any(n > 0 for n in available.values())
            if not is_listed(product):  # not active, or its seller is suspended
                out.deletes.append(product_id)
                continue
            try:
                path, names = await self.category_path(product["category_id"])
                out.upserts.append(product_document(product, available, path, int(units or 0), names))
            except Exception:  # one malformed product must not stop the index for everyone
                log.exception("cannot index product %s", product_id)
        return out

    async def pages(self, size: int) -> AsyncIterator[dict[str, dict[str, Any]]]:
        """Every stored product, `size` at a time (HSCAN: a change during the scan may be seen twice)."""
        page: dict[str, dict[str, Any]] = {}
        async for product_id, raw in self.redis.hscan_iter(keys.PRODUCTS, count=size):
            page[product_id] = json.loads(raw)
            if len(page) >= size:
                yield page
                page = {}
        if page:
            yield page
