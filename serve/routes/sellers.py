"""Becoming a seller: a logged-in user applies, an admin approves. The approved user's next token (refresh or
login) carries the seller role and seller_id."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import Field

from actors import reads
from domain.errors import NotFound
from serve.context import Context
from serve.deps import AdminUser, Ctx, CurrentUser
from serve.routes.users import own_user
from serve.schemas import Body

router = APIRouter(tags=["sellers"])


class SellerApplicationBody(Body):
    store_name: str = Field(max_length=80, examples=["Ada's Engines"])
    description: str | None = Field(default=None, max_length=2000)


async def _seller_record(ctx: Context, seller_id: str) -> dict[str, Any]:
    seller = await reads.seller(ctx, seller_id)
    if seller is None:
        raise NotFound("seller_not_found", "No such seller", {"seller_id": seller_id})
    return seller


@router.post("/v1/sellers", status_code=201)
async def apply(body: SellerApplicationBody, me: CurrentUser, ctx: Ctx) -> dict[str, Any]:
    shard = ctx.router.owner("users", me.user_id)
    return {"seller": await shard.apply_seller.remote(me.user_id, body.store_name, body.description)}


@router.get("/v1/sellers/me")
async def my_application(me: CurrentUser, ctx: Ctx) -> dict[str, Any]:
    user = await own_user(ctx, me.user_id)
    if user.seller is None:
        raise NotFound("seller_not_found", "This account has not applied to sell")
    return {"seller": user.seller.to_dict()}


@router.get("/v1/admin/sellers")
async def list_sellers(admin: AdminUser, ctx: Ctx,
                       status: Literal["pending", "approved"] | None = None) -> dict[str, Any]:
    sellers = await reads.sellers(ctx)
    items = sorted((s for s in sellers if status is None or s["status"] == status), key=lambda s: s["created_at"])
    return {"items": items}


@router.post("/v1/admin/sellers/{seller_id}/approve")
async def approve(seller_id: str, admin: AdminUser, ctx: Ctx) -> dict[str, Any]:
    user_id = (await _seller_record(ctx, seller_id))["user_id"]
    shard = ctx.router.owner("users", user_id)
    return {"seller": await shard.approve_seller.remote(user_id, seller_id, admin.user_id)}  # audited in its command
