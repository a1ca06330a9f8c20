"""An order across sellers: one fulfilment per seller, what each line is worth, and which status the order follows.

Every order splits, when it is placed, into one fulfilment per seller of its lines (the shop's own lines,
`seller_id` null, are one more "seller"). A fulfilment ships and is delivered on its own; the order's status follows
its fulfilments (`follow`). Fulfilment ids carry their order's id (`ful_<order ulid>-<n>`), so the order, and the
shopper shard owning it, are found from the id alone (`order_of`).

Money, per line (integer minor units; docs/api-fulfilment.md):
    worth     what the shopper paid for the line: its share of (subtotal - discount) plus its share of the tax,
              shares by largest remainder, so the lines' worths add up to total - shipping exactly
    settled   the part of the worth taken off the order: cancelled units (never captured, or refunded when the
              payment was captured already) and returned units (refunded)
    units     `worth_of(line, k)` is the worth of k of the line's remaining units: the remaining worth pro rata,
              and all of it for the last ones, so a line cancelled or returned piece by piece adds up exactly
Shipping is captured with the first shipment and only given back when the whole order is cancelled before any of it
ships (then nothing was captured: the authorization is voided).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from domain.errors import Conflict, Invalid, NotFound

if TYPE_CHECKING:
    from domain.orders import Order, OrderLine

PART_PATTERN = r"^(ful|ret)_[0-9A-HJKMNP-TV-Z]{26}-[0-9]{1,4}$"
_PART = re.compile(PART_PATTERN)
UNSHIPPED = frozenset({"open", "packed"})


class SellersPart(Protocol):
    id: str
    seller_id: str | None


P = TypeVar("P", bound=SellersPart)
GONE = frozenset({"shipped", "delivered"})


@dataclass
class Fulfilment:
    id: str
    seller_id: str | None  # None: the shop's own lines
    variant_ids: list[str]
    status: str = "open"  # open, packed, shipped, delivered, cancelled
    carrier: str | None = None
    tracking_number: str | None = None
    estimated_delivery: str | None = None
    shipped_at: str | None = None
    delivered_at: str | None = None
    sold: int = 0  # the worth of its units when it shipped: the seller's sale
    commission_bps: dict[str, int] = field(default_factory=dict)  # variant -> the rate taken at shipping
    cancel_reason: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)

    def move(self, status: str, at: str, **note: Any) -> None:
        self.status = status
        self.history.append({"status": status, "at": at, **{k: v for k, v in note.items() if v is not None}})


def part_id(kind: str, order_id: str, n: int) -> str:
    return f"{kind}_{order_id[4:]}-{n}"


def order_of(some_part_id: str) -> str:
    """The order a fulfilment (`ful_...`) or return (`ret_...`) belongs to; NotFound for a malformed id."""
    if not _PART.match(some_part_id):
        raise NotFound("not_found", "No such fulfilment or return", {"id": some_part_id})
    return "ord_" + some_part_id[4:].split("-")[0]


def split(order_id: str, lines: Iterable[OrderLine]) -> list[Fulfilment]:
    by_seller: dict[str | None, list[str]] = {}
    for line in lines:
        by_seller.setdefault(line.seller_id, []).append(line.variant_id)
    return [Fulfilment(part_id("ful", order_id, n), seller, variants)
            for n, (seller, variants) in enumerate(by_seller.items(), start=1)]


def allocate(amount: int, weights: list[int]) -> list[int]:
    """`amount` in shares proportional to `weights` (largest remainder; equal shares when all weights are 0)."""
    if not weights:
        return []
    total = sum(weights)
    if total == 0:
        weights, total = [1] * len(weights), len(weights)
    shares = [amount * w // total for w in weights]
    order = sorted(range(len(weights)), key=lambda i: (-(amount * weights[i] % total), i))
    for i in order[:amount - sum(shares)]:
        shares[i] += 1
    return shares


def price_lines(lines: list[OrderLine], discount: int, tax: int) -> None:
    """Set each line's worth: its share of the discounted subtotal plus its share of the tax."""
    nets = [line.total_price - d for line, d in zip(lines, allocate(discount, [ln.total_price for ln in lines]),
                                                    strict=True)]
    for line, net, line_tax in zip(lines, nets, allocate(tax, nets), strict=True):
        line.worth = net + line_tax


