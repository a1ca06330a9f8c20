"""What the shop owes its sellers: a ledger of entries per seller, each keyed by what made it, so writing an entry
twice is writing it once.

    sale               + the worth of a fulfilment's units when it ships (docs/api-fulfilment.md: sales count at
                         shipping, when the payment is captured)
    commission         - the commission on that sale: per line, its category's rate (settings), rounded half up
    refund             - the worth of returned units when their refund goes out
    commission_refund  + the commission given back on that refund, at the rate taken when it shipped
    payout             - what was paid to the seller through the gateway (pending until the gateway says paid)

balance = the sum of every entry, so for every seller: paid out + balance = sales - refunds - commission
(commission net of what was given back).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from domain.fulfilments import Fulfilment, worth_of

KINDS = ("sale", "commission", "refund", "commission_refund", "payout")


def commission(amount: int, rate_bps: int) -> int:
    return (amount * rate_bps * 2 + 10_000) // 20_000


def entry(entry_id: str, kind: str, amount: int, at: str, **about: Any) -> dict[str, Any]:
    return {"id": entry_id, "kind": kind, "amount": amount, "at": at, **about}


def sale_entries(order: Any, f: Fulfilment, at: str) -> list[dict[str, Any]]:
    """The sale and its commission, for a fulfilment that just shipped (its units' worth in `f.sold`)."""
    taken = sum(commission(order.line(v).worth - order.line(v).settled, f.commission_bps.get(v, 0))
                for v in f.variant_ids)
    about = {"order_id": order.id, "fulfilment_id": f.id}
    return [entry(f"{f.id}:sale", "sale", f.sold, at, **about),
            entry(f"{f.id}:commission", "commission", -taken, at, **about)]


def refund_entries(order: Any, return_id: str, lines: dict[str, int], rates: dict[str, int],
                   at: str) -> list[dict[str, Any]]:
    """The refund of a return's units and the commission given back on it (computed before the refund is applied
    to the order's lines)."""
    refunded = given_back = 0
    for variant_id, units in lines.items():
        worth = worth_of(order.line(variant_id), units)
        refunded += worth
        given_back += commission(worth, rates.get(variant_id, 0))
    about = {"order_id": order.id, "return_id": return_id}
    return [entry(f"{return_id}:refund", "refund", -refunded, at, **about),
            entry(f"{return_id}:commission_refund", "commission_refund", given_back, at, **about)]


def totals(entries: Iterable[dict[str, Any]]) -> dict[str, int]:
    """sales, refunds, commission (net of what was given back), paid_out (pending payouts too) and balance."""
    sums = dict.fromkeys(KINDS, 0)
    for e in entries:
        sums[e["kind"]] += e["amount"]
    return {"sales": sums["sale"], "refunds": -sums["refund"],
            "commission": -(sums["commission"] + sums["commission_refund"]), "paid_out": -sums["payout"],
            "balance": sum(sums.values())}


def payout_id(seller_id: str, entries: Iterable[dict[str, Any]]) -> str:
    """The id of the payout of everything these entries owe: the same ledger gives the same id, so two payout runs
    at once pay once (the gateway call is idempotent by it)."""
    paid_for = seller_id + "|" + ",".join(sorted(e["id"] for e in entries if e["kind"] != "payout"))
    return f"po_{hashlib.blake2b(paid_for.encode(), digest_size=10).hexdigest()}"
