"""Returns of delivered lines: requested by the shopper within the return window, approved or rejected by the
seller (or an admin), received (the units go back on the shelf or into the damaged bin), refunded once.

    requested -> approved -> received -> refunded        requested -> rejected
`receive` and the refund are one step for the shopper shard (actors/fulfilment.py): the units come back and the
money goes out, both keyed by the return's id, then the return is recorded `refunded`. A return's refund is the
worth of its units (domain/fulfilments.py: line by line, pro rata, exact to the cent over many returns);
shipping is not refunded on a return. A unit is returned at most once: a request may only take delivered units
that no other return (not rejected) holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from domain.errors import Conflict, Invalid, NotFound
from domain.fulfilments import fulfilment_of, part_id, sellers_own, worth_of

if TYPE_CHECKING:
    from domain.orders import Order

HOLDING = frozenset({"requested", "approved", "received", "refunded"})  # statuses whose units are taken


@dataclass
class Return:
    id: str
    order_id: str
    seller_id: str | None
    fulfilment_id: str
    lines: dict[str, int]  # variant_id -> units
    reason: str
    status: str = "requested"
    condition: str | None = None  # resellable or damaged, once received
    refund_amount: int | None = None
    rejection_reason: str | None = None
    created_at: str = ""
    history: list[dict[str, Any]] = field(default_factory=list)

    def move(self, status: str, at: str, **note: Any) -> None:
        self.status = status
        self.history.append({"status": status, "at": at, **{k: v for k, v in note.items() if v is not None}})


def find(order: Order, return_id: str, seller_id: str | None = None, admin: bool = True) -> Return:
    found = sellers_own(order.returns, return_id, seller_id, admin)
    if found is None:
        raise NotFound("return_not_found", "No such return", {"return_id": return_id})
    return found


def returnable(order: Order, variant_id: str) -> int:
    """Delivered units of the line that no return holds yet."""
    held = sum(r.lines.get(variant_id, 0) for r in order.returns if r.status in HOLDING)
    return order.line(variant_id).delivered - held


def request(order: Order, wanted: dict[str, int], reason: str, now: datetime, window_days: int,
            at: str) -> list[Return]:
    """One return per seller of the lines asked for; all checked before any is made."""
    if not wanted:
        raise Invalid("no_lines", "A return needs at least one line")
    by_fulfilment: dict[str, dict[str, int]] = {}
    for variant_id, units in wanted.items():
        order.line(variant_id)  # unknown line: 404 unknown_line
        f = fulfilment_of(order, variant_id)
        if units <= 0 or units > returnable(order, variant_id):
            raise Conflict("not_returnable", "Only delivered units not returned yet can be returned",
                           {"variant_id": variant_id, "requested": units,
                            "returnable": max(returnable(order, variant_id), 0)})
        assert f.delivered_at is not None
        closes = datetime.fromisoformat(f.delivered_at.replace("Z", "+00:00")) + timedelta(days=window_days)
        if now > closes:
            raise Conflict("return_window_closed", "The return window of this line has closed",
                           {"variant_id": variant_id, "closed_at": closes.isoformat()})
        by_fulfilment.setdefault(f.id, {})[variant_id] = units
    made = []
    for fulfilment_id, lines in by_fulfilment.items():
        f = next(f for f in order.fulfilments if f.id == fulfilment_id)
        made_return = Return(part_id("ret", order.id, len(order.returns) + 1), order.id, f.seller_id, f.id, lines,
                             reason, created_at=at)
        made_return.move("requested", at, reason=reason)
        order.returns.append(made_return)
        made.append(made_return)
    return made


def decide(found: Return, approve: bool, reason: str | None, at: str) -> bool:
    """Approve or reject a requested return; True when it changed (the same decision again changes nothing)."""
    wanted = "approved" if approve else "rejected"
    if found.status == wanted or (approve and found.status in ("received", "refunded")):
        return False
    if found.status != "requested":
        raise Conflict("invalid_transition", f"A {found.status} return cannot be {wanted}",
                       {"return_id": found.id, "status": found.status})
    if not approve:
        found.rejection_reason = reason
    found.move(wanted, at, reason=reason)
    return True


def refund_amount(order: Order, found: Return) -> int:
    """What the return gives back: the worth of its units (no shipping); never more than is left captured."""
    if found.status != "approved":
        raise Conflict("invalid_transition", f"A {found.status} return cannot be received",
                       {"return_id": found.id, "status": found.status})
    amount = sum(worth_of(order.line(v), k) for v, k in found.lines.items())
    if amount > order.captured - order.refunded:
        raise Conflict("refund_exceeds_captured", "The refund would be more than is left of the captured payment",
                       {"refund": amount, "refundable": order.captured - order.refunded})
    return amount


def apply_refund(order: Order, found: Return, condition: str, amount: int, at: str) -> None:
    for variant_id, units in found.lines.items():
        line = order.line(variant_id)
        line.settled += worth_of(line, units)
        line.returned += units
    order.refunded += amount
    found.condition, found.refund_amount = condition, amount
    found.move("received", at, condition=condition)
    found.move("refunded", at, amount=amount)
