"""What becomes a notification, and for whom: a table from event type to rule, data-driven so that event types
other work adds (fulfilments, returns, reviews, purchase orders) notify once they are emitted.

A rule reads an event's `data` (docs/events.md) and the `Facts` the notifier looked up for the batch (which
product a variant belongs to, units available now) and names `Notice`s: a kind, an `Audience` (one user, the
users wishlisting a product, a seller's user, the admins), the text, and a `key` that makes one notification of
the same subject, person and kind only once (an order's confirmation is one notice whether it came from
`order.created` or `order.confirmed`). Pure: no Ray, no Redis.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from domain.errors import Invalid

AudienceKind = Literal["user", "wishlisters", "seller", "admins"]


@dataclass(frozen=True)
class Audience:
    kind: AudienceKind
    id: str | None = None  # user id, product id (wishlisters) or seller id
    variant_id: str | None = None  # wishlisters of this variant (or of the whole product)


@dataclass(frozen=True)
class Notice:
    kind: str
    audience: Audience
    title: str
    body: str
    key: str  # the subject: one notice per (key, user, kind)
    data: dict[str, Any] = field(default_factory=dict)
    email_only: bool = False  # a secret (a reset token) that the inbox must never hold


@dataclass
class Facts:
    """What the notifier looked up for a batch of events."""

    products: dict[str, dict[str, Any]] = field(default_factory=dict)  # product_id -> {id, name, seller_id}
    variant_products: dict[str, str] = field(default_factory=dict)  # variant_id -> product_id
    available: dict[str, int] = field(default_factory=dict)  # variant_id -> units available now
    order_numbers: dict[str, str] = field(default_factory=dict)  # order_id -> order_number (events lacking it)

    def product_name(self, product_id: str | None) -> str:
        return str((self.products.get(product_id or "") or {}).get("name") or "An item on your wishlist")


Rule = Callable[[str, dict[str, Any], Facts], list[Notice]]

# the kinds a user may turn off; security messages (password_reset) are always sent
KINDS = ("order_confirmed", "payment_failed", "order_shipped", "order_delivered", "return_approved",
         "refund_issued", "price_drop", "back_in_stock", "low_stock", "review_held")


@dataclass(frozen=True)
class Notifications:
    # a user's notification preferences (`preferences.notifications` of domain/users.py)
    """Channels on or off (`in_app`: the inbox and its live stream), and kinds (domain/notices.py KINDS) muted on
    every channel. A password reset is mailed whatever these say."""

    email: bool = True
    sms: bool = False
    push: bool = True
    in_app: bool = True
    muted: tuple[str, ...] = ()

    def wants(self, kind: str, channel: str) -> bool:
        if kind == "password_reset":
            return channel == "email"
        return kind not in self.muted and bool(getattr(self, channel, False))


def muted_kinds(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(k, str) and k in KINDS for k in value):
        raise Invalid("invalid_preferences", f"muted is a list of notification kinds: {', '.join(KINDS)}",
                      {"field": "notifications.muted"})
    return tuple(dict.fromkeys(value))


def _order_label(data: dict[str, Any], facts: Facts) -> str:
    order_id = str(data.get("order_id", ""))
    return str(data.get("order_number") or facts.order_numbers.get(order_id) or order_id)


def _to_shopper(kind: str, title: str, body: str) -> Rule:
    def rule(event_id: str, data: dict[str, Any], facts: Facts) -> list[Notice]:
        user_id, order_id = data.get("user_id"), data.get("order_id")
        if not user_id:
            return []
        subject = data.get("fulfilment_id") or data.get("return_id") or order_id or event_id
        label = _order_label(data, facts)
        return [Notice(kind, Audience("user", str(user_id)), title.format(order=label),
                       body.format(order=label, tracking=data.get("tracking_number") or "not given yet",
                                   amount=_money(data.get("refund_amount"), data.get("currency"))),
                       key=f"{subject}", data=_order_fields(data))]
    return rule


def _order_fields(data: dict[str, Any]) -> dict[str, Any]:
    keep = ("order_id", "order_number", "tracking_number", "fulfilment_id", "return_id", "refund_amount", "currency")
    return {name: data[name] for name in keep if data.get(name) is not None}


def _money(amount: Any, currency: Any) -> str:
    if not isinstance(amount, int):
        return ""
    return f"{amount // 100}.{amount % 100:02d} {currency or ''}".strip()


def _payment_failed(event_id: str, data: dict[str, Any], facts: Facts) -> list[Notice]:
    reason = str(data.get("reason") or "")
    if not reason.startswith("payment_declined") or not data.get("user_id"):
        return []
    # generic on purpose: the decline code (and a fraud decision) stays in the event, as the 402 answer does
    return [Notice("payment_failed", Audience("user", str(data["user_id"])), "Your payment did not go through",
                   "Your card was declined, so no order was placed. Please try another payment method.",
                   key=event_id)]


def _refund(event_id: str, data: dict[str, Any], facts: Facts) -> list[Notice]:
    amount = data.get("refund_amount", data.get("amount"))  # order.lines_cancelled / return.refunded
    if not isinstance(amount, int) or amount <= 0:
        return []
    data = {**data, "refund_amount": amount}
    return _to_shopper("refund_issued", "Refund issued for order {order}",
                       "We refunded {amount} for order {order}.")(event_id, data, facts)


def _price_drop(event_id: str, data: dict[str, Any], facts: Facts) -> list[Notice]:
    before = _effective(data.get("old_price"), data.get("old_sale_price"))
    after = _effective(data.get("price"), data.get("sale_price"))
    product_id = data.get("product_id")
    if before is None or after is None or after >= before or not product_id:
        return []
    name = facts.product_name(product_id)
    return [Notice("price_drop", Audience("wishlisters", str(product_id), data.get("variant_id")),
                   f"Price drop: {name}",
                   f"{name} is now {_money(after, data.get('currency'))} (was {_money(before, data.get('currency'))}).",
                   key=event_id, data={"product_id": product_id, "variant_id": data.get("variant_id"),
                                       "price": after, "old_price": before, "currency": data.get("currency")})]


def _effective(price: Any, sale_price: Any) -> int | None:
    if isinstance(sale_price, int):
        return sale_price
    return price if isinstance(price, int) else None


def restocked(data: dict[str, Any], facts: Facts) -> list[str]:
    """The variants this stock event took from none available to some."""
    if isinstance(data.get("available"), int) and isinstance(data.get("delta"), int) and data.get("variant_id"):
        after, delta = data["available"], data["delta"]
        return [data["variant_id"]] if after > 0 and after - delta <= 0 else []
    added: dict[str, int] = {}
    if isinstance(data.get("lines"), dict):
        added = {str(v): int(q) for v, q in data["lines"].items() if isinstance(q, int)}
    elif data.get("variant_id") and isinstance(data.get("quantity"), int):
        added = {str(data["variant_id"]): int(data["quantity"])}
    # the level now, less what this event added: it was empty before it (read after the fact; a later change
    # in between can hide or repeat a notice, never break anything)
    return [v for v, qty in added.items() if qty > 0 and 0 < facts.available.get(v, 0) <= qty]


def _back_in_stock(event_id: str, data: dict[str, Any], facts: Facts) -> list[Notice]:
    notices = []
    for variant_id in restocked(data, facts):
        product_id = facts.variant_products.get(variant_id)
        if product_id is None:
            continue
        name = facts.product_name(product_id)
        notices.append(Notice("back_in_stock", Audience("wishlisters", product_id, variant_id),
                              f"Back in stock: {name}", f"{name} is available again.", key=event_id,
                              data={"product_id": product_id, "variant_id": variant_id}))
    return notices


def _low_stock(event_id: str, data: dict[str, Any], facts: Facts) -> list[Notice]:
    variant_id = data.get("variant_id")
    product_id = facts.variant_products.get(str(variant_id))
    seller_id = data.get("seller_id") or (facts.products.get(product_id or "") or {}).get("seller_id")
    if not seller_id:
        return []  # the shop's own product: the admins' replenishment report covers it
    name = facts.product_name(product_id)
    return [Notice("low_stock", Audience("seller", str(seller_id)), f"Low stock: {name}",
                   f"{name} has {data.get('available')} units available (threshold {data.get('threshold')}).",
                   key=event_id, data={"product_id": product_id, "variant_id": variant_id,
                                       "available": data.get("available")})]


def _review_held(event_id: str, data: dict[str, Any], facts: Facts) -> list[Notice]:
    reasons = data.get("reasons") or ([data["reason"]] if data.get("reason") else [])
    name, reason = facts.product_name(data.get("product_id")), ", ".join(map(str, reasons)) or "the automatic checks"
    return [Notice("review_held", Audience("admins"), "A review is waiting for moderation",
                   f"A review of {name} was held: {reason}.",
                   key=event_id, data={"review_id": data.get("review_id"), "product_id": data.get("product_id")})]


_confirmed = _to_shopper("order_confirmed", "Order {order} confirmed", "Thank you! Your order {order} is confirmed.")
_shipped = _to_shopper("order_shipped", "Order {order} shipped",
                       "Your order {order} is on its way. Tracking: {tracking}.")
_delivered = _to_shopper("order_delivered", "Order {order} delivered", "Your order {order} was delivered.")
_return_approved = _to_shopper("return_approved", "Return approved for order {order}",
                               "Your return for order {order} was approved.")

RULES: dict[str, Rule] = {
    "order.created": _confirmed,
    "order.confirmed": _confirmed,
    "checkout.failed": _payment_failed,
    # a shopper hears of each parcel (every order ships and is delivered through its fulfilments, the admin's
    # whole-order moves too); `order.shipped`/`order.delivered` follow the last parcel's event and would repeat it
    "fulfilment.shipped": _shipped,
    "fulfilment.delivered": _delivered,
    "return.approved": _return_approved,
    "return.refunded": _refund,
    "order.lines_cancelled": _refund,
    "product.price_changed": _price_drop,
    "inventory.adjusted": _back_in_stock,
    "inventory.released": _back_in_stock,
    "inventory.expired": _back_in_stock,
    "inventory.restocked": _back_in_stock,  # returned units (resellable) back on hand
    # a received purchase order is followed by its `inventory.adjusted`, which tells of the restock once
    "inventory.low_stock": _low_stock,
    "review.held": _review_held,
}
STOCK_TYPES = frozenset({"inventory.adjusted", "inventory.released", "inventory.expired", "inventory.restocked",
                         "inventory.low_stock"})


def notices(event_id: str, type: str, data: dict[str, Any], facts: Facts) -> list[Notice]:
    rule = RULES.get(type)
    return rule(event_id, data, facts) if rule is not None else []


def password_reset(entry_id: str, message: dict[str, str]) -> Notice:
    """The outbox's reset message as an email-only notice (its token in the mail's text, nowhere else)."""
    return Notice("password_reset", Audience("user", message.get("user_id")), "Reset your Bazaar password",
                  f"Use this token to choose a new password: {message.get('token')}\n"
                  "(POST /v1/auth/password-reset/confirm). It works once and expires soon. "
                  "If you did not ask for it, ignore this message.",
                  key=entry_id, email_only=True, data={"email": message.get("email")})
