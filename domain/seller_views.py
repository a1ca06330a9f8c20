"""What a seller sees of the orders it sells into, and what anyone tracking an order sees (allow-lists, like
domain/orders.py's `customer_view`): a seller sees its own lines and fulfilments of an order and where they go,
never the shopper's payment, the order's totals, or another seller's lines."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from domain.fulfilments import UNSHIPPED
from domain.orders import CUSTOMER_FULFILMENT_FIELDS, CUSTOMER_RETURN_FIELDS, Order, fulfilments_view
from domain.seller_ledger import totals
from domain.serial import to_builtins

SELLER_LINE_FIELDS = ("product_id", "variant_id", "name", "sku", "quantity", "price", "total_price", "worth",
                      "cancelled", "shipped", "delivered", "returned")
SELLER_FULFILMENT_FIELDS = (*CUSTOMER_FULFILMENT_FIELDS, "seller_id", "sold", "cancel_reason")
SELLER_RETURN_FIELDS = (*CUSTOMER_RETURN_FIELDS, "seller_id", "fulfilment_id")


def _only(data: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: data.get(name) for name in names}


def seller_order(order: Order, seller_id: str) -> dict[str, Any]:
    full = to_builtins(order)
    mine = [f for f in full["fulfilments"] if f["seller_id"] == seller_id]
    variants = {v for f in mine for v in f["variant_ids"]}
    return {"order_id": order.id, "order_number": order.order_number, "status": order.status,
            "created_at": order.created_at, "currency": order.currency, "shipping_address": order.shipping_address,
            "items": [_only(line, SELLER_LINE_FIELDS) for line in full["items"] if line["variant_id"] in variants],
            "fulfilments": [_only(f, SELLER_FULFILMENT_FIELDS) for f in mine]}


def seller_returns(orders: Iterable[Order], return_ids: list[str], seller_id: str) -> list[dict[str, Any]]:
    wanted = set(return_ids)
    found = {r.id: _only(to_builtins(r), SELLER_RETURN_FIELDS) for order in orders for r in order.returns
             if r.id in wanted and r.seller_id == seller_id}
    return [found[i] for i in return_ids if i in found]


def summary(orders: Iterable[Order], seller_id: str, entries: list[dict[str, Any]], currency: str
            ) -> dict[str, Any]:
    """sales and units shipped, fulfilments waiting to ship, the ledger's balance; `rating` is the reviews'."""
    money = totals(entries)
    units = pending = 0
    for order in orders:
        for f in order.fulfilments:
            if f.seller_id != seller_id:
                continue
            units += sum(order.line(v).shipped - order.line(v).returned for v in f.variant_ids)
            pending += f.status in UNSHIPPED and order.status not in ("pending", "cancelled")
    return {"seller_id": seller_id, "sales": money["sales"] - money["refunds"], "units": units,
            "pending_fulfilments": pending, "balance": money["balance"], "paid_out": money["paid_out"],
            "currency": currency, "rating": None}


def tracking(order: Order) -> dict[str, Any]:
    return {"order_id": order.id, "order_number": order.order_number, "status": order.status,
            "estimated_delivery": order.estimated_delivery, "fulfilments": fulfilments_view(to_builtins(order))}
