"""What the recommendation routes show: candidates from this replica's in-memory store (recsys/serving.py), then
only what a shopper can buy and does not have yet.

Candidates are the shopper's own list (or the product's related list), then the popular ones; with no model
published yet, the popular in-stock products of the search index. They are checked a window at a time against the
read model (`serve/shelf.py`: the products, kept a moment per replica, their stock and the shopper's orders, read
fresh, in one round trip once warm): a product is shown only when it is active, has a variant with units
available, and is not in one of the shopper's orders.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from domain.catalog import CatalogUser, Product, ensure_visible, is_listed
from domain.search import PAGE_SIZE_MAX
from serve.context import Context
from serve.tokens import AccessToken

WINDOW_EXTRA = 5  # candidates checked beyond the limit and half of it again, for the ones filtered out


async def for_shopper(ctx: Context, token: AccessToken, limit: int) -> list[dict[str, Any]]:
    """"For you": the shopper's candidates, popular ones when the model does not know them. `token`: the shopper's,
    signed; Unauthorized when it was revoked (checked with the first read)."""
    user_id = token.principal.user_id
    store = await ctx.recommendations.current()
    ranked = [*store.for_user(user_id), *store.popular] if store else await popular_in_search(ctx, limit)
    return await shown(ctx, ranked, limit, user_id, "recommendation", token=token)


async def related_to(ctx: Context, product_id: str, user: CatalogUser | None, user_id: str | None, limit: int
                     ) -> list[dict[str, Any]]:
    """"Customers also bought": the product's related ones, then popular ones; never the product itself. NotFound
    when the product is unknown or hidden from `user`."""
    store = await ctx.recommendations.current()
    ranked = [*store.related(product_id), *store.popular] if store else await popular_in_search(ctx, limit)
    return await shown(ctx, ranked, limit, user_id, "related", subject=(product_id, user))


async def shown(ctx: Context, ranked: Iterable[str], limit: int, user_id: str | None, ref: str,
                subject: tuple[str, CatalogUser | None] | None = None, token: AccessToken | None = None
                ) -> list[dict[str, Any]]:
    """The first `limit` of `ranked` that pass the filters. `subject`: the product a related list is about (read
    fresh with the first window, checked visible to its caller, never shown)."""
    candidates = [p for p in dict.fromkeys(ranked) if subject is None or p != subject[0]]
    window = limit + limit // 2 + WINDOW_EXTRA
    chosen: list[dict[str, Any]] = []
    bought: set[str] = set()
    for start in range(0, max(len(candidates), 1), window):
        batch = candidates[start:start + window]
        first = start == 0
        found, levels, orders, stored = await ctx.shelf.read(ctx, batch, user_id if first else None,
                                                             subject[0] if first and subject else None,
                                                             token if first else None)
        if first and subject is not None:
            ensure_visible(None if stored is None else Product.from_dict(stored), subject[0], subject[1])
        bought |= orders
        for product_id in batch:
            entry = found.get(product_id)
            if (entry is None or product_id in bought or not is_listed(entry.product)
                    or not entry.available(levels)):
                continue
            chosen.append(entry.shown(levels, f"/v1/products/{product_id}?ref={ref}"))
            if len(chosen) == limit:
                return chosen
    return chosen


async def popular_in_search(ctx: Context, limit: int) -> list[str]:
    """Before any model is published: the search index's most ordered products in stock."""
    try:
        return await ctx.search.popular(min(limit + limit // 2 + WINDOW_EXTRA, PAGE_SIZE_MAX))
    except (OSError, ValueError):  # no search index in this store yet
        return []
