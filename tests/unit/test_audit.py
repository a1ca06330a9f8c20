"""The audit's checks over hand-made snapshots of the store: a sound shop passes, each kind of damage is named."""

from __future__ import annotations

from typing import Any

from domain.audit import Snapshot, audit

NOW = 1_800_000_000.0


def sound_shop() -> Snapshot:
    """One open order (2 mugs, authorized), one shipped order (1 mug, captured), one held reservation."""
    store = Snapshot(now=NOW, recovery_seconds=60)
    store.levels["mug"] = {"on_hand": 9, "reserved": 1, "committed": 2}
    store.reservations = {
        "chk_a-0": {"id": "chk_a-0", "lines": {"mug": 2}, "status": "committed", "expires_at": NOW + 500,
                    "updated_at": NOW - 3600},
        "chk_b-0": {"id": "chk_b-0", "lines": {"mug": 1}, "status": "shipped", "expires_at": NOW - 500,
                    "updated_at": NOW - 3600},
        "cart-hold": {"id": "cart-hold", "lines": {"mug": 1}, "status": "held", "expires_at": NOW + 600,
                      "updated_at": NOW - 10},
    }
    store.orders = {
        "ord_a": order("ord_a", "confirmed", "pay_a", "chk_a-0", 2, 2000),
        "ord_b": order("ord_b", "shipped", "pay_b", "chk_b-0", 1, 1000),
    }
    store.payments = {"pay_a": payment("pay_a", "ord_a", "authorized", 2000),
                      "pay_b": payment("pay_b", "ord_b", "captured", 1000)}
    return store


def order(order_id: str, status: str, payment_id: str | None, reservation: str, quantity: int,
          total: int) -> dict[str, Any]:
    return {"id": order_id, "status": status, "payment_id": payment_id, "total": total, "currency": "USD",
            "items": [{"variant_id": "mug", "quantity": quantity}],
            "reservations": [{"id": reservation, "variant_ids": ["mug"]}]}


def payment(payment_id: str, reference: str, status: str, amount: int) -> dict[str, Any]:
    return {"id": payment_id, "reference": reference, "status": status, "amount": amount, "currency": "USD",
            "updated_at": "2020-01-01T00:00:00.000Z"}


def problems(store: Snapshot) -> list[tuple[str, str]]:
    return [(v.check, v.subject) for v in audit(store)]


def test_a_sound_shop_has_no_violations() -> None:
    assert audit(sound_shop()) == []


def test_units_committed_with_no_order_are_found() -> None:
    store = sound_shop()
    store.levels["mug"]["committed"] += 1
    store.reservations["chk_lost-0"] = {"id": "chk_lost-0", "lines": {"mug": 1}, "status": "committed",
                                        "expires_at": NOW, "updated_at": NOW - 3600}
    assert problems(store) == [("sold", "chk_lost-0")]


def test_a_checkout_in_flight_is_not_a_violation_until_the_recovery_period_passes() -> None:
    store = sound_shop()
    store.levels["mug"]["committed"] += 1
    store.reservations["chk_new-0"] = {"id": "chk_new-0", "lines": {"mug": 1}, "status": "committed",
                                       "expires_at": NOW, "updated_at": NOW - 1}
    store.sagas["chk_new"] = {"id": "chk_new", "order_id": "ord_new", "created_at": NOW - 1, "step": "started"}
    store.payments["pay_new"] = payment("pay_new", "ord_new", "authorized", 500)
    assert audit(store) == []
    store.now += 120
    assert sorted(problems(store)) == [("payments", "pay_new"), ("sagas", "chk_new"), ("sold", "chk_new-0")]


def test_an_order_without_its_payment_or_charged_twice_is_found() -> None:
    store = sound_shop()
    del store.payments["pay_a"]
    assert problems(store) == [("payments", "ord_a")]
    store = sound_shop()
    store.payments["pay_again"] = payment("pay_again", "ord_a", "authorized", 2000)
    assert problems(store) == [("payments", "ord_a")]


