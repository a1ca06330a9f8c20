"""Coupon uses: who used a coupon, for which checkout, within its limits. Pure: the coupon shard (actors/coupons.py)
owns the uses of the codes that hash to it and persists them.

A checkout *claims* a use (keyed by its saga id) before it charges anything, and *releases* it if the checkout is
undone; a claim that reaches an order stays, as the use. So a coupon's limits hold however many shoppers check out
at once: at most `max_uses` claims live in all, at most `max_uses_per_user` per shopper. Claim and release are
idempotent by saga id, so a saga driven again after a crash claims nothing twice.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from domain.errors import Invalid


@dataclass(frozen=True)
class Use:
    saga_id: str
    order_id: str  # the order the checkout places (or would have placed)
    user_id: str
    at: float


@dataclass
class CouponUses:
    """The uses of one coupon code."""

    code: str
    uses: dict[str, Use] = field(default_factory=dict)  # saga id -> use

    def claim(self, saga_id: str, order_id: str, user_id: str, at: float, max_uses: int | None,
              max_uses_per_user: int | None) -> Use:
        existing = self.uses.get(saga_id)
        if existing is not None:
            return existing
        if max_uses is not None and len(self.uses) >= max_uses:
            raise Invalid("invalid_coupon", "This coupon has been used up", {"coupon_code": self.code,
                                                                            "reason": "used_up"})
        if max_uses_per_user is not None and self.uses_by(user_id) >= max_uses_per_user:
            raise Invalid("invalid_coupon", "You have already used this coupon", {"coupon_code": self.code,
                                                                                 "reason": "already_used"})
        use = Use(saga_id, order_id, user_id, at)
        self.uses[saga_id] = use
        return use

    def release(self, saga_id: str) -> Use | None:
        """Give a use back (its checkout was undone); nothing when there is no such claim."""
        return self.uses.pop(saga_id, None)

    def uses_by(self, user_id: str) -> int:
        return Counter(use.user_id for use in self.uses.values())[user_id]
