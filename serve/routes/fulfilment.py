"""The shopper's side of orders across sellers: tracking an order's shipments, and returns.
Rules: domain/fulfilments.py, domain/returns.py; the story: docs/api-fulfilment.md."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import Field

from actors import reads
from domain.errors import NotFound
from domain.fulfilments import PART_PATTERN
from domain.orders import CUSTOMER_RETURN_FIELDS, Order
from domain.seller_views import tracking
from domain.serial import to_builtins
from serve.context import Context
from serve.deps import Ctx, CurrentUser
from serve.schemas import Body, Id, PathId

router = APIRouter(tags=["fulfilment"])
PartId = Annotated[str, Path(pattern=PART_PATTERN)]


class LineIn(Body):
    variant_id: Id
    quantity: int = Field(ge=1, le=10_000)


def lines_of(lines: list[LineIn]) -> dict[str, int]:
    """variant_id -> units, a variant named twice counted once with both quantities."""
    units: dict[str, int] = {}
    for line in lines:
        units[line.variant_id] = units.get(line.variant_id, 0) + line.quantity
    return units


class ReturnIn(Body):
    lines: list[LineIn] = Field(min_length=1, max_length=100)
    reason: str = Field(min_length=1, max_length=500)


async def visible_order(ctx: Context, order_id: str, user_id: str, admin: bool) -> Order:
    order = await reads.order(ctx, order_id)
    if order is None or (order.user_id != user_id and not admin):
        raise NotFound("order_not_found", "No such order", {"order_id": order_id})
    return order


@router.get("/v1/orders/{order_id}/tracking")
async def track(order_id: PathId, ctx: Ctx, user: CurrentUser) -> dict[str, Any]:
    """200 `{"tracking": {"order_id", "status", "estimated_delivery", "fulfilments": [{"id", "status", "carrier",
    "tracking_number", "estimated_delivery", "shipped_at", "delivered_at", ...}]}}`; 404 not the caller's order."""
    return {"tracking": tracking(await visible_order(ctx, order_id, user.user_id, user.is_admin))}


@router.post("/v1/orders/{order_id}/returns", status_code=201)
async def request_return(order_id: PathId, body: ReturnIn, ctx: Ctx, user: CurrentUser) -> dict[str, Any]:
    """The shopper returns delivered units within the return window: 201 `{"returns": [...]}`, one per seller;
    409 `not_returnable` (not delivered, or returned already), `return_window_closed`; 404 another's order or an
    unknown line."""
    owner = None if user.is_admin else user.user_id
    made = await ctx.router.owner("shoppers", order_id).request_return.remote(
        order_id, owner, lines_of(body.lines), body.reason)
    return {"returns": [{k: r.get(k) for k in CUSTOMER_RETURN_FIELDS} for r in made]}


@router.get("/v1/orders/{order_id}/returns")
async def list_returns(order_id: PathId, ctx: Ctx, user: CurrentUser) -> dict[str, Any]:
    order = await visible_order(ctx, order_id, user.user_id, user.is_admin)
    return {"items": [{k: v for k, v in to_builtins(r).items() if k in CUSTOMER_RETURN_FIELDS}
                      for r in order.returns]}
