"""A seller: the application a user makes, and the states an admin moves it through.

    pending --approve--> approved --suspend--> suspended --reinstate--> approved
    pending --reject (with a reason)--> rejected

Approving, rejecting, suspending or reinstating twice changes nothing (the second call answers the seller as it
is); any other move is a Conflict. A suspended seller's listings are hidden from shoppers and cannot be bought
(the catalog marks them, see actors/catalog.py); reinstating brings them back.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from domain.errors import Conflict, Invalid

SellerStatus = Literal["pending", "approved", "rejected", "suspended"]
SELLER_STATUSES: tuple[str, ...] = ("pending", "approved", "rejected", "suspended")
REASON_MAX = 500


def clean_reason(reason: Any) -> str:
    text = reason.strip() if isinstance(reason, str) else ""
    if not text:
        raise Invalid("invalid_reason", "A reason is required", {"field": "reason"})
    if len(text) > REASON_MAX:
        raise Invalid("invalid_reason", f"A reason has at most {REASON_MAX} characters", {"field": "reason"})
    return text


@dataclass(frozen=True)
class SellerApplication:
    id: str
    user_id: str
    store_name: str  # the display name shoppers see
    description: str | None
    status: SellerStatus
    created_at: str
    approved_at: str | None = None
    legal_name: str | None = None
    address: dict[str, Any] | None = None  # street, city, state, zip_code, country
    payout: dict[str, Any] | None = None  # a PayoutAccount (domain/payouts.py): token, kind, last4; never a number
    reason: str | None = None  # why it was rejected or suspended (the latest)
    updated_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    # -- an admin's decisions (each returns the seller after it, or None when nothing changes) ----------------
    def approved(self, at: str) -> SellerApplication | None:
        if self.status == "approved":
            return None
        self._require("pending", "approve")
        return replace(self, status="approved", approved_at=at, updated_at=at, reason=None)

    def rejected(self, reason: str, at: str) -> SellerApplication | None:
        reason = clean_reason(reason)
        if self.status == "rejected":
            return None
        self._require("pending", "reject")
        return replace(self, status="rejected", reason=reason, updated_at=at)

    def suspended(self, reason: str, at: str) -> SellerApplication | None:
        reason = clean_reason(reason)
        if self.status == "suspended":
            return None
        self._require("approved", "suspend")
        return replace(self, status="suspended", reason=reason, updated_at=at)

    def reinstated(self, at: str) -> SellerApplication | None:
        if self.status == "approved":
            return None
        self._require("suspended", "reinstate")
        return replace(self, status="approved", reason=None, updated_at=at)

    def _require(self, status: str, move: str) -> None:
        if self.status != status:
            raise Conflict("invalid_seller_transition", f"A {self.status} seller cannot be {move}d here; only a "
                           f"{status} one", {"seller_id": self.id, "status": self.status})
