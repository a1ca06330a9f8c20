"""An entry of the admin audit log: which admin did what to which user, seller, review or order, and when."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from domain.clock import now_iso
from domain.ids import new_id

TargetType = Literal["user", "seller", "review", "order", "product", "coupon"]
TARGET_TYPES: tuple[str, ...] = ("user", "seller", "review", "order", "product", "coupon")


@dataclass(frozen=True)
class AdminAction:
    admin_id: str
    action: str  # what was done, `<target>.<verb>`, e.g. `review.reject`, `order.status`, `seller.approve`
    target_type: str
    target_id: str
    details: dict[str, Any] = field(default_factory=dict)  # the action's parameters (a reason, a new status)
    id: str = field(default_factory=lambda: new_id("adm"))
    at: str = field(default_factory=now_iso)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
