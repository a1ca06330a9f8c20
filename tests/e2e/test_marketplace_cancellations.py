"""Cancelling part of an order across sellers, by the shopper, by a seller, and the admin moving a whole mixed order:
stock back on sale and money back for exactly the units cancelled (docs/api-fulfilment.md)."""

from __future__ import annotations

import pytest

from config import Settings
from tests.marketplace import (
    approved_seller,
    audit_problems,
    buy,
    fulfilment_of,
    ledger,
    levels,
    order,
    payment_of,
    ship,
)
from tests.shop import Shop, assert_error

pytestmark = pytest.mark.ray


def test_the_shopper_cancels_units_before_and_after_the_capture_and_gets_back_exactly_their_worth(
        shop: Shop, settings: Settings) -> None:
    mugs = approved_seller(shop, price=1000, stock=10, name="Mugs")
    teas = approved_seller(shop, price=2500, stock=10, name="Teas")
    ada = shop.register()
    placed = buy(shop, ada, [(mugs, 3), (teas, 2)])
    order_id = placed["id"]
    assert placed["total"] == 8640  # mugs worth 3000 + 240, teas 5000 + 400
    cancel = f"/v1/orders/{order_id}/cancel"

    r = shop.http.post(cancel, headers=ada.headers, json={"lines": [{"variant_id": mugs.variant_id, "quantity": 1}]})
    assert r.status_code == 200, r.text
    assert r.json()["order"]["status"] == "confirmed"
    assert levels(shop, mugs) == (10, 2, 8)
    assert payment_of(shop, order_id) == {"captured": 0, "refunded": 0, "status": "authorized"}

    ship(shop, mugs, fulfilment_of(placed, mugs)["id"], "1Z-MUGS")  # captures all but the cancelled mug
    assert payment_of(shop, order_id) == {"captured": 8640 - 1080, "refunded": 0, "status": "paid"}
    assert_error(shop.http.post(cancel, headers=ada.headers), 409, "already_shipped")

    r = shop.http.post(cancel, headers=ada.headers, json={"lines": [{"variant_id": teas.variant_id, "quantity": 2}],
                                                          "reason": "changed my mind"})
    assert r.status_code == 200, r.text
    after = r.json()["order"]
    assert after["status"] == "shipped"  # what is left of the order has shipped
    assert fulfilment_of(after, teas)["status"] == "cancelled"
    assert payment_of(shop, order_id) == {"captured": 7560, "refunded": 5400, "status": "partially_refunded"}
    assert levels(shop, teas) == (10, 0, 10)
    assert_error(shop.http.post(cancel, headers=ada.headers,
                                json={"lines": [{"variant_id": mugs.variant_id, "quantity": 1}]}), 409,
                 "not_cancellable")
    assert_error(shop.http.post(f"/v1/seller/fulfilments/{fulfilment_of(placed, teas)['id']}/ship",
                                json={"carrier": "DHL", "tracking_number": "X"}, headers=teas.headers),
                 409, "invalid_transition")  # no shipping a cancelled line
    assert (ledger(shop, mugs)["sales"], ledger(shop, mugs)["commission"]) == (2160, 216)
    assert ledger(shop, teas)["sales"] == 0
    assert audit_problems(settings, order_id, mugs.seller_id, teas.seller_id) == []


def test_a_seller_cancels_its_parcel_with_a_reason_and_the_last_one_cancels_the_order(shop: Shop) -> None:
    mugs = approved_seller(shop, price=1000, stock=10, name="Mugs")
    teas = approved_seller(shop, price=2500, stock=10, name="Teas")
    ada = shop.register()
    placed = buy(shop, ada, [(mugs, 1), (teas, 1)])
    tea_parcel, mug_parcel = fulfilment_of(placed, teas)["id"], fulfilment_of(placed, mugs)["id"]
    reason = {"reason": "the warehouse flooded"}
    assert_error(shop.http.post(f"/v1/seller/fulfilments/{tea_parcel}/cancel", json=reason, headers=mugs.headers),
                 404, "fulfilment_not_found")
    r = shop.http.post(f"/v1/seller/fulfilments/{tea_parcel}/cancel", json=reason, headers=teas.headers)
    assert r.status_code == 200, r.text
    assert fulfilment_of(r.json()["order"], teas)["cancel_reason"] == "the warehouse flooded"
    assert order(shop, ada, placed["id"])["status"] == "confirmed" and levels(shop, teas) == (10, 0, 10)
    r = shop.http.post(f"/v1/seller/fulfilments/{mug_parcel}/cancel", json=reason, headers=mugs.headers)
    assert r.status_code == 200, r.text
    cancelled = order(shop, ada, placed["id"])
    assert (cancelled["status"], cancelled["payment_status"]) == ("cancelled", "voided")
    assert levels(shop, mugs) == (10, 0, 10)


