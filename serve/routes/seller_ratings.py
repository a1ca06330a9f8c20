"""Shoppers rate the seller of a line they received (issue 12), once per order line; anyone reads a seller's
average. Written by the review shard that owns the seller (actors/seller_ratings.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import Field

from actors import reads, review_reads
from domain.errors import Conflict, NotFound
from serve.deps import Ctx, CurrentUser
from serve.schemas import Body, PathId

router = APIRouter(tags=["reviews"])


class SellerRatingIn(Body):
    rating: int = Field(description="1 to 5, or 422 `invalid_rating`", examples=[5])


@router.post("/v1/orders/{order_id}/lines/{variant_id}/seller-rating", status_code=201)
async def rate_seller(order_id: PathId, variant_id: PathId, body: SellerRatingIn, ctx: Ctx, me: CurrentUser
                      ) -> dict[str, Any]:
    """201 `{"rating", "seller_rating": {"seller_id", "average", "count"}}`; 404 when the order is not the caller's or
    has no such line; 409 `not_delivered` before delivery, `no_seller` for a line the shop sold itself,
    `already_rated` the second time."""
    line = await reads.delivered_line(ctx, me.user_id, order_id, variant_id)
    if line is None:
        order = await reads.order(ctx, order_id)
        if order is None or order.user_id != me.user_id:
            raise NotFound("order_not_found", "No such order", {"order_id": order_id})
        if variant_id not in {item.variant_id for item in order.items}:
            raise NotFound("line_not_found", "The order has no such line", {"variant_id": variant_id})
        raise Conflict("not_delivered", "Rate the seller once the line is delivered", {"status": order.status})
    if line.seller_id is None:
        raise Conflict("no_seller", "This line was sold by the shop itself, not by a seller")
    shard = ctx.router.owner("reviews", line.seller_id)
    return await shard.rate_seller.remote(line.seller_id, order_id, variant_id, me.user_id, body.rating)


@router.get("/v1/sellers/{seller_id}/rating")
async def seller_rating(seller_id: PathId, ctx: Ctx) -> dict[str, Any]:
    """200 `{"seller_rating": {"seller_id", "average", "count"}}` (0 and 0 before the first rating); 404 unknown."""
    if await reads.seller(ctx, seller_id) is None:
        raise NotFound("seller_not_found", "No such seller", {"seller_id": seller_id})
    summary = (await review_reads.seller_ratings(ctx, [seller_id])).get(seller_id, {"average": 0.0, "count": 0})
    return {"seller_rating": {"seller_id": seller_id, **summary}}
