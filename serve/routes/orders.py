"""The caller's orders (admins see all), cancellation, and the admin's fulfilment steps.

The shopper shard answers with an order's full view; what the caller is shown of it is decided here, once per
answer, by `domain.orders.view_for` (a shopper sees only the contract's fields, an admin everything).
An admin's moves are recorded in the audit log (serve/admin_log.py) once the shard has made them: a separate write
for now, since the shard's commands do not take the admin's id yet (to move into their transaction).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import Field

from actors import reads
from domain.errors import NotFound
from domain.orders import view_for
from serve.admin_log import record_admin_action
from serve.context import Context
from serve.deps import AdminUser, Ctx, CurrentUser
from serve.errors import documented
from serve.routes.fulfilment import LineIn, lines_of
from serve.schemas import Body, PathId

router = APIRouter(tags=["orders"])
Page = Annotated[int, Query(ge=1, le=10_000)]
PageSize = Annotated[int, Query(ge=1, le=100)]


class CancelBody(Body):
    reason: str | None = Field(default=None, max_length=500)
    lines: list[LineIn] | None = Field(default=None, min_length=1, max_length=100, description=(
        "only these units (not shipped yet); without it, the whole order (409 `already_shipped` once any of it "
        "shipped)"))


class ChargebackIn(Body):
    reason: str = Field(min_length=1, max_length=64, pattern=r"^[a-z_]+$", examples=["fraudulent"])


class StatusChange(Body):
    status: Literal["confirmed", "packed", "shipped", "delivered"]
    tracking_number: str | None = None
    note: str | None = None


async def _orders(ctx: Context, user_id: str | None, page: int, page_size: int, admin: bool, held: bool = False
                  ) -> dict[str, Any]:
    orders, total = await reads.orders_page(ctx, user_id, page, page_size, held)
    return {"items": [view_for(order.view(), admin=admin) for order in orders], "total": total, "page": page,
            "page_size": page_size}


@router.get("/v1/orders")
async def list_orders(ctx: Ctx, user: CurrentUser, page: Page = 1, page_size: PageSize = 20) -> dict[str, Any]:
    return await _orders(ctx, user.user_id, page, page_size, user.is_admin)


@router.get("/v1/orders/{order_id}")
async def get_order(order_id: PathId, ctx: Ctx, user: CurrentUser) -> dict[str, Any]:
    order = await reads.order(ctx, order_id)
    if order is None or (order.user_id != user.user_id and not user.is_admin):
        raise NotFound("order_not_found", "No such order", {"order_id": order_id})
    return {"order": view_for(order.view(), admin=user.is_admin)}


@router.post("/v1/orders/{order_id}/cancel")
async def cancel_order(order_id: PathId, ctx: Ctx, user: CurrentUser, body: CancelBody | None = None
                       ) -> dict[str, Any]:
    owner = None if user.is_admin else user.user_id
    lines = lines_of(body.lines) if body and body.lines else None
    order = await ctx.router.owner("shoppers", order_id).cancel.remote(
        order_id, owner, body.reason if body else None, lines)
    if user.is_admin and order["user_id"] != user.user_id:
        await record_admin_action(ctx, user, "order.cancel", "order", order_id, reason=body.reason if body else None,
                                  lines=lines)
    return {"order": view_for(order, admin=user.is_admin)}


@router.get("/v1/admin/orders")
async def all_orders(ctx: Ctx, admin: AdminUser, page: Page = 1, page_size: PageSize = 20,
                     review: Annotated[Literal["held"] | None, Query(
                         description="`held`: only the orders held for review (pending), with their `fraud_score` "
                                     "and `fraud_reasons`")] = None) -> dict[str, Any]:
    """Every order, newest first; with `review=held`, the review queue."""
    return await _orders(ctx, None, page, page_size, True, held=review == "held")


@router.post("/v1/admin/orders/{order_id}/status", responses=documented((402,)))
async def change_status(order_id: PathId, body: StatusChange, ctx: Ctx, admin: AdminUser) -> dict[str, Any]:
    """200 `{"order"}`; shipping captures the payment first: 402 `capture_failed` when the gateway refuses it (the
    order stays as it was, its stock on the shelf)."""
    order = await ctx.router.owner("shoppers", order_id).advance.remote(
        order_id, body.status, body.tracking_number, body.note)
    await record_admin_action(ctx, admin, "order.status", "order", order_id, status=body.status,
                              tracking_number=body.tracking_number, note=body.note)
    return {"order": order}


@router.post("/v1/admin/orders/{order_id}/chargeback")
async def chargeback(order_id: PathId, body: ChargebackIn, ctx: Ctx, admin: AdminUser) -> dict[str, Any]:
    """Admin records that the card's issuer took a shipped order's money back. 200 `{"order", "chargeback":
    {"order_id", "payment_id", "amount", "reason", "status"}}`; 404 unknown order; 409 `payment_not_disputable` when
    nothing captured is left to take back (not shipped yet, refunded), `already_charged_back` the second time,
    `no_payment` for an order that cost nothing."""
    result: dict[str, Any] = await ctx.router.owner("shoppers", order_id).chargeback.remote(order_id, body.reason)
    await record_admin_action(ctx, admin, "order.chargeback", "order", order_id, reason=body.reason)
    return result