def remaining(line: OrderLine) -> int:
    """Units neither cancelled nor returned."""
    return line.quantity - line.cancelled - line.returned


def worth_of(line: OrderLine, units: int) -> int:
    left = remaining(line)
    if units <= 0 or left <= 0:
        return 0
    rest = line.worth - line.settled
    return rest if units >= left else rest * units // left


def fulfilment(order: Order, fulfilment_id: str, seller_id: str | None = None, admin: bool = True) -> Fulfilment:
    """The order's fulfilment, if the caller may act on it (an admin, or the seller it belongs to)."""
    found = sellers_own(order.fulfilments, fulfilment_id, seller_id, admin)
    if found is None:
        raise NotFound("fulfilment_not_found", "No such fulfilment", {"fulfilment_id": fulfilment_id})
    return found


def sellers_own(parts: Iterable[P], wanted_id: str, seller_id: str | None, admin: bool) -> P | None:
    """The part of an order (a fulfilment, a return) with this id, if the caller may act on it: an admin, or the
    seller it belongs to."""
    for found in parts:
        if found.id == wanted_id and (admin or (seller_id is not None and found.seller_id == seller_id)):
            return found
    return None


def fulfilment_of(order: Order, variant_id: str) -> Fulfilment:
    return next(f for f in order.fulfilments if variant_id in f.variant_ids)


def unshipped_units(order: Order, only: Fulfilment | None = None) -> dict[str, int]:
    """Units that may still be cancelled: of fulfilments not shipped yet, neither cancelled nor shipped."""
    units = {}
    for f in ([only] if only else order.fulfilments):
        if f.status in UNSHIPPED:
            for variant_id in f.variant_ids:
                left = order.line(variant_id).quantity - order.line(variant_id).cancelled
                if left > 0:
                    units[variant_id] = left
    return units


def plan_cancel(order: Order, wanted: dict[str, int] | None, only: Fulfilment | None = None) -> dict[str, int]:
    """The units a cancellation takes: `wanted` (variant -> units), or everything unshipped (of `only`)."""
    if order.status == "cancelled":
        raise Conflict("invalid_transition", "The order is cancelled already", {"order_id": order.id})
    open_units = unshipped_units(order, only)
    if wanted is None:
        if not open_units:
            raise Conflict("already_shipped", "Nothing of this is left to cancel: it has shipped",
                           {"order_id": order.id})
        return open_units
    for variant_id, units in wanted.items():
        if variant_id not in {ln.variant_id for ln in order.items} or (
                only is not None and variant_id not in only.variant_ids):
            raise Invalid("unknown_line", "The order has no such line", {"variant_id": variant_id})
        if units > open_units.get(variant_id, 0):
            raise Conflict("not_cancellable", "Only units not shipped yet can be cancelled",
                           {"variant_id": variant_id, "requested": units, "cancellable": open_units.get(variant_id, 0)})
    return dict(wanted)


def cancel_worth(order: Order, units: dict[str, int]) -> int:
    return sum(worth_of(order.line(v), k) for v, k in units.items())


def apply_cancel(order: Order, units: dict[str, int], at: str, reason: str | None) -> int:
    """Take the units off their lines; a fulfilment with nothing left is cancelled. The worth taken off."""
    amount = 0
    for variant_id, k in units.items():
        line = order.line(variant_id)
        worth = worth_of(line, k)
        line.cancelled += k
        line.settled += worth
        amount += worth
    for f in order.fulfilments:
        if f.status in UNSHIPPED and all(order.line(v).cancelled == order.line(v).quantity for v in f.variant_ids):
            f.cancel_reason = reason
            f.move("cancelled", at, reason=reason)
    return amount


