"""Orders across sellers, told through HTTP: two sellers, one mixed order, separate shipments, a return refunded, a
payout, with the stock, the money and the ledgers checked at each step (docs/api-fulfilment.md)."""

from __future__ import annotations

import json

import pytest
import redis

from config import Settings
from pipelines import payouts
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
from tests.support import wait_until

pytestmark = pytest.mark.ray


def test_a_mixed_order_ships_per_seller_one_line_comes_back_and_the_sellers_are_paid(
        shop: Shop, settings: Settings, redis_client: redis.Redis) -> None:
    looms = approved_seller(shop, price=3000, stock=10, name="Looms")
    lamps = approved_seller(shop, price=2000, stock=5, name="Lamps")
    ada = shop.register()
    placed = buy(shop, ada, [(looms, 2), (lamps, 1)])
    # subtotal 8000, free shipping, tax 8%: 640; the looms' line is worth 6000 + 480, the lamp's 2000 + 160
    assert (placed["total"], placed["shipping"], placed["status"]) == (8640, 0, "confirmed")
    assert [f["status"] for f in placed["fulfilments"]] == ["open", "open"]
    assert {ln["variant_id"]: ln["worth"] for ln in placed["items"]} == {looms.variant_id: 6480,
                                                                          lamps.variant_id: 2160}
    assert levels(shop, looms) == (10, 2, 8) and levels(shop, lamps) == (5, 1, 4)
    order_id = placed["id"]
    loom_parcel = fulfilment_of(placed, looms)["id"]
    lamp_parcel = fulfilment_of(placed, lamps)["id"]

    # a seller ships only its own parcel; the shopper ships nothing
    wrong = {"carrier": "UPS", "tracking_number": "1Z-WRONG"}
    assert_error(shop.http.post(f"/v1/seller/fulfilments/{loom_parcel}/ship", json=wrong, headers=lamps.headers),
                 404, "fulfilment_not_found")
    assert_error(shop.http.post(f"/v1/seller/fulfilments/{loom_parcel}/ship", json=wrong, headers=ada.headers),
                 403, "seller_only")

    # the looms ship first: the payment is captured whole, the looms leave the shelf, the lamp is still committed
    shipped = ship(shop, looms, loom_parcel, "1Z-LOOMS")
    assert shipped["status"] == "partially_shipped" and "payment_method" not in shipped
    assert [ln["variant_id"] for ln in shipped["items"]] == [looms.variant_id]  # the seller sees its own line
    assert payment_of(shop, order_id) == {"captured": 8640, "refunded": 0, "status": "paid"}
    assert levels(shop, looms) == (8, 0, 8) and levels(shop, lamps) == (5, 1, 4)
    looms_ledger = ledger(shop, looms)
    assert (looms_ledger["sales"], looms_ledger["commission"], looms_ledger["balance"]) == (6480, 648, 5832)
    assert ledger(shop, lamps)["balance"] == 0
    tracking = shop.http.get(f"/v1/orders/{order_id}/tracking", headers=ada.headers)
    assert tracking.status_code == 200, tracking.text
    parcels = {f["id"]: f for f in tracking.json()["tracking"]["fulfilments"]}
    assert parcels[loom_parcel]["tracking_number"] == "1Z-LOOMS" and parcels[loom_parcel]["estimated_delivery"]
    assert parcels[lamp_parcel]["status"] == "open"
    assert parcels[lamp_parcel]["lines"] == [{"variant_id": lamps.variant_id, "quantity": 1}]
    assert_error(shop.http.get(f"/v1/orders/{order_id}/tracking", headers=shop.register().headers), 404)

    # the lamp ships; the order has shipped; both are delivered (one reported by an admin)
    ship(shop, lamps, lamp_parcel, "1Z-LAMP")
    assert order(shop, ada, order_id)["status"] == "shipped"
    assert levels(shop, lamps) == (4, 0, 4)
    for parcel, who in ((loom_parcel, looms.headers), (lamp_parcel, shop.admin.headers)):
        r = shop.http.post(f"/v1/seller/fulfilments/{parcel}/deliver", headers=who)
        assert r.status_code == 200, r.text
    delivered = order(shop, ada, order_id)
    assert delivered["status"] == "delivered"
    assert [h["status"] for h in delivered["history"]] == ["confirmed", "partially_shipped", "shipped", "delivered"]

    # one loom comes back: requested, approved by its seller (not the other), received resellable, refunded once
    r = shop.http.post(f"/v1/orders/{order_id}/returns", headers=ada.headers,
                       json={"lines": [{"variant_id": looms.variant_id, "quantity": 1}], "reason": "too big"})
    assert r.status_code == 201, r.text
    (requested,) = r.json()["returns"]
    return_id = requested["id"]
    assert requested["status"] == "requested"
    assert_error(shop.http.post(f"/v1/seller/returns/{return_id}/approve", headers=lamps.headers), 404)
    assert shop.http.post(f"/v1/seller/returns/{return_id}/approve", headers=looms.headers).json()[
        "return"]["status"] == "approved"
    for _ in range(2):  # receiving twice refunds once
        r = shop.http.post(f"/v1/seller/returns/{return_id}/receive", json={"condition": "resellable"},
                           headers=looms.headers)
        assert r.status_code == 200, r.text
        assert (r.json()["return"]["status"], r.json()["return"]["refund_amount"]) == ("refunded", 3240)
    assert payment_of(shop, order_id) == {"captured": 8640, "refunded": 3240, "status": "partially_refunded"}
    assert levels(shop, looms) == (9, 0, 9)
    looms_ledger = ledger(shop, looms)
    assert (looms_ledger["refunds"], looms_ledger["commission"], looms_ledger["balance"]) == (3240, 324, 2916)
    again = shop.http.post(f"/v1/orders/{order_id}/returns", headers=ada.headers,
                           json={"lines": [{"variant_id": looms.variant_id, "quantity": 2}], "reason": "again"})
    assert_error(again, 409, "not_returnable")  # one loom was returned already: one is left to return
    listed = shop.http.get(f"/v1/orders/{order_id}/returns", headers=ada.headers).json()["items"]
    assert [(x["id"], x["status"]) for x in listed] == [(return_id, "refunded")]
    seller_returns = shop.http.get("/v1/seller/returns", headers=looms.headers).json()["items"]
    assert [x["id"] for x in seller_returns] == [return_id]
    assert shop.http.get("/v1/seller/returns", headers=lamps.headers).json()["items"] == []

    # the payout run pays each seller its balance through the gateway, once
    r = shop.http.post("/v1/admin/payouts/run", headers=shop.admin.headers)
    assert r.status_code == 200, r.text
    mine = {p["seller_id"]: p for p in r.json()["payouts"] if p["seller_id"] in (looms.seller_id, lamps.seller_id)}
    assert {s: (-p["amount"], p["status"]) for s, p in mine.items()} == {looms.seller_id: (2916, "paid"),
                                                                        lamps.seller_id: (1944, "paid")}
    for seller, paid_out in ((looms, 2916), (lamps, 1944)):
        book = ledger(shop, seller)
        assert (book["paid_out"], book["balance"]) == (paid_out, 0)
    rerun = shop.http.post("/v1/admin/payouts/run", headers=shop.admin.headers).json()["payouts"]
    assert not {p["seller_id"] for p in rerun} & set(mine)
    assert ledger(shop, looms)["paid_out"] == 2916
    logged = shop.http.get("/v1/admin/audit-log", params={"target_type": "seller", "target_id": looms.seller_id},
                           headers=shop.admin.headers).json()["items"]
    assert [e["details"]["amount"] for e in logged if e["action"] == "seller.payout"] == [2916], "the admin's run"

    summary = shop.http.get("/v1/seller/summary", headers=looms.headers).json()["summary"]
    assert (summary["sales"], summary["units"], summary["pending_fulfilments"], summary["balance"]) == (3240, 1, 0, 0)
    assert "rating" in summary
    assert audit_problems(settings, order_id, looms.seller_id, lamps.seller_id) == []

    trail = [(e["type"], json.loads(e["data"])) for _, e in redis_client.xrange(settings.events_stream)]
    ours = [(kind, data) for kind, data in trail if data.get("order_id") == order_id
            and kind.split(".")[0] in ("order", "fulfilment", "return")]
    assert all({"user_id", "status", "payment_status"} <= set(data) for _, data in ours)
    marketplace = [kind for kind, _ in ours if kind.split(".")[0] in ("fulfilment", "return") or kind in (
        "order.shipped", "order.delivered")]
    assert marketplace == ["fulfilment.shipped", "fulfilment.shipped", "order.shipped", "fulfilment.delivered",
                           "fulfilment.delivered", "order.delivered", "return.requested", "return.approved",
                           "return.received", "return.refunded"]
    shipped_first = next(data for kind, data in ours if kind == "fulfilment.shipped")
    assert (shipped_first["seller_id"], shipped_first["carrier"], shipped_first["tracking_number"]) == (
        looms.seller_id, "UPS", "1Z-LOOMS") and shipped_first["estimated_delivery"]
    refunded = next(data for kind, data in ours if kind == "return.refunded")
    assert (refunded["return_id"], refunded["amount"], refunded["currency"]) == (return_id, 3240, "USD")
    paid = [json.loads(e["data"]) for _, e in redis_client.xrange(settings.events_stream)
            if e["type"] == "seller.payout_paid"]
    assert {(p["seller_id"], p["amount"]) for p in paid} >= {(looms.seller_id, 2916), (lamps.seller_id, 1944)}

    # the shopper hears of the order, of each parcel (not once more for the whole order), of the return and refund
    expected = ["order_confirmed", "order_delivered", "order_delivered", "order_shipped", "order_shipped",
                "refund_issued", "return_approved"]
    box = wait_until(lambda: sorted((b := shop.http.get("/v1/notifications", headers=ada.headers,
                                                        params={"page_size": 50}).json())
                                    and [n["kind"] for n in b["items"]]) == expected and b)
    refund = next(n for n in box["items"] if n["kind"] == "refund_issued")
    assert "32.40 USD" in refund["body"] and refund["data"]["return_id"] == return_id