def test_an_authorization_left_open_is_found() -> None:
    store = sound_shop()
    store.payments["pay_orphan"] = payment("pay_orphan", "ord_gone", "authorized", 700)
    store.orders["ord_a"]["status"] = "cancelled"
    store.reservations["chk_a-0"]["status"] = "released"
    store.levels["mug"]["committed"] -= 2
    assert sorted(problems(store)) == [("payments", "ord_a"), ("payments", "pay_a"), ("payments", "pay_orphan")]


def test_stock_that_does_not_add_up_is_found() -> None:
    store = sound_shop()
    store.levels["mug"]["reserved"] = 0
    assert problems(store) == [("stock", "mug")]
    store = sound_shop()
    store.levels["mug"]["on_hand"] = 2  # less than reserved + committed: available below zero
    assert problems(store) == [("stock", "mug")]


def test_a_reservation_held_past_its_ttl_and_an_old_saga_are_found() -> None:
    store = sound_shop()
    store.reservations["cart-hold"]["expires_at"] = NOW - 30
    store.sagas["chk_old"] = {"id": "chk_old", "order_id": "ord_old", "created_at": NOW - 600, "step": "compensating"}
    assert sorted(problems(store)) == [("reservations", "cart-hold"), ("sagas", "chk_old")]


def test_an_order_whose_stock_was_not_sold_is_found() -> None:
    store = sound_shop()
    store.reservations["chk_a-0"]["status"] = "released"
    store.levels["mug"]["committed"] = 0
    assert sorted(problems(store)) == [("sold", "mug"), ("sold", "ord_a")]


def test_a_coupon_use_with_no_order_is_found_once_its_checkout_is_no_longer_in_flight() -> None:
    store = sound_shop()
    store.coupon_uses = {"WELCOME10": {"chk_a": {"saga_id": "chk_a", "order_id": "ord_a", "user_id": "ada",
                                                 "at": NOW - 3600},
                                       "chk_x": {"saga_id": "chk_x", "order_id": "ord_x", "user_id": "bob",
                                                 "at": NOW - 5}}}
    assert audit(store) == []  # chk_x's checkout may still be running
    store.now += 120
    assert problems(store) == [("coupons", "WELCOME10/chk_x")]


def test_a_shipped_order_charged_back_is_sound_but_an_open_one_is_not() -> None:
    store = sound_shop()
    store.payments["pay_b"]["status"] = "charged_back"  # the issuer took a shipped order's money back
    assert audit(store) == []
    store.payments["pay_a"]["status"] = "charged_back"  # nothing was captured while it is open
    assert problems(store) == [("payments", "ord_a")]


def test_two_open_purchase_orders_of_a_variant_are_named() -> None:
    store = sound_shop()
    store.watches["mug"] = {"variant_id": "mug", "open_purchase_order": "pur_1"}
    store.purchase_orders = {"pur_1": purchase("pur_1", "open"), "pur_0": purchase("pur_0", "received")}
    assert audit(store) == []
    store.purchase_orders["pur_2"] = purchase("pur_2", "open")
    assert [(v.check, v.subject) for v in audit(store)] == [("purchases", "mug")]
    store.watches["mug"]["open_purchase_order"] = None
    del store.purchase_orders["pur_2"]
    assert [(v.check, v.subject) for v in audit(store)] == [("purchases", "mug")]  # an open order nobody watches


def test_a_purchase_order_opened_a_moment_ago_is_left_to_the_next_audit() -> None:
    store = sound_shop()
    store.purchase_orders = {"pur_1": purchase("pur_1", "open", "2027-01-15T08:00:00Z")}  # NOW, give or take
    assert audit(store) == []  # the watch was read before the order opened


def purchase(order_id: str, status: str, created_at: str = "2026-01-01T00:00:00Z") -> dict[str, Any]:
    return {"id": order_id, "variant_id": "mug", "status": status, "created_at": created_at, "closed_at": None}
