"""Cart use cases for the HTTP layer: show a cart with fresh prices and stock, and change it."""

from __future__ import annotations

import json
from typing import Any

from actors import keys
from actors.reads import stock_levels, variant_offers
from domain.carts import Cart
from domain.errors import NotFound
from serve.context import Context


async def load_cart(ctx: Context, user_id: str) -> Cart:
    raw = await ctx.redis.hget(keys.carts(ctx.router.shard("carts", user_id)), user_id)
    return Cart.from_dict(json.loads(raw)) if raw else Cart(user_id)


def cart_owner(ctx: Context, user_id: str) -> Any:
    return ctx.router.owner("carts", user_id)


async def view(ctx: Context, cart: Cart) -> dict[str, Any]:
    """The contract's cart: each line priced now, with the stock available now."""
    lines = list(cart.lines.values())
    offers = await variant_offers(ctx, ((line.product_id, line.variant_id) for line in lines))
    levels = await stock_levels(ctx, (line.variant_id for line in lines))
    items = []
    for line in lines:
        offer = offers.get(line.variant_id)
        on_sale = offer is not None and offer["status"] == "active"
        unit_price = offer["unit_price"] if offer else 0
        items.append({
            "product_id": line.product_id, "variant_id": line.variant_id,
            "name": offer["name"] if offer else None, "quantity": line.quantity, "unit_price": unit_price,
            "line_total": unit_price * line.quantity,
            "available": levels.get(line.variant_id, {}).get("available", 0) if on_sale else 0,
            "image": offer["image"] if offer else None,
        })
    return {"cart": {"items": items, "subtotal": sum(i["line_total"] for i in items),
                     "currency": ctx.settings.currency, "updated_at": cart.updated_at or None}}


async def purchasable(ctx: Context, product_id: str, variant_id: str) -> int:
    """Stock available for a variant a shopper may buy now; 404 when there is no such active variant."""
    offer = (await variant_offers(ctx, [(product_id, variant_id)])).get(variant_id)
    if offer is None or offer["status"] != "active":
        raise NotFound("product_not_found", "No such product variant on sale",
                       {"product_id": product_id, "variant_id": variant_id})
    level = (await stock_levels(ctx, [variant_id])).get(variant_id)
    return int(level["available"]) if level else 0
