"""The audit's checks of orders across sellers (domain/audit.py runs them): each order's lines against its
reservations, its fulfilments and its money, its returns, and every seller's ledger against the orders.

    lines        per order line, units cancelled + shipped never pass the quantity, returned never passes delivered,
                 and the units no other return holds are never taken twice
    fulfilments  a shipped or delivered fulfilment shipped every unit of its lines not cancelled; an open one none; a
                 cancelled one had all its units cancelled; the order's status is the one its fulfilments give
    money        the gateway's captured and refunded are the order's; refunded never passes captured; once anything
                 was captured, captured = refunded + retained, where retained is the worth of the units neither
                 cancelled nor refunded plus the shipping (domain/fulfilments.py)
    ledger       every shipped fulfilment of a seller has its sale in the seller's ledger (for what it sold), every
                 refunded return its refund, no entry is for an order the store does not have, and for every
                 seller: paid out + balance = sales - refunds - commission

Orders are plain stored JSON here. An order stored before orders split among sellers (no per-line counters) is read
as its status says: all shipped once shipped, all cancelled once cancelled.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from domain.fulfilments import GONE, status_from
from domain.seller_ledger import totals

SHIPPED_ORDER = frozenset({"shipped", "delivered", "return_requested", "returned", "refunded"})


def counts(order: dict[str, Any], line: dict[str, Any]) -> tuple[int, int]:
    """(shipped, cancelled) units of a line, read as its status says for an order without per-line counters."""
    if "shipped" in line:
        return line["shipped"], line.get("cancelled", 0)
    if order["status"] in SHIPPED_ORDER:
        return line["quantity"], 0
    return (0, line["quantity"]) if order["status"] == "cancelled" else (0, 0)


def reservation_counts(reservation: dict[str, Any] | None) -> tuple[Counter[str], Counter[str], Counter[str]]:
    """(shipped, released, still committed) units of a stored reservation, per variant."""
    if reservation is None:
        return Counter(), Counter(), Counter()
    lines = Counter(reservation["lines"])
    shipped, released = Counter(reservation.get("shipped") or {}), Counter(reservation.get("released") or {})
    status = reservation["status"]
    if status == "shipped" and not +shipped:
        shipped = lines - released
    elif status in ("released", "expired"):
        released = lines - shipped
    committed = lines - shipped - released if status == "committed" else Counter()
    return shipped, released, committed


def line_problems(order: dict[str, Any]) -> list[str]:
    found = []
    held: Counter[str] = Counter()
    for ret in order.get("returns", []):
        if ret["status"] != "rejected":
            held.update(ret["lines"])
    for line in order["items"]:
        shipped, cancelled = counts(order, line)
        if shipped + cancelled > line["quantity"] or line.get("returned", 0) > line.get("delivered", shipped):
            found.append(f"line {line['variant_id']} counts more units than it has: {line}")
        if held[line["variant_id"]] > line.get("delivered", shipped):
            found.append(f"line {line['variant_id']}: returns hold {held[line['variant_id']]} units, "
                         f"{line.get('delivered', shipped)} delivered")
    return found


def fulfilment_problems(order: dict[str, Any]) -> list[str]:
    lines = {line["variant_id"]: line for line in order["items"]}
    found = []
    for f in order.get("fulfilments", []):
        for variant_id in f["variant_ids"]:
            line = lines[variant_id]
            shipped, cancelled = counts(order, line)
            expected = {"cancelled": (0, line["quantity"])}.get(f["status"]) or (
                (line["quantity"] - cancelled, cancelled) if f["status"] in GONE else (0, cancelled))
            if (shipped, cancelled) != expected:
                found.append(f"fulfilment {f['id']} is {f['status']} but line {variant_id} shipped {shipped} and "
                             f"cancelled {cancelled} of {line['quantity']}")
    if order.get("fulfilments"):
        wanted = status_from([f["status"] for f in order["fulfilments"]], order["status"])
        if wanted != order["status"]:
            found.append(f"the order is {order['status']} but its fulfilments make it {wanted}")
    return found


def money_problems(order: dict[str, Any], payment: dict[str, Any] | None) -> list[str]:
    if "captured" not in order or payment is None:
        return []
    found = []
    captured, refunded = order["captured"], order["refunded"]
    if (payment.get("captured", 0), payment.get("refunded", 0)) != (captured, refunded):
        found.append(f"the gateway captured {payment.get('captured', 0)} and refunded {payment.get('refunded', 0)}, "
                     f"the order says {captured} and {refunded}")
    if refunded > captured:
        found.append(f"refunded {refunded}, more than the {captured} captured")
    if captured > 0:
        shipped_any = any(counts(order, line)[0] for line in order["items"])
        retained = sum(line["worth"] - line.get("settled", 0) for line in order["items"]) + (
            order["shipping"] if shipped_any else 0)
        if captured != refunded + retained:
            found.append(f"captured {captured} but refunded {refunded} + retained {retained}")
    return found


def ledger_problems(orders: dict[str, dict[str, Any]], ledgers: dict[str, dict[str, dict[str, Any]]],
                    recent: Callable[[str | None], bool]) -> list[tuple[str, str]]:
    """(subject, problem) for every seller ledger that disagrees with the orders."""
    found = []
    for order in orders.values():
        for f in order.get("fulfilments", []):
            seller = f.get("seller_id")
            if seller is None or f["status"] not in GONE or recent(f.get("shipped_at")):
                continue
            sale = ledgers.get(seller, {}).get(f"{f['id']}:sale")
            if sale is None or sale["amount"] != f["sold"]:
                found.append((seller, f"fulfilment {f['id']} sold {f['sold']}, the ledger says "
                                      f"{None if sale is None else sale['amount']}"))
        for ret in order.get("returns", []):
            seller = ret.get("seller_id")
            if seller is None or ret["status"] != "refunded" or recent(ret["history"][-1]["at"]):
                continue
            entry = ledgers.get(seller, {}).get(f"{ret['id']}:refund")
            if entry is None or -entry["amount"] != ret["refund_amount"]:
                found.append((seller, f"return {ret['id']} refunded {ret['refund_amount']}, the ledger says "
                                      f"{None if entry is None else -entry['amount']}"))
    for seller, entries in ledgers.items():
        for entry in entries.values():
            if entry["kind"] != "payout" and entry["order_id"] not in orders and not recent(entry["at"]):
                found.append((seller, f"entry {entry['id']} is for an order the store does not have"))
        money = totals(entries.values())
        if money["paid_out"] + money["balance"] != money["sales"] - money["refunds"] - money["commission"]:
            found.append((seller, f"paid out {money['paid_out']} + balance {money['balance']} is not sales "
                                  f"{money['sales']} - refunds {money['refunds']} - commission {money['commission']}"))
    return found
