"""What the recommendation routes show: candidates from this replica's in-memory store (recsys/serving.py), then
only what a shopper can buy and does not have yet.

Candidates are the shopper's own list (or the product's related list), then the popular ones; with no model
published yet, the popular in-stock products of the search index. They are checked a window at a time against the
read model, products and stock in one go (with the shopper's orders beside the first window): a product is shown
only when it is active, has a variant with units available, and is not in one of the shopper's orders.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from actors import reads
from domain.search import PAGE_SIZE_MAX
from recsys.store import Store
from serve.context import Context

WINDOW_EXTRA = 10  # candidates checked beyond twice the limit, for the ones filtered out


async def for_shopper(ctx: Context, user_id: str, limit: int) -> list[dict[str, Any]]:
    """"For you": the shopper's candidates, popular ones when the model does not know them."""
    store = await ctx.recommendations.current()
    ranked = [*store.users.get(user_id, ()), *store.popular] if store else await popular_in_search(ctx, limit)
    return await shown(ctx, ranked, limit, user_id, set(), "recommendation")


async def related_to(ctx: Context, product_id: str, user_id: str | None, limit: int) -> list[dict[str, Any]]:
    """"Customers also bought": the product's related ones, then popular ones; never the product itself."""
    store: Store | None = await ctx.recommendations.current()
    ranked = [*store.related.get(product_id, ()), *store.popular] if store else await popular_in_search(ctx, limit)
    return await shown(ctx, ranked, limit, user_id, {product_id}, "related")


async def shown(ctx: Context, ranked: Iterable[str], limit: int, user_id: str | None, excluded: set[str],
                ref: str) -> list[dict[str, Any]]:
    candidates = [p for p in dict.fromkeys(ranked) if p not in excluded]
    window = 2 * limit + WINDOW_EXTRA
    bought: set[str] | None = None if user_id else set()
    chosen: list[dict[str, Any]] = []
    for start in range(0, len(candidates), window):
        batch = candidates[start:start + window]
        if bought is None:
            found, bought = await asyncio.gather(reads.products(ctx, batch),
                                                 reads.bought_products(ctx, user_id or ""))
        else:
            found = await reads.products(ctx, batch)
        products = [found[p] for p in batch if p in found and p not in bought and found[p].get("status") == "active"]
        levels = await reads.stock_levels(ctx, [v["id"] for p in products for v in p["variants"]])
        for product in products:
            for variant in product["variants"]:
                variant["available"] = max(0, levels.get(variant["id"], {}).get("available", 0))
            if any(variant["available"] > 0 for variant in product["variants"]):
                chosen.append({**product, "link": f"/v1/products/{product['id']}?ref={ref}"})
                if len(chosen) == limit:
                    return chosen
    return chosen


async def popular_in_search(ctx: Context, limit: int) -> list[str]:
    """Before any model is published: the search index's most ordered products in stock."""
    try:
        return await ctx.search.popular(min(2 * limit + WINDOW_EXTRA, PAGE_SIZE_MAX))
    except (OSError, ValueError):  # no search index in this store yet
        return []