def test_the_seller_sees_its_own_lines_and_never_the_shoppers_payment(shop: Shop) -> None:
    books = approved_seller(shop, price=1500, stock=5, name="Books")
    pens = approved_seller(shop, price=500, stock=5, name="Pens")
    placed = buy(shop, shop.register(), [(books, 1), (pens, 2)])
    r = shop.http.get("/v1/seller/orders", headers=books.headers)
    assert r.status_code == 200, r.text
    (seen,) = [o for o in r.json()["items"] if o["order_id"] == placed["id"]]
    assert [ln["variant_id"] for ln in seen["items"]] == [books.variant_id]
    assert [f["seller_id"] for f in seen["fulfilments"]] == [books.seller_id]
    assert not {"payment_method", "payment_status", "payment_id", "total", "user_id"} & set(seen)
    assert_error(shop.http.get("/v1/seller/orders", headers=shop.register().headers), 403, "seller_only")
    assert_error(shop.http.get("/v1/seller/ledger", headers=shop.admin.headers), 403, "seller_only")


def test_the_scheduled_payout_job_pays_what_a_seller_is_owed(shop: Shop, settings: Settings) -> None:
    kites = approved_seller(shop, price=4000, stock=3, name="Kites")
    placed = buy(shop, shop.register(), [(kites, 1)])
    ship(shop, kites, placed["fulfilments"][0]["id"], "1Z-KITE")
    owed = ledger(shop, kites)["balance"]
    assert owed == 4320 - 432  # 4000 + 8% tax, less 10% commission
    paid = [p for p in payouts.run(settings) if p["seller_id"] == kites.seller_id]
    assert [(p["status"], -p["amount"]) for p in paid] == [("paid", owed)]
    assert (ledger(shop, kites)["paid_out"], ledger(shop, kites)["balance"]) == (owed, 0)
    assert [p for p in payouts.run(settings) if p["seller_id"] == kites.seller_id] == []


def test_an_order_held_for_review_does_not_ship_until_an_admin_confirms_it(shop: Shop) -> None:
    pianos = approved_seller(shop, price=600_000, stock=2, name="Pianos")  # above the fraud rules' hold limit
    placed = buy(shop, shop.register(), [(pianos, 1)])
    assert placed["status"] == "pending"
    parcel = placed["fulfilments"][0]["id"]
    body = {"carrier": "UPS", "tracking_number": "1Z-PIANO"}
    r = shop.http.post(f"/v1/seller/fulfilments/{parcel}/ship", json=body, headers=pianos.headers)
    assert_error(r, 409, "order_on_hold")
    assert levels(shop, pianos) == (2, 1, 1) and ledger(shop, pianos)["sales"] == 0
    confirmed = shop.http.post(f"/v1/admin/orders/{placed['id']}/status", json={"status": "confirmed"},
                               headers=shop.admin.headers)
    assert confirmed.status_code == 200, confirmed.text
    assert ship(shop, pianos, parcel, "1Z-PIANO")["status"] == "shipped"
    assert levels(shop, pianos) == (1, 0, 1)
