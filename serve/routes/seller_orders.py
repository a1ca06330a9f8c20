"""The seller's side of orders across sellers: its orders, fulfilments, returns, summary and ledger; and the admin's
payout run. A seller acts only on its own fulfilments and returns (another seller's are 404); an admin on any.
Rules: domain/fulfilments.py, domain/returns.py, domain/seller_ledger.py; the story: docs/api-fulfilment.md."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import Field

from actors import keys, reads
from actors.review_reads import seller_ratings
from domain.errors import Forbidden
from domain.fulfilments import order_of
from domain.orders import Order
from domain.seller_ledger import totals
from domain.seller_views import seller_order, seller_returns, summary
from serve.admin_log import record_admin_action
from serve.context import Context
from serve.deps import AdminUser, Ctx, SellerOrAdmin
from serve.errors import documented
from serve.routes.fulfilment import LineIn, PartId, lines_of
from serve.schemas import Body
from serve.tokens import Principal

router = APIRouter(tags=["seller orders"])
Page = Annotated[int, Query(ge=1, le=10_000)]
PageSize = Annotated[int, Query(ge=1, le=100)]


class ShipIn(Body):
    carrier: str = Field(min_length=1, max_length=60, examples=["UPS"])
    tracking_number: str = Field(min_length=1, max_length=80, examples=["1Z999AA10123456784"])


class SellerCancelIn(Body):
    reason: str = Field(min_length=1, max_length=500)
    lines: list[LineIn] | None = Field(default=None, max_length=100)


class RejectIn(Body):
    reason: str = Field(min_length=1, max_length=500)


class ReceiveIn(Body):
    condition: Literal["resellable", "damaged"]


def acting_seller(user: Principal) -> str | None:
    """The seller the caller acts as; None for an admin (who may act on any)."""
    if user.is_admin:
        return None
    if not user.seller_id:
        raise Forbidden("seller_only", "Only an approved seller or an admin may do this")
    return user.seller_id


def own_seller(user: Principal) -> str:
    """The caller's seller id, for the views of one seller's own business."""
    if not user.seller_id:
        raise Forbidden("seller_only", "Only an approved seller sees its orders")
    return user.seller_id


async def _audited(ctx: Context, user: Principal, action: str, part: str, part_id: str, **details: Any) -> None:
    """An admin acting in a seller's place goes to the audit log (serve/admin_log.py), as an action on the order
    with the fulfilment's or return's id; a seller's own acts do not."""
    if user.is_admin:
        await record_admin_action(ctx, user, action, "order", order_of(part_id), **{part: part_id}, **details)


def _shard(ctx: Context, part_id: str) -> Any:
    """The shopper shard owning the fulfilment's or return's order (found from the id alone)."""
    return ctx.router.owner("shoppers", order_of(part_id))


# -- fulfilments ---------------------------------------------------------------------------------------------
@router.post("/v1/seller/fulfilments/{fulfilment_id}/ship", responses=documented((402,)))
async def ship(fulfilment_id: PartId, body: ShipIn, ctx: Ctx, user: SellerOrAdmin) -> dict[str, Any]:
    """The seller ships its fulfilment: 200 `{"order"}`; the order's first shipment captures the payment (402
    `capture_failed` when refused, nothing changed); 409 `invalid_transition` (shipped, cancelled), `order_on_hold`
    (held for review); 404 another seller's."""
    order = await _shard(ctx, fulfilment_id).ship_fulfilment.remote(
        fulfilment_id, acting_seller(user), body.carrier, body.tracking_number)
    await _audited(ctx, user, "fulfilment.ship", "fulfilment_id", fulfilment_id, carrier=body.carrier,
                   tracking_number=body.tracking_number)
    return {"order": _for(order, user)}


@router.post("/v1/seller/fulfilments/{fulfilment_id}/deliver")
async def deliver(fulfilment_id: PartId, ctx: Ctx, user: SellerOrAdmin) -> dict[str, Any]:
    """The carrier delivered it (reported by the seller or an admin): 200 `{"order"}`; 409 unless shipped."""
    order = await _shard(ctx, fulfilment_id).deliver_fulfilment.remote(fulfilment_id, acting_seller(user))
    await _audited(ctx, user, "fulfilment.deliver", "fulfilment_id", fulfilment_id)
    return {"order": _for(order, user)}


@router.post("/v1/seller/fulfilments/{fulfilment_id}/cancel")
async def cancel(fulfilment_id: PartId, body: SellerCancelIn, ctx: Ctx, user: SellerOrAdmin) -> dict[str, Any]:
    """The seller cancels its units not shipped yet (all of them, or `lines`), with a reason: stock back on sale,
    their worth refunded (or never captured). 409 `already_shipped`, `not_cancellable`."""
    seller_id = acting_seller(user)
    order = await _shard(ctx, fulfilment_id).cancel_lines.remote(
        order_of(fulfilment_id), None, lines_of(body.lines) if body.lines else None, body.reason,
        "seller" if seller_id else "admin", seller_id, fulfilment_id)
    await _audited(ctx, user, "fulfilment.cancel", "fulfilment_id", fulfilment_id, reason=body.reason,
                   lines=lines_of(body.lines) if body.lines else None)
    return {"order": _for(order, user)}


