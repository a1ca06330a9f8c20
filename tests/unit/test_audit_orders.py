"""The audit's checks of orders across sellers over a store made by the domain rules (one seller's looms and kite
shipped, delivered, one of each returned and refunded; a lamp of the other seller cancelled after the capture; the
shop's own tape still committed), then broken one way at a time: each kind of damage is named."""

from __future__ import annotations

from domain.audit import Snapshot, audit
from tests.unit.test_marketplace_machine import OrderAcrossSellers

ORDER = "ord_01HZZZZZZZZZZZZZZZZZZZZZZZ"


def sound_store() -> Snapshot:
    shop = OrderAcrossSellers()
    shop.ship(0, "UPS")  # sel_a's parcel: the looms and the kite
    shop.deliver(0)
    shop.request_return(0, 1, False)
    shop.decide(0, True)
    shop.receive(0, "resellable")
    shop.cancel({"lamp": 1}, 1)
    assert shop.steps == 6, "every step of the story was accepted"
    return shop.snapshot()


def problems(store: Snapshot) -> list[tuple[str, str]]:
    return sorted((v.check, v.subject) for v in audit(store))


def test_a_store_of_orders_across_sellers_is_sound() -> None:
    store = sound_store()
    order = store.orders[ORDER]
    assert order["status"] == "partially_shipped" and order["captured"] > order["refunded"] > 0
    assert audit(store) == []


def test_a_refund_the_order_does_not_know_breaks_the_money_identity() -> None:
    store = sound_store()
    payment = store.payments[store.orders[ORDER]["payment_id"]]
    payment["refunded"] += 100
    assert problems(store) == [("payments", ORDER)]
    store = sound_store()
    store.orders[ORDER]["items"][0]["settled"] += 1  # retained no longer = captured - refunded
    assert problems(store) == [("payments", ORDER)]


def test_a_fulfilment_whose_lines_did_not_ship_and_a_status_that_does_not_follow_are_found() -> None:
    store = sound_store()
    store.orders[ORDER]["fulfilments"][1]["status"] = "shipped"  # the lamp's parcel never left
    assert ("orders", ORDER) in problems(store)
    store = sound_store()
    store.orders[ORDER]["status"] = "shipped"
    assert problems(store) == [("orders", ORDER)]


def test_a_unit_returned_twice_is_found() -> None:
    store = sound_store()
    returned = store.orders[ORDER]["returns"][0]
    store.orders[ORDER]["returns"].append({**returned, "id": returned["id"][:-1] + "9", "status": "requested",
                                           "lines": {"loom": 3}})
    assert problems(store) == [("orders", ORDER)]


def test_stock_settled_without_the_order_is_found() -> None:
    store = sound_store()
    reservation = store.reservations["chk_1-1"]
    reservation["released"]["lamp"] = 0  # the cancelled lamp never went back on sale
    assert ("sold", ORDER) in problems(store)


def test_a_sale_or_refund_missing_from_a_seller_ledger_is_found() -> None:
    store = sound_store()
    ledger = store.seller_ledgers["sel_a"]
    sale = next(key for key in ledger if key.endswith(":sale"))
    ledger[sale] = {**ledger[sale], "amount": ledger[sale]["amount"] - 1}
    assert problems(store) == [("ledger", "sel_a")]
    store = sound_store()
    del store.seller_ledgers["sel_a"][next(k for k in store.seller_ledgers["sel_a"] if k.endswith(":refund"))]
    assert problems(store) == [("ledger", "sel_a")]
    store = sound_store()
    store.seller_ledgers["sel_a"]["x:sale"] = {"id": "x:sale", "kind": "sale", "amount": 5, "order_id": "ord_gone",
                                               "at": "2000-01-01T00:00:00Z"}
    assert problems(store) == [("ledger", "sel_a")]
