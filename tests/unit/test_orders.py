"""The order lifecycle, without Ray or Redis."""

from __future__ import annotations

import pytest

from domain.errors import Conflict, Invalid
from domain.orders import CANCELLABLE, NEXT, Order, customer_view, view_for


def placed(held: bool = False) -> Order:
    return Order.place(
        held_for_review=held, id="ord_1", order_number="BZ-100001", user_id="usr_1",
        items=[{"product_id": "prd_1", "variant_id": "var_1", "name": "Tee", "sku": "T-1", "quantity": 2,
                "price": 1000, "total_price": 2000, "seller_id": None}],
        subtotal=2000, tax=160, shipping=499, discount=0, total=2659, currency="USD",
        shipping_address={"city": "Springfield"}, payment_method={"brand": "visa", "last4": "4242"},
        payment_id="pay_1", reservations=[{"id": "rsv-1", "variant_ids": ["var_1"]}])


def test_a_paid_order_starts_confirmed_and_a_held_one_pending() -> None:
    assert placed().status == "confirmed" and placed().payment_status == "authorized"
    assert placed(held=True).status == "pending"
    order = placed()
    assert order.history == [{"status": "confirmed", "at": order.created_at}]


def test_the_happy_path_runs_to_delivery_and_records_history() -> None:
    order = placed()
    order.move_to("packed", "t1")
    order.move_to("shipped", "t2", tracking_number="1Z")
    order.move_to("delivered", "t3")
    assert [h["status"] for h in order.history] == ["confirmed", "packed", "shipped", "delivered"]
    assert order.tracking_number == "1Z" and order.updated_at == "t3"


def test_shipping_needs_a_tracking_number() -> None:
    order = placed()
    order.move_to("packed", "t1")
    with pytest.raises(Invalid):
        order.move_to("shipped", "t2")
    assert order.status == "packed"


@pytest.mark.parametrize("status", sorted(NEXT))
def test_cancelling_is_allowed_exactly_before_shipping(status: str) -> None:
    order = placed()
    order.status = status
    if status in CANCELLABLE:
        order.move_to("cancelled", "t")
        assert order.status == "cancelled"
    else:
        with pytest.raises(Conflict):
            order.move_to("cancelled", "t")
        assert order.status == status


def test_no_skipping_steps_and_no_unknown_statuses() -> None:
    order = placed()
    with pytest.raises(Conflict) as caught:
        order.move_to("delivered", "t")
    assert caught.value.code == "invalid_transition"
    with pytest.raises(Invalid):
        order.move_to("teleported", "t")


def test_the_public_view_hides_bookkeeping_and_round_trips() -> None:
    order = placed()
    view = order.view()
    assert "reservations" not in view and "seller_id" not in view["items"][0]
    assert Order.from_dict(order.to_dict()) == order


def test_a_customer_sees_the_contracts_fields_only_and_an_admin_everything() -> None:
    order = placed()
    order.coupon_code = "FLAT5"
    order.move_to("packed", "t1", note="manual fraud review passed")
    full = order.view()
    seen = customer_view(full)
    assert "payment_id" not in seen and "reservations" not in seen and seen["coupon_code"] == "FLAT5"
    assert set(seen["items"][0]) == {"product_id", "variant_id", "name", "sku", "quantity", "price", "total_price",
                                     "worth", "cancelled", "shipped", "delivered", "returned"}  # not `settled`
    assert set(seen["fulfilments"][0]) == {"id", "variant_ids", "status", "carrier", "tracking_number",
                                           "estimated_delivery", "shipped_at", "delivered_at", "history", "lines"}
    assert seen["history"] == [{"status": "confirmed", "at": order.created_at}, {"status": "packed", "at": "t1"}]
    assert view_for(full, admin=True)["payment_id"] == "pay_1" and full["history"][-1]["note"]
    assert view_for(full, admin=False) == seen
