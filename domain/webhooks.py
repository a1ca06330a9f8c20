"""Webhooks: endpoints third parties register, what each may receive, and the signature of a delivery.

A delivery is a POST of `{"id": event_id, "type", "at", "data"}` with the header
`Bazaar-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, f"{t}.{body}")>` (docs/webhooks.md). An admin's
endpoint receives events as they are; a seller's only events about its own products and orders, and only the
fields about them (no shopper's personal data, no other seller's lines).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

from domain.errors import Invalid

SIGNATURE_HEADER = "Bazaar-Signature"
MAX_URL = 2000

# the types an endpoint may subscribe to; a seller only to SELLER_TYPES
ORDER_TYPES = ("order.created", "order.confirmed", "order.packed", "order.shipped", "order.delivered",
               "order.cancelled", "fulfilment.shipped", "fulfilment.delivered", "return.requested",
               "return.approved", "return.refunded")
PRODUCT_TYPES = ("product.created", "product.updated", "product.price_changed", "product.status_changed",
                 "inventory.low_stock", "review.posted", "review.held")
SELLER_TYPES = frozenset(ORDER_TYPES + PRODUCT_TYPES)
ADMIN_TYPES = SELLER_TYPES | {"checkout.failed", "payment.refunded", "payment.chargeback", "order.charged_back",
                              "seller.applied", "seller.approved", "purchase_order.received"}
_SELLER_ORDER_FIELDS = ("order_id", "order_number", "status", "tracking_number", "fulfilment_id", "return_id",
                        "currency", "seller_id")


@dataclass(frozen=True)
class Webhook:
    id: str
    owner_id: str  # the user who registered it
    seller_id: str | None  # None: an admin's endpoint, which sees every event of its types
    url: str
    event_types: tuple[str, ...]
    secret: str
    created_at: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Webhook:
        return cls(**{**data, "event_types": tuple(data["event_types"])})

    def public(self) -> dict[str, Any]:
        view = self.to_dict()
        del view["secret"]
        return view


def check_subscription(url: str, event_types: list[str], seller: bool) -> tuple[str, tuple[str, ...]]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > MAX_URL:
        raise Invalid("invalid_webhook_url", "url is an absolute http(s) URL", {"field": "url"})
    allowed = SELLER_TYPES if seller else ADMIN_TYPES
    unknown = sorted(set(event_types) - allowed)
    if not event_types or unknown:
        raise Invalid("invalid_event_types", "event_types names one or more of the types an endpoint may receive",
                      {"unknown": unknown, "allowed": sorted(allowed)})
    return url, tuple(dict.fromkeys(event_types))


def public_address(address: str) -> bool:
    """False for loopback, private, link-local, multicast, reserved and unspecified addresses (SSRF targets)."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def seller_view(data: dict[str, Any], type: str, seller_id: str, product_sellers: dict[str, str | None]
                ) -> dict[str, Any] | None:
    """What a seller's endpoint receives of an event's data, or None when the event is not about the seller.
    `product_sellers`: product or variant id -> seller id, as the notifier looked them up."""
    if type.startswith(("order.", "fulfilment.", "return.")):
        given = data.get("items")
        lines: list[Any] = given if isinstance(given, list) else []
        items = [item for item in lines if isinstance(item, dict) and item.get("seller_id") == seller_id]
        if data.get("seller_id") != seller_id and not items:
            return None
        view = {name: data[name] for name in _SELLER_ORDER_FIELDS if name in data}
        if items:
            view["items"] = items
        return view
    owner = data.get("seller_id")
    if owner is None:
        owner = product_sellers.get(str(data.get("product_id") or data.get("variant_id") or ""))
    if owner != seller_id:
        return None
    return {name: value for name, value in data.items() if name not in ("user_id", "email")}


def signature(secret: str, timestamp: int, body: str) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, header: str, body: str, now: float, tolerance: float = 300) -> bool:
    """A receiver's check: the signature matches and its time is within `tolerance` seconds of `now`."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body).split(",v1=", 1)[1]
    return hmac.compare_digest(expected, fields.get("v1", ""))
