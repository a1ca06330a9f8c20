"""A checkout: what it will buy, priced and split by inventory shard, and the saga record that lets it be finished
or undone after a crash. Pure: no Ray, no Redis.

The saga's steps, as the shopper shard drives them (actors/checkout.py):

    started       the saga and the Idempotency-Key record are durable; nothing is held, nothing charged
    (authorize)   the payment, keyed by the saga id (skipped when the total is 0)
    (sell)        every line sold at once on its inventory shard, all or nothing per shard, keyed by reservation id
    finished      the order, the cart without the bought lines, the idempotency result: one transaction
    compensating  durable before anything is undone, so recovery keeps undoing and never drives such a saga
                  forward again: every sold line released, the authorization voided, then the saga forgotten

Every step is idempotent, so recovery simply runs the saga again from its recorded step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from domain.carts import Cart
from domain.catalog import Offer
from domain.fraud_features import ShopperHistory
from domain.orders import OrderLine
from domain.payments import CardInfo
from domain.pricing import Quote

Step = Literal["started", "compensating"]


@dataclass(frozen=True)
class CheckoutRequest:
    """What the shopper asked for (POST /v1/checkout's body, checked by the route)."""

    payment_token: str
    shipping_address_id: str | None = None
    shipping_address: dict[str, Any] | None = None
    coupon_code: str | None = None


def unsellable(cart: Cart, offers: Mapping[str, Offer]) -> list[str]:
    """Cart lines that can no longer be bought at all (product gone, variant removed, not on sale)."""
    return [v for v in cart.lines if v not in offers or not offers[v].on_sale]


def order_lines(cart: Cart, offers: Mapping[str, Offer]) -> list[OrderLine]:
    """The order lines at today's prices (sale price when there is one)."""
    lines = []
    for variant_id, line in cart.lines.items():
        offer = offers[variant_id]
        lines.append(OrderLine(line.product_id, variant_id, offer.name, offer.sku, line.quantity, offer.unit_price,
                               offer.unit_price * line.quantity, offer.seller_id))
    return lines


def short_lines(lines: list[OrderLine], available: Mapping[str, int]) -> list[dict[str, Any]]:
    """Lines the committed stock cannot cover right now: a cheap early refusal before anything is charged.
    (The inventory shard still decides; this only spares a doomed checkout the payment round trip.)"""
    return [{"variant_id": ln.variant_id, "requested": ln.quantity, "available": available.get(ln.variant_id, 0)}
            for ln in lines if available.get(ln.variant_id, 0) < ln.quantity]


@dataclass
class ReservationGroup:
    """The lines of a checkout that one inventory shard owns; sold in one all-or-nothing step there."""

    id: str  # "<saga_id>-<shard>"
    shard: int
    lines: dict[str, int]  # variant_id -> quantity


def reservation_groups(saga_id: str, lines: list[OrderLine], shard_of: Callable[[str], int]
                       ) -> list[ReservationGroup]:
    groups: dict[int, dict[str, int]] = {}
    for line in lines:
        groups.setdefault(shard_of(line.variant_id), {})[line.variant_id] = line.quantity
    return [ReservationGroup(f"{saga_id}-{shard}", shard, groups[shard]) for shard in sorted(groups)]


@dataclass
class Saga:
    """Everything needed to finish or undo one checkout after a crash; kept in Redis until it ends."""

    id: str
    order_id: str
    order_number: str
    user_id: str
    idempotency_key: str
    request_hash: str
    lines: list[OrderLine]
    quote: Quote
    address: dict[str, Any]
    token: str
    card: CardInfo  # brand, last4, fingerprint: never the card number
    client_ip: str
    held_for_review: bool
    fraud_reasons: list[str]
    reservations: list[ReservationGroup]
    created_at: float
    step: Step = "started"
    failure: str | None = None  # why it is compensating
    payment_id: str | None = None  # known once authorized (recorded with the compensation, when there is one)
    fraud_score: float | None = None  # the fraud model's, when one was loaded
    history: ShopperHistory = field(default_factory=ShopperHistory)  # the shopper's orders before this one
    account_created_at: str | None = None

    def order_signals(self) -> dict[str, Any]:
        """What `order.created` records for the fraud model's training (docs/events.md). Never the card number."""
        return {"client_ip": self.client_ip, "card_fingerprint": self.card.fingerprint,
                "card_country": self.card.country, "ship_country": self.address.get("country"),
                "account_created_at": self.account_created_at, "held_for_review": self.held_for_review,
                "fraud_score": self.fraud_score}

    @property
    def needs_payment(self) -> bool:
        """A basket that costs nothing (a free item) is not sent to the gateway at all."""
        return self.quote.total > 0

    @property
    def purchased(self) -> dict[str, int]:
        return {ln.variant_id: ln.quantity for ln in self.lines}

    def order_fields(self) -> dict[str, Any]:
        """The fields of the order this saga places (see domain.orders.Order.place)."""
        quote = self.quote
        return {
            "id": self.order_id, "order_number": self.order_number, "user_id": self.user_id, "items": self.lines,
            "subtotal": quote.subtotal, "tax": quote.tax, "shipping": quote.shipping, "discount": quote.discount,
            "total": quote.total, "currency": quote.currency, "coupon_code": quote.coupon,
            "shipping_address": self.address,
            "payment_method": {"brand": self.card.brand, "last4": self.card.last4},
            "payment_id": self.payment_id, "fraud_score": self.fraud_score, "fraud_reasons": self.fraud_reasons,
            "reservations": [{"id": r.id, "variant_ids": list(r.lines)} for r in self.reservations],
        }
