"""Shoppers rate the seller of a line they received, 1 to 5, once per order line; a seller's average and count
are what its listings show."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from domain.errors import Conflict
from domain.reviews import checked_rating
from domain.serial import to_builtins


@dataclass
class SellerRatings:
    seller_id: str
    lines: dict[str, dict[str, Any]] = field(default_factory=dict)  # "<order_id>:<variant_id>" -> {rating, ...}

    @staticmethod
    def line_key(order_id: str, variant_id: str) -> str:
        return f"{order_id}:{variant_id}"

    def rate(self, order_id: str, variant_id: str, user_id: str, rating: int, at: str) -> dict[str, Any]:
        rating = checked_rating(rating)
        key = self.line_key(order_id, variant_id)
        if key in self.lines:
            raise Conflict("already_rated", "You have already rated the seller of this order line",
                           {"order_id": order_id, "variant_id": variant_id})
        self.lines[key] = {"order_id": order_id, "variant_id": variant_id, "user_id": user_id, "rating": rating,
                           "at": at}
        return self.lines[key]

    def summary(self) -> dict[str, Any]:
        ratings = [line["rating"] for line in self.lines.values()]
        average = round(sum(ratings) / len(ratings), 2) if ratings else 0.0
        return {"seller_id": self.seller_id, "average": average, "count": len(ratings)}

    def to_dict(self) -> dict[str, Any]:
        return to_builtins(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SellerRatings:
        return cls(data["seller_id"], dict(data.get("lines") or {}))
