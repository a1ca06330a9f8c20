"""A shopper's cart: lines of (product, variant, quantity). Prices and stock are read fresh when it is shown;
the cart only checks a line against the availability it is given when the line is added or changed."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from domain.errors import Conflict, Invalid, NotFound

RECENT_ORDERS_KEPT = 20


@dataclass
class CartLine:
    product_id: str
    variant_id: str
    quantity: int
    added_at: str


@dataclass
class Cart:
    user_id: str
    lines: dict[str, CartLine] = field(default_factory=dict)  # variant_id -> line, in the order added
    updated_at: str = ""
    cleared_for_orders: list[str] = field(default_factory=list)  # makes removal after checkout idempotent

    def add(self, product_id: str, variant_id: str, quantity: int, available: int, limits: CartLimits,
            now: str) -> CartLine:
        """Add `quantity` more of a variant (the line grows if it is already there)."""
        existing = self.lines.get(variant_id)
        if existing is None and len(self.lines) >= limits.max_lines:
            raise Conflict("cart_full", f"A cart holds at most {limits.max_lines} different items")
        total = quantity + (existing.quantity if existing else 0)
        limits.check(total, available, variant_id)
        line = existing or CartLine(product_id, variant_id, 0, now)
        line.quantity = total
        self.lines[variant_id] = line
        self.updated_at = now
        return line

    def set_quantity(self, variant_id: str, quantity: int, available: int, limits: CartLimits, now: str) -> None:
        line = self._line(variant_id)
        if quantity == 0:
            self.remove(variant_id, now)
            return
        limits.check(quantity, available, variant_id)
        line.quantity = quantity
        self.updated_at = now

    def remove(self, variant_id: str, now: str) -> None:
        self._line(variant_id)
        del self.lines[variant_id]
        self.updated_at = now

    def remove_purchased(self, order_id: str, purchased: dict[str, int], now: str) -> bool:
        """Take out what an order bought (anything added meanwhile stays). Idempotent per order."""
        if order_id in self.cleared_for_orders:
            return False
        for variant_id, quantity in purchased.items():
            line = self.lines.get(variant_id)
            if line is None:
                continue
            line.quantity -= quantity
            if line.quantity <= 0:
                del self.lines[variant_id]
        self.cleared_for_orders = [*self.cleared_for_orders, order_id][-RECENT_ORDERS_KEPT:]
        self.updated_at = now
        return True

    def _line(self, variant_id: str) -> CartLine:
        line = self.lines.get(variant_id)
        if line is None:
            raise NotFound("not_in_cart", "That item is not in the cart", {"variant_id": variant_id})
        return line

    def to_dict(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "lines": [asdict(line) for line in self.lines.values()],
                "updated_at": self.updated_at, "cleared_for_orders": self.cleared_for_orders}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Cart:
        lines = {line["variant_id"]: CartLine(**line) for line in data.get("lines", [])}
        return cls(data["user_id"], lines, data.get("updated_at", ""), list(data.get("cleared_for_orders", [])))


@dataclass(frozen=True)
class CartLimits:
    max_quantity: int
    max_lines: int

    def check(self, quantity: int, available: int, variant_id: str) -> None:
        if quantity < 1:
            raise Invalid("invalid_quantity", "Quantity must be at least 1")
        if quantity > self.max_quantity:
            raise Invalid("quantity_too_large", f"At most {self.max_quantity} of one item per order",
                          {"variant_id": variant_id, "max": self.max_quantity})
        if quantity > available:
            raise Conflict("insufficient_stock", "Not enough stock for that quantity",
                           {"variant_id": variant_id, "requested": quantity, "available": max(available, 0)})