def _for(order: dict[str, Any], user: Principal) -> dict[str, Any]:
    if user.is_admin or not user.seller_id:
        return order
    return seller_order(Order.from_dict({**order, "reservations": []}), user.seller_id)


# -- returns -------------------------------------------------------------------------------------------------
@router.post("/v1/seller/returns/{return_id}/approve")
async def approve(return_id: PartId, ctx: Ctx, user: SellerOrAdmin) -> dict[str, Any]:
    """200 `{"return"}` approved (again: unchanged); 409 once rejected; 404 another seller's."""
    decided = await _shard(ctx, return_id).decide_return.remote(return_id, acting_seller(user), True)
    await _audited(ctx, user, "return.approve", "return_id", return_id)
    return {"return": decided}


@router.post("/v1/seller/returns/{return_id}/reject")
async def reject(return_id: PartId, body: RejectIn, ctx: Ctx, user: SellerOrAdmin) -> dict[str, Any]:
    """200 `{"return"}` rejected with the reason; 409 once approved."""
    decided = await _shard(ctx, return_id).decide_return.remote(return_id, acting_seller(user), False, body.reason)
    await _audited(ctx, user, "return.reject", "return_id", return_id, reason=body.reason)
    return {"return": decided}


@router.post("/v1/seller/returns/{return_id}/receive")
async def receive(return_id: PartId, body: ReceiveIn, ctx: Ctx, user: SellerOrAdmin) -> dict[str, Any]:
    """The units are back (`resellable`: on sale again; `damaged`: the damaged bin) and their worth is refunded,
    once: 200 `{"return"}` refunded (again: unchanged); 409 unless approved."""
    received = await _shard(ctx, return_id).receive_return.remote(return_id, acting_seller(user), body.condition)
    await _audited(ctx, user, "return.receive", "return_id", return_id, condition=body.condition)
    return {"return": received}


# -- the seller's views ----------------------------------------------------------------------------------------
@router.get("/v1/seller/orders")
async def my_orders(ctx: Ctx, user: SellerOrAdmin, page: Page = 1, page_size: PageSize = 20) -> dict[str, Any]:
    """The orders holding the seller's lines, newest first: its own lines and fulfilments only."""
    seller_id = own_seller(user)
    ids, total = await reads.seller_page(ctx, keys.seller_orders(seller_id), page, page_size)
    orders = await reads.orders_by_id(ctx, ids)
    return {"items": [seller_order(o, seller_id) for o in orders], "total": total, "page": page,
            "page_size": page_size}


@router.get("/v1/seller/returns")
async def my_returns(ctx: Ctx, user: SellerOrAdmin, page: Page = 1, page_size: PageSize = 20) -> dict[str, Any]:
    seller_id = own_seller(user)
    ids, total = await reads.seller_page(ctx, keys.seller_returns(seller_id), page, page_size)
    orders = await reads.orders_by_id(ctx, dict.fromkeys(order_of(i) for i in ids))
    return {"items": seller_returns(orders, ids, seller_id), "total": total, "page": page, "page_size": page_size}


@router.get("/v1/seller/ledger")
async def my_ledger(ctx: Ctx, user: SellerOrAdmin) -> dict[str, Any]:
    """200 `{"entries": [{"id", "kind", "amount", "at", ...}], "sales", "refunds", "commission", "paid_out",
    "balance", "currency"}`: paid_out + balance = sales - refunds - commission."""
    entries = await reads.seller_ledger(ctx, own_seller(user))
    return {"entries": entries, **totals(entries), "currency": ctx.settings.currency}


@router.get("/v1/seller/summary")
async def my_summary(ctx: Ctx, user: SellerOrAdmin) -> dict[str, Any]:
    """200 `{"summary": {"sales", "units", "pending_fulfilments", "balance", "paid_out", "currency", "rating"}}`;
    `rating` is the seller's `{"average", "count"}` from shoppers' ratings of delivered lines, null before the first."""
    seller_id = own_seller(user)
    entries = await reads.seller_ledger(ctx, seller_id)
    ids, _ = await reads.seller_page(ctx, keys.seller_orders(seller_id), 1, 1_000_000)
    orders = await reads.orders_by_id(ctx, ids)
    rating = (await seller_ratings(ctx, [seller_id])).get(seller_id)  # {"average", "count"}; None: never rated
    return {"summary": {**summary(orders, seller_id, entries, ctx.settings.currency), "rating": rating}}


@router.post("/v1/admin/payouts/run")
async def run_payouts(ctx: Ctx, admin: AdminUser) -> dict[str, Any]:
    """Pay every approved seller its positive balance through the gateway: 200 `{"payouts": [...]}`. Safe to run
    again (a payout left pending is finished first; nothing is paid twice)."""
    sellers = [s for s in await reads.sellers(ctx) if s.get("status") == "approved"]
    runs = await asyncio.gather(*(ctx.router.owner("users", s["user_id"]).pay_out.remote(s["id"]) for s in sellers))
    payouts = [p for run in runs for p in run]
    for payout in payouts:
        await record_admin_action(ctx, admin, "seller.payout", "seller", payout["seller_id"],
                                  payout_id=payout["payout_id"], amount=-payout["amount"])
    return {"payouts": payouts}
