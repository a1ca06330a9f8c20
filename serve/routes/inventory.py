"""Stock levels and adjustments: the seller of the product, or an admin."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import Field

from actors import reads
from domain.catalog import CatalogUser, Product, ensure_can_edit
from domain.errors import NotFound
from serve.context import Context
from serve.deps import Ctx, CurrentUser
from serve.schemas import Body, PathId
from serve.tokens import Principal

router = APIRouter(prefix="/v1/inventory", tags=["inventory"])


class Adjustment(Body):
    delta: int = Field(ge=-1_000_000, le=1_000_000, description="signed change to stock on hand")
    reason: str = Field(min_length=1, max_length=200)


async def authorize_variant(ctx: Context, user: Principal, variant_id: str) -> None:
    """The seller of the variant's product, or an admin: 404 for an unknown variant, 403 `not_owner` else."""
    product = await reads.product_of_variant(ctx, variant_id)
    if product is None:
        raise NotFound("not_found", "No such variant", {"variant_id": variant_id})
    ensure_can_edit(Product.from_dict(product), CatalogUser(user.role, user.seller_id))


def _levels(level: dict[str, Any]) -> dict[str, Any]:
    fields = ("variant_id", "on_hand", "reserved", "committed", "available", "low_stock_threshold", "reorder_point")
    return {name: level[name] for name in fields}


@router.get("/{variant_id}")
async def get_levels(variant_id: PathId, ctx: Ctx, user: CurrentUser) -> dict[str, Any]:
    await authorize_variant(ctx, user, variant_id)
    level = (await reads.stock_levels(ctx, [variant_id])).get(variant_id)
    if level is None:
        raise NotFound("not_found", "No stock record for this variant", {"variant_id": variant_id})
    return _levels(level)


@router.post("/{variant_id}/adjust")
async def adjust(variant_id: PathId, body: Adjustment, ctx: Ctx, user: CurrentUser) -> dict[str, Any]:
    await authorize_variant(ctx, user, variant_id)
    level = await ctx.router.owner("inventory", variant_id).adjust.remote(variant_id, body.delta, body.reason,
                                                                        user.user_id)
    return _levels(level)