def test_the_admin_moves_a_whole_mixed_order_through_every_parcel(shop: Shop) -> None:
    mugs = approved_seller(shop, price=1000, stock=10, name="Mugs")
    teas = approved_seller(shop, price=2500, stock=10, name="Teas")
    ada = shop.register()
    placed = buy(shop, ada, [(mugs, 2), (teas, 1)])
    status = f"/v1/admin/orders/{placed['id']}/status"
    for body in ({"status": "packed"}, {"status": "shipped", "tracking_number": "1Z-ALL"}, {"status": "delivered"}):
        r = shop.http.post(status, json=body, headers=shop.admin.headers)
        assert r.status_code == 200, r.text
        assert r.json()["order"]["status"] == body["status"]
    done = order(shop, ada, placed["id"])
    assert {f["status"] for f in done["fulfilments"]} == {"delivered"}
    assert {f["tracking_number"] for f in done["fulfilments"]} == {"1Z-ALL"}
    assert done["payment_status"] == "paid" and levels(shop, mugs) == (8, 0, 8) and levels(shop, teas) == (9, 0, 9)
    assert ledger(shop, mugs)["sales"] == 2160 and ledger(shop, teas)["sales"] == 2700


def test_nobody_touches_another_shoppers_order_or_another_sellers_parcel(shop: Shop) -> None:
    mugs = approved_seller(shop, price=1000, stock=10, name="Mugs")
    ada, eve = shop.register(), shop.register()
    placed = buy(shop, ada, [(mugs, 2)])
    order_id, parcel = placed["id"], placed["fulfilments"][0]["id"]
    line = {"lines": [{"variant_id": mugs.variant_id, "quantity": 1}]}
    assert_error(shop.http.post(f"/v1/orders/{order_id}/cancel", json=line, headers=eve.headers), 404)
    assert_error(shop.http.post(f"/v1/orders/{order_id}/returns", json={**line, "reason": "x"}, headers=eve.headers),
                 404)
    assert_error(shop.http.get(f"/v1/orders/{order_id}/returns", headers=eve.headers), 404)
    assert_error(shop.http.post(f"/v1/orders/{order_id}/returns", json={**line, "reason": "not yet"},
                                headers=ada.headers), 409, "not_returnable")  # not delivered yet
    assert_error(shop.http.post(f"/v1/seller/fulfilments/{parcel}/deliver", headers=eve.headers), 403)
    assert_error(shop.http.post("/v1/seller/fulfilments/not-an-id/deliver", headers=mugs.headers), 422)
    unknown = "ful_" + order_id[4:-1] + ("0" if order_id[-1] != "0" else "1") + "-1"
    assert_error(shop.http.post(f"/v1/seller/fulfilments/{unknown}/deliver", headers=mugs.headers), 404)
    assert_error(shop.http.post(f"/v1/seller/fulfilments/{parcel}/deliver", headers=mugs.headers), 409,
                 "invalid_transition")  # not shipped yet
    too_many = {"lines": [{"variant_id": mugs.variant_id, "quantity": 3}]}
    assert_error(shop.http.post(f"/v1/orders/{order_id}/cancel", json=too_many, headers=ada.headers), 409,
                 "not_cancellable")
    assert order(shop, ada, order_id)["status"] == "confirmed" and levels(shop, mugs) == (10, 2, 8)


def test_after_a_chargeback_a_cancellation_is_refused_whole_and_the_stock_stays_committed(shop: Shop) -> None:
    mugs = approved_seller(shop, price=1000, stock=10, name="Mugs")
    teas = approved_seller(shop, price=2500, stock=10, name="Teas")
    ada = shop.register()
    placed = buy(shop, ada, [(mugs, 1), (teas, 1)])
    ship(shop, mugs, fulfilment_of(placed, mugs)["id"], "1Z-MUG")
    r = shop.http.post(f"/v1/admin/orders/{placed['id']}/chargeback", json={"reason": "fraudulent"},
                       headers=shop.admin.headers)
    assert r.status_code == 200, r.text
    refused = shop.http.post(f"/v1/orders/{placed['id']}/cancel", headers=ada.headers,
                             json={"lines": [{"variant_id": teas.variant_id, "quantity": 1}]})
    assert_error(refused, 409, "payment_not_refundable")
    assert levels(shop, teas) == (10, 1, 9)
    assert fulfilment_of(order(shop, ada, placed["id"]), teas)["status"] == "open"
