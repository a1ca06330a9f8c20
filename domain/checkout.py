"""What a checkout will buy, priced and split by inventory shard, before anything is reserved."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from domain.carts import Cart


def short_items(cart: Cart, offers: dict[str, dict[str, Any]]) -> list[str]:
    """Cart lines that can no longer be bought at all (product gone, variant removed, not on sale)."""
    return [v for v in cart.lines if v not in offers or offers[v]["status"] != "active"]


def plan_lines(cart: Cart, offers: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The order lines at today's prices (sale price when there is one)."""
    lines = []
    for variant_id, line in cart.lines.items():
        offer = offers[variant_id]
        lines.append({"product_id": line.product_id, "variant_id": variant_id, "name": offer["name"],
                      "sku": offer["sku"], "quantity": line.quantity, "price": offer["unit_price"],
                      "total_price": offer["unit_price"] * line.quantity, "seller_id": offer["seller_id"]})
    return lines


@dataclass
class CheckoutPlan:
    """The saga's record: everything needed to finish or undo the checkout after a crash."""

    id: str
    order_id: str
    user_id: str
    idempotency_key: str
    request_hash: str
    lines: list[dict[str, Any]]
    quote: dict[str, Any]
    address: dict[str, Any]
    token: str
    card: dict[str, Any]  # brand, last4, fingerprint: never the card number
    held_for_review: bool
    fraud_reasons: list[str]
    reservations: list[dict[str, Any]]  # one per inventory shard: {"id", "variant_ids", "lines"}
    created_at: float
    step: str = "reserving"
    payment_id: str | None = None

    @classmethod
    def make(cls, *, saga_id: str, lines: list[dict[str, Any]], reservation_groups: dict[int, list[str]],
             now: float, **fields: Any) -> CheckoutPlan:
        quantities = {ln["variant_id"]: ln["quantity"] for ln in lines}
        reservations = [
            {"id": f"{saga_id}-{shard}", "variant_ids": variant_ids,
             "lines": {v: quantities[v] for v in variant_ids}}
            for shard, variant_ids in sorted(reservation_groups.items())
        ]
        return cls(id=saga_id, lines=lines, reservations=reservations, created_at=now, **fields)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def order_fields(saga: dict[str, Any]) -> dict[str, Any]:
        """The fields of the order this saga places (see domain.orders.Order.place)."""
        quote = saga["quote"]
        return {
            "user_id": saga["user_id"], "items": saga["lines"],
            "subtotal": quote["subtotal"], "tax": quote["tax"], "shipping": quote["shipping"],
            "discount": quote["discount"], "total": quote["total"], "currency": quote["currency"],
            "coupon_code": quote.get("coupon"), "shipping_address": saga["address"],
            "payment_method": {"brand": saga["card"]["brand"], "last4": saga["card"]["last4"]},
            "payment_id": saga["payment_id"],
            "reservations": [{"id": r["id"], "variant_ids": r["variant_ids"]} for r in saga["reservations"]],
        }
