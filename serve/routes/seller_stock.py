"""What a seller sees of its stock (every variant's levels, rule and open purchase order; its low-stock alerts),
and the admin's view of every open low-stock alert."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from actors import reads
from serve.deps import AdminUser, Ctx, SellerUser

router = APIRouter(tags=["inventory"])

LEVEL_FIELDS = ("on_hand", "available", "reserved", "committed", "low_stock_threshold", "reorder_point")


@router.get("/v1/seller/inventory")
async def seller_inventory(ctx: Ctx, seller: SellerUser) -> dict[str, Any]:
    """Seller. 200 `{"items"}`: each variant of its products (newest product first) with `on_hand`, `available`,
    `reserved`, `committed`, `low_stock_threshold`, `reorder_point`, `reorder_quantity`, `supplier`, `low_stock`
    (an alert is open) and `open_purchase_order` (or null)."""
    variants = await ctx.router.handle("catalog").seller_variants.remote(seller.seller_id)
    ids = [v["variant_id"] for v in variants]
    levels = await reads.stock_levels(ctx, ids)
    watches = await reads.stock_watches(ctx, ids)
    open_ids = [w["open_purchase_order"] for w in watches.values() if w.get("open_purchase_order")]
    orders = await reads.purchase_orders_by_id(ctx, open_ids)
    alerts = {a["variant_id"] for a in await reads.low_stock_alerts(ctx) if a.get("seller_id") == seller.seller_id}
    items = []
    for variant in variants:
        level = levels.get(variant["variant_id"])
        if level is None:
            continue
        watch = watches.get(variant["variant_id"], {})
        items.append({**variant, **{name: level[name] for name in LEVEL_FIELDS},
                      "reorder_quantity": watch.get("reorder_quantity", 0), "supplier": watch.get("supplier"),
                      "low_stock": variant["variant_id"] in alerts,
                      "open_purchase_order": orders.get(watch.get("open_purchase_order") or "")})
    return {"items": items}


@router.get("/v1/seller/alerts/low-stock")
async def seller_low_stock(ctx: Ctx, seller: SellerUser) -> dict[str, Any]:
    """Seller. 200 `{"items"}`: its variants' open low-stock alerts (`variant_id`, `available`, `threshold`,
    `reorder_point`, `at`), newest first."""
    alerts = [a for a in await reads.low_stock_alerts(ctx) if a.get("seller_id") == seller.seller_id]
    return {"items": sorted(alerts, key=lambda a: a["at"], reverse=True)}


@router.get("/v1/admin/alerts/low-stock")
async def admin_low_stock(ctx: Ctx, admin: AdminUser) -> dict[str, Any]:
    """Admin. 200 `{"items"}`: every open low-stock alert (with `seller_id`, null for the shop's own), newest
    first. An alert opens when available falls to the threshold and closes when it is back above."""
    return {"items": sorted(await reads.low_stock_alerts(ctx), key=lambda a: a["at"], reverse=True)}
