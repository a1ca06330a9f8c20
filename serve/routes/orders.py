"""The caller's orders (admins see all), cancellation, and the admin's fulfilment steps."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from actors import keys
from domain.errors import NotFound
from domain.orders import Order
from serve.context import Context
from serve.deps import AdminUser, Ctx, CurrentUser
from serve.schemas import Body, PathId

router = APIRouter(tags=["orders"])
Page = Annotated[int, Query(ge=1, le=10_000)]
PageSize = Annotated[int, Query(ge=1, le=100)]


class CancelBody(Body):
    reason: str | None = None


class StatusChange(Body):
    status: Literal["confirmed", "packed", "shipped", "delivered"]
    tracking_number: str | None = None
    note: str | None = None


async def _orders(ctx: Context, index: str, page: int, page_size: int) -> dict[str, Any]:
    start = (page - 1) * page_size
    ids = await ctx.redis.zrevrange(index, start, start + page_size - 1)
    raws = await ctx.redis.mget([keys.order(i) for i in ids]) if ids else []
    total = await ctx.redis.zcard(index)
    items = [Order.from_dict(json.loads(raw)).view() for raw in raws if raw]
    return {"items": items, "total": total, "page": page, "page_size": page_size}


@router.get("/v1/orders")
async def list_orders(ctx: Ctx, user: CurrentUser, page: Page = 1, page_size: PageSize = 20) -> dict[str, Any]:
    return await _orders(ctx, keys.user_orders(user.user_id), page, page_size)


@router.get("/v1/orders/{order_id}")
async def get_order(order_id: PathId, ctx: Ctx, user: CurrentUser) -> dict[str, Any]:
    raw = await ctx.redis.get(keys.order(order_id))
    order = Order.from_dict(json.loads(raw)) if raw else None
    if order is None or (order.user_id != user.user_id and not user.is_admin):
        raise NotFound("order_not_found", "No such order", {"order_id": order_id})
    return {"order": order.view()}


@router.post("/v1/orders/{order_id}/cancel")
async def cancel_order(order_id: PathId, ctx: Ctx, user: CurrentUser, body: CancelBody | None = None
                       ) -> dict[str, Any]:
    owner = None if user.is_admin else user.user_id
    order = await ctx.router.owner("orders", order_id).cancel.remote(order_id, owner, body.reason if body else None)
    return {"order": order}


@router.get("/v1/admin/orders")
async def all_orders(ctx: Ctx, admin: AdminUser, page: Page = 1, page_size: PageSize = 20) -> dict[str, Any]:
    return await _orders(ctx, keys.ORDERS_BY_TIME, page, page_size)


@router.post("/v1/admin/orders/{order_id}/status")
async def change_status(order_id: PathId, body: StatusChange, ctx: Ctx, admin: AdminUser) -> dict[str, Any]:
    order = await ctx.router.owner("orders", order_id).advance.remote(
        order_id, body.status, body.tracking_number, body.note)
    return {"order": order}