def ensure_refundable(payment: dict[str, Any]) -> None:
    """The gateway can refund this payment (not one the card's issuer took back)."""
    if payment["status"] not in ("captured", "partially_refunded"):
        raise Conflict("payment_not_refundable", f"A {payment['status']} payment cannot be refunded",
                       {"status": payment["status"]})


def plan_ship(order: Order, f: Fulfilment) -> dict[str, int]:
    """What shipping the fulfilment takes from the shelf (variant -> units); refused unless it may ship now."""
    if order.status in ("pending", "cancelled"):
        code = "order_on_hold" if order.status == "pending" else "invalid_transition"
        raise Conflict(code, f"A {order.status} order does not ship", {"order_id": order.id})
    if f.status not in UNSHIPPED:
        raise Conflict("invalid_transition", f"A {f.status} fulfilment cannot ship",
                       {"fulfilment_id": f.id, "status": f.status})
    return {v: order.line(v).quantity - order.line(v).cancelled for v in f.variant_ids
            if order.line(v).quantity > order.line(v).cancelled}


def capture_amount(order: Order) -> int:
    """What the first shipment captures: the worth of every unit not cancelled, and the shipping."""
    return sum(ln.worth - ln.settled for ln in order.items) + order.shipping


def apply_ship(order: Order, f: Fulfilment, carrier: str | None, tracking_number: str, estimated_delivery: str,
               rates: dict[str, int], at: str) -> None:
    for variant_id in f.variant_ids:
        line = order.line(variant_id)
        line.shipped = line.quantity - line.cancelled
    f.carrier, f.tracking_number, f.estimated_delivery, f.shipped_at = carrier, tracking_number, estimated_delivery, at
    f.sold = sum(order.line(v).worth - order.line(v).settled for v in f.variant_ids)
    f.commission_bps = {v: rates.get(v, 0) for v in f.variant_ids}
    f.move("shipped", at, carrier=carrier, tracking_number=tracking_number)
    order.tracking_number = tracking_number
    order.estimated_delivery = max(filter(None, [order.estimated_delivery, estimated_delivery]))


def apply_deliver(order: Order, f: Fulfilment, at: str) -> None:
    if f.status != "shipped":
        raise Conflict("invalid_transition", f"A {f.status} fulfilment cannot be delivered",
                       {"fulfilment_id": f.id, "status": f.status})
    for variant_id in f.variant_ids:
        order.line(variant_id).delivered = order.line(variant_id).shipped
    f.delivered_at = at
    f.move("delivered", at)


def status_from(statuses: list[str], current: str) -> str:
    """The order status its fulfilments' statuses give (`current` while none has moved it)."""
    live = [s for s in statuses if s != "cancelled"]
    if not live:
        return "cancelled"
    if all(s == "delivered" for s in live):
        return "delivered"
    if all(s in GONE for s in live):
        return "shipped"
    if any(s in GONE for s in live):
        return "partially_shipped"
    if all(s == "packed" for s in live) and current == "confirmed":
        return "packed"
    return current


def follow(order: Order, at: str, note: str | None = None) -> bool:
    """The order's status from its fulfilments' (history kept); True when it changed."""
    status = status_from([f.status for f in order.fulfilments], order.status)
    if status == order.status:
        return False
    order.status, order.updated_at = status, at
    order.history.append({"status": status, "at": at, **({"note": note} if note else {})})
    return True


def settlement(order: Order, variant_ids: list[str]) -> tuple[dict[str, int], dict[str, int]]:
    """The shipped and released totals of these lines, as a reservation holding them is settled."""
    return ({v: order.line(v).shipped for v in variant_ids}, {v: order.line(v).cancelled for v in variant_ids})
