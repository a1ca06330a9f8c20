"""The caller's wishlist: products (or one variant of a product) they want to hear about when the price drops or
they are back in stock (docs/notifications.md). Changes go through the user's shard."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from actors import notification_reads, reads
from domain.errors import NotFound
from serve.deps import Ctx, CurrentUser
from serve.schemas import Body, Id, PathId

router = APIRouter(tags=["wishlist"])


class WishlistItemBody(Body):
    product_id: Id
    variant_id: Id | None = None  # only this variant's stock and price; none: any variant of the product


@router.get("/v1/me/wishlist")
async def get_wishlist(me: CurrentUser, ctx: Ctx) -> dict[str, Any]:
    """`{"items": [{"product_id", "variant_id", "added_at"}]}`, latest first."""
    return {"items": await notification_reads.wishlist(ctx, me.user_id)}


@router.post("/v1/me/wishlist", status_code=201)
async def add_to_wishlist(body: WishlistItemBody, me: CurrentUser, ctx: Ctx) -> dict[str, Any]:
    """201 `{"item": {...}}`; 404 unknown product (or a variant not of it); 409 `wishlist_full`."""
    product = (await reads.products(ctx, [body.product_id])).get(body.product_id)
    if product is None or product.get("status") == "deleted":
        raise NotFound("product_not_found", "No such product", {"product_id": body.product_id})
    if body.variant_id is not None and body.variant_id not in {v["id"] for v in product["variants"]}:
        raise NotFound("variant_not_found", "No such variant of this product", {"variant_id": body.variant_id})
    shard = ctx.router.owner("users", me.user_id)
    return {"item": await shard.wishlist_add.remote(me.user_id, body.product_id, body.variant_id)}


@router.delete("/v1/me/wishlist/{product_id}", status_code=204)
async def remove_from_wishlist(product_id: PathId, me: CurrentUser, ctx: Ctx) -> Response:
    await ctx.router.owner("users", me.user_id).wishlist_remove.remote(me.user_id, product_id)
    return Response(status_code=204)
