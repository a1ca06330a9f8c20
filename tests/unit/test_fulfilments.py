"""Orders across sellers, the rules alone: the split, what each line is worth, partial settlement of stock,
returned units back on the shelf or into the damaged bin, and the return window."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain import fulfilments as F
from domain import returns as R
from domain.clock import now
from domain.errors import Conflict
from domain.inventory import StockLedger
from domain.orders import Order, OrderLine

ORDER_ID = "ord_01HZZZZZZZZZZZZZZZZZZZZZZZ"


def placed(discount: int = 0, tax: int = 0) -> Order:
    lines = [OrderLine("p1", "loom", "Loom", "L", 3, 1000, 3000, "sel_a"),
             OrderLine("p2", "lamp", "Lamp", "M", 1, 999, 999, "sel_b"),
             OrderLine("p3", "tape", "Tape", "T", 2, 1, 2, None)]
    subtotal = sum(ln.total_price for ln in lines)
    return Order.place(held_for_review=False, id=ORDER_ID, order_number="BZ-1", user_id="ada", items=lines,
                       subtotal=subtotal, tax=tax, shipping=499, discount=discount,
                       total=subtotal - discount + tax + 499, currency="USD", shipping_address={}, payment_method={},
                       payment_id=None, reservations=[])


def test_an_order_splits_into_one_fulfilment_per_seller_whose_ids_name_the_order() -> None:
    order = placed()
    assert [(f.seller_id, f.variant_ids) for f in order.fulfilments] == [("sel_a", ["loom"]), ("sel_b", ["lamp"]),
                                                                          (None, ["tape"])]
    assert all(F.order_of(f.id) == ORDER_ID for f in order.fulfilments)
    assert Order.from_dict(order.to_dict()) == order


def test_the_lines_worths_add_up_to_the_total_without_shipping_and_a_line_cancelled_piece_by_piece_too() -> None:
    order = placed(discount=333, tax=293)
    assert sum(ln.worth for ln in order.items) == order.total - order.shipping
    loom = order.line("loom")
    pieces = []
    for _ in range(3):
        pieces.append(F.apply_cancel(order, {"loom": 1}, "t", None))
    assert sum(pieces) == loom.worth and loom.settled == loom.worth
    assert order.fulfilments[0].status == "cancelled"


def test_part_of_a_reservation_ships_part_goes_back_and_a_retry_changes_nothing() -> None:
    ledger = StockLedger()
    ledger.create("loom", 10)
    ledger.create("lamp", 10)
    ledger.reserve("r", {"loom": 3, "lamp": 2}, 0, 60, commit=True)
    ledger.settle("r", {"loom": 3}, {"lamp": 1}, now=1)
    ledger.settle("r", {"loom": 3}, {"lamp": 1}, now=2)  # the same totals again: nothing more moves
    assert (ledger.levels["loom"].on_hand, ledger.levels["loom"].committed) == (7, 0)
    assert (ledger.levels["lamp"].on_hand, ledger.levels["lamp"].committed) == (10, 1)
    with pytest.raises(Conflict):
        ledger.settle("r", {"loom": 2}, {}, now=3)  # totals never go back
    with pytest.raises(Conflict):
        ledger.release("r", now=3)  # part of it shipped: the rest is settled, not released whole
    ledger.settle("r", {}, {"lamp": 2}, now=4)
    assert ledger.reservations["r"].status == "shipped" and ledger.violations() == []


def test_returned_units_go_back_on_the_shelf_or_into_the_damaged_bin_once() -> None:
    ledger = StockLedger()
    ledger.create("loom", 5)
    ledger.restock("ret_1-0", {"loom": 2}, "resellable", now=1)
    ledger.restock("ret_1-0", {"loom": 2}, "resellable", now=2)
    ledger.restock("ret_2-0", {"loom": 1}, "damaged", now=3)
    level = ledger.levels["loom"]
    assert (level.on_hand, level.available, level.damaged) == (7, 7, 1)
    assert level.to_dict()["damaged"] == 1 and ledger.violations() == []


def test_a_return_takes_only_delivered_units_within_the_window() -> None:
    order = placed()
    f = order.fulfilments[0]
    F.apply_ship(order, f, "UPS", "1Z", "eta", {}, "2030-01-01T00:00:00Z")
    with pytest.raises(Conflict) as caught:
        R.request(order, {"loom": 1}, "broken", now(), 30, "t")
    assert caught.value.code == "not_returnable"
    F.apply_deliver(order, f, "2030-01-01T00:00:00Z")
    delivered_at = now().replace(year=2030, month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    with pytest.raises(Conflict) as caught:
        R.request(order, {"loom": 1}, "broken", delivered_at + timedelta(days=31), 30, "t")
    assert caught.value.code == "return_window_closed"
    (made,) = R.request(order, {"loom": 2}, "broken", delivered_at + timedelta(days=29), 30, "t")
    assert (made.seller_id, made.lines) == ("sel_a", {"loom": 2})
    with pytest.raises(Conflict):
        R.request(order, {"loom": 2}, "again", delivered_at, 30, "t")  # one loom is left to return
