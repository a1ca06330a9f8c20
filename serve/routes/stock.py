"""Stock that looks after itself: replenishment rules, purchase orders, and each variant's history of changes.

The seller of a variant's product or an admin sets its rule and reads its history; a seller sees and handles its
own purchase orders (another seller's are not found), an admin all of them. The rules are domain/stock_watch.py's.
(Mounted before `inventory`, so that `/v1/inventory/purchase-orders` is not taken for a variant id.)
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import Field

from actors import reads
from domain.errors import NotFound
from serve.context import Context
from serve.deps import AdminUser, Ctx, CurrentUser, SellerOrAdmin
from serve.routes.inventory import authorize_variant
from serve.schemas import Body, PathId
from serve.tokens import Principal

router = APIRouter(tags=["inventory"])

HISTORY_MAX = 500


class ReplenishmentIn(Body):
    reorder_point: int = Field(ge=0, le=1_000_000, description="a purchase order opens when available falls to it")
    reorder_quantity: int = Field(ge=0, le=1_000_000, description="units a purchase order asks for; 0: none")
    low_stock_threshold: int | None = Field(default=None, ge=0, le=1_000_000)
    supplier: str | None = Field(default=None, max_length=120)


@router.put("/v1/inventory/{variant_id}/replenishment")
async def set_replenishment(variant_id: PathId, body: ReplenishmentIn, ctx: Ctx, user: CurrentUser
                            ) -> dict[str, Any]:
    """Owner seller or admin. 200 the levels with the rule (`reorder_point`, `reorder_quantity`, `supplier`,
    `open_purchase_order`). Available already at or below the new point opens a purchase order at once."""
    await authorize_variant(ctx, user, variant_id)
    return await ctx.router.owner("inventory", variant_id).set_replenishment.remote(
        variant_id, body.reorder_point, body.reorder_quantity, body.low_stock_threshold, body.supplier, user.user_id)


@router.get("/v1/inventory/{variant_id}/history")
async def stock_history(variant_id: PathId, ctx: Ctx, user: CurrentUser,
                        limit: Annotated[int, Query(ge=1, le=HISTORY_MAX)] = 100) -> dict[str, Any]:
    """Owner seller or admin. 200 `{"items"}`, newest first: `n`, `at`, `change` (created, adjusted, sold,
    reserved, released, expired, shipped, received), `quantity`, `reference`, `actor` (a user id, `checkout`,
    `system`, `purchase_order`), `reason`, and the levels after the change."""
    await authorize_variant(ctx, user, variant_id)
    return {"items": await reads.stock_history(ctx, variant_id, limit)}


# -- purchase orders --------------------------------------------------------------------------------------------
def _mine(user: Principal, order: dict[str, Any]) -> bool:
    return user.is_admin or (user.seller_id is not None and order["seller_id"] == user.seller_id)


async def _own_order(ctx: Context, user: Principal, order_id: str) -> dict[str, Any]:
    order = (await reads.purchase_orders_by_id(ctx, [order_id])).get(order_id)
    if order is None or not _mine(user, order):
        raise NotFound("purchase_order_not_found", "No such purchase order", {"purchase_order_id": order_id})
    return order


@router.get("/v1/inventory/purchase-orders")
async def list_purchase_orders(ctx: Ctx, user: SellerOrAdmin,
                               status: Literal["open", "received", "cancelled"] | None = None) -> dict[str, Any]:
    """Seller (its own) or admin (all). 200 `{"items"}`, newest first."""
    orders = [o for o in await reads.purchase_orders(ctx) if _mine(user, o) and status in (None, o["status"])]
    return {"items": sorted(orders, key=lambda o: (o["created_at"], o["id"]), reverse=True)}


@router.post("/v1/inventory/purchase-orders/{order_id}/receive")
async def receive_purchase_order(order_id: PathId, ctx: Ctx, user: SellerOrAdmin) -> dict[str, Any]:
    """200 `{"purchase_order"}` received: its units join stock on hand once (again: unchanged); 409
    `purchase_order_closed` when cancelled; 404 when not the caller's."""
    await _own_order(ctx, user, order_id)
    order = await ctx.router.owner("inventory", order_id).receive_purchase_order.remote(order_id)
    return {"purchase_order": order}


@router.post("/v1/inventory/purchase-orders/{order_id}/cancel")
async def cancel_purchase_order(order_id: PathId, ctx: Ctx, user: SellerOrAdmin) -> dict[str, Any]:
    """200 `{"purchase_order"}` cancelled (again: unchanged); 409 `purchase_order_closed` once received."""
    await _own_order(ctx, user, order_id)
    return {"purchase_order": await ctx.router.owner("inventory", order_id).cancel_purchase_order.remote(order_id)}


@router.post("/v1/admin/replenishment/apply")
async def apply_suggestions(ctx: Ctx, admin: AdminUser) -> dict[str, Any]:
    """Admin. The replenishment pipeline's latest suggestions (`make replenishment`) become the rules of the
    variants they name. 200 `{"applied", "as_of"}`; 404 `no_suggestions` before the pipeline has run."""
    path = ctx.settings.analytics_db.parent / "replenishment.json"  # written by pipelines/replenishment.py
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        raise NotFound("no_suggestions", "The replenishment pipeline has not written suggestions yet") from None
    rules = [{"variant_id": v, "reorder_point": s["reorder_point"], "reorder_quantity": s["reorder_quantity"]}
             for v, s in document["variants"].items()]
    by_variant = {r["variant_id"]: r for r in rules}
    applied = 0
    for shard, variant_ids in ctx.router.group("inventory", by_variant).items():
        applied += await ctx.router.handle("inventory", shard).set_replenishments.remote(
            [by_variant[v] for v in variant_ids], admin.user_id)
    return {"applied": applied, "as_of": document.get("as_of")}
