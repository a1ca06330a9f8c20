"""Cart use cases for the HTTP layer: show a cart with fresh prices and stock, and check what may be added."""

from __future__ import annotations

from typing import Any

from actors import reads
from domain.carts import Cart
from domain.catalog import Offer
from domain.errors import NotFound
from serve import sessions
from serve.context import Context
from serve.tokens import AccessToken


async def view(ctx: Context, cart: Cart, known: tuple[dict[str, Offer], dict[str, int]] | None = None
               ) -> dict[str, Any]:
    """The contract's cart: each line priced now, with the stock available now. `known` offers and stock
    (just read for the line being added) are not read again."""
    offers, available = known or ({}, {})
    missing = [(line.product_id, v) for v, line in cart.lines.items() if v not in offers or v not in available]
    if missing:
        more_offers, more_available = await reads.offers_and_stock(ctx, missing)
        offers, available = {**offers, **more_offers}, {**available, **more_available}
    items = []
    for line in cart.lines.values():
        offer = offers.get(line.variant_id)
        unit_price = offer.unit_price if offer else 0
        items.append({
            "product_id": line.product_id, "variant_id": line.variant_id,
            "name": offer.name if offer else None, "quantity": line.quantity, "unit_price": unit_price,
            "line_total": unit_price * line.quantity,
            "available": available.get(line.variant_id, 0) if offer is not None and offer.on_sale else 0,
            "image": offer.image if offer else None,
        })
    return {"cart": {"items": items, "subtotal": sum(i["line_total"] for i in items),
                     "currency": ctx.settings.currency, "updated_at": cart.updated_at or None}}


async def purchasable(ctx: Context, product_id: str, variant_id: str, token: AccessToken | None = None
                      ) -> tuple[dict[str, Offer], dict[str, int]]:
    """The variant's offer and stock available now (for `view` too); 404 unless a shopper may buy it now.
    `token`: the caller's, signed, its revocation checked in the same round trip (401 `token_revoked` first)."""
    offers, available = await reads.offers_and_stock(
        ctx, [(product_id, variant_id)], None if token is None else sessions.revocation_of(token))
    offer = offers.get(variant_id)
    if offer is None or not offer.on_sale or offer.currency != ctx.settings.currency:
        raise NotFound("product_not_found", "No such product variant on sale",
                       {"product_id": product_id, "variant_id": variant_id})
    return offers, available


def shopper(ctx: Context, user_id: str) -> Any:
    """The shopper's shard, for the cart's calls (over its channel: actors/channel.py)."""
    return ctx.router.direct_owner("shoppers", user_id)
