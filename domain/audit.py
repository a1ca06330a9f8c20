"""The shop's invariants, checked over a snapshot of the whole store (pure: the reading is pipelines/audit.py).

    stock        per variant: on_hand = available + reserved + committed with none negative; reserved is what the
                 held reservations hold and committed what the committed ones hold
    sold         per order and reservation: what the reservation shipped and still holds committed is what the
                 order's lines say they shipped and still await (a cancelled order's reservations released or gone);
                 per variant: committed units = units the orders still await; no committed units without an order
    payments     every order that costs something has its payment, for its total, in the state its status needs
                 (authorized or captured while open, captured (or refunded, charged back) once shipped, voided or
                 refunded once cancelled);
                 every authorization belongs to an open order (else it should have been voided)
    reservations none held past its TTL plus the sweep period
    sagas        none unfinished for longer than the recovery period
    coupons      every use of a limited coupon belongs to an order (else its checkout should have released it)
    purchases    per variant at most one open purchase order, and it is the one its stock watch names
    orders       lines, fulfilments and money of orders across sellers (domain/audit_orders.py)
    ledger       every seller's ledger agrees with the orders and with itself (domain/audit_orders.py)

Work in flight is not a violation: whatever belongs to a checkout saga younger than the recovery period (its
reservations, its authorization) is skipped, as are reservations and payments changed within that period, so the
audit can run against a live shop.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from domain.audit_orders import (
    counts,
    fulfilment_problems,
    ledger_problems,
    line_problems,
    money_problems,
    reservation_counts,
)

OPEN = frozenset({"pending", "confirmed", "packed"})
SHIPPED = frozenset({"partially_shipped", "shipped", "delivered", "return_requested", "returned", "refunded"})
PAYMENT_FOR_STATUS: dict[str, frozenset[str]] = {
    **{status: frozenset({"authorized", "captured"}) for status in OPEN},
    # after shipping the card's issuer may take the captured money back: a chargeback, not an inconsistency
    **{status: frozenset({"captured", "partially_refunded", "refunded", "charged_back"}) for status in SHIPPED},
    "cancelled": frozenset({"voided", "refunded"}),
}
@dataclass(frozen=True)
class Violation:
    check: str  # stock, sold, payments, reservations, sagas, coupons, purchases, orders, ledger
    subject: str  # the variant, order, payment, reservation or saga concerned
    problem: str
    units: int = 0  # units of stock it takes out of sale (committed with no order, held past the TTL)

    def __str__(self) -> str:
        return f"[{self.check}] {self.subject}: {self.problem}"


@dataclass
class Snapshot:
    """The store as read at `now` (epoch seconds). Records are the stored JSON objects."""

    now: float
    levels: dict[str, dict[str, Any]] = field(default_factory=dict)  # variant_id -> stock level
    reservations: dict[str, dict[str, Any]] = field(default_factory=dict)  # reservation_id -> reservation
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)  # order_id -> order
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)  # payment_id -> payment
    sagas: dict[str, dict[str, Any]] = field(default_factory=dict)  # saga_id -> saga
    coupon_uses: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # code -> saga_id -> use
    watches: dict[str, dict[str, Any]] = field(default_factory=dict)  # variant_id -> stock watch
    purchase_orders: dict[str, dict[str, Any]] = field(default_factory=dict)  # purchase_order_id -> order
    seller_ledgers: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # seller -> entry id -> entry
    sweep_seconds: float = 1.0  # how often inventory shards release expired reservations
    recovery_seconds: float = 60.0  # how long a checkout may be in flight before recovery must have ended it


def audit(store: Snapshot) -> list[Violation]:
    return [*_stock(store), *_sold(store), *_payments(store), *_held(store), *_sagas(store), *_coupons(store),
            *_purchases(store), *_orders(store), *_ledgers(store)]


def _in_flight(store: Snapshot) -> tuple[set[str], set[str]]:
    """The ids of young sagas and the orders they will place: their work may be half-way, legitimately."""
    young = {sid for sid, saga in store.sagas.items() if saga["created_at"] > store.now - store.recovery_seconds}
    return young, {store.sagas[sid]["order_id"] for sid in young}


def _saga_of(reservation_id: str) -> str:
    return reservation_id.rsplit("-", 1)[0]


def _stock(store: Snapshot) -> list[Violation]:
    held: Counter[str] = Counter()
    committed: Counter[str] = Counter()
    for reservation in store.reservations.values():
        if reservation["status"] == "held":
            held.update(reservation["lines"])
        elif reservation["status"] == "committed":
            committed.update(reservation_counts(reservation)[2])
    found = []
    for variant_id, level in store.levels.items():
        on_hand, reserved, sold = level["on_hand"], level["reserved"], level["committed"]
        if min(on_hand, reserved, sold, on_hand - reserved - sold) < 0:
            found.append(Violation("stock", variant_id, f"negative stock: on_hand {on_hand}, reserved {reserved}, "
                                                        f"committed {sold}"))
        if reserved != held[variant_id]:
            found.append(Violation("stock", variant_id, f"reserved {reserved} but held reservations hold "
                                                        f"{held[variant_id]}"))
        if sold != committed[variant_id]:
            found.append(Violation("stock", variant_id, f"committed {sold} but committed reservations hold "
                                                        f"{committed[variant_id]}"))
    return found


def _sold(store: Snapshot) -> list[Violation]:
    young, _ = _in_flight(store)
    found = []
    owner = {r["id"]: order_id for order_id, order in store.orders.items() for r in order.get("reservations", [])}
    awaited: Counter[str] = Counter()
    committed: Counter[str] = Counter()
    for order_id, order in store.orders.items():
        lines = {line["variant_id"]: line for line in order["items"]}
        for ref in order.get("reservations", []):
            reservation = store.reservations.get(ref["id"])
            shipped, _, still = reservation_counts(reservation)
            expected_shipped: Counter[str] = Counter()
            expected_still: Counter[str] = Counter()
            for variant_id in ref["variant_ids"]:
                line_shipped, cancelled = counts(order, lines[variant_id])
                expected_shipped[variant_id] = line_shipped
                expected_still[variant_id] = lines[variant_id]["quantity"] - line_shipped - cancelled
            awaited.update(expected_still)
            if reservation is None:
                sound = order["status"] == "cancelled"
            else:
                sound = (+shipped, +still) == (+expected_shipped, +expected_still)
            if not sound:
                status = reservation["status"] if reservation else "missing"
                found.append(Violation("sold", order_id, f"a {order['status']} order's reservation {ref['id']} is "
                                                         f"{status} (shipped {dict(+shipped)}, committed "
                                                         f"{dict(+still)}); its lines shipped "
                                                         f"{dict(+expected_shipped)} and await "
                                                         f"{dict(+expected_still)}"))
    for reservation_id, reservation in store.reservations.items():
        if reservation["status"] != "committed":
            continue
        still = reservation_counts(reservation)[2]
        if reservation_id in owner:
            committed.update(still)
        elif _saga_of(reservation_id) not in young and reservation["updated_at"] < store.now - store.recovery_seconds:
            found.append(Violation("sold", reservation_id, f"units committed with no order: {dict(+still)}",
                                   sum(still.values())))
    for variant_id in sorted(set(+awaited) | set(+committed)):
        if awaited[variant_id] != committed[variant_id]:
            found.append(Violation("sold", variant_id, f"orders await {awaited[variant_id]} units but their "
                                                       f"committed reservations hold {committed[variant_id]}"))
    return found


def _payments(store: Snapshot) -> list[Violation]:
    _, young_orders = _in_flight(store)
    found = []
    by_reference: dict[str, list[dict[str, Any]]] = {}
    for payment in store.payments.values():
        by_reference.setdefault(payment["reference"], []).append(payment)
    for order_id, order in store.orders.items():
        if order["total"] == 0:
            continue
        found_payment = store.payments.get(order.get("payment_id") or "")
        if found_payment is None:
            found.append(Violation("payments", order_id, "an order without its payment"))
            continue
        payment = found_payment
        if payment["amount"] != order["total"] or payment["currency"] != order["currency"]:
            found.append(Violation("payments", order_id, f"the payment is for {payment['amount']} "
                                                         f"{payment['currency']}, the order {order['total']} "
                                                         f"{order['currency']}"))
        if payment["status"] not in PAYMENT_FOR_STATUS.get(order["status"], frozenset()):
            found.append(Violation("payments", order_id, f"a {order['status']} order's payment is "
                                                         f"{payment['status']}"))
        found.extend(Violation("payments", order_id, problem) for problem in money_problems(order, payment))
        others = [p["id"] for p in by_reference.get(order_id, []) if p["id"] != payment["id"]
                  and p["status"] not in ("declined", "voided")]
        if others:
            found.append(Violation("payments", order_id, f"charged more than once: {others}"))
    for payment_id, payment in store.payments.items():
        if payment["status"] != "authorized" or payment["reference"] in young_orders:
            continue
        paid_for = store.orders.get(payment["reference"])
        if (paid_for is None or paid_for["status"] not in OPEN) and not _recent(store, payment["updated_at"]):
            found.append(Violation("payments", payment_id, "an authorization left open: "
                                   + ("no order" if paid_for is None else f"its order is {paid_for['status']}")))
    return found


def _held(store: Snapshot) -> list[Violation]:
    limit = store.now - store.sweep_seconds - 5  # a sweep may run a few seconds late on a busy machine
    return [Violation("reservations", rid, f"held {store.now - r['expires_at']:.0f} s past its TTL",
                      sum(r["lines"].values()))
            for rid, r in store.reservations.items() if r["status"] == "held" and r["expires_at"] < limit]


def _sagas(store: Snapshot) -> list[Violation]:
    return [Violation("sagas", sid, f"unfinished after {store.now - saga['created_at']:.0f} s (step {saga['step']})")
            for sid, saga in store.sagas.items() if saga["created_at"] < store.now - store.recovery_seconds]


def _coupons(store: Snapshot) -> list[Violation]:
    young, _ = _in_flight(store)
    return [Violation("coupons", f"{code}/{saga_id}", f"a use with no order ({use['order_id']})")
            for code, uses in store.coupon_uses.items() for saga_id, use in uses.items()
            if use["order_id"] not in store.orders and saga_id not in young
            and use["at"] < store.now - store.recovery_seconds]


def _purchases(store: Snapshot) -> list[Violation]:
    """Watches are read before the orders; a variant whose order opened or closed within the recovery period may
    have changed between the two reads, so it is left to the next audit."""
    open_orders: dict[str, list[str]] = {}
    moving: set[str] = set()
    for order_id, order in store.purchase_orders.items():
        if _recent(store, order["created_at"]) or (order.get("closed_at") and _recent(store, order["closed_at"])):
            moving.add(order["variant_id"])
        if order["status"] == "open":
            open_orders.setdefault(order["variant_id"], []).append(order_id)
    watched = {v for v, w in store.watches.items() if w.get("open_purchase_order")}
    found = []
    for variant_id in sorted((set(open_orders) | watched) - moving):
        ids, named = open_orders.get(variant_id, []), store.watches.get(variant_id, {}).get("open_purchase_order")
        if len(ids) > 1:
            found.append(Violation("purchases", variant_id, f"{len(ids)} open purchase orders: {sorted(ids)}"))
        elif ids != ([named] if named else []):
            found.append(Violation("purchases", variant_id, f"the stock watch names {named}, the open orders are "
                                                            f"{ids}"))
    return found


def _orders(store: Snapshot) -> list[Violation]:
    return [Violation("orders", order_id, problem) for order_id, order in store.orders.items()
            for problem in (*line_problems(order), *fulfilment_problems(order))]


def _ledgers(store: Snapshot) -> list[Violation]:
    return [Violation("ledger", seller, problem) for seller, problem in ledger_problems(
        store.orders, store.seller_ledgers, lambda at: at is not None and _recent(store, at))]


def _recent(store: Snapshot, iso_time: str) -> bool:
    from datetime import datetime

    return datetime.fromisoformat(iso_time.replace("Z", "+00:00")).timestamp() > store.now - store.recovery_seconds
