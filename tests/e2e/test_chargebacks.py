"""An admin records a chargeback on a shipped order: the fraud model's labels (docs/events.md)."""

from __future__ import annotations

import json

import redis

from config import Settings
from tests.shop import Shop, assert_error


def test_an_admin_records_a_chargeback_on_a_shipped_order_once(
        shop: Shop, settings: Settings, redis_client: redis.Redis) -> None:
    product = shop.product(stock=3, price=4_999)
    shopper = shop.register()
    shop.add_to_cart(shopper, product)
    order = shop.checkout(shopper, shop.checkout_body(shopper)).json()["order"]
    url = f"/v1/admin/orders/{order['id']}/chargeback"
    assert_error(shop.http.post(url, json={"reason": "fraudulent"}, headers=shop.admin.headers), 409,
                 "payment_not_disputable")  # nothing captured before shipping
    status = f"/v1/admin/orders/{order['id']}/status"
    for step in ({"status": "packed"}, {"status": "shipped", "tracking_number": "1Z1"}):
        assert shop.http.post(status, json=step, headers=shop.admin.headers).status_code == 200

    assert_error(shop.http.post(url, json={"reason": "fraudulent"}, headers=shopper.headers), 403)
    assert_error(shop.http.post(url, json={"reason": "Not A Reason!"}, headers=shop.admin.headers), 422)
    taken = shop.http.post(url, json={"reason": "fraudulent"}, headers=shop.admin.headers)
    assert taken.status_code == 200, taken.text
    chargeback = taken.json()["chargeback"]
    assert (chargeback["order_id"], chargeback["amount"], chargeback["status"]) == (
        order["id"], order["total"], "charged_back")
    again = shop.http.post(url, json={"reason": "fraudulent"}, headers=shop.admin.headers)
    assert again.json()["chargeback"] == chargeback  # recorded once

    events = [json.loads(fields["data"]) for _, fields in
              redis_client.xrevrange(settings.events_stream, count=500)  # type: ignore[union-attr]
              if fields["type"] == "payment.chargeback"]
    mine = [event for event in events if event["order_id"] == order["id"]]
    assert len(mine) == 1 and mine[0]["payment_id"] == chargeback["payment_id"]
    assert_error(shop.http.post("/v1/admin/orders/ord_01ARZ3NDEKTSV4RRFFQ69G5FAV/chargeback", json={},
                                headers=shop.admin.headers), 404)
