"""Low-stock alerts, automatic purchase orders and the stock's history, on the ledger alone (no Ray, no Redis)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import Conflict, DomainError, Invalid
from domain.inventory import StockLedger


def kettles(on_hand: int = 20, reorder_point: int = 8, reorder_quantity: int = 30) -> StockLedger:
    """A seller's kettle: alert at 4 units available, reorder 30 at 8."""
    ledger = StockLedger()
    ledger.create("kettle", on_hand, low_stock_threshold=4, reorder_point=reorder_point, seller_id="sel_ada")
    ledger.set_replenishment("kettle", reorder_point, reorder_quantity, supplier="Kettle Works")
    ledger.events.clear()
    return ledger


def sell(ledger: StockLedger, order: str, units: int) -> None:
    ledger.reserve(order, {"kettle": units}, now=0, ttl_seconds=60, commit=True)


def types(ledger: StockLedger) -> list[str]:
    return [event_type for event_type, _ in ledger.events]


def open_orders(ledger: StockLedger) -> list[str]:
    return [o.id for o in ledger.watch.purchase_orders.values() if o.status == "open"]


def test_falling_to_the_threshold_raises_one_alert_however_many_sales_follow() -> None:
    ledger = kettles(reorder_quantity=0)
    for n in range(6):
        sell(ledger, f"o{n}", 3)  # 17, 14, 11, 8, 5, 2: the alert at 2, none after
    assert types(ledger).count("inventory.low_stock") == 1
    low = next(data for event_type, data in ledger.events if event_type == "inventory.low_stock")
    assert low == {"variant_id": "kettle", "seller_id": "sel_ada", "available": 2, "threshold": 4, "reorder_point": 8}
    assert set(ledger.watch.alerts) == {"kettle"}
    sell(ledger, "o6", 1)
    assert types(ledger).count("inventory.low_stock") == 1

    ledger.adjust("kettle", 10, "restocked", actor="usr_ada")  # back above: the alert is resolved and re-armed
    assert ledger.watch.alerts == {}
    sell(ledger, "o7", 9)
    assert types(ledger).count("inventory.low_stock") == 2 and ledger.violations() == []


def test_crossing_the_reorder_point_opens_one_purchase_order_until_it_is_received() -> None:
    ledger = kettles()
    sell(ledger, "o1", 12)  # 20 -> 8: at the reorder point
    [order_id] = open_orders(ledger)
    order = ledger.watch.purchase_orders[order_id]
    assert (order.variant_id, order.seller_id, order.supplier, order.quantity) == ("kettle", "sel_ada",
                                                                                     "Kettle Works", 30)
    sell(ledger, "o2", 5)
    ledger.adjust("kettle", 5, "found in the back")  # 8 -> 13: above, then below again while the order is open
    sell(ledger, "o3", 6)
    assert open_orders(ledger) == [order_id] and types(ledger).count("purchase_order.created") == 1

    assert ledger.receive_purchase_order(order_id).status == "received"
    assert ledger.levels["kettle"].available == 32  # 20 - 12 - 5 + 5 - 6 + 30
    assert ledger.receive_purchase_order(order_id).status == "received"  # a retry adds nothing
    assert ledger.levels["kettle"].available == 32 and types(ledger).count("purchase_order.received") == 1
    with pytest.raises(Conflict):
        ledger.cancel_purchase_order(order_id)
    sell(ledger, "o4", 30)  # a new crossing, no order open: a new order
    assert len(open_orders(ledger)) == 1 and open_orders(ledger) != [order_id]
    assert ledger.violations() == []


def test_a_cancelled_order_adds_no_stock_and_cannot_be_received() -> None:
    ledger = kettles()
    sell(ledger, "o1", 15)
    [order_id] = open_orders(ledger)
    assert ledger.cancel_purchase_order(order_id).status == "cancelled"
    assert ledger.cancel_purchase_order(order_id).status == "cancelled"
    with pytest.raises(Conflict):
        ledger.receive_purchase_order(order_id)
    assert ledger.levels["kettle"].available == 5 and open_orders(ledger) == []


def test_setting_a_rule_below_the_point_orders_at_once() -> None:
    ledger = StockLedger()
    ledger.create("kettle", 3, seller_id="sel_ada")
    ledger.set_replenishment("kettle", 10, 25)
    assert len(open_orders(ledger)) == 1
    ledger.set_replenishment("kettle", 12, 25)  # one is open already: no second
    assert len(open_orders(ledger)) == 1
    with pytest.raises(Invalid):
        ledger.set_replenishment("kettle", -1, 25)


def test_every_change_is_in_the_history_with_its_reason_and_actor() -> None:
    ledger = kettles()
    ledger.watch.history.clear()
    sell(ledger, "chk_1-0", 2)
    ledger.adjust("kettle", -1, "dropped", actor="usr_ada")
    ledger.release("chk_1-0", now=1)
    entries = [(e["change"], e["quantity"], e["reference"], e["actor"], e["reason"], e["available"])
               for _, _, e in ledger.watch.history]
    assert entries == [("sold", 2, "chk_1-0", "checkout", None, 18), ("adjusted", -1, None, "usr_ada", "dropped", 17),
                       ("released", 2, "chk_1-0", "system", None, 19)]
    assert [n for _, n, _ in ledger.watch.history] == [2, 3, 4]  # numbered on from "created" (setting a rule is
    # not a change of stock: its event is inventory.replenishment_set)


operation = st.one_of(
    st.tuples(st.just("sell"), st.integers(1, 6)),
    st.tuples(st.just("hold"), st.integers(1, 6)),
    st.tuples(st.just("release"), st.integers(0, 30)),
    st.tuples(st.just("ship"), st.integers(0, 30)),
    st.tuples(st.just("adjust"), st.integers(-6, 6)),
    st.tuples(st.just("receive"), st.integers(0, 3)),
    st.tuples(st.just("cancel"), st.integers(0, 3)),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(operation, max_size=80), st.integers(0, 12), st.integers(1, 20))
def test_replenishment_fires_once_per_crossing_and_never_opens_two_orders(
        ops: list[tuple[str, int]], reorder_point: int, reorder_quantity: int) -> None:
    ledger = kettles(on_hand=reorder_point + 10, reorder_point=reorder_point, reorder_quantity=reorder_quantity)
    expected_orders = expected_alerts = 0
    for step, (name, n) in enumerate(ops):
        level = ledger.levels["kettle"]
        before, was_open = level.available, bool(open_orders(ledger))
        orders = sorted(ledger.watch.purchase_orders)
        try:
            if name in ("sell", "hold"):
                ledger.reserve(f"r{step}", {"kettle": n}, now=step, ttl_seconds=60, commit=name == "sell")
            elif name in ("release", "ship"):
                getattr(ledger, name)(f"r{n}", now=step)
            elif name == "adjust":
                ledger.adjust("kettle", n, "count")
            elif orders:
                order_id = orders[n % len(orders)]
                getattr(ledger, f"{name}_purchase_order")(order_id)
        except DomainError as exc:
            assert exc.code in {"out_of_stock", "insufficient_available", "reservation_not_found", "not_committed",
                                "already_shipped", "purchase_order_closed"}, exc
        after = level.available
        if before > reorder_point >= after and not was_open:
            expected_orders += 1
        if before > level.low_stock_threshold >= after:
            expected_alerts += 1
        assert ledger.violations() == []
        assert len(open_orders(ledger)) <= 1
    assert types(ledger).count("purchase_order.created") == expected_orders
    assert len(ledger.watch.purchase_orders) == expected_orders
    assert types(ledger).count("inventory.low_stock") == expected_alerts
